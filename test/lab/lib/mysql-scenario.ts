// The MariaDB failover scenarios, shared by the lab tests (test/lab/mysql-failover.test.ts), the
// side-by-side benchmark (bench/lab-mysql.ts) and the demo (test/lab/demo.ts): a 3-node database
// cluster in the lab, a writer and a sampler in the client namespace, one fault, and what the
// client, the servers and the cluster saw.
import { join } from 'node:path';
import { Deadline, pollUntil, sleep } from '../../../lib/deadline.ts';
import { Lab, LabError } from './lab.ts';
import { REPO_ROOT } from './plan.ts';
import { FileTail, EventLog, type ClusterEvent } from './events.ts';
import { VipSampler, splitBrains, describeSample, type Sample } from './sampler.ts';
import { runningOn, type ClusterStatus } from './crm.ts';
import { configureFencing } from './stacks.ts';
import { startLab, waitStatus, type TimingRecord } from './scenario.ts';
import {
  APP_PASSWORD, APP_USER, CLONE, DB, READ_VIP, READ_VIP_ID, WRITE_VIP, WRITE_VIP_ID, createDbResources, idsOn,
  nodeSql, prepareMariadb, serverView, tableChecksum, writeNodeFiles, type DbOptions, type DbStack,
} from './mariadb.ts';
import {
  idRanges, lostAcknowledged, outageOf, parseSamplerLog, parseWriterLog, timelineOf, twoWritable,
  type Outage, type ServerSample, type Timeline, type WriterLog,
} from './mysql-analysis.ts';
import type { SvgInput } from './timeline-svg.ts';

const WRITER = join(REPO_ROOT, 'test', 'lab', 'bin', 'mysql-writer.mjs');
const SAMPLER = join(REPO_ROOT, 'test', 'lab', 'bin', 'mysql-sampler.mjs');

export interface Roles { promoted: string[]; unpromoted: string[]; failed: string[] }

/** Where the clone's instances run, by role, from crm_mon. */
export function dbRoles(st: ClusterStatus): Roles {
  const r: Roles = { promoted: [], unpromoted: [], failed: [] };
  for (const x of st.resources.filter((y) => y.id === DB)) {
    if (x.failed) r.failed.push(...x.nodes);
    if (x.role === 'Promoted' || x.role === 'Master') r.promoted.push(...x.nodes);
    else if (x.role === 'Unpromoted' || x.role === 'Slave') r.unpromoted.push(...x.nodes);
  }
  return r;
}

// ---------------------------------------------------------------- client programs

/** The writer in the client namespace: one log per run, read from where this run began. */
export class Writer {
  private tail?: FileTail;
  constructor(readonly lab: Lab, readonly name = 'writer') {}
  get logFile(): string { return join(this.lab.p.clientDir, `${this.name}.log`); }

  async start(base: number, intervalMs = 20): Promise<void> {
    this.tail = new FileTail(this.logFile);
    await this.lab.startClientDaemon(this.name, ['node', WRITER, WRITE_VIP, String(base), String(intervalMs)],
      { WRITER_USER: APP_USER, WRITER_PASSWORD: APP_PASSWORD });
  }

  read(): WriterLog { return parseWriterLog(this.tail?.read() ?? ''); }
  async stop(): Promise<void> { await this.lab.stopClientDaemon(this.name); }

  /** Wait until `n` acknowledgements arrived after `since` (epoch ms); false on timeout. */
  async acksAfter(since: number, n: number, timeoutMs: number): Promise<boolean> {
    return !!(await pollUntil(async () => (this.read().inserts.filter((i) => i.ok && i.rt > since).length >= n ? true : undefined),
      100, new Deadline(timeoutMs)));
  }
}

/** The sampler of every server's read_only (and both VIPs) in the client namespace. */
export class ServerSampler {
  private tail?: FileTail;
  constructor(readonly lab: Lab, readonly name = 'sampler') {}
  get logFile(): string { return join(this.lab.p.clientDir, `${this.name}.log`); }

  async start(): Promise<void> {
    this.tail = new FileTail(this.logFile);
    const targets = [...this.lab.nodes.map((n) => `${n}=${this.lab.plan(n).lanIp}`), `vip=${WRITE_VIP}`, `ro-vip=${READ_VIP}`];
    await this.lab.startClientDaemon(this.name, ['node', SAMPLER, ...targets], { SAMPLER_USER: APP_USER, SAMPLER_PASSWORD: APP_PASSWORD });
  }

  read(): ServerSample[] { return parseSamplerLog(this.tail?.read() ?? ''); }
  async stop(): Promise<void> { await this.lab.stopClientDaemon(this.name); }
}

// ---------------------------------------------------------------- the cluster

