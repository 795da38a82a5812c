// GTID arithmetic for both flavours, pure. Part 2 (the election, zero-loss catch-up and errant
// transaction checks) compares positions with these functions instead of asking a server.
//
// MySQL: a GTID set is, per source (server uuid, or uuid:tag since 8.3), a set of transaction
// numbers written as intervals: "3e11fa47-...:1-5:7,8a94f357-...:1-3". Numbers go up to 2^63-1,
// so they are bigints. Every operation returns the canonical form (sources sorted, intervals
// merged), so two sets are equal exactly when their text is.
//
// MariaDB: a GTID position holds, per replication domain, the last transaction applied,
// "domain-server-sequence" ("0-1-100,1-2-7"). With gtid_strict_mode (which the agent's
// documentation requires) sequence numbers only grow within a domain, so a position stands for
// every transaction of that domain up to its sequence number. Two positions with the same
// sequence number but different server ids in one domain hold different transactions: diverged.

export class GtidError extends Error {
  constructor(message: string) { super(message); this.name = 'GtidError'; }
}

// ---------------------------------------------------------------- MySQL GTID sets

/** Inclusive interval of transaction numbers. */
export type Interval = readonly [bigint, bigint];
/** Source ("uuid" or "uuid:tag", lower case) -> sorted, disjoint, non-adjacent intervals. */
export type GtidSet = ReadonlyMap<string, readonly Interval[]>;

const MAX_GNO = (1n << 63n) - 1n;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/;
const TAG = /^[a-z_][a-z0-9_]{0,31}$/;

function canonicalUuid(u: string): string {
  const h = u.toLowerCase().replace(/-/g, '');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Sort and merge overlapping or adjacent intervals. */
function normalise(iv: Interval[]): Interval[] {
  const s = [...iv].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1n) { if (b > last[1]) last[1] = b; } else out.push([a, b]);
  }
  return out;
}

