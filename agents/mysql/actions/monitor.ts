// monitor: the server's true role, from the server itself.
//   probe (interval 0): stopped 7, writable 8, read-only 0 (1 if it runs but does not answer);
//   recurring, promoted instance: 8 when writable and answering, 9 otherwise (dead, hung, read-only);
//   recurring, replica: 7 when stopped, else 0 after grading its replication health and checking
//   it holds nothing the primary lacks (checkConsistency), publishing grade, lag, errant
//   transactions and promotion score (only what changed).
// OCF_CHECK_LEVEL 10 adds a real read of test_table.
import { OCF, OcfError, type OcfCode } from '../../../lib/ocf/codes.ts';
import { PRIMARY_SCORE, scoreValue } from '../../../lib/mysql/health.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import type { Protection } from '../../../lib/mysql/lineage.ts';
import { parseSemisyncStatus } from '../../../lib/mysql/semisync.ts';
import { statusMap, type ReplicaStatus } from '../../../lib/mysql/status.ts';
import { loadState, localNode, openLocal, publish, saveState, type AgentState, type Ctx, type LocalSession } from '../context.ts';
import { keepRecord, registerReplica } from '../lineage.ts';
import { writeAddress } from '../write-address.ts';
import { assess, checkConsistency, followIfAdrift, nodeAt, readState, readStatus } from '../replication.ts';

/**
 * Is this instance promoted as far as Pacemaker is concerned? The role of the recurring monitor
 * operation says so when Pacemaker passes it; otherwise what promote/demote (and the last probe)
 * recorded.
 */
function believedPromoted(ctx: Ctx, promotedMarker: boolean | undefined): boolean {
  const role = ctx.meta('role');
  if (role === 'Promoted' || role === 'Master') return true;
  if (role === 'Unpromoted' || role === 'Slave') return false;
  return promotedMarker === true;
}

async function readTestTable(ctx: Ctx, s: LocalSession): Promise<void> {
  const [schema, table] = ctx.params.test_table.split('.');
  await s.db.query({ sql: 'SELECT 1 FROM ??.?? LIMIT 1', values: [schema, table] });
}

/**
 * The record of this primary's promotion stays in the CIB (keepRecord), with its protection: a
 * semi-sync primary whose replicas stop acknowledging carries on asynchronously after
 * semisync_timeout, and its acknowledged commits may then exist nowhere else; recorded, a failover
 * after losing it refuses instead of promoting a replica without them.
 */
async function keepRecordCurrent(ctx: Ctx, s: LocalSession, st: AgentState): Promise<void> {
  const protection: Protection | undefined = !ctx.params.semisync ? undefined
    : parseSemisyncStatus(statusMap(await s.db.query(s.sql.semisyncStatus))).primaryActive ? 'sync' : 'async';
  // The CIB is asked when the protection changed, and otherwise once a minute (a dropped record is
  // rare; a steady monitor runs no cluster tool in between).
  const changed = protection !== undefined && st.lineage !== undefined && st.lineage.protection !== 'off' && protection !== st.lineage.protection;
  if (!changed && st.recordCheckedAt !== undefined && Date.now() - st.recordCheckedAt < RECORD_CHECK_MS) return;
  const rec = await keepRecord(ctx, await localNode(ctx), st.lineage, protection);
  const mine = rec && rec.primary === st.lineage?.primary ? rec : st.lineage;
  saveState(ctx, { ...loadState(ctx), lineage: mine, recordCheckedAt: Date.now() });
}

const RECORD_CHECK_MS = 60_000;

/** A replica counted among its primary's replicas in the CIB: checked once a minute (see keepRecord). */
async function keepRegistered(ctx: Ctx, status: ReplicaStatus | undefined, st: AgentState): Promise<void> {
  if (!status || status.io !== 'running' || (st.registeredAt !== undefined && Date.now() - st.registeredAt < 60_000)) return;
  const primary = nodeAt(ctx, status.sourceHost, status.sourcePort);
  if (!primary) return;
  const why = await registerReplica(ctx, await localNode(ctx), primary);
  if (why) ctx.log.warn(why);
  else saveState(ctx, { ...loadState(ctx), registeredAt: Date.now() });
}

