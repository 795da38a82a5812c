// Replication steps shared by start, promote and notify: who is primary, pointing this server at
// it, and waiting until everything received has been applied.
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { isIP } from 'node:net';
import { sleep } from '../../lib/deadline.ts';
import { run, type Runner } from '../../lib/exec.ts';
import { semisyncPlan } from '../../lib/mysql/semisync.ts';
import { setGlobal, type Setting } from '../../lib/mysql/sql/types.ts';
import { gtidFamily, unapplied, type Errant } from '../../lib/mysql/position.ts';
import {
  hasPending, parsePositionsRow, parseReplicaStatus, parseState, statusMap, type ReplicaStatus, type ServerState,
} from '../../lib/mysql/status.ts';
import { gradeConsistency, gradeReplica, promotionScore, scoreValue, trackPending, type Assessment } from '../../lib/mysql/health.ts';
import { compareWithPrimary, consistencyDue, ownWrites, type ConsistencyVerdict } from '../../lib/mysql/consistency.ts';
import { parseNodeMap } from './peers.ts';
import {
  addressOf, clusterTools, loadState, localNode, publish, replicationPassword, saveState, withRemote, type Ctx, type LocalSession,
} from './context.ts';
import { readHoldings } from './holdings.ts';
import { registerReplica } from './lineage.ts';

export async function readStatus(s: LocalSession): Promise<ReplicaStatus | undefined> {
  return parseReplicaStatus(await s.db.query(s.sql.replicaStatus));
}

export async function readState(s: LocalSession): Promise<ServerState> {
  const [row] = await s.db.query(s.sql.state);
  return parseState(row);
}

/**
 * The node whose instance is promoted, from the cluster, never guessed: the notification's
 * promoted list when we are in a notify, else `crm_resource --locate`. Undefined when none (or
 * only ourselves).
 */
export async function findPrimary(ctx: Ctx, self: string | undefined): Promise<{ node?: string; how: string }> {
  const n = ctx.notify;
  if (n) {
    const fromNotify = [...n.promote, ...n.promoted].map((i) => i.uname).filter((u) => u && u !== self);
    const demoted = new Set(n.demote.map((i) => i.uname));
    const node = fromNotify.find((u) => !(n.type === 'post' && demoted.has(u) && !n.promote.some((p) => p.uname === u)));
    return { node, how: 'notification' };
  }
  const r = await clusterTools(ctx).promotedNodes();
  if (!r.ok) return { how: `crm_resource failed: ${r.reason}` };
  return { node: r.value!.find((u) => u !== self), how: 'crm_resource --locate' };
}

/**
 * Bring the semi-sync variables to `wanted`, changing only those that differ (statusMap of
 * SHOW VARIABLES). Turning it off where the server lacks it (MySQL without the plugins) is a no-op.
 */
export async function applySemisync(ctx: Ctx, s: LocalSession, wanted: readonly Setting[], enabled: boolean): Promise<void> {
  const plan = semisyncPlan(statusMap(await s.db.query(s.sql.semisyncVariables)), wanted);
  if (plan.missing.length) {
    throw new OcfError(OCF.ERR_GENERIC, `cannot enable semi-synchronous replication: the server has no ${plan.missing.join(', ')}${
      s.sql.name !== 'mariadb' ? ' (load the semisync_source and semisync_replica plugins in the option file)' : ''}`);
  }
  for (const v of plan.set) {
    try { await s.db.exec(setGlobal(v)); } catch (e) {
      throw new OcfError(OCF.ERR_GENERIC, `cannot ${enabled ? 'enable' : 'disable'} semi-synchronous replication (${v.name}): ${(e as Error).message}`);
    }
  }
  if (plan.set.length) ctx.log.debug(`semi-sync: ${plan.set.map((v) => `${v.name}=${v.value}`).join(', ')}`);
}

export type JoinOutcome =
  | { outcome: 'unchanged' | 'configured' }
  /** This server holds transactions the primary lacks: it was not pointed at it. */
  | { outcome: 'errant'; errant: Errant }
  /** The primary could not be asked what it holds: not pointed at it yet (a later monitor retries). */
  | { outcome: 'unverified'; why: string };

export type PrimaryAnswer =
  | { outcome: 'compared'; verdict: ConsistencyVerdict }
  | { outcome: 'unverified'; why: string; readOnly?: boolean };

