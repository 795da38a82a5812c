// Replication steps shared by start, promote and notify: who is primary, pointing this server at
// it, and waiting until everything received has been applied.
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { sleep } from '../../lib/deadline.ts';
import { hasPending, parseReplicaStatus, parseState, type ReplicaStatus, type ServerState } from '../../lib/mysql/status.ts';
import { gradeReplica, promotionScore, scoreValue, trackPending, type Assessment } from '../../lib/mysql/health.ts';
import { addressOf, clusterTools, localNode, replicationPassword, type Ctx, type LocalSession } from './context.ts';

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
 * Replicate from `node` with GTID auto-positioning. Idempotent: a replica already reading from
 * that address with both threads running is left alone.
 */
export async function replicateFrom(ctx: Ctx, s: LocalSession, node: string): Promise<'unchanged' | 'configured'> {
  const addr = addressOf(ctx, node);
  const cur = await readStatus(s);
  if (cur && cur.sourceHost === addr.host && cur.sourcePort === addr.port && cur.io !== 'stopped' && cur.sqlRunning) {
    return 'unchanged';
  }
  const p = ctx.params;
  const tls = p.replication_require_ssl ? {
    ca: p.replication_ssl_ca || undefined, cert: p.replication_ssl_cert || undefined, key: p.replication_ssl_key || undefined,
  } : undefined;
  await s.db.exec(s.sql.stopReplica);
  await s.db.exec(s.sql.changeSource({
    host: addr.host, port: addr.port, user: p.replication_user, password: replicationPassword(ctx), tls,
  }));
  await s.db.exec(s.sql.startReplica);
  ctx.log.info(`replicating from ${node} (${addr.host}:${addr.port}) with GTID auto-positioning`);
  return 'configured';
}

/** Point this server at the cluster's primary, if there is one and it is not us. */
export async function followPrimary(ctx: Ctx, s: LocalSession): Promise<string | undefined> {
  const self = await localNode(ctx);
  const { node, how } = await findPrimary(ctx, self);
  if (!node) {
    ctx.log.info(`no promoted instance found (${how}); staying an unconfigured read-only replica`);
    return undefined;
  }
  await replicateFrom(ctx, s, node);
  return node;
}

/**
 * Wait until the SQL thread has applied everything the IO thread received, within the deadline
 * less `reserveMs` (kept for the steps after). Fails, leaving the server read-only, when the SQL
 * thread stops with an error or time runs out.
 */
export async function waitApplied(ctx: Ctx, s: LocalSession, reserveMs: number): Promise<void> {
  let restarted = false;
  for (;;) {
    const st = await readStatus(s);
    if (!st || !hasPending(st)) return;
    if (!st.sqlRunning) {
      if (st.sqlErrno !== 0) {
        throw new OcfError(OCF.ERR_GENERIC, `not promotable: the SQL thread stopped with error ${st.sqlErrno} (${st.sqlError}) before applying everything received`);
      }
      if (!restarted) {
        // Someone stopped the applier (maintenance, the lag test): it must run to catch up.
        ctx.log.info('SQL thread was stopped with events pending; starting it to catch up');
        await s.db.exec(s.sql.startReplicaSql);
        restarted = true;
      }
    }
    if (ctx.deadline.remaining() <= reserveMs) {
      throw new OcfError(OCF.ERR_GENERIC, `not promoted: events received from ${st.sourceHost} were still being applied (${st.execFile}:${st.execPos} of ${st.readFile}:${st.readPos}) when the promote timeout ran out; the server stays read-only`);
    }
    await sleep(Math.min(50, ctx.deadline.remaining() - reserveMs), ctx.signal);
  }
}

/** Grade this replica now, given the pending-since bookkeeping; returns assessment and score. */
export function assess(ctx: Ctx, status: ReplicaStatus | undefined, pendingSince: number | undefined, now = Date.now()): {
  a: Assessment; score: string; pendingSince: number | undefined;
} {
  const t = trackPending(status, pendingSince, now);
  const p = ctx.params;
  const a = gradeReplica({ status, pendingForSeconds: t.pendingForSeconds },
    { info: p.lag_info, warn: p.lag_warn, critical: p.lag_critical, fail: p.lag_fail });
  return { a, score: scoreValue(promotionScore(a)), pendingSince: t.since };
}
