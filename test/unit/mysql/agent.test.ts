// Pure parts of the agent: node map, password file rules, server command line, clone meta
// checks, and the meta-data document (validated with the resource-agents DTD and RelaxNG schema).
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseNodeMap, peerAddress } from '../../../agents/mysql/peers.ts';
import { passwordFileProblem } from '../../../lib/mysql/secrets.ts';
import { killMarginMs, serverArgs, splitParameters, type ServerConfig } from '../../../lib/mysql/server.ts';
import { cloneMetaProblem } from '../../../agents/mysql/actions/validate.ts';
import { agent } from '../../../agents/mysql/agent.ts';
import { executeAgent } from '../../../lib/ocf/agent.ts';
import { memoryLogger } from '../../../lib/log.ts';

test('node_map parsing', () => {
  const ok = parseNodeMap('n1=192.0.2.11 n2=192.0.2.12:3307,n3=[2001:db8::3]:3306 n4=[2001:db8::4] n5=db5.example');
  assert.equal(ok.problem, undefined);
  assert.deepEqual(peerAddress('n1', ok, 3306), { host: '192.0.2.11', port: 3306 });
  assert.deepEqual(peerAddress('n2', ok, 3306), { host: '192.0.2.12', port: 3307 });
  assert.deepEqual(peerAddress('n3', ok, 1), { host: '2001:db8::3', port: 3306 });
  assert.deepEqual(peerAddress('n4', ok, 3306), { host: '2001:db8::4', port: 3306 });
  assert.deepEqual(peerAddress('n5', ok, 3306), { host: 'db5.example', port: 3306 });
  assert.deepEqual(peerAddress('n9', ok, 3310), { host: 'n9', port: 3310 }, 'unlisted nodes: their name');
  assert.equal(parseNodeMap('').map.size, 0);
  const bad: Array<[string, RegExp]> = [
    ['n1', /not node=address/], ['=1.2.3.4', /not node=address/], ['n1=', /not node=address/],
    ['n1=1.2.3.4:x', /port "x"/], ['n1=1.2.3.4:70000', /out of range/], ['n1=2001:db8::1', /brackets/],
    ['n1=a n1=b', /appears twice/],
  ];
  for (const [s, re] of bad) assert.match(parseNodeMap(s).problem ?? '', re, s);
});

test('password file rules', () => {
  const f = (o: Partial<{ exists: boolean; isFile: boolean; uid: number; mode: number }>) =>
    passwordFileProblem('/etc/pw', { exists: true, isFile: true, uid: 0, mode: 0o100600, ...o });
  assert.equal(f({}), undefined);
  assert.equal(f({ mode: 0o100400 }), undefined);
  assert.match(f({ exists: false })!, /does not exist/);
  assert.match(f({ isFile: false })!, /not a regular file/);
  assert.match(f({ uid: 1000 })!, /owned by root/);
  for (const m of [0o100640, 0o100604, 0o100644, 0o100660, 0o100610]) assert.match(f({ mode: m })!, /readable by others/);
});

test('server command line: read-only and no replication from the first moment, per flavour', () => {
  const cfg: ServerConfig = {
    binary: '/usr/sbin/mariadbd', config: '/etc/mysql/my.cnf', datadir: '/var/lib/mysql', socket: '/run/mysqld/s.sock', port: 3306,
    pidFile: '/run/mysqld/p.pid', user: 'mysql', additionalParameters: splitParameters('  --innodb-buffer-pool-size=1G   --skip-name-resolve '),
    flavour: 'mariadb',
  };
  const m = serverArgs(cfg);
  assert.equal(m[0], '--defaults-file=/etc/mysql/my.cnf', '--defaults-file must come first');
  for (const a of ['--read-only', '--skip-slave-start', '--user=mysql', '--port=3306', '--datadir=/var/lib/mysql']) assert.ok(m.includes(a), a);
  assert.ok(!m.includes('--super-read-only'), 'MariaDB has no super_read_only');
  assert.deepEqual(m.slice(-2), ['--innodb-buffer-pool-size=1G', '--skip-name-resolve']);
  const my80 = serverArgs({ ...cfg, flavour: 'mysql80', config: undefined });
  assert.ok(my80.includes('--super-read-only') && my80.includes('--skip-slave-start'));
  assert.ok(!my80.some((a) => a.startsWith('--defaults-file')));
  const my84 = serverArgs({ ...cfg, flavour: 'mysql84', log: '/var/log/mysql/err.log' });
  assert.ok(my84.includes('--skip-replica-start') && !my84.includes('--skip-slave-start'));
  assert.ok(my84.includes('--log-error=/var/log/mysql/err.log'));
  assert.ok(!serverArgs(cfg, false).some((a) => a.startsWith('--user')), 'no --user when not root');
  assert.ok(!m.includes('--rpl-semi-sync-slave-enabled=ON'));
  assert.ok(serverArgs({ ...cfg, semisync: true }).includes('--rpl-semi-sync-slave-enabled=ON'), 'MariaDB semi-sync: crash recovery as a replica');
  assert.ok(serverArgs({ ...cfg, semisync: true }).includes('--init-rpl-role=SLAVE'), 'MariaDB only truncates the binary log with the role given');
  assert.ok(!m.includes('--init-rpl-role=SLAVE'));
  // The last primary keeps everything in its binary log: its recovery must not roll back
  // acknowledged commits whose engine commit was not yet durable.
  const last = serverArgs({ ...cfg, semisync: true, lastPrimary: true });
  assert.ok(!last.includes('--init-rpl-role=SLAVE') && !last.includes('--rpl-semi-sync-slave-enabled=ON'), last.join(' '));
  assert.ok(!serverArgs({ ...cfg, flavour: 'mysql84', semisync: true }).some((a) => a.includes('semi')), 'MySQL: the plugins come from the option file');
});

