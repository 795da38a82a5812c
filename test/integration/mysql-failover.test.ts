// ocf:vigil:mysql part 2 against three real MariaDB servers on 127.0.0.1:33081-33083 (and three MySQL
// 9.7 servers on 34081-34083: support/mariadb.ts flavours(), VIGIL_FLAVOURS), driven through
// the built bundle with the notify variables of every step of each transition, as Pacemaker runs
// them: the election (the most advanced replica wins, a behind candidate fails with the reason),
// catch-up before the first write, semi-sync, a planned switchover under writes, rejoin of a former
// primary (accepted, and refused with its errant transactions listed and nothing changed), the
// errant-transaction report and the writable-peer guard. Cluster tools are the fake-cluster
// recorders; the real cluster is exercised by the lab.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MariaCluster, APP_PASSWORD, APP_USER, flavours, type Node, type TransitionPlan } from './support/mariadb.ts';
import { signal } from '../../lib/daemon.ts';

const RECURRING = { OCF_RESKEY_CRM_meta_interval: '7000' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const flavour of flavours()) describe(`ocf:vigil:mysql failover with three ${flavour.label} servers`, { timeout: 900_000 }, () => {
  let c: MariaCluster;
  let n1: Node, n2: Node, n3: Node;

  before(async () => {
    c = await MariaCluster.create({ flavour, nodes: 3, basePort: 33081 });
    [n1, n2, n3] = c.nodes as [Node, Node, Node];
  });
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  const readOnly = async (node: Node) => Number((await c.root(node, 'SELECT @@read_only AS ro'))[0]!.ro);
  const gtid = (node: Node) => c.gtid(node);
  const slave = (node: Node) => c.replica(node);
  const replicated = (nodes: Node[], id: number) => c.waitFor(async () => {
    for (const n of nodes) if (!(await c.ids(n)).includes(id)) return false;
    return true;
  }, 15_000, `row ${id} on ${nodes.map((n) => n.name).join(', ')}`);
  let nextId = 1000;
  const write = async (node: Node, n = 1): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) { const id = nextId++; await c.app(node, 'INSERT INTO vigiltest.t VALUES (?, ?)', [id, 'w']); out.push(id); }
    return out;
  };
  const promoteTransition = (target: Node, plan: Omit<TransitionPlan, 'promote'> = {}, extra: Record<string, string> = {}) => c.promoteTransition(target, plan, extra);
  /** A planned switchover, every step of the transition (pcs resource move --promoted). */
  const switchover = async (from: Node, to: Node, extra: Record<string, string> = {}) => {
    const plan: TransitionPlan = { demote: [from], promote: [to], promoted: [from] };
    await c.notifyAll('pre', 'demote', plan, extra);
    const d = await c.agent(from, 'demote', extra);
    assert.equal(d.code, 0, `demote: ${d.reason}\n${d.stderr}`);
    await c.notifyAll('post', 'demote', plan, extra);
    await c.notifyAll('pre', 'promote', plan, extra);
    const p = await c.agent(to, 'promote', extra);
    if (p.code === 0) {
      c.setPromoted(to);
      await c.notifyAll('post', 'promote', plan, extra);
    }
    return { d, p };
  };
  /** The primary's node is lost (powered off, then fenced): its server dies, the cluster forgets it. */
  const loseNode = async (node: Node) => {
    signal(c.pid(node)!, 'SIGKILL');
    await c.waitFor(() => c.pid(node) === undefined, 5000, `${node.name}'s server to die`);
    c.setPromoted(undefined);
  };

  test('bootstrap: an election with three empty positions promotes the candidate; positions are published, then withdrawn', async () => {
    for (const n of c.nodes) await c.agentOk(n, 'start');
    const p: TransitionPlan = { promote: [n1] };
    const pre = await c.notifyAll('pre', 'promote', p);
    assert.match(pre[0]!.stderr, /pre-promote of n1: published position/);
    for (const n of c.nodes) assert.match(c.attr(n, 'db-position') ?? '', /^v1;[0-9a-f]{12};ok;$/, `${n.name}'s publication`);
    assert.ok(c.calls().some((l) => /attrd_updater .*-n db-position -U v1;.* -p -N n1$/.test(l)), 'a private attribute, without -W on Pacemaker 2.1.5');
    const r = await c.agentOk(n1, 'promote');
    assert.match(r.stderr, /election: n1 holds at least as much as every promotable peer/);
    assert.match(r.stderr, /writable-peer guard|promoted: the server is writable/);
    c.setPromoted(n1);
    await c.notifyAll('post', 'promote', p);
    for (const n of c.nodes) assert.equal(c.attr(n, 'db-position'), undefined, `${n.name} withdrew its publication`);
    const [id] = await write(n1);
    await replicated([n2, n3], id!);
    assert.equal(c.score(n1), '1001');
  });

  test('election: a behind candidate fails on purpose naming who is ahead by what; the most advanced replica then wins', async () => {
    await c.replication(n3, 'stop-io');
    const before = await gtid(n3);
    const uuid1 = flavour.name === 'mysql' ? String((await c.root(n1, 'SELECT @@server_uuid AS u'))[0]!.u) : '';
    const rows = await write(n1, 5);
    await replicated([n2], rows.at(-1)!);
    const ahead = await gtid(n2);
    await loseNode(n1);
    // Pacemaker picked n3 (its score was as good as n2's): the election says no.
    const plan = { active: [n2, n3], promoted: [] as Node[] };
    const r = await promoteTransition(n3, plan);
    assert.equal(r.code, 1, r.stderr);
    // The last transaction number n1 wrote: MariaDB 0-1-<n>, MySQL <uuid of n1>:1-<n>.
    const last = (g: string) => Number(flavour.name === 'mariadb' ? g.split('-')[2] : /:(?:\d+-)?(\d+)$/.exec(g)?.[1]);
    const [seqBefore, seqAhead] = [last(before), last(ahead)];
    const lack = flavour.name === 'mariadb' ? `domain 0: sequence ${seqBefore + 1}-${seqAhead} (last from server 1)` : `${uuid1}:${seqBefore + 1}-${seqAhead}`;
    assert.equal(r.reason?.startsWith(`n2 is ahead of n3 by ${lack}`), true, r.reason);
    assert.equal(c.score(n3), '1', 'the candidate lowered its own score');
    assert.equal(c.score(n2), '1001', 'and raised the winner\'s');
    assert.equal(await readOnly(n3), 1, 'the refused candidate stays read-only');
    assert.equal(await gtid(n3), before, 'and unchanged');
    // The cluster plans again with the new scores: n2 is promoted, n3 follows it and gets the rows.
    const w = await promoteTransition(n2, plan);
    assert.equal(w.code, 0, `${w.reason}\n${w.stderr}`);
    assert.equal(await readOnly(n2), 0);
    await replicated([n3], rows.at(-1)!);
    assert.deepEqual(await c.ids(n3), await c.ids(n2));
    await c.noLag(n3);
    // The loser's next monitor restores its graded score.
    assert.equal((await c.agent(n3, 'monitor', RECURRING)).code, 0);
    assert.equal(c.score(n3), '1000');
  });

  test('rejoin: the lost primary comes back as a replica of the new one (its history is contained)', async () => {
    const r = await c.agentOk(n1, 'start');
    assert.match(r.stderr, /replicating from n2/);
    const [id] = await write(n2);
    await replicated([n1, n3], id!);
    assert.equal(Number((await slave(n1))!.sourcePort), n2.port);
    assert.equal((await c.agent(n1, 'monitor', RECURRING)).code, 0);
    assert.equal(c.attr(n1, 'db-grade'), 'OK');
    assert.ok(Number(c.score(n1)) < 1001, 'a rejoining instance never outranks the running primary');
  });

  test('a peer that never publishes: promote waits a bounded time, then fails saying which', async () => {
    const plan: TransitionPlan = { promote: [n3], active: [n1, n2, n3], promoted: [n2] };
    // Only n3 gets the notification (n1's and n2's pre-promote "failed"): nobody else published.
    const pre = await c.agent(n3, 'notify', c.transitionEnv('pre', 'promote', plan));
    assert.equal(pre.code, 0);
    const t0 = Date.now();
    const r = await c.agent(n3, 'promote', { OCF_RESKEY_CRM_meta_timeout: '6000' });
    assert.equal(r.code, 1);
    assert.match(r.reason ?? '', /no position published by n1, n2 for this election within \d+ ms/);
    assert.ok(Date.now() - t0 < 6000, `took ${Date.now() - t0} ms`);
    assert.equal(await readOnly(n3), 1);
    // Recovering the promoted instance where it is needs no election at all.
    const rec: TransitionPlan = { promote: [n2], demote: [n2], promoted: [n2], active: [n1, n2, n3] };
    await c.agent(n2, 'notify', c.transitionEnv('pre', 'promote', rec));
    const again = await c.agent(n2, 'promote');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /recovers where it ran: no election/);
  });

  test('catch-up: promote returns only after everything received is applied, and is never writable before', async () => {
    // n2 is primary. n3 receives 600 transactions it does not apply; then n2 goes read-only.
    await c.replication(n3, 'stop-sql');
    const mysql = await import('mysql2/promise');
    const conn = await mysql.createConnection({ socketPath: n2.socket, user: APP_USER, password: APP_PASSWORD });
    const first = nextId;
    for (let i = 0; i < 600; i++) await conn.query('INSERT INTO vigiltest.t VALUES (?, ?)', [nextId++, 'catch-up']);
    conn.destroy();
    const last = nextId - 1;
    await c.waitFor(async () => {
      return (await slave(n3))!.readPos === await c.binlogPosition(n2);
    }, 15_000, 'n3 to receive everything');
    assert.ok(!(await c.ids(n3)).includes(last), 'not applied yet');
    await c.agentOk(n2, 'demote');
    c.setPromoted(undefined);
    // Sample n3 while it is promoted: whenever it is writable, every row must be there.
    const samples: Array<{ ro: number; n: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      const s = await mysql.createConnection({ socketPath: n3.socket, user: 'root', password: '' });
      try {
        while (sampling) {
          // Two statements, read_only first: MariaDB answers @@read_only as 0 inside an aggregate over
          // a table, and a count taken after a writable reading can only be higher than at that moment.
          const [a] = await s.query('SELECT @@read_only AS ro');
          const [b] = await s.query(`SELECT COUNT(*) AS n FROM vigiltest.t WHERE id BETWEEN ${first} AND ${last}`);
          samples.push({ ro: Number((a as Array<{ ro: number }>)[0]!.ro), n: Number((b as Array<{ n: number }>)[0]!.n) });
          await sleep(2);
        }
      } finally { s.destroy(); }
    })();
    const plan: TransitionPlan = { active: [n1, n2, n3], promoted: [] };
    const r = await promoteTransition(n3, plan);
    sampling = false;
    await sampler;
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    assert.match(r.stderr, /SQL thread was stopped with events pending; starting it to catch up/);
    const n = (await c.root(n3, `SELECT COUNT(*) AS n FROM vigiltest.t WHERE id BETWEEN ${first} AND ${last}`))[0]!.n;
    assert.equal(Number(n), 600, 'everything received was applied when promote returned');
    assert.equal(await readOnly(n3), 0);
    assert.ok(samples.some((s) => s.ro === 1 && s.n < 600), `the sampler saw the catch-up (${samples.length} samples: ${JSON.stringify(samples.slice(0, 3))} ... ${JSON.stringify(samples.slice(-3))})`);
    const early = samples.filter((s) => s.ro === 0 && s.n < 600);
    assert.deepEqual(early, [], 'writable before everything was applied');
  });

  test('catch-up with the whole replica stopped: the relay log is applied, not thrown away', async () => {
    // n3 is primary. n1 receives 200 transactions with its applier stopped, then stops receiving too
    // (both threads stopped: MariaDB would discard that relay log on the next start in GTID mode).
    await c.replication(n1, 'stop-sql');
    const first = nextId;
    await write(n3, 200);
    const last = nextId - 1;
    await c.waitFor(async () => c.received(n1, await gtid(n3)), 15_000, 'n1 to receive everything');
    await c.replication(n1, 'stop-io');
    assert.ok(!(await c.ids(n1)).includes(last));
    await c.agentOk(n3, 'demote');
    c.setPromoted(undefined);
    const r = await promoteTransition(n1, { active: [n1, n2, n3], promoted: [] });
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    assert.match(r.stderr, /resuming it from relay-bin\.\d+:\d+ to catch up/);
    const n = (await c.root(n1, `SELECT COUNT(*) AS n FROM vigiltest.t WHERE id BETWEEN ${first} AND ${last}`))[0]!.n;
    assert.equal(Number(n), 200);
    const [id] = await write(n1);
    await replicated([n2, n3], id!);
  });

  test('semi-sync on: replicas acknowledge, and the primary waits for an acknowledgement', async () => {
    c.params.semisync = 'true';
    c.params.semisync_timeout = '1500';
    // A planned switchover to n3 configures both sides.
    const { p } = await switchover(n1, n3);
    assert.equal(p.code, 0, `${p.reason}\n${p.stderr}`);
    const status = async (node: Node) => new Map((await c.root(node, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_%'")).map((r) => [String(r.Variable_name), String(r.Value)]));
    const vars = new Map((await c.root(n3, `SHOW GLOBAL VARIABLES LIKE '${c.semi('rpl_semi_sync_master_%')}'`)).map((r) => [String(r.Variable_name), String(r.Value)]));
    assert.equal(vars.get(c.semi('rpl_semi_sync_master_enabled')), 'ON');
    assert.equal(vars.get(c.semi('rpl_semi_sync_master_wait_point')), 'AFTER_SYNC');
    assert.equal(vars.get(c.semi('rpl_semi_sync_master_timeout')), '1500');
    await c.waitFor(async () => (await status(n3)).get(c.semi('Rpl_semi_sync_master_clients')) === '2', 10_000, 'two semi-sync replicas');
    for (const n of [n1, n2]) assert.equal((await status(n)).get(c.semi('Rpl_semi_sync_slave_status')), 'ON', n.name);
    const yes0 = Number((await status(n3)).get(c.semi('Rpl_semi_sync_master_yes_tx')));
    const [id] = await write(n3);
    assert.equal((await status(n3)).get(c.semi('Rpl_semi_sync_master_status')), 'ON');
    assert.equal(Number((await status(n3)).get(c.semi('Rpl_semi_sync_master_yes_tx'))), yes0 + 1, 'the commit was acknowledged');
    await replicated([n1, n2], id!);
    // No replica listening: the commit waits for the timeout before going on asynchronously.
    for (const n of [n1, n2]) await c.replication(n, 'stop-io');
    const no0 = Number((await status(n3)).get(c.semi('Rpl_semi_sync_master_no_tx')));
    const t0 = Date.now();
    await write(n3);
    const waited = Date.now() - t0;
    assert.ok(waited >= 1400, `the commit returned after ${waited} ms, without waiting for an acknowledgement`);
    assert.equal(Number((await status(n3)).get(c.semi('Rpl_semi_sync_master_no_tx'))), no0 + 1);
    for (const n of [n1, n2]) await c.replication(n, 'start-io');
    await c.waitFor(async () => (await status(n3)).get(c.semi('Rpl_semi_sync_master_status')) === 'ON', 10_000, 'semi-sync to resume');
    // The demoted side is a semi-sync replica again.
    const nv = new Map((await c.root(n1, "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync_%_enabled'")).map((r) => [String(r.Variable_name), String(r.Value)]));
    assert.equal(nv.get(c.semi('rpl_semi_sync_master_enabled')), 'OFF');
    assert.equal(nv.get(c.semi('rpl_semi_sync_slave_enabled')), 'ON');
  });

  test('planned switchover under writes: no acknowledged commit is lost, and every server converges', async (t) => {
    const acked: number[] = [];
    const ackedAt: number[] = [];
    let target = n3;
    let stop = false;
    const mysql = await import('mysql2/promise');
    const writer = (async () => {
      let conn: Awaited<ReturnType<typeof mysql.createConnection>> | undefined;
      while (!stop) {
        try {
          conn ??= await mysql.createConnection({ socketPath: target.socket, user: APP_USER, password: APP_PASSWORD, connectTimeout: 2000 });
          const id = nextId++;
          await conn.query('INSERT INTO vigiltest.t VALUES (?, ?)', [id, 'switchover']);
          acked.push(id);
          ackedAt.push(Date.now());
        } catch {
          conn?.destroy();
          conn = undefined;
          await sleep(5);
        }
      }
      conn?.destroy();
    })();
    await sleep(300);
    const t0 = Date.now();
    const { d, p } = await switchover(n3, n2);
    const took = Date.now() - t0;
    assert.equal(p.code, 0, `${p.reason}\n${p.stderr}`);
    assert.match(d.stderr, /switchover: n2 holds every transaction of this server/);
    target = n2;
    await sleep(300);
    stop = true;
    await writer;
    assert.ok(acked.length > 20, `the writer got ${acked.length} commits through`);
    const gap = Math.max(...ackedAt.slice(1).map((x, i) => x - ackedAt[i]!));
    t.diagnostic(`switchover: demote ${d.durationMs} ms, promote ${p.durationMs} ms, the whole transition (7 notifications included) ${took} ms; `
      + `${acked.length} commits acknowledged, longest gap between two ${gap} ms (the writer learns of the new primary only when the transition returned)`);
    const onNew = new Set(await c.ids(n2));
    const lost = acked.filter((id) => !onNew.has(id));
    assert.deepEqual(lost, [], `acknowledged commits missing on the new primary (switchover took ${took} ms)`);
    await replicated([n1, n3], acked.at(-1)!);
    const sum = async (n: Node) => (await c.root(n, 'CHECKSUM TABLE vigiltest.t'))[0]!.Checksum;
    assert.equal(await sum(n1), await sum(n2));
    assert.equal(await sum(n3), await sum(n2));
  });

  test('rejoin refused: a former primary with an unreplicated commit fails to start, listing it, and nothing changes', async () => {
    c.params.semisync = 'false';
    // n2 is primary. Its replicas stop receiving; n2 commits one more row; then n2's node is lost.
    for (const n of [n1, n3]) await c.replication(n, 'stop-io');
    await c.root(n2, `SET GLOBAL ${c.semi('rpl_semi_sync_master_enabled')} = OFF`);
    const [lostId] = await write(n2);
    const n2Gtid = await gtid(n2);
    await loseNode(n2);
    for (const n of [n1, n3]) await c.replication(n, 'start-io');
    const r = await promoteTransition(n1, { active: [n1, n3], promoted: [] });
    assert.equal(r.code, 0, `${r.reason}\n${r.stderr}`);
    // What n2 holds and n1 lacks: MariaDB names n2's position, MySQL the set difference.
    const errantGtid = flavour.name === 'mariadb' ? n2Gtid
      : String((await c.root(n1, 'SELECT GTID_SUBTRACT(?, @@GLOBAL.gtid_executed) AS e', [n2Gtid]))[0]!.e);
    await write(n1, 3);
    const primaryBefore = { gtid: await gtid(n1), ids: await c.ids(n1) };
    // The old primary starts again: it holds errantGtid, which n1 never got.
    const s = await c.agent(n2, 'start');
    assert.equal(s.code, 1, s.stderr);
    assert.match(s.reason ?? '', new RegExp(`^errant transactions on n2: ${errantGtid} \\(not on n1, the primary\\); not joining it as a replica, nothing was changed on either server`));
    assert.equal(await slave(n2), undefined, 'no replication configured on the refused node');
    assert.equal(await gtid(n2), n2Gtid, 'its data untouched');
    assert.ok((await c.ids(n2)).includes(lostId!));
    assert.equal(await readOnly(n2), 1);
    assert.deepEqual({ gtid: await gtid(n1), ids: await c.ids(n1) }, primaryBefore, 'the primary untouched');
    // The consistency report (validate-all, depth 20) lists it from any node.
    for (const from of [n1, n3]) {
      const v = await c.agent(from, 'validate-all', { OCF_CHECK_LEVEL: '20' });
      assert.equal(v.code, 1, v.stderr);
      assert.equal(v.reason, `errant transactions (not on the primary n1): n2: ${errantGtid}`);
      assert.match(v.stderr, /n3: holds nothing that n1 lacks|n2: /);
    }
    await c.agentOk(n2, 'stop');
    const clean = await c.agent(n1, 'validate-all', { OCF_CHECK_LEVEL: '20' });
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stderr, /n3: holds nothing that n1 lacks/);
    assert.match(clean.stderr, /n2: not checked/);
  });

  test('writable-peer guard: a promotion is refused while another server still takes writes', async () => {
    await c.agentOk(n1, 'demote');
    c.setPromoted(undefined);
    await c.root(n3, 'SET GLOBAL read_only = OFF'); // a server someone made writable behind the cluster's back
    const plan: TransitionPlan = { active: [n1, n3], promoted: [] };
    const r = await promoteTransition(n1, plan);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.reason, 'refusing to become writable: n3 still accepts writes (not read-only); stop or fence n3 first');
    assert.equal(await readOnly(n1), 1, 'the refused node stays read-only');
    await c.root(n3, 'SET GLOBAL read_only = ON');
    const again = await promoteTransition(n1, plan);
    assert.equal(again.code, 0, `${again.reason}\n${again.stderr}`);
    assert.match(again.stderr, /writable-peer guard: n2: no server answers/);
  });

  test('a replica whose promotion failed after its catch-up replicates again after its next monitor', async () => {
    // n1 is primary, n3 its replica. A promotion of n3 runs its catch-up (which stops the IO thread),
    // then the guard refuses it: n1 still takes writes.
    assert.equal((await slave(n3))!.ioRunning, 'Yes');
    c.setPromoted(undefined);
    const plan: TransitionPlan = { promote: [n3], active: [n3], promoted: [] };
    assert.equal((await c.agent(n3, 'notify', c.transitionEnv('pre', 'promote', plan))).code, 0);
    const r = await c.agent(n3, 'promote');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.reason ?? '', /^refusing to become writable: n1 still accepts writes/);
    c.setPromoted(n1);
    const stopped = (await slave(n3))!;
    assert.equal(stopped.ioRunning, 'No', 'the catch-up stopped receiving');
    assert.equal(Number(stopped.lastIoErrno), 0, 'without an error');
    const [id] = await write(n1);
    // The next monitor finds it pointed at the primary but not receiving, and starts it again.
    const m = await c.agent(n3, 'monitor', RECURRING);
    assert.equal(m.code, 0, m.stderr);
    await replicated([n3], id!);
    assert.match(m.stderr, /replication from n1 is stopped without an error; starting it again/);
    const s = (await slave(n3))!;
    assert.equal(s.ioRunning, 'Yes');
    assert.equal(Number(s.sourcePort), n1.port);
    // A steady replica is left alone.
    const again = await c.agent(n3, 'monitor', RECURRING);
    assert.doesNotMatch(again.stderr, /starting it again/);
  });

  test('writable-peer guard: a frozen writable server (its kernel still accepts connections) is not silence: promotion refused', async () => {
    // n1 is primary, n3 its replica, n2 stopped. n1's server freezes; the cluster believes n1 lost
    // (a fencing that did not happen) and promotes n3 alone. n1 would take writes again on SIGCONT.
    const pid = c.pid(n1)!;
    assert.equal(await readOnly(n1), 0, 'n1 is the writable primary');
    c.setPromoted(undefined);
    signal(pid, 'SIGSTOP');
    try {
      const plan: TransitionPlan = { promote: [n3], active: [n3], promoted: [] };
      const pre = await c.agent(n3, 'notify', c.transitionEnv('pre', 'promote', plan));
      assert.equal(pre.code, 0, pre.stderr);
      const t0 = Date.now();
      const r = await c.agent(n3, 'promote', { OCF_RESKEY_CRM_meta_timeout: '10000' });
      assert.equal(r.code, 1, r.stderr);
      assert.ok(Date.now() - t0 < 10_000, `promote took ${Date.now() - t0} ms`);
      assert.match(r.reason ?? '', /^refusing to become writable: n1 answered but its read-only state cannot be read \(.*the connection was accepted, then the server did not answer\)\); stop or fence n1 first$/);
      assert.doesNotMatch(r.stderr, /n2: no server answers.*n1|n1: no server answers/);
    } finally {
      signal(pid, 'SIGCONT');
    }
    assert.equal(await readOnly(n3), 1, 'the refused node stays read-only');
    assert.equal(await readOnly(n1), 0, 'and n1, thawed, takes writes again: two writable servers were avoided');
    c.setPromoted(n1);
  });

  test('Pacemaker 2.1.6+: positions are published with attrd_updater -W cluster', async () => {
    const plan: TransitionPlan = { promote: [n3], active: [n1, n3], promoted: [n1] };
    await c.notifyAll('pre', 'promote', plan, { FAKE_PACEMAKER_VERSION: '2.1.6' });
    assert.ok(c.calls().some((l) => /attrd_updater .*-n db-position -U v1;.* -p -N n3 -W cluster$/.test(l)), c.calls().slice(-8).join('\n'));
    await c.notifyAll('post', 'promote', { ...plan, promote: [] });
  });

  test('post-promote and post-start that cannot do their work log why and succeed; the next monitor follows the primary', async () => {
    // n1 is primary, n3 its replica. n3's notifications cannot log in to its own server.
    const bad = { OCF_RESKEY_replication_password: 'not-the-Password-9' };
    const pp = await c.agent(n3, 'notify', { ...c.transitionEnv('post', 'promote', { promote: [n1], active: [n1, n3], promoted: [n1] }), ...bad });
    assert.equal(pp.code, 0, pp.stderr);
    assert.match(pp.stderr, /WARNING: post-promote: could not repoint this server to n1: .*Access denied.*; the next monitor retries/);
    await c.replication(n3, 'stop');
    await c.replication(n3, 'reset-all'); // n3 follows nobody, as a replica that started before the primary was known
    const ps = await c.agent(n3, 'notify', { ...c.transitionEnv('post', 'start', { start: [n3], active: [n1, n3], promoted: [n1] }), ...bad });
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stderr, /WARNING: post-start: could not make this server replicate from n1: .*Access denied.*; the next monitor retries/);
    for (const r of [pp, ps]) assert.ok(!r.stderr.includes('not-the-Password-9'), 'the password is not in the output');
    assert.equal(await slave(n3), undefined, 'nothing was configured');
    const [id] = await write(n1);
    assert.equal((await c.agent(n3, 'monitor', RECURRING)).code, 0);
    await replicated([n3], id!);
  });
});
