// The record of the last promotion and the check it drives: table-driven cases for every branch,
// and a model of a 3-node semi-sync cluster under random sequences of writes, crashes, restarts
// and failovers in which a promotion the check allows must never lose an acknowledged commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeRecord, encodeRecord, lineageVerdict, nextRecord, type LineageInput, type LineageRecord,
} from '../../../lib/mysql/lineage.ts';

const ACCEPT = 'crm_attribute --type crm_config --set-name vigil-db --name db-last-primary --delete';
const rec = (o: Partial<LineageRecord> = {}): LineageRecord => ({
  epoch: 3, primary: 'n1', at: '0-1-100', protection: 'sync', replicas: ['n2', 'n3'], since: 1, ...o,
});
const input = (o: Partial<LineageInput> = {}): LineageInput => ({
  family: 'mariadb', self: 'n2', position: '0-1-150', record: rec(), present: new Map([['n3', '0-1-140']]),
  joined: new Map(), allowAsync: false, acceptCommand: ACCEPT, ...o,
});

test('record: encode/decode round trip; damaged records are problems, not records', () => {
  const r = rec({ at: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,0-1-2' });
  assert.deepEqual(decodeRecord(encodeRecord(r)).record, r);
  assert.deepEqual(decodeRecord(undefined), {});
  assert.deepEqual(decodeRecord(''), {});
  for (const bad of ['{', '{"v":2}', '{"v":1,"epoch":0,"primary":"n1","at":"","protection":"sync","replicas":[]}',
    '{"v":1,"epoch":1,"primary":"","at":"","protection":"sync","replicas":[]}',
    '{"v":1,"epoch":1,"primary":"n1","at":"","protection":"maybe","replicas":[]}',
    '{"v":1,"epoch":1,"primary":"n1","at":"","protection":"sync","replicas":[1]}', 'null', '7']) {
    const d = decodeRecord(bad);
    assert.equal(d.record, undefined, bad);
    assert.ok(d.problem, bad);
  }
});

test('nextRecord: the epoch counts promotions; the primary is not its own replica', () => {
  const first = nextRecord(undefined, 'n1', '0-1-5', 'sync', ['n3', 'n2', 'n1', 'n2'], 9);
  assert.deepEqual(first, { epoch: 1, primary: 'n1', at: '0-1-5', protection: 'sync', replicas: ['n2', 'n3'], since: 9 });
  assert.equal(nextRecord(first, 'n2', '0-1-9', 'off', [], 10).epoch, 2);
});

test('lineage verdicts, every branch', () => {
  const cases: Array<[string, Partial<LineageInput>, boolean, RegExp?]> = [
    ['no record: the election alone decides', { record: undefined }, true],
    ['an unreadable record refuses', { record: undefined, problem: 'not JSON' }, false, /cannot be read \(not JSON\).*--query.*--delete/],
    ['self is the last primary', { self: 'n1', position: '0-1-1' }, true],
    ['the last primary takes part: the election compares it', { present: new Map([['n1', '0-1-200'], ['n3', '0-1-1']]) }, true],
    ['the last primary is gone, every replica present, semi-sync', {}, true],
    ['the candidate is older than the last primary\'s promotion', { position: '0-1-99' }, false, /promoted holding 0-1-100 and n2 lacks domain 0: sequence 100-100.*pcs resource cleanup.*--delete/],
    ['a replica of the lost primary is absent', { present: new Map() }, false, /n3 replicated from it but has no running server.*held only by n3/],
    ['a node that joined under this epoch is absent', { record: rec({ replicas: ['n2'] }), present: new Map(), joined: new Map([['n3', 3]]) }, false, /n3 replicated/],
    ['a node that joined an older epoch is not a threat', { record: rec({ replicas: ['n2'] }), present: new Map(), joined: new Map([['n3', 2]]) }, true],
    ['the lost primary ran asynchronously', { record: rec({ protection: 'async' }) }, false, /asynchronously.*allow_async_failover=true/],
    ['... unless availability was chosen', { record: rec({ protection: 'async' }), allowAsync: true }, true],
    ['asynchronous by configuration: replicas absent do not block', { record: rec({ protection: 'off' }), present: new Map() }, true],
    ['... but an older candidate still does', { record: rec({ protection: 'off' }), position: '0-1-10' }, false, /lacks/],
    ['an unreadable recorded position refuses', { record: rec({ at: 'garbage' }) }, false, /cannot be compared/],
    ['MySQL sets', { family: 'mysql', record: rec({ at: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10' }), position: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9' }, false, /lacks .*3e11fa47-71ca-11e1-9e33-c80aa9429562:10/],
  ];
  for (const [name, o, ok, why] of cases) {
    const v = lineageVerdict(input(o));
    assert.equal(v.ok, ok, `${name}: ${JSON.stringify(v)}`);
    if (!v.ok && why) assert.match(v.reason, why, name);
  }
  const off = lineageVerdict(input({ record: rec({ protection: 'off' }) }));
  assert.ok(off.ok && off.notes.some((n) => /semisync=false/.test(n)));
});

// ---------------------------------------------------------------- the model
// One MariaDB domain; a node's position is the sequence number it holds (its stream is a prefix
// of the one history, as replicas of one primary chain are). A semi-sync commit is acknowledged
// once at least one running replica of the primary received it; with no replica running the
// primary falls back to asynchronous and the record says so before that commit is acknowledged
// (the agent's monitor records it within one interval: see docs/mysql.md for that window).

type Ev =
  | { k: 'write'; n: number; recv: number[] }
  | { k: 'crash'; node: number }
  | { k: 'restart'; node: number }
  | { k: 'failover' };

const NODES = ['n1', 'n2', 'n3'];

function simulate(events: Ev[], verdict: typeof lineageVerdict = lineageVerdict): { promotions: number; violations: string[] } {
  const seq = [10, 10, 10];
  const up = [true, true, true];
  let primary: number | undefined = 0;
  let record: LineageRecord | undefined = nextRecord(undefined, 'n1', '0-1-10', 'sync', ['n2', 'n3'], 0);
  const joined = new Map<string, number>();
  const replicating = new Set([1, 2]); // replicas of the current primary
  let acked = 10;
  let promotions = 0;
  const violations: string[] = [];
  const pos = (i: number) => `0-1-${seq[i]}`;
  for (const e of events) {
    if (e.k === 'write' && primary !== undefined && up[primary]) {
      for (let c = 0; c < e.n; c++) {
        const live = [...replicating].filter((r) => up[r]);
        seq[primary]! += 1;
        // Each running replica receives it or not (they receive in order: a replica that missed
        // a commit misses the following ones in this write too).
        const got = live.filter((r, i) => (e.recv[i % e.recv.length] ?? 1) > 0 && seq[r] === seq[primary!]! - 1);
        for (const r of got) seq[r] = seq[primary]!;
        if (got.length === 0 && record && record.protection === 'sync') record = { ...record, protection: 'async' };
        if (got.length > 0 && record && record.protection === 'async' && live.every((r) => seq[r] === seq[primary!])) record = { ...record, protection: 'sync' };
        acked = seq[primary]!;
      }
    } else if (e.k === 'crash' && up[e.node]) {
      up[e.node] = false;
      replicating.delete(e.node);
      if (primary === e.node) primary = undefined;
    } else if (e.k === 'restart' && !up[e.node]) {
      up[e.node] = true;
      if (primary !== undefined && record && record.primary === NODES[primary]) {
        // Joins the primary as a replica: registers, then receives everything.
        if (!record.replicas.includes(NODES[e.node]!)) joined.set(NODES[e.node]!, record.epoch);
        replicating.add(e.node);
        seq[e.node] = seq[primary]!;
      }
    } else if (e.k === 'failover' && primary === undefined) {
      const running = [0, 1, 2].filter((i) => up[i]);
      if (!running.length) continue;
      // The election: the most advanced running server wins.
      const winner = running.reduce((a, b) => (seq[b]! > seq[a]! ? b : a));
      const present = new Map(running.filter((i) => i !== winner).map((i) => [NODES[i]!, pos(i)]));
      const v = verdict({ family: 'mariadb', self: NODES[winner]!, position: pos(winner), record, present, joined, allowAsync: false, acceptCommand: ACCEPT });
      if (!v.ok) continue;
      if (seq[winner]! < acked) violations.push(`promoted ${NODES[winner]} at ${seq[winner]} while ${acked} was acknowledged (${JSON.stringify(record)})`);
      promotions++;
      primary = winner;
      // Its writes continue from what it holds; a node ahead of it (not possible when the check
      // holds) would be errant and not rejoin.
      acked = Math.min(acked, seq[winner]!);
      record = nextRecord(record, NODES[winner]!, pos(winner), 'sync', running.filter((i) => i !== winner).map((i) => NODES[i]!), 0);
      replicating.clear();
      for (const i of running) if (i !== winner) { if (seq[i]! <= seq[winner]!) { seq[i] = seq[winner]!; replicating.add(i); } }
    }
  }
  return { promotions, violations };
}

const ev: fc.Arbitrary<Ev> = fc.oneof(
  fc.record({ k: fc.constant('write' as const), n: fc.integer({ min: 1, max: 5 }), recv: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ k: fc.constant('crash' as const), node: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ k: fc.constant('restart' as const), node: fc.integer({ min: 0, max: 2 }) }),
  fc.constant({ k: 'failover' as const }),
);

test('model: under any sequence of writes, crashes, restarts and failovers, no allowed promotion loses an acknowledged commit', () => {
  let promotions = 0;
  fc.assert(fc.property(fc.array(ev, { maxLength: 40 }), (events) => {
    const r = simulate(events);
    promotions += r.promotions;
    assert.deepEqual(r.violations, []);
  }), { numRuns: 3000 });
  assert.ok(promotions > 150, `the model promoted ${promotions} times: it must exercise failovers`);
});

test('model: an election without the record (what vigil did before) loses acknowledged commits', () => {
  const r = fc.check(fc.property(fc.array(ev, { maxLength: 40 }), (events) => simulate(events, () => ({ ok: true, notes: [] })).violations.length === 0), { numRuns: 3000 });
  assert.equal(r.failed, true, 'the model must be able to show a loss');
});

test('model: the issue\'s three crashes in a row end with no stale primary', () => {
  // n1 crashes, n2 promoted; n2 crashes, n3 promoted (alone: asynchronous); n3 crashes; n1 comes
  // back first. Without the record the election promoted n1 (it was the only running server).
  const events: Ev[] = [
    { k: 'write', n: 3, recv: [1] }, { k: 'crash', node: 0 }, { k: 'failover' },
    { k: 'write', n: 3, recv: [1] }, { k: 'crash', node: 1 }, { k: 'failover' },
    { k: 'write', n: 3, recv: [1] }, { k: 'crash', node: 2 }, { k: 'restart', node: 0 }, { k: 'failover' },
  ];
  const r = simulate(events);
  assert.equal(r.promotions, 2, 'n2 and n3 promoted, n1 refused');
  assert.deepEqual(r.violations, []);
  // And the model does catch a check that lets the stale node in.
  const seq1 = '0-1-10';
  const v = lineageVerdict({ family: 'mariadb', self: 'n1', position: seq1, record: rec({ primary: 'n3', at: '0-1-16', protection: 'async', replicas: [] }), present: new Map(), joined: new Map(), allowAsync: false, acceptCommand: ACCEPT });
  assert.equal(v.ok, false);
});
