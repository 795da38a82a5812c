// The lab's pure parts, without a cluster: the plan (names, addresses, MACs, config files), the
// readers of crm_mon XML (fixtures captured from this lab), arping output, alert lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULTS, PROBE_SOURCES, REPO_ROOT, baseMounts, configProblems, corosyncConf, hostsText, ipmiLanConf, keptPaths, mountsText,
  nodeNames, nodePlan, type LabConfig,
} from './lib/plan.ts';
import { parseCrmMon, runningOn } from './lib/crm.ts';
import { holdsAddress, parseArping, splitBrains } from './lib/sampler.ts';
import { fenced, nodeLost, parseEvents, startedElsewhere } from './lib/events.ts';

const cfg = (o: Partial<LabConfig> = {}): LabConfig => ({ ...DEFAULTS, dir: '/var/lib/vigil-lab', ...o });
const fixture = (f: string) => readFileSync(join(REPO_ROOT, 'test', 'lab', 'fixtures', f), 'utf8');

test('plan: the default configuration is valid; bad ones say what is wrong', () => {
  assert.deepEqual(configProblems(cfg()), []);
  const cases: Array<[Partial<LabConfig>, RegExp]> = [
    [{ dir: 'relative/dir' }, /absolute/],
    [{ dir: join(REPO_ROOT, 'lab-state') }, /inside the git tree/],
    [{ dir: '/tmp/a b' }, /spaces/],
    // Every node mounts its own empty /tmp, /run and /dev/shm: it would not see its disk there.
    [{ dir: '/tmp/lab' }, /must not be under \/tmp: every node gets its own empty \/tmp .*set VIGIL_LAB_DIR/],
    [{ dir: '/run/vigil-lab' }, /must not be under \/run/],
    [{ dir: '/var/run/vigil-lab' }, /must not be under \/run/],
    [{ dir: '/dev/shm' }, /must not be under \/dev\/shm/],
    [{ agentsDir: 'dist' }, /agents dir must be an absolute path/],
    [{ nodes: 1 }, /nodes must be/],
    [{ nodes: 9 }, /nodes must be/],
    [{ prefix: 'Vlab' }, /prefix/],
    [{ prefix: 'averylongprefix' }, /prefix/],
    [{ tokenMs: 100 }, /token/],
    // A POST shorter than token + consensus lets a fenced node return before it was dropped.
    [{ tokenMs: 5000, postDelayMs: 10_000 }, /post delay/],
    [{ bmcPassword: 'pa ss' }, /password/],
  ];
  for (const [o, re] of cases) {
    const p = configProblems(cfg(o));
    assert.ok(p.some((x) => re.test(x)), `${JSON.stringify(o)} -> ${JSON.stringify(p)}`);
  }
});

test('plan: every address and MAC is unique, in TEST-NET ranges, and node names map back', () => {
  const c = cfg({ nodes: 8 });
  const seen = new Set<string>();
  for (const n of nodeNames(c)) {
    const p = nodePlan(c, n);
    for (const v of [p.lanIp, p.mgmtIp, p.bmcIp, p.lanMac, p.mgmtMac, p.bmcMac]) {
      assert.ok(!seen.has(v), `duplicate ${v}`);
      seen.add(v);
    }
    assert.match(p.lanIp, /^192\.0\.2\.\d+$/);
    assert.match(p.mgmtIp, /^198\.51\.100\.\d+$/);
    assert.match(p.bmcIp, /^198\.51\.100\.\d+$/);
    // Locally administered unicast MACs.
    for (const m of [p.lanMac, p.mgmtMac, p.bmcMac]) assert.match(m, /^02:00(:[0-9a-f]{2}){4}$/);
  }
  for (const a of PROBE_SOURCES) assert.ok(!seen.has(a));
  assert.throws(() => nodePlan(cfg({ nodes: 3 }), 'n4'), /no node "n4"/);
  assert.throws(() => nodePlan(cfg(), 'x1; rm -rf /'), /no node/);
});

