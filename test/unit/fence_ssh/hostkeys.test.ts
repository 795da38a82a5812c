import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  algorithmsForKeyType, blobKeyType, fingerprint, knownHostsName, knownKeyTypes, parseKnownHosts, parsePins,
  patternsMatch, verifyHostKey, FINGERPRINT_RE,
} from '../../../lib/ssh/hostkeys.ts';

// Real keys and what OpenSSH 9.2 said about them (ssh-keygen -l -E sha256, ssh-keygen -H).
const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIOq2yp9JCmAFxH0GMqGWMnlhaYnDxk5lb1zMsTjwWQaq';
const ED_FP = 'SHA256:LNDfSVAKGidy/yxdxfETHoUpzcMnSJ6J7qVxO7uITxY';
const EC = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCC69xZcWfi5d2b+bOEg6N+YtHhHA8ATAj0SjfJp+wKWFZ3KlbUBUrI70SIiE+jDmE2ShSQJ0fcibOPfwqydIb8=';
const EC_FP = 'SHA256:klreq/LdlePnvuJDcdHy+VE9KBt6Q3mHqy7Wxig77HE';
const HASHED = [
  `|1|io7ggchB1KAJFL4a6W1d+wtLmi0=|JBT3R8XWozg8eEUB4ACD/C7rGSw= ssh-ed25519 ${ED}`, // 203.0.113.10
  `|1|vvINzt85B2NdwLuHW1klmeHsLqI=|C6drtjn8BBne5GknT/KNLDgOjoM= ecdsa-sha2-nistp256 ${EC}`, // [203.0.113.10]:2222
].join('\n');
const ed = Buffer.from(ED, 'base64');
const ec = Buffer.from(EC, 'base64');

test('fingerprints and key types are the ones ssh-keygen prints', () => {
  assert.equal(fingerprint(ed), ED_FP);
  assert.equal(fingerprint(ec), EC_FP);
  assert.equal(blobKeyType(ed), 'ssh-ed25519');
  assert.equal(blobKeyType(ec), 'ecdsa-sha2-nistp256');
  assert.equal(blobKeyType(Buffer.from([0, 0, 0])), undefined);
  assert.equal(blobKeyType(Buffer.from([0, 0, 0, 200, 1])), undefined);
  assert.match(ED_FP, FINGERPRINT_RE);
  assert.deepEqual(algorithmsForKeyType('ssh-rsa'), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  assert.deepEqual(algorithmsForKeyType('ssh-ed25519'), ['ssh-ed25519']);
});

test('pins: one or several fingerprints, anything else is reported', () => {
  assert.deepEqual(parsePins(`${ED_FP}, ${EC_FP}`), { pins: [ED_FP, EC_FP], bad: [] });
  assert.deepEqual(parsePins('MD5:aa:bb').bad, ['MD5:aa:bb']);
  assert.deepEqual(parsePins(`${ED_FP.slice(0, -1)}`).bad.length, 1);
});

test('known_hosts parsing: comments, markers, malformed lines and lines whose key lies about its type', () => {
  const lines = parseKnownHosts([
    '# comment',
    '',
    `host1 ssh-ed25519 ${ED} comment words`,
    `@revoked * ecdsa-sha2-nistp256 ${EC}`,
    `@cert-authority *.example ssh-ed25519 ${ED}`,
    `@unknown host2 ssh-ed25519 ${ED}`,
    'host3 ssh-ed25519',
    `host4 ssh-rsa ${ED}`,
    `host5 ssh-ed25519 not*base64`,
  ].join('\n'));
  assert.deepEqual(lines.map((l) => [l.line, l.marker ?? '', l.patterns, l.keyType]), [
    [3, '', 'host1', 'ssh-ed25519'],
    [4, 'revoked', '*', 'ecdsa-sha2-nistp256'],
    [5, 'cert-authority', '*.example', 'ssh-ed25519'],
  ]);
});

test('host patterns: lists, wildcards, negation, ports, case, hashed names', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a.example,b.example', 'b.example', true],
    ['*.example', 'n1.example', true],
    ['*.example', 'example', false],
    ['n?.lab', 'n1.lab', true],
    ['n?.lab', 'n10.lab', false],
    ['*.lab,!n2.lab', 'n2.lab', false],
    ['!n2.lab,*.lab', 'n1.lab', true],
    ['!n2.lab', 'n1.lab', false],
    ['N1.LAB', 'n1.lab', true],
    ['203.0.113.10', '[203.0.113.10]:2222', false],
    ['[203.0.113.10]:2222', '[203.0.113.10]:2222', true],
    ['203.0.113.*', '203.0.113.10', true],
    ['203.0.113.1', '203.0.113.10', false],
    ['a+b', 'aab', false],
  ];
  for (const [p, name, want] of cases) assert.equal(patternsMatch(p, name), want, `${p} vs ${name}`);
  const [h1, h2] = HASHED.split('\n').map((l) => l.split(' ')[0]!);
  assert.equal(patternsMatch(h1!, '203.0.113.10'), true);
  assert.equal(patternsMatch(h1!, '203.0.113.11'), false);
  assert.equal(patternsMatch(h2!, '[203.0.113.10]:2222'), true);
  assert.equal(patternsMatch(h2!, '203.0.113.10'), false);
  assert.equal(knownHostsName('N1.Lab', 22), 'n1.lab');
  assert.equal(knownHostsName('2001:db8::1', 2222), '[2001:db8::1]:2222');
  assert.equal(knownHostsName('[2001:db8::1]', 22), '2001:db8::1');
});

