// MariaDB on every lab node, and the pcs commands that make it a replicated cluster: for vigil
// (ocf:vigil:mysql + ocf:vigil:vip, docs/mysql.md) and for the stack it is compared with
// (ocf:heartbeat:mysql in replication mode + IPaddr2).
//
// Each node's disk gets a datadir copied from one initialised template (users and the test schema
// created once, test/integration/support/mariadb.ts) and an /etc/mysql folder with its option file
// and the replication password (root-only). Both are bind-mounted at every boot (setMounts) and,
// on a running node, at once. The servers themselves are started by the resource agents.
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../lib/exec.ts';
import { APP_PASSWORD, APP_USER, REPL_PASSWORD, REPL_USER, mariadbTemplate } from '../../integration/support/mariadb.ts';
import { Lab, LabError } from './lab.ts';
import type { MountStep } from './plan.ts';

export { APP_PASSWORD, APP_USER, REPL_PASSWORD, REPL_USER };

/** The write VIP (follows the promoted instance) and the read-only VIP (a healthy replica). */
export const WRITE_VIP = '192.0.2.150';
export const READ_VIP = '192.0.2.151';
export const DB = 'db';
export const CLONE = `${DB}-clone`;
export const WRITE_VIP_ID = `${DB}-vip`;
export const READ_VIP_ID = `${DB}-ro-vip`;
export const TABLE = 'vigiltest.t';
/** Inside every node: where its disk's folders are mounted. */
export const NODE_DATADIR = '/var/lib/mysql';
export const NODE_ETC = '/etc/mysql';
export const NODE_CONFIG = `${NODE_ETC}/my.cnf`;
export const NODE_PASSWORD_FILE = `${NODE_ETC}/repl.pw`;
export const NODE_ERROR_LOG = `${NODE_DATADIR}/mysqld.err`;

export type DbStackName = 'vigil' | 'heartbeat';

export interface DbStack {
  name: DbStackName;
  dbAgent: string;
  vipAgent: string;
  fenceAgent: string;
}

export const VIGIL_DB: DbStack = { name: 'vigil', dbAgent: 'ocf:vigil:mysql', vipAgent: 'ocf:vigil:vip', fenceAgent: 'fence_ipmi' };
export const HEARTBEAT_DB: DbStack = { name: 'heartbeat', dbAgent: 'ocf:heartbeat:mysql', vipAgent: 'ocf:heartbeat:IPaddr2', fenceAgent: 'fence_ipmilan' };

export interface DbOptions {
  semisync: boolean;
  /**
   * Monitor intervals (s) of the promoted and unpromoted roles: the figures the heartbeat stack was
   * measured with in this lab (issue 7), for both stacks.
   */
  promotedMonitorS?: number;
  unpromotedMonitorS?: number;
  /** Clone meta: a failed instance moves at once (an election that defers also counts as one failure). */
  migrationThreshold?: number;
  failureTimeoutS?: number;
  /**
   * vigil only: the primary holds the write VIP itself (ocf:vigil:mysql write_ip) instead of an
   * ocf:vigil:vip resource colocated with it and ordered after the promotion.
   */
  writeAddress?: boolean;
}

/**
 * The option file of one node (docs/mysql.md section 1, with the lab notes' settings). The
 * heartbeat stack gets no gtid_strict_mode (its agent repositions replicas by binlog file and
 * offset, and strict mode would stop them) and semi-sync, when wanted, from the file: its agent
 * does not manage it.
 */
