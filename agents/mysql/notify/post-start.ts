// post-start: an instance that started while no primary could be located (or before the
// cluster showed it) joins the primary named by the notification. Replicas already reading from
// it are left alone.
import { OCF, type OcfCode } from '../../../lib/ocf/codes.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { localNode, loadState, withLocal, type Ctx } from '../context.ts';
import { findPrimary, readStatus, recordJoin, replicateFrom } from '../replication.ts';

export async function postStart(ctx: Ctx): Promise<OcfCode> {
  const self = await localNode(ctx);
  if (!ctx.notify!.start.some((i) => i.uname === self)) return OCF.SUCCESS;
  if (loadState(ctx).promoted) return OCF.SUCCESS;
  if (!findServer(ctx.params.pid, ctx.params.binary || 'mariadbd', ctx.params.datadir)) return OCF.SUCCESS;
  const { node } = await findPrimary(ctx, self);
  if (!node) return OCF.SUCCESS;
  try {
    await withLocal(ctx, async (s) => {
      if (!(await readStatus(s))) await recordJoin(ctx, s, await replicateFrom(ctx, s, node));
    });
  } catch (e) {
    // A notification's result changes nothing in Pacemaker: say why; the next monitor retries.
    ctx.log.warn(`post-start: could not make this server replicate from ${node}: ${(e as Error).message}; the next monitor retries`);
  }
  return OCF.SUCCESS;
}