test('a pattern never matches what it does not literally say (regex characters are literal)', () => {
  fc.assert(fc.property(fc.stringMatching(/^[a-z0-9.+()[\]^$|{}\\-]{1,12}$/), fc.stringMatching(/^[a-z0-9.-]{1,12}$/), (pat, name) => {
    if (pat.includes('*') || pat.includes('?')) return;
    assert.equal(patternsMatch(pat, name), pat.toLowerCase() === name.toLowerCase());
  }));
});

const kh = (text: string | undefined, problem?: string) => ({ path: '/etc/kh', ...(text !== undefined ? { text } : {}), ...(problem ? { problem } : {}) });

test('verdicts: known key, unknown host, changed key, missing file, revoked, hashed entries, ports', () => {
  const file = `n1 ssh-ed25519 ${ED}\n[n1]:2222 ecdsa-sha2-nistp256 ${EC}\n`;
  const ok = verifyHostKey({ host: 'n1', port: 22, knownHosts: kh(file) }, ed);
  assert.deepEqual(ok, { ok: true, fingerprint: ED_FP, keyType: 'ssh-ed25519', how: '/etc/kh line 1' });

  const changed = verifyHostKey({ host: 'n1', port: 22, knownHosts: kh(file) }, ec);
  assert.equal(changed.ok, false);
  assert.equal(!changed.ok && changed.kind, 'changed');
  assert.match(!changed.ok ? changed.reason : '', new RegExp(`HOST KEY CHANGED for n1: the server presented ecdsa-sha2-nistp256 ${EC_FP.replace(/[+/]/g, '\\$&')}, but /etc/kh has line 1: ssh-ed25519 ${ED_FP.replace(/[+/]/g, '\\$&')}`));
  assert.match(!changed.ok ? changed.reason : '', /host_key=SHA256:klreq/);

  const unknown = verifyHostKey({ host: 'n2', port: 22, knownHosts: kh(file) }, ed);
  assert.equal(!unknown.ok && unknown.kind, 'unknown');
  assert.match(!unknown.ok ? unknown.reason : '', /unknown host key for n2: the server presented ssh-ed25519 SHA256:LNDf.*not in \/etc\/kh\. .*host_key=SHA256:LNDf/);

  const missing = verifyHostKey({ host: 'n1', port: 22, knownHosts: kh(undefined, 'file missing') }, ed);
  assert.match(!missing.ok ? missing.reason : '', /not in \/etc\/kh \(file missing\)/);

  assert.equal(verifyHostKey({ host: 'n1', port: 2222, knownHosts: kh(file) }, ec).ok, true);
  assert.equal(verifyHostKey({ host: 'n1', port: 2222, knownHosts: kh(file) }, ed).ok, false);

  const revoked = verifyHostKey({ host: 'n1', port: 22, knownHosts: kh(`${file}@revoked * ssh-ed25519 ${ED}\n`) }, ed);
  assert.equal(!revoked.ok && revoked.kind, 'revoked');
  assert.match(!revoked.ok ? revoked.reason : '', /revoked \(@revoked, \/etc\/kh line 3\)/);

  assert.equal(verifyHostKey({ host: '203.0.113.10', port: 22, knownHosts: kh(HASHED) }, ed).ok, true);
  assert.equal(verifyHostKey({ host: '203.0.113.10', port: 2222, knownHosts: kh(HASHED) }, ec).ok, true);
  assert.equal(verifyHostKey({ host: '203.0.113.11', port: 22, knownHosts: kh(HASHED) }, ed).ok, false);

  const ca = verifyHostKey({ host: 'n9.example', port: 22, knownHosts: kh(`@cert-authority *.example ssh-ed25519 ${ED}\n`) }, ed);
  assert.match(!ca.ok ? ca.reason : '', /@cert-authority lines are not used/);
});

