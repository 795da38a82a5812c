// The cluster's memory of its primaries, and the decision it guards: never promote past a more
// recent primary. Each promotion records, in the CIB (so it outlives any node and any restart),
// which node became primary, the position it was promoted at, which nodes replicated from it, and
// whether its commits are protected by a replica's acknowledgement. The election alone compares
// only the servers that are running; this record is what lets a candidate know that the server
// holding the newest acknowledged commits is missing, and wait instead of winning with stale data.
// Pure: the agent reads the record and the peers' publications, this decides.
import { describeLack, parsePosition, type GtidFamily } from './position.ts';

/**
 * How the primary's acknowledged commits are protected:
 *   sync   semi-sync on and acknowledging: every acknowledged commit is on a replica too;
 *   async  semi-sync on but fallen back after semisync_timeout: acknowledged commits may be on the
 *          primary alone (until a replica catches up and semi-sync resumes);
 *   off    semisync=false: asynchronous by configuration.
 */
export type Protection = 'sync' | 'async' | 'off';

export interface LineageRecord {
  /** Counts promotions; a replica registers under the epoch of the primary it joins. */
  epoch: number;
  primary: string;
  /** The position the primary was promoted at: everything acknowledged before it took over. */
  at: string;
  protection: Protection;
  /** Nodes whose instances ran when it was promoted (each replicates from it right away). */
  replicas: string[];
  /** Wall-clock time of the promotion (ms), for the operator. */
  since: number;
}

const PROTECTIONS: readonly Protection[] = ['sync', 'async', 'off'];

export function encodeRecord(r: LineageRecord): string {
  return JSON.stringify({ v: 1, ...r });
}

/** The record, or a reason it cannot be read (which the election treats as "in doubt"). */
export function decodeRecord(text: string | undefined): { record?: LineageRecord; problem?: string } {
  if (text === undefined || text === '') return {};
  let o: Record<string, unknown>;
  try { o = JSON.parse(text) as Record<string, unknown>; } catch { return { problem: `not JSON: "${text.slice(0, 80)}"` }; }
  if (!o || typeof o !== 'object' || o.v !== 1) return { problem: `unknown record version in "${text.slice(0, 80)}"` };
  const { epoch, primary, at, protection, replicas, since } = o;
  if (!Number.isInteger(epoch) || (epoch as number) < 1) return { problem: `bad epoch ${String(epoch)}` };
  if (typeof primary !== 'string' || !primary) return { problem: 'no primary named' };
  if (typeof at !== 'string') return { problem: 'no position' };
  if (!PROTECTIONS.includes(protection as Protection)) return { problem: `bad protection ${String(protection)}` };
  if (!Array.isArray(replicas) || !replicas.every((x) => typeof x === 'string')) return { problem: 'bad replica list' };
  return { record: { epoch: epoch as number, primary, at, protection: protection as Protection, replicas: replicas as string[], since: Number(since) || 0 } };
}

/** The record a promotion writes: the next epoch, this node, what it holds. */
export function nextRecord(prev: LineageRecord | undefined, primary: string, at: string, protection: Protection, replicas: readonly string[], now: number): LineageRecord {
  return { epoch: (prev?.epoch ?? 0) + 1, primary, at, protection, replicas: [...new Set(replicas)].filter((n) => n !== primary).sort(), since: now };
}

export interface LineageInput {
  family: GtidFamily;
  self: string;
  /** What this candidate holds (applied plus received). */
  position: string;
  record: LineageRecord | undefined;
  /** A record exists but cannot be read. */
  problem?: string;
  /** Peers whose servers published a position in this election (promotable or not): node -> position. */
  present: ReadonlyMap<string, string>;
  /** Nodes that registered as replicas, with the epoch of the primary they joined. */
  joined: ReadonlyMap<string, number>;
  allowAsync: boolean;
  /** The documented command that forgets the record (accepting the loss), for the reasons. */
  acceptCommand: string;
}

export type LineageVerdict = { ok: true; notes: string[] } | { ok: false; reason: string };

/**
 * May `self`, the election's winner among the running servers, be promoted given what the last
 * promotion established? Yes when there is no record (the first promotion, or the operator chose to
 * forget it), when self is that primary, or when that primary's server takes part in this election
 * (the election then compares what it holds). Otherwise the last primary is gone, and self must
 * hold the position it was promoted at, the primary must have been protected by semi-sync (or
 * asynchronous by configuration, or the operator accepts the loss), and every node that replicated
 * from it must take part: one of them may hold a commit the others lack. In doubt, nobody is
 * promoted: no writes anywhere is the safe outcome.
 */
export function lineageVerdict(i: LineageInput): LineageVerdict {
  const accept = `or, knowingly accepting the loss of what only it holds, run: ${i.acceptCommand}`;
  if (i.problem) return { ok: false, reason: `not promoted: the record of the last promotion cannot be read (${i.problem}); check it with ${i.acceptCommand.replace(/--delete$/, '--query')}, ${accept}` };
  const r = i.record;
  if (!r) return { ok: true, notes: ['no earlier promotion is recorded for this resource: the election alone decides'] };
  if (r.primary === i.self) return { ok: true, notes: [] };
  if (i.present.has(r.primary)) return { ok: true, notes: [] };
  const lost = `${r.primary}, the last primary (promoted as epoch ${r.epoch}), has no running server in this election`;
  let lacks: string | undefined;
  try { lacks = describeLack(parsePosition(i.family, i.position), parsePosition(i.family, r.at)); } catch (e) {
    return { ok: false, reason: `not promoted: ${lost}, and its recorded position "${r.at}" cannot be compared with ${i.self}'s (${(e as Error).message}); ${accept}` };
  }
  if (lacks !== undefined) {
    return { ok: false, reason: `not promoted: ${lost}; it was promoted holding ${r.at} and ${i.self} lacks ${lacks}, so ${i.self} is older than that primary. Bring ${r.primary}'s server back (pcs resource cleanup), ${accept}` };
  }
  if (r.protection === 'async' && !i.allowAsync) {
    return { ok: false, reason: `not promoted: ${lost}, and it was running asynchronously when last seen (no replica acknowledged its commits within semisync_timeout): commits it acknowledged may be on no other server. Bring ${r.primary}'s server back, set allow_async_failover=true to prefer availability, ${accept}` };
  }
  const notes: string[] = [];
  if (r.protection === 'off') notes.push(`${r.primary} was lost; semisync=false, so commits it acknowledged in its last moments may be on no other server`);
  if (r.protection === 'async') notes.push(`${r.primary} was lost while running asynchronously; allow_async_failover=true: commits only it held are given up`);
  if (r.protection === 'sync') {
    const members = new Set([...r.replicas, ...[...i.joined].filter(([, e]) => e === r.epoch).map(([n]) => n)]);
    const absent = [...members].filter((n) => n !== i.self && n !== r.primary && !i.present.has(n)).sort();
    if (absent.length) {
      const list = absent.join(', ');
      return { ok: false, reason: `not promoted: ${lost}, and ${list} replicated from it but ${absent.length === 1 ? 'has' : 'have'} no running server: a commit ${r.primary} acknowledged may be held only by ${list}. Bring ${list}'s server back (pcs resource cleanup), ${accept}` };
    }
  }
  return { ok: true, notes };
}
