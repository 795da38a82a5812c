// The record of the last promotion against three real MariaDB servers on 127.0.0.1:33131-33133,
// driven through the built bundle as Pacemaker runs it (fake cluster tools keep the CIB's
// properties): repeated crashes where the only running server is older than the last primary,
// a lost primary and a lost replica together, a semi-sync primary that fell back to asynchronous,
// a promotion without an election. Each one refused before this record existed. Then the same
// against three MySQL 9.7 servers on 34131-34133 (support/mariadb.ts flavours()).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MariaCluster, flavours, type Node, type TransitionPlan } from './support/mariadb.ts';
import { signal } from '../../lib/daemon.ts';

const RECURRING_PRIMARY = { OCF_RESKEY_CRM_meta_interval: '5000', OCF_RESKEY_CRM_meta_role: 'Promoted' };

for (const flavour of flavours()) describe(`ocf:vigil:mysql: never promote past a more recent primary (${flavour.label})`, { timeout: 900_000 }, () => {
  let c!: MariaCluster; // one per case (fresh())
  let n1: Node, n2: Node, n3: Node;
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  const record = () => {
    const f = join(c.fakeDir, 'crm_config', 'db-last-primary');
    return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) as { epoch: number; primary: string; protection: string; replicas: string[] } : undefined;
  };
  let nextId = 1;
  const write = async (node: Node, n = 1): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) { const id = nextId++; await c.app(node, 'INSERT INTO vigiltest.t VALUES (?, ?)', [id, 'w']); out.push(id); }
    return out;
  };
  const holds = async (nodes: Node[], ids: number[]) => c.waitFor(async () => {
    for (const n of nodes) { const have = new Set(await c.ids(n)); if (!ids.every((i) => have.has(i))) return false; }
    return true;
  }, 15_000, `rows on ${nodes.map((n) => n.name).join(', ')}`);
  const promoteTransition = (target: Node, plan: Omit<TransitionPlan, 'promote'> = {}, extra: Record<string, string> = {}) => c.promoteTransition(target, plan, extra);
  const kill = async (node: Node) => {
    signal(c.pid(node)!, 'SIGKILL');
    await c.waitFor(() => c.pid(node) === undefined, 5000, `${node.name}'s server to die`);
    if (c.promotedNode() === node.name) c.setPromoted(undefined);
  };
  /** A new cluster for each case: n1 promoted, n2 and n3 following it. */
  const fresh = async (params: Record<string, string> = {}) => {
    await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1');
    c = await MariaCluster.create({ flavour, nodes: 3, basePort: 33131, params });
    [n1, n2, n3] = c.nodes as [Node, Node, Node];
    for (const n of c.nodes) await c.agentOk(n, 'start');
    const r = await promoteTransition(n1, { active: [n1, n2, n3], promoted: [] });
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    assert.equal(record()?.primary, 'n1');
  };

  test('three crashes in a row: the only running server is older than the last primary, and is refused until that primary is back', async () => {
    await fresh();
    assert.deepEqual(record()?.replicas, ['n2', 'n3']);
    const first = await write(n1, 5);
    await holds([n2, n3], first);
    await kill(n1);
    let r = await promoteTransition(n2, { active: [n2, n3], promoted: [] });
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    const second = await write(n2, 5);
    await holds([n3], second);
    await kill(n2);
    r = await promoteTransition(n3, { active: [n3], promoted: [] });
    assert.equal(r.code, 0, `n3 holds everything n2 was promoted at, and n2's only other replica was n3: ${r.reason}\n${r.stderr}`);
    assert.equal(record()?.primary, 'n3');
    assert.equal(record()?.epoch, 3);
    const third = await write(n3, 5); // no replica running: semi-sync is off in this cluster
    await kill(n3);

    // n1 comes back first (its failure expired): it lacks everything after its own crash.
    await c.agentOk(n1, 'start');
    r = await promoteTransition(n1, { active: [n1], promoted: [] });
    assert.equal(r.code, 1, 'the stale node was promoted');
    assert.match(r.reason ?? '', new RegExp(`n3, the last primary \\(promoted as epoch 3\\), has no running server.*n1 lacks ${flavour.name === 'mariadb' ? 'domain 0' : '[0-9a-f-]{36}:'}`));
    assert.match(r.reason ?? '', /crm_attribute --type crm_config --set-name vigil-db --name db-last-primary --delete/);
    assert.equal(Number((await c.root(n1, 'SELECT @@read_only AS ro'))[0]!.ro), 1, 'the refused node must stay read-only');

    // n2 comes back too: it holds what n3 was promoted at, but n3 wrote more (semisync=false: the
    // record says so, and the loss would be accepted by configuration), so n2 may win only with n3
    // absent... n3's data is newest: bring it back and it wins, nothing lost.
    await c.agentOk(n3, 'start');
    await c.agentOk(n2, 'start');
    r = await promoteTransition(n3, { active: [n1, n2, n3], promoted: [] });
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    await holds([n1, n2, n3], [...first, ...second, ...third]);
  });

  test('a semi-sync primary and one of its replicas lost together: the remaining replica waits for the lost replica', async () => {
    await fresh({ semisync: 'true', semisync_timeout: '60000' });
    await c.waitFor(async () => (await c.root(n1, `SHOW GLOBAL STATUS LIKE '${c.semi('Rpl_semi_sync_master_clients')}'`))[0]?.Value === '2', 10_000, 'two semi-sync replicas');
    const ids = await write(n1, 5);
    await holds([n2, n3], ids);
    await kill(n1);
    await kill(n2);
    let r = await promoteTransition(n3, { active: [n3], promoted: [] });
    assert.equal(r.code, 1, 'promoted while a replica that may hold acknowledged commits was absent');
    assert.match(r.reason ?? '', /n2 replicated from it but has no running server: a commit n1 acknowledged may be held only by n2/);
    await c.agentOk(n2, 'start');
    r = await promoteTransition(n3, { active: [n2, n3], promoted: [] });
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    await c.agentOk(n1, 'start');
    await holds([n1, n2, n3], ids);
  });

  test('a semi-sync primary that fell back to asynchronous: its monitor records it, and losing it refuses unless allow_async_failover', async () => {
    await fresh({ semisync: 'true', semisync_timeout: '300' });
    await c.waitFor(async () => (await c.root(n1, `SHOW GLOBAL STATUS LIKE '${c.semi('Rpl_semi_sync_master_clients')}'`))[0]?.Value === '2', 10_000, 'two semi-sync replicas');
    assert.equal((await c.agent(n1, 'monitor', RECURRING_PRIMARY)).code, 8);
    assert.equal(record()?.protection, 'sync');
    // Both replicas stop receiving: the next commit waits 300 ms, then is acknowledged asynchronously.
    for (const n of [n2, n3]) await c.replication(n, 'stop-io');
    const lonely = await write(n1, 3);
    const mon = await c.agent(n1, 'monitor', RECURRING_PRIMARY);
    assert.equal(mon.code, 8, mon.stderr);
    assert.match(mon.stderr, /fell back to asynchronous replication/);
    assert.equal(record()?.protection, 'async');
    await kill(n1);
    for (const n of [n2, n3]) await c.replication(n, 'start-io');
    let r = await promoteTransition(n2, { active: [n2, n3], promoted: [] });
    assert.equal(r.code, 1, 'promoted a replica lacking the asynchronous commits');
    assert.match(r.reason ?? '', /running asynchronously when last seen.*allow_async_failover=true/);
    r = await promoteTransition(n2, { active: [n2, n3], promoted: [] }, { OCF_RESKEY_allow_async_failover: 'true' });
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    assert.ok(!(await c.ids(n2)).some((i) => lonely.includes(i)), 'the commits only n1 held are, knowingly, given up');
    await c.agentOk(n1, 'start').catch(() => undefined); // refused as errant or not: n1's rows are kept on its disk either way
  });

  test('under a stream of writes, a replica compared with the primary is never found errant (and stays promotable)', async () => {
    await fresh();
    let stop = false;
    const writer = (async () => { while (!stop) await write(n1, 1); })();
    const stateFile = join(n2.rsctmp, 'vigil-mysql-db.state');
    try {
      for (let i = 0; i < 15; i++) {
        // Forget the last settled comparison, so every monitor asks the primary while rows arrive.
        if (existsSync(stateFile)) {
          const st = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
          delete st.consistency;
          writeFileSync(stateFile, JSON.stringify(st));
        }
        const m = await c.agent(n2, 'monitor', { OCF_RESKEY_CRM_meta_interval: '7000', OCF_RESKEY_CRM_meta_role: 'Unpromoted' });
        assert.equal(m.code, 0, m.stderr);
        assert.doesNotMatch(m.stderr, /errant transactions/, `monitor ${i} took commits still arriving for errant ones`);
      }
    } finally {
      stop = true;
      await writer;
    }
    assert.notEqual(c.attr(n2, 'db-grade'), 'FAIL');
  });

  test('a configuration rewrite that drops the record (pcs replaces the configuration): the primary\'s monitor writes it again', async () => {
    await fresh();
    const before = record();
    rmSync(join(c.fakeDir, 'crm_config', 'db-last-primary'));
    const m = await c.agent(n1, 'monitor', RECURRING_PRIMARY);
    assert.equal(m.code, 8, m.stderr);
    assert.match(m.stderr, /missing from the CIB .*writing it again/);
    assert.deepEqual(record(), before);
    // A replica not counted in it registers itself within a minute of monitors (here: at once).
    rmSync(join(c.fakeDir, 'crm_config', 'db-last-primary'));
    writeFileSync(join(c.fakeDir, 'crm_config', 'db-last-primary'), JSON.stringify({ ...before, v: 1, replicas: [] }));
    const r = await c.agent(n2, 'monitor', { OCF_RESKEY_CRM_meta_interval: '7000', OCF_RESKEY_CRM_meta_role: 'Unpromoted' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(c.fakeDir, 'crm_config', 'db-replica-n2'), 'utf8'), String(before!.epoch));
  });

  test('no election record: a promotion in a clone of three fails, unless manual_promotion', async () => {
    await fresh();
    await kill(n1);
    // The pre-promote notification never ran on n2 (it timed out, or crm_resource --force-promote).
    let r = await c.agent(n2, 'promote');
    assert.equal(r.code, 1);
    assert.match(r.reason ?? '', /no election was recorded for this promotion.*manual_promotion=true/);
    assert.equal(Number((await c.root(n2, 'SELECT @@read_only AS ro'))[0]!.ro), 1);
    r = await c.agent(n2, 'promote', { OCF_RESKEY_manual_promotion: 'true' });
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    assert.equal(record()?.primary, 'n2');
    assert.equal(record()?.epoch, 2);
    c.setPromoted(n2);
    await c.agentOk(n1, 'start');
  });
});
