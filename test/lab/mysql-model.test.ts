// The MariaDB scenarios' pure parts, without a cluster: what the writer's log says (outages, lost
// commits), the sampler's (two writable servers), the timeline from alert lines, the chart (valid
// SVG by xmllint, every text inside the canvas, every colour in the legend), and the configuration
// the lab gives the servers and the cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../lib/exec.ts';
import {
  idRanges, lostAcknowledged, outageOf, parseSamplerLog, parseWriterLog, timelineOf, twoWritable, type Insert,
} from './lib/mysql-analysis.ts';
import { parseEvents } from './lib/events.ts';
import { runs, timelineSvg, type SvgInput } from './lib/timeline-svg.ts';
import { fenceLabel } from './lib/mysql-scenario.ts';
import { HEARTBEAT_DB, VIGIL_DB, dbCreateArgs, optionFile, vipCommands } from './lib/mariadb.ts';
import { Lab } from './lib/lab.ts';
import { DEFAULTS } from './lib/plan.ts';

/** Acknowledgements every 20 ms from `from` to `to` (ms), ids from `id`. */
function acks(from: number, to: number, id = 1): Insert[] {
  const out: Insert[] = [];
  for (let t = from; t <= to; t += 20) out.push({ id: id++, t, rt: t + 2, ok: true });
  return out;
}

test('writer log: inserts and connections; garbage and cut lines ignored', () => {
  const w = parseWriterLog([
    '{"ev":"conn","t":1,"rt":3,"node":"n2","ro":0}',
    '{"ev":"ins","id":5,"t":10,"rt":12,"ok":true}',
    '{"ev":"ins","id":6,"t":30,"rt":1030,"ok":false,"err":"PROTOCOL_SEQUENCE_TIMEOUT: Query inactivity timeout"}',
    '{"ev":"connfail","t":1040,"rt":2040,"err":"ETIMEDOUT: connect ETIMEDOUT"}',
    'node: warning something', '{"ev":"ins","id":7,"t":', '',
  ].join('\n'));
  assert.deepEqual(w.inserts.map((i) => [i.id, i.ok]), [[5, true], [6, false]]);
  assert.deepEqual(w.connects.map((c) => [c.node, c.ok]), [['n2', true], [undefined, false]]);
});

test('outage: the longest silence after the fault, then the longest after the first write accepted', () => {
  // Acks until 1000, silence, acks again from 3500 to 6000, a 700 ms hiccup, acks to 8000.
  const ins = [...acks(0, 1000), ...acks(3500, 6000, 100), ...acks(6700, 8000, 300)];
  const o = outageOf(ins, 1005);
  assert.equal(o.lastAckBefore, 1002);
  assert.equal(o.firstAckAfter, 3502);
  assert.equal(o.outageMs, 2500);
  assert.equal(o.secondOutageMs, 700);
  // A switchover: the old primary acknowledges for a while after the command.
  const sw = [...acks(0, 2000), ...acks(2900, 4000, 200)];
  const s = outageOf(sw, 500);
  assert.equal(s.outageMs, 900);
  assert.equal(s.firstAckAfter, 2902);
  // Failed attempts do not count as acknowledgements.
  const withFail = [...acks(0, 1000), { id: 99, t: 1500, rt: 2500, ok: false }, ...acks(3000, 3100, 200)];
  assert.equal(outageOf(withFail, 1001).outageMs, 2000);
  assert.deepEqual(outageOf([], 10), {});
});

test('lost: acknowledged ids missing from a server; ranges for messages', () => {
  const ins: Insert[] = [1, 2, 3, 4, 5, 9].map((id) => ({ id, t: id, rt: id, ok: id !== 4 }));
  assert.deepEqual(lostAcknowledged(ins, new Set([1, 4, 9])), [2, 3, 5]);
  assert.deepEqual(lostAcknowledged(ins, new Set([1, 2, 3, 5, 9])), []);
  assert.equal(idRanges([1, 2, 3, 5, 7, 8]), '1-3,5,7-8');
  assert.match(idRanges(Array.from({ length: 40 }, (_, i) => i * 2)), /\(40 ids\)$/);
});

test('sampler: two writable servers at once, VIP entries excluded', () => {
  const s = parseSamplerLog([
    '{"t":1,"s":{"n1":"rw","n2":"ro","n3":"ro","vip":"rw:n1","ro-vip":"ro:n2"}}',
    '{"t":2,"s":{"n1":"rw","n2":"rw","n3":"down","vip":"rw:n1","ro-vip":"rw:n2"}}',
    '{"t":3,"s":{"n1":"hung","n2":"rw","n3":"ro","vip":"rw:n2","ro-vip":"ro:n3"}}',
    '{"t":4,"s":', 'junk',
  ].join('\n'));
  assert.equal(s.length, 3);
  assert.deepEqual(twoWritable(s).map((x) => x.t), [2]);
});

