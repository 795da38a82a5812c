// What every action of the mysql agent shares: the server's configuration, the password, a
// bounded session on the local server, the agent's small state file, and the cluster tools with
// their write cache.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentContext } from '../../lib/ocf/agent.ts';
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { connectMysql2, type Connector, type SqlClient } from '../../lib/mysql/client.ts';
import { detectFlavour, sqlFor, type ServerVersion } from '../../lib/mysql/flavour.ts';
import type { FlavourSql } from '../../lib/mysql/sql/types.ts';
import { splitParameters, type ServerConfig } from '../../lib/mysql/server.ts';
import { readPasswordFileChecked } from '../../lib/mysql/secrets.ts';
import { ClusterTools, primitiveName } from '../../lib/cluster/tools.ts';
import { AttributeCache } from '../../lib/cluster/cache.ts';
import type { ConsistencyRecord } from '../../lib/mysql/consistency.ts';
import type { LineageRecord } from '../../lib/mysql/lineage.ts';
import type { MysqlParams } from './params.ts';
import { parseNodeMap, peerAddress, type PeerAddress } from './peers.ts';
import { peerTls } from './tls.ts';

export type Ctx = AgentContext<MysqlParams>;

/** Replaceable for tests that drive actions in-process. */
export const deps: { connector: Connector } = { connector: connectMysql2 };

const SEARCH_DIRS = ['/usr/sbin', '/usr/libexec', '/usr/local/sbin', '/usr/local/mysql/bin', '/usr/bin', '/sbin', '/bin'];