/** Both threads running, nothing received left to apply, no lag. */
export const caughtUp = (st: ReplicaStatus | undefined): boolean =>
  !!st && st.io === 'running' && st.sqlRunning && !hasPending(st) && st.secondsBehind === 0;

/**
 * Compare what this server holds with what `node`'s server (which must be the primary) holds: the
 * check before a replica is pointed at the primary and the one its monitor repeats while it
 * follows it. This server is read first and the primary after it: a replica receiving while it
 * is compared holds, by then, only what the primary already held; read the other way round, the
 * commits it received in between looked errant (seen in the lab under writes: replicas graded FAIL
 * for a monitor interval, unpromotable in an election held then). Any failure to ask (unreachable,
 * refused login, another flavour) is "unverified".
 */
export async function askPrimary(ctx: Ctx, s: LocalSession, node: string): Promise<PrimaryAnswer> {
  const addr = addressOf(ctx, node);
  try {
    const [mine, me] = await Promise.all([readHoldings(s), readState(s)]);
    const theirs = await withRemote(ctx, node, async (r) => {
      const [h, state] = await Promise.all([readHoldings(r), readState(r)]);
      return { h, state };
    });
    // Only a writable server is the primary. Pacemaker sends post-promote (and post-start) even
    // when the promotion failed, for instance a candidate that gave way in the election: compared
    // with that candidate, which lacks what the better replicas hold, they would record errant
    // transactions, grade themselves FAIL and leave the behind candidate as the only promotable
    // node (seen in the lab: 194 commits lost).
    if (theirs.h.row.readOnly || theirs.h.row.superReadOnly) {
      return { outcome: 'unverified', readOnly: true, why: `${node} is read-only: not the primary (its promotion failed or has not happened yet)` };
    }
    return {
      outcome: 'compared',
      verdict: compareWithPrimary({
        family: mine.family, local: mine.history, primary: theirs.h.history, serverId: me.serverId,
        primaryUuid: theirs.state.serverUuid, caughtUp: caughtUp(mine.status),
      }),
    };
  } catch (e) {
    if (e instanceof OcfError && e.code !== OCF.ERR_GENERIC) throw e;
    return { outcome: 'unverified', why: `cannot ask ${node} (${addr.host}:${addr.port}) what it holds: ${(e as Error).message}` };
  }
}

/**
 * Replicate from `node` with GTID auto-positioning, but only if this server holds nothing that
 * `node` lacks: a former primary with unreplicated writes must not be silently merged into the new
 * history (MySQL would keep them as a divergence, MariaDB would stop with error 1236). Nothing is
 * changed on either server unless the check passes. Idempotent: a replica already reading from that
 * address with both threads running is left alone.
 */
export async function replicateFrom(ctx: Ctx, s: LocalSession, node: string, opts: { registered?: boolean } = {}): Promise<JoinOutcome> {
  const addr = addressOf(ctx, node);
  const cur = await readStatus(s);
  if (cur && cur.sourceHost === addr.host && cur.sourcePort === addr.port && cur.io !== 'stopped' && cur.sqlRunning) {
    return { outcome: 'unchanged' };
  }
  const asked = await askPrimary(ctx, s, node);
  if (asked.outcome === 'unverified') {
    ctx.log[asked.readOnly ? 'info' : 'warn'](`${asked.why}; not replicating from it${asked.readOnly ? '' : ' until that check can be made'}`);
    return { outcome: 'unverified', why: asked.why };
  }
  const errant = asked.verdict.errant;
  if (errant) {
    ctx.log.error(`errant transactions: this server holds ${errant.text}, which ${node} (the primary) lacks; not replicating from it (nothing was changed on either server)`);
    return { outcome: 'errant', errant };
  }
  const p = ctx.params;
  const tls = p.replication_require_ssl ? {
    ca: p.replication_ssl_ca || undefined, cert: p.replication_ssl_cert || undefined, key: p.replication_ssl_key || undefined,
  } : undefined;
  // Counted among the primary's replicas before it can acknowledge anything (see lineage.ts).
  if (!opts.registered) {
    const why = await registerReplica(ctx, await localNode(ctx), node);
    if (why) { ctx.log.warn(`${why}; not replicating from ${node} until it can`); return { outcome: 'unverified', why }; }
  }
  await stopReceiving(s); // the old source may be gone: see stopReceiving
  await s.db.exec(s.sql.stopReplica);
  // The replica side of semi-sync takes effect when the IO thread starts.
  await applySemisync(ctx, s, s.sql.semisyncReplica(p.semisync), p.semisync);
  await s.db.exec(s.sql.changeSource({
    host: addr.host, port: addr.port, user: p.replication_user, password: replicationPassword(ctx), tls,
  }));
  await s.db.exec(s.sql.startReplica);
  ctx.log.info(`replicating from ${node} (${addr.host}:${addr.port}) with GTID auto-positioning${p.semisync ? ', semi-synchronous' : ''}`);
  return { outcome: 'configured' };
}

