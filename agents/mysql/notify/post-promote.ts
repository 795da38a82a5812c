// post-promote: a new primary exists. Every node withdraws its election publication and forgets the
// election record; every other running instance repoints to the new primary with GTID
// auto-positioning (MariaDB current_pos, MySQL SOURCE_AUTO_POSITION), unless it holds transactions
// the new primary lacks: then it is left as it is, graded FAIL, and the reason logged.
import { OCF, type OcfCode } from '../../../lib/ocf/codes.ts';
import { electorate } from '../../../lib/mysql/election.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { localNode, loadState, saveState, withLocal, type Ctx } from '../context.ts';
import { withdrawPosition } from '../election.ts';
import { recordJoin, replicateFrom } from '../replication.ts';

export async function postPromote(ctx: Ctx): Promise<OcfCode> {
  const n = ctx.notify!;
  const self = await localNode(ctx);
  const st = loadState(ctx);
  if (st.election) saveState(ctx, { ...st, election: undefined });
  const primary = n.promote.map((i) => i.uname).find(Boolean);
  const repoint = async () => {
    if (!primary || primary === self) return;
    if (!findServer(ctx.params.pid, ctx.params.binary || 'mariadbd', ctx.params.datadir)) return;
    try {
      // The record of this promotion already counts every instance of its electorate as a replica.
      const registered = !!self && electorate(n).includes(self);
      await withLocal(ctx, async (s) => recordJoin(ctx, s, await replicateFrom(ctx, s, primary, { registered })));
    } catch (e) {
      // A notification's result changes nothing in Pacemaker: say why, and leave the retry to the
      // next monitor (a replica not following the primary looks it up and follows it).
      ctx.log.warn(`post-promote: could not repoint this server to ${primary}: ${(e as Error).message}; the next monitor retries`);
    }
  };
  // Repointing first matters: a semi-sync primary's first commits wait for a replica to connect.
  await Promise.all([repoint(), withdrawPosition(ctx)]);
  return OCF.SUCCESS;
}