/** The primary holds its write address: taken again (after the probe) if something removed it. */
async function keepWriteAddress(ctx: Ctx): Promise<void> {
  const a = writeAddress(ctx);
  if (!a || (await a.held(ctx.checkLevel))) return;
  ctx.log.warn(`the write address ${ctx.params.write_ip} was not on this node: taking it again`);
  await a.take();
}

export async function monitor(ctx: Ctx): Promise<OcfCode> {
  const p = ctx.params;
  const st = loadState(ctx);
  const promoted = !ctx.isProbe && believedPromoted(ctx, st.promoted);
  const brokenPrimary = (why: string) => new OcfError(OCF.FAILED_PROMOTED, `promoted instance is broken: ${why}`);

  const proc = findServer(p.pid, p.binary || 'mariadbd', p.datadir);
  if (!proc) {
    if (promoted) throw brokenPrimary('the server is not running');
    return OCF.NOT_RUNNING;
  }
  let s: LocalSession;
  try {
    s = await openLocal(ctx, 5000);
  } catch (e) {
    if (e instanceof OcfError) throw e;
    const why = `server pid ${proc.pid}${proc.frozen ? ' (frozen)' : ''} does not answer: ${(e as Error).message}`;
    if (promoted) throw brokenPrimary(why);
    throw new OcfError(OCF.ERR_GENERIC, why);
  }
  try {
    const state = await readState(s);
    const writable = !state.readOnly && !state.superReadOnly;
    if (writable) {
      if (ctx.checkLevel >= 10) {
        try { await readTestTable(ctx, s); } catch (e) {
          throw promoted ? brokenPrimary(`cannot read ${p.test_table}: ${(e as Error).message}`)
            : new OcfError(OCF.ERR_GENERIC, `cannot read ${p.test_table}: ${(e as Error).message}`);
        }
      }
      // What a probe reports is what Pacemaker will believe: keep the marker in step.
      if (ctx.isProbe && !st.promoted) saveState(ctx, { ...st, promoted: true });
      if (!promoted && !ctx.isProbe) ctx.log.error('the server is writable but this instance is not promoted');
      if (promoted) {
        await Promise.all([publish(ctx, { score: scoreValue(PRIMARY_SCORE), grade: 'OK', lag: '0' }), keepRecordCurrent(ctx, s, st),
          keepWriteAddress(ctx).catch((e: Error) => { throw brokenPrimary(`its write address: ${e.message}`); })]);
      }
      return OCF.RUNNING_PROMOTED;
    }
    if (promoted) throw brokenPrimary('the server is read-only');
    // A read-only server never answers for the write address (a demote that failed half-way). The
    // kernel's interface list is read in-process: a steady replica runs no program for this.
    const wa = ctx.isProbe ? undefined : writeAddress(ctx);
    if (wa?.presentHere() && (await wa.release())) ctx.log.warn(`this replica held the write address ${p.write_ip}: released`);
    let status = await readStatus(s);
    if (!ctx.isProbe && (!status || status.io !== 'running') && (await followIfAdrift(ctx, s, status))) status = await readStatus(s);
    const [c] = await Promise.all([checkConsistency(ctx, s, state, status), ctx.isProbe ? undefined : keepRegistered(ctx, status, st)]);
    const r = assess(ctx, status, st.pendingSince, Date.now(), c.errant, c.missing);
    const wasPromoted = ctx.isProbe && st.promoted === true;
    if (r.pendingSince !== st.pendingSince || wasPromoted) saveState(ctx, { ...loadState(ctx), promoted: false, pendingSince: r.pendingSince });
    if (r.a.grade !== 'OK') ctx.log.info(`replica graded ${r.a.grade}: ${r.a.reasons.join('; ')}`);
    if (ctx.checkLevel >= 10) {
      try { await readTestTable(ctx, s); } catch (e) {
        throw new OcfError(OCF.ERR_GENERIC, `cannot read ${p.test_table}: ${(e as Error).message}`);
      }
    }
    await publish(ctx, { score: r.score, grade: r.a.grade, lag: r.a.lag === null ? null : String(r.a.lag), errant: c.errant ?? null });
    return OCF.SUCCESS;
  } catch (e) {
    if (e instanceof OcfError) throw e;
    const why = `server pid ${proc.pid} failed a query: ${(e as Error).message}`;
    throw promoted ? brokenPrimary(why) : new OcfError(OCF.ERR_GENERIC, why);
  } finally {
    await s.db.close();
  }
}