test('plan: corosync.conf uses knet, the token, every node, and two_node only with two nodes', () => {
  const three = corosyncConf(cfg({ tokenMs: 1000 }));
  assert.match(three, /transport: knet/);
  assert.match(three, /token: 1000/);
  assert.equal(three.match(/ring0_addr: 192\.0\.2\.1\d/g)?.length, 3);
  assert.doesNotMatch(three, /two_node/);
  assert.match(corosyncConf(cfg({ nodes: 2 })), /two_node: 1/);
  assert.match(hostsText(cfg()), /^192\.0\.2\.12 n2$/m);
});

test('plan: the BMC config points chassis control at the lab and the node', () => {
  const c = cfg();
  const text = ipmiLanConf(c, nodePlan(c, 'n2'), '/x/chassis');
  assert.match(text, /addr 198\.51\.100\.102 623/);
  assert.match(text, /chassis_control "\/x\/chassis \/var\/lib\/vigil-lab n2"/);
  assert.match(text, new RegExp(`user 2 true "${c.bmcUser}" "${c.bmcPassword}" admin`));
});

test('plan: mount steps are written one per line, tab-separated (paths may hold spaces), and refuse relative paths, tabs, newlines', () => {
  const steps = baseMounts('/lab/nodes/n1/disk', { ocfDir: '/repo/dist/resource.d', sbinDir: '/repo/dist/sbin', providers: ['vigil'], fenceAgents: ['fence_ipmi'] });
  const text = mountsText(steps);
  assert.match(text, /^bind\t\/lab\/nodes\/n1\/disk\/var-lib-pacemaker\t\/var\/lib\/pacemaker$/m);
  assert.match(text, /^overlay\t\/usr\/lib\/ocf\/resource\.d$/m);
  assert.match(text, /^symlink\t\/repo\/dist\/resource\.d\/vigil\t\/usr\/lib\/ocf\/resource\.d\/vigil$/m);
  assert.match(text, /^symlink\t\/repo\/dist\/sbin\/fence_ipmi\t\/usr\/sbin\/fence_ipmi$/m);
  // The overlay comes before the links it receives.
  assert.ok(text.indexOf('overlay\t/usr/sbin') < text.indexOf('symlink\t/repo/dist/sbin'));
  assert.doesNotMatch(text, /^keep/m);
  assert.doesNotMatch(mountsText(baseMounts('/d', { ocfDir: '/r', sbinDir: '/s', providers: [], fenceAgents: [] })), /overlay/);
  assert.throws(() => mountsText([{ op: 'bind', from: 'rel', to: '/x' }]), /absolute/);
  assert.throws(() => mountsText([{ op: 'tmpfs', at: '/a\tb' }]), /tabs/);
  assert.throws(() => mountsText([{ op: 'mkdir', at: '/a\nb' }]), /newlines/);
  // A clone in "/tmp/my vigil": the node keeps it (first), and the links into it keep their space.
  const clone = mountsText(baseMounts('/d', { ocfDir: '/tmp/my vigil/dist/resource.d', sbinDir: '/tmp/my vigil/dist/sbin', providers: ['vigil'], fenceAgents: [] },
    ['/tmp/my vigil']));
  assert.match(clone, /^keep\t\/tmp\/my vigil\n/);
  assert.match(clone, /^symlink\t\/tmp\/my vigil\/dist\/resource\.d\/vigil\t\/usr\/lib\/ocf\/resource\.d\/vigil$/m);
});

test('plan: a node keeps the host folders under its private /tmp, /run, /dev/shm, once each', () => {
  const cases: Array<[string[], string[]]> = [
    [['/srv/vigil', '/srv/vigil/dist'], []],
    [['/root/x', '/home/u/x', '/var/lib/vigil-lab/pkg-root'], []],
    [['/tmp/x'], ['/tmp/x']],
    [['/tmp/x', '/tmp/x/dist'], ['/tmp/x']],
    [['/tmp/x/', '/tmp/x'], ['/tmp/x']],
    [['/tmp/x', '/tmp/xy/dist'], ['/tmp/x', '/tmp/xy/dist']],
    [['/tmp/a b/vigil', '/run/user/0/pkg'], ['/run/user/0/pkg', '/tmp/a b/vigil']],
    [['/srv/vigil', '/dev/shm/agents'], ['/dev/shm/agents']],
    [['/tmpfoo/x', '/running/x'], []],
  ];
  for (const [input, want] of cases) assert.deepEqual(keptPaths(input), want, JSON.stringify(input));
});

