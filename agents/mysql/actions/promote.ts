// promote: stop receiving, apply everything received (bounded by the deadline), forget the
// source, become writable, and publish the primary's score. If catching up fails or runs out of
// time, the server stays read-only and the promotion fails: Pacemaker picks again.
import { OCF, OcfError, type OcfCode } from '../../../lib/ocf/codes.ts';
import { PRIMARY_SCORE, scoreValue } from '../../../lib/mysql/health.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { loadState, publish, saveState, withLocal, type Ctx } from '../context.ts';
import { readState, readStatus, waitApplied } from '../replication.ts';

export async function promote(ctx: Ctx): Promise<OcfCode> {
  const p = ctx.params;
  if (!findServer(p.pid, p.binary || 'mariadbd')) throw new OcfError(OCF.ERR_GENERIC, 'cannot promote: the server is not running');
  await withLocal(ctx, async (s) => {
    const status = await readStatus(s);
    if (status) {
      if (!status.sqlRunning && status.sqlErrno !== 0) {
        throw new OcfError(OCF.ERR_GENERIC, `not promotable: the SQL thread stopped with error ${status.sqlErrno} (${status.sqlError})`);
      }
      await s.db.exec(s.sql.stopReplicaIo);
      // Keep a second for the statements that follow.
      await waitApplied(ctx, s, 1000);
      await s.db.exec(s.sql.stopReplica);
      await s.db.exec(s.sql.resetReplicaAll);
      ctx.log.info(`applied everything received from ${status.sourceHost}:${status.sourcePort}; replication configuration cleared`);
    }
    for (const q of s.sql.writable) await s.db.exec(q);
    const st = await readState(s);
    if (st.readOnly || st.superReadOnly) throw new OcfError(OCF.ERR_GENERIC, 'the server is still read-only after promotion');
  });
  saveState(ctx, { ...loadState(ctx), promoted: true, pendingSince: undefined });
  await publish(ctx, { score: scoreValue(PRIMARY_SCORE), grade: 'OK', lag: '0' });
  ctx.log.info(`promoted: the server is writable (${ctx.deadline.elapsed()} ms)`);
  return OCF.SUCCESS;
}
