// notify: dispatch on type and operation to one handler each; the others need nothing from us.
import { OCF, type OcfCode } from '../../../lib/ocf/codes.ts';
import type { Ctx } from '../context.ts';
import { postPromote } from '../notify/post-promote.ts';
import { postStart } from '../notify/post-start.ts';
import { preDemote } from '../notify/pre-demote.ts';
import { prePromote } from '../notify/pre-promote.ts';

const HANDLERS: Record<string, (ctx: Ctx) => Promise<OcfCode>> = {
  'pre-promote': prePromote,
  'post-promote': postPromote,
  'pre-demote': preDemote,
  'post-start': postStart,
};

export async function notify(ctx: Ctx): Promise<OcfCode> {
  const n = ctx.notify;
  if (!n) {
    // Not from Pacemaker (ocf-tester, a person): nothing to act on, and notify must not fail.
    ctx.log.warn('notify without OCF_RESKEY_CRM_meta_notify_type/operation: nothing to do');
    return OCF.SUCCESS;
  }
  const h = HANDLERS[`${n.type}-${n.operation}`];
  if (!h) {
    ctx.log.debug(`notify ${n.type}-${n.operation}: nothing to do`);
    return OCF.SUCCESS;
  }
  return h(ctx);
}
