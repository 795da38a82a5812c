// The decisions of a failover, pure: who may be promoted (the election, after PAF's pattern, for
// GTIDs), whether a planned switchover may proceed, and whether another server still taking writes
// forbids a promotion (seed 003: "in doubt, everybody stops"). The agent gathers the inputs (node
// attributes, servers' answers) and acts on the verdicts; nothing here does I/O.
import type { NotifyEvent } from '../ocf/notify.ts';
import {
  describeLack, formatPosition, parsePosition, positionContains, positionUnion, shortfall,
  type GtidFamily, type Position,
} from './position.ts';

// ---------------------------------------------------------------- what each node publishes

/**
 * At pre-promote every node publishes, as a private node attribute, the election token and either
 * its position or why it has none:
 *   v1;<token>;ok;<position>          a server that can be promoted
 *   v1;<token>;fail:<why>;<position>    a server whose data counts but that cannot be promoted
 *   v1;<token>;errant:<why>;<position>  a server holding errant transactions: cannot be promoted,
 *                                       and what only it holds is not the cluster's history
 *   v1;<token>;down:<why>;              no server answering on that node
 */
export type Publication =
  | { token: string; state: 'ok'; position: string }
  | { token: string; state: 'fail' | 'errant'; why: string; position: string }
  | { token: string; state: 'down'; why: string };

