// MariaDB failover in the lab with vigil's stack: ocf:vigil:mysql (promotable, notify, semi-sync),
// ocf:vigil:vip for writes (with the promoted instance, after promotion) and for reads (on a replica
// graded OK), fence_ipmi for every node. A writer inserts a row every 20 ms through the write VIP
// and logs which commits were acknowledged; a sampler asks every server's read_only every 100 ms;
// another watches who answers ARP for the write VIP. One lab for the whole file, put back to
// health between scenarios.
//
// Every scenario asserts: never two writable servers, never two holders of the write VIP, every
// acknowledged commit on the final primary and (semi-sync on) on every replica, the servers
// converge (CHECKSUM TABLE), the old primary comes back as a replica of the new one (no failback,
// no second outage) or, with an errant transaction, is refused with the reason. Timings are
// recorded for bench/RESULTS.md; the issue's targets are reported as diagnostics, and the
// assertions on time are bounds a regression would cross.
// The heartbeat stack's side of the comparison: npm run bench:lab-mysql (bench/lab-mysql.ts).
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { READ_VIP_ID, VIGIL_DB } from './lib/mariadb.ts';
import { record, requireStack, stopLab } from './lib/scenario.ts';
import { VIGIL } from './lib/stacks.ts';
import {
  DbCluster, SCENARIO_TITLES, describeResult, resultRecord, runScenario, type FaultKind, type ScenarioResult,
} from './lib/mysql-scenario.ts';
import { idRanges } from './lib/mysql-analysis.ts';
import { describeRoVip, roVipAfterPromotion, roVipPlacedAfterPromotion } from './lib/readonly-vip.ts';

/** What heartbeat's stack took in this lab for a kill -9 of the primary's server (issue 7): 7.6-8.3 s. */
const HEARTBEAT_KILL9_MS = 7600;
/**
 * After a promotion, the cluster has the read-only VIP on a replica within this: the other
 * replica repointed, graded OK at its next monitor, the VIP moved. Measured after power-offs, as
 * the client saw it: 2.8, 5.4, 7.5 s (3 runs), then 23.5 s twice (the primary stopped answering on
 * it 8 s after the promotion, then no answer for 15 s; the cluster's side was not recorded), then
 * 6.9 s on both sides. With the old score (100, equal to the stickiness) it never left the new
 * primary (126 s).
 */
const RO_VIP_ON_REPLICA_MS = 15_000;

function common(t: TestContext, r: ScenarioResult): void {
  t.diagnostic(describeResult(r));
  assert.deepEqual(r.twoWritable.map((s) => `${new Date(s.t).toISOString()} ${JSON.stringify(s.s)}`), [], 'two servers accepted writes at once');
  assert.deepEqual(r.vipSplit.map((s) => `${new Date(s.t).toISOString()} holders=${s.holders} arp=${s.arp}`), [], 'two nodes answered for the write VIP');
  assert.ok(r.finalPrimary, 'no promoted instance at the end');
  assert.deepEqual(r.lost, [], `acknowledged commits missing on the final primary ${r.finalPrimary}: ${idRanges(r.lost)}`);
  assert.ok(r.converged, `the servers did not converge: ${JSON.stringify(r.checksums)}`);
  assert.ok(r.acked > 50, `only ${r.acked} commits acknowledged`);
  if (r.kind !== 'replica') assert.notEqual(r.newPrimary, r.oldPrimary, 'the primary role did not move');
  assert.equal(r.finalPrimary, r.newPrimary, `failback: the primary moved again to ${r.finalPrimary} after ${r.newPrimary}`);
  assert.ok((r.outage.secondOutageMs ?? 0) < 1000, `a second outage of ${r.outage.secondOutageMs} ms after the first write was accepted`);
  if (r.kind !== 'errant') {
    assert.ok(r.notes.every((n) => !/did not come back/.test(n)), r.notes.join('; '));
    assert.equal(r.refusedReason, undefined, `${r.victim} was refused: ${r.refusedReason}`);
  }
  if (r.semisync) {
    for (const [n, l] of Object.entries(r.lostOn)) assert.deepEqual(l, [], `acknowledged commits missing on ${n}: ${idRanges(l)}`);
  }
}

const target = (t: TestContext, what: string, ok: boolean, detail: string) => t.diagnostic(`target ${what}: ${ok ? 'met' : 'NOT met'} (${detail})`);

