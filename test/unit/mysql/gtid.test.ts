// GTID arithmetic for MySQL sets and MariaDB positions: table-driven cases and property tests
// against naive models (a set of "source#number" strings; a map of domain -> sequence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  GtidError, describeMissing, formatGtidSet, formatMariaPosition, gtidContains, gtidCount, gtidEquals, gtidIntersect,
  gtidSubtract, gtidUnion, mariaCompare, mariaContains, mariaMissing, mariaUnion, parseGtidSet, parseMariaPosition,
  type GtidSet,
} from '../../../lib/mysql/gtid.ts';
import { FIXTURES } from './fixtures.ts';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '8a94f357-aab4-11df-86ab-c80aa9429563';
const C = 'f0000000-0000-0000-0000-000000000001';

// ------------------------------------------------------------------ MySQL, examples

test('parse and format: canonical order, merged intervals, singletons, tags, whitespace', () => {
  const cases: Array<[string, string]> = [
    ['', ''],
    [`${A}:1-5`, `${A}:1-5`],
    [`${A}:1-3:4-5:7`, `${A}:1-5:7`],
    [`${B}:1-3,\n${A}:5-9:1-2`, `${A}:1-2:5-9,${B}:1-3`],
    [`${A.toUpperCase()}:3-3`, `${A}:3`],
    [`${A.replace(/-/g, '')}:1`, `${A}:1`],
    [`${A}:1-5,${A}:6-10`, `${A}:1-10`],
    [`${A}:1-3:blue:1-2`, `${A}:1-3,${A}:blue:1-2`],
    [`${A}:Blue:4`, `${A}:blue:4`],
    [`${A}:9223372036854775807`, `${A}:9223372036854775807`],
  ];
  for (const [input, want] of cases) assert.equal(formatGtidSet(parseGtidSet(input)), want, input);
});

test('parse rejects what MySQL would reject', () => {
  const bad = [`${A}`, 'nope:1', `${A}:0`, `${A}:5-3`, `${A}:1-2-3`, `${A}:x`, `${A}:1,`, `${A}:9223372036854775808`, `${A}:tag`,
    `${A}:t1:t2:1`, `${A}:-1`];
  for (const b of bad) assert.throws(() => parseGtidSet(b), GtidError, b);
});

test('set operations on examples', () => {
  const s = (t: string) => parseGtidSet(t);
  const f = formatGtidSet;
  assert.equal(f(gtidUnion(s(`${A}:1-5`), s(`${A}:6-9,${B}:1`))), `${A}:1-9,${B}:1`);
  assert.equal(f(gtidSubtract(s(`${A}:1-10,${B}:1-3`), s(`${A}:3-4:8,${B}:1-3`))), `${A}:1-2:5-7:9-10`);
  assert.equal(f(gtidIntersect(s(`${A}:1-10`), s(`${A}:5-20,${B}:1`))), `${A}:5-10`);
  assert.equal(gtidContains(s(`${A}:1-10,${B}:1-3`), s(`${A}:2-9`)), true);
  assert.equal(gtidContains(s(`${A}:1-10`), s(`${A}:2-11`)), false);
  assert.equal(gtidContains(s(`${A}:1-10`), s('')), true);
  assert.equal(gtidEquals(s(`${A}:1-2:3`), s(`${A}:1-3`)), true);
  assert.equal(gtidCount(s(`${A}:1-10:20,${B}:5`)), 12n);
  assert.equal(gtidCount(s(`${A}:1-9223372036854775807`)), 9223372036854775807n);
});

test('the MySQL fixtures: the replica holds all it retrieved, plus its own errant transactions', () => {
  for (const f of [FIXTURES.mysql80, FIXTURES.mysql84]) {
    const executed = parseGtidSet(String(f.stateReplica.gtid_executed));
    const retrieved = parseGtidSet(String(f.replicaOk[0]!.Retrieved_Gtid_Set));
    const primary = parseGtidSet(String(f.statePrimary.gtid_executed));
    assert.ok(gtidContains(executed, retrieved));
    assert.equal(formatGtidSet(gtidSubtract(executed, primary)), `${B}:1-3`, 'errant: on the replica, not the primary');
  }
});

// ------------------------------------------------------------------ MySQL, properties