export function optionFile(o: { serverId: number; node: string; stack: DbStackName; semisync: boolean }): string {
  const lines = [
    '# Written by the vigil lab (test/lab/lib/mariadb.ts)',
    '[client]', 'socket=/run/mysqld/mysqld.sock', '',
    '[mysqld]',
    `server_id=${o.serverId}`, `report_host=${o.node}`, 'bind_address=0.0.0.0', 'skip_name_resolve=ON',
    `datadir=${NODE_DATADIR}`, 'socket=/run/mysqld/mysqld.sock', 'pid_file=/run/mysqld/mysqld.pid', `log_error=${NODE_ERROR_LOG}`,
    'log_bin=mysql-bin', 'log_slave_updates=ON', 'binlog_format=ROW', 'sync_binlog=1', 'innodb_flush_log_at_trx_commit=1',
    'relay_log=relay-bin', 'relay_log_recovery=ON',
    // A dead primary is noticed by the replicas' IO threads within this (heartbeats at half of it).
    'slave_net_timeout=10',
    // Small: three servers share the machine with the cluster.
    'innodb_buffer_pool_size=32M', 'performance_schema=OFF', 'max_connections=200',
  ];
  if (o.stack === 'vigil') lines.push('gtid_strict_mode=ON');
  if (o.stack === 'heartbeat' && o.semisync) {
    lines.push('rpl_semi_sync_master_enabled=ON', 'rpl_semi_sync_slave_enabled=ON', 'rpl_semi_sync_master_timeout=10000',
      'rpl_semi_sync_master_wait_point=AFTER_SYNC');
  }
  return lines.join('\n') + '\n';
}

/** The node_map of the lab: every node's server on its LAN address. */
export function nodeMap(lab: Lab): string {
  return lab.nodes.map((n) => `${n}=${lab.plan(n).lanIp}`).join(' ');
}

function diskPaths(lab: Lab, node: string): { datadir: string; etc: string } {
  const disk = lab.p.node(node).disk;
  return { datadir: join(disk, 'mysql'), etc: join(disk, 'etc-mysql') };
}

function mountSteps(lab: Lab, node: string): MountStep[] {
  const d = diskPaths(lab, node);
  return [{ op: 'bind', from: d.datadir, to: NODE_DATADIR }, { op: 'bind', from: d.etc, to: NODE_ETC }];
}

/** Empty a folder in place (a bind mount of it stays valid, unlike rm -rf + mkdir). */
function emptyDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
}