/**
 * After a notification or a monitor tried to follow the primary: remember errant transactions (the
 * replica grades FAIL and is never promoted while they stand), forget them once a join succeeded
 * (it compared the histories; "unchanged" compared nothing, so what the monitor found stands), and
 * publish the grade that follows.
 */
export async function recordJoin(ctx: Ctx, s: LocalSession, j: JoinOutcome): Promise<void> {
  const st = loadState(ctx);
  let { errant, missing, consistency } = st;
  if (j.outcome === 'errant') errant = j.errant.text;
  else if (j.outcome === 'configured') { errant = undefined; missing = undefined; consistency = undefined; }
  if (errant === st.errant && j.outcome !== 'configured') return;
  const r = assess(ctx, await readStatus(s), st.pendingSince, Date.now(), errant, missing);
  saveState(ctx, { ...st, errant, missing, consistency, pendingSince: r.pendingSince });
  await publish(ctx, { score: r.score, grade: r.a.grade, lag: r.a.lag === null ? null : String(r.a.lag), errant: errant ?? null });
}

/** The cluster node whose server listens at host:port (node_map, else the host is the node name). */
export function nodeAt(ctx: Ctx, host: string, port: number): string | undefined {
  for (const n of parseNodeMap(ctx.params.node_map).map.keys()) {
    const a = addressOf(ctx, n);
    if (a.host === host && a.port === port) return n;
  }
  return port === ctx.params.replication_port && host ? host : undefined;
}

/**
 * Seed 000's "check regularly that there are no unexpected writes on replicas", on every monitor
 * of a replica receiving from its source. Cheap first: what this server wrote itself (one query,
 * lib/mysql/consistency.ts ownWrites) against the last settled comparison; the primary is asked
 * (askPrimary, bounded by peer_timeout) only when that changed, the source changed, something was
 * found before, or the comparison is a minute old. What it finds is kept in the state (promote
 * refuses errant transactions, pre-promote publishes such a node as not promotable), logged with
 * the transaction ids, and returned for the grade.
 */
export async function checkConsistency(ctx: Ctx, s: LocalSession, state: ServerState, status: ReplicaStatus | undefined): Promise<{ errant?: string; missing?: string }> {
  const st = loadState(ctx);
  const kept = { errant: st.errant, missing: st.missing };
  // Not receiving: there is no primary to compare with now (followIfAdrift handles a replica adrift).
  if (!status || status.io !== 'running') return kept;
  const [row] = await s.db.query(s.sql.positions);
  const pos = parsePositionsRow(row);
  const own = ownWrites(gtidFamily(s.sql.name), {
    binlogState: pos.binlogState, executed: pos.executed, sourceServerId: status.sourceServerId, serverUuid: state.serverUuid,
  });
  const source = `${status.sourceHost}:${status.sourcePort}`;
  const now = Date.now();
  if (!consistencyDue(st.consistency, { ownWrites: own, source, at: now, flagged: !!(st.errant || st.missing) })) return kept;
  const node = nodeAt(ctx, status.sourceHost, status.sourcePort);
  if (!node) {
    ctx.log.debug(`the source ${source} is no node of node_map: not compared with it`);
    return kept;
  }
  const asked = await askPrimary(ctx, s, node);
  if (asked.outcome === 'unverified') {
    ctx.log.info(`cannot check this replica against the primary: ${asked.why}`);
    return kept;
  }
  ctx.log.debug(`compared with ${node}'s server in ${Date.now() - now} ms`);
  const errant = asked.verdict.errant?.text;
  const missing = asked.verdict.missing?.text;
  if (errant && errant !== st.errant) {
    ctx.log.error(`errant transactions on this replica: ${errant}, which ${node} (the primary) lacks: somebody wrote here past read_only (an account with SUPER or READ_ONLY ADMIN, or a statement a replica logs itself); not promotable until they are removed or this node is rebuilt (docs/mysql.md)`);
  } else if (!errant && st.errant) {
    ctx.log.info(`the errant transactions ${st.errant} are gone (${node} holds everything this replica holds)`);
  }
  if (missing && missing !== st.missing) {
    ctx.log.warn(`missing transactions on this replica: ${node} (the primary) holds ${missing}, which this replica went past without applying; a replica skips events carrying its own server_id (${state.serverId}): rebuild it with a new server_id (docs/mysql.md)`);
  }
  saveState(ctx, { ...loadState(ctx), errant, missing, consistency: asked.verdict.settled ? { ownWrites: own, source, at: now } : undefined });
  return { errant, missing };
}

