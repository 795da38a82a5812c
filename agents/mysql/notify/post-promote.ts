// post-promote: a new primary exists; every other running instance repoints to it with GTID
// auto-positioning (MariaDB current_pos, MySQL SOURCE_AUTO_POSITION).
import { OCF, type OcfCode } from '../../../lib/ocf/codes.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { localNode, withLocal, type Ctx } from '../context.ts';
import { replicateFrom } from '../replication.ts';

export async function postPromote(ctx: Ctx): Promise<OcfCode> {
  const n = ctx.notify!;
  const self = await localNode(ctx);
  const primary = n.promote.map((i) => i.uname).find(Boolean);
  if (!primary || primary === self) return OCF.SUCCESS;
  if (!findServer(ctx.params.pid, ctx.params.binary || 'mariadbd')) return OCF.SUCCESS;
  await withLocal(ctx, (s) => replicateFrom(ctx, s, primary));
  return OCF.SUCCESS;
}