const SOURCES = [A, B, C, `${A}:blue`];
type Model = Set<string>;
const modelArb = fc.uniqueArray(fc.tuple(fc.constantFrom(...SOURCES), fc.integer({ min: 1, max: 40 })), { maxLength: 60 })
  .map((xs) => new Set(xs.map(([s, n]) => `${s}#${n}`)));

/** Text for a model, in a random but valid spelling: random interval splits, order and case. */
function spell(m: Model, seed: number): string {
  const by = new Map<string, number[]>();
  for (const e of m) {
    const [s, n] = e.split('#');
    by.set(s!, [...(by.get(s!) ?? []), Number(n)]);
  }
  let r = seed;
  const rnd = () => { r = (r * 1103515245 + 12345) % 2147483648; return r / 2147483648; };
  const parts: string[] = [];
  for (const [s, ns] of by) {
    ns.sort((x, y) => x - y);
    const iv: string[] = [];
    let i = 0;
    while (i < ns.length) {
      let j = i;
      while (j + 1 < ns.length && ns[j + 1] === ns[j]! + 1 && rnd() < 0.8) j++;
      iv.push(i === j ? `${ns[i]}` : `${ns[i]}-${ns[j]}`);
      i = j + 1;
    }
    if (rnd() < 0.5) iv.reverse();
    const [uuid, tag] = s.split(':');
    const u = rnd() < 0.3 ? uuid!.toUpperCase() : uuid!;
    parts.push(tag ? `${u}:${tag}:${iv.join(':')}` : `${u}:${iv.join(':')}`);
  }
  if (rnd() < 0.5) parts.reverse();
  return parts.join(rnd() < 0.5 ? ',' : ',\n');
}

function toModel(s: GtidSet): Model {
  const m: Model = new Set();
  for (const [k, iv] of s) for (const [a, b] of iv) for (let n = a; n <= b; n++) m.add(`${k}#${n}`);
  return m;
}
const sameModel = (x: Model, y: Model) => x.size === y.size && [...x].every((e) => y.has(e));

test('property: parse(spell(m)) is m, and formatting is canonical', () => {
  fc.assert(fc.property(modelArb, fc.nat(), fc.nat(), (m, s1, s2) => {
    const a = parseGtidSet(spell(m, s1));
    const b = parseGtidSet(spell(m, s2));
    assert.ok(sameModel(toModel(a), m));
    assert.equal(formatGtidSet(a), formatGtidSet(b), 'two spellings, one canonical text');
    assert.equal(formatGtidSet(parseGtidSet(formatGtidSet(a))), formatGtidSet(a));
    assert.equal(gtidCount(a), BigInt(m.size));
  }), { numRuns: 300 });
});

test('property: union, subtract, intersect and contains agree with set semantics', () => {
  fc.assert(fc.property(modelArb, modelArb, fc.nat(), (mx, my, seed) => {
    const x = parseGtidSet(spell(mx, seed));
    const y = parseGtidSet(spell(my, seed + 1));
    assert.ok(sameModel(toModel(gtidUnion(x, y)), new Set([...mx, ...my])));
    assert.ok(sameModel(toModel(gtidSubtract(x, y)), new Set([...mx].filter((e) => !my.has(e)))));
    assert.ok(sameModel(toModel(gtidIntersect(x, y)), new Set([...mx].filter((e) => my.has(e)))));
    assert.equal(gtidContains(x, y), [...my].every((e) => mx.has(e)));
    assert.ok(gtidEquals(gtidUnion(x, y), gtidUnion(y, x)));
    assert.ok(gtidEquals(gtidUnion(gtidSubtract(x, y), gtidIntersect(x, y)), x));
    assert.equal(gtidIntersect(gtidSubtract(x, y), y).size, 0);
    assert.ok(gtidContains(gtidUnion(x, y), x));
  }), { numRuns: 300 });
});

// ------------------------------------------------------------------ MariaDB