export interface Health { primary: string; replicas: string[]; roVip?: string }

export class DbCluster {
  private nextBase = 1;

  constructor(readonly lab: Lab, readonly stack: DbStack, public opts: DbOptions, readonly log: (l: string) => void = () => {}) {}

  /** A fresh lab, MariaDB on every node, fencing, the clone and the VIPs, healthy. */
  static async start(stack: DbStack, opts: DbOptions, o: { log?: (l: string) => void; agentsDir?: string } = {}): Promise<DbCluster> {
    // VIGIL_LAB_AGENTS: a copy of dist/ to test instead of this checkout's (a build meanwhile does not change it).
    const agentsDir = o.agentsDir ?? process.env.VIGIL_LAB_AGENTS;
    const lab = await startLab({ nodes: 3, ...(agentsDir ? { agentsDir } : {}), ...(o.log ? { log: o.log } : {}) });
    const db = new DbCluster(lab, stack, opts, o.log);
    await prepareMariadb(lab, stack.name, opts.semisync);
    await configureFencing(lab, stack.fenceAgent);
    await waitStatus(lab, 'stonith devices started', (s) => lab.nodes.every((n) => s.resources.find((r) => r.id === `fence-${n}`)?.active), 60_000);
    await createDbResources(lab, stack, opts);
    await db.waitHealthy(180_000);
    return db;
  }

  /** Ids for the next run of the writer: ten million apart, so every run's rows can be told apart. */
  takeBase(): number { return (this.nextBase++) * 10_000_000; }

  async status(): Promise<ClusterStatus> { return this.lab.status(this.lab.anyLiveNode()); }

  /**
   * Healthy: every node online, one promoted instance and the others unpromoted, the write VIP with
   * the primary (and the read-only VIP on a node), the primary writable and every replica
   * read-only, replicating from the primary with both threads running.
   */
  async waitHealthy(timeoutMs = 120_000): Promise<Health> {
    const d = new Deadline(timeoutMs);
    let why = 'not checked yet';
    const ok = await pollUntil(async () => {
      const st = await this.status().catch(() => undefined);
      if (!st) { why = 'no crm_mon answer'; return undefined; }
      const offline = this.lab.nodes.filter((n) => !st.nodes.find((x) => x.name === n)?.online);
      if (offline.length) { why = `offline: ${offline}`; return undefined; }
      const r = dbRoles(st);
      if (r.promoted.length !== 1 || r.unpromoted.length !== this.lab.nodes.length - 1) { why = `roles ${JSON.stringify(r)}`; return undefined; }
      const primary = r.promoted[0]!;
      if (this.opts.writeAddress) {
        const a = await this.lab.on(primary, ['ip', '-o', 'addr', 'show', 'dev', 'eth0']);
        if (!a.stdout.includes(`${WRITE_VIP}/`)) { why = `the primary ${primary} does not hold its write address ${WRITE_VIP}`; return undefined; }
      } else if (runningOn(st, WRITE_VIP_ID).join() !== primary) { why = `write VIP on [${runningOn(st, WRITE_VIP_ID)}], primary ${primary}`; return undefined; }
      const ro = runningOn(st, READ_VIP_ID);
      if (this.stack.name === 'vigil' && ro.length !== 1) { why = 'read-only VIP not running'; return undefined; }
      const views = await Promise.all(this.lab.nodes.map((n) => serverView(this.lab, n)));
      for (const v of views) {
        if (!v) { why = 'a server does not answer'; return undefined; }
        if (v.node === primary) {
          if (v.readOnly) { why = `${primary} is read-only`; return undefined; }
          continue;
        }
        const source = this.lab.plan(primary).lanIp;
        if (!v.readOnly || v.ioRunning !== 'Yes' || v.sqlRunning !== 'Yes' || (v.source !== source && v.source !== primary)) {
          why = `${v.node}: read_only=${v.readOnly} io=${v.ioRunning} sql=${v.sqlRunning} source=${v.source} ${v.lastError ?? ''}`;
          return undefined;
        }
      }
      return { primary, replicas: this.lab.nodes.filter((n) => n !== primary), roVip: ro[0] };
    }, 500, d);
    if (!ok) throw new LabError(`the database cluster is not healthy after ${timeoutMs} ms: ${why}`);
    return ok;
  }

  /** Back to healthy after a scenario: failures cleared, move constraints gone, links plugged. */
  async restore(timeoutMs = 120_000): Promise<Health> {
    for (const n of this.lab.nodes) if (this.lab.isCut(n, 'lan')) await this.lab.restore(n, 'lan');
    const on = this.lab.anyLiveNode();
    await this.lab.on(on, ['pcs', 'resource', 'clear', CLONE]);
    await this.lab.on(on, ['crm_resource', '--cleanup']);
    await this.lab.on(on, ['stonith_admin', '--cleanup', '--history', '*']);
    return this.waitHealthy(timeoutMs);
  }

