// The MariaDB scenarios' pure parts, without a cluster: what the writer's log says (outages, lost
// commits), the sampler's (two writable servers), the timeline from alert lines, the chart (valid
// SVG by xmllint), and the configuration the lab gives the servers and the cluster.
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
import { runs, timelineSvg } from './lib/timeline-svg.ts';
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