function build(entries: Iterable<readonly [string, Interval[]]>): GtidSet {
  const m = new Map<string, Interval[]>();
  for (const [k, iv] of entries) {
    const n = normalise([...(m.get(k) ?? []), ...iv]);
    if (n.length) m.set(k, n); else m.delete(k);
  }
  return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function gno(s: string, whole: string): bigint {
  if (!/^\d+$/.test(s)) throw new GtidError(`"${s}" is not a transaction number in "${whole}"`);
  const n = BigInt(s);
  if (n < 1n || n > MAX_GNO) throw new GtidError(`transaction number ${s} is out of range in "${whole}"`);
  return n;
}

/** Parse @@gtid_executed / Retrieved_Gtid_Set text (whitespace and newlines allowed). */
export function parseGtidSet(text: string): GtidSet {
  const t = text.replace(/\s+/g, '');
  if (t === '') return new Map();
  const entries: Array<[string, Interval[]]> = [];
  for (const part of t.split(',')) {
    const fields = part.split(':');
    const uuid = fields[0] ?? '';
    if (!UUID.test(uuid.toLowerCase())) throw new GtidError(`"${uuid}" is not a server uuid in "${text}"`);
    let key = canonicalUuid(uuid);
    let iv: Interval[] = [];
    for (const f of fields.slice(1)) {
      if (/^\d/.test(f)) {
        const [a, b, extra] = f.split('-');
        if (extra !== undefined) throw new GtidError(`"${f}" is not an interval in "${text}"`);
        const lo = gno(a!, text);
        const hi = b === undefined ? lo : gno(b, text);
        if (hi < lo) throw new GtidError(`interval ${f} runs backwards in "${text}"`);
        iv.push([lo, hi]);
        continue;
      }
      // MySQL 8.3+ tagged GTIDs: uuid:1-3:tag:1-5; a tag applies to the intervals after it.
      if (!TAG.test(f.toLowerCase())) throw new GtidError(`"${f}" is neither an interval nor a tag in "${text}"`);
      if (iv.length) entries.push([key, iv]);
      else if (key.includes(':')) throw new GtidError(`tag "${key.split(':')[1]}" has no transaction numbers in "${text}"`);
      iv = [];
      key = `${canonicalUuid(uuid)}:${f.toLowerCase()}`;
    }
    if (iv.length === 0) throw new GtidError(`"${part}" has no transaction numbers in "${text}"`);
    entries.push([key, iv]);
  }
  return build(entries);
}

/** Canonical text: sources sorted, intervals merged, "a" for one-number intervals. */
export function formatGtidSet(s: GtidSet): string {
  return [...s.entries()].map(([k, iv]) => `${k}:${iv.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(':')}`).join(',');
}

export function gtidUnion(a: GtidSet, b: GtidSet): GtidSet {
  return build([...a.entries(), ...b.entries()].map(([k, iv]) => [k, [...iv]] as const));
}

function subtractIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const [lo0, hi] of a) {
    let lo = lo0;
    for (const [c, d] of b) {
      if (d < lo || c > hi) continue;
      if (c > lo) out.push([lo, c - 1n]);
      lo = d + 1n;
      if (lo > hi) break;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

/** Transactions in `a` that are not in `b`. */
export function gtidSubtract(a: GtidSet, b: GtidSet): GtidSet {
  return build([...a.entries()].map(([k, iv]) => [k, subtractIntervals(iv, b.get(k) ?? [])] as const));
}

export function gtidIntersect(a: GtidSet, b: GtidSet): GtidSet {
  return gtidSubtract(a, gtidSubtract(a, b));
}

/** Does `a` hold every transaction of `b` (b ⊆ a, MySQL's GTID_SUBSET(b, a))? */
export function gtidContains(a: GtidSet, b: GtidSet): boolean {
  return gtidSubtract(b, a).size === 0;
}

export function gtidEquals(a: GtidSet, b: GtidSet): boolean {
  return formatGtidSet(a) === formatGtidSet(b);
}

/** Number of transactions in the set. */
export function gtidCount(s: GtidSet): bigint {
  let n = 0n;
  for (const iv of s.values()) for (const [a, b] of iv) n += b - a + 1n;
  return n;
}

// ---------------------------------------------------------------- MariaDB positions

export interface DomainPosition { server: number; seq: bigint }
/** Domain id -> last transaction of that domain. */
export type MariaPosition = ReadonlyMap<number, DomainPosition>;

const U32 = 4294967295;

/** Parse gtid_current_pos / gtid_slave_pos / gtid_binlog_pos / Gtid_IO_Pos text. */
export function parseMariaPosition(text: string): MariaPosition {
  const t = text.replace(/\s+/g, '');
  const m = new Map<number, DomainPosition>();
  if (t === '') return m;
  for (const g of t.split(',')) {
    const r = /^(\d+)-(\d+)-(\d+)$/.exec(g);
    if (!r) throw new GtidError(`"${g}" is not domain-server-sequence in "${text}"`);
    const domain = Number(r[1]);
    const server = Number(r[2]);
    const seq = BigInt(r[3]!);
    if (domain > U32 || server > U32 || seq > (1n << 64n) - 1n) throw new GtidError(`"${g}" is out of range in "${text}"`);
    if (m.has(domain)) throw new GtidError(`domain ${domain} appears twice in "${text}" (a position has one GTID per domain)`);
    m.set(domain, { server, seq });
  }
  return new Map([...m.entries()].sort(([a], [b]) => a - b));
}

export function formatMariaPosition(p: MariaPosition): string {
  return [...p.entries()].sort(([a], [b]) => a - b).map(([d, { server, seq }]) => `${d}-${server}-${seq}`).join(',');
}

export type Comparison = 'equal' | 'ahead' | 'behind' | 'diverged';

/** One domain: a vs b. Same sequence from different servers is two different transactions. */
function compareDomain(a: DomainPosition | undefined, b: DomainPosition | undefined): Comparison {
  if (!a && !b) return 'equal';
  if (!b) return 'ahead';
  if (!a) return 'behind';
  if (a.seq > b.seq) return 'ahead';
  if (a.seq < b.seq) return 'behind';
  return a.server === b.server ? 'equal' : 'diverged';
}

/**
 * How `a` relates to `b` over all domains: equal, ahead (holds all of b and more), behind, or
 * diverged (each holds something the other lacks, or a sequence number was written twice).
 */
export function mariaCompare(a: MariaPosition, b: MariaPosition): Comparison {
  let ahead = false;
  let behind = false;
  for (const d of new Set([...a.keys(), ...b.keys()])) {
    const c = compareDomain(a.get(d), b.get(d));
    if (c === 'diverged') return 'diverged';
    if (c === 'ahead') ahead = true;
    if (c === 'behind') behind = true;
  }
  if (ahead && behind) return 'diverged';
  return ahead ? 'ahead' : behind ? 'behind' : 'equal';
}

/** Does `a` hold every transaction `b` holds? */
export function mariaContains(a: MariaPosition, b: MariaPosition): boolean {
  const c = mariaCompare(a, b);
  return c === 'equal' || c === 'ahead';
}

/**
 * Per domain, the later of the two positions. Undefined when a domain diverged (no position
 * holds both): the caller must not pretend a merge exists.
 */
export function mariaUnion(a: MariaPosition, b: MariaPosition): MariaPosition | undefined {
  const m = new Map<number, DomainPosition>();
  for (const d of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(d);
    const y = b.get(d);
    const c = compareDomain(x, y);
    if (c === 'diverged') return undefined;
    m.set(d, (c === 'behind' ? y : x)!);
  }
  return new Map([...m.entries()].sort(([p], [q]) => p - q));
}

export interface MissingRange { domain: number; after: bigint; upTo: bigint; server: number }

/**
 * What `b` holds that `a` lacks, per domain: sequence numbers after `after` up to `upTo`
 * (ending with a transaction from `server`). A diverged domain is reported with after = upTo
 * when only the server differs; use mariaCompare to tell divergence apart.
 */
export function mariaMissing(a: MariaPosition, b: MariaPosition): MissingRange[] {
  const out: MissingRange[] = [];
  for (const [d, y] of b) {
    const x = a.get(d);
    const c = compareDomain(x, y);
    if (c === 'behind') out.push({ domain: d, after: x?.seq ?? 0n, upTo: y.seq, server: y.server });
    else if (c === 'diverged') out.push({ domain: d, after: y.seq, upTo: y.seq, server: y.server });
  }
  return out;
}

export function describeMissing(r: readonly MissingRange[]): string {
  return r.map((m) => (m.after === m.upTo
    ? `domain ${m.domain}: sequence ${m.upTo} written by server ${m.server} differs`
    : `domain ${m.domain}: sequence ${m.after + 1n}-${m.upTo} (last from server ${m.server})`)).join('; ');
}