  /** Health before a scenario: restore(), and when the database cannot recover, reset(). */
  async healthy(timeoutMs = 90_000): Promise<Health> {
    try { return await this.restore(timeoutMs); } catch (e) {
      this.log(`restore failed (${(e as Error).message.slice(0, 300)}); rebuilding the database`);
      return this.reset();
    }
  }

  /**
   * The database from scratch (template datadirs on every node), fencing kept: after a scenario
   * that left servers that cannot follow the primary (the heartbeat stack's errant rejoin).
   */
  async reset(): Promise<Health> {
    for (const n of this.lab.nodes) if (this.lab.isCut(n, 'lan')) await this.lab.restore(n, 'lan');
    await this.lab.waitReady(120_000);
    const on = this.lab.anyLiveNode();
    for (const id of [READ_VIP_ID, WRITE_VIP_ID, DB]) await this.lab.on(on, ['pcs', 'resource', 'delete', id, '--force'], { timeoutMs: 180_000 });
    await this.lab.on(on, ['crm_attribute', '--type', 'crm_config', '--name', `${DB}_REPL_INFO`, '-s', 'mysql_replication', '-D']);
    // vigil's record of the last promotion (docs/mysql.md): the rebuilt servers hold none of it.
    await this.lab.on(on, ['cibadmin', '--delete', '--xml-text', `<cluster_property_set id="vigil-${DB}"/>`]);
    await this.waitNoServer(120_000);
    await this.lab.on(on, ['crm_resource', '--cleanup']);
    for (const n of this.lab.nodes) await writeNodeFiles(this.lab, n, this.stack.name, this.opts.semisync);
    await createDbResources(this.lab, this.stack, this.opts, on);
    return this.waitHealthy(180_000);
  }

  /** Until no node runs a database server (after the resource was deleted). */
  async waitNoServer(timeoutMs: number): Promise<void> {
    const ok = await pollUntil(async () => {
      for (const n of this.lab.nodes) {
        if (!this.lab.nodePid(n)) continue;
        const r = await this.lab.on(n, ['sh', '-c', 'kill -0 "$(cat /run/mysqld/mysqld.pid 2>/dev/null)" 2>/dev/null']);
        if (r.code === 0) return undefined;
      }
      return true;
    }, 500, new Deadline(timeoutMs));
    if (!ok) throw new LabError('a database server still runs after its resource was deleted');
  }

  /** Change the clone's semisync parameter (Pacemaker restarts every instance: it has no reload). */
  async setSemisync(on: boolean): Promise<Health> {
    const node = this.lab.anyLiveNode();
    if (this.stack.name === 'vigil') {
      await this.lab.pcs(node, ['resource', 'update', DB, `semisync=${on}`]);
    } else {
      throw new LabError('the heartbeat stack takes semi-sync from the option file: rebuild it with reset()');
    }
    this.opts = { ...this.opts, semisync: on };
    await sleep(2000);
    return this.waitHealthy(180_000);
  }

  /**
   * Wait until every running server holds the same transactions (gtid_binlog_pos: every server
   * logs what it applies), then compare CHECKSUM TABLE. Returns the checksums by node.
   */
  async converge(nodes: readonly string[], timeoutMs = 60_000): Promise<{ converged: boolean; checksums: Record<string, string>; positions: Record<string, string> }> {
    let positions: Record<string, string> = {};
    const same = await pollUntil(async () => {
      positions = {};
      for (const n of nodes) {
        const v = await serverView(this.lab, n);
        positions[n] = v ? v.binlogPos : '(no answer)';
      }
      return new Set(Object.values(positions)).size === 1 ? true : undefined;
    }, 500, new Deadline(timeoutMs));
    const checksums: Record<string, string> = {};
    for (const n of nodes) checksums[n] = await tableChecksum(this.lab, n).catch((e: Error) => `error: ${e.message}`);
    const converged = !!same && new Set(Object.values(checksums)).size === 1;
    if (!converged) {
      // Which runs' rows differ (ids are ten million apart per run), for the message.
      for (const n of nodes) {
        const rows = await nodeSql(this.lab, n, 'SELECT id DIV 10000000, COUNT(*), MIN(id), MAX(id) FROM vigiltest.t GROUP BY 1').catch(() => []);
        checksums[n] += ` rows by run: ${rows.map((r) => `${r[0]}:${r[1]}(${r[2]}-${r[3]})`).join(' ')}`;
      }
    }
    return { converged, checksums, positions };
  }
}