test('timeline from alert lines: detection, fence (BMC first), promotion, VIP', () => {
  const line = (t: number, rep: string, kind: string, node: string, rsc = '', task = '', rc = '', desc = '') =>
    [(t / 1000).toFixed(6), rep, kind, node, rsc, task, rc, rc, '0', desc].join('\t');
  const ev = parseEvents([
    line(999_000, 'n2', 'resource', 'n1', 'db', 'monitor', '0', 'ok'),
    line(1_007_500, 'n2', 'node', 'n1', '', '', '', 'lost'),
    line(1_009_800, 'n2', 'fencing', 'n1', '', '', '0', 'Operation reboot of n1 by n2: OK'),
    line(1_010_500, 'n2', 'resource', 'n2', 'db', 'promote', '0', 'ok'),
    line(1_011_000, 'n2', 'resource', 'n2', 'db-vip', 'start', '0', 'ok'),
  ].join('\n'));
  const t = timelineOf({ t0: 1_000_000, victim: 'n1', events: ev, db: 'db', vip: 'db-vip', firstWrite: 1_011_100 });
  assert.equal(t.detection! - 1_000_000, 7500);
  assert.equal(t.fence! - 1_000_000, 9800);
  assert.equal(t.promotedNode, 'n2');
  assert.equal(t.vipMove! - 1_000_000, 11_000);
  const bmc = timelineOf({ t0: 1_000_000, victim: 'n1', events: ev, db: 'db', vip: 'db-vip', bmcOff: 1_008_000 });
  assert.equal(bmc.fence, 1_008_000);
  assert.equal(bmc.fenceHow, 'BMC power off');
  // kill -9: a failed monitor on the victim is the detection.
  const k = parseEvents(line(1_000_400, 'n1', 'resource', 'n1', 'db', 'monitor', '9', 'promoted (failed)'));
  assert.match(timelineOf({ t0: 1_000_000, victim: 'n1', events: k, db: 'db', vip: 'db-vip' }).detectionHow!, /rc 9/);
});

