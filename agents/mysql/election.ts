// The election's I/O (the decisions are lib/mysql/election.ts): at pre-promote every node
// publishes its position as the private node attribute <resource>-position; at promote the
// candidate collects its peers' publications and, if one of them holds transactions it lacks,
// raises that peer's promotion score, lowers its own and fails the promotion on purpose, so
// Pacemaker plans again with the better node. This closes the race between the last monitor (whose
// lag-based scores are only a hint) and the promotion.
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { sleep } from '../../lib/deadline.ts';
import { attrdCanWait, type ToolResult } from '../../lib/cluster/tools.ts';
import { ELECTION_LOSER_SCORE, ELECTION_WINNER_SCORE, scoreValue } from '../../lib/mysql/health.ts';
import {
  decodePublication, electionVerdict, encodePublication, type Contender, type Publication,
} from '../../lib/mysql/election.ts';
import { formatPosition, type GtidFamily } from '../../lib/mysql/position.ts';
import { findServer } from '../../lib/mysql/server.ts';
import {
  attributeCache, attributeNames, clusterTools, loadState, publish, withLocal, type Ctx, type ElectionRecord,
} from './context.ts';
import { readHoldings } from './holdings.ts';
import { assess } from './replication.ts';

/** What this node publishes: its position, and whether it could be promoted. */
export async function ownPublication(ctx: Ctx, token: string): Promise<Publication> {
  const p = ctx.params;
  if (!findServer(p.pid, p.binary || 'mariadbd', p.datadir)) return { token, state: 'down', why: 'server not running' };
  try {
    return await withLocal(ctx, async (s) => {
      const h = await readHoldings(s);
      const position = formatPosition(h.position);
      const st = loadState(ctx);
      if (st.errant) return { token, state: 'errant', why: `errant transactions ${st.errant}`, position };
      // What the IO thread can no longer fetch does not matter to a promotion (catch-up stops it
      // anyway): a replica whose source lost what it had received (a crashed primary whose
      // recovery rolled back an acknowledged commit: seen in the lab) may hold the newest commits.
      const status = h.status && { ...h.status, ioErrno: 0, ioError: '' };
      const r = assess(ctx, status, st.pendingSince, Date.now(), undefined);
      if (r.a.grade === 'FAIL') return { token, state: 'fail', why: r.a.reasons.join(', '), position };
      return { token, state: 'ok', position };
    }, 2000);
  } catch (e) {
    return { token, state: 'down', why: `server does not answer: ${(e as Error).message}` };
  }
}

/**
 * Publish as a private attribute and wait until it is in effect: on every node with Pacemaker
 * 2.1.6+ (-W cluster), else until the local attrd answers with it (the candidate then waits for
 * its peers' values itself). Failures are logged: a missing publication makes the candidate wait
 * and then fail, never promote blindly.
 */
export async function publishPosition(ctx: Ctx, pub: Publication, version?: Promise<ToolResult<number[]>>): Promise<void> {
  const tools = clusterTools(ctx);
  const name = attributeNames(ctx).position;
  const value = encodePublication(pub);
  version ??= tools.pacemakerVersion();
  const v = await version;
  const wait = attrdCanWait(v.value) ? 'cluster' : undefined;
  const r = await tools.setNodeAttribute(name, value, { private: true, wait });
  if (!r.ok) { ctx.log.warn(`could not publish this node's position: ${r.reason}`); return; }
  if (wait) return;
  const until = Date.now() + ctx.deadline.cap(3000);
  for (;;) {
    const q = await tools.queryNodeAttribute(name);
    if (q.ok && q.value === value) return;
    if (Date.now() >= until) { ctx.log.warn(`attrd does not show this node's position yet (${q.ok ? q.value : q.reason})`); return; }
    await sleep(50, ctx.signal);
  }
}

/** Forget this node's publication (post-promote): it described an election that is over. */
export async function withdrawPosition(ctx: Ctx): Promise<void> {
  const r = await clusterTools(ctx).deleteNodeAttribute(attributeNames(ctx).position);
  if (!r.ok) ctx.log.debug(`could not withdraw this node's position: ${r.reason}`);
}

/** The peers' publications under this election's token (anything else counts as not published). */
async function collect(ctx: Ctx, rec: ElectionRecord): Promise<Contender[]> {
  const r = await clusterTools(ctx).queryNodeAttributeAll(attributeNames(ctx).position);
  if (!r.ok) ctx.log.warn(`cannot read the peers' positions: ${r.reason}`);
  return rec.peers.map((node) => {
    const pub = decodePublication(r.value?.get(node));
    return { node, publication: pub && pub.token === rec.token ? pub : undefined };
  });
}

/**
 * The election, run by the candidate inside promote with its current position. Returns the peers'
 * publications for the check after catch-up; throws (rc 1) when this node must give way, when a
 * publication cannot be read, or when a peer did not publish within `waitMs`.
 */
export async function holdElection(ctx: Ctx, family: GtidFamily, self: string, rec: ElectionRecord, position: string, waitMs: number): Promise<Contender[]> {
  const until = Date.now() + waitMs;
  for (;;) {
    const peers = await collect(ctx, rec);
    const v = electionVerdict(family, { node: self, position }, peers);
    if (v.kind === 'wait') {
      if (Date.now() >= until || ctx.deadline.remaining() < 1000) {
        throw new OcfError(OCF.ERR_GENERIC, `not promoted: no position published by ${v.nodes.join(', ')} for this election within ${waitMs} ms; cannot tell whether ${v.nodes.length === 1 ? 'it holds' : 'they hold'} transactions ${self} lacks`);
      }
      await sleep(50, ctx.signal);
      continue;
    }
    await actOn(ctx, v, self);
    return peers;
  }
}

/** The same decision with positions already collected (after catch-up, with what was applied). */
export async function recheckElection(ctx: Ctx, family: GtidFamily, self: string, peers: Contender[], position: string): Promise<void> {
  await actOn(ctx, electionVerdict(family, { node: self, position }, peers), self);
}

async function actOn(ctx: Ctx, v: ReturnType<typeof electionVerdict>, self: string): Promise<void> {
  switch (v.kind) {
    case 'promote':
      for (const n of v.notes) ctx.log.warn(`election: ${n}`);
      ctx.log.info(`election: ${self} holds at least as much as every promotable peer`);
      return;
    case 'refuse':
      throw new OcfError(OCF.ERR_GENERIC, `not promoted: ${v.reason}`);
    case 'wait':
      throw new OcfError(OCF.ERR_GENERIC, `not promoted: no position from ${v.nodes.join(', ')}`);
    case 'defer': {
      for (const n of v.notes) ctx.log.warn(`election: ${n}`);
      const tools = clusterTools(ctx);
      // Our own score goes through the cache, so the next monitor restores the graded one.
      const cache = attributeCache(ctx);
      await publish(ctx, { score: scoreValue(ELECTION_LOSER_SCORE) }, tools, cache);
      const r = await tools.setPromotionScoreOf(v.to, scoreValue(ELECTION_WINNER_SCORE));
      if (!r.ok) ctx.log.error(`could not raise ${v.to}'s promotion score: ${r.reason}`);
      throw new OcfError(OCF.ERR_GENERIC, v.reason);
    }
  }
}