const clean = (s: string) => s.replace(/[;\n"]/g, ',').slice(0, 200);

export function encodePublication(p: Publication): string {
  switch (p.state) {
    case 'ok': return `v1;${p.token};ok;${p.position}`;
    case 'fail': case 'errant': return `v1;${p.token};${p.state}:${clean(p.why)};${p.position}`;
    case 'down': return `v1;${p.token};down:${clean(p.why)};`;
  }
}

export function decodePublication(v: string | undefined): Publication | undefined {
  if (!v) return undefined;
  const m = /^v1;([^;]*);(ok|fail:[^;]*|errant:[^;]*|down:[^;]*);(.*)$/s.exec(v.trim());
  if (!m) return undefined;
  const [, token, st, position] = m as unknown as [string, string, string, string];
  if (st === 'ok') return { token, state: 'ok', position };
  if (st.startsWith('fail:')) return { token, state: 'fail', why: st.slice(5), position };
  if (st.startsWith('errant:')) return { token, state: 'errant', why: st.slice(7), position };
  return { token, state: 'down', why: st.slice(5) };
}

/**
 * The election's identity, the same on every node that receives one pre-promote notification (the
 * scheduler computes the lists once for all recipients): what a candidate accepts from its peers,
 * so a value left from an earlier election with another plan is never taken for a fresh one.
 */
export function electionToken(n: NotifyEvent): string {
  const list = (xs: { uname: string }[]) => xs.map((x) => x.uname).filter(Boolean).sort().join(',');
  const plan = `promote=${list(n.promote)};demote=${list(n.demote)};stop=${list(n.stop)};start=${list(n.start)};promoted=${list(n.promoted)}`;
  return fnv1a64(plan).slice(0, 12);
}

/** FNV-1a, 64 bits, as hex: a stable short digest without loading node:crypto into every action. */
function fnv1a64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/** The node being promoted by this notification (promoted-max is 1). */
export const promoteTarget = (n: NotifyEvent): string | undefined => n.promote.map((i) => i.uname).find(Boolean);

/**
 * Recovery of the promoted instance where it already is (PAF's "primary recover"): the election is
 * skipped, nothing can be ahead of the primary that wrote it all.
 */
export function isPrimaryRecovery(n: NotifyEvent, node: string): boolean {
  return n.promote.some((i) => i.uname === node) && n.promoted.some((i) => i.uname === node);
}

/** Nodes whose instances will be running when the promotion happens: active + starting - stopping. */
export function electorate(n: NotifyEvent): string[] {
  const count = new Map<string, number>();
  for (const i of [...n.active, ...n.start]) if (i.uname) count.set(i.uname, (count.get(i.uname) ?? 0) + 1);
  for (const i of n.stop) if (i.uname) count.set(i.uname, (count.get(i.uname) ?? 0) - 1);
  return [...count.entries()].filter(([, c]) => c > 0).map(([u]) => u).sort();
}

/**
 * A handover: the one promoted instance is demoted while another node's is promoted in the same
 * transition (`pcs resource move --promoted`, a node put in standby: there it is also stopped,
 * which changes nothing about waiting for the target first). Returns the target.
 */
export function switchoverTarget(n: NotifyEvent, node: string): string | undefined {
  if (n.promoted.length !== 1 || n.demote.length !== 1 || n.promote.length !== 1) return undefined;
  const old = n.promoted[0]!.uname;
  const target = n.promote[0]!.uname;
  if (old !== node || n.demote[0]!.uname !== old || target === old || !target) return undefined;
  return target;
}

// ---------------------------------------------------------------- the election

export interface Contender {
  node: string;
  /** Undefined: nothing published (yet) under this election's token. */
  publication: Publication | undefined;
}

export type ElectionVerdict =
  /** This node holds at least as much as every promotable peer: promote. `notes` explain what was set aside. */
  | { kind: 'promote'; notes: string[] }
  /** `to` holds transactions this node lacks: give way to it. */
  | { kind: 'defer'; to: string; lacks: string; reason: string; notes: string[] }
  /** Some peers have not published yet: wait for them (or fail the promotion when time is up). */
  | { kind: 'wait'; nodes: string[] }
  /**
   * A publication cannot be read, or a node that cannot be promoted holds transactions no
   * promotable node has: in doubt, do not promote.
   */
  | { kind: 'refuse'; reason: string };

/**
 * Decide the election from this node's position and what its peers published. The winner is the
 * promotable node lacking the fewest transactions of all published positions together (ties: this
 * node, then node names in order), so every candidate that runs this on the same publications
 * reaches the same winner and the cluster converges in one more round at most. Peers whose server
 * is down are set aside (their data shows up as errant if they rejoin with more); peers that
 * cannot be promoted count for what they hold but cannot win, and when one of them holds
 * transactions that no promotable node has, nobody is promoted: those may be acknowledged commits
 * (a replica whose applier broke after it received them). Only a peer holding errant transactions
 * is outvoted on what only it holds: that is not the cluster's history.
 */
export function electionVerdict(family: GtidFamily, self: { node: string; position: string }, peers: readonly Contender[]): ElectionVerdict {
  const notes: string[] = [];
  const waiting = peers.filter((p) => !p.publication).map((p) => p.node);
  if (waiting.length) return { kind: 'wait', nodes: waiting };
  let mine: Position;
  try { mine = parsePosition(family, self.position); } catch (e) {
    return { kind: 'refuse', reason: `cannot read this node's own position "${self.position}": ${(e as Error).message}` };
  }
  const entries: Array<{ node: string; pos: Position; promotable: boolean; errant: boolean; why: string }> = [{ node: self.node, pos: mine, promotable: true, errant: false, why: '' }];
  for (const p of [...peers].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))) {
    const pub = p.publication!;
    if (pub.state === 'down') { notes.push(`${p.node} has no running server (${pub.why}); it is not compared`); continue; }
    let pos: Position;
    try { pos = parsePosition(family, pub.position); } catch (e) {
      return { kind: 'refuse', reason: `${p.node} published a position that cannot be read ("${pub.position}"): ${(e as Error).message}` };
    }
    if (pub.state !== 'ok') notes.push(`${p.node} cannot be promoted (${pub.why}); what it holds still counts`);
    entries.push({ node: p.node, pos, promotable: pub.state === 'ok', errant: pub.state === 'errant', why: pub.state === 'ok' ? '' : pub.why });
  }
  const all = entries.reduce((u, e) => positionUnion(u, e.pos), entries[0]!.pos);
  const scored = entries.map((e, i) => ({ ...e, i, short: shortfall(e.pos, all) }));
  const best = scored.filter((e) => e.promotable).sort((a, b) => (a.short < b.short ? -1 : a.short > b.short ? 1 : a.i - b.i))[0]!;
  for (const e of scored) {
    if (e.promotable || positionContains(best.pos, e.pos)) continue;
    const only = describeLack(best.pos, e.pos) ?? '?';
    if (e.errant) { notes.push(`${e.node} holds transactions no promotable node has (${only}) besides its errant ones; they cannot be kept`); continue; }
    return {
      kind: 'refuse',
      reason: `${e.node} holds ${only}, which no promotable node has, and cannot be promoted (${e.why}): promoting ${best.node} would lose them. Repair ${e.node} so it can be promoted (its grade says what is wrong), or stop it to give them up`,
    };
  }
  if (best.node === self.node) {
    const lost = scored.filter((e) => e.promotable && e.node !== self.node && !positionContains(mine, e.pos));
    for (const e of lost) notes.push(`positions diverged: ${e.node} holds ${describeLack(mine, e.pos)} that this node lacks, and lacks more`);
    return { kind: 'promote', notes };
  }
  const lacks = describeLack(mine, best.pos) ?? formatPosition(best.pos);
  return {
    kind: 'defer', to: best.node, lacks, notes,
    reason: `${best.node} is ahead of ${self.node} by ${lacks}: giving way to it (this promotion fails on purpose; the cluster promotes ${best.node} next)`,
  };
}