test('chart: runs of samples, and an SVG that xmllint accepts with every lane and moment', async () => {
  assert.deepEqual(runs([{ t: 0, v: 'a' }, { t: 100, v: 'a' }, { t: 200, v: 'b' }], 300), [{ from: 0, to: 200, v: 'a' }, { from: 200, to: 300, v: 'b' }]);
  const t0 = 1_000_000;
  const samples = [];
  for (let t = t0 - 5000; t < t0 + 20_000; t += 100) {
    samples.push({ t, s: { n1: t < t0 ? 'rw' : 'down', n2: t < t0 + 11_000 ? 'ro' : 'rw', n3: 'ro', 'ro-vip': t < t0 ? 'ro:n2' : 'ro:n3' } });
  }
  const vipSamples = samples.map((s) => ({ t: s.t, holders: s.t < t0 ? ['n1'] : s.t < t0 + 11_000 ? [] : ['n2'] }));
  const svg = timelineSvg({
    title: 'power-off of n1 <&> "test"', nodes: ['n1', 'n2', 'n3'], t0, from: t0 - 5000, to: t0 + 20_000, samples, vipSamples,
    inserts: [...acks(t0 - 5000, t0), ...acks(t0 + 11_100, t0 + 20_000, 1000)].concat([{ id: 0, t: t0 + 500, rt: t0 + 1500, ok: false }]),
    power: [{ node: 'n1', from: t0, to: t0 + 12_000, state: 'off' }, { node: 'n1', from: t0 + 12_000, to: t0 + 19_000, state: 'booting' }],
    marks: [{ t: t0, label: 'failure' }, { t: t0 + 7500, label: 'detection' }, { t: t0 + 11_100, label: 'first write accepted' }],
  });
  const dir = mkdtempSync(join(tmpdir(), 'vigil-svg-'));
  try {
    writeFileSync(join(dir, 't.svg'), svg);
    const r = await run('xmllint', ['--noout', join(dir, 't.svg')], { timeoutMs: 10_000 });
    assert.equal(r.code, 0, `xmllint: ${r.stderr}`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  for (const s of ['write VIP', 'read-only VIP', 'writes', '+7.5 s detection', '+11.1 s first write accepted', 'power off', '&lt;&amp;&gt; &quot;test&quot;']) {
    assert.ok(svg.includes(s), `missing ${s}`);
  }
});

/** The demo's failover (n2 powered off, n3 promoted) as chart input, with the given moments. */
function demoChart(marks: SvgInput['marks']): string {
  const t0 = 1_000_000;
  const samples = [];
  for (let t = t0 - 1200; t < t0 + 28_000; t += 100) {
    samples.push({ t, s: { n1: 'ro', n2: t < t0 ? 'rw' : t < t0 + 19_000 ? 'hung' : 'ro', n3: t < t0 + 12_000 ? 'ro' : 'rw', 'ro-vip': t < t0 + 9000 ? 'ro:n3' : t < t0 + 12_000 ? 'down' : 'ro:n1' } });
  }
  const vipSamples = samples.map((s) => ({ t: s.t, holders: s.t < t0 ? ['n2'] : s.t < t0 + 12_100 ? [] : s.t < t0 + 12_300 ? ['n1', 'n3'] : ['n3'] }));
  return timelineSvg({
    title: 'vigil: power-off of the primary node n2', subtitle: 'writer through 192.0.2.150 every 20 ms', nodes: ['n1', 'n2', 'n3'],
    t0, from: t0 - 5000, to: t0 + 28_000, samples, vipSamples,
    inserts: [...acks(t0 - 1200, t0), ...acks(t0 + 13_100, t0 + 27_000, 1000)].concat([{ id: 0, t: t0 - 100, rt: t0 + 900, ok: false }]),
    power: [{ node: 'n2', from: t0, to: t0 + 8800, state: 'off' }, { node: 'n2', from: t0 + 8800, to: t0 + 22_300, state: 'booting' }],
    marks: marks.map((m) => ({ t: t0 + m.t, label: m.label })),
  });
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

test('chart: the fence moment in a few words, from the alert Pacemaker sends', () => {
  const alert = 'fenced (Operation reboot of n2 by n1 for pacemaker-controld.66@n3: OK (ref=891c874d-1b9e-46ef-b9d1-14536382ce2a))';
  assert.equal(fenceLabel(alert), 'fence: n2 fenced (reboot by n1)');
  assert.equal(fenceLabel('fenced (Operation off of n3 by n2 for stonith_admin.12@n2: Timer expired (ref=x))'), 'fence: n3 fenced (off by n2: Timer expired)');
  assert.equal(fenceLabel('BMC power off'), 'fence: BMC power off');
  const other = fenceLabel(`fenced (${'x'.repeat(200)})`);
  assert.ok(other.length <= 60 && other.endsWith('\u2026'), other);
});

test('chart: every text inside the canvas, and no leader line through a moment label', () => {
  const long = 'fence: fenced (Operation reboot of n2 by n1 for pacemaker-controld.66@n3: OK (ref=891c874d-1b9e-46ef-b9d1-14536382ce2a))';
  const cases = [
    // The demo's moments, the fence's with the alert's whole text as the old chart had it.
    [{ t: 0, label: 'failure: power-off of the primary node (n2)' }, { t: 7500, label: 'detection: n2 lost (n3)' }, { t: 10_800, label: long },
      { t: 11_800, label: 'promotion of n3' }, { t: 12_100, label: 'write VIP up on n3' }, { t: 13_100, label: 'first write accepted' },
      { t: 23_700, label: 'n2 back as a replica' }],
    // Long labels late and early, one wider than the canvas.
    [{ t: -5000, label: long }, { t: 27_000, label: 'detection: monitor of db on n2: rc 7 not running' }, { t: 27_500, label: long.repeat(2) },
      { t: 26_000, label: 'first write accepted' }],
  ];
  for (const marks of cases) {
    const svg = demoChart(marks);
    const W = Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1]);
    // DejaVu Sans averages about 0.53 em per character in these labels (measured with rsvg-convert).
    const labels: Array<{ l: number; r: number; y: number; s: string }> = [];
    for (const m of svg.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)) {
      const a = m[1]!;
      const num = (k: string) => Number(new RegExp(`${k}="([-\\d.]+)"`).exec(a)![1]);
      const s = unescape(m[2]!);
      const w = s.length * num('font-size') * (a.includes('bold') ? 0.6 : 0.55);
      const anchor = /text-anchor="(\w+)"/.exec(a)?.[1] ?? 'start';
      const l = anchor === 'end' ? num('x') - w : anchor === 'middle' ? num('x') - w / 2 : num('x');
      assert.ok(l >= 0 && l + w <= W, `"${s}" spans ${l.toFixed(0)}..${(l + w).toFixed(0)}, the canvas 0..${W}`);
      if (a.includes('fill="#b71c1c"')) labels.push({ l, r: l + w, y: num('y'), s });
    }
    assert.equal(labels.length, marks.length);
    for (const m of svg.matchAll(/<line x1="([\d.]+)" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)" stroke="#b71c1c" stroke-width="0.6"\/>/g)) {
      const [lx, y1, y2] = [Number(m[1]), Number(m[2]), Number(m[3])];
      for (const t of labels) {
        const crosses = lx > t.l && lx < t.r && y1 < t.y - 10 && y2 > t.y - 10;
        assert.ok(!crosses, `the leader at x ${lx} runs through "${t.s}"`);
      }
    }
  }
});

