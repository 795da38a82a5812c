// build/mysql-root.sh, the MySQL 9.7 root the MySQL flavour of the integration tests runs from:
// a second run is a no-op that says which MySQL it has; a build that cannot reach the archive
// fails loudly and leaves nothing behind; nothing of sid is installed into the host and the
// script names no archive host (it takes the host's own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../lib/exec.ts';
import { MYSQL_CACHE, ROOT } from './support/mariadb.ts';

const SCRIPT = join(ROOT, 'build/mysql-root.sh');

test('a second run is a no-op that logs the MySQL version', { timeout: 600_000 }, async () => {
  const first = await run('bash', [SCRIPT], { timeoutMs: 590_000 }); // builds only on a machine without it
  assert.equal(first.code, 0, first.stderr);
  const mtime = statSync(join(MYSQL_CACHE, 'root')).mtimeMs;
  const t0 = Date.now();
  const again = await run('bash', [SCRIPT], { timeoutMs: 60_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^MySQL root cached in .*: \/usr\/sbin\/mysqld\s+Ver 9\.7\.\d+/m);
  assert.ok(Date.now() - t0 < 10_000, `the cached run took ${Date.now() - t0} ms`);
  assert.equal(statSync(join(MYSQL_CACHE, 'root')).mtimeMs, mtime, 'the root was not rebuilt');
});

test('no network: the build fails with a reason and leaves no root, wrapper or stamp', { timeout: 120_000 }, async () => {
  const cache = mkdtempSync(join(tmpdir(), 'vigil-mysql-root-offline-'));
  try {
    // A private network namespace with only a down loopback: the archive cannot be reached.
    const r = await run('unshare', ['-n', 'bash', SCRIPT], { timeoutMs: 110_000, env: { ...process.env, VIGIL_MYSQL_CACHE: cache } as Record<string, string> });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^build\/mysql-root\.sh: mmdebstrap could not build the sid root from \S+ \(see its messages above\)$/m);
    assert.deepEqual(readdirSync(cache), [], 'nothing left in the cache');
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('the host gets no sid package and the script names no archive host', async () => {
  for (const p of ['mysql-server-core', 'mysql-client-core']) {
    const q = await run('dpkg-query', ['-W', '-f=${Status}', p], { timeoutMs: 10_000 });
    assert.ok(q.code !== 0 || !q.stdout.includes('install ok installed'), `${p} is installed on the host`);
  }
  assert.doesNotMatch(readFileSync(SCRIPT, 'utf8'), /https?:\/\/[a-z]/i);
  assert.ok(existsSync(join(MYSQL_CACHE, 'root/usr/sbin/policy-rc.d')), 'the root keeps its policy-rc.d');
});
