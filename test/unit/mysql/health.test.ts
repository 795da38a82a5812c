// Grading and promotion score: exhaustive over the replica states, table-driven at the
// thresholds, property-based for the invariants (a FAIL replica is never promotable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FATAL_IO_ERRORS, GRADES, INFINITY, PRIMARY_SCORE, UNCONFIGURED_SCORE, effectiveLag, gradeReplica, lagGrade,
  promotionScore, scoreValue, trackPending, worse, type Grade, type LagThresholds,
} from '../../../lib/mysql/health.ts';
import { parseReplicaStatus, type IoState, type ReplicaStatus } from '../../../lib/mysql/status.ts';
import { FIXTURES } from './fixtures.ts';

const T: LagThresholds = { info: 5, warn: 30, critical: 120, fail: 0 };
const healthy = parseReplicaStatus(FIXTURES.mariadb.replicaOk)!;
const status = (o: Partial<ReplicaStatus>): ReplicaStatus => ({ ...healthy, ...o });

test('fixtures grade as expected, for every flavour', () => {
  const want: Record<string, Grade> = { replicaOk: 'OK', sqlStoppedPending: 'INFO', sqlError: 'FAIL', ioConnecting: 'WARN', ioFatal: 'FAIL', replicaLagging: 'WARN' };
  for (const [flavour, f] of Object.entries(FIXTURES)) {
    for (const [k, g] of Object.entries(want)) {
      const rows = (f as unknown as Record<string, unknown>)[k];
      if (!rows) continue;
      const a = gradeReplica({ status: parseReplicaStatus(rows as never), pendingForSeconds: k === 'sqlStoppedPending' ? 0 : null }, T);
      assert.equal(a.grade, g, `${flavour} ${k}: ${a.reasons.join('; ')}`);
    }
    assert.equal(gradeReplica({ status: parseReplicaStatus(f.unconfigured), pendingForSeconds: null }, T).grade, 'INFO');
  }
});

test('lag thresholds: boundaries, each step disableable', () => {
  const cases: Array<[number, LagThresholds, Grade]> = [
    [0, T, 'OK'], [4, T, 'OK'], [5, T, 'INFO'], [29, T, 'INFO'], [30, T, 'WARN'], [119, T, 'WARN'], [120, T, 'CRITICAL'], [99999, T, 'CRITICAL'],
    [200, { ...T, fail: 200 }, 'FAIL'], [199, { ...T, fail: 200 }, 'CRITICAL'],
    [10, { info: 0, warn: 0, critical: 0, fail: 0 }, 'OK'], [10, { info: 0, warn: 10, critical: 0, fail: 0 }, 'WARN'],
    [3, { info: 1, warn: 2, critical: 4, fail: 0 }, 'WARN'], [4, { info: 1, warn: 2, critical: 4, fail: 0 }, 'CRITICAL'],
  ];
  for (const [lag, t, g] of cases) assert.equal(lagGrade(lag, t), g, `${lag} ${JSON.stringify(t)}`);
});

// Every combination of thread states and errors, with the rule each must obey.
const IO: IoState[] = ['running', 'connecting', 'stopped'];
const IO_ERR = [0, 2003, 1045, 1236, 1593, 13114];
const SQL_ERR = [0, 1062, 1032];
test('exhaustive thread/error matrix', () => {
  let n = 0;
  for (const io of IO) for (const ioErrno of IO_ERR) for (const sqlRunning of [true, false]) for (const sqlErrno of SQL_ERR) for (const lag of [0, 7, 40, 500]) {
    if (sqlRunning && sqlErrno) continue; // a running applier has no error
    const s = status({ io, ioErrno, sqlRunning, sqlErrno, secondsBehind: sqlRunning ? lag : null, readPos: 100 + lag, execPos: 100 });
    const a = gradeReplica({ status: s, pendingForSeconds: sqlRunning ? null : lag }, T);
    const score = promotionScore(a);
    const label = JSON.stringify({ io, ioErrno, sqlRunning, sqlErrno, lag, a });
    let expected: Grade = lagGrade(lag, T);
    if (!sqlRunning) expected = worse(expected, sqlErrno ? 'FAIL' : 'INFO');
    if (io === 'stopped') expected = worse(expected, ioErrno === 0 ? 'WARN' : FATAL_IO_ERRORS.has(ioErrno) ? 'FAIL' : 'CRITICAL');
    if (io === 'connecting') expected = worse(expected, 'WARN');
    assert.equal(a.grade, expected, label);
    assert.equal(a.lag, lag, label);
    if (a.grade === 'FAIL') assert.equal(score, -INFINITY, label);
    else assert.ok(score > 0 && score < PRIMARY_SCORE, label);
    assert.equal(a.reasons.length > 0, a.grade !== 'OK', label);
    n++;
  }
  assert.equal(n, 288);
});