test('chart: the legend explains every colour, and a VIP holder never wears a server state colour', () => {
  const svg = demoChart([{ t: 0, label: 'failure' }]);
  const legendFills = (id: string) => {
    const g = new RegExp(`<g id="${id}">([\\s\\S]*?)</g>`).exec(svg);
    assert.ok(g, `legend row ${id}`);
    return [...g[1]!.matchAll(/<rect [^>]*fill="([^"]+)"/g)].map((m) => m[1]!);
  };
  const legend = new Set([...legendFills('legend-servers'), ...legendFills('legend-vips'), ...legendFills('legend-writes')]);
  const drawn = [...svg.matchAll(/<rect [^>]*fill="([^"]+)"[^>]*><title>([^<]*)<\/title>/g)].map((m) => ({ fill: m[1]!, title: unescape(m[2]!) }));
  for (const r of drawn) assert.ok(legend.has(r.fill), `${r.fill} (${r.title}) is not in the legend`);
  const rgb = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const distance = (a: string, b: string) => Math.hypot(...rgb(a).map((v, i) => v - rgb(b)[i]!));
  // Hatched states by their base colour (the <pattern>s in <defs>).
  const states = [...legendFills('legend-servers'), ...legendFills('legend-writes')]
    .map((f) => f === 'url(#off)' ? '#424242' : f === 'url(#boot)' ? '#8d6e63' : f).concat('#d50000');
  const holders = drawn.filter((r) => /^(write|read-only) VIP: n\d /.test(r.title));
  assert.deepEqual(new Set(holders.map((r) => /VIP: (\S+)/.exec(r.title)![1])), new Set(['n1', 'n2', 'n3']));
  for (const h of holders) {
    // Not only different, far: the old n3 orange #ef6c00 was a different hex from the hung #ff9800.
    for (const s of states) assert.ok(distance(h.fill, s) >= 80, `${h.title} drawn ${h.fill}, too close to the legend's ${s}`);
  }
});

test('servers and cluster as the lab configures them', () => {
  const vigil = optionFile({ serverId: 2, node: 'n2', stack: 'vigil', semisync: true });
  for (const l of ['server_id=2', 'report_host=n2', 'log_bin=mysql-bin', 'log_slave_updates=ON', 'binlog_format=ROW', 'sync_binlog=1',
    'innodb_flush_log_at_trx_commit=1', 'relay_log_recovery=ON', 'skip_name_resolve=ON', 'gtid_strict_mode=ON']) {
    assert.ok(vigil.split('\n').includes(l), l);
  }
  assert.ok(!vigil.includes('rpl_semi_sync'), 'vigil configures semi-sync itself');
  const hb = optionFile({ serverId: 1, node: 'n1', stack: 'heartbeat', semisync: true });
  assert.ok(!hb.includes('gtid_strict_mode') && hb.includes('rpl_semi_sync_master_enabled=ON') && hb.includes('rpl_semi_sync_slave_enabled=ON'));
  const lab = new Lab({ ...DEFAULTS, dir: '/var/lib/vigil-lab-model' });
  const v = dbCreateArgs(lab, VIGIL_DB, { semisync: true });
  assert.deepEqual(v.slice(0, 4), ['resource', 'create', 'db', 'ocf:vigil:mysql']);
  assert.deepEqual(v.slice(-3), ['promotable', 'promoted-max=1', 'notify=true']);
  assert.ok(v.includes('node_map=n1=192.0.2.11 n2=192.0.2.12 n3=192.0.2.13') && v.includes('semisync=true'));
  assert.ok(v.includes('migration-threshold=1') && v.some((a) => a.startsWith('failure-timeout=')));
  assert.ok(!v.some((a) => a.includes('passw') && a.includes('=') && !a.startsWith('replication_password_file=')), 'no password in the CIB');
  const h = dbCreateArgs(lab, HEARTBEAT_DB, { semisync: false });
  assert.ok(h.includes('binary=/usr/sbin/mariadbd'), 'heartbeat must not run mysqld_safe');
  const cmds = vipCommands(VIGIL_DB).map((c) => c.join(' '));
  assert.ok(cmds.includes('constraint colocation add db-vip with Promoted db-clone INFINITY'));
  assert.ok(cmds.includes('constraint order promote db-clone then start db-vip'));
  assert.ok(cmds.includes('constraint location db-ro-vip rule score=-INFINITY not_defined db-grade or db-grade ne OK'));
  assert.ok(cmds.indexOf('resource enable db-vip') > cmds.indexOf('constraint order promote db-clone then start db-vip'), 'enabled only once constrained');
  assert.ok(!vipCommands(HEARTBEAT_DB).some((c) => c.includes('db-ro-vip')));
});
