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
const NODE_COLOUR = ['#6a1b9a', '#00838f', '#ef6c00', '#ad1457', '#283593', '#558b2f', '#4e342e', '#37474f'];

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
  const left = 150;
  const right = 30;
  const plotW = W - left - right;
  const span = Math.max(1, d.to - d.from);
  const x = (t: number) => left + ((Math.min(Math.max(t, d.from), d.to) - d.from) / span) * plotW;
  const laneH = 26;
  const gap = 8;
  let y = 70;
  const parts: string[] = [];
  const text = (tx: number, ty: number, s: string, extra = '') => parts.push(`<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" ${extra}>${esc(s)}</text>`);
  const rect = (x1: number, y1: number, w: number, h: number, fill: string, title?: string) =>
    parts.push(`<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${Math.max(0.5, w).toFixed(1)}" height="${h}" fill="${fill}">${title ? `<title>${esc(title)}</title>` : ''}</rect>`);
  const colourOf = (n: string) => NODE_COLOUR[Math.max(0, d.nodes.indexOf(n)) % NODE_COLOUR.length]!;
  const rel = (t: number) => `${t >= d.t0 ? '+' : ''}${((t - d.t0) / 1000).toFixed(1)} s`;

  text(left, 28, d.title, 'font-size="18" font-weight="bold"');
  if (d.subtitle) text(left, 48, d.subtitle, 'font-size="12" fill="#444"');

  // One lane per node: role from the client's samples, power from the BMC and the membership.
  for (const n of d.nodes) {
    text(left - 10, y + laneH / 2 + 4, n, 'text-anchor="end" font-size="13" font-weight="bold"');
    rect(left, y, plotW, laneH, '#eeeeee');
    const pts = d.samples.filter((s) => s.s[n] !== undefined).map((s) => ({ t: s.t, v: s.s[n]! }));
    for (const r of runs(pts, d.to)) {
      if (r.to <= d.from || r.from >= d.to) continue;
      rect(x(r.from), y, x(r.to) - x(r.from), laneH, ROLE_COLOUR[r.v] ?? '#bdbdbd', `${n}: ${ROLE_LABEL[r.v] ?? r.v} ${rel(r.from)} .. ${rel(r.to)}`);
    }
    for (const p of d.power.filter((q) => q.node === n)) {
      const fill = p.state === 'off' ? 'url(#off)' : 'url(#boot)';
      rect(x(p.from), y, x(p.to) - x(p.from), laneH, fill, `${n}: ${p.state === 'off' ? 'powered off' : 'booting'} ${rel(p.from)} .. ${rel(p.to)}`);
      const label = p.state === 'off' ? 'power off' : 'booting';
      if (x(p.to) - x(p.from) > 60) text((x(p.from) + x(p.to)) / 2, y + laneH / 2 + 4, label, 'text-anchor="middle" font-size="11" fill="#fff"');
    }
    y += laneH + gap;
  }

  // The VIPs: who held the write VIP (nodes' own view), who answered on the read-only VIP.
  const vipLane = (label: string, pts: Array<{ t: number; v: string }>) => {
    text(left - 10, y + laneH / 2 + 4, label, 'text-anchor="end" font-size="12"');
    rect(left, y, plotW, laneH, '#f5f5f5');
    for (const r of runs(pts, d.to)) {
      if (!r.v || r.to <= d.from || r.from >= d.to) continue;
      const two = r.v.includes(',');
      rect(x(r.from), y, x(r.to) - x(r.from), laneH, two ? '#d50000' : colourOf(r.v), `${label}: ${r.v} ${rel(r.from)} .. ${rel(r.to)}`);
      if (x(r.to) - x(r.from) > 28) text((x(r.from) + x(r.to)) / 2, y + laneH / 2 + 4, r.v, 'text-anchor="middle" font-size="11" fill="#fff"');
    }
    y += laneH + gap;
  };
  vipLane('write VIP', d.vipSamples.map((s) => ({ t: s.t, v: s.holders.join(',') })));
  vipLane('read-only VIP', d.samples.map((s) => {
    const v = s.s['ro-vip'] ?? '';
    return { t: s.t, v: /^r[ow]:/.test(v) ? v.slice(3) : '' };
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
  text(left - 10, y + chartH / 2, 'writes', 'text-anchor="end" font-size="12"');
  text(left - 10, y + chartH / 2 + 14, 'per 250 ms', 'text-anchor="end" font-size="10" fill="#666"');
  rect(left, y, plotW, chartH, '#fafafa');
  const max = Math.max(13, ...ok);
  const bw = plotW / n;
  for (let b = 0; b < n; b++) {
    const t = d.from + b * bucket;
    if (ok[b]) rect(left + b * bw, y + chartH - (ok[b]! / max) * chartH, bw, (ok[b]! / max) * chartH, '#43a047', `${rel(t)}: ${ok[b]} acknowledged`);
    if (bad[b]) rect(left + b * bw, y + chartH, bw, 6, '#d50000', `${rel(t)}: ${bad[b]} failed`);
  }
  text(left + plotW + 4, y + 10, String(max), 'font-size="9" fill="#666"');
  y += chartH + 14;

  // Time axis, every 5 s (10 s for long spans), relative to the fault.
  const step = span > 90_000 ? 10_000 : 5000;
  const axisY = y + 6;
  parts.push(`<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="#333"/>`);
  for (let t = Math.ceil((d.from - d.t0) / step) * step; d.t0 + t <= d.to; t += step) {
    const tx = x(d.t0 + t);
    parts.push(`<line x1="${tx.toFixed(1)}" y1="${axisY}" x2="${tx.toFixed(1)}" y2="${axisY + 5}" stroke="#333"/>`);
    text(tx, axisY + 18, `${t >= 0 ? '+' : ''}${t / 1000} s`, 'text-anchor="middle" font-size="11"');
  }
  const bottom = axisY + 30;

  // The moments: vertical lines over every lane, labels in rows under the axis, the latest in the
  // top row, so no leader line crosses another moment's label.
  const marks = [...d.marks].sort((a, b) => a.t - b.t);
  const top = 60;
  marks.forEach((m, i) => {
    const mx = x(m.t);
    parts.push(`<line x1="${mx.toFixed(1)}" y1="${top}" x2="${mx.toFixed(1)}" y2="${axisY}" stroke="#b71c1c" stroke-width="1" stroke-dasharray="4 3"/>`);
    const ly = bottom + 18 + (marks.length - 1 - i) * 16;
    // Labels that would run off the right edge end at the line instead.
    const anchorEnd = mx > left + plotW * 0.72;
    parts.push(`<line x1="${mx.toFixed(1)}" y1="${axisY + 22}" x2="${mx.toFixed(1)}" y2="${ly - 4}" stroke="#b71c1c" stroke-width="0.6"/>`);
    text(anchorEnd ? mx - 3 : mx + 3, ly, `${rel(m.t)} ${m.label}`, `font-size="12" fill="#b71c1c"${anchorEnd ? ' text-anchor="end"' : ''}`);
  });
  let legendY = bottom + 18 + marks.length * 16 + 16;

  // Legend.
  const legend: Array<[string, string]> = [
    [ROLE_COLOUR.rw!, ROLE_LABEL.rw!], [ROLE_COLOUR.ro!, ROLE_LABEL.ro!], [ROLE_COLOUR.down!, ROLE_LABEL.down!],
    [ROLE_COLOUR.hung!, ROLE_LABEL.hung!], ['url(#off)', 'powered off'], ['url(#boot)', 'booting'], ['#d50000', 'two holders / failed write'],
  ];
  let lx = left;
  for (const [fill, label] of legend) {
    rect(lx, legendY - 10, 14, 14, fill);
    text(lx + 18, legendY + 1, label, 'font-size="11"');
    lx += 30 + label.length * 6.2;
  }
  legendY += 10;
  const H = Math.ceil(legendY + 12);
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
