import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseLocalSource, permanentAddress, resolvePlacement, runningFromInterfaces, vipStatus } from '../../../agents/vip/decide.ts';
import type { Iface, Route } from '../../../lib/net/ip.ts';
import { parseProbeMacs } from '../../../lib/net/probe.ts';

const routes: Route[] = [
  { dst: 'default', gateway: '192.0.2.254', dev: 'eth0' },
  { dst: '192.0.2.0/24', dev: 'eth0', scope: 'link', prefsrc: '192.0.2.1' },
  { dst: '198.51.100.0/24', dev: 'eth1', scope: 'link' },
  { dst: '198.51.100.0/25', dev: 'eth2', scope: 'link' },
  { dst: '203.0.113.0/24', dev: 'eth3', scope: 'link' },
  { dst: '203.0.113.0/24', dev: 'eth4', scope: 'link' },
  { dst: '2001:db8::/64', dev: 'eth0', scope: 'link' },
  { dst: 'fe80::/64', dev: 'eth0', scope: 'link' },
];

test('placement from routes, explicit values, ambiguity and impossibility', () => {
  assert.deepEqual(resolvePlacement('192.0.2.10', undefined, undefined, routes), { ok: { family: 4, ip: '192.0.2.10', prefix: 24, nic: 'eth0' } });
  assert.deepEqual(resolvePlacement('198.51.100.5', undefined, undefined, routes), { ok: { family: 4, ip: '198.51.100.5', prefix: 25, nic: 'eth2' } }, 'longest prefix wins');
  assert.deepEqual(resolvePlacement('198.51.100.200', undefined, undefined, routes), { ok: { family: 4, ip: '198.51.100.200', prefix: 24, nic: 'eth1' } });
  assert.match((resolvePlacement('203.0.113.9', undefined, undefined, routes) as { error: string }).error, /several interfaces \(eth3, eth4\)/);
  assert.deepEqual(resolvePlacement('203.0.113.9', 'eth4', undefined, routes), { ok: { family: 4, ip: '203.0.113.9', prefix: 24, nic: 'eth4' } });
  assert.match((resolvePlacement('192.0.3.1', undefined, undefined, routes) as { error: string }).error, /no connected route contains/);
  assert.match((resolvePlacement('192.0.3.1', 'eth0', undefined, routes) as { error: string }).error, /no connected route on eth0/);
  assert.deepEqual(resolvePlacement('192.0.3.1', 'eth0', '32', []), { ok: { family: 4, ip: '192.0.3.1', prefix: 32, nic: 'eth0' } });
  assert.deepEqual(resolvePlacement('192.0.2.10', undefined, '255.255.255.128', routes), { ok: { family: 4, ip: '192.0.2.10', prefix: 25, nic: 'eth0' } });
  assert.match((resolvePlacement('192.0.2.10', 'eth0', '99', []) as { error: string }).error, /cidr_netmask "99"/);
  assert.deepEqual(resolvePlacement('2001:DB8::10', undefined, undefined, routes), { ok: { family: 6, ip: '2001:db8::10', prefix: 64, nic: 'eth0' } });
  assert.match((resolvePlacement('fe80::5', undefined, undefined, routes) as { error: string }).error, /no connected route/, 'link-local is never a VIP home');
});

const iface = (over: Partial<Iface> = {}, addrs: Iface['addr_info'] = []): Iface => ({
  ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], operstate: 'UP', address: '02:00:00:00:00:01', addr_info: addrs, ...over,
});
const vip = { family: 'inet' as const, local: '192.0.2.10', prefixlen: 24, secondary: true };

test('status: absent, running, down, wrong nic, tentative, dadfailed', () => {
  assert.deepEqual(vipStatus([], '192.0.2.10', 'eth0'), { state: 'absent' });
  assert.equal(vipStatus([iface({}, [vip])], '192.0.2.10', 'eth0').state, 'running');
  assert.equal(vipStatus([iface({}, [vip])], '192.0.2.10', undefined).state, 'running');
  const down = vipStatus([iface({ flags: ['BROADCAST', 'UP', 'NO-CARRIER'], operstate: 'DOWN' }, [vip])], '192.0.2.10', 'eth0');
  assert.equal(down.state, 'failed');
  assert.match((down as { reason: string }).reason, /interface is down/);
  const other = vipStatus([iface({ ifname: 'eth1' }, [vip])], '192.0.2.10', 'eth0');
  assert.match((other as { reason: string }).reason, /configured on eth1, not on eth0/);
  const v6 = { family: 'inet6' as const, local: '2001:db8::10', prefixlen: 64 };
  assert.equal(vipStatus([iface({}, [{ ...v6, tentative: true }])], '2001:db8:0::10', 'eth0').state, 'tentative');
  assert.match((vipStatus([iface({}, [{ ...v6, tentative: true, dadfailed: true }])], '2001:db8::10', 'eth0') as { reason: string }).reason, /duplicate address detection failed/);
});

