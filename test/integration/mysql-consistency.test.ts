// Seed 000's paranoia, continuously (issue 12 item 7), against real MariaDB and MySQL servers
// (support/mariadb.ts flavours(); MariaDB on 127.0.0.1:33141-33147, MySQL 1000 ports up): a write
// that lands on a replica (MariaDB: root writes past read_only; MySQL: FLUSH PRIVILEGES, which
// super_read_only lets through and logs under the replica's own uuid) is found by that replica's
// next regular monitor, graded FAIL, published as db-errant with its GTIDs, logged, published at
// pre-promote as not promotable, and promote refuses; a steady monitor does not ask the primary.
// A node rebuilt empty that kept its old server_id: both servers' replicas skip the events
// carrying their own id (what the node once wrote as a primary), so replication looks caught up
// while those rows are missing; its monitor grades it CRITICAL naming them, and the documented
// rebuild with a new server_id heals it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MariaCluster, flavours, type Node } from './support/mariadb.ts';
import { signal } from '../../lib/daemon.ts';
import { run } from '../../lib/exec.ts';

const RECURRING = { OCF_RESKEY_CRM_meta_interval: '7000', HA_DEBUG: '1' };
const keep = process.env.VIGIL_KEEP_TEST_DIRS === '1';

async function setup(c: MariaCluster, primary: Node) {
  for (const n of c.nodes) await c.agentOk(n, 'start');
  await c.notifyAll('pre', 'promote', { promote: [primary] });
  await c.agentOk(primary, 'promote');
  c.setPromoted(primary);
  await c.notifyAll('post', 'promote', { promote: [primary] });
}

const replicated = (c: MariaCluster, nodes: Node[], id: number) => c.waitFor(async () => {
  for (const n of nodes) if (!(await c.ids(n)).includes(id)) return false;
  return true;
}, 15_000, `row ${id} on ${nodes.map((n) => n.name).join(', ')}`);

/** Logins the server has accepted so far (this query's own included). */
const connections = async (c: MariaCluster, n: Node) => Number((await c.root(n, "SHOW GLOBAL STATUS LIKE 'Connections'"))[0]!.Value);

