// Where the read-only VIP went after a promotion, as the client saw it: bin/mysql-sampler.mjs asks
// the server answering on the read-only VIP every 100 ms and logs `ro:<host>` (a read-only server:
// a replica), `rw:<host>` (a writable one: after a promotion, the new primary), `down` or `hung`.
// The recipe of docs/mysql.md section 8 must move it off a replica that was just promoted (issue 12
// item 8: it stayed there for good when the colocation score only tied the VIP's stickiness). Pure.

export interface RoVipAfterPromotion {
  /** How long the writable primary answered on the read-only VIP after the promotion, ms. */
  onPrimaryMs: number;
  /** The writable server that answered on it (the new primary), if one did. */
  primary?: string;
  /**
   * The first sample from which a replica answered on it and no writable server did again until
   * the end of the samples: the replica and the time (epoch ms). Undefined if that never happened.
   */
  onReplica?: { node: string; t: number };
}

type Sample = { t: number; s: Record<string, string> };

export function roVipAfterPromotion(samples: readonly Sample[], promotion: number, end = Infinity): RoVipAfterPromotion {
  const after = samples.filter((x) => x.t >= promotion && x.t <= end).sort((a, b) => a.t - b.t);
  let onPrimaryMs = 0;
  let primary: string | undefined;
  let onReplica: RoVipAfterPromotion['onReplica'];
  after.forEach((x, i) => {
    const v = x.s['ro-vip'] ?? '';
    if (v.startsWith('rw:')) {
      primary ??= v.slice(3);
      // A sample stands for the time until the next one (the last one: one sampling period).
      const next = after[i + 1]?.t ?? x.t + (i > 0 ? x.t - after[i - 1]!.t : 0);
      onPrimaryMs += next - x.t;
      onReplica = undefined;
    } else if (v.startsWith('ro:') && !onReplica) {
      onReplica = { node: v.slice(3), t: x.t };
    }
  });
  return { onPrimaryMs, primary, onReplica };
}

/** One line for a test's diagnostics or the demo. */
export function describeRoVip(r: RoVipAfterPromotion, promotion: number): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const where = r.onReplica ? `on replica ${r.onReplica.node} from ${s(r.onReplica.t - promotion)} after the promotion` : 'never on a replica after the promotion';
  return `${where}; answered by the primary${r.primary ? ` ${r.primary}` : ''} for ${s(r.onPrimaryMs)} after the promotion`;
}

type Event = { t: number; kind: string; node: string; rsc: string; task: string; rc: string };

/**
 * The same from the cluster's side (the alert timeline): from when the read-only VIP `rsc` ran on
 * a node other than the new primary and was not started on the primary again. `before` is its
 * holder when the events begin. Unlike the client's view, this leaves out the client's ARP cache
 * and reconnects: it is what the recipe decides.
 */
export function roVipPlacedAfterPromotion(events: readonly Event[], rsc: string, promotion: number, primary: string, before?: string): { node: string; t: number } | undefined {
  let holder = before;
  let placed: { node: string; t: number } | undefined = holder && holder !== primary ? { node: holder, t: promotion } : undefined;
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    if (e.kind !== 'resource' || e.rsc !== rsc || e.rc !== '0' || (e.task !== 'start' && e.task !== 'stop')) continue;
    holder = e.task === 'start' ? e.node : holder === e.node ? undefined : holder;
    if (e.t < promotion) {
      placed = holder && holder !== primary ? { node: holder, t: promotion } : undefined;
      continue;
    }
    if (holder === primary) placed = undefined;
    else if (holder && !placed) placed = { node: holder, t: e.t };
  }
  return placed;
}