describe('MariaDB failover in the lab: vigil (ocf:vigil:mysql + ocf:vigil:vip + fence_ipmi), 3 nodes', { timeout: 45 * 60_000 }, () => {
  let db: DbCluster | undefined;
  before(async () => {
    db = await DbCluster.start(VIGIL_DB, { semisync: true }, { log: (l) => console.log(`# lab: ${l}`) });
    requireStack(db.lab, VIGIL);
  });
  after(async () => { await stopLab(db?.lab); });

  /** Health before each scenario: failures cleared; a database that cannot recover is rebuilt. */
  const healthy = async (): Promise<DbCluster> => { await db!.healthy(120_000); return db!; };

  async function run(t: TestContext, kind: FaultKind): Promise<ScenarioResult> {
    const d = await healthy();
    const r = await runScenario(d, kind);
    record(d.lab, { ...resultRecord(r) });
    return r;
  }

  test(`semi-sync on: ${SCENARIO_TITLES.kill9}: another replica promoted, the old primary rejoins`, async (t) => {
    const r = await run(t, 'kill9');
    common(t, r);
    const out = r.outage.outageMs!;
    target(t, 'kill -9 at most half the heartbeat stack\'s time', out <= HEARTBEAT_KILL9_MS / 2, `${out} ms vs ${HEARTBEAT_KILL9_MS} ms`);
    assert.ok(out < HEARTBEAT_KILL9_MS, `outage ${out} ms: no better than heartbeat's ${HEARTBEAT_KILL9_MS} ms`);
  });

  test(`semi-sync on: ${SCENARIO_TITLES.poweroff}: fenced through its BMC, promoted elsewhere; it rejoins as a replica (no failback, no second outage)`, async (t) => {
    const r = await run(t, 'poweroff');
    common(t, r);
    // The read-only VIP ends on a replica graded OK, not on the new primary (issue 12 item 8).
    const promotion = r.timeline.promotion!;
    const ro = roVipAfterPromotion(r.samples, promotion);
    const before = [...r.samples].reverse().find((s) => s.t < r.t0 && /^ro:/.test(s.s['ro-vip'] ?? ''))?.s['ro-vip']!.slice(3);
    const placed = roVipPlacedAfterPromotion(r.events, READ_VIP_ID, promotion, r.newPrimary!, before);
    t.diagnostic(`read-only VIP (on ${before ?? '?'} before the fault): the client saw it ${describeRoVip(ro, promotion)}; ` +
      `the cluster had it on ${placed ? `${placed.node} ${placed.t - promotion} ms after the promotion` : 'no replica'}`);
    assert.ok(placed, `the cluster left the read-only VIP on the new primary ${r.newPrimary}`);
    assert.ok(placed.t - promotion < RO_VIP_ON_REPLICA_MS, `the read-only VIP was placed on replica ${placed.node} ${placed.t - promotion} ms after the promotion`);
    assert.ok(ro.onReplica, `no replica answered on the read-only VIP after the promotion (${describeRoVip(ro, promotion)})`);
    assert.ok(r.timeline.fence !== undefined && r.timeline.promotion! >= r.timeline.fence, 'promoted before the fence completed');
    const after = r.timeline.firstWrite! - r.timeline.fence!;
    target(t, 'power-off: first write within 1 s of detection + fencing', after <= 1000, `${after} ms after the fence`);
    assert.ok(after < 3000, `first write ${after} ms after the fence`);
    assert.ok(r.rejoinMs !== undefined, 'the old primary did not start again');
  });

  test(`semi-sync on: ${SCENARIO_TITLES.linkcut}: fenced, promoted elsewhere, rejoins`, async (t) => {
    const r = await run(t, 'linkcut');
    common(t, r);
    assert.ok(r.timeline.promotion! >= r.timeline.fence!, 'promoted before the BMC cut the power');
  });

  test(`semi-sync on: ${SCENARIO_TITLES.freeze}: fenced, promoted elsewhere, rejoins`, async (t) => {
    const r = await run(t, 'freeze');
    common(t, r);
    assert.ok(r.timeline.promotion! >= r.timeline.fence!, 'promoted before the BMC cut the power');
  });

  test(`semi-sync on: ${SCENARIO_TITLES.switchover}: nothing lost, the old primary replicates from the target`, async (t) => {
    const r = await run(t, 'switchover');
    common(t, r);
    const out = r.outage.outageMs!;
    target(t, 'switchover under 1 s', out < 1000, `${out} ms client-side; write VIP down ${r.vipGapMs ?? '?'} ms`);
    assert.ok(out < 4000, `switchover outage ${out} ms`);
  });

  test(`semi-sync on: ${SCENARIO_TITLES.replica}: writes go on, the read-only VIP leaves it, it rejoins`, async (t) => {
    const r = await run(t, 'replica');
    common(t, r);
    assert.equal(r.finalPrimary, r.oldPrimary, 'the primary moved');
    assert.ok(r.outage.outageMs! < 1000, `writes stopped for ${r.outage.outageMs} ms while a replica died`);
  });

  test(`semi-sync off: ${SCENARIO_TITLES.kill9}`, async (t) => {
    const d = await healthy();
    await d.setSemisync(false);
    const r = await run(t, 'kill9');
    t.diagnostic(describeResult(r));
    // Without semi-sync an acknowledged commit may exist only on the dead primary: recorded, and
    // the rest of the checks hold (lost ones are not asserted away).
    assert.deepEqual(r.twoWritable, []);
    assert.deepEqual(r.vipSplit.length, 0);
    assert.ok(r.converged, JSON.stringify(r.checksums));
    assert.equal(r.finalPrimary, r.newPrimary, 'failback');
    target(t, 'acknowledged commits lost: 0 (semi-sync off)', r.lost.length === 0, `${r.lost.length} lost`);
  });

  test(`semi-sync off: ${SCENARIO_TITLES.errant}: refused with the errant transaction listed, nothing changed`, async (t) => {
    const d = await healthy();
    if (d.opts.semisync) await d.setSemisync(false);
    const r = await run(t, 'errant');
    t.diagnostic(describeResult(r));
    assert.match(r.refusedReason ?? '', new RegExp(`errant transactions on ${r.victim}: 0-\\d+-\\d+`), `no refusal: ${r.notes.join('; ')}`);
    assert.deepEqual(r.twoWritable, []);
    assert.deepEqual(r.vipSplit.length, 0);
    assert.deepEqual(r.lost, [], idRanges(r.lost));
    assert.ok(r.converged, `the other servers did not converge: ${JSON.stringify(r.checksums)}`);
    assert.notEqual(r.newPrimary, r.victim);
    // The refused node stays out (its datadir would have to be restored from the primary, e.g. by
    // mariabackup; replaying the primary's binary logs into an empty server does not work: it skips
    // the events that carry its own server_id). This is the file's last scenario.
  });
});
