// Real MariaDB servers for integration tests (and later the lab): one initialised template
// datadir per machine (users and a test schema created once by a throwaway socket-only server),
// copied for each node; every node gets its own datadir, socket, pid file, option file and port
// on 127.0.0.1. The agent under test is the built bundle, run the way Pacemaker runs it
// (environment only). Pacemaker's tools are replaced by the recorders in fake-cluster/, which
// keep attributes in files: the real cluster is exercised by the lab.
//
// Two flavours (VIGIL_FLAVOURS, both by default): MariaDB from the host's packages, and MySQL 9.7
// from the sid root build/mysql-root.sh caches, run through its chroot wrapper. Everything that
// differs between them (template, option file, grants, status statements, GTID positions) sits
// in the TestFlavour objects below, so one test file runs against both.
//
// Every server is tracked by pid; cleanup() kills them all (SIGCONT + SIGKILL) even when a test
// failed, and removes the temporary tree. Only processes whose command line names a datadir in
// that tree are signalled: a pid read from a stale pid file may belong to anybody by then.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../../../lib/exec.ts';
import { spawnDetached, isAlive, procCmdline, readPidFile, signal } from '../../../lib/daemon.ts';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const AGENT = join(ROOT, 'dist/resource.d/vigil/mysql');
export const FAKE_BIN = fileURLToPath(new URL('./fake-cluster/', import.meta.url));
export const MARIADBD = '/usr/sbin/mariadbd';
export const REPL_USER = 'repl';
export const REPL_PASSWORD = 'Repl-s3cret-pw';
export const APP_USER = 'app';
export const APP_PASSWORD = 'App-pw-42';
const SERVER_USER = 'mysql';

export interface Node {
  name: string;
  index: number;
  port: number;
  dir: string;
  datadir: string;
  socket: string;
  pidFile: string;
  config: string;
  rsctmp: string;
}

export interface AgentRun extends RunResult { reason?: string }

/** Fails with a clear message when the machine cannot run these tests. */
export function requirements(flavour: TestFlavour = MARIADB): string | undefined {
  if (process.getuid?.() !== 0) return 'the MariaDB integration tests need root (servers run as user mysql)';
  if (!existsSync(AGENT)) return `${AGENT} is missing: run npm run build first`;
  return flavour.missing();
}