for (const flavour of flavours()) describe(`ocf:vigil:mysql (${flavour.label}): a write on a replica is found by its monitor`, { timeout: 300_000 }, () => {
  let c: MariaCluster;
  let n1: Node, n2: Node, n3: Node;
  const mysql = flavour.name === 'mysql';
  before(async () => {
    c = await MariaCluster.create({ flavour, nodes: 3, basePort: 33141 });
    [n1, n2, n3] = c.nodes as [Node, Node, Node];
  });
  after(async () => { await c?.cleanup(keep); });

  test('a write lands on replica n2: its next monitor grades FAIL, publishes db-errant, and n2 is not promotable', async () => {
    await setup(c, n1);
    for (let id = 1; id <= 3; id++) await c.app(n1, 'INSERT INTO vigiltest.t VALUES (?, ?)', [id, 'primary']);
    await replicated(c, [n2, n3], 3);
    for (const n of [n2, n3]) {
      await c.agentOk(n, 'monitor', RECURRING);
      assert.equal(c.attr(n, 'db-grade'), 'OK', n.name);
      assert.equal(c.attr(n, 'db-errant'), undefined, n.name);
    }
    // Cheap while nothing changes: a steady monitor does not log in to the primary.
    const before = await connections(c, n1);
    const s0 = Date.now();
    const steady = await c.agentOk(n2, 'monitor', RECURRING);
    const steadyMs = Date.now() - s0;
    assert.equal(await connections(c, n1), before + 1, `a steady monitor logged in to the primary:\n${steady.stderr}`);

    // MariaDB: root (READ_ONLY ADMIN) writes past read_only, binary log on. MySQL: super_read_only
    // stops root, but FLUSH PRIVILEGES is let through and logged under the replica's own uuid.
    if (mysql) await c.root(n2, 'FLUSH PRIVILEGES');
    else await c.root(n2, 'INSERT INTO vigiltest.t VALUES (100, ?)', ['written on a replica']);
    const own = mysql ? String((await c.root(n2, 'SELECT @@server_uuid AS u'))[0]!.u) : '0-2-';
    const errantEnd = mysql ? '' : String((await c.root(n2, 'SELECT @@gtid_binlog_pos AS g'))[0]!.g).split('-')[2]!;
    assert.match(await c.gtid(n2), mysql ? new RegExp(own) : /^0-2-\d+$/, 'the write took a GTID of the replica\'s own');
    // Replication itself still looks healthy: nothing but this check can see it.
    assert.equal((await c.replica(n2))!.sqlRunning, 'Yes');

    const t0 = Date.now();
    const m = await c.agentOk(n2, 'monitor', RECURRING);
    const ms = Date.now() - t0;
    const took = /compared with n1's server in (\d+) ms/.exec(m.stderr)?.[1];
    console.log(`replica monitor: steady ${steadyMs} ms; comparing with the primary ${ms} ms, of which the comparison ${took} ms`);
    assert.equal(c.attr(n2, 'db-grade'), 'FAIL', m.stderr);
    assert.equal(c.score(n2), '-INFINITY');
    const attr = c.attr(n2, 'db-errant') ?? '';
    assert.ok(attr.startsWith(own) && attr.endsWith(errantEnd), `db-errant "${attr}" should name the replica's own ${own}${errantEnd}`);
    assert.match(m.stderr, new RegExp(`errant transactions on this replica: ${attr.replace(/\./g, '\\.')}, which n1 \\(the primary\\) lacks`));
    // n3 is untouched.
    await c.agentOk(n3, 'monitor', RECURRING);
    assert.equal(c.attr(n3, 'db-grade'), 'OK');

    // Still FAIL at every monitor while it stands (the primary is asked each time, to see a repair).
    await c.agentOk(n2, 'monitor', RECURRING);
    assert.equal(c.attr(n2, 'db-grade'), 'FAIL');

    // The primary is lost. At pre-promote n2 publishes itself as not promotable; promote refuses.
    signal(c.pid(n1)!, 'SIGKILL');
    await c.waitFor(() => c.pid(n1) === undefined, 5000, "n1's server to die");
    c.setPromoted(undefined);
    await c.agentOk(n2, 'monitor', RECURRING);
    assert.equal(c.attr(n2, 'db-grade'), 'FAIL', 'the finding survives the primary');
    const plan = { promote: [n2], active: [n2, n3], promoted: [] };
    await c.notifyAll('pre', 'promote', plan);
    assert.match(c.attr(n2, 'db-position') ?? '', new RegExp(`^v1;[0-9a-f]+;(fail|errant):[^;]*errant transactions ${own}`), c.attr(n2, 'db-position'));
    const p = await c.agent(n2, 'promote');
    assert.equal(p.code, 1, p.stderr);
    assert.match(p.reason ?? '', new RegExp(`errant transactions ${own}`));
    assert.equal(Number((await c.root(n2, 'SELECT @@GLOBAL.read_only AS ro'))[0]!.ro), 1, 'n2 stays read-only');
    // n3, which holds every acknowledged commit, is promoted instead.
    await c.notifyAll('pre', 'promote', { promote: [n3], active: [n2, n3], promoted: [] });
    await c.agentOk(n3, 'promote');
    assert.deepEqual(await c.ids(n3), [1, 2, 3]);
  });
});


