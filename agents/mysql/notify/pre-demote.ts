// pre-demote, on the primary about to be demoted: if the same transition promotes another node
// (a planned switchover, `pcs resource move --promoted`, or a node put in standby), remember the
// target: demote then waits until it holds every transaction this server wrote.
//
// On the other nodes, when the primary being demoted has left the cluster (lost, about to be
// fenced): stop receiving from it now. Its server cannot send anything more, and the promotion's
// catch-up and the repointing of the other replicas both need the IO thread stopped. Pacemaker
// sends this notification as soon as the node is lost, in parallel with the fencing. The stop
// ends the IO thread's session first (stopReceiving): a plain STOP for a source that is gone
// held this notification, and with it the whole recovery, for 1-2 s.
import { OCF, type OcfCode } from '../../../lib/ocf/codes.ts';
import { switchoverTarget } from '../../../lib/mysql/election.ts';
import type { NotifyEvent } from '../../../lib/ocf/notify.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { addressOf, clusterTools, localNode, loadState, saveState, withLocal, type Ctx } from '../context.ts';
import { readStatus, stopReceiving } from '../replication.ts';

/**
 * Another node whose primary instance this transition demotes and stops: a lost node (or a server
 * that died, or a node put in standby; only the membership tells them apart). Pure.
 */
export function demotedAndStopped(n: NotifyEvent, self: string): string | undefined {
  if (n.type !== 'pre' || n.operation !== 'demote') return undefined;
  const stopped = new Set(n.stop.map((i) => i.uname));
  return n.demote.map((i) => i.uname).find((u) => u && u !== self && stopped.has(u));
}

/**
 * The demoted primary when its node has left the membership (crm_node -l: not "member"), else
 * undefined. A node in standby or whose server died is still a member (its server may still be
 * sending: a standby hands over like a switchover). Pure.
 */
export function lostPrimary(n: NotifyEvent, self: string, membership: ReadonlyMap<string, string>): string | undefined {
  const u = demotedAndStopped(n, self);
  return u && membership.has(u) && membership.get(u) !== 'member' ? u : undefined;
}

async function stopReceivingFrom(ctx: Ctx, lost: string): Promise<void> {
  if (!findServer(ctx.params.pid, ctx.params.binary || 'mariadbd', ctx.params.datadir)) return;
  const addr = addressOf(ctx, lost);
  await withLocal(ctx, async (s) => {
    const st = await readStatus(s);
    if (!st || st.io === 'stopped' || st.sourceHost !== addr.host || st.sourcePort !== addr.port) return;
    const t = Date.now();
    await stopReceiving(s, { host: st.sourceHost, port: st.sourcePort });
    ctx.log.info(`pre-demote: ${lost} left the cluster; stopped receiving from it (${Date.now() - t} ms)`);
  }, 2000).catch((e: unknown) => ctx.log.warn(`pre-demote: could not stop receiving from ${lost}: ${(e as Error).message}`));
}

export async function preDemote(ctx: Ctx): Promise<OcfCode> {
  const self = await localNode(ctx);
  if (!self) return OCF.SUCCESS;
  if (!ctx.notify!.demote.some((i) => i.uname === self)) {
    if (demotedAndStopped(ctx.notify!, self)) {
      const m = await clusterTools(ctx).nodeStates();
      const lost = m.ok ? lostPrimary(ctx.notify!, self, m.value!) : undefined;
      if (!m.ok) ctx.log.debug(`pre-demote: cannot read the membership: ${m.reason}`);
      if (lost) await stopReceivingFrom(ctx, lost);
    }
    return OCF.SUCCESS;
  }
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