async function must(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new LabError(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/**
 * A node's server files from scratch: the template datadir, its option file, the password file.
 * The node's server must not be running (its resource stopped or the node off).
 */
export async function writeNodeFiles(lab: Lab, node: string, stack: DbStackName, semisync: boolean): Promise<void> {
  const tpl = await mariadbTemplate();
  const d = diskPaths(lab, node);
  emptyDir(d.datadir);
  cpSync(tpl, d.datadir, { recursive: true });
  await must('chown', ['-R', 'mysql:mysql', d.datadir]);
  chmodSync(d.datadir, 0o750);
  writeOptionFile(lab, node, stack, semisync);
}

export function writeOptionFile(lab: Lab, node: string, stack: DbStackName, semisync: boolean): void {
  const d = diskPaths(lab, node);
  mkdirSync(d.etc, { recursive: true });
  chmodSync(d.etc, 0o755);
  writeFileSync(join(d.etc, 'my.cnf'), optionFile({ serverId: lab.plan(node).index, node, stack, semisync }), { mode: 0o644 });
  writeFileSync(join(d.etc, 'repl.pw'), `${REPL_PASSWORD}\n`, { mode: 0o600 });
  chmodSync(join(d.etc, 'repl.pw'), 0o600);
}

/** Mount the node's server folders now (a running node) and at every later boot. */
export async function mountNodeFiles(lab: Lab, node: string): Promise<void> {
  const steps = mountSteps(lab, node);
  lab.setMounts(node, 'mariadb', steps);
  if (!lab.nodePid(node)) return;
  for (const s of steps) {
    if (s.op !== 'bind') continue;
    const mounted = await lab.on(node, ['mountpoint', '-q', s.to]);
    if (mounted.code === 0) continue;
    await lab.onOk(node, ['mount', '--bind', s.from, s.to]);
  }
}

/** Every node: fresh datadir, option file, mounts. Run before the database resource exists. */
export async function prepareMariadb(lab: Lab, stack: DbStackName, semisync: boolean): Promise<void> {
  if (!existsSync('/usr/sbin/mariadbd')) throw new LabError('mariadbd is not installed (apt-get install mariadb-server)');
  for (const n of lab.nodes) {
    await writeNodeFiles(lab, n, stack, semisync);
    await mountNodeFiles(lab, n);
  }
}

// ---------------------------------------------------------------- the cluster configuration

/** The `pcs resource create` argv of the database clone for a stack. */
export function dbCreateArgs(lab: Lab, stack: DbStack, o: DbOptions): string[] {
  const pm = o.promotedMonitorS ?? 2;
  const um = o.unpromotedMonitorS ?? 3;
  const params = stack.name === 'vigil'
    ? [`config=${NODE_CONFIG}`, `replication_user=${REPL_USER}`, `replication_password_file=${NODE_PASSWORD_FILE}`,
      `node_map=${nodeMap(lab)}`, `semisync=${o.semisync}`,
      // The same 100 ms probe as the lab's VIP resources (below).
      ...(o.writeAddress ? [`write_ip=${WRITE_VIP}`, 'write_cidr_netmask=24', 'write_nic=eth0', 'write_duplicate_timeout=100'] : [])]
    : ['binary=/usr/sbin/mariadbd', `config=${NODE_CONFIG}`, `datadir=${NODE_DATADIR}`, 'pid=/run/mysqld/mysqld.pid',
      'socket=/run/mysqld/mysqld.sock', `log=${NODE_ERROR_LOG}`, 'user=mysql', 'group=mysql',
      `replication_user=${REPL_USER}`, `replication_passwd=${REPL_PASSWORD}`];
  return ['resource', 'create', DB, stack.dbAgent, ...params,
    'op', 'monitor', `interval=${pm}s`, 'role=Promoted', 'timeout=30s',
    'op', 'monitor', `interval=${um}s`, 'role=Unpromoted', 'timeout=30s',
    'op', 'start', 'timeout=120s', 'op', 'stop', 'timeout=120s', 'op', 'promote', 'timeout=120s', 'op', 'demote', 'timeout=120s',
    'op', 'notify', 'timeout=90s',
    'meta', `migration-threshold=${(o.migrationThreshold ?? 1) >= 1_000_000 ? 'INFINITY' : o.migrationThreshold ?? 1}`, `failure-timeout=${o.failureTimeoutS ?? 60}s`,
    'promotable', 'promoted-max=1', 'notify=true'];
}

/** The pcs commands after the clone: write VIP with the promoted instance, read-only VIP on a healthy replica. */
export function vipCommands(stack: DbStack, o: Pick<DbOptions, 'writeAddress'> = {}): string[][] {
  // vigil's VIP listens 100 ms for a duplicate before taking the address (default 300 ms): answers
  // on this LAN take well under a millisecond. IPaddr2 does not check at all.
  const extra = stack.name === 'vigil' ? ['duplicate_timeout=100'] : [];
  const vip = (id: string, ip: string) => ['resource', 'create', id, stack.vipAgent, `ip=${ip}`, 'cidr_netmask=24', 'nic=eth0', ...extra,
    'op', 'monitor', 'interval=2s', 'timeout=20s', 'meta', 'resource-stickiness=100', '--disabled'];
  const embedded = stack.name === 'vigil' && o.writeAddress;
  const cmds = embedded ? [] : [
    vip(WRITE_VIP_ID, WRITE_VIP),
    ['constraint', 'colocation', 'add', WRITE_VIP_ID, 'with', 'Promoted', CLONE, 'INFINITY'],
    ['constraint', 'order', 'promote', CLONE, 'then', 'start', WRITE_VIP_ID],
  ];
  if (stack.name === 'vigil') {
    cmds.push(
      vip(READ_VIP_ID, READ_VIP),
      // docs/mysql.md section 8, as written (test/integration/mysql-readonly-vip.test.ts checks):
      // the score beats the VIP's stickiness, or a replica just promoted keeps the read-only VIP.
      ['constraint', 'colocation', 'add', READ_VIP_ID, 'with', 'Unpromoted', CLONE, '200'],
      ['constraint', 'location', READ_VIP_ID, 'rule', 'score=-INFINITY', 'not_defined', `${DB}-grade`, 'or', `${DB}-grade`, 'ne', 'OK'],
    );
  }
  // Created disabled, enabled once constrained: a VIP started before its colocation would pull the
  // primary role over to wherever it happened to start.
  if (!embedded) cmds.push(['resource', 'enable', WRITE_VIP_ID]);
  if (stack.name === 'vigil') cmds.push(['resource', 'enable', READ_VIP_ID]);
  return cmds;
}

// ---------------------------------------------------------------- SQL on a node

/** A query through the node's own socket as root (the `mariadb` client on the node); rows of fields. */
export async function nodeSql(lab: Lab, node: string, q: string, timeoutMs = 15_000): Promise<string[][]> {
  const r = await lab.on(node, ['mariadb', '--batch', '--skip-column-names', '--connect-timeout=3', '-e', q], { timeoutMs });
  if (r.code !== 0) throw new LabError(`on ${node}: ${q}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

export interface ServerView {
  node: string;
  readOnly: boolean;
  binlogPos: string;
  currentPos: string;
  ioRunning?: string;
  sqlRunning?: string;
  source?: string;
  lastError?: string;
}

/** What a node's server says about itself (undefined when it does not answer). */
export async function serverView(lab: Lab, node: string): Promise<ServerView | undefined> {
  if (!lab.nodePid(node)) return undefined;
  try {
    const [row] = await nodeSql(lab, node, 'SELECT @@read_only, @@gtid_binlog_pos, @@gtid_current_pos', 5000);
    const st = await lab.on(node, ['mariadb', '--connect-timeout=3', '-e', 'SHOW SLAVE STATUS\\G'], { timeoutMs: 5000 });
    const field = (k: string) => new RegExp(`^\\s*${k}: ?(.*)$`, 'm').exec(st.stdout)?.[1];
    return {
      node, readOnly: row?.[0] === '1', binlogPos: row?.[1] ?? '', currentPos: row?.[2] ?? '',
      ioRunning: field('Slave_IO_Running'), sqlRunning: field('Slave_SQL_Running'), source: field('Master_Host'),
      lastError: field('Last_Error') || field('Last_IO_Error') || undefined,
    };
  } catch { return undefined; }
}

/** CHECKSUM TABLE of the test table on a node. */
export async function tableChecksum(lab: Lab, node: string): Promise<string> {
  const [row] = await nodeSql(lab, node, `CHECKSUM TABLE ${TABLE}`);
  return row?.[1] ?? '';
}

/** The ids of the test table in [from, to) on a node. */
export async function idsOn(lab: Lab, node: string, from: number, to: number): Promise<Set<number>> {
  const rows = await nodeSql(lab, node, `SELECT id FROM ${TABLE} WHERE id >= ${Math.floor(from)} AND id < ${Math.floor(to)}`, 30_000);
  return new Set(rows.map((r) => Number(r[0])));
}

// ---------------------------------------------------------------- bringing it up

/**
 * The database cluster as an operator builds it: fencing (already configured by the caller),
 * then the clone, then the VIPs; waits until one instance is promoted, the others unpromoted and
 * the write VIP runs with the promoted one.
 */
export async function createDbResources(lab: Lab, stack: DbStack, o: DbOptions, on = lab.anyLiveNode()): Promise<void> {
  await lab.pcs(on, dbCreateArgs(lab, stack, o));
  for (const c of vipCommands(stack, o)) await lab.pcs(on, c);
}