/** The server binary: the parameter, else mariadbd then mysqld from PATH and the sbin dirs. */
export function resolveBinary(ctx: Ctx): string | undefined {
  if (ctx.params.binary) return existsSync(ctx.params.binary) ? ctx.params.binary : undefined;
  const dirs = [...(ctx.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_DIRS];
  for (const name of ['mariadbd', 'mysqld']) {
    for (const d of dirs) {
      const p = join(d, name);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

export function serverConfig(ctx: Ctx, binary: string, flavour: ServerVersion['flavour']): ServerConfig {
  const p = ctx.params;
  return {
    binary, config: p.config || undefined, datadir: p.datadir, socket: p.socket, port: p.port,
    pidFile: p.pid, user: p.user, log: p.log || undefined,
    additionalParameters: splitParameters(p.additional_parameters), flavour, semisync: p.semisync,
  };
}

/**
 * The actions that refuse a password file others may read (or not owned by root). Every other
 * action of a running server warns and carries on: a monitor that failed with rc 2 (a hard error)
 * because a configuration tool ran chmod 640 would stop and ban a healthy primary, and the
 * server's state does not depend on the file's mode. The file is refused again at the next start.
 */
const STRICT_PASSWORD_FILE_ACTIONS: ReadonlySet<string> = new Set(['start', 'validate-all']);
const exposureWarned = new WeakSet<Ctx>();

/** The replication password, from the CIB or from the root-only file. */
export function replicationPassword(ctx: Ctx): string {
  const p = ctx.params;
  if (p.replication_password_file) {
    let r: { password: string; exposure?: string };
    try { r = readPasswordFileChecked(p.replication_password_file); } catch (e) {
      throw new OcfError(OCF.ERR_ARGS, (e as Error).message);
    }
    ctx.log.hide(r.password);
    if (r.exposure) {
      if (STRICT_PASSWORD_FILE_ACTIONS.has(ctx.action)) throw new OcfError(OCF.ERR_ARGS, r.exposure);
      if (!exposureWarned.has(ctx)) {
        exposureWarned.add(ctx);
        ctx.log.warn(`${r.exposure}: ${ctx.action} carries on with it, start and validate-all refuse it`);
      }
    }
    return r.password;
  }
  return p.replication_password;
}

/**
 * What one statement on the local server may take unless its caller passes its own bound (ms). A
 * healthy server answers a status query in milliseconds; the slowest statement the agent sends,
 * STOP SLAVE IO_THREAD for a source that is gone, took 1-2 s in the lab. A server that has not
 * answered in 5 s is stuck (a STOP SLAVE waiting for an applier blocked on a lock holds every SHOW
 * SLAVE STATUS behind it), and waiting longer only holds up the transition: Pacemaker waits for
 * every notification, and one replica could keep a promotion waiting for the whole notify budget
 * (up to 90 s). Statements that wait by design pass their own bound, within the deadline (the
 * switch to read-only, which waits for the commits in flight).
 */
export const QUERY_TIMEOUT_MS = 5000;

export interface LocalSession {
  db: SqlClient;
  sql: FlavourSql;
  version: ServerVersion;
}

/**
 * A session on the local server through its socket, bounded by the action's deadline. The
 * flavour is read from the server itself on every session (one sub-millisecond query), so an
 * upgrade from MariaDB to MySQL or 8.0 to 8.4 needs nothing from the operator.
 */
export async function openLocal(ctx: Ctx, connectMs = 5000): Promise<LocalSession> {
  const db = await deps.connector({
    socketPath: ctx.params.socket,
    user: ctx.params.replication_user,
    password: replicationPassword(ctx),
    connectTimeoutMs: Math.max(50, ctx.deadline.cap(connectMs)),
    queryTimeoutMs: Math.max(50, ctx.deadline.cap(QUERY_TIMEOUT_MS)),
    signal: ctx.signal,
  });
  try {
    const [row] = await db.query('SELECT @@version AS version, @@version_comment AS comment');
    const v = detectFlavour(String(row?.version ?? ''), String(row?.comment ?? ''));
    if (typeof v === 'string') throw new OcfError(OCF.ERR_INSTALLED, v);
    return { db, sql: sqlFor(v.flavour), version: v };
  } catch (e) {
    await db.close();
    throw e;
  }
}

export async function withLocal<R>(ctx: Ctx, fn: (s: LocalSession) => Promise<R>, connectMs?: number): Promise<R> {
  const s = await openLocal(ctx, connectMs);
  try { return await fn(s); } finally { await s.db.close(); }
}

/**
 * A session on another node's server over TCP (node_map or the node name), with the replication
 * account, bounded by `timeoutMs` for connecting and for each query, and by the action's deadline.
 */
export async function openRemote(ctx: Ctx, node: string, timeoutMs = ctx.params.peer_timeout): Promise<LocalSession> {
  const addr = addressOf(ctx, node);
  const db = await deps.connector({
    host: addr.host, port: addr.port,
    user: ctx.params.replication_user,
    password: replicationPassword(ctx),
    connectTimeoutMs: Math.max(50, ctx.deadline.cap(timeoutMs)),
    queryTimeoutMs: Math.max(50, ctx.deadline.cap(timeoutMs)),
    signal: ctx.signal,
    // Where the replicas use TLS, so does the agent: the same accounts and servers refuse both.
    ssl: peerTls(ctx.params),
  });
  try {
    const [row] = await db.query('SELECT @@version AS version, @@version_comment AS comment');
    const v = detectFlavour(String(row?.version ?? ''), String(row?.comment ?? ''));
    if (typeof v === 'string') throw new OcfError(OCF.ERR_GENERIC, `${node}: ${v}`);
    return { db, sql: sqlFor(v.flavour), version: v };
  } catch (e) {
    await db.close();
    throw e;
  }
}

export async function withRemote<R>(ctx: Ctx, node: string, fn: (s: LocalSession) => Promise<R>, timeoutMs?: number): Promise<R> {
  const s = await openRemote(ctx, node, timeoutMs);
  try { return await fn(s); } finally { await s.db.close(); }
}

// --- state kept between operations (tmpfs: gone after a reboot, as it should be) ---

export interface AgentState {
  /** Set by promote, cleared by demote and stop: a recurring monitor that finds the server dead reports 9, not 7. */
  promoted?: boolean;
  /** When a monitor first saw received-but-unapplied events that the server gave no lag for. */
  pendingSince?: number;
  /** Recorded by pre-promote on the node being promoted, used by promote. */
  election?: ElectionRecord;
  /** Recorded by pre-demote on a primary handing over in a planned switchover, used by demote. */
  switchover?: { target: string; at: number };
  /** Errant transactions found when this replica was to follow the primary (it was not pointed at it), or by its monitor. */
  errant?: string;
  /** Transactions the primary holds that this replica streamed past without applying (its monitor). */
  missing?: string;
  /** The replica monitor's last settled comparison with the primary (lib/mysql/consistency.ts). */
  consistency?: ConsistencyRecord;
  /** The record of this node's promotion as it wrote it (the primary's monitor restores it if the CIB lost it). */
  lineage?: LineageRecord;
  /** When a replica's monitor last made sure it is registered with its primary (ms). */
  registeredAt?: number;
  /** When the primary's monitor last compared the record in the CIB with its copy (ms). */
  recordCheckedAt?: number;
}

export interface ElectionRecord {
  /** electionToken() of the pre-promote notification. */
  token: string;
  /** Active + starting - stopping instances, without this node: whose positions count. */
  peers: string[];
  /** Every node of the cluster (notify all_uname): whose servers the writable-peer guard asks. */
  all: string[];
  /** A recovery of the promoted instance on this node: no election. */
  recover: boolean;
  at: number;
}

/** How long a record of pre-promote/pre-demote stays meaningful for the action that follows it. */
export const RECORD_TTL_MS = 10 * 60_000;

export function stateDir(ctx: Ctx): string {
  return ctx.env.HA_RSCTMP || '/run/resource-agents';
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');
export const stateFile = (ctx: Ctx) => join(stateDir(ctx), `vigil-mysql-${safe(primitiveName(ctx.instance))}.state`);
const cacheFile = (ctx: Ctx) => join(stateDir(ctx), `vigil-mysql-${safe(primitiveName(ctx.instance))}.attrs`);

export function loadState(ctx: Ctx): AgentState {
  try { return JSON.parse(readFileSync(stateFile(ctx), 'utf8')) as AgentState; } catch { return {}; }
}

export function saveState(ctx: Ctx, s: AgentState): void {
  try {
    mkdirSync(stateDir(ctx), { recursive: true });
    const tmp = `${stateFile(ctx)}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
    renameSync(tmp, stateFile(ctx));
  } catch (e) {
    ctx.log.warn(`cannot write state file ${stateFile(ctx)}: ${(e as Error).message}`);
  }
}

export function clearState(ctx: Ctx): void {
  try { rmSync(stateFile(ctx), { force: true }); } catch { /* ignore */ }
}

// --- the cluster ---

export function clusterTools(ctx: Ctx): ClusterTools {
  return new ClusterTools({
    instance: ctx.instance, node: ctx.nodeName,
    timeoutMs: Math.max(100, ctx.deadline.cap(10_000)), signal: ctx.signal,
  });
}

export function attributeCache(ctx: Ctx): AttributeCache { return new AttributeCache(cacheFile(ctx)); }

/**
 * Node attribute names: "<resource>-grade" and "<resource>-lag" (a location rule can use them), and
 * the private "<resource>-position" each node publishes at pre-promote for the election, and
 * "<resource>-errant": the transactions a replica holds that the primary lacks (its monitor).
 */
export function attributeNames(ctx: Ctx): { grade: string; lag: string; position: string; errant: string } {
  const base = primitiveName(ctx.instance);
  return { grade: `${base}-grade`, lag: `${base}-lag`, position: `${base}-position`, errant: `${base}-errant` };
}

export interface Publication {
  score?: string | null;
  grade?: string | null;
  lag?: string | null;
  /** The errant transactions a replica holds ("<resource>-errant"), null when none. */
  errant?: string | null;
}

/**
 * Tell the cluster what changed, and only that. A failure to publish is logged, not fatal: the
 * next monitor tries again (the cache forgets a failed write).
 */
export async function publish(ctx: Ctx, p: Publication, tools = clusterTools(ctx), cache = attributeCache(ctx)): Promise<void> {
  const names = attributeNames(ctx);
  const jobs: Array<Promise<{ outcome: string; reason?: string }>> = [];
  if (p.score !== undefined) {
    jobs.push(cache.publish('score', p.score, () => (p.score === null ? tools.deletePromotionScore() : tools.setPromotionScore(p.score!))));
  }
  if (p.grade !== undefined) {
    jobs.push(cache.publish('grade', p.grade, () => (p.grade === null ? tools.deleteNodeAttribute(names.grade) : tools.setNodeAttribute(names.grade, p.grade!))));
  }
  if (p.lag !== undefined) {
    jobs.push(cache.publish('lag', p.lag, () => (p.lag === null ? tools.deleteNodeAttribute(names.lag) : tools.setNodeAttribute(names.lag, p.lag!))));
  }
  if (p.errant !== undefined) {
    jobs.push(cache.publish('errant', p.errant, () => (p.errant === null ? tools.deleteNodeAttribute(names.errant) : tools.setNodeAttribute(names.errant, p.errant!))));
  }
  for (const r of await Promise.all(jobs)) {
    if (r.outcome === 'failed') ctx.log.warn(`could not publish to the cluster: ${r.reason}`);
  }
  cache.save();
}

/** Where a replica finds `node`'s server. */
export function addressOf(ctx: Ctx, node: string): PeerAddress {
  return peerAddress(node, parseNodeMap(ctx.params.node_map), ctx.params.replication_port);
}

/** This node's name: Pacemaker's on_node, else crm_node -n. */
export async function localNode(ctx: Ctx): Promise<string | undefined> {
  if (ctx.nodeName) return ctx.nodeName;
  const r = await clusterTools(ctx).localNodeName();
  return r.ok ? r.value : undefined;
}