// ---------------------------------------------------------------- planned switchover

export type SwitchoverVerdict = { ready: true } | { ready: false; lacks: string };

/** May the old primary let the promotion go ahead? Only once the target holds all it wrote. */
export function switchoverVerdict(family: GtidFamily, primary: string, target: string): SwitchoverVerdict {
  const lacks = describeLack(parsePosition(family, target), parsePosition(family, primary));
  return lacks === undefined ? { ready: true } : { ready: false, lacks };
}

// ---------------------------------------------------------------- writable-peer guard

export type PeerAnswer =
  /** The server answered and refuses writes. */
  | { node: string; answer: 'read-only' }
  /** The server answered and accepts writes. */
  | { node: string; answer: 'writable' }
  /** Nothing answers: refused, unreachable or no reply in time (stopped, fenced, powered off). */
  | { node: string; answer: 'silent'; detail: string }
  /** Something answered but we could not tell (login refused, query failed). */
  | { node: string; answer: 'unknown'; detail: string };

export type GuardVerdict = { ok: true; notes: string[] } | { ok: false; reason: string };

/**
 * Before this node becomes writable, no other server may still take writes. A peer that does not
 * answer is taken as stopped: Pacemaker only promotes after it stopped or fenced what it lost, and a
 * powered-off machine does not answer. A peer that answers writable, or answers without letting us
 * see whether it is read-only, is a reason to refuse: in doubt, everybody stops.
 */
export function guardVerdict(answers: readonly PeerAnswer[]): GuardVerdict {
  const writable = answers.filter((a) => a.answer === 'writable').map((a) => a.node);
  const unknown = answers.filter((a): a is Extract<PeerAnswer, { answer: 'unknown' }> => a.answer === 'unknown');
  const parts: string[] = [];
  if (writable.length) parts.push(`${writable.join(', ')} still accept${writable.length === 1 ? 's' : ''} writes (not read-only)`);
  for (const u of unknown) parts.push(`${u.node} answered but its read-only state cannot be read (${u.detail})`);
  if (parts.length) {
    return { ok: false, reason: `refusing to become writable: ${parts.join('; ')}; stop or fence ${[...writable, ...unknown.map((u) => u.node)].join(', ')} first` };
  }
  const notes = answers.filter((a): a is Extract<PeerAnswer, { answer: 'silent' }> => a.answer === 'silent').map((a) => `${a.node}: no server answers (${a.detail})`);
  return { ok: true, notes };
}
