// What a server holds, in one shape for both GTID families, and the comparisons part 2 needs:
// who is ahead (the election, switchover readiness) and what one server holds that another lacks
// (errant transactions at rejoin). Pure: built on lib/mysql/gtid.ts, tested exhaustively.
//
// Two notions, on purpose:
//   - a Position is how far a server got: MariaDB's last GTID per domain (gtid_current_pos, or
//     Gtid_IO_Pos for what a replica received), MySQL's GTID set. Replicas of one primary are
//     compared by Position: they all received prefixes of the same stream.
//   - a History is what a server's binary log holds, for comparing servers whose streams may have
//     diverged (a former primary coming back). MySQL's executed set is exact. MariaDB keeps only the
//     last sequence number per domain, which cannot tell "0-1-101" from "0-2-101" once the new
//     primary has written past 101; gtid_binlog_state keeps the last sequence number per domain
//     *and server*, and a server's transactions reach every replica in order, so comparing it pair
//     by pair finds a former primary's unreplicated writes exactly.
import {
  GtidError, describeMissing, formatGtidSet, formatMariaPosition, gtidContains, gtidCount, gtidSubtract, gtidUnion,
  mariaCompare, mariaMissing, mariaUnion, parseGtidSet, parseMariaPosition,
  type DomainPosition, type GtidSet, type MariaPosition,
} from './gtid.ts';
import type { FlavourName } from './flavour.ts';

export type GtidFamily = 'mariadb' | 'mysql';
export const gtidFamily = (f: FlavourName): GtidFamily => (f === 'mariadb' ? 'mariadb' : 'mysql');

export type Position =
  | { readonly family: 'mariadb'; readonly pos: MariaPosition }
  | { readonly family: 'mysql'; readonly set: GtidSet };

export function parsePosition(family: GtidFamily, text: string): Position {
  return family === 'mariadb' ? { family, pos: parseMariaPosition(text) } : { family, set: parseGtidSet(text) };
}

export function formatPosition(p: Position): string {
  return p.family === 'mariadb' ? formatMariaPosition(p.pos) : formatGtidSet(p.set);
}

function sameFamily(a: Position, b: Position): void {
  if (a.family !== b.family) throw new GtidError(`cannot compare a ${a.family} position with a ${b.family} one`);
}

/**
 * Everything either holds. For MariaDB a domain where the two wrote different transactions at the
 * same sequence number has no union; the first argument's entry is kept there (a received position
 * never diverges from the applied one of the same server, which is what this is used for).
 */
export function positionUnion(a: Position, b: Position): Position {
  sameFamily(a, b);
  if (a.family === 'mysql') return { family: 'mysql', set: gtidUnion(a.set, (b as typeof a).set) };
  const bp = (b as typeof a).pos;
  const u = mariaUnion(a.pos, bp);
  if (u) return { family: 'mariadb', pos: u };
  const m = new Map<number, DomainPosition>(a.pos);
  for (const [d, y] of bp) {
    const x = m.get(d);
    if (!x || y.seq > x.seq) m.set(d, y);
  }
  return { family: 'mariadb', pos: new Map([...m.entries()].sort(([p], [q]) => p - q)) };
}

/** Does `have` hold everything `other` holds? */
export function positionContains(have: Position, other: Position): boolean {
  sameFamily(have, other);
  if (have.family === 'mysql') return gtidContains(have.set, (other as typeof have).set);
  const c = mariaCompare(have.pos, (other as typeof have).pos);
  return c === 'equal' || c === 'ahead';
}

/** What `other` holds that `have` lacks, for a reason line; undefined when nothing. */
export function describeLack(have: Position, other: Position): string | undefined {
  sameFamily(have, other);
  if (have.family === 'mysql') {
    const d = gtidSubtract((other as typeof have).set, have.set);
    return d.size === 0 ? undefined : formatGtidSet(d);
  }
  const m = mariaMissing(have.pos, (other as typeof have).pos);
  return m.length === 0 ? undefined : describeMissing(m);
}

/**
 * How many transactions `p` lacks compared with `everything` (the union of all positions): the
 * election's measure. MariaDB: per domain, the sequence numbers between p's and the furthest one.
 * Sequence numbers are shared by a domain's servers and continue across a change of primary, so a
 * server at sequence n of a domain holds n of its transactions whichever branch it followed: two
 * servers at the same sequence number on diverged branches lack as much as each other (each lacks
 * the other's branch), and the one further along lacks less. Every server lacks the same count of
 * the union plus this difference, which is all an election compares.
 */
export function shortfall(p: Position, everything: Position): bigint {
  sameFamily(p, everything);
  if (p.family === 'mysql') return gtidCount(gtidSubtract((everything as typeof p).set, p.set));
  let n = 0n;
  for (const [d, far] of (everything as typeof p).pos) {
    const seq = p.pos.get(d)?.seq ?? 0n;
    if (seq < far.seq) n += far.seq - seq;
  }
  return n;
}

