import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalIp, inPrefix, ipBytes, ipFamily, parsePrefix, sameIp, validInterfaceName } from '../../../lib/net/addr.ts';

test('families', () => {
  assert.equal(ipFamily('192.0.2.1'), 4);
  assert.equal(ipFamily('2001:db8::1'), 6);
  for (const bad of ['192.0.2.300', '192.0.2.1/24', 'fe80::1%eth0', 'eth0', '', '1.2.3', '2001:db8:::1']) assert.equal(ipFamily(bad), undefined, bad);
});

test('canonical IPv6 text (RFC 5952)', () => {
  const cases: Array<[string, string]> = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], ['2001:db8::0:1', '2001:db8::1'], ['::', '::'], ['::1', '::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:1:1:1:1:1:1', '2001:db8:1:1:1:1:1:1'], ['::ffff:192.0.2.1', '::ffff:c000:201'], ['1::', '1::'],
  ];
  for (const [i, o] of cases) assert.equal(canonicalIp(i), o, i);
});

test('canonical form agrees with the URL parser for random addresses', () => {
  fc.assert(fc.property(fc.ipV6(), (ip) => {
    const viaUrl = new URL(`http://[${ip}]`).hostname.slice(1, -1);
    assert.deepEqual(ipBytes(canonicalIp(ip)), ipBytes(viaUrl));
    assert.ok(sameIp(ip, viaUrl));
  }), { numRuns: 500 });
});

test('prefix membership', () => {
  assert.ok(inPrefix('192.0.2.77', '192.0.2.0', 24));
  assert.ok(!inPrefix('192.0.3.1', '192.0.2.0', 24));
  assert.ok(inPrefix('192.0.2.1', '192.0.2.0', 31));
  assert.ok(!inPrefix('192.0.2.2', '192.0.2.0', 31));
  assert.ok(inPrefix('10.0.0.1', '0.0.0.0', 0));
  assert.ok(inPrefix('2001:db8::5', '2001:db8::', 64));
  assert.ok(!inPrefix('2001:db9::5', '2001:db8::', 32));
  assert.ok(!inPrefix('192.0.2.1', '2001:db8::', 0), 'families never mix');
  fc.assert(fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, len) => inPrefix(ip, ip, len)));
});

test('prefix lengths and netmasks', () => {
  assert.equal(parsePrefix('24', 4), 24);
  assert.equal(parsePrefix('255.255.255.0', 4), 24);
  assert.equal(parsePrefix('255.255.255.255', 4), 32);
  assert.equal(parsePrefix('255.0.255.0', 4), undefined);
  assert.equal(parsePrefix('33', 4), undefined);
  assert.equal(parsePrefix('99', 4), undefined);
  assert.equal(parsePrefix('128', 6), 128);
  assert.equal(parsePrefix('255.255.255.0', 6), undefined);
});

test('interface names', () => {
  for (const ok of ['eth0', 'ens3', 'br-lan', 'bond0.100', 'veth_x']) assert.ok(validInterfaceName(ok), ok);
  for (const bad of ['eth0;reboot', 'eth0 ', '$(id)', 'a/b', '', 'averyveryverylongname', 'eth0:1', '-x']) assert.ok(!validInterfaceName(bad), bad);
});
