// A promotion that fails (the candidate gives way in the election) is still followed by Pacemaker's
// post-promote notification naming that candidate. The better replicas must not take the behind
// candidate for the primary: compared with it they would record errant transactions, grade
// themselves FAIL and leave the behind candidate as the only promotable node, which then wins and
// loses what they held. Found in the lab (a rebuilt, still catching-up node became primary and 194
// commits were gone). Three real MariaDB servers on 127.0.0.1:33095-33097, then three MySQL 9.7
// servers on 34095-34097 (support/mariadb.ts flavours()).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MariaCluster, flavours, type Node, type TransitionPlan } from './support/mariadb.ts';
import { signal } from '../../lib/daemon.ts';

for (const flavour of flavours()) describe(`ocf:vigil:mysql: post-promote after a failed promotion (${flavour.label})`, { timeout: 300_000 }, () => {
  let c: MariaCluster;
  let n1: Node, n2: Node, n3: Node;

  before(async () => {
    c = await MariaCluster.create({ flavour, nodes: 3, basePort: 33095 });
    [n1, n2, n3] = c.nodes as [Node, Node, Node];
  });
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  let nextId = 1;
  const write = async (node: Node, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) { const id = nextId++; await c.app(node, 'INSERT INTO vigiltest.t VALUES (?, ?)', [id, 'w']); out.push(id); }
    return out;
  };
  const holds = (nodes: Node[], id: number) => c.waitFor(async () => {
    for (const n of nodes) if (!(await c.ids(n)).includes(id)) return false;
    return true;
  }, 15_000, `row ${id} on ${nodes.map((n) => n.name).join(', ')}`);

  test('the behind candidate gives way; its post-promote leaves the better replica promotable, and it wins next', async () => {
    for (const n of c.nodes) await c.agentOk(n, 'start');
    await c.notifyAll('pre', 'promote', { promote: [n1] });
    await c.agentOk(n1, 'promote');
    c.setPromoted(n1);
    await c.notifyAll('post', 'promote', { promote: [n1] });
    await holds([n2, n3], (await write(n1, 3)).at(-1)!);

    // n3 falls behind: it stops receiving, n2 gets five more commits, then n1's node is lost.
    await c.replication(n3, 'stop-io');
    const ahead = await write(n1, 5);
    await holds([n2], ahead.at(-1)!);
    signal(c.pid(n1)!, 'SIGKILL');
    await c.waitFor(() => c.pid(n1) === undefined, 5000, "n1's server to die");
    c.setPromoted(undefined);

    // Pacemaker picks n3; it gives way to n2 and its promotion fails. Post-promote still follows.
    const plan: TransitionPlan = { promote: [n3], active: [n2, n3], promoted: [] };
    await c.notifyAll('pre', 'promote', plan);
    const p = await c.agent(n3, 'promote');
    assert.equal(p.code, 1, `n3 should have given way to n2: ${p.stderr}`);
    assert.match(p.reason ?? '', /n2 is ahead of n3/);
    await c.notifyAll('post', 'promote', plan);

    // n2 did not take n3 (read-only, behind) for the primary: no errant transactions, not FAIL.
    await c.agentOk(n2, 'monitor', { OCF_RESKEY_CRM_meta_interval: '7000' });
    assert.notEqual(c.attr(n2, 'db-grade'), 'FAIL', `n2 graded itself FAIL after n3's failed promotion: ${c.calls().filter((l) => l.includes('db-grade')).slice(-3).join(' | ')}`);
    assert.notEqual(c.score(n2), '-INFINITY');

    // The next transition promotes n2, which holds every commit.
    await c.notifyAll('pre', 'promote', { promote: [n2], active: [n2, n3], promoted: [] });
    await c.agentOk(n2, 'promote');
    c.setPromoted(n2);
    await c.notifyAll('post', 'promote', { promote: [n2], active: [n2, n3], promoted: [] });
    for (const id of ahead) assert.ok((await c.ids(n2)).includes(id), `commit ${id} missing on the new primary`);
    await holds([n3], ahead.at(-1)!);
  });
});