test('MariaDB positions: parse, format, compare', () => {
  const p = parseMariaPosition;
  assert.equal(formatMariaPosition(p(' 1-2-7 ,0-1-100')), '0-1-100,1-2-7');
  assert.equal(p('').size, 0);
  for (const bad of ['0-1', '0-1-x', 'a-b-c', '0-1-5,0-2-6', '0-1-5,', '4294967296-1-1']) assert.throws(() => p(bad), GtidError, bad);
  const cases: Array<[string, string, string]> = [
    ['0-1-10', '0-1-10', 'equal'],
    ['0-1-11', '0-1-10', 'ahead'],
    ['0-2-11', '0-1-10', 'ahead'],
    ['0-1-9', '0-1-10', 'behind'],
    ['0-1-10', '0-2-10', 'diverged'],
    ['0-1-10,1-3-5', '0-1-10', 'ahead'],
    ['0-1-10', '0-1-10,1-3-5', 'behind'],
    ['0-1-11,1-3-4', '0-1-10,1-3-5', 'diverged'],
    ['', '', 'equal'],
    ['', '0-1-1', 'behind'],
  ];
  for (const [a, b, want] of cases) assert.equal(mariaCompare(p(a), p(b)), want, `${a} vs ${b}`);
  assert.equal(mariaContains(p('0-1-11,1-3-5'), p('0-1-10,1-3-5')), true);
  assert.equal(mariaContains(p('0-1-10'), p('0-2-10')), false);
  assert.equal(formatMariaPosition(mariaUnion(p('0-1-11,1-3-4'), p('0-1-10,1-3-5,2-9-1'))!), '0-1-11,1-3-5,2-9-1');
  assert.equal(mariaUnion(p('0-1-10'), p('0-2-10')), undefined);
  const missing = mariaMissing(p('0-1-7,1-3-5'), p('0-1-10,1-3-5,2-4-2'));
  assert.deepEqual(missing, [{ domain: 0, after: 7n, upTo: 10n, server: 1 }, { domain: 2, after: 0n, upTo: 2n, server: 4 }]);
  assert.equal(describeMissing(missing), 'domain 0: sequence 8-10 (last from server 1); domain 2: sequence 1-2 (last from server 4)');
  assert.match(describeMissing(mariaMissing(p('0-1-10'), p('0-2-10'))), /sequence 10 written by server 2 differs/);
});

test('the MariaDB fixture: the replica holds exactly what the primary wrote', () => {
  const f = FIXTURES.mariadb;
  assert.equal(mariaCompare(parseMariaPosition(String(f.stateReplica.gtid_current)), parseMariaPosition(String(f.statePrimary.gtid_current))), 'equal');
  assert.equal(mariaCompare(parseMariaPosition(String(f.sqlStoppedPending[0]!.Gtid_IO_Pos)), parseMariaPosition(String(f.stateReplica.gtid_current))), 'ahead',
    'received more than applied');
});

const posArb = fc.dictionary(fc.integer({ min: 0, max: 3 }).map(String), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 20 })), { maxKeys: 4 })
  .map((d) => Object.entries(d).map(([dom, [srv, seq]]) => `${dom}-${srv}-${seq}`).join(','));

test('property: MariaDB comparison is consistent (antisymmetric, union is the least upper bound)', () => {
  fc.assert(fc.property(posArb, posArb, (ta, tb) => {
    const a = parseMariaPosition(ta);
    const b = parseMariaPosition(tb);
    const ab = mariaCompare(a, b);
    const ba = mariaCompare(b, a);
    const flip: Record<string, string> = { equal: 'equal', ahead: 'behind', behind: 'ahead', diverged: 'diverged' };
    assert.equal(ba, flip[ab]);
    assert.equal(mariaCompare(a, a), 'equal');
    assert.equal(formatMariaPosition(parseMariaPosition(formatMariaPosition(a))), formatMariaPosition(a));
    const u = mariaUnion(a, b);
    const sameSeqOtherServer = [...a].some(([d, x]) => b.get(d)?.seq === x.seq && b.get(d)?.server !== x.server);
    if (sameSeqOtherServer) {
      assert.equal(u, undefined);
    } else {
      assert.ok(u);
      assert.ok(mariaContains(u, a) && mariaContains(u, b));
      assert.equal(mariaMissing(u, a).length + mariaMissing(u, b).length, 0);
    }
    assert.equal(mariaMissing(a, b).length === 0, mariaContains(a, b));
  }), { numRuns: 500 });
});