/**
 * Pointed at the primary but not replicating, with no error to show for it: the IO thread stopped
 * cleanly (a promotion that failed after its catch-up stopped it, a STOP SLAVE by hand) and nothing
 * would ever start it again, while such a replica grades OK with no lag. A thread stopped by an
 * error is left as it is: it is graded, and restarting it would hide the error.
 */
export function stoppedQuietly(s: ReplicaStatus): boolean {
  return s.io === 'stopped' && s.ioErrno === 0 && s.sqlErrno === 0;
}

/**
 * A replica that follows nobody, cannot reach its source, or follows the primary with replication
 * stopped without an error, looks up the primary (only then: it costs a cluster tool) and follows
 * it if its history allows. Heals a start or a repoint that could not check the primary at the
 * time, and a promotion that failed after its catch-up. Returns whether replication was
 * (re)configured.
 */
export async function followIfAdrift(ctx: Ctx, s: LocalSession, status: ReplicaStatus | undefined): Promise<boolean> {
  const self = await localNode(ctx);
  const { node } = await findPrimary(ctx, self);
  if (!node) return false;
  const addr = addressOf(ctx, node);
  if (status && status.sourceHost === addr.host && status.sourcePort === addr.port) {
    if (!stoppedQuietly(status)) return false;
    ctx.log.warn(`replication from ${node} is stopped without an error; starting it again`);
  }
  const j = await replicateFrom(ctx, s, node);
  await recordJoin(ctx, s, j);
  return j.outcome === 'configured';
}

/** The reason a start or a report gives for errant transactions. */
export function errantReason(self: string | undefined, primary: string, e: Errant): string {
  return `errant transactions on ${self ?? 'this node'}: ${e.text} (not on ${primary}, the primary); not joining it as a replica, nothing was changed on either server. List them with validate-all at OCF_CHECK_LEVEL=20, then remove them or rebuild this node from ${primary}`;
}

/** Point this server at the cluster's primary, if there is one and it is not us. */
export async function followPrimary(ctx: Ctx, s: LocalSession): Promise<{ node?: string; join?: JoinOutcome }> {
  const self = await localNode(ctx);
  const { node, how } = await findPrimary(ctx, self);
  if (!node) {
    ctx.log.info(`no promoted instance found (${how}); staying an unconfigured read-only replica`);
    return {};
  }
  return { node, join: await replicateFrom(ctx, s, node) };
}

/**
 * Catch-up before a promotion: stop receiving, then wait until the SQL thread has applied
 * everything the IO thread received, within the deadline less `reserveMs` (kept for the steps
 * after). A stopped applier is started first, while the IO thread still runs: MariaDB in GTID mode
 * throws its relay log away when a thread starts with both stopped. Fails, leaving the server
 * read-only, when the SQL thread stops with an error or time runs out.
 */
export async function catchUp(ctx: Ctx, s: LocalSession, reserveMs: number): Promise<void> {
  const st = await readStatus(s);
  if (!st) return;
  if (!st.sqlRunning && st.sqlErrno === 0 && st.io !== 'stopped') {
    ctx.log.info('SQL thread was stopped with events pending; starting it to catch up');
    await s.db.exec(s.sql.startReplicaSql);
  }
  await stopReceiving(s);
  await waitApplied(ctx, s, reserveMs);
}

