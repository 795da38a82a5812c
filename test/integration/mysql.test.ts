// ocf:vigil:mysql against three real MariaDB servers on 127.0.0.1:33061-33063 (and three MySQL 9.7
// servers on 34061-34063: support/mariadb.ts flavours(), VIGIL_FLAVOURS), driven through the
// built bundle exactly as Pacemaker drives it (environment variables, notify variables). The
// cluster tools are recorders (support/fake-cluster): promotion scores and node attributes land
// in files the tests read; the real cluster is exercised by the lab scenarios.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { MariaCluster, APP_PASSWORD, APP_USER, flavours, type Node } from './support/mariadb.ts';
import { isAlive, signal } from '../../lib/daemon.ts';

const RECURRING = { OCF_RESKEY_CRM_meta_interval: '7000' };
const PROMOTED_MONITOR = { OCF_RESKEY_CRM_meta_interval: '5000', OCF_RESKEY_CRM_meta_role: 'Promoted' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const flavour of flavours()) describe(`ocf:vigil:mysql with three ${flavour.label} servers`, { timeout: 600_000 }, () => {
  let c: MariaCluster;
  let n1: Node, n2: Node, n3: Node;

  before(async () => {
    c = await MariaCluster.create({ flavour, nodes: 3, basePort: 33061 });
    [n1, n2, n3] = c.nodes as [Node, Node, Node];
  });
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  const readOnly = async (node: Node) => Number((await c.root(node, 'SELECT @@read_only AS ro'))[0]!.ro);
  const replicated = (nodes: Node[], id: number) => c.waitFor(async () => {
    for (const n of nodes) if (!(await c.ids(n)).includes(id)) return false;
    return true;
  }, 10_000, `row ${id} on ${nodes.map((n) => n.name).join(', ')}`);
  const promoteAndRepoint = async (primary: Node) => {
    // As Pacemaker runs it: the election's pre-promote on every node first (promote refuses without it).
    await c.notifyAll('pre', 'promote', { promote: [primary], promoted: [] });
    await c.agentOk(primary, 'promote');
    c.setPromoted(primary);
    for (const n of c.nodes) {
      if (n !== primary && c.pid(n)) await c.agentOk(n, 'notify', c.notifyEnv('post', 'promote', [primary]));
    }
  };

  test('start: every server comes up read-only, unconfigured, with a low positive score; probes say 0', async () => {
    for (const n of c.nodes) {
      const r = await c.agentOk(n, 'start');
      assert.match(r.stderr, /read-only with replication stopped/);
    }
    for (const n of c.nodes) {
      assert.equal(await readOnly(n), 1, `${n.name} must be read-only after start`);
      assert.equal((await c.agent(n, 'monitor')).code, 0, `probe on ${n.name}`);
      assert.equal(c.score(n), '10');
      assert.equal(c.attr(n, 'db-grade'), 'INFO');
    }
    // The server was started with the options, not flipped afterwards.
    const cmdline = readFileSync(`/proc/${c.pid(n1)}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('--read-only') && cmdline.includes(flavour.skipReplicaStart), cmdline.join(' '));
  });

  test('promote one: writes on the primary reach both replicas; a write on a replica is refused', async () => {
    await promoteAndRepoint(n1);
    assert.equal(await readOnly(n1), 0);
    assert.equal(c.score(n1), '1001');
    await c.app(n1, 'INSERT INTO vigiltest.t VALUES (1, ?)', ['first']);
    await replicated([n2, n3], 1);
    await assert.rejects(c.app(n2, 'INSERT INTO vigiltest.t VALUES (2, ?)', ['on a replica']), /read-only|--read-only/i);
    assert.deepEqual(await c.ids(n2), [1]);
  });

  test('monitor: 8 on the primary, 0 with grade OK on replicas; attributes only written when they change', async () => {
    assert.equal((await c.agent(n1, 'monitor', PROMOTED_MONITOR)).code, 8);
    assert.equal((await c.agent(n1, 'monitor')).code, 8, 'probe of the writable primary');
    for (const n of [n2, n3]) {
      assert.equal((await c.agent(n, 'monitor', RECURRING)).code, 0);
      assert.equal(c.attr(n, 'db-grade'), 'OK');
      assert.equal(c.attr(n, 'db-lag'), '0');
      assert.equal(c.score(n), '1000');
    }
    const before = c.calls().length;
    for (const n of [n2, n3]) assert.equal((await c.agent(n, 'monitor', RECURRING)).code, 0);
    assert.equal((await c.agent(n1, 'monitor', PROMOTED_MONITOR)).code, 8);
    assert.deepEqual(c.calls().slice(before), [], 'a steady monitor runs no cluster tool');
    // Depth 10 reads the test table.
    assert.equal((await c.agent(n2, 'monitor', { ...RECURRING, OCF_CHECK_LEVEL: '10', OCF_RESKEY_test_table: 'vigiltest.t' })).code, 0);
    assert.equal((await c.agent(n1, 'monitor', { ...PROMOTED_MONITOR, OCF_CHECK_LEVEL: '10', OCF_RESKEY_test_table: 'vigiltest.t' })).code, 8);
    const bad = await c.agent(n2, 'monitor', { ...RECURRING, OCF_CHECK_LEVEL: '10', OCF_RESKEY_test_table: 'vigiltest.nosuch' });
    assert.equal(bad.code, 1);
    assert.match(bad.reason ?? '', /cannot read vigiltest\.nosuch/);
  });

  test('SQL thread error: the replica grades FAIL, gets -INFINITY, and refuses promotion', async () => {
    // A row written behind replication's back (root bypasses read_only, no binlog).
    await c.unlogged(n3, ['INSERT INTO vigiltest.t VALUES (100, "local")']);
    await c.app(n1, 'INSERT INTO vigiltest.t VALUES (100, ?)', ['from primary']);
    await c.waitFor(async () => (await c.replica(n3))!.lastSqlErrno !== 0, 10_000, 'the SQL error on n3');
    const r = await c.agent(n3, 'monitor', RECURRING);
    assert.equal(r.code, 0, 'a FAIL replica still runs (it is graded, not failed)');
    assert.equal(c.attr(n3, 'db-grade'), 'FAIL');
    assert.equal(c.score(n3), '-INFINITY');
    assert.match(r.stderr, /graded FAIL: SQL thread stopped by error 1062/);
    const p = await c.agent(n3, 'promote');
    assert.equal(p.code, 1);
    assert.match(p.reason ?? '', /not promotable/);
    assert.equal(await readOnly(n3), 1, 'a refused promotion leaves the server read-only');
    // Repair: drop the local row, restart the applier; the grade recovers.
    await c.unlogged(n3, ['DELETE FROM vigiltest.t WHERE id = 100']);
    await c.replication(n3, 'start-sql');
    await replicated([n3], 100);
    await c.noLag(n3);
    assert.equal((await c.agent(n3, 'monitor', RECURRING)).code, 0);
    assert.equal(c.attr(n3, 'db-grade'), 'OK');
    assert.equal(c.score(n3), '1000');
  });

  test('lag: with the SQL thread stopped and writes pending, a replica moves through WARN and CRITICAL', async () => {
    const lagParams = { ...RECURRING, OCF_RESKEY_lag_info: '1', OCF_RESKEY_lag_warn: '2', OCF_RESKEY_lag_critical: '4' };
    await c.replication(n2, 'stop-sql');
    await c.app(n1, 'INSERT INTO vigiltest.t VALUES (200, ?)', ['lagging']);
    await c.waitFor(async () => {
      const s = (await c.replica(n2))!;
      return s.readPos > s.execPos;
    }, 10_000, 'n2 to receive the row');
    const seen: Array<{ t: number; grade: string; lag: string; score: string }> = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 6500) {
      assert.equal((await c.agent(n2, 'monitor', lagParams)).code, 0);
      seen.push({ t: Date.now() - t0, grade: c.attr(n2, 'db-grade')!, lag: c.attr(n2, 'db-lag')!, score: c.score(n2)! });
      await sleep(400);
    }
    const grades = seen.map((s) => s.grade);
    assert.ok(grades.includes('WARN'), JSON.stringify(seen));
    assert.equal(grades.at(-1), 'CRITICAL', JSON.stringify(seen));
    assert.ok(grades.indexOf('WARN') < grades.indexOf('CRITICAL'), JSON.stringify(seen));
    // Scores fall with the grade but stay promotable (it catches up on promotion).
    const scores = seen.map((s) => Number(s.score));
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i]! <= scores[i - 1]!, JSON.stringify(seen));
    assert.ok(scores.at(-1)! > 0);
    assert.ok(Number(seen.at(-1)!.lag) >= 4);
    await c.replication(n2, 'start-sql');
    await replicated([n2], 200);
    await c.noLag(n2);
    assert.equal((await c.agent(n2, 'monitor', lagParams)).code, 0);
    assert.equal(c.attr(n2, 'db-grade'), 'OK');
  });

  test('demote: read-only at once, and an open client session is gone', async () => {
    const mysql = await import('mysql2/promise');
    const session = await mysql.createConnection({ socketPath: n1.socket, user: APP_USER, password: APP_PASSWORD });
    await session.query('BEGIN');
    await session.query('INSERT INTO vigiltest.t VALUES (300, "open transaction")');
    await c.agentOk(n1, 'demote');
    assert.equal(await readOnly(n1), 1);
    await assert.rejects(session.query('COMMIT'), /closed|lost|killed|interrupted|gone/i);
    session.destroy();
    assert.ok(!(await c.ids(n1)).includes(300), 'the open transaction did not commit');
    assert.equal((await c.agent(n1, 'monitor')).code, 0, 'probe after demote: replica');
    c.setPromoted(undefined);
  });

  test('switch: promote a replica, the old primary follows it with GTID positioning', async () => {
    await promoteAndRepoint(n2);
    await c.app(n2, 'INSERT INTO vigiltest.t VALUES (400, ?)', ['from n2']);
    await replicated([n1, n3], 400);
    const s = (await c.replica(n1))!;
    assert.ok(s.gtidPositioning, 'GTID positioning');
    if (flavour.name === 'mariadb') assert.equal(s.raw.Using_Gtid, 'Current_Pos');
    assert.equal(s.sourcePort, n2.port);
    assert.equal((await c.agent(n1, 'monitor', RECURRING)).code, 0);
    assert.equal(c.attr(n1, 'db-grade'), 'OK');
  });

  test('probes after restart report the role; start of a replica follows the promoted instance', async () => {
    await c.agentOk(n3, 'stop');
    assert.equal((await c.agent(n3, 'monitor')).code, 7);
    await c.agentOk(n3, 'start');
    assert.equal((await c.agent(n3, 'monitor')).code, 0);
    assert.equal((await c.replica(n3))!.sourcePort, n2.port, 'started replica found the primary through crm_resource --locate');
    await c.app(n2, 'INSERT INTO vigiltest.t VALUES (500, ?)', ['after restart']);
    await replicated([n3], 500);
    assert.equal((await c.agent(n2, 'monitor')).code, 8, 'probe of the primary');
  });

  test('double start and double stop succeed', async () => {
    await c.agentOk(n3, 'start');
    const pid = c.pid(n3);
    await c.agentOk(n3, 'start');
    assert.equal(c.pid(n3), pid, 'a second start does not start a second server');
    await c.agentOk(n3, 'stop');
    await c.agentOk(n3, 'stop');
    assert.equal(c.pid(n3), undefined);
    assert.equal(c.attr(n3, 'db-grade'), undefined, 'a stopped instance drops its grade');
    assert.equal(c.score(n3), undefined, 'and its promotion score');
    await c.agentOk(n3, 'start');
  });

  test('kill -9 of the primary server: recurring monitor 9, probe 7', async () => {
    const pid = c.pid(n2)!;
    signal(pid, 'SIGKILL');
    await c.waitFor(() => c.pid(n2) === undefined, 5000, 'the primary to die');
    const m = await c.agent(n2, 'monitor', PROMOTED_MONITOR);
    assert.equal(m.code, 9);
    assert.match(m.reason ?? '', /not running/);
    // Without the role hint too: the agent remembers it promoted this instance.
    assert.equal((await c.agent(n2, 'monitor', { OCF_RESKEY_CRM_meta_interval: '5000' })).code, 9);
    assert.equal((await c.agent(n2, 'monitor')).code, 7);
    // The operation's role, when Pacemaker passes it, wins over what the agent remembers.
    assert.equal((await c.agent(n2, 'monitor', { ...RECURRING, OCF_RESKEY_CRM_meta_role: 'Unpromoted' })).code, 7);
    await c.agentOk(n2, 'demote');
    await c.agentOk(n2, 'stop');
    c.setPromoted(undefined);
  });

  test('a frozen (SIGSTOP) server: monitor and demote fail within their deadline, stop kills it in time', async () => {
    await c.agentOk(n2, 'start');
    const pid = c.pid(n2)!;
    signal(pid, 'SIGSTOP');
    try {
      let t = Date.now();
      const m = await c.agent(n2, 'monitor', { ...RECURRING, OCF_RESKEY_CRM_meta_timeout: '4000' });
      assert.equal(m.code, 1, m.stderr);
      assert.match(m.reason ?? '', /does not answer/);
      assert.ok(Date.now() - t < 4000, `monitor took ${Date.now() - t} ms`);
      t = Date.now();
      const d = await c.agent(n2, 'demote', { OCF_RESKEY_CRM_meta_timeout: '4000' });
      assert.equal(d.code, 1);
      assert.ok(Date.now() - t < 4000, `demote took ${Date.now() - t} ms`);
      t = Date.now();
      const s = await c.agent(n2, 'stop', { OCF_RESKEY_CRM_meta_timeout: '6000' });
      const took = Date.now() - t;
      assert.equal(s.code, 0, s.stderr);
      assert.ok(took < 6000, `stop took ${took} ms`);
      assert.match(s.stderr, /SIGKILL/);
      assert.equal(c.pid(n2), undefined);
    } finally {
      signal(pid, 'SIGCONT');
    }
  });

  test('validate-all at depth 10 logs in with the replication account', async () => {
    assert.equal((await c.agent(n1, 'validate-all', { OCF_CHECK_LEVEL: '10' })).code, 0);
    const bad = await c.agent(n1, 'validate-all', { OCF_CHECK_LEVEL: '10', OCF_RESKEY_replication_password: 'wrong' });
    assert.equal(bad.code, 2);
    assert.match(bad.reason ?? '', /cannot log in/);
    assert.ok(!bad.stderr.includes('wrong'), 'the password is not in the output');
  });

  test('a stale pid file naming another instance\'s server: stop leaves that server alone, a probe says stopped', async () => {
    assert.equal(c.pid(n2), undefined, 'n2 is stopped');
    const other = c.pid(n1)!;
    // n2's server is gone and its pid was reused: by n1's server (same program name).
    writeFileSync(n2.pidFile, `${other}\n`);
    try {
      assert.equal((await c.agent(n2, 'monitor')).code, 7, 'probe of n2');
      const s = await c.agentOk(n2, 'stop', { OCF_RESKEY_CRM_meta_timeout: '5000' });
      assert.doesNotMatch(s.stderr, /stopping server pid/);
      assert.ok(isAlive(other), 'n1\'s server survived n2\'s stop');
      assert.equal(Number((await c.root(n1, 'SELECT 1 AS x'))[0]!.x), 1, 'and still answers');
    } finally {
      rmSync(n2.pidFile, { force: true });
    }
  });
});
