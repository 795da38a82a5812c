// Bad parameters give 2, 5 or 6 with a reason that names the problem; ocf-tester passes against
// the bundle with a throwaway MariaDB instance (and a MySQL 9.7 one: support/mariadb.ts flavours()).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../lib/exec.ts';
import { AGENT, FAKE_BIN, MariaCluster, REPL_PASSWORD, REPL_USER, flavours, type Node } from './support/mariadb.ts';

for (const flavour of flavours()) describe(`ocf:vigil:mysql parameter checks and ocf-tester (${flavour.label})`, { timeout: 300_000 }, () => {
  let c: MariaCluster;
  let n: Node;

  before(async () => {
    c = await MariaCluster.create({ flavour, nodes: 1, basePort: 33071 });
    n = c.nodes[0]!;
  });
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  const cases: Array<{ what: string; env: Record<string, string | undefined>; action?: string; rc: number; reason: RegExp }> = [
    { what: 'missing datadir', env: { OCF_RESKEY_datadir: '/nonexistent/vigil/data' }, rc: 2, reason: /datadir \/nonexistent\/vigil\/data does not exist/ },
    { what: 'port 99999', env: { OCF_RESKEY_port: '99999' }, rc: 6, reason: /port=99999 is above the maximum 65535/ },
    { what: 'unknown system user', env: { OCF_RESKEY_user: 'vigil-no-such-user' }, rc: 2, reason: /system user vigil-no-such-user does not exist/ },
    { what: 'missing binary', env: { OCF_RESKEY_binary: '/usr/sbin/vigil-no-mariadbd' }, rc: 5, reason: /binary \/usr\/sbin\/vigil-no-mariadbd does not exist/ },
    { what: 'relative socket path', env: { OCF_RESKEY_socket: 'mysqld.sock' }, rc: 6, reason: /socket must be an absolute path/ },
    { what: 'bad node_map', env: { OCF_RESKEY_node_map: 'n1' }, rc: 6, reason: /node_map: "n1" is not node=address/ },
    { what: 'clone without notify', env: { OCF_RESKEY_CRM_meta_notify: 'false' }, rc: 6, reason: /notify=true/ },
    { what: 'two promoted instances', env: { OCF_RESKEY_CRM_meta_promoted_max: '2' }, rc: 6, reason: /promoted-max must be 1/ },
    { what: 'password and password file', env: { OCF_RESKEY_replication_password_file: '/etc/hostname' }, rc: 6, reason: /not both/ },
    { what: 'start with a missing datadir', action: 'start', env: { OCF_RESKEY_datadir: '/nonexistent/vigil/data' }, rc: 2, reason: /does not exist/ },
    { what: 'start with port 99999', action: 'start', env: { OCF_RESKEY_port: '99999' }, rc: 6, reason: /above the maximum/ },
  ];
  for (const k of cases) {
    test(`${k.action ?? 'validate-all'}: ${k.what} -> ${k.rc}`, async () => {
      const r = await c.agent(n, k.action ?? 'validate-all', k.env);
      assert.equal(r.code, k.rc, r.stderr);
      assert.match(r.reason ?? '', k.reason);
    });
  }

  test('a probe with invalid parameters says not running, a stop succeeds', async () => {
    assert.equal((await c.agent(n, 'monitor', { OCF_RESKEY_port: '99999' })).code, 7);
    assert.equal((await c.agent(n, 'stop', { OCF_RESKEY_port: '99999' })).code, 0);
  });

  test('password file: used when root-only, refused when others can read it', async () => {
    const f = join(c.dir, 'repl.pw');
    writeFileSync(f, `${REPL_PASSWORD}\n`);
    chownSync(f, 0, 0);
    chmodSync(f, 0o644);
    const env = { OCF_RESKEY_replication_password: undefined, OCF_RESKEY_replication_password_file: f };
    const loose = await c.agent(n, 'validate-all', env);
    assert.equal(loose.code, 2);
    assert.match(loose.reason ?? '', /readable by others \(mode 644\)/);
    chmodSync(f, 0o600);
    assert.equal((await c.agent(n, 'validate-all', env)).code, 0);
    // The password from the file really logs in.
    const s = await c.agent(n, 'start', env);
    assert.equal(s.code, 0, s.stderr);
    assert.equal((await c.agent(n, 'monitor', { ...env, OCF_RESKEY_CRM_meta_interval: '7000', OCF_CHECK_LEVEL: '10' })).code, 0);
    assert.equal((await c.agent(n, 'stop', env)).code, 0);
  });

  test('secrets never reach the output, even at debug level', async () => {
    const r = await c.agent(n, 'start', { HA_DEBUG: '1', OCF_RESKEY_replication_password: 'Not-The-Password-77' });
    assert.notEqual(r.code, 0);
    assert.ok(!r.stderr.includes('Not-The-Password-77'), r.stderr);
    assert.ok(!r.stdout.includes('Not-The-Password-77'));
    await c.agent(n, 'stop');
  });

  test('ocf-tester passes against dist/resource.d/vigil/mysql', async () => {
    const opts = {
      datadir: n.datadir, socket: n.socket, pid: n.pidFile, port: String(n.port), config: n.config,
      user: 'mysql', replication_user: REPL_USER, replication_password: REPL_PASSWORD, ...c.flavour.params,
    };
    const args = ['-n', 'db', ...Object.entries(opts).flatMap(([k, v]) => ['-o', `${k}=${v}`]), AGENT];
    const r = await run('ocf-tester', args, {
      timeoutMs: 240_000, cleanEnv: true,
      env: {
        PATH: `${FAKE_BIN}:/usr/sbin:/usr/bin:/sbin:/bin`, FAKE_CLUSTER_DIR: c.fakeDir, HA_RSCTMP: n.rsctmp,
        OCF_ROOT: '/usr/lib/ocf', OCF_RESKEY_CRM_meta_on_node: n.name,
      },
    });
    c.track(n);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /\* rc=0: .*passed all tests|passed all tests/);
    assert.equal(c.pid(n), undefined, 'ocf-tester leaves the server stopped');
  });
});