// ---------------------------------------------------------------- scenarios

export type FaultKind = 'kill9' | 'poweroff' | 'linkcut' | 'freeze' | 'switchover' | 'replica' | 'errant';

export const SCENARIO_TITLES: Record<FaultKind, string> = {
  kill9: "kill -9 of the primary's server",
  poweroff: 'power-off of the primary node',
  linkcut: "cut of the primary's LAN link",
  freeze: 'frozen primary (SIGSTOP of corosync and the server)',
  switchover: 'planned switchover (pcs resource move --promoted)',
  replica: 'power-off of a replica',
  errant: 'old primary with an errant transaction rejoins',
};

export interface ScenarioResult {
  kind: FaultKind;
  title: string;
  stack: string;
  semisync: boolean;
  victim: string;
  oldPrimary: string;
  newPrimary?: string;
  /** Primary at the end, after the victim came back (no failback: still newPrimary). */
  finalPrimary?: string;
  t0: number;
  timeline: Timeline;
  outage: Outage;
  acked: number;
  attempts: number;
  lost: number[];
  /** Acknowledged ids missing per other running node (after convergence). */
  lostOn: Record<string, number[]>;
  converged: boolean;
  checksums: Record<string, string>;
  twoWritable: ServerSample[];
  vipSplit: Sample[];
  /** The victim's instance came back (a successful start after the fault), ms after t0. */
  rejoinMs?: number;
  /** From the write VIP's stop to its start elsewhere (planned switchover), ms. */
  vipGapMs?: number;
  /** errant: the start of the old primary was refused, with this reason. */
  refusedReason?: string;
  roVipAfter?: string;
  notes: string[];
  events: ClusterEvent[];
  writer: WriterLog;
  samples: ServerSample[];
  vipSamples: Sample[];
  /** The victim's power as its BMC saw it (off/on requests), from the fault on. */
  power: Array<{ t: number; power: 'on' | 'off' }>;
  /** When the scenario stopped watching (epoch ms). */
  end: number;
}

export interface RunOptions {
  /** Keep the writer running this long after the victim came back, to see a second outage. */
  afterRejoinMs?: number;
  /** A line of progress for a person watching (the demo). */
  progress?: (line: string) => void;
  /** Skip the victim's return (the demo leaves the cluster as the failover left it). */
  noRejoin?: boolean;
  phaseTimeoutMs?: number;
  /** Run the samplers (default): off only to measure what they cost the machine. */
  samplers?: boolean;
  /** How to cut the victim's power (default: the lab's power-off, SIGKILL of its pid 1). */
  powerOff?: (lab: Lab, node: string) => Promise<void>;
}

