// TLS of the agent's sessions with peers: which material a session gets from the parameters, that
// verification cannot be turned off, and what a refused handshake is called. The handshakes
// themselves run against real mariadbd servers in test/integration/mysql-tls.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OCF, OcfError } from '../../../lib/ocf/codes.ts';
import { describeTlsFailure, mysql2Ssl } from '../../../lib/mysql/tls.ts';
import { peerTls } from '../../../agents/mysql/tls.ts';
import { classifyPeerError } from '../../../agents/mysql/guard.ts';
import { SqlError } from '../../../lib/mysql/client.ts';

const off = { replication_require_ssl: false, replication_ssl_ca: '', replication_ssl_cert: '', replication_ssl_key: '' };
const files: Record<string, string> = { '/etc/vigil/ca.pem': 'CA-PEM', '/etc/vigil/c.pem': 'CERT-PEM', '/etc/vigil/c.key': 'KEY-PEM-SECRET' };
const read = (p: string): Buffer => {
  if (!(p in files)) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
  return Buffer.from(files[p]!);
};

test('peerTls: no TLS unless replication_require_ssl, whatever files are named', () => {
  assert.equal(peerTls(off, read), undefined);
  assert.equal(peerTls({ ...off, replication_ssl_ca: '/etc/vigil/ca.pem' }, read), undefined);
});

test('peerTls: the files of the replication link, read; CA alone (or none: the system CAs) is enough', () => {
  const all = peerTls({ replication_require_ssl: true, replication_ssl_ca: '/etc/vigil/ca.pem', replication_ssl_cert: '/etc/vigil/c.pem', replication_ssl_key: '/etc/vigil/c.key' }, read)!;
  assert.equal(all.ca?.toString(), 'CA-PEM');
  assert.equal(all.cert?.toString(), 'CERT-PEM');
  assert.equal(all.key?.toString(), 'KEY-PEM-SECRET');
  const caOnly = peerTls({ ...off, replication_require_ssl: true, replication_ssl_ca: '/etc/vigil/ca.pem' }, read)!;
  assert.deepEqual([caOnly.cert, caOnly.key], [undefined, undefined]);
  assert.deepEqual(peerTls({ ...off, replication_require_ssl: true }, read), { ca: undefined, cert: undefined, key: undefined });
});

test('peerTls: an unreadable file is rc 2 naming the parameter and path; a certificate without its key is rc 6', () => {
  const cases: Array<{ p: Partial<typeof off>; code: number; reason: RegExp }> = [
    { p: { replication_ssl_ca: '/nope/ca.pem' }, code: OCF.ERR_ARGS, reason: /^replication_ssl_ca: cannot read \/nope\/ca\.pem \(ENOENT\)$/ },
    { p: { replication_ssl_cert: '/nope/c.pem', replication_ssl_key: '/etc/vigil/c.key' }, code: OCF.ERR_ARGS, reason: /^replication_ssl_cert: cannot read/ },
    { p: { replication_ssl_cert: '/etc/vigil/c.pem', replication_ssl_key: '/nope/c.key' }, code: OCF.ERR_ARGS, reason: /^replication_ssl_key: cannot read \/nope\/c\.key/ },
    { p: { replication_ssl_cert: '/etc/vigil/c.pem' }, code: OCF.ERR_CONFIGURED, reason: /go together/ },
    { p: { replication_ssl_key: '/etc/vigil/c.key' }, code: OCF.ERR_CONFIGURED, reason: /go together/ },
  ];
  for (const c of cases) {
    assert.throws(() => peerTls({ ...off, replication_require_ssl: true, ...c.p }, read), (e: unknown) => {
      assert.ok(e instanceof OcfError, String(e));
      assert.equal(e.code, c.code, e.message);
      assert.match(e.message, c.reason);
      assert.doesNotMatch(e.message, /PEM/, 'no file contents in a reason');
      return true;
    }, JSON.stringify(c.p));
  }
});

test('mysql2Ssl: the chain and the name are always verified, TLS 1.2 at least', () => {
  const s = mysql2Ssl({ ca: Buffer.from('x') });
  assert.equal(s.rejectUnauthorized, true);
  assert.equal(s.verifyIdentity, true);
  assert.equal(s.minVersion, 'TLSv1.2');
  assert.equal(mysql2Ssl({}).rejectUnauthorized, true, 'without a CA too (the system CAs)');
});

test('describeTlsFailure: each refusal says what was wrong; other errors are not TLS\'s', () => {
  const cases: Array<[string | undefined, string, RegExp | undefined]> = [
    ['HANDSHAKE_SSL_ERROR', 'self-signed certificate in certificate chain', /does not verify against the CA \(self-signed certificate in certificate chain\)/],
    ['HANDSHAKE_SSL_ERROR', 'unable to verify the first certificate', /does not verify against the CA/],
    ['HANDSHAKE_SSL_ERROR', 'unable to get local issuer certificate', /does not verify against the CA/],
    ['HANDSHAKE_SSL_ERROR', 'certificate has expired', /does not verify against the CA/],
    ['HANDSHAKE_SSL_ERROR', "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ", /not issued for the address dialled \(.*127\.0\.0\.1/],
    ['HANDSHAKE_SSL_ERROR', "Hostname/IP does not match certificate's altnames: Host: db2. is not in the cert's list: db1", /not issued for the address dialled/],
    ['HANDSHAKE_SSL_ERROR', 'wrong version number', /^TLS handshake failed \(wrong version number\)$/],
    ['HANDSHAKE_NO_SSL_SUPPORT', 'Server does not support secure connection', /the server does not offer TLS/],
    ['ER_ACCESS_DENIED_ERROR', "Access denied for user 'repl'@'127.0.0.1'", undefined],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:3306', undefined],
    [undefined, 'certificate', undefined],
  ];
  for (const [code, msg, want] of cases) {
    const got = describeTlsFailure(code, msg);
    if (want === undefined) assert.equal(got, undefined, `${code}: ${msg}`);
    else assert.match(got ?? '', want, `${code}: ${msg}`);
  }
});

test('a refused certificate is never silence: the writable-peer guard reads it as unknown (promotion refused)', () => {
  const e = new SqlError('connecting to 127.0.0.1:3306: TLS refused: ...', undefined, 'HANDSHAKE_SSL_ERROR', 'connect', true);
  assert.equal(classifyPeerError(e).answer, 'unknown');
  const noTls = new SqlError('connecting to 127.0.0.1:3306: TLS refused: ...', undefined, 'HANDSHAKE_NO_SSL_SUPPORT', 'connect', true);
  assert.equal(classifyPeerError(noTls).answer, 'unknown');
});