test('stop keeps a SIGKILL margin that fits the budget', () => {
  assert.equal(killMarginMs(120_000), 1500);
  assert.equal(killMarginMs(4000), 1000);
  assert.equal(killMarginMs(400), 200);
});

test('clone meta checks', () => {
  const m = (o: Record<string, string>) => (n: string) => o[n];
  const good = { clone_max: '3', promotable: 'true', notify: 'true', promoted_max: '1' };
  assert.equal(cloneMetaProblem(m({})), undefined, 'not a clone: nothing to check');
  assert.equal(cloneMetaProblem(m(good)), undefined);
  assert.equal(cloneMetaProblem(m({ clone_max: '3', master: 'true', notify: 'yes', master_max: '1' })), undefined, 'pre-2.1 names');
  assert.match(cloneMetaProblem(m({ ...good, promotable: 'false' }))!, /promotable/);
  assert.match(cloneMetaProblem(m({ ...good, notify: 'false' }))!, /notify=true/);
  assert.match(cloneMetaProblem(m({ ...good, promoted_max: '2' }))!, /promoted-max must be 1/);
  // What Pacemaker 2.1.5 really passes to an instance of `promotable promoted-max=1 notify=true`
  // (seen in the lab): no promotable meta, promoted_max and master_max instead.
  const real = { clone: '2', clone_max: '3', clone_node_max: '1', globally_unique: 'false', master_max: '1', master_node_max: '1',
    notify: 'true', promoted_max: '1', promoted_node_max: '1' };
  assert.equal(cloneMetaProblem(m(real)), undefined, 'Pacemaker 2.1.5 instance meta');
  assert.match(cloneMetaProblem(m({ clone: '0', clone_max: '3', clone_node_max: '1', globally_unique: 'false', notify: 'true' }))!,
    /promotable/, 'a plain clone: Pacemaker passes no promoted_max');
});

test('meta-data: both validators accept it; two monitors with different intervals per role', async () => {
  const { log } = memoryLogger();
  const out = await executeAgent(agent, ['meta-data'], {}, log);
  assert.equal(out.code, 0);
  const xml = out.stdout!;
  const monitors = [...xml.matchAll(/<action name="monitor"[^>]*>/g)].map((m) => m[0]);
  assert.equal(monitors.length, 2);
  assert.ok(monitors.some((a) => /role="Promoted"/.test(a)) && monitors.some((a) => /role="Unpromoted"/.test(a)));
  const intervals = monitors.map((a) => /interval="(\d+)s"/.exec(a)![1]);
  assert.notEqual(intervals[0], intervals[1]);
  for (const a of ['start', 'stop', 'promote', 'demote', 'notify', 'validate-all', 'meta-data']) assert.match(xml, new RegExp(`<action name="${a}"`));
  assert.ok(existsSync('/usr/share/resource-agents/ra-api-1.dtd'), 'resource-agents is not installed (needed to validate meta-data)');
  const dtd = spawnSync('xmllint', ['--noout', '--valid', '-'], { input: xml, cwd: '/usr/share/resource-agents', encoding: 'utf8' });
  assert.equal(dtd.status, 0, `xmllint --valid: ${dtd.stderr}`);
  const rng = spawnSync('xmllint', ['--noout', '--relaxng', '/usr/share/resource-agents/metadata.rng', '-'], { input: xml, encoding: 'utf8' });
  assert.equal(rng.status, 0, `xmllint --relaxng: ${rng.stderr}`);
  for (const secret of ['replication_password']) assert.match(xml, new RegExp(`<parameter name="${secret}"`));
});

test('meta-data does not load mysql2 (start-up cost)', async () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e',
    `const { executeAgent } = await import('./lib/ocf/agent.ts'); const { agent } = await import('./agents/mysql/agent.ts');
     await executeAgent(agent, ['meta-data'], {}); const m = Object.keys((await import('node:module')).default._cache ?? {});
     console.log(JSON.stringify(m.filter((k) => k.includes('mysql2'))));`], { cwd: fileURLToPath(new URL('../../../', import.meta.url)), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').at(-1), '[]');
});

test('meta-data matches test/golden/mysql.xml (UPDATE_GOLDEN=1 rewrites it; review the diff)', async () => {
  const { writeFileSync, readFileSync } = await import('node:fs');
  const golden = fileURLToPath(new URL('../../golden/mysql.xml', import.meta.url));
  const { log } = memoryLogger();
  const xml = (await executeAgent(agent, ['meta-data'], {}, log)).stdout!;
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, xml);
  assert.equal(xml, readFileSync(golden, 'utf8'));
});