// ---------------------------------------------------------------- histories (rejoin)

export type History =
  | { readonly family: 'mariadb'; readonly state: ReadonlyMap<string, bigint>; readonly pos: MariaPosition }
  | { readonly family: 'mysql'; readonly set: GtidSet };

/**
 * MariaDB gtid_binlog_state: one GTID per (domain, server) that ever wrote to the binary log,
 * "0-1-100,0-2-150". Unlike a position, a domain may appear several times.
 */
export function parseMariaState(text: string): ReadonlyMap<string, bigint> {
  const m = new Map<string, bigint>();
  const t = text.replace(/\s+/g, '');
  if (t === '') return m;
  for (const g of t.split(',')) {
    const r = /^(\d+)-(\d+)-(\d+)$/.exec(g);
    if (!r) throw new GtidError(`"${g}" is not domain-server-sequence in "${text}"`);
    const key = `${Number(r[1])}-${Number(r[2])}`;
    const seq = BigInt(r[3]!);
    if (!m.has(key) || m.get(key)! < seq) m.set(key, seq);
  }
  return m;
}

export interface HistoryText {
  /** MySQL gtid_executed; MariaDB gtid_current_pos. */
  executed: string;
  /** MariaDB gtid_binlog_state (empty when the server has no binary log). */
  binlogState?: string;
}

export function parseHistory(family: GtidFamily, h: HistoryText): History {
  if (family === 'mysql') return { family, set: parseGtidSet(h.executed) };
  return { family, state: parseMariaState(h.binlogState ?? ''), pos: parseMariaPosition(h.executed) };
}

export interface Errant {
  /** Each errant transaction or range, as the flavour writes GTIDs. */
  gtids: string[];
  /** One line for a reason. */
  text: string;
}

/**
 * Transactions `local` holds that `primary` lacks (errant transactions), or undefined when local's
 * history is contained in primary's: the rejoin verdict and the depth-20 report.
 */
export function errantTransactions(local: History, primary: History): Errant | undefined {
  if (local.family !== primary.family) throw new GtidError(`cannot compare a ${local.family} history with a ${primary.family} one`);
  if (local.family === 'mysql') {
    const d = gtidSubtract(local.set, (primary as typeof local).set);
    if (d.size === 0) return undefined;
    const gtids = formatGtidSet(d).split(',');
    return { gtids, text: gtids.join(', ') };
  }
  const p = primary as typeof local;
  const gtids: string[] = [];
  const seen = new Set<number>();
  for (const [key, seq] of [...local.state.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [domain, server] = key.split('-').map(Number) as [number, number];
    seen.add(domain);
    const theirs = p.state.get(key) ?? 0n;
    if (seq <= theirs) continue;
    // The server's transactions numbered after the primary's last one from it; sequence numbers
    // are shared by a domain's servers, so a range may hold fewer than its width.
    gtids.push(seq === theirs + 1n ? `${domain}-${server}-${seq}` : `${domain}-${server}-${theirs + 1n}..${domain}-${server}-${seq}`);
  }
  // Domains without a binary-log entry (log_bin off, or a state file lost): positions are all we
  // have; a position ahead of, or diverged from, the primary's is errant.
  for (const [domain, mine] of local.pos) {
    if (seen.has(domain)) continue;
    const theirs = p.pos.get(domain);
    const ahead = !theirs || mine.seq > theirs.seq || (mine.seq === theirs.seq && mine.server !== theirs.server);
    if (ahead) gtids.push(`${domain}-${mine.server}-${mine.seq}`);
  }
  if (gtids.length === 0) return undefined;
  return { gtids, text: gtids.join(', ') };
}

// ---------------------------------------------------------------- catch-up

export interface ReceiveApply {
  /** MariaDB Gtid_IO_Pos / MySQL Retrieved_Gtid_Set ('' when unknown). */
  retrievedGtid: string;
  readFile: string;
  readPos: number;
  execFile: string;
  execPos: number;
}

/**
 * Has a replica received transactions it has not applied? MariaDB: compare GTIDs, because
 * Gtid_IO_Pos only counts complete transactions and the executed coordinates it shows right after
 * a relay-log resume (CHANGE MASTER ... RELAY_LOG_POS) are not to be trusted. MySQL: compare the
 * source coordinates received and executed (its Retrieved_Gtid_Set may name a transaction received
 * only in part, which would never count as applied).
 */
export function unapplied(family: GtidFamily, s: ReceiveApply, applied: string): boolean {
  if (family === 'mariadb' && s.retrievedGtid !== '') {
    return !positionContains(parsePosition(family, applied), parsePosition(family, s.retrievedGtid));
  }
  if (!s.readFile) return false;
  return s.readFile !== s.execFile || s.readPos > s.execPos;
}
