// The failover as a picture: one SVG chart (no script, no external file) with a lane per node (its
// power and its server's role as the client-side sampler saw it every 100 ms), a lane for the write
// VIP's holder and one for the read-only VIP's, the writer's throughput (commits acknowledged per
// 250 ms, failed attempts in red) and a vertical line for each moment of the timeline. Pure: data
// in, text out (test/lab/mysql-model.test.ts checks it with xmllint).

export interface SvgInput {
  title: string;
  subtitle?: string;
  nodes: string[];
  /** Epoch ms of the fault: the origin of the time axis. */
  t0: number;
  from: number;
  to: number;
  /** Client-side server samples: node -> rw | ro | down | hung, and the VIP entries. */
  samples: Array<{ t: number; s: Record<string, string> }>;
  /** Nodes holding the write VIP, from the nodes' own view, every 100 ms. */
  vipSamples: Array<{ t: number; holders: string[] }>;
  inserts: Array<{ t: number; rt: number; ok: boolean }>;
  /** Intervals where a node was powered off or booting. */
  power: Array<{ node: string; from: number; to: number; state: 'off' | 'booting' }>;
  marks: Array<{ t: number; label: string }>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const ROLE_COLOUR: Record<string, string> = { rw: '#2e7d32', ro: '#64b5f6', down: '#9e9e9e', hung: '#ff9800' };
const ROLE_LABEL: Record<string, string> = { rw: 'primary (writable)', ro: 'replica (read-only)', down: 'no server', hung: 'no answer in time' };
const LANE_BG = '#eeeeee';
const OTHER = '#bdbdbd';
const ACKED = '#43a047';
const FAILED = '#d50000';
/**
 * VIP holders' colours, one per node, far from every colour the legend gives a server state or a
 * write (tested): a VIP drawn in the orange of "no answer in time" read as a hung server.
 */
export const VIP_COLOUR = ['#6a1b9a', '#00838f', '#c2185b', '#283593'];

/**
 * A rough width of text in DejaVu Sans (the first font the chart asks for; Arial is narrower), by
 * kind of character, rounded up against measured advances: with no font engine at hand, this is
 * what keeps labels inside the canvas.
 */
export function textWidth(s: string, size: number, bold = false): number {
  let em = 0;
  for (const c of s) {
    if (' .,:;|!\''.includes(c)) em += 0.34;
    else if ('ijlIft()[]{}/-r'.includes(c)) em += 0.42;
    else if ('mwMW%@\u2026'.includes(c)) em += 1.0;
    else if ('+=<>~#&'.includes(c)) em += 0.84;
    else if (c >= 'A' && c <= 'Z') em += 0.78;
    else em += 0.64;
  }
  return em * size * (bold ? 1.12 : 1);
}

/** `s`, or as much of it as fits in `maxW` with an ellipsis. */
export function fitText(s: string, maxW: number, size: number, bold = false): string {
  if (textWidth(s, size, bold) <= maxW) return s;
  let n = s.length;
  while (n > 0 && textWidth(`${s.slice(0, n).trimEnd()}\u2026`, size, bold) > maxW) n--;
  return n > 0 ? `${s.slice(0, n).trimEnd()}\u2026` : '';
}

/** Runs of equal values in time order: [from, to, value]. A sample holds until the next one. */
export function runs<T>(points: ReadonlyArray<{ t: number; v: T }>, end: number, same: (a: T, b: T) => boolean = (a, b) => a === b): Array<{ from: number; to: number; v: T }> {
  const out: Array<{ from: number; to: number; v: T }> = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const next = points[i + 1]?.t ?? end;
    const last = out.at(-1);
    if (last && same(last.v, p.v) && last.to >= p.t - 1) last.to = next;
    else out.push({ from: p.t, to: next, v: p.v });
  }
  return out;
}