for (const flavour of flavours()) describe(`ocf:vigil:mysql (${flavour.label}): a node rebuilt empty with its old server_id`, { timeout: 300_000 }, () => {
  let c: MariaCluster;
  let n1: Node, n2: Node;
  const mysql = flavour.name === 'mysql';
  before(async () => {
    c = await MariaCluster.create({ flavour, nodes: 2, basePort: 33146 });
    [n1, n2] = c.nodes as [Node, Node];
  });
  after(async () => { await c?.cleanup(keep); });

  const rebuild = async (n: Node, serverId?: number) => {
    await c.agentOk(n, 'stop');
    rmSync(n.datadir, { recursive: true, force: true });
    rmSync(n.rsctmp, { recursive: true, force: true });
    cpSync(await flavour.template(), n.datadir, { recursive: true });
    rmSync(join(n.datadir, 'auto.cnf'), { force: true }); // MySQL: a new server_uuid, as a fresh datadir gets
    const r = await run('chown', ['-R', 'mysql:mysql', n.datadir], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    if (serverId !== undefined) writeFileSync(n.config, readFileSync(n.config, 'utf8').replace(/^server_id=\d+$/m, `server_id=${serverId}`));
    await c.agentOk(n, 'start');
  };
  /** Caught up: MariaDB's position equal to the primary's; MySQL's replica applied all it received, nothing pending. */
  const inStep = (a: Node, b: Node) => c.waitFor(async () => {
    if (!mysql) return (await c.gtid(a)) === (await c.gtid(b));
    const r = await c.replica(a);
    const last = String((await c.root(b, 'SELECT @@server_uuid AS u'))[0]!.u);
    return !!r && r.ioRunning === 'Yes' && r.sqlRunning === 'Yes' && r.readPos === r.execPos && (await c.gtid(a)).includes(last);
  }, 15_000, `${a.name} in step with ${b.name}`);

  test('the replica skips what the node wrote as a primary; its monitor grades CRITICAL naming those transactions; a new server_id heals it', async () => {
    await setup(c, n1);
    const uuid1 = mysql ? String((await c.root(n1, 'SELECT @@server_uuid AS u'))[0]!.u) : '';
    for (let id = 1; id <= 3; id++) await c.app(n1, 'INSERT INTO vigiltest.t VALUES (?, ?)', [id, 'by n1']);
    await replicated(c, [n2], 3);
    // Failover to n2, which writes on.
    signal(c.pid(n1)!, 'SIGKILL');
    await c.waitFor(() => c.pid(n1) === undefined, 5000, "n1's server to die");
    c.setPromoted(undefined);
    await c.notifyAll('pre', 'promote', { promote: [n2], active: [n2], promoted: [] });
    await c.agentOk(n2, 'promote');
    c.setPromoted(n2);
    for (let id = 4; id <= 5; id++) await c.app(n2, 'INSERT INTO vigiltest.t VALUES (?, ?)', [id, 'by n2']);

    // n1 is rebuilt empty and keeps server_id=1.
    await rebuild(n1);
    await inStep(n1, n2);
    // What the server really does: replication says "caught up", rows 1-3 (server 1's) are not there.
    console.log(`${flavour.label}: rebuilt n1 (old server_id) holds ${JSON.stringify(await c.ids(n1))}, gtid ${await c.gtid(n1)}; primary ${await c.gtid(n2)}`);
    assert.deepEqual(await c.ids(n1), [4, 5]);
    const m = await c.agentOk(n1, 'monitor', RECURRING);
    assert.equal(c.attr(n1, 'db-grade'), 'CRITICAL', m.stderr);
    const oldN1 = mysql ? `${uuid1}:1-3` : '0-1-1..0-1-3';
    assert.match(m.stderr, new RegExp(`missing transactions on this replica: n2 \\(the primary\\) holds ${oldN1.replace(/\./g, '\\.')}`));
    assert.ok(Number(c.score(n1)) <= 100, `score ${c.score(n1)}`);
    assert.equal(c.attr(n1, 'db-errant'), undefined);

    // docs/mysql.md's rebuild: a new server_id, then it receives everything.
    await rebuild(n1, 11);
    await inStep(n1, n2);
    assert.deepEqual(await c.ids(n1), [1, 2, 3, 4, 5]);
    await c.agentOk(n1, 'monitor', RECURRING);
    assert.equal(c.attr(n1, 'db-grade'), 'OK');
  });
});