test('permanent address: same family, not the VIP, primary first, no transient states', () => {
  const i = iface({}, [
    vip,
    { family: 'inet', local: '192.0.2.5', prefixlen: 24, secondary: true },
    { family: 'inet', local: '192.0.2.1', prefixlen: 24 },
    { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
    { family: 'inet6', local: '2001:db8::9', prefixlen: 64, tentative: true },
    { family: 'inet6', local: '2001:db8::1', prefixlen: 64 },
  ]);
  assert.equal(permanentAddress(i, '192.0.2.10', 4), '192.0.2.1');
  assert.equal(permanentAddress(i, '2001:db8::10', 6), '2001:db8::1');
  assert.equal(permanentAddress(iface({}, [vip]), '192.0.2.10', 4), undefined);
  assert.deepEqual(chooseLocalSource('none', i, '192.0.2.10', 4), { skip: 'local_src=none' });
  assert.deepEqual(chooseLocalSource('auto', i, '192.0.2.10', 4), { src: '192.0.2.1' });
  assert.deepEqual(chooseLocalSource('192.0.2.5', i, '192.0.2.10', 4), { src: '192.0.2.5' });
  assert.match(chooseLocalSource('192.0.2.99', i, '192.0.2.10', 4).error!, /not an address of eth0/);
  assert.match(chooseLocalSource('2001:db8::1', i, '192.0.2.10', 4).error!, /not an IPv4 address/);
  assert.ok(chooseLocalSource('auto', iface({}, [vip]), '192.0.2.10', 4).skip);
});

test('probe output parsing (arping and ndisc6)', () => {
  const arping = 'ARPING 192.0.2.2 from 0.0.0.0 eth0\nUnicast reply from 192.0.2.2 [02:00:00:00:00:02]  0.595ms\nUnicast reply from 192.0.2.2 [02:00:00:00:00:0A]  0.6ms\nSent 1 probes\n';
  assert.deepEqual(parseProbeMacs(arping), ['02:00:00:00:00:02', '02:00:00:00:00:0a']);
  const nd = 'Soliciting 2001:db8::100 (2001:db8::100) on eth0...\nTarget link-layer address: 02:00:00:00:00:02\n from 2001:db8::100\n';
  assert.deepEqual(parseProbeMacs(nd), ['02:00:00:00:00:02']);
  assert.deepEqual(parseProbeMacs('Timed out.\nNo response.\n'), []);
});

test('monitor fast path: found on an up interface, IPv6 only when DAD is done', () => {
  const nics = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', mac: '00:00:00:00:00:00', cidr: '127.0.0.1/8' }],
    eth0: [
      { address: '192.0.2.1', family: 'IPv4', mac: '02:00:00:00:00:01', cidr: '192.0.2.1/24' },
      { address: '192.0.2.10', family: 'IPv4', mac: '02:00:00:00:00:01', cidr: '192.0.2.10/24' },
      { address: '2001:db8::10', family: 'IPv6', mac: '02:00:00:00:00:01', cidr: '2001:db8::10/64' },
    ],
  };
  const inet6 = (flags: string) => `20010db8000000000000000000000010 02 40 00 ${flags}     eth0\n`;
  assert.deepEqual(runningFromInterfaces(nics, '192.0.2.10', 'eth0', ''), { ifname: 'eth0', mac: '02:00:00:00:00:01' });
  assert.deepEqual(runningFromInterfaces(nics, '192.0.2.10', undefined, ''), { ifname: 'eth0', mac: '02:00:00:00:00:01' });
  assert.equal(runningFromInterfaces(nics, '192.0.2.10', 'eth1', ''), undefined, 'wrong nic: slow path decides');
  assert.equal(runningFromInterfaces(nics, '192.0.2.11', 'eth0', ''), undefined);
  assert.ok(runningFromInterfaces(nics, '2001:DB8::10', 'eth0', inet6('80')));
  assert.equal(runningFromInterfaces(nics, '2001:db8::10', 'eth0', inet6('c0')), undefined, 'tentative');
  assert.equal(runningFromInterfaces(nics, '2001:db8::10', 'eth0', inet6('c8')), undefined, 'dadfailed');
  assert.equal(runningFromInterfaces(nics, '2001:db8::10', 'eth0', ''), undefined, 'no flags known');
});

test('monitor fast path: an address with a label is listed under "eth0:label" and still belongs to eth0', () => {
  const nics = { 'eth0:web': [{ address: '192.0.2.10', family: 'IPv4', mac: '02:00:00:00:00:01', cidr: '192.0.2.10/24' }] };
  assert.deepEqual(runningFromInterfaces(nics, '192.0.2.10', 'eth0', ''), { ifname: 'eth0', mac: '02:00:00:00:00:01' });
  assert.deepEqual(runningFromInterfaces(nics, '192.0.2.10', undefined, ''), { ifname: 'eth0', mac: '02:00:00:00:00:01' });
});
