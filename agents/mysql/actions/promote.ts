// promote: the election (unless the primary recovers where it ran), then catch-up (stop receiving,
// apply everything received, bounded by the deadline) alongside the writable-peer guard, a second
// look at the election with what was actually applied, and only then forget the source and become
// writable. Every refusal leaves the server read-only and fails the promotion (rc 1) with the
// reason: Pacemaker plans again.
import { OCF, OcfError, type OcfCode } from '../../../lib/ocf/codes.ts';
import { PRIMARY_SCORE, scoreValue } from '../../../lib/mysql/health.ts';
import type { Contender } from '../../../lib/mysql/election.ts';
import { formatPosition, gtidFamily } from '../../../lib/mysql/position.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { loadState, localNode, publish, RECORD_TTL_MS, saveState, withLocal, type Ctx } from '../context.ts';
import { holdElection, recheckElection } from '../election.ts';
import { guardWritablePeers } from '../guard.ts';
import { readHoldings } from '../holdings.ts';
import { applySemisync, catchUp, readState, readStatus } from '../replication.ts';

/** Settle both, then throw the first failure (so no rejection is left unhandled). */
async function both(a: Promise<unknown>, b: Promise<unknown>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
}

export async function promote(ctx: Ctx): Promise<OcfCode> {
  const p = ctx.params;
  if (!findServer(p.pid, p.binary || 'mariadbd', p.datadir)) throw new OcfError(OCF.ERR_GENERIC, 'cannot promote: the server is not running');
  const self = await localNode(ctx);
  const st = loadState(ctx);
  const rec = st.election && Date.now() - st.election.at < RECORD_TTL_MS ? st.election : undefined;
  await withLocal(ctx, async (s) => {
    const status = await readStatus(s);
    if (status && !status.sqlRunning && status.sqlErrno !== 0) {
      throw new OcfError(OCF.ERR_GENERIC, `not promotable: the SQL thread stopped with error ${status.sqlErrno} (${status.sqlError})`);
    }
    if (st.errant) throw new OcfError(OCF.ERR_GENERIC, `not promotable: this server holds errant transactions ${st.errant} that the last primary lacked`);
    const family = gtidFamily(s.sql.name);
    let peers: Contender[] | undefined;
    if (!rec) {
      ctx.log.warn('no pre-promote notification was recorded for this promotion (the clone needs notify=true): promoting without an election');
    } else if (rec.recover) {
      ctx.log.info('the promoted instance recovers where it ran: no election');
    } else if (!self) {
      throw new OcfError(OCF.ERR_GENERIC, 'not promoted: this node\'s name is unknown, so the election cannot run');
    } else {
      const h = await readHoldings(s);
      peers = await holdElection(ctx, family, self, rec, formatPosition(h.position), Math.min(10_000, Math.floor(ctx.deadline.remaining() / 3)));
    }

    // Catch-up and the guard run side by side; the guard uses its own connections.
    // Keep a second for the statements that follow.
    await both(catchUp(ctx, s, 1000), guardWritablePeers(ctx, self, rec));

    if (peers && self && status) {
      // A transaction received only in part cannot be applied: look again with what was applied.
      await recheckElection(ctx, family, self, peers, formatPosition((await readHoldings(s)).applied));
    }
    if (status) {
      await s.db.exec(s.sql.stopReplica);
      await s.db.exec(s.sql.resetReplicaAll);
      ctx.log.info(`applied everything received from ${status.sourceHost}:${status.sourcePort}; replication configuration cleared`);
    }
    await applySemisync(ctx, s, s.sql.semisyncPrimary(p.semisync, p.semisync_timeout), p.semisync);
    for (const q of s.sql.writable) await s.db.exec(q);
    const now = await readState(s);
    if (now.readOnly || now.superReadOnly) throw new OcfError(OCF.ERR_GENERIC, 'the server is still read-only after promotion');
  });
  saveState(ctx, { ...loadState(ctx), promoted: true, pendingSince: undefined, election: undefined, switchover: undefined, errant: undefined });
  await publish(ctx, { score: scoreValue(PRIMARY_SCORE), grade: 'OK', lag: '0' });
  ctx.log.info(`promoted: the server is writable${p.semisync ? ' (semi-synchronous primary)' : ''} (${ctx.deadline.elapsed()} ms)`);
  return OCF.SUCCESS;
}
