// Repeated and compound failures in the lab with vigil's stack, configured as documented (semi-sync
// on, migration-threshold=1, failure-timeout=60s): three crashes of the primary's server in a row,
// the primary's and a replica's servers lost together, the node with the newest data powered off
// while the other servers are down. Each ends with every acknowledged commit on the final primary,
// or with no primary and a reason naming what is missing, never with a stale primary; when the
// operator then brings the missing nodes back (pcs resource cleanup), the right node is promoted
// and nothing is lost. One lab for the file, put back to health between scenarios.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Deadline, pollUntil, sleep } from '../../lib/deadline.ts';
import { VIGIL_DB, DB, idsOn } from './lib/mariadb.ts';
import { requireStack, stopLab } from './lib/scenario.ts';
import { VIGIL } from './lib/stacks.ts';
import { EventLog, type ClusterEvent } from './lib/events.ts';
import { DbCluster, ServerSampler, Writer, dbRoles } from './lib/mysql-scenario.ts';
import { idRanges, lostAcknowledged, twoWritable } from './lib/mysql-analysis.ts';

const REFUSAL = /not promoted: .*(has no running server|lacks)/;

describe('MariaDB repeated and compound failures in the lab: vigil, semi-sync on, migration-threshold=1', { timeout: 45 * 60_000 }, () => {
  let db: DbCluster | undefined;
  before(async () => {
    db = await DbCluster.start(VIGIL_DB, { semisync: true }, { log: (l) => console.log(`# lab: ${l}`) });
    requireStack(db.lab, VIGIL);
  });
  after(async () => { await stopLab(db?.lab); });

  /** Health before each scenario: failures cleared; a database that cannot recover is rebuilt. */
  const healthy = async (): Promise<DbCluster> => { await db!.healthy(120_000); return db!; };

  /** What a scenario leaves to check: the writer's promises against the servers. */
  class Run {
    readonly writer: Writer;
    readonly sampler: ServerSampler;
    readonly events: EventLog;
    readonly base: number;
    readonly t0 = Date.now();
    constructor(readonly d: DbCluster) {
      this.writer = new Writer(d.lab);
      this.sampler = new ServerSampler(d.lab);
      this.events = new EventLog(d.lab.p.eventsLog);
      this.base = d.takeBase();
    }
    async start(): Promise<void> {
      await this.sampler.start();
      await this.writer.start(this.base);
      assert.ok(await this.writer.acksAfter(Date.now(), 50, 20_000), 'no acknowledgements before the fault');
    }
    ev(since = this.t0): ClusterEvent[] { return this.events.read().filter((e) => e.t >= since); }
    async primary(): Promise<string | undefined> { return dbRoles(await this.d.status()).promoted[0]; }
    async killServer(node: string): Promise<number> {
      const pid = (await this.d.lab.onOk(node, ['cat', '/run/mysqld/mysqld.pid'])).trim();
      const t = Date.now();
      await this.d.lab.onOk(node, ['kill', '-9', pid]);
      return t;
    }
    /** A successful promotion after `since`, with 20 acknowledgements after it; undefined when none in time. */
    async promotedAfter(since: number, ms: number): Promise<string | undefined> {
      return pollUntil(async () => {
        const p = this.ev(since).find((e) => e.kind === 'resource' && e.rsc === DB && e.task === 'promote' && e.rc === '0');
        if (!p) return undefined;
        return this.writer.read().inserts.filter((i) => i.ok && i.rt > p.t).length >= 20 ? p.node : undefined;
      }, 200, new Deadline(ms));
    }
    /** The refused promotions' reasons seen by crm_mon since the scenario began. */
    async refusals(): Promise<string[]> {
      const st = await this.d.status().catch(() => undefined);
      return (st?.failures ?? []).filter((f) => /promote/.test(f.opKey) && REFUSAL.test(f.exitReason ?? '')).map((f) => `${f.node}: ${f.exitReason}`);
    }
    /** Stop writing, wait for convergence, compare every acknowledged commit with the final primary. */
    async verdict(t: TestContext): Promise<{ finalPrimary?: string; lost: number[] }> {
      // Every node back (one primary, two replicas following it), so all three are compared.
      await this.d.waitHealthy(150_000);
      await this.writer.stop();
      await this.sampler.stop();
      const st = await this.d.status();
      const roles = dbRoles(st);
      const finalPrimary = roles.promoted[0];
      const inserts = this.writer.read().inserts;
      const running = this.d.lab.nodes.filter((n) => roles.promoted.includes(n) || roles.unpromoted.includes(n));
      const conv = await this.d.converge(running);
      const lost = finalPrimary ? lostAcknowledged(inserts, await idsOn(this.d.lab, finalPrimary, this.base, this.base + 9_000_000)) : [];
      const two = twoWritable(this.sampler.read());
      t.diagnostic(`final primary ${finalPrimary ?? 'none'}, acknowledged ${inserts.filter((i) => i.ok).length}, lost ${lost.length} ${idRanges(lost)}, converged ${conv.converged} ${JSON.stringify(conv.checksums)}`);
      assert.deepEqual(two, [], 'two servers accepted writes at once');
      assert.ok(finalPrimary, 'no primary at the end, after the operator brought every node back');
      assert.deepEqual(lost, [], `acknowledged commits missing on ${finalPrimary}: ${idRanges(lost)}`);
      assert.ok(conv.converged, `the servers did not converge: ${JSON.stringify(conv.checksums)}`);
      return { finalPrimary, lost };
    }
    /**
     * For `ms` after `since`: no promotion of any of the `stale` nodes (the only ones that could run
     * then). Returns the refusals crm_mon shows (a node Pacemaker did not even try is fine too).
     */
    async expectNoStalePrimary(t: TestContext, since: number, stale: string[], ms: number, wantRefusal = false): Promise<string[]> {
      const deadline = new Deadline(ms);
      let refusals: string[] = [];
      while (!deadline.expired()) {
        const bad = this.ev(since).find((e) => e.kind === 'resource' && e.rsc === DB && e.task === 'promote' && e.rc === '0');
        assert.equal(bad, undefined, `${bad?.node} was promoted while ${stale.join(', ')} lack the newest commits`);
        refusals = await this.refusals();
        if (wantRefusal && refusals.length) break;
        await sleep(500);
      }
      t.diagnostic(`after the last fault, refused: ${JSON.stringify(refusals)}`);
      if (wantRefusal) assert.ok(refusals.length, 'no refusal with a reason was shown');
      return refusals;
    }
    /** The operator brings every node back (docs/mysql.md: "bring the right node back"). */
    async cleanup(): Promise<void> {
      await this.d.lab.on(this.d.lab.anyLiveNode(), ['pcs', 'resource', 'cleanup', DB]);
    }
  }

  test('three crashes of the primary\'s server in a row: never a stale primary; once the nodes are back, nothing is lost', async (t) => {
    const d = await healthy();
    const r = new Run(d);
    await r.start();
    const crashed: string[] = [];
    for (let i = 1; i <= 2; i++) {
      const p = (await r.primary())!;
      const at = await r.killServer(p);
      crashed.push(p);
      const next = await r.promotedAfter(at, 60_000);
      t.diagnostic(`crash ${i} of ${p}: ${next ? `${next} promoted` : 'no promotion'}`);
      assert.ok(next && !crashed.includes(next), `crash ${i}: expected a promotion of a node not yet crashed, got ${next}`);
    }
    const last = (await r.primary())!;
    // The last primary writes alone for a while: semi-sync falls back after semisync_timeout.
    await sleep(15_000);
    const third = await r.killServer(last);
    crashed.push(last);
    // Every instance has failed now. The nodes crashed first get theirs back first (failure-timeout):
    // they lack what the later primaries wrote and must be refused; the last primary, back last,
    // must be the one promoted. (Before the record, the first node back won: 320 commits lost.)
    const winner = await r.promotedAfter(third, 180_000);
    const refused = r.ev(third).filter((e) => e.kind === 'resource' && e.rsc === DB && e.task === 'promote' && e.rc !== '0').map((e) => e.node);
    t.diagnostic(`after the third crash: refused promotions on ${JSON.stringify(refused)}, then ${winner} promoted (the last primary was ${last})`);
    assert.equal(winner, last, 'the node holding the newest acknowledged commits must be the one promoted');
    assert.ok(refused.some((n) => crashed.slice(0, 2).includes(n)), `no promotion of ${crashed.slice(0, 2)} was tried and refused: ${JSON.stringify(await r.refusals())}`);
    await r.cleanup();
    await r.verdict(t);
  });

  test('the primary\'s and a replica\'s servers lost together: the last replica waits, then nothing is lost', async (t) => {
    const d = await healthy();
    const r = new Run(d);
    await r.start();
    const p = (await r.primary())!;
    const replica = d.lab.nodes.find((n) => n !== p)!;
    const at = await r.killServer(p);
    await r.killServer(replica);
    const third = d.lab.nodes.find((n) => n !== p && n !== replica)!;
    const seen = await r.expectNoStalePrimary(t, at, [third], 60_000, true);
    assert.ok(seen.some((s) => s.includes(replica)), `the reason must name ${replica}: ${JSON.stringify(seen)}`);
    await r.cleanup();
    assert.ok(await r.promotedAfter(at, 120_000), 'no promotion once every node was back');
    await r.verdict(t);
  });

  test('the node with the newest data powered off while the other servers are down: nobody else is promoted until it is back', async (t) => {
    const d = await healthy();
    const r = new Run(d);
    await r.start();
    const p = (await r.primary())!;
    const others = d.lab.nodes.filter((n) => n !== p);
    for (const n of others) await r.killServer(n);
    // The primary writes alone (semi-sync falls back after semisync_timeout), then loses power.
    await sleep(15_000);
    const before = r.writer.read().inserts.filter((i) => i.ok).length;
    await d.lab.powerOff(p);
    const at = Date.now();
    t.diagnostic(`${p} powered off after ${before} acknowledged commits`);
    await r.cleanup(); // the other servers come back while the primary is away
    await r.expectNoStalePrimary(t, at, others, 20_000);
    // Fenced, it boots again and its server starts: the election now includes it.
    const winner = await r.promotedAfter(at, 240_000);
    t.diagnostic(`${winner} promoted once ${p} was back`);
    assert.equal(winner, p);
    await r.verdict(t);
  });

  test('reset: the record is cleared with the database (a rebuilt cluster is not held to old positions)', async () => {
    const d = db!;
    await d.reset();
    const rec = await d.lab.on(d.lab.anyLiveNode(), ['crm_attribute', '--type', 'crm_config', '--set-name', 'vigil-db', '--name', 'db-last-primary', '--query', '--quiet']);
    assert.match(rec.stdout, /"epoch":1,/, `one promotion since the reset: ${rec.stdout}`);
  });
});