async function serverPid(lab: Lab, node: string): Promise<number> {
  const r = await lab.onOk(node, ['cat', '/run/mysqld/mysqld.pid']);
  const pid = Number(r.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new LabError(`no server pid on ${node}: ${r}`);
  return pid;
}

/** The failed start's reason for `node` from crm_mon (Failed Resource Actions). */
function startFailure(st: ClusterStatus, node: string): string | undefined {
  return st.failures.find((f) => f.node === node && /start/.test(f.opKey))?.exitReason;
}

/**
 * One scenario from a healthy cluster: writer and samplers start, the fault is injected, the
 * cluster's answer is awaited (promotion elsewhere and writes flowing again), then the victim's
 * return, then convergence; everything seen is returned for the caller to assert and record.
 */
export async function runScenario(db: DbCluster, kind: FaultKind, o: RunOptions = {}): Promise<ScenarioResult> {
  const lab = db.lab;
  const say = o.progress ?? (() => {});
  const phaseMs = o.phaseTimeoutMs ?? 150_000;
  const health = await db.waitHealthy();
  const oldPrimary = health.primary;
  const notes: string[] = [];
  // The victim: the primary, or for the replica scenario the replica holding the read-only VIP.
  const victim = kind === 'replica' ? (health.roVip && health.roVip !== oldPrimary ? health.roVip : health.replicas[0]!)
    : kind === 'switchover' ? oldPrimary : oldPrimary;
  const target = kind === 'switchover' ? health.replicas.find((n) => n !== health.roVip) ?? health.replicas[0]! : undefined;
  const writer = new Writer(lab);
  const sampler = new ServerSampler(lab);
  const vipSampler = new VipSampler(lab, WRITE_VIP);
  const events = new EventLog(lab.p.eventsLog);
  const base = db.takeBase();
  let t0 = 0;
  let ev: ClusterEvent[] = [];
  let newPrimary: string | undefined;
  let refusedReason: string | undefined;
  let rejoinMs: number | undefined;
  let vipSamples: Sample[] = [];
  const fenceWanted = ['poweroff', 'linkcut', 'freeze', 'replica'].includes(kind);
  try {
    if (o.samplers !== false) {
      await sampler.start();
      vipSampler.start();
    }
    if (kind === 'errant') {
      // The errant transaction (below): replicas stop receiving, the primary commits one row that
      // no replica gets, then its server dies (a crashed primary's last commit). The writer is not
      // running meanwhile (its commits would be errant too, and lost by construction).
      for (const r of health.replicas) await nodeSql(lab, r, 'STOP SLAVE IO_THREAD');
    } else {
      await writer.start(base);
      if (!(await writer.acksAfter(Date.now(), 50, 20_000))) throw new LabError('the writer gets no acknowledgements before the fault');
    }
    say(`writer: ${writer.read().inserts.filter((i) => i.ok).length} commits acknowledged through ${WRITE_VIP} (primary ${oldPrimary})`);

    // ---- the fault
    t0 = Date.now();
    switch (kind) {
      case 'kill9': {
        const pid = await serverPid(lab, victim);
        t0 = Date.now();
        await lab.onOk(victim, ['kill', '-9', String(pid)]);
        break;
      }
      case 'errant': {
        // One command, so that no monitor restarts the replicas' IO threads in between; semi-sync
        // off for this commit, or it would wait for an acknowledgement that cannot come.
        const id = base + 9_999_999;
        t0 = Date.now();
        await lab.onOk(victim, ['sh', '-c', `mariadb -e "SET GLOBAL rpl_semi_sync_master_enabled=OFF; INSERT INTO vigiltest.t (id, v) VALUES (${id}, 'errant')" && kill -9 "$(cat /run/mysqld/mysqld.pid)"`]);
        notes.push(`errant row ${id} committed on ${oldPrimary} while the replicas' IO threads were stopped, then its server killed`);
        await writer.start(base);
        break;
      }
      case 'poweroff': case 'replica': {
        await (o.powerOff ?? ((l: Lab, n: string) => l.powerOff(n)))(lab, victim);
        // Through the BMC, the moment the power went is in its log.
        t0 = lab.powerEvents(victim, t0 - 1000).find((p) => p.power === 'off')?.t ?? t0;
        break;
      }
      case 'linkcut': await lab.cut(victim, 'lan'); break;
      case 'freeze': {
        const pid = await serverPid(lab, victim);
        const coro = (await lab.onOk(victim, ['cat', '/run/lab/corosync.pid'])).trim().split(' ')[0]!;
        t0 = Date.now();
        await lab.onOk(victim, ['kill', '-STOP', coro, String(pid)]);
        break;
      }
      case 'switchover':
        await lab.pcs(lab.anyLiveNode([victim]), ['resource', 'move', CLONE, target!, '--promoted']);
        break;
    }
    say(`${SCENARIO_TITLES[kind]} on ${victim} at ${new Date(t0).toISOString().slice(11, 23)}`);

    // ---- the cluster's answer
    let announced = new Set<string>();
    const shout = (what: string, line: string) => { if (!announced.has(what)) { announced.add(what); say(line); } };
    const answered = await pollUntil(async () => {
      ev = events.read().filter((e) => e.t >= t0);
      const lost = ev.find((e) => e.kind === 'node' && e.node === victim && e.desc === 'lost');
      if (lost) shout('lost', `  +${((lost.t - t0) / 1000).toFixed(1)} s  ${victim} lost from the membership (seen by ${lost.reporter})`);
      const mon = ev.find((e) => e.kind === 'resource' && e.rsc === DB && e.task === 'monitor' && e.node === victim && !['0', '8'].includes(e.rc) && e.desc !== 'Cancelled');
      if (mon) shout('mon', `  +${((mon.t - t0) / 1000).toFixed(1)} s  monitor of ${DB} on ${victim} failed (rc ${mon.rc})`);
      const fence = ev.find((e) => e.kind === 'fencing' && e.node === victim && e.rc === '0');
      if (fence) shout('fence', `  +${((fence.t - t0) / 1000).toFixed(1)} s  ${victim} fenced`);
      if (kind === 'linkcut' && (fence || lab.powerEvents(victim, t0).some((p) => p.power === 'off')) && lab.isCut(victim, 'lan')) {
        // The fence reboot is under way: plug the cable back so the node can rejoin when it boots.
        await lab.restore(victim, 'lan');
      }
      const promote = ev.find((e) => e.kind === 'resource' && e.rsc === DB && e.task === 'promote' && e.rc === '0');
      if (promote) shout('promote', `  +${((promote.t - t0) / 1000).toFixed(1)} s  ${promote.node} promoted`);
      const vip = ev.find((e) => e.kind === 'resource' && e.rsc === WRITE_VIP_ID && e.task === 'start' && e.rc === '0');
      if (vip) shout('vip', `  +${((vip.t - t0) / 1000).toFixed(1)} s  write VIP ${WRITE_VIP} up on ${vip.node}`);
      if (kind === 'replica') {
        if (!fence) return undefined;
        const acks = writer.read().inserts.filter((i) => i.ok && i.rt > fence.t).length;
        return acks >= 25 ? true : undefined;
      }
      if (!promote) return undefined;
      const acks = writer.read().inserts.filter((i) => i.ok && i.rt > promote.t);
      if (acks.length >= 25) {
        shout('write', `  +${((acks[0]!.rt - t0) / 1000).toFixed(1)} s  first write accepted after the promotion`);
        newPrimary = promote.node;
        return true;
      }
      return undefined;
    }, 100, new Deadline(phaseMs));
    if (!answered) {
      const st = await db.status().catch(() => undefined);
      throw new LabError(`${SCENARIO_TITLES[kind]}: no ${kind === 'replica' ? 'fencing' : 'promotion with writes after it'} within ${phaseMs} ms; ` +
        `events: ${JSON.stringify(ev.filter((e) => e.kind !== 'resource' || e.task !== 'notify').map((e) => [e.t - t0, e.kind, e.node, e.rsc, e.task, e.rc, e.desc]))}; ` +
        `roles: ${st ? JSON.stringify(dbRoles(st)) : '?'}`);
    }
    if (kind === 'switchover') await lab.on(lab.anyLiveNode(), ['pcs', 'resource', 'clear', CLONE]);
    if (fenceWanted && !ev.some((e) => e.kind === 'fencing' && e.node === victim && e.rc === '0') &&
      !lab.powerEvents(victim, t0).some((p) => p.power === 'off')) {
      notes.push(`no fence of ${victim} was seen before the promotion`);
    }

    // ---- the victim comes back (unless the cluster recovered the primary in place)
    if (newPrimary === victim && kind !== 'replica') notes.push(`the primary was recovered in place on ${victim}`);
    else if (!o.noRejoin) {
      if (kind === 'kill9' || kind === 'errant') {
        // migration-threshold=1 keeps the failed instance off its node until failure-timeout; the
        // operator clears it (docs/mysql.md section 9), which starts it again as a replica.
        await sleep(500);
        await lab.on(lab.anyLiveNode(), ['crm_resource', '--cleanup', '--resource', DB, '--node', victim]);
      }
      say(kind === 'switchover' ? `  ${victim} continues as a replica` : `  waiting for ${victim} to come back`);
      const back = await pollUntil(async () => {
        ev = events.read().filter((e) => e.t >= t0);
        if (kind === 'linkcut' && lab.isCut(victim, 'lan') && lab.powerEvents(victim, t0).some((p) => p.power === 'off')) await lab.restore(victim, 'lan');
        const st = await db.status().catch(() => undefined);
        if (!st) return undefined;
        // A refused start (errant transactions) will not be retried: no point waiting longer.
        const why = startFailure(st, victim);
        if (why && /errant/.test(why)) { refusedReason = why; return true; }
        if (!dbRoles(st).unpromoted.includes(victim)) return undefined;
        const v = await serverView(lab, victim);
        if (!v || v.ioRunning !== 'Yes' || v.sqlRunning !== 'Yes') return undefined;
        const start = ev.find((e) => e.kind === 'resource' && e.rsc === DB && e.node === victim && e.task === 'start' && e.rc === '0');
        // The start's alert can arrive after the replica is seen running: then the time it was seen.
        rejoinMs = start ? start.t - t0 : Date.now() - t0;
        return true;
      }, 250, new Deadline(phaseMs));
      if (!back) {
        const st = await db.status().catch(() => undefined);
        notes.push(`${victim} did not come back as a replica within ${phaseMs} ms (roles ${st ? JSON.stringify(dbRoles(st)) : '?'}, failures ${st ? JSON.stringify(st.failures) : '?'})`);
      } else if (!refusedReason) {
        say(`  ${victim} is a replica again${rejoinMs !== undefined ? ` (+${(rejoinMs / 1000).toFixed(1)} s)` : ''}; writing on`);
      } else {
        say(`  ${victim} refused: ${refusedReason}`);
      }
      await sleep(o.afterRejoinMs ?? 3000);
    }
  } finally {
    await writer.stop();
    if (o.samplers !== false) {
      await sampler.stop();
      vipSamples = await vipSampler.stop();
    }
    for (const n of lab.nodes) if (lab.isCut(n, 'lan') && lab.nodePid(n)) await lab.restore(n, 'lan');
  }
  ev = events.read().filter((e) => e.t >= t0);
  const w = writer.read();
  const samples = sampler.read();
  const st = await db.status().catch(() => undefined);
  const roles = st ? dbRoles(st) : { promoted: [], unpromoted: [], failed: [] };
  const finalPrimary = roles.promoted[0];
  newPrimary ??= finalPrimary;

  // ---- what the client was promised, against what the servers hold
  const running = lab.nodes.filter((n) => lab.nodePid(n) && (roles.promoted.includes(n) || roles.unpromoted.includes(n)));
  const conv = await db.converge(running);
  const maxId = base + 9_000_000;
  const lostOn: Record<string, number[]> = {};
  let lost: number[] = [];
  for (const n of running) {
    const present = await idsOn(lab, n, base, maxId);
    const l = lostAcknowledged(w.inserts, present);
    if (n === finalPrimary) lost = l;
    else lostOn[n] = l;
  }
  if (!finalPrimary) notes.push('no promoted instance at the end');
  // errant: the writer starts at the fault (see above), so the outage counts from the fault.
  const outage = outageOf(kind === 'errant' ? [{ id: -1, t: t0, rt: t0, ok: true }, ...w.inserts] : w.inserts, t0);
  const power = lab.powerEvents(victim, t0);
  // The fence's own power-off (a power-off fault leaves nothing for the fence agent to switch off).
  const bmcOff = ['poweroff', 'replica'].includes(kind) ? undefined : power.find((p) => p.power === 'off')?.t;
  // A replica's loss is no failover: there is no first write after one.
  const timeline = timelineOf({ t0, victim: kind === 'switchover' ? undefined : victim, events: ev, db: DB, vip: WRITE_VIP_ID, bmcOff,
    firstWrite: kind === 'replica' ? undefined : outage.firstAckAfter });
  // How long no node held the write VIP (a switchover stops it on the old primary first).
  const vipStop = ev.find((e) => e.kind === 'resource' && e.rsc === WRITE_VIP_ID && e.task === 'stop' && e.rc === '0');
  if (vipStop && timeline.vipMove !== undefined) notes.push(`write VIP down for ${timeline.vipMove - vipStop.t} ms (stopped on ${vipStop.node}, started on ${timeline.vipNode})`);
  if (lost.length) notes.push(`acknowledged commits missing on ${finalPrimary}: ${idRanges(lost)}`);
  return {
    kind, title: SCENARIO_TITLES[kind], stack: db.stack.name, semisync: db.opts.semisync, victim, oldPrimary, newPrimary, finalPrimary,
    t0, timeline, outage,
    acked: w.inserts.filter((i) => i.ok).length, attempts: w.inserts.length, lost, lostOn,
    converged: conv.converged, checksums: conv.checksums,
    twoWritable: twoWritable(samples), vipSplit: splitBrains(vipSamples),
    rejoinMs, vipGapMs: vipStop && timeline.vipMove !== undefined ? timeline.vipMove - vipStop.t : undefined,
    refusedReason, roVipAfter: st ? runningOn(st, READ_VIP_ID)[0] : undefined,
    notes, events: ev, writer: w, samples, vipSamples, power, end: Date.now(),
  };
}

/** The numbers a scenario contributes to results.jsonl and bench/RESULTS.md. */
export function resultRecord(r: ScenarioResult): TimingRecord {
  const rel = (t: number | undefined) => (t === undefined ? undefined : t - r.t0);
  return {
    suite: 'mysql', scenario: r.kind, stack: r.stack, semisync: r.semisync, victim: r.victim, newPrimary: r.newPrimary,
    finalPrimary: r.finalPrimary,
    outageMs: r.outage.outageMs, secondOutageMs: r.outage.secondOutageMs,
    lastAckBeforeMs: rel(r.outage.lastAckBefore), firstWriteMs: rel(r.timeline.firstWrite),
    detectionMs: rel(r.timeline.detection), fenceMs: rel(r.timeline.fence),
    // The fence agent's success as the cluster learnt it: nothing can be promoted before.
    fenceDoneMs: rel(r.events.find((e) => e.kind === 'fencing' && e.node === r.victim && e.rc === '0')?.t),
    promotionMs: rel(r.timeline.promotion),
    vipMs: rel(r.timeline.vipMove), rejoinMs: r.rejoinMs, vipGapMs: r.vipGapMs,
    acked: r.acked, attempts: r.attempts, lostAcked: r.lost.length,
    lostOnReplicas: Object.values(r.lostOn).reduce((a, l) => a + l.length, 0),
    converged: r.converged, twoWritable: r.twoWritable.length, vipSplit: r.vipSplit.length,
    refused: r.refusedReason !== undefined, failback: r.finalPrimary !== undefined && r.newPrimary !== undefined && r.finalPrimary !== r.newPrimary,
  };
}

/** A readable account of one scenario (test diagnostics, demo). */
export function describeResult(r: ScenarioResult): string {
  const s = (t: number | undefined) => (t === undefined ? '-' : `+${((t - r.t0) / 1000).toFixed(2)} s`);
  return [
    `${r.stack} ${r.title} (semi-sync ${r.semisync ? 'on' : 'off'}): ${r.oldPrimary} -> ${r.newPrimary ?? '?'} (final ${r.finalPrimary ?? '?'})`,
    `  detection ${s(r.timeline.detection)} (${r.timeline.detectionHow ?? '-'}), fence ${s(r.timeline.fence)} (${r.timeline.fenceHow ?? '-'}), ` +
    `promotion ${s(r.timeline.promotion)}, VIP ${s(r.timeline.vipMove)}, first write ${s(r.timeline.firstWrite)}`,
    `  outage ${r.outage.outageMs ?? '?'} ms, second outage ${r.outage.secondOutageMs ?? '?'} ms, acknowledged ${r.acked}/${r.attempts}, ` +
    `lost ${r.lost.length}, lost on replicas ${JSON.stringify(Object.fromEntries(Object.entries(r.lostOn).map(([k, v]) => [k, v.length])))}, ` +
    `converged ${r.converged} ${JSON.stringify(r.checksums)}`,
    `  two writable: ${r.twoWritable.length}, two VIP holders: ${r.vipSplit.length}${r.vipSplit.length ? ` (${r.vipSplit.slice(0, 3).map((x) => describeSample(x, r.t0)).join('; ')})` : ''}` +
    `${r.refusedReason ? `, refused: ${r.refusedReason}` : ''}`,
    ...r.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}

/**
 * The fence's moment on the chart. Pacemaker's alert reads "Operation reboot of n2 by n1 for
 * pacemaker-controld.66@n3: OK (ref=...)": the whole of it ran off the canvas, and the operator
 * looks for the target, the action and the fencer only. Any other text is cut short.
 */
export function fenceLabel(how: string | undefined): string {
  const m = /Operation (\S+) of (\S+) by (\S+) for \S+: ([^(]*[^(\s])/.exec(how ?? '');
  if (m) return `fence: ${m[2]} fenced (${m[1]} by ${m[3]}${m[4] === 'OK' ? '' : `: ${m[4]}`})`;
  const s = `fence: ${how ?? '?'}`;
  return s.length > 60 ? `${s.slice(0, 59).trimEnd()}\u2026` : s;
}

/** The chart of a scenario (test/lab/lib/timeline-svg.ts): lanes, throughput and the timeline's moments. */
export function svgInputOf(r: ScenarioResult, nodes: string[], title: string, subtitle?: string): SvgInput {
  const tl = r.timeline;
  const power: SvgInput['power'] = [];
  const off = r.power.find((p) => p.power === 'off')?.t ?? (['poweroff', 'replica'].includes(r.kind) ? r.t0 : undefined);
  if (off !== undefined) {
    const on = r.power.find((p) => p.power === 'on' && p.t >= off)?.t;
    const member = on !== undefined ? r.events.find((e) => e.kind === 'node' && e.node === r.victim && e.desc === 'member' && e.t > on)?.t : undefined;
    power.push({ node: r.victim, from: off, to: on ?? r.end, state: 'off' });
    if (on !== undefined) power.push({ node: r.victim, from: on, to: member ?? r.end, state: 'booting' });
  }
  const marks: SvgInput['marks'] = [{ t: r.t0, label: `failure: ${r.title} (${r.victim})` }];
  if (tl.detection !== undefined) marks.push({ t: tl.detection, label: `detection: ${tl.detectionHow}` });
  if (tl.fence !== undefined) marks.push({ t: tl.fence, label: fenceLabel(tl.fenceHow) });
  if (tl.promotion !== undefined) marks.push({ t: tl.promotion, label: `promotion of ${tl.promotedNode}` });
  if (tl.vipMove !== undefined) marks.push({ t: tl.vipMove, label: `write VIP up on ${tl.vipNode}` });
  if (tl.firstWrite !== undefined) marks.push({ t: tl.firstWrite, label: 'first write accepted' });
  if (r.rejoinMs !== undefined) marks.push({ t: r.t0 + r.rejoinMs, label: `${r.victim} back as a replica` });
  return {
    title, subtitle, nodes, t0: r.t0, from: r.t0 - 5000, to: r.end,
    samples: r.samples, vipSamples: r.vipSamples, inserts: r.writer.inserts, power, marks,
  };
}