test('pinned fingerprints replace known_hosts entirely', () => {
  const file = `n1 ssh-ed25519 ${ED}\n`;
  assert.equal(verifyHostKey({ host: 'n1', port: 22, pins: [EC_FP, ED_FP], knownHosts: kh(file) }, ed).ok, true);
  const v = verifyHostKey({ host: 'n1', port: 22, pins: [EC_FP], knownHosts: kh(file) }, ed);
  assert.equal(!v.ok && v.kind, 'changed');
  assert.match(!v.ok ? v.reason : '', /does not match the pinned host_key \(SHA256:klreq.*\): the server presented ssh-ed25519 SHA256:LNDf/);
});

test('the key types known for a host come first in what we offer', () => {
  const file = `n1 ecdsa-sha2-nistp256 ${EC}\n*.lab ssh-ed25519 ${ED}\nn2 ssh-ed25519 ${ED}\n@revoked n1 ssh-ed25519 ${ED}\n`;
  assert.deepEqual(knownKeyTypes({ host: 'n1', port: 22, knownHosts: kh(file) }), ['ecdsa-sha2-nistp256']);
  assert.deepEqual(knownKeyTypes({ host: 'x.lab', port: 22, knownHosts: kh(file) }), ['ssh-ed25519']);
  assert.deepEqual(knownKeyTypes({ host: 'n3', port: 22, knownHosts: kh(file) }), []);
  assert.deepEqual(knownKeyTypes({ host: 'n1', port: 22, pins: [ED_FP], knownHosts: kh(file) }), []);
});

test('no known_hosts content is ever a match: random text never verifies a key', () => {
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
    const v = verifyHostKey({ host: 'n1', port: 22, knownHosts: kh(text) }, ed);
    assert.equal(v.ok, false);
  }));
});

test('socket errors: what counts as the target\'s silence and what is our own side', async () => {
  const { socketFailure, isSilence, SshError } = await import('../../../lib/ssh/client.ts');
  const cases: Array<[string | undefined, string, boolean]> = [
    ['ECONNREFUSED', 'refused', false], ['EHOSTUNREACH', 'unreachable', true], ['EHOSTDOWN', 'unreachable', true],
    ['ENETUNREACH', 'no-route', false], ['ENETDOWN', 'no-route', false], ['ETIMEDOUT', 'silent', true],
    ['ENOTFOUND', 'dns', false], ['EAI_AGAIN', 'dns', false], ['ECONNRESET', 'closed', false], [undefined, 'closed', false],
  ];
  for (const [code, kind, silence] of cases) {
    const [k, msg] = socketFailure(code, '192.0.2.1:22', 22, 'x');
    assert.equal(k, kind, String(code));
    assert.equal(isSilence(new SshError(k, msg)), silence, String(code));
    assert.ok(msg.includes('192.0.2.1'), msg);
  }
});