async function must(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  const r = await run(cmd, args, { timeoutMs });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-800)}${r.stdout.slice(-400)}`);
  return r;
}

async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** mysql2 from the repository's node_modules, for the test's own SQL. */
export async function sqlAs(socket: string, user: string, password: string, q: string, values?: unknown[]): Promise<Record<string, unknown>[]> {
  const mysql = await import('mysql2/promise');
  const c = await mysql.createConnection({ socketPath: socket, user, password, connectTimeout: 5000 });
  try {
    const [rows] = await c.query({ sql: q, values, timeout: 10_000 });
    return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
  } finally { c.destroy(); }
}

/**
 * The template datadir, initialised once per machine and MariaDB version: the replication
 * account (REPL_USER), an application account (APP_USER) and the vigiltest schema. Copy it (cp -a,
 * then chown to mysql) for each server; the lab does the same for its nodes.
 */
export async function mariadbTemplate(): Promise<string> {
  const out = (await must(MARIADBD, ['--version'])).stdout;
  const ver = (/Ver\s+(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? 'x').replace(/[^0-9.]/g, '');
  // Short: unix socket paths are limited to 107 bytes.
  // The suffix names the account set below: change it when the grants change (a new template).
  const dir = join(tmpdir(), `vigil-mdb-tpl-${ver}-g2`);
  if (existsSync(join(dir, '.complete'))) return join(dir, 'data');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'data');
  await must('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal',
    `--user=${SERVER_USER}`, '--skip-test-db'], 120_000);
  await must('chown', ['-R', `${SERVER_USER}:${SERVER_USER}`, dir]);
  const sock = join(dir, 'boot.sock');
  const pidFile = join(dir, 'boot.pid');
  const pid = await spawnDetached(MARIADBD, ['--no-defaults', `--datadir=${data}`, `--user=${SERVER_USER}`, '--skip-networking',
    `--socket=${sock}`, `--pid-file=${pidFile}`, '--innodb-buffer-pool-size=16M', `--log-error=${join(dir, 'boot.err')}`], {});
  try {
    await waitFor(async () => {
      if (!isAlive(pid)) throw new Error(`the bootstrap server died: ${readFileSync(join(dir, 'boot.err'), 'utf8').slice(-600)}`);
      try { await sqlAs(sock, 'root', '', 'SELECT 1'); return true; } catch { return false; }
    }, 30_000, 'the bootstrap server');
    const stmts = [
      `CREATE USER '${REPL_USER}'@'%' IDENTIFIED BY '${REPL_PASSWORD}'`,
      `CREATE USER '${REPL_USER}'@'localhost' IDENTIFIED BY '${REPL_PASSWORD}'`,
      ...['%', 'localhost'].map((h) => `GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE ADMIN, REPLICATION MASTER ADMIN, READ_ONLY ADMIN, CONNECTION ADMIN, PROCESS, RELOAD, SELECT ON *.* TO '${REPL_USER}'@'${h}'`),
      'CREATE DATABASE vigiltest',
      'CREATE TABLE vigiltest.t (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB',
      `CREATE USER '${APP_USER}'@'%' IDENTIFIED BY '${APP_PASSWORD}'`,
      `CREATE USER '${APP_USER}'@'localhost' IDENTIFIED BY '${APP_PASSWORD}'`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON vigiltest.* TO '${APP_USER}'@'%'`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON vigiltest.* TO '${APP_USER}'@'localhost'`,
    ];
    for (const s of stmts) await sqlAs(sock, 'root', '', s);
  } finally {
    signal(pid, 'SIGTERM');
    await waitFor(() => !isAlive(pid), 30_000, 'the bootstrap server to stop').catch(() => signal(pid, 'SIGKILL'));
  }
  writeFileSync(join(dir, '.complete'), 'ok\n');
  return data;
}

/** An option file for one replicated server (the settings of the lab notes, small buffers). */
export function mariadbConfig(o: { serverId: number; reportHost: string; bindAddress: string; logError: string; extra?: Record<string, string> }): string {
  return [
    '[mysqld]', `server_id=${o.serverId}`, `report_host=${o.reportHost}`, `bind_address=${o.bindAddress}`, 'skip_name_resolve=ON',
    'log_bin=mysql-bin', 'log_slave_updates=ON', 'binlog_format=ROW', 'relay_log=relay-bin', 'relay_log_recovery=ON',
    'gtid_strict_mode=ON', 'innodb_buffer_pool_size=16M', 'performance_schema=OFF', 'sync_binlog=1',
    'innodb_flush_log_at_trx_commit=1', `log_error=${o.logError}`,
    ...Object.entries(o.extra ?? {}).map(([k, v]) => `${k}=${v}`), '',
  ].join('\n');
}

/** The instances a transition acts on, by operation, and who is active and promoted when it starts. */
export interface TransitionPlan {
  promote?: Node[];
  demote?: Node[];
  stop?: Node[];
  start?: Node[];
  active?: Node[];
  promoted?: Node[];
}

export interface ClusterOptions {
  /** Which server (default MariaDB): see flavours(). */
  flavour?: TestFlavour;
  nodes?: number;
  /** The MariaDB port of the first node; a MySQL cluster adds TestFlavour.portOffset. */
  basePort?: number;
  /** Extra OCF_RESKEY_* parameters for every agent run. */
  params?: Record<string, string>;
  /** Extra [mysqld] options for every server (ssl_ca, require_secure_transport, ...), or per node. */
  serverOptions?: Record<string, string> | ((node: string) => Record<string, string>);
}

export class MariaCluster {
  readonly nodes: Node[] = [];
  readonly fakeDir: string;
  private readonly knownPids = new Set<number>();
  params: Record<string, string>;
  readonly flavour: TestFlavour;

  private constructor(readonly dir: string, opts: ClusterOptions) {
    this.fakeDir = join(dir, 'cluster');
    this.flavour = opts.flavour ?? MARIADB;
    this.params = { ...this.flavour.params, ...opts.params };
  }

  static async create(opts: ClusterOptions = {}): Promise<MariaCluster> {
    const flavour = opts.flavour ?? MARIADB;
    const why = requirements(flavour);
    if (why) throw new Error(why);
    const tpl = await flavour.template();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-mysql-it-'));
    chmodSync(dir, 0o755); // the servers run as mysql and must traverse it
    const c = new MariaCluster(dir, opts);
    mkdirSync(c.fakeDir, { recursive: true });
    const n = opts.nodes ?? 3;
    const base = (opts.basePort ?? 33061) + flavour.portOffset;
    for (let i = 1; i <= n; i++) {
      const nd = join(dir, `n${i}`);
      const node: Node = {
        name: `n${i}`, index: i - 1, port: base + i - 1, dir: nd, datadir: join(nd, 'data'),
        socket: join(nd, 'run', 'mysqld.sock'), pidFile: join(nd, 'run', 'mysqld.pid'),
        config: join(nd, 'my.cnf'), rsctmp: join(nd, 'rsctmp'),
      };
      mkdirSync(nd, { recursive: true });
      cpSync(tpl, node.datadir, { recursive: true });
      // MySQL keeps its server_uuid there: every copy would share the template's.
      rmSync(join(node.datadir, 'auto.cnf'), { force: true });
      writeFileSync(node.config, flavour.config({ serverId: i, reportHost: `n${i}`, bindAddress: '127.0.0.1', logError: join(nd, 'mysqld.err'),
        extra: typeof opts.serverOptions === 'function' ? opts.serverOptions(`n${i}`) : opts.serverOptions }));
      c.nodes.push(node);
    }
    await must('chown', ['-R', `${SERVER_USER}:${SERVER_USER}`, ...c.nodes.map((x) => x.datadir)]);
    // The server (user mysql) writes its error log next to the datadir.
    for (const x of c.nodes) await must('chown', [`${SERVER_USER}:${SERVER_USER}`, x.dir]);
    await flavour.expose(dir);
    return c;
  }

  /** The server's executed GTID set (MariaDB: gtid_current_pos, MySQL: gtid_executed). */
  async gtid(node: Node): Promise<string> { return this.flavour.gtid(node); }
  /** The replica status in the flavour's own words, with neutral names for what tests check; undefined: not a replica. */
  async replica(node: Node): Promise<ReplicaStatus | undefined> { return this.flavour.replica(node); }
  /** STOP/START/RESET of the replica threads in the flavour's statements. */
  async replication(node: Node, what: ReplicationVerb): Promise<void> { await this.root(node, this.flavour.statements[what]); }
  /** A semi-sync variable or status name given in MariaDB's words (rpl_semi_sync_master_enabled), in the flavour's. */
  semi(mariadbName: string): string { return this.flavour.semi(mariadbName); }
  /**
   * Wait until the replica itself reports no lag. After a catch-up, MySQL's multi-threaded applier
   * reports the age of the last event until its next checkpoint (seen with 9.7: 1-6 s, graded as
   * such by a monitor run at that moment); tests that expect grade OK wait for this first.
   */
  async noLag(node: Node): Promise<void> {
    await waitFor(async () => (await this.replica(node))?.secondsBehind === 0, 5000, `${node.name} to report no lag itself`);
  }
  /** Statements as root with the binary log off (a change behind replication's back). */
  async unlogged(node: Node, stmts: string[]): Promise<void> { await unlogged(node, stmts, this.flavour.name === 'mysql'); }
  /** Everything of `sourceGtid` received by `node` (applied or not). */
  async received(node: Node, sourceGtid: string): Promise<boolean> { return this.flavour.received(node, sourceGtid); }
  /** The binary log position of a server (SHOW MASTER STATUS / SHOW BINARY LOG STATUS). */
  async binlogPosition(node: Node): Promise<number> { return Number((await this.root(node, this.flavour.statements.binlogStatus))[0]!.Position); }

  node(name: string): Node {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  get nodeMap(): string { return this.nodes.map((n) => `${n.name}=127.0.0.1:${n.port}`).join(' '); }

  /** The environment Pacemaker would give the agent on `node`. */
  env(node: Node, extra: Record<string, string | undefined> = {}): Record<string, string> {
    const e: Record<string, string | undefined> = {
      PATH: `${FAKE_BIN}:/usr/sbin:/usr/bin:/sbin:/bin`,
      FAKE_CLUSTER_DIR: this.fakeDir,
      HA_RSCTMP: node.rsctmp,
      OCF_ROOT: '/usr/lib/ocf',
      OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '1',
      OCF_RESOURCE_INSTANCE: `db:${node.index}`, OCF_RESOURCE_TYPE: 'mysql', OCF_RESOURCE_PROVIDER: 'vigil',
      OCF_RESKEY_CRM_meta_on_node: node.name,
      OCF_RESKEY_CRM_meta_clone_max: String(this.nodes.length),
      OCF_RESKEY_CRM_meta_promotable: 'true', OCF_RESKEY_CRM_meta_notify: 'true', OCF_RESKEY_CRM_meta_promoted_max: '1',
      OCF_RESKEY_CRM_meta_timeout: '30000', OCF_RESKEY_CRM_meta_interval: '0',
      OCF_RESKEY_datadir: node.datadir, OCF_RESKEY_socket: node.socket, OCF_RESKEY_pid: node.pidFile,
      OCF_RESKEY_port: String(node.port), OCF_RESKEY_config: node.config, OCF_RESKEY_user: SERVER_USER,
      OCF_RESKEY_replication_user: REPL_USER, OCF_RESKEY_replication_password: REPL_PASSWORD,
      OCF_RESKEY_node_map: this.nodeMap,
      ...Object.fromEntries(Object.entries(this.params).map(([k, v]) => [`OCF_RESKEY_${k}`, v])),
      ...extra,
    };
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    return e as Record<string, string>;
  }

  /** Run the built agent as Pacemaker would: `agent <action>`, environment only. */
  async agent(node: Node | string, action: string, extra: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<AgentRun> {
    const nd = typeof node === 'string' ? this.node(node) : node;
    const r = await run(AGENT, [action], { timeoutMs, env: this.env(nd, extra), cleanEnv: true });
    this.track(nd);
    const m = /ocf-exit-reason:(.*)/.exec(r.stderr);
    return { ...r, reason: m?.[1] };
  }

  /** agent(), which must succeed: the failure message carries the exit reason and stderr. */
  async agentOk(node: Node, action: string, extra: Record<string, string | undefined> = {}): Promise<AgentRun> {
    const r = await this.agent(node, action, extra);
    assert.equal(r.code, 0, `${action} on ${node.name} failed (${r.code}): ${r.reason ?? ''}\n${r.stderr}`);
    return r;
  }

  /**
   * One promotion as Pacemaker runs it: pre-promote on every active instance, promote, and when it
   * worked the fake cluster reports the target promoted and post-promote runs everywhere.
   */
  async promoteTransition(target: Node, plan: Omit<TransitionPlan, 'promote'> = {}, extra: Record<string, string> = {}): Promise<AgentRun> {
    const p: TransitionPlan = { ...plan, promote: [target] };
    await this.notifyAll('pre', 'promote', p, extra);
    const r = await this.agent(target, 'promote', extra);
    if (r.code === 0) {
      this.setPromoted(target);
      await this.notifyAll('post', 'promote', p, extra);
    }
    return r;
  }

  /** Notify every active instance of one transition in parallel, as Pacemaker does; each must succeed. */
  async notifyAll(type: 'pre' | 'post', op: 'start' | 'stop' | 'promote' | 'demote', plan: TransitionPlan, extra: Record<string, string> = {}): Promise<AgentRun[]> {
    const env = this.transitionEnv(type, op, plan);
    const targets = plan.active ?? this.nodes.filter((n) => this.pid(n) !== undefined);
    const runs = await Promise.all(targets.map((n) => this.agent(n, 'notify', { ...env, ...extra })));
    runs.forEach((r, i) => assert.equal(r.code, 0, `${type}-${op} notify on ${targets[i]!.name}: ${r.reason}\n${r.stderr}`));
    return runs;
  }

  /** The ids in the test table, in order. */
  async ids(node: Node): Promise<number[]> {
    return (await this.root(node, 'SELECT id FROM vigiltest.t ORDER BY id')).map((r) => Number(r.id));
  }

  /** Notification environment for a post-<op> of `op` on `target`. */
  notifyEnv(type: 'pre' | 'post', op: 'start' | 'stop' | 'promote' | 'demote', targets: Node[], promoted: Node[] = []): Record<string, string> {
    const inst = (ns: Node[]) => ns.map((n) => `db:${n.index}`).join(' ');
    const names = (ns: Node[]) => ns.map((n) => n.name).join(' ');
    const active = this.nodes;
    const unpromoted = active.filter((n) => !promoted.includes(n));
    return {
      OCF_RESKEY_CRM_meta_notify_type: type, OCF_RESKEY_CRM_meta_notify_operation: op,
      [`OCF_RESKEY_CRM_meta_notify_${op}_resource`]: inst(targets), [`OCF_RESKEY_CRM_meta_notify_${op}_uname`]: names(targets),
      OCF_RESKEY_CRM_meta_notify_active_resource: inst(active), OCF_RESKEY_CRM_meta_notify_active_uname: names(active),
      OCF_RESKEY_CRM_meta_notify_promoted_resource: inst(promoted), OCF_RESKEY_CRM_meta_notify_promoted_uname: names(promoted),
      OCF_RESKEY_CRM_meta_notify_master_resource: inst(promoted), OCF_RESKEY_CRM_meta_notify_master_uname: names(promoted),
      OCF_RESKEY_CRM_meta_notify_unpromoted_resource: inst(unpromoted), OCF_RESKEY_CRM_meta_notify_unpromoted_uname: names(unpromoted),
      OCF_RESKEY_CRM_meta_notify_all_uname: names(this.nodes), OCF_RESKEY_CRM_meta_notify_available_uname: names(this.nodes),
    };
  }

  /**
   * The notification environment of one transition, every list filled the way Pacemaker fills it
   * (pe_notif.c: the same lists for every notification of the transition). `active` defaults to
   * every node whose server runs, `promoted` to the node the fake cluster reports promoted.
   */
  transitionEnv(type: 'pre' | 'post', op: 'start' | 'stop' | 'promote' | 'demote', plan: TransitionPlan): Record<string, string> {
    const inst = (ns: Node[]) => ns.map((n) => `db:${n.index}`).join(' ');
    const names = (ns: Node[]) => ns.map((n) => n.name).join(' ');
    const active = plan.active ?? this.nodes.filter((n) => this.pid(n) !== undefined);
    const promoted = plan.promoted ?? active.filter((n) => n.name === this.promotedNode());
    const unpromoted = active.filter((n) => !promoted.includes(n));
    const e: Record<string, string> = {
      OCF_RESKEY_CRM_meta_notify_type: type, OCF_RESKEY_CRM_meta_notify_operation: op,
      OCF_RESKEY_CRM_meta_notify_all_uname: names(this.nodes), OCF_RESKEY_CRM_meta_notify_available_uname: names(this.nodes),
    };
    const lists: Array<[string, Node[]]> = [['promote', plan.promote ?? []], ['demote', plan.demote ?? []], ['stop', plan.stop ?? []],
      ['start', plan.start ?? []], ['active', active], ['promoted', promoted], ['master', promoted], ['unpromoted', unpromoted], ['slave', unpromoted]];
    for (const [k, ns] of lists) {
      e[`OCF_RESKEY_CRM_meta_notify_${k}_resource`] = inst(ns);
      e[`OCF_RESKEY_CRM_meta_notify_${k}_uname`] = names(ns);
    }
    return e;
  }

  /** The node the fake cluster reports promoted, if any. */
  promotedNode(): string | undefined {
    const f = join(this.fakeDir, 'promoted');
    const v = existsSync(f) ? readFileSync(f, 'utf8').trim() : '';
    return v || undefined;
  }

  /** Tell the fake cluster which node holds the promoted instance (what crm_resource --locate reports). */
  setPromoted(node: Node | undefined): void {
    writeFileSync(join(this.fakeDir, 'promoted'), node ? node.name : '');
  }

  /** A node attribute as the fake cluster holds it. */
  attr(node: Node, name: string): string | undefined {
    const f = join(this.fakeDir, 'attrs', node.name, name);
    return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
  }
  score(node: Node): string | undefined { return this.attr(node, 'promotion-db'); }

  calls(): string[] {
    const f = join(this.fakeDir, 'calls.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
  }

  pid(node: Node): number | undefined {
    const p = readPidFile(node.pidFile);
    return p !== undefined && isAlive(p) ? p : undefined;
  }

  track(node: Node): void {
    const p = readPidFile(node.pidFile);
    if (p !== undefined) this.knownPids.add(p);
  }

  root(node: Node, q: string, values?: unknown[]) { return sqlAs(node.socket, 'root', '', q, values); }
  app(node: Node, q: string, values?: unknown[]) { return sqlAs(node.socket, APP_USER, APP_PASSWORD, q, values); }

  async waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> { return waitFor(check, ms, what); }

  /** Is `pid` a server of ours: its command line names a datadir inside our private tree? */
  isOurs(pid: number): boolean {
    return procCmdline(pid)?.some((a) => a.startsWith(`--datadir=${this.dir}/`)) ?? false;
  }

  /** Kill every server of ours we ever saw (by pid), frozen ones included, and remove the tree. */
  async cleanup(keep = false): Promise<void> {
    for (const n of this.nodes) this.track(n);
    // Also any server whose command line names our private temporary tree (a start that failed
    // before writing its pid file): those can only be ours.
    for (const e of readdirSync('/proc')) {
      if (/^\d+$/.test(e) && this.isOurs(Number(e))) this.knownPids.add(Number(e));
    }
    // Pids from pid files may be stale and recycled by now: only ours are signalled.
    const targets = [...this.knownPids].filter((p) => isAlive(p) && this.isOurs(p));
    for (const p of targets) {
      signal(p, 'SIGCONT');
      signal(p, 'SIGKILL');
    }
    await waitFor(() => targets.every((p) => !isAlive(p)), 10_000, 'test servers to die').catch(() => undefined);
    // Unmounted before anything is removed: removing through the mount would reach the tree itself.
    await this.flavour.unexpose(this.dir);
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }

  listDir(): string[] { return readdirSync(this.dir); }
}

// ---- flavours ------------------------------------------------------------------------------

export type FlavourName = 'mariadb' | 'mysql';
export type ReplicationVerb = 'stop' | 'start' | 'stop-io' | 'start-io' | 'stop-sql' | 'start-sql' | 'reset-all';

/** What tests read from SHOW SLAVE STATUS / SHOW REPLICA STATUS, under one set of names. */
export interface ReplicaStatus {
  ioRunning: string;
  sqlRunning: string;
  sourcePort: number;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  /** Bytes of the source's binary log received and applied (same file: compare them). */
  readPos: number;
  execPos: number;
  /** Seconds_Behind_Master/Source; null while the server cannot tell. */
  secondsBehind: number | null;
  /** Positioned by GTID (MariaDB Using_Gtid, MySQL Auto_Position). */
  gtidPositioning: boolean;
  /** The row as the server sent it, for what only one flavour has. */
  raw: Record<string, unknown>;
}

export interface ServerConfigOptions { serverId: number; reportHost: string; bindAddress: string; logError: string; extra?: Record<string, string> }

export interface TestFlavour {
  name: FlavourName;
  /** For test titles: "three MySQL servers". */
  label: string;
  /** Where the flavour's ports start relative to MariaDB's (MySQL tests use 34061-34199). */
  portOffset: number;
  /** Agent parameters every run gets (the binary). */
  params: Record<string, string>;
  missing(): string | undefined;
  /** The initialised template datadir (copied per node). */
  template(): Promise<string>;
  config(o: ServerConfigOptions): string;
  /** Make a host directory visible to the servers at the same path (MySQL runs in its own root). */
  expose(dir: string): Promise<void>;
  unexpose(dir: string): Promise<void>;
  gtid(node: Node): Promise<string>;
  replica(node: Node): Promise<ReplicaStatus | undefined>;
  statements: Record<ReplicationVerb, string> & { binlogStatus: string };
  /** A semi-sync variable or status name given in MariaDB's words, in this flavour's. */
  semi(mariadbName: string): string;
  /** Has the replica received every transaction of `sourceGtid` (applied or not)? */
  received(node: Node, sourceGtid: string): Promise<boolean>;
  /** The option the agent starts a server with so that no replica thread starts. */
  skipReplicaStart: string;
}

/**
 * Run statements as root on one session with the binary log off: a change behind replication's
 * back. MySQL's super_read_only stops even root, so it is lifted for the statements and put back.
 */
async function unlogged(node: Node, stmts: string[], superReadOnly: boolean): Promise<void> {
  const mysql = await import('mysql2/promise');
  const c = await mysql.createConnection({ socketPath: node.socket, user: 'root', password: '' });
  try {
    const [rows] = await c.query('SELECT @@GLOBAL.read_only AS ro');
    const wasRo = superReadOnly && Number((rows as Array<{ ro: number }>)[0]!.ro) === 1;
    if (wasRo) await c.query('SET GLOBAL super_read_only = OFF');
    try {
      await c.query('SET SESSION sql_log_bin = 0');
      for (const q of stmts) await c.query(q);
    } finally {
      if (wasRo) await c.query('SET GLOBAL super_read_only = ON');
    }
  } finally { c.destroy(); }
}

const num = (v: unknown) => Number(v ?? 0);

export const MARIADB: TestFlavour = {
  name: 'mariadb', label: 'MariaDB', portOffset: 0, params: {},
  missing: () => (existsSync(MARIADBD) ? undefined : 'mariadbd is not installed (apt-get install mariadb-server)'),
  template: () => mariadbTemplate(),
  config: (o) => mariadbConfig(o),
  expose: async () => undefined,
  unexpose: async () => undefined,
  gtid: async (node) => String((await sqlAs(node.socket, 'root', '', 'SELECT @@gtid_current_pos AS g'))[0]!.g),
  replica: async (node) => {
    const r = (await sqlAs(node.socket, 'root', '', 'SHOW SLAVE STATUS'))[0];
    if (!r) return undefined;
    return {
      ioRunning: String(r.Slave_IO_Running), sqlRunning: String(r.Slave_SQL_Running), sourcePort: num(r.Master_Port),
      lastIoErrno: num(r.Last_IO_Errno), lastIoError: String(r.Last_IO_Error ?? ''), lastSqlErrno: num(r.Last_SQL_Errno),
      readPos: num(r.Read_Master_Log_Pos), execPos: num(r.Exec_Master_Log_Pos),
      secondsBehind: r.Seconds_Behind_Master === null ? null : num(r.Seconds_Behind_Master), gtidPositioning: r.Using_Gtid !== 'No', raw: r,
    };
  },
  statements: {
    stop: 'STOP SLAVE', start: 'START SLAVE', 'stop-io': 'STOP SLAVE IO_THREAD', 'start-io': 'START SLAVE IO_THREAD',
    'stop-sql': 'STOP SLAVE SQL_THREAD', 'start-sql': 'START SLAVE SQL_THREAD', 'reset-all': 'RESET SLAVE ALL', binlogStatus: 'SHOW MASTER STATUS',
  },
  semi: (n) => n,
  skipReplicaStart: '--skip-slave-start',
  received: async (node, g) => String((await sqlAs(node.socket, 'root', '', 'SHOW SLAVE STATUS'))[0]?.Gtid_IO_Pos) === g,
};

/** Where build/mysql-root.sh keeps the MySQL root and its chroot wrapper. */
export const MYSQL_CACHE = process.env.VIGIL_MYSQL_CACHE ?? '/var/cache/vigil/mysql';
export const MYSQL_ROOT = join(MYSQL_CACHE, 'root');
export const MYSQLD = join(MYSQL_CACHE, 'mysqld');

const mountPoints = (): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  .map((l) => l.split(' ')[4] ?? '').filter(Boolean).map((m) => m.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));

/** Bind-mount `dir` at the same path inside the MySQL root: datadir, socket, pid file, log, option file. */
async function mysqlExpose(dir: string): Promise<void> {
  const mp = join(MYSQL_ROOT, dir);
  mkdirSync(mp, { recursive: true });
  await must('mount', ['--bind', dir, mp]);
}

async function mysqlUnexpose(dir: string): Promise<void> {
  const mp = join(MYSQL_ROOT, dir);
  if (mountPoints().includes(mp)) {
    const r = await run('umount', [mp], { timeoutMs: 10_000 });
    if (r.code !== 0) await must('umount', ['-l', mp]);
  }
  // Only the empty mount point: never anything recursive below the root's /tmp.
  try { rmdirSync(mp); } catch { /* not empty: something else is there, leave it */ }
}

/** Mounts left by a test process that died: their host side is gone. */
async function mysqlSweepStale(): Promise<void> {
  const prefix = join(MYSQL_ROOT, 'tmp') + '/';
  for (const mp of mountPoints()) {
    if (!mp.startsWith(prefix)) continue;
    const host = mp.slice(MYSQL_ROOT.length);
    if (!existsSync(host)) await mysqlUnexpose(host);
  }
}

/**
 * MySQL's template datadir (mysqld --initialize-insecure, once per machine and version), with the
 * accounts of mariadbTemplate() under MySQL's privilege names. The binary log is off while it is
 * made, so the copies hold no GTIDs of their own.
 */
export async function mysqlTemplate(): Promise<string> {
  await mysqlSweepStale();
  const out = (await must(MYSQLD, ['--version'])).stdout;
  const ver = (/Ver\s+(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? 'x').replace(/[^0-9.]/g, '');
  const dir = join(tmpdir(), `vigil-my-tpl-${ver}-g1`);
  if (existsSync(join(dir, '.complete'))) return join(dir, 'data');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  await must('chown', [`${SERVER_USER}:${SERVER_USER}`, dir]);
  const data = join(dir, 'data');
  await mysqlExpose(dir);
  try {
    await must(MYSQLD, ['--no-defaults', '--initialize-insecure', `--datadir=${data}`, `--user=${SERVER_USER}`, '--disable-log-bin',
      '--innodb-redo-log-capacity=16M', `--log-error=${join(dir, 'init.err')}`], 120_000);
    const sock = join(dir, 'boot.sock');
    const pid = await spawnDetached(MYSQLD, ['--no-defaults', `--datadir=${data}`, `--user=${SERVER_USER}`, '--skip-networking', '--mysqlx=OFF',
      '--disable-log-bin', '--performance-schema=OFF', `--socket=${sock}`, `--pid-file=${join(dir, 'boot.pid')}`, '--innodb-buffer-pool-size=16M',
      `--log-error=${join(dir, 'boot.err')}`], {});
    try {
      await waitFor(async () => {
        if (!isAlive(pid)) throw new Error(`the bootstrap server died: ${readFileSync(join(dir, 'boot.err'), 'utf8').slice(-600)}`);
        try { await sqlAs(sock, 'root', '', 'SELECT 1'); return true; } catch { return false; }
      }, 60_000, 'the bootstrap server');
      const stmts = [
        ...['%', 'localhost'].flatMap((h) => [
          `CREATE USER '${REPL_USER}'@'${h}' IDENTIFIED BY '${REPL_PASSWORD}'`,
          // docs/mysql.md section 1: MySQL's names for what MariaDB calls BINLOG MONITOR, SLAVE MONITOR, READ_ONLY ADMIN.
          `GRANT REPLICATION SLAVE, REPLICATION CLIENT, PROCESS, RELOAD, SELECT, CONNECTION_ADMIN, SYSTEM_VARIABLES_ADMIN, REPLICATION_SLAVE_ADMIN ON *.* TO '${REPL_USER}'@'${h}'`,
        ]),
        'CREATE DATABASE vigiltest',
        'CREATE TABLE vigiltest.t (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB',
        ...['%', 'localhost'].flatMap((h) => [
          `CREATE USER '${APP_USER}'@'${h}' IDENTIFIED BY '${APP_PASSWORD}'`,
          `GRANT SELECT, INSERT, UPDATE, DELETE ON vigiltest.* TO '${APP_USER}'@'${h}'`,
        ]),
      ];
      for (const s of stmts) await sqlAs(sock, 'root', '', s);
    } finally {
      signal(pid, 'SIGTERM');
      await waitFor(() => !isAlive(pid), 30_000, 'the bootstrap server to stop').catch(() => signal(pid, 'SIGKILL'));
    }
  } finally {
    await mysqlUnexpose(dir);
  }
  writeFileSync(join(dir, '.complete'), 'ok\n');
  return data;
}

/** MySQL's option file: GTIDs on, both semi-sync plugins loaded, no X protocol listener, small buffers. */
export function mysqlConfig(o: ServerConfigOptions): string {
  return [
    '[mysqld]', `server_id=${o.serverId}`, `report_host=${o.reportHost}`, `bind_address=${o.bindAddress}`, 'skip_name_resolve=ON',
    'log_bin=mysql-bin', 'log_replica_updates=ON', 'relay_log=relay-bin', 'relay_log_recovery=ON',
    'gtid_mode=ON', 'enforce_gtid_consistency=ON', 'plugin_load_add=semisync_source.so', 'plugin_load_add=semisync_replica.so',
    // The X plugin listens on 33060 otherwise; performance_schema halves the resident size (about 560 -> 300 MB).
    'mysqlx=OFF', 'performance_schema=OFF', 'innodb_buffer_pool_size=32M', 'innodb_redo_log_capacity=16M',
    'sync_binlog=1', 'innodb_flush_log_at_trx_commit=1', `log_error=${o.logError}`,
    ...Object.entries(o.extra ?? {}).map(([k, v]) => `${k}=${v}`), '',
  ].join('\n');
}

export const MYSQL: TestFlavour = {
  name: 'mysql', label: 'MySQL', portOffset: 1000, params: { binary: MYSQLD },
  missing: () => (existsSync(MYSQLD) ? undefined : `${MYSQLD} is missing: MySQL 9.7 is not built (bash build/mysql-root.sh; build/install-deps.sh runs it)`),
  template: () => mysqlTemplate(),
  config: (o) => mysqlConfig(o),
  expose: mysqlExpose,
  unexpose: mysqlUnexpose,
  gtid: async (node) => String((await sqlAs(node.socket, 'root', '', 'SELECT @@GLOBAL.gtid_executed AS g'))[0]!.g).replace(/\n/g, ''),
  replica: async (node) => {
    const r = (await sqlAs(node.socket, 'root', '', 'SHOW REPLICA STATUS'))[0];
    if (!r) return undefined;
    return {
      ioRunning: String(r.Replica_IO_Running), sqlRunning: String(r.Replica_SQL_Running), sourcePort: num(r.Source_Port),
      lastIoErrno: num(r.Last_IO_Errno), lastIoError: String(r.Last_IO_Error ?? ''), lastSqlErrno: num(r.Last_SQL_Errno),
      readPos: num(r.Read_Source_Log_Pos), execPos: num(r.Exec_Source_Log_Pos),
      secondsBehind: r.Seconds_Behind_Source === null ? null : num(r.Seconds_Behind_Source), gtidPositioning: num(r.Auto_Position) === 1, raw: r,
    };
  },
  statements: {
    stop: 'STOP REPLICA', start: 'START REPLICA', 'stop-io': 'STOP REPLICA IO_THREAD', 'start-io': 'START REPLICA IO_THREAD',
    'stop-sql': 'STOP REPLICA SQL_THREAD', 'start-sql': 'START REPLICA SQL_THREAD', 'reset-all': 'RESET REPLICA ALL', binlogStatus: 'SHOW BINARY LOG STATUS',
  },
  semi: (n) => n.replace(/master/g, 'source').replace(/slave/g, 'replica'),
  skipReplicaStart: '--skip-replica-start',
  received: async (node, g) => {
    const r = (await sqlAs(node.socket, 'root', '', 'SHOW REPLICA STATUS'))[0];
    if (!r) return false;
    const have = [r.Retrieved_Gtid_Set, r.Executed_Gtid_Set].map((x) => String(x ?? '').replace(/\n/g, '')).filter(Boolean).join(',');
    return Number((await sqlAs(node.socket, 'root', '', 'SELECT GTID_SUBSET(?, ?) AS s', [g, have]))[0]!.s) === 1;
  },
};

/** The flavours to run: VIGIL_FLAVOURS (comma-separated: mariadb, mysql), both by default. */
export function flavours(): TestFlavour[] {
  const names = (process.env.VIGIL_FLAVOURS ?? 'mariadb,mysql').split(',').map((s) => s.trim()).filter(Boolean);
  return names.map((n) => {
    if (n === 'mariadb') return MARIADB;
    if (n === 'mysql') return MYSQL;
    throw new Error(`VIGIL_FLAVOURS: unknown flavour "${n}" (mariadb, mysql)`);
  });
}
