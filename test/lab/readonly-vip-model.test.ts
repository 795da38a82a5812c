// Where the read-only VIP went after a promotion (test/lab/lib/readonly-vip.ts), from sampler lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roVipAfterPromotion, roVipPlacedAfterPromotion } from './lib/readonly-vip.ts';
import { timelineSvg } from './lib/timeline-svg.ts';

/** Samples every 100 ms from t=0: one ro-vip value per sample. */
const samples = (vals: string[]) => vals.map((v, i) => ({ t: i * 100, s: { n1: 'down', 'ro-vip': v } }));

const CASES: Array<{ name: string; vals: string[]; promotion: number; want: ReturnType<typeof roVipAfterPromotion> }> = [
  {
    name: 'on the promoted replica, then moved to another replica',
    vals: ['ro:n2', 'ro:n2', 'rw:n2', 'rw:n2', 'rw:n2', 'down', 'ro:n3', 'ro:n3'], promotion: 200,
    want: { onPrimaryMs: 300, primary: 'n2', onReplica: { node: 'n3', t: 600 } },
  },
  {
    name: 'stayed on the new primary to the end (the tie of issue 12 item 8)',
    vals: ['ro:n2', 'rw:n2', 'rw:n2', 'rw:n2'], promotion: 100,
    want: { onPrimaryMs: 300, primary: 'n2', onReplica: undefined },
  },
  {
    name: 'on the other replica all along',
    vals: ['ro:n3', 'ro:n3', 'ro:n3'], promotion: 100,
    want: { onPrimaryMs: 0, primary: undefined, onReplica: { node: 'n3', t: 100 } },
  },
  {
    name: 'back on the primary after a replica answered: only the last stay on a replica counts',
    vals: ['ro:n3', 'rw:n2', 'hung', 'ro:n3', 'ro:n1'], promotion: 0,
    want: { onPrimaryMs: 100, primary: 'n2', onReplica: { node: 'n3', t: 300 } },
  },
  {
    name: 'samples before the promotion do not count',
    vals: ['rw:n1', 'rw:n1', 'ro:n3'], promotion: 200,
    want: { onPrimaryMs: 0, primary: undefined, onReplica: { node: 'n3', t: 200 } },
  },
  { name: 'no samples', vals: [], promotion: 0, want: { onPrimaryMs: 0, primary: undefined, onReplica: undefined } },
];

for (const c of CASES) {
  test(`read-only VIP after a promotion: ${c.name}`, () => {
    assert.deepEqual(roVipAfterPromotion(samples(c.vals), c.promotion), c.want);
  });
}

test('read-only VIP after a promotion: samples after the end are ignored', () => {
  const r = roVipAfterPromotion(samples(['rw:n2', 'ro:n3', 'rw:n2']), 0, 150);
  assert.deepEqual(r, { onPrimaryMs: 100, primary: 'n2', onReplica: { node: 'n3', t: 100 } });
});

test('chart: the primary answering on the read-only VIP is drawn as such (a band, its name, the legend)', () => {
  const t0 = 1_000_000;
  const samples = [];
  // n2 holds the read-only VIP as a replica, is promoted at +2 s, the VIP moves to n3 at +5 s.
  for (let t = t0 - 1000; t < t0 + 10_000; t += 100) {
    samples.push({ t, s: { n1: 'down', n2: t < t0 + 2000 ? 'ro' : 'rw', n3: 'ro', 'ro-vip': t < t0 + 2000 ? 'ro:n2' : t < t0 + 5000 ? 'rw:n2' : 'ro:n3' } });
  }
  const svg = timelineSvg({
    title: 't', nodes: ['n1', 'n2', 'n3'], t0, from: t0 - 1000, to: t0 + 10_000, samples,
    vipSamples: samples.map((s) => ({ t: s.t, holders: s.t < t0 + 2000 ? [] : ['n2'] })), inserts: [], power: [], marks: [],
  });
  const titles = [...svg.matchAll(/<title>(read-only VIP: [^<]*)<\/title>/g)].map((m) => m[1]!);
  assert.deepEqual(titles, ['read-only VIP: n2 -1.0 s .. +2.0 s', 'read-only VIP: n2 (primary) +2.0 s .. +5.0 s', 'read-only VIP: n3 +5.0 s .. +10.0 s']);
  assert.ok(svg.includes('>n2 (primary)</text>'), 'the stretch on the primary says so');
  assert.ok(svg.includes('read-only VIP on the primary (band)'), 'the legend explains the band');
});

const ev = (t: number, task: string, node: string, rsc = 'db-ro-vip', rc = '0') => ({ t, kind: 'resource', node, rsc, task, rc });
const PLACED: Array<{ name: string; events: ReturnType<typeof ev>[]; before?: string; want?: { node: string; t: number } }> = [
  { name: 'moved off the promoted replica', before: 'n2', events: [ev(1000, 'stop', 'n2'), ev(1500, 'start', 'n3')], want: { node: 'n3', t: 1500 } },
  { name: 'stayed on the promoted replica', before: 'n2', events: [ev(900, 'monitor', 'n2')], want: undefined },
  { name: 'on the other replica all along', before: 'n3', events: [], want: { node: 'n3', t: 500 } },
  { name: 'moved to the primary before the promotion, then to a replica', before: 'n3',
    events: [ev(100, 'stop', 'n3'), ev(200, 'start', 'n2'), ev(2000, 'stop', 'n2'), ev(2100, 'start', 'n3')], want: { node: 'n3', t: 2100 } },
  { name: 'to a replica, then back on the primary', before: 'n2',
    events: [ev(1000, 'stop', 'n2'), ev(1100, 'start', 'n3'), ev(3000, 'stop', 'n3'), ev(3100, 'start', 'n2')], want: undefined },
  { name: 'a failed start does not count; other resources do not count', before: 'n2',
    events: [ev(1000, 'stop', 'n2'), ev(1100, 'start', 'n3', 'db-ro-vip', '1'), ev(1200, 'start', 'n3', 'db-vip')], want: undefined },
];
for (const c of PLACED) {
  test(`read-only VIP placed after a promotion (n2 promoted at 500 ms), from the alerts: ${c.name}`, () => {
    assert.deepEqual(roVipPlacedAfterPromotion(c.events, 'db-ro-vip', 500, 'n2', c.before), c.want);
  });
}