test('score table', () => {
  const cases: Array<[Grade, number | null, number]> = [
    ['OK', 0, 1000], ['OK', 4, 996], ['INFO', 10, 790], ['WARN', 45, 455], ['WARN', 5000, 401], ['CRITICAL', 130, 1], ['CRITICAL', 0, 100],
    ['FAIL', 0, -INFINITY], ['FAIL', null, -INFINITY], ['INFO', null, UNCONFIGURED_SCORE],
  ];
  for (const [grade, lag, score] of cases) assert.equal(promotionScore({ grade, lag, reasons: [] }), score, `${grade} ${lag}`);
  assert.equal(scoreValue(-INFINITY), '-INFINITY');
  assert.equal(scoreValue(INFINITY + 5), 'INFINITY');
  assert.equal(scoreValue(PRIMARY_SCORE), '1001');
  assert.equal(scoreValue(12.7), '12');
});

test('property: a worse grade never scores higher; FAIL is never promotable; the primary outranks every replica', () => {
  fc.assert(fc.property(fc.constantFrom(...GRADES), fc.constantFrom(...GRADES), fc.nat(100000), fc.nat(100000), (g1, g2, l1, l2) => {
    const s1 = promotionScore({ grade: g1, lag: l1, reasons: [] });
    const s2 = promotionScore({ grade: g2, lag: l2, reasons: [] });
    if (GRADES.indexOf(g1) < GRADES.indexOf(g2)) assert.ok(s1 > s2, `${g1}/${l1}=${s1} ${g2}/${l2}=${s2}`);
    if (g1 === 'FAIL') assert.ok(s1 < 0);
    else assert.ok(s1 > 0 && s1 < PRIMARY_SCORE);
  }));
});

test('property: more lag never improves the grade (SQL thread running)', () => {
  fc.assert(fc.property(fc.nat(10000), fc.nat(10000), fc.record({ info: fc.nat(50), warn: fc.nat(200), critical: fc.nat(900), fail: fc.nat(2000) }), (a, b, t) => {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    const g = (lag: number) => gradeReplica({ status: status({ secondsBehind: lag }), pendingForSeconds: null }, t).grade;
    assert.ok(GRADES.indexOf(g(lo)) <= GRADES.indexOf(g(hi)));
  }));
});

test('property: an SQL error always means FAIL, whatever else holds', () => {
  fc.assert(fc.property(fc.constantFrom<IoState>(...IO), fc.integer({ min: 1, max: 20000 }), fc.option(fc.nat(100000)), fc.nat(3), (io, errno, lag, ioErr) => {
    const a = gradeReplica({ status: status({ io, sqlRunning: false, sqlErrno: errno, ioErrno: IO_ERR[ioErr]!, secondsBehind: null }), pendingForSeconds: lag }, T);
    assert.equal(a.grade, 'FAIL');
    assert.ok(promotionScore(a) < 0);
  }));
});

test('trackPending: how long unapplied events have waited, only while the server gives no lag', () => {
  const stopped = status({ sqlRunning: false, secondsBehind: null, readPos: 200, execPos: 100 });
  let t = trackPending(stopped, undefined, 10_000);
  assert.deepEqual(t, { since: 10_000, pendingForSeconds: 0 });
  t = trackPending(stopped, t.since, 14_500);
  assert.deepEqual(t, { since: 10_000, pendingForSeconds: 4 });
  assert.deepEqual(trackPending(status({ sqlRunning: false, secondsBehind: null }), 10_000, 20_000), { since: undefined, pendingForSeconds: null }, 'nothing pending: forget');
  assert.deepEqual(trackPending(status({ secondsBehind: 3, readPos: 200, execPos: 100 }), 10_000, 20_000), { since: undefined, pendingForSeconds: null }, 'the server measures');
  assert.deepEqual(trackPending(stopped, 99_000, 20_000), { since: 20_000, pendingForSeconds: 0 }, 'a clock step back restarts the count');
  assert.deepEqual(trackPending(undefined, 5, 20_000), { since: undefined, pendingForSeconds: null });
  assert.equal(effectiveLag(stopped, 7), 7);
  assert.equal(effectiveLag(status({ secondsBehind: 12 }), 99), 12);
});