export function timelineSvg(d: SvgInput): string {
  const W = 1100;
  const pad = 8;
  const left = 150;
  const right = 30;
  const plotW = W - left - right;
  const span = Math.max(1, d.to - d.from);
  const x = (t: number) => left + ((Math.min(Math.max(t, d.from), d.to) - d.from) / span) * plotW;
  const laneH = 26;
  const gap = 8;
  let y = 70;
  const parts: string[] = [];
  // Every text goes through here, cut to what the canvas has room for on the side it grows towards.
  const text = (tx: number, ty: number, s: string, o: { size: number; anchor?: 'end' | 'middle'; bold?: boolean; fill?: string }) => {
    const room = o.anchor === 'end' ? tx - pad : o.anchor === 'middle' ? 2 * Math.min(tx - pad, W - pad - tx) : W - pad - tx;
    const fitted = fitText(s, room, o.size, o.bold);
    if (!fitted) return;
    parts.push(`<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}"${o.anchor ? ` text-anchor="${o.anchor}"` : ''} font-size="${o.size}"` +
      `${o.bold ? ' font-weight="bold"' : ''}${o.fill ? ` fill="${o.fill}"` : ''}>${esc(fitted)}</text>`);
  };
  const rect = (x1: number, y1: number, w: number, h: number, fill: string, title?: string, extra = '') =>
    parts.push(`<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${Math.max(0.5, w).toFixed(1)}" height="${h}" fill="${fill}"${extra}>${title ? `<title>${esc(title)}</title>` : ''}</rect>`);
  const vipColourOf = (n: string) => {
    const i = d.nodes.indexOf(n);
    const k = i >= 0 ? i : [...n].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    return VIP_COLOUR[k % VIP_COLOUR.length]!;
  };
  const rel = (t: number) => `${t >= d.t0 ? '+' : ''}${((t - d.t0) / 1000).toFixed(1)} s`;
  const laneLabel = (label: string, o: { bold?: boolean; size: number }) => text(left - 10, y + laneH / 2 + 4, label, { ...o, anchor: 'end' });

  text(left, 28, d.title, { size: 18, bold: true });
  if (d.subtitle) text(left, 48, d.subtitle, { size: 12, fill: '#444' });

  // One lane per node: role from the client's samples, power from the BMC and the membership.
  let otherState = false;
  for (const n of d.nodes) {
    laneLabel(n, { size: 13, bold: true });
    rect(left, y, plotW, laneH, LANE_BG);
    const pts = d.samples.filter((s) => s.s[n] !== undefined).map((s) => ({ t: s.t, v: s.s[n]! }));
    for (const r of runs(pts, d.to)) {
      if (r.to <= d.from || r.from >= d.to) continue;
      otherState ||= !ROLE_COLOUR[r.v];
      rect(x(r.from), y, x(r.to) - x(r.from), laneH, ROLE_COLOUR[r.v] ?? OTHER, `${n}: ${ROLE_LABEL[r.v] ?? r.v} ${rel(r.from)} .. ${rel(r.to)}`);
    }
    for (const p of d.power.filter((q) => q.node === n)) {
      const fill = p.state === 'off' ? 'url(#off)' : 'url(#boot)';
      rect(x(p.from), y, x(p.to) - x(p.from), laneH, fill, `${n}: ${p.state === 'off' ? 'powered off' : 'booting'} ${rel(p.from)} .. ${rel(p.to)}`);
      const label = p.state === 'off' ? 'power off' : 'booting';
      if (x(p.to) - x(p.from) > textWidth(label, 11) + 8) text((x(p.from) + x(p.to)) / 2, y + laneH / 2 + 4, label, { size: 11, anchor: 'middle', fill: '#fff' });
    }
    y += laneH + gap;
  }

  // The VIPs: who held the write VIP (nodes' own view), who answered on the read-only VIP. A
  // writable server answering on the read-only VIP is the primary serving reads: its stretch gets
  // the primary's green as a band and says so (issue 12 item 8: it stayed there unseen, drawn
  // like a replica).
  const vipHolders = new Set<string>(d.nodes);
  let roOnPrimary = false;
  const vipLane = (label: string, pts: Array<{ t: number; v: string; primary?: boolean }>) => {
    laneLabel(label, { size: 12 });
    rect(left, y, plotW, laneH, LANE_BG);
    const holder = pts.map((p) => ({ t: p.t, v: { v: p.v, primary: !!p.primary } }));
    for (const r of runs(holder, d.to, (a, b) => a.v === b.v && a.primary === b.primary)) {
      const { v, primary } = r.v;
      if (!v || r.to <= d.from || r.from >= d.to) continue;
      const two = v.includes(',');
      if (!two) vipHolders.add(v);
      const w = x(r.to) - x(r.from);
      const name = primary ? `${v} (primary)` : v;
      rect(x(r.from), y, w, laneH, two ? FAILED : vipColourOf(v), `${label}: ${name} ${rel(r.from)} .. ${rel(r.to)}`);
      if (primary) { roOnPrimary = true; rect(x(r.from), y + laneH - 6, w, 6, ROLE_COLOUR.rw!); }
      const shown = w > textWidth(name, 11) + 8 ? name : v;
      if (w > textWidth(shown, 11) + 8) text((x(r.from) + x(r.to)) / 2, y + laneH / 2 + (primary ? 1 : 4), shown, { size: 11, anchor: 'middle', fill: '#fff' });
    }
    y += laneH + gap;
  };
  vipLane('write VIP', d.vipSamples.map((s) => ({ t: s.t, v: s.holders.join(',') })));
  vipLane('read-only VIP', d.samples.map((s) => {
    const v = s.s['ro-vip'] ?? '';
    return { t: s.t, v: /^r[ow]:/.test(v) ? v.slice(3) : '', primary: v.startsWith('rw:') };
  }));

  // Throughput: commits acknowledged per 250 ms bucket, failures below the axis.
  const bucket = 250;
  const n = Math.ceil(span / bucket);
  const ok = new Array<number>(n).fill(0);
  const bad = new Array<number>(n).fill(0);
  for (const i of d.inserts) {
    const b = Math.floor((i.rt - d.from) / bucket);
    if (b < 0 || b >= n) continue;
    if (i.ok) ok[b]! += 1; else bad[b]! += 1;
  }
  const chartH = 90;
  y += 10;
  text(left - 10, y + chartH / 2, 'writes', { size: 12, anchor: 'end' });
  text(left - 10, y + chartH / 2 + 14, 'per 250 ms', { size: 10, anchor: 'end', fill: '#666' });
  rect(left, y, plotW, chartH, '#fafafa');
  const max = Math.max(13, ...ok);
  const bw = plotW / n;
  for (let b = 0; b < n; b++) {
    const t = d.from + b * bucket;
    if (ok[b]) rect(left + b * bw, y + chartH - (ok[b]! / max) * chartH, bw, (ok[b]! / max) * chartH, ACKED, `${rel(t)}: ${ok[b]} acknowledged`);
    if (bad[b]) rect(left + b * bw, y + chartH, bw, 6, FAILED, `${rel(t)}: ${bad[b]} failed`);
  }
  // A scale on the right: a lone "13" by the chart's corner said nothing about what it counted.
  for (const [v, ty] of [[max, y], [0, y + chartH]] as const) {
    parts.push(`<line x1="${left + plotW}" y1="${ty}" x2="${left + plotW + 4}" y2="${ty}" stroke="#666"/>`);
    text(left + plotW + 6, ty + 3, String(v), { size: 9, fill: '#666' });
  }
  y += chartH + 14;

  // Time axis, every 5 s (10 s for long spans), relative to the fault.
  const step = span > 90_000 ? 10_000 : 5000;
  const axisY = y + 6;
  parts.push(`<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="#333"/>`);
  for (let t = Math.ceil((d.from - d.t0) / step) * step; d.t0 + t <= d.to; t += step) {
    const tx = x(d.t0 + t);
    parts.push(`<line x1="${tx.toFixed(1)}" y1="${axisY}" x2="${tx.toFixed(1)}" y2="${axisY + 5}" stroke="#333"/>`);
    text(tx, axisY + 18, `${t >= 0 ? '+' : ''}${t / 1000} s`, { size: 11, anchor: 'middle' });
  }
  // Clear of the first tick's label, which is centred on the plot's left edge.
  text(left - 24, axisY + 18, 'since the failure', { size: 11, anchor: 'end', fill: '#666' });
  const bottom = axisY + 30;

  // The moments: a dashed line over every lane and one label per row under the axis. A label goes
  // right of its line, or left of it when that would leave the canvas (cut to the wider side when
  // neither has room). Rows are filled top down: a label may take the next row only if no line of
  // the labels still to place (their leaders run through this row) falls within it, and of those
  // the latest goes first, which puts labels right of their lines latest on top.
  const rowH = 16;
  const placeLabel = (mx: number, full: string, toRight: boolean, room: number) => {
    const s = fitText(full, room, 12);
    const w = textWidth(s, 12);
    return toRight ? { s, x1: mx + 3, x2: mx + 3 + w } : { s, x1: mx - 3 - w, x2: mx - 3 };
  };
  const placed = [...d.marks].sort((a, b) => a.t - b.t).map((m) => {
    const mx = x(m.t);
    const full = `${rel(m.t)} ${m.label}`;
    const roomR = W - pad - (mx + 3);
    const roomL = mx - 3 - pad;
    const w = textWidth(full, 12);
    const toRight = w <= roomR || (w > roomL && roomR >= roomL);
    return { mx, full, toRight, ...placeLabel(mx, full, toRight, toRight ? roomR : roomL) };
  });
  const rows: typeof placed = [];
  const rest = [...placed];
  const covered = (a: (typeof placed)[number]) => rest.filter((b) => b !== a && b.mx > a.x1 - 2 && b.mx < a.x2 + 2).map((b) => b.mx);
  while (rest.length) {
    let k = rest.length - 1;
    while (k >= 0 && covered(rest[k]!).length) k--;
    if (k < 0) {
      // Every label covers a line still to place: of each label on either side of its line, cut
      // short of the first line it covers, take the one that keeps the most text.
      let best: { k: number; toRight: boolean; s: string; x1: number; x2: number } | undefined;
      rest.forEach((a, i) => {
        for (const toRight of [a.toRight, !a.toRight]) {
          const side = { ...a, toRight, ...placeLabel(a.mx, a.full, toRight, toRight ? W - pad - (a.mx + 3) : a.mx - 3 - pad) };
          const lines = covered(side);
          const room = !lines.length ? Infinity : toRight ? Math.min(...lines) - 3 - side.x1 : side.x2 - Math.max(...lines) - 3;
          const o = { k: i, toRight, ...(lines.length ? placeLabel(a.mx, a.full, toRight, Math.max(0, room)) : side) };
          if (!best || o.s.length >= best.s.length) best = o;
        }
      });
      k = best!.k;
      Object.assign(rest[k]!, { toRight: best!.toRight, s: best!.s, x1: best!.x1, x2: best!.x2 });
    }
    rows.push(rest.splice(k, 1)[0]!);
  }
  const top = 60;
  for (const m of placed) {
    parts.push(`<line x1="${m.mx.toFixed(1)}" y1="${top}" x2="${m.mx.toFixed(1)}" y2="${axisY}" stroke="#b71c1c" stroke-width="1" stroke-dasharray="4 3"/>`);
  }
  rows.forEach((m, i) => {
    const ly = bottom + 18 + i * rowH;
    parts.push(`<line x1="${m.mx.toFixed(1)}" y1="${axisY + 22}" x2="${m.mx.toFixed(1)}" y2="${ly - 4}" stroke="#b71c1c" stroke-width="0.6"/>`);
    if (!m.s) return;
    // Left of the line, anchored at the line: the estimate is then wrong on the side with room to spare.
    if (m.toRight) text(m.x1, ly, m.s, { size: 12, fill: '#b71c1c' });
    else text(m.x2, ly, m.s, { size: 12, anchor: 'end', fill: '#b71c1c' });
  });
  let legendY = bottom + 18 + rows.length * rowH + 16;

  // Legend: a row per lane kind, every colour drawn above explained; wrapped at the canvas' edge.
  const legend: Array<[string, string, Array<[string, string]>]> = [
    ['legend-servers', 'servers', [
      ...['rw', 'ro', 'down', 'hung'].map((k): [string, string] => [ROLE_COLOUR[k]!, ROLE_LABEL[k]!]),
      ['url(#off)', 'powered off'], ['url(#boot)', 'booting'],
      ...(otherState ? [[OTHER, 'other (its name in the tooltip)'] as [string, string]] : []), [LANE_BG, 'not sampled'],
    ]],
    ['legend-vips', 'VIPs', [
      ...[...vipHolders].map((h): [string, string] => [vipColourOf(h), `on ${h}`]),
      ...(roOnPrimary ? [[ROLE_COLOUR.rw!, 'read-only VIP on the primary (band)'] as [string, string]] : []),
      [FAILED, 'on two nodes at once'], [LANE_BG, 'held by none / not sampled'],
    ]],
    ['legend-writes', 'writes', [[ACKED, 'acknowledged'], [FAILED, 'failed (below the chart)']]],
  ];
  for (const [id, heading, entries] of legend) {
    parts.push(`<g id="${id}">`);
    text(left - 10, legendY + 1, heading, { size: 11, anchor: 'end', bold: true });
    let lx = left;
    for (const [fill, label] of entries) {
      const w = 18 + textWidth(label, 11);
      if (lx > left && lx + w > W - pad) { lx = left; legendY += 20; }
      rect(lx, legendY - 10, 14, 14, fill, undefined, ' stroke="#9e9e9e" stroke-width="0.5"');
      text(lx + 18, legendY + 1, label, { size: 11 });
      lx += w + 14;
    }
    parts.push('</g>');
    legendY += 20;
  }
  const H = Math.ceil(legendY);
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">
<defs>
<pattern id="off" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#424242"/><rect width="3" height="8" fill="#616161"/></pattern>
<pattern id="boot" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#8d6e63"/><rect width="3" height="8" fill="#a1887f"/></pattern>
</defs>
<rect width="${W}" height="${H}" fill="#ffffff"/>
${parts.join('\n')}
</svg>
`;
}