/**
 * STOP ... IO_THREAD, after ending the IO thread's session. With a source that is gone (a node
 * powered off or cut off), a plain stop waits 1-2 s for the thread to notice; with the session
 * killed first it takes about 30 ms (lab, MariaDB 10.11). Either way the thread stops between
 * reads, so what the relay log holds is the same. Failing to list or kill only costs the slow stop.
 *
 * `gone`: the source's address when it is known to have left the cluster. A semi-sync replica's
 * stopping IO thread then still tries to log in to it to end its dump thread, and waits for the
 * TCP connect until rpl_semi_sync_slave_kill_conn_timeout (1 s as the agent sets it, even with
 * semi-sync switched off first). While the STOP runs, that half-open connection to the gone source
 * is destroyed (ss -K, SYN-SENT sockets to its address and port only): 73 ms instead of 1 s.
 */
export async function stopReceiving(s: LocalSession, gone?: { host: string; port: number }, runner: Runner = run): Promise<void> {
  const rows = await s.db.query(s.sql.replicaIoSessions).catch(() => []);
  // More than one receiver means other (named, multi-source) replication channels that are not
  // ours to interrupt, and the session list does not say which is which: plain STOP then.
  const id = rows.length === 1 ? Number(rows[0]!.id) : NaN;
  if (Number.isInteger(id) && id > 0) await s.db.exec(s.sql.kill(id)).catch(() => undefined);
  const family = gone ? isIP(gone.host) : 0;
  if (!gone || family === 0) { await s.db.exec(s.sql.stopReplicaIo); return; }
  let done = false;
  const stopped = s.db.exec(s.sql.stopReplicaIo).finally(() => { done = true; });
  const dst = family === 6 ? `[${gone.host}]` : gone.host;
  while (!done) {
    await Promise.race([stopped.catch(() => undefined), sleep(30)]);
    if (done) break;
    await runner('ss', ['-K', '-n', '-t', 'state', 'syn-sent', 'dst', dst, 'dport', '=', `:${gone.port}`], { timeoutMs: 1000 });
  }
  await stopped;
}

async function waitApplied(ctx: Ctx, s: LocalSession, reserveMs: number): Promise<void> {
  const family = gtidFamily(s.sql.name);
  let restarted = false;
  for (;;) {
    const [st, [row]] = await Promise.all([readStatus(s), s.db.query(s.sql.positions)]);
    if (!st || !unapplied(family, st, parsePositionsRow(row).executed)) return;
    if (!st.sqlRunning) {
      if (st.sqlErrno !== 0) {
        throw new OcfError(OCF.ERR_GENERIC, `not promotable: the SQL thread stopped with error ${st.sqlErrno} (${st.sqlError}) before applying everything received`);
      }
      if (!restarted) {
        // Both threads are stopped (someone stopped the whole replica): resume the applier from its
        // own relay-log position so nothing received is thrown away.
        ctx.log.info(`SQL thread was stopped with events pending; resuming it from ${st.relayFile}:${st.relayPos} to catch up`);
        for (const q of s.sql.keepRelayLog(st.relayFile, st.relayPos)) await s.db.exec(q);
        await s.db.exec(s.sql.startReplicaSql);
        restarted = true;
      }
    }
    if (ctx.deadline.remaining() <= reserveMs) {
      throw new OcfError(OCF.ERR_GENERIC, `not promoted: events received from ${st.sourceHost} were still being applied (${st.execFile}:${st.execPos} of ${st.readFile}:${st.readPos}${st.retrievedGtid ? `, received ${st.retrievedGtid}` : ''}) when the promote timeout ran out; the server stays read-only`);
    }
    await sleep(Math.min(20, ctx.deadline.remaining() - reserveMs), ctx.signal);
  }
}

/**
 * Grade this replica now, given the pending-since bookkeeping; returns assessment and score. A
 * server found holding errant transactions grades FAIL, one missing transactions CRITICAL
 * (gradeConsistency).
 */
export function assess(ctx: Ctx, status: ReplicaStatus | undefined, pendingSince: number | undefined, now = Date.now(), errant?: string, missing?: string): {
  a: Assessment; score: string; pendingSince: number | undefined;
} {
  const t = trackPending(status, pendingSince, now);
  const p = ctx.params;
  let a = gradeReplica({ status, pendingForSeconds: t.pendingForSeconds },
    { info: p.lag_info, warn: p.lag_warn, critical: p.lag_critical, fail: p.lag_fail });
  a = gradeConsistency(a, { errant, missing });
  return { a, score: scoreValue(promotionScore(a)), pendingSince: t.since };
}
