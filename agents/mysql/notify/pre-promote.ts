// pre-promote, on every node: publish this node's position for the election (PAF's pattern). The
// node about to be promoted also records whose positions count (active + starting - stopping) and
// which nodes' servers the writable-peer guard must ask. A recovery of the primary where it runs
// needs no election. Every node also forgets its cached promotion score: an election may change
// scores behind the cache's back, and the next monitor must write the graded one again.
import { OCF, type OcfCode } from '../../../lib/ocf/codes.ts';
import { electionToken, electorate, isPrimaryRecovery, promoteTarget } from '../../../lib/mysql/election.ts';
import { attributeCache, clusterTools, localNode, loadState, saveState, type Ctx } from '../context.ts';
import { ownPublication, publishPosition } from '../election.ts';

export async function prePromote(ctx: Ctx): Promise<OcfCode> {
  const n = ctx.notify!;
  const self = await localNode(ctx);
  const target = promoteTarget(n);
  if (!self || !target) {
    ctx.log.warn(`pre-promote without ${self ? 'a node to promote' : 'this node\'s name'}: nothing published`);
    return OCF.SUCCESS;
  }
  const cache = attributeCache(ctx);
  cache.forget('score');
  cache.save();
  const token = electionToken(n);
  const record = { token, peers: electorate(n).filter((u) => u !== self), all: n.all, at: Date.now() };
  if (isPrimaryRecovery(n, target)) {
    ctx.log.info(`pre-promote: ${target} recovers the promoted instance it already held: no election`);
    if (target === self) saveState(ctx, { ...loadState(ctx), election: { ...record, recover: true } });
    return OCF.SUCCESS;
  }
  // The Pacemaker version (does attrd_updater have -W?) is asked while the server is read.
  const version = clusterTools(ctx).pacemakerVersion();
  const pub = await ownPublication(ctx, token);
  await publishPosition(ctx, pub, version);
  ctx.log.info(`pre-promote of ${target}: published ${pub.state === 'down' ? `no position (${pub.why})` : `position ${pub.position}${pub.state === 'fail' || pub.state === 'errant' ? ` (not promotable: ${pub.why})` : ''}`}`);
  if (target === self) saveState(ctx, { ...loadState(ctx), election: { ...record, recover: false } });
  return OCF.SUCCESS;
}
