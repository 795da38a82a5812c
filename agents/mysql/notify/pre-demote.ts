// pre-demote, on the primary about to be demoted: if the same transition promotes another node
// (a planned switchover, `pcs resource move --promoted`, or a node put in standby), remember the
// target: demote then waits until it holds every transaction this server wrote.
import { OCF, type OcfCode } from '../../../lib/ocf/codes.ts';
import { switchoverTarget } from '../../../lib/mysql/election.ts';
import { localNode, loadState, saveState, type Ctx } from '../context.ts';

export async function preDemote(ctx: Ctx): Promise<OcfCode> {
  const self = await localNode(ctx);
  if (!self || !ctx.notify!.demote.some((i) => i.uname === self)) return OCF.SUCCESS;
  const target = switchoverTarget(ctx.notify!, self);
  const st = loadState(ctx);
  if (target) {
    ctx.log.info(`pre-demote: handing the primary role over to ${target}; demote waits until it holds every transaction`);
    saveState(ctx, { ...st, switchover: { target, at: Date.now() } });
  } else if (st.switchover) {
    saveState(ctx, { ...st, switchover: undefined });
  }
  return OCF.SUCCESS;
}