test('crm_mon XML: an unclean node holding the VIP after a failed fencing', () => {
  const s = parseCrmMon(fixture('crm_mon-unclean.xml'));
  assert.equal(s.dc, 'n2');
  assert.equal(s.quorate, true);
  const n3 = s.nodes.find((n) => n.name === 'n3')!;
  assert.deepEqual([n3.online, n3.unclean], [false, true]);
  assert.deepEqual(runningOn(s, 'vip'), ['n3']);
  assert.equal(s.resources.find((r) => r.id === 'vip')?.agent, 'ocf:vigil:vip');
  assert.ok(s.fenceHistory.some((f) => f.target === 'n3' && f.status === 'failed'));
  assert.deepEqual(runningOn(s, 'nothing'), []);
});

test('crm_mon XML: after the fence succeeded every node is back online', () => {
  const s = parseCrmMon(fixture('crm_mon-after-fence.xml'));
  assert.ok(s.nodes.every((n) => n.online && !n.unclean));
  assert.equal(s.nodes.length, 3);
  assert.ok(s.fenceHistory.some((f) => f.target === 'n3' && f.status === 'success' && f.delegate === 'n2'));
  // Stonith devices are resources too, each with the node it runs on.
  assert.equal(s.resources.filter((r) => r.agent === 'stonith:fence_ipmi').length, 3);
});

test('arping: only unicast replies count, MACs map to nodes, unknown MACs stay visible', () => {
  const macs = new Map([['02:00:c0:00:02:0b', 'n1'], ['02:00:c0:00:02:0c', 'n2']]);
  const out = `ARPING 192.0.2.100 from 192.0.2.201 eth0
Unicast reply from 192.0.2.100 [02:00:C0:00:02:0C]  0.561ms
Broadcast reply from 192.0.2.100 [02:00:C0:00:02:0B]  0.600ms
Unicast reply from 192.0.2.100 [02:00:C0:00:02:0C]  0.562ms
Unicast reply from 192.0.2.100 [AA:BB:CC:00:00:01]  0.9ms
Sent 1 probes (1 broadcast(s))
Received 3 response(s)`;
  assert.deepEqual(parseArping(out, macs), ['aa:bb:cc:00:00:01', 'n2']);
  assert.deepEqual(parseArping('Sent 1 probes\nReceived 0 response(s)', macs), []);
});

test('ip addr: the VIP is held only when listed as an address (not a prefix of another)', () => {
  const out = '2: eth0    inet 192.0.2.11/24 brd 192.0.2.255 scope global eth0\n2: eth0    inet 192.0.2.100/24 scope global secondary eth0';
  assert.equal(holdsAddress(out, '192.0.2.100'), true);
  assert.equal(holdsAddress(out, '192.0.2.10'), false);
  assert.equal(holdsAddress('2: eth0    inet 192.0.2.1000/24', '192.0.2.100'), false);
  assert.equal(holdsAddress(out, '192.0.2.1'), false);
  assert.deepEqual(splitBrains([{ t: 1, holders: ['n1'], arp: ['n1'] }, { t: 2, holders: ['n1'], arp: ['n1', 'n2'] }]).map((s) => s.t), [2]);
});

test('alert lines: parsed with their microsecond stamps, and the scenario predicates pick them', () => {
  const text = [
    '1795316441.026106\tn3\tnode\tn2\t\t\t\t\t\tlost',
    '1795316441.234106\tn1\tfencing\tn2\t\tst_notify_fence\t0\t\t\tOperation reboot of n2 by n1: OK',
    '1795316442.100000\tn1\tresource\tn3\tvip\tstart\t0\t0\t0\tok',
    'garbage',
  ].join('\n');
  const ev = parseEvents(text);
  assert.equal(ev.length, 3);
  assert.equal(ev[0]!.t, 1795316441026);
  assert.ok(nodeLost('n2')(ev[0]!));
  assert.ok(fenced('n2')(ev[1]!));
  assert.ok(startedElsewhere('vip', 'n2')(ev[2]!));
  assert.ok(!startedElsewhere('vip', 'n3')(ev[2]!));
});
