// What the MariaDB scenarios measure, as pure functions of what the writer, the sampler and the
// cluster's alerts recorded: outages seen by the client, acknowledged commits lost, moments when
// two servers took writes, and the failover's timeline. Unit-tested in mysql-model.test.ts.
import type { ClusterEvent } from './events.ts';

export interface Insert { id: number; t: number; rt: number; ok: boolean; err?: string }
export interface Connect { t: number; rt: number; node?: string; ok: boolean; err?: string }
export interface WriterLog { inserts: Insert[]; connects: Connect[] }

/** Lines of test/lab/bin/mysql-writer.mjs; anything else is ignored. */
export function parseWriterLog(text: string): WriterLog {
  const inserts: Insert[] = [];
  const connects: Connect[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let o: Record<string, unknown>;
    try { o = JSON.parse(line) as Record<string, unknown>; } catch { continue; }
    if (o.ev === 'ins') inserts.push({ id: Number(o.id), t: Number(o.t), rt: Number(o.rt), ok: o.ok === true, err: o.err as string | undefined });
    else if (o.ev === 'conn') connects.push({ t: Number(o.t), rt: Number(o.rt), node: o.node as string, ok: true });
    else if (o.ev === 'connfail') connects.push({ t: Number(o.t), rt: Number(o.rt), ok: false, err: o.err as string | undefined });
  }
  return { inserts, connects };
}

export interface Outage {
  /** The last acknowledgement at or before the fault. */
  lastAckBefore?: number;
  /** The acknowledgement that ended the longest silence after the fault (the first write accepted). */
  firstAckAfter?: number;
  /** Length of that silence (ms): what the application saw of the failover. */
  outageMs?: number;
  /** The longest silence after the first write accepted, until the end of the record (ms). */
  secondOutageMs?: number;
  /** When that second silence began (epoch ms). */
  secondOutageAt?: number;
}

/**
 * The outage a fault caused, from acknowledgement times: the longest gap between consecutive
 * acknowledgements from the last one before `t0` up to `until` (a planned switchover keeps
 * acknowledging for a while after the command, so the gap is not simply "from t0"), then the
 * longest gap after it (a second outage, e.g. a failback when the old primary rejoins).
 */
export function outageOf(inserts: readonly Insert[], t0: number, until = Infinity): Outage {
  const acks = inserts.filter((i) => i.ok).map((i) => i.rt).sort((a, b) => a - b);
  const before = acks.filter((t) => t <= t0);
  const lastAckBefore = before.at(-1);
  if (lastAckBefore === undefined) return {};
  let start = acks.indexOf(lastAckBefore);
  let best = -1;
  let bestGap = -1;
  for (let i = start; i + 1 < acks.length && acks[i]! <= until; i++) {
    const gap = acks[i + 1]! - acks[i]!;
    if (gap > bestGap) { bestGap = gap; best = i; }
  }
  if (best < 0) return { lastAckBefore };
  const firstAckAfter = acks[best + 1]!;
  start = best + 1;
  let second = 0;
  let secondAt: number | undefined;
  for (let i = start; i + 1 < acks.length; i++) {
    const gap = acks[i + 1]! - acks[i]!;
    if (gap > second) { second = gap; secondAt = acks[i]; }
  }
  return { lastAckBefore, firstAckAfter, outageMs: firstAckAfter - acks[best]!, secondOutageMs: second, secondOutageAt: secondAt };
}

/** Acknowledged ids missing from `present`, in order. */
export function lostAcknowledged(inserts: readonly Insert[], present: ReadonlySet<number>): number[] {
  return inserts.filter((i) => i.ok && !present.has(i.id)).map((i) => i.id).sort((a, b) => a - b);
}

export interface ServerSample { t: number; s: Record<string, string> }

export function parseSamplerLog(text: string): ServerSample[] {
  const out: ServerSample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as ServerSample;
      if (typeof o.t === 'number' && o.s) out.push(o);
    } catch { /* a line cut by the kill */ }
  }
  return out;
}

/** Samples in which more than one node's server (names n1..n8; VIP entries excluded) accepted writes. */
export function twoWritable(samples: readonly ServerSample[]): ServerSample[] {
  return samples.filter((x) => Object.entries(x.s).filter(([k, v]) => /^n\d$/.test(k) && v === 'rw').length > 1);
}

/** Compact ranges of ids for messages: 1-3,7. */
export function idRanges(ids: readonly number[], max = 12): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(j > i ? `${ids[i]}-${ids[j]}` : `${ids[i]}`);
    i = j;
  }
  return parts.length > max ? `${parts.slice(0, max).join(',')},... (${ids.length} ids)` : parts.join(',');
}

// ---------------------------------------------------------------- the timeline

export interface Timeline {
  failure: number;
  detection?: number;
  detectionHow?: string;
  fence?: number;
  fenceHow?: string;
  promotion?: number;
  promotedNode?: string;
  vipMove?: number;
  vipNode?: string;
  firstWrite?: number;
}

/**
 * The failover's moments (epoch ms) from the cluster's alerts (and the BMC's power log for the
 * fence, when given): detection = the victim reported lost, or a failed monitor of the database on
 * it; fence = the fence's power-off (BMC) or its success alert; promotion = the first successful
 * promote after the fault; VIP move = the write VIP's first start after the fault.
 */
export function timelineOf(o: {
  t0: number; victim?: string; events: readonly ClusterEvent[]; db: string; vip: string;
  bmcOff?: number; firstWrite?: number;
}): Timeline {
  const after = o.events.filter((e) => e.t >= o.t0);
  const lost = o.victim ? after.find((e) => e.kind === 'node' && e.node === o.victim && e.desc === 'lost') : undefined;
  const failedMonitor = after.find((e) => e.kind === 'resource' && e.rsc === o.db && e.task === 'monitor' &&
    (o.victim === undefined || e.node === o.victim) && e.rc !== '0' && e.rc !== '8' && e.desc !== 'Cancelled');
  const detection = [lost && { t: lost.t, how: `${o.victim} lost (${lost.reporter})` },
    failedMonitor && { t: failedMonitor.t, how: `monitor of ${o.db} on ${failedMonitor.node}: rc ${failedMonitor.rc} ${failedMonitor.desc}` }]
    .filter((x): x is { t: number; how: string } => !!x).sort((a, b) => a.t - b.t)[0];
  const fenceAlert = o.victim ? after.find((e) => e.kind === 'fencing' && e.node === o.victim && e.rc === '0') : undefined;
  const fence = o.bmcOff !== undefined ? { t: o.bmcOff, how: 'BMC power off' } : fenceAlert ? { t: fenceAlert.t, how: `fenced (${fenceAlert.desc})` } : undefined;
  const promote = after.find((e) => e.kind === 'resource' && e.rsc === o.db && e.task === 'promote' && e.rc === '0');
  const vip = after.find((e) => e.kind === 'resource' && e.rsc === o.vip && e.task === 'start' && e.rc === '0');
  return {
    failure: o.t0,
    detection: detection?.t, detectionHow: detection?.how,
    fence: fence?.t, fenceHow: fence?.how,
    promotion: promote?.t, promotedNode: promote?.node,
    vipMove: vip?.t, vipNode: vip?.node,
    firstWrite: o.firstWrite,
  };
}

/** "+1.234 s" relative to t0, or "-" when the moment did not happen. */
export function rel(t: number | undefined, t0: number): string {
  return t === undefined ? '-' : `${t >= t0 ? '+' : ''}${((t - t0) / 1000).toFixed(3)} s`;
}
