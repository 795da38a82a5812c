// Issue 12 items 5 and 6, against real MariaDB servers on 127.0.0.1:33187-33189.
//   5. A replica stuck in a statement must not hold a notification for its whole budget (up to
//      90 s): its applier waits for a row lock a local session holds, so STOP SLAVE waits with it
//      (MariaDB 10.11: STOP SLAVE stays in "Killing slave" until the lock is released). The
//      post-promote notification that repoints it to the new primary gives up after the
//      per-statement cap, and the next monitor repoints it once the lock is gone.
//   6. A password file that became readable by others (chmod 640 by a configuration tool) does not
//      fail a monitor: it reports the server's real state (8 for the primary, 0 for a replica) and
//      warns; validate-all and start still refuse it (rc 2, as before).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MariaCluster, REPL_PASSWORD, flavours, type Node } from './support/mariadb.ts';
import { QUERY_TIMEOUT_MS } from '../../agents/mysql/context.ts';

for (const flavour of flavours()) describe(`ocf:vigil:mysql: bounded statements, password file mode (${flavour.label})`, { timeout: 300_000 }, () => {
  let c: MariaCluster;
  let n1: Node, n2: Node, n3: Node;

  before(async () => {
    c = await MariaCluster.create({ flavour, nodes: 3, basePort: 33187 });
    [n1, n2, n3] = c.nodes as [Node, Node, Node];
    for (const n of c.nodes) await c.agentOk(n, 'start');
    await c.notifyAll('pre', 'promote', { promote: [n1] });
    await c.agentOk(n1, 'promote');
    c.setPromoted(n1);
    await c.notifyAll('post', 'promote', { promote: [n1] });
  });
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  const onAll = (nodes: Node[], id: number) => c.waitFor(async () => {
    for (const n of nodes) if (!(await c.ids(n)).includes(id)) return false;
    return true;
  }, 15_000, `row ${id} on ${nodes.map((n) => n.name).join(', ')}`);

  test('password file chmod 640: monitors report 8 and 0 with a warning; validate-all and start still refuse (rc 2)', async () => {
    const f = join(c.dir, 'repl.pw');
    writeFileSync(f, `${REPL_PASSWORD}\n`);
    chownSync(f, 0, 0);
    chmodSync(f, 0o600);
    const env = { OCF_RESKEY_replication_password: undefined, OCF_RESKEY_replication_password_file: f };
    const primary = { ...env, OCF_RESKEY_CRM_meta_interval: '5000', OCF_RESKEY_CRM_meta_role: 'Promoted' };
    const replica = { ...env, OCF_RESKEY_CRM_meta_interval: '7000', OCF_RESKEY_CRM_meta_role: 'Unpromoted' };
    assert.equal((await c.agent(n1, 'monitor', primary)).code, 8);
    assert.equal((await c.agent(n2, 'monitor', replica)).code, 0);

    chmodSync(f, 0o640);
    for (const [node, extra, rc] of [[n1, primary, 8], [n2, replica, 0], [n2, env, 0], [n1, { ...primary, OCF_CHECK_LEVEL: '10' }, 8]] as const) {
      const r = await c.agent(node, 'monitor', extra);
      assert.equal(r.code, rc, `monitor on ${node.name} (${JSON.stringify(extra)}): ${r.reason}\n${r.stderr}`);
      assert.match(r.stderr, /WARN.*password file .*repl\.pw is readable by others \(mode 640\)/, r.stderr);
      assert.equal(r.reason, undefined);
    }
    const v = await c.agent(n2, 'validate-all', env);
    assert.equal(v.code, 2, v.stderr);
    assert.match(v.reason ?? '', /readable by others \(mode 640\)/);
    const s = await c.agent(n2, 'start', env);
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.reason ?? '', /readable by others \(mode 640\)/);
    assert.ok(c.pid(n2), 'the refused start left the running server alone');
    chmodSync(f, 0o600);
    assert.equal((await c.agent(n2, 'validate-all', env)).code, 0);
  });

  test(`a replica whose STOP SLAVE hangs: post-promote (notify budget 90 s) returns after the ${QUERY_TIMEOUT_MS} ms cap; the next monitor repoints it`, async () => {
    await c.app(n1, 'INSERT INTO vigiltest.t VALUES (1, ?)', ['first']);
    await onAll([n2, n3], 1);
    // The applier reads innodb_lock_wait_timeout when it starts: restart it with 300 s, so it keeps
    // waiting for the lock for the whole test instead of giving up after the default 50 s.
    await c.root(n2, 'SET GLOBAL innodb_lock_wait_timeout = 300');
    await c.replication(n2, 'stop');
    await c.replication(n2, 'start');
    const mysql = await import('mysql2/promise');
    const holder = await mysql.createConnection({ socketPath: n2.socket, user: 'root', password: '' });
    // MySQL refuses a locking read under super_read_only: there the session holds a table lock,
    // and the applier waits for it (a metadata lock) instead of a row lock.
    const mysqlLock = flavour.name === 'mysql';
    try {
      if (mysqlLock) await holder.query('LOCK TABLES vigiltest.t READ');
      else {
        await holder.query('BEGIN');
        await holder.query('SELECT * FROM vigiltest.t WHERE id = 1 FOR UPDATE');
      }
      await c.app(n1, "UPDATE vigiltest.t SET v = 'second' WHERE id = 1");
      // The holder's is the only other transaction on n2: a waiting one is the applier's.
      await c.waitFor(async () => (await c.root(n2, mysqlLock ? "SELECT 1 FROM information_schema.processlist WHERE state = 'Waiting for table metadata lock'"
        : "SELECT 1 FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'")).length > 0,
      10_000, "n2's applier to wait for the lock");

      // n1 is lost and n3 becomes the primary (as its promote leaves it: no replication, writable).
      await c.root(n1, 'SET GLOBAL read_only = ON');
      await c.replication(n3, 'stop');
      await c.replication(n3, 'reset-all');
      await c.root(n3, 'SET GLOBAL read_only = OFF');
      const env = {
        ...c.transitionEnv('post', 'promote', { promote: [n3], demote: [n1], stop: [n1], active: [n2, n3], promoted: [] }),
        OCF_RESKEY_CRM_meta_timeout: '90000',
      };
      const t0 = Date.now();
      const r = await c.agent(n2, 'notify', env, 40_000);
      const took = Date.now() - t0;
      assert.equal(r.timedOut, false, `post-promote on n2 was still waiting after ${took} ms`);
      assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
      assert.ok(took < QUERY_TIMEOUT_MS + 5000, `post-promote took ${took} ms`);
      assert.match(r.stderr, /could not repoint this server to n3: STOP (SLAVE|REPLICA) timed out after \d+ ms/, r.stderr);
    } finally {
      await holder.query(mysqlLock ? 'UNLOCK TABLES' : 'ROLLBACK').catch(() => undefined);
      holder.destroy();
    }

    // With the lock gone the abandoned STOP SLAVE completes; the next monitor follows n3.
    c.setPromoted(n3);
    await c.waitFor(async () => {
      return (await c.replica(n2))?.sqlRunning === 'No';
    }, 10_000, "n2's abandoned STOP SLAVE to complete");
    await c.agentOk(n2, 'monitor', { OCF_RESKEY_CRM_meta_interval: '7000' });
    await c.app(n3, 'INSERT INTO vigiltest.t VALUES (2, ?)', ['on n3']);
    await onAll([n2], 2);
    const [row] = await c.root(n2, 'SELECT v FROM vigiltest.t WHERE id = 1');
    assert.equal(row?.v, 'second', 'n2 applied the update it was stuck on');
  });
});
