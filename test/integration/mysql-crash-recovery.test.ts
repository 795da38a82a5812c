// A semi-sync primary that dies with a commit no replica acknowledged (written to its binary log,
// prepared in InnoDB, waiting for the acknowledgement) must roll that commit back when the agent
// starts it again, so it rejoins the new primary instead of being refused for an errant
// transaction. Found in the lab: a powered-off primary's in-flight commit came back at restart
// (MariaDB 10.11 truncates the binary log only with --init-rpl-role=SLAVE as well as
// --rpl-semi-sync-slave-enabled). Two real MariaDB servers on 127.0.0.1:33091-33092; MySQL 9.7 on
// 34091-34092 cannot roll it back, and the rejoin is refused instead (see the MySQL branch).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MariaCluster, flavours, type Node } from './support/mariadb.ts';
import { signal } from '../../lib/daemon.ts';

for (const flavour of flavours()) describe(`ocf:vigil:mysql: crash recovery of a semi-sync primary (${flavour.label})`, { timeout: 300_000 }, () => {
  let c: MariaCluster;
  let n1: Node, n2: Node;

  before(async () => {
    c = await MariaCluster.create({ flavour, nodes: 2, basePort: 33091, params: { semisync: 'true', semisync_timeout: '60000' } });
    [n1, n2] = c.nodes as [Node, Node];
  });
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  // What the binary log holds (MySQL: gtid_executed, which includes the binary log's GTIDs).
  const gtid = async (node: Node) => (flavour.name === 'mariadb' ? String((await c.root(node, 'SELECT @@gtid_binlog_pos AS g'))[0]!.g) : c.gtid(node));

  test('an unacknowledged commit of a killed semi-sync primary is rolled back at start; it rejoins as a replica', async () => {
    for (const n of c.nodes) await c.agentOk(n, 'start');
    await c.notifyAll('pre', 'promote', { promote: [n1], promoted: [] });
    await c.agentOk(n1, 'promote');
    c.setPromoted(n1);
    // n2 follows the primary the cluster reports (a recurring monitor of a replica with no source).
    await c.agentOk(n2, 'monitor', { OCF_RESKEY_CRM_meta_interval: '7000' });
    await c.waitFor(async () => (await c.root(n1, `SHOW GLOBAL STATUS LIKE '${c.semi('Rpl_semi_sync_master_clients')}'`))[0]?.Value === '1', 10_000, 'a semi-sync replica');
    // A semi-sync replica stopping its IO thread must not wait MariaDB's default 5 s for a source that is gone.
    if (flavour.name === 'mariadb') assert.equal(String((await c.root(n2, 'SELECT @@rpl_semi_sync_slave_kill_conn_timeout AS t'))[0]!.t), '1');
    await c.app(n1, 'INSERT INTO vigiltest.t VALUES (1, ?)', ['acknowledged']);
    await c.waitFor(async () => (await gtid(n2)) === (await gtid(n1)), 10_000, 'n2 to hold the first commit');
    const acked = await gtid(n1);

    // The replica stops receiving: the next commit waits for an acknowledgement that never comes.
    await c.replication(n2, 'stop-io');
    const pending = c.app(n1, 'INSERT INTO vigiltest.t VALUES (2, ?)', ['never acknowledged']).then(() => 'returned', (e: Error) => e.message);
    // MySQL shows neither the GTID nor the binary log position of a commit waiting for its
    // acknowledgement; the waiting session is counted once the commit is in the binary log (AFTER_SYNC).
    await c.waitFor(async () => (flavour.name === 'mariadb' ? (await gtid(n1)) !== acked
      : Number((await c.root(n1, `SHOW GLOBAL STATUS LIKE '${c.semi('Rpl_semi_sync_master_wait_sessions')}'`))[0]?.Value) > 0), 10_000, 'the second commit in the binary log');
    const inDoubt = await gtid(n1);
    signal(c.pid(n1)!, 'SIGKILL');
    await c.waitFor(() => c.pid(n1) === undefined, 5000, "n1's server to die");
    assert.notEqual(await pending, 'returned', 'the unacknowledged commit must not have been acknowledged to the client');

    // n2 becomes primary (nothing it lacks was acknowledged), then n1 starts again.
    c.setPromoted(undefined);
    await c.notifyAll('pre', 'promote', { promote: [n2], active: [n2], promoted: [] });
    await c.agentOk(n2, 'promote');
    c.setPromoted(n2);
    if (flavour.name === 'mysql') {
      // MySQL (9.7) has no counterpart of MariaDB's binary log truncation: its crash recovery
      // commits what the binary log holds, so the in-doubt commit comes back, as a transaction
      // the new primary lacks. The rejoin is refused naming it (never merged), nothing is changed,
      // and the row the client was never told of is only on the old primary: rebuild it (docs/mysql.md).
      const r = await c.agent(n1, 'start');
      assert.equal(r.code, 1, r.stderr);
      const errant = String((await c.root(n2, 'SELECT GTID_SUBTRACT(?, @@GLOBAL.gtid_executed) AS e', [await gtid(n1)]))[0]!.e);
      assert.match(errant, /^[0-9a-f-]{36}:\d+$/, 'exactly one transaction, the in-doubt one');
      assert.equal(r.reason?.startsWith(`errant transactions on n1: ${errant} (not on n2, the primary); not joining it as a replica, nothing was changed`), true, r.reason);
      assert.equal((await c.root(n1, 'SELECT id FROM vigiltest.t WHERE id = 2')).length, 1, 'the in-doubt row came back on the old primary');
      assert.equal((await c.root(n2, 'SELECT id FROM vigiltest.t WHERE id = 2')).length, 0, 'and never reached the new one');
      assert.equal(await c.replica(n1), undefined, 'no replication configured on the refused node');
      return;
    }
    // The new primary's first commit waits for a semi-sync replica: n1, once it has rejoined.
    const third = c.app(n2, 'INSERT INTO vigiltest.t VALUES (3, ?)', ['on the new primary']);
    const r = await c.agent(n1, 'start');
    assert.equal(r.code, 0, `the old primary was refused (its in-doubt commit ${inDoubt} survived crash recovery): ${r.reason}\n${r.stderr}`);
    await third;
    assert.equal((await c.root(n1, 'SELECT id FROM vigiltest.t WHERE id = 2')).length, 0, 'the unacknowledged row is gone from the old primary');
    await c.waitFor(async () => (await c.root(n1, 'SELECT id FROM vigiltest.t WHERE id = 3')).length === 1, 15_000, 'n1 to replicate from n2');
    assert.equal(await gtid(n1), await gtid(n2));
  });
});
