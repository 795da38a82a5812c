// Positions and histories for both GTID families: table-driven examples and model-based property
// tests. The model: transactions are (domain, server) pairs numbered per domain as they are written;
// servers hold prefixes of one stream, a former primary holds more than the replica promoted in its
// place, and the new primary continues the numbering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  describeLack, errantTransactions, formatPosition, parseHistory, parseMariaState, parsePosition, positionContains,
  positionUnion, shortfall, unapplied, type History,
} from '../../../lib/mysql/position.ts';
import { GtidError } from '../../../lib/mysql/gtid.ts';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '8a94f357-aab4-11df-86ab-c80aa9429563';
const maria = (t: string) => parsePosition('mariadb', t);
const mysql = (t: string) => parsePosition('mysql', t);

test('positions: parse, format, union, contains, what one lacks', () => {
  assert.equal(formatPosition(maria('1-2-7,0-1-100')), '0-1-100,1-2-7');
  assert.equal(formatPosition(mysql(`${B}:1-3,${A}:1-5`)), `${A}:1-5,${B}:1-3`);
  assert.equal(formatPosition(positionUnion(maria('0-1-100'), maria('0-1-105,1-3-2'))), '0-1-105,1-3-2');
  assert.equal(formatPosition(positionUnion(mysql(`${A}:1-5`), mysql(`${A}:7,${B}:1`))), `${A}:1-5:7,${B}:1`);
  // A diverged MariaDB domain keeps the first argument's entry, later sequence numbers win.
  assert.equal(formatPosition(positionUnion(maria('0-1-100'), maria('0-2-100'))), '0-1-100');
  assert.equal(formatPosition(positionUnion(maria('0-1-100,1-1-5'), maria('0-2-100,1-2-9'))), '0-1-100,1-2-9');
  assert.ok(positionContains(maria('0-1-105'), maria('0-1-100')));
  assert.ok(!positionContains(maria('0-1-100'), maria('0-1-105')));
  assert.ok(!positionContains(maria('0-1-100'), maria('0-2-100')));
  assert.ok(positionContains(mysql(`${A}:1-10`), mysql(`${A}:2-9`)));
  assert.ok(positionContains(mysql(`${A}:1-10`), mysql('')));
  assert.equal(describeLack(maria('0-1-100'), maria('0-1-105')), 'domain 0: sequence 101-105 (last from server 1)');
  assert.equal(describeLack(maria('0-1-105'), maria('0-1-100')), undefined);
  assert.equal(describeLack(mysql(`${A}:1-10`), mysql(`${A}:1-12,${B}:4`)), `${A}:11-12,${B}:4`);
  assert.throws(() => positionContains(maria('0-1-1'), mysql(`${A}:1`)), GtidError);
  assert.throws(() => parsePosition('mariadb', `${A}:1`), GtidError);
});

test('shortfall: transactions missing from the union; a diverged branch at the same sequence number holds as many', () => {
  const all = maria('0-1-110,1-2-5');
  assert.equal(shortfall(maria('0-1-100,1-2-5'), all), 10n);
  assert.equal(shortfall(maria('0-1-110'), all), 5n);
  // 0-2-110 and 0-1-110 each hold 110 transactions of domain 0 (and lack the other's branch).
  assert.equal(shortfall(maria('0-2-110,1-2-5'), all), 0n);
  assert.equal(shortfall(maria('0-1-110,1-2-5'), all), 0n);
  assert.equal(shortfall(maria('0-2-109,1-2-5'), all), 1n);
  assert.equal(shortfall(mysql(`${A}:1-5`), mysql(`${A}:1-10,${B}:1-2`)), 7n);
});

test('MariaDB gtid_binlog_state: several servers per domain, the highest sequence per pair', () => {
  const m = parseMariaState('0-1-100,0-2-150, 1-1-7,0-1-90');
  assert.deepEqual([...m.entries()], [['0-1', 100n], ['0-2', 150n], ['1-1', 7n]]);
  assert.equal(parseMariaState('').size, 0);
  assert.throws(() => parseMariaState('0-1'), GtidError);
});

test('errant transactions: the cases a rejoin meets', () => {
  const mh = (executed: string, binlogState = executed) => parseHistory('mariadb', { executed, binlogState });
  const my = (executed: string) => parseHistory('mysql', { executed });
  const cases: Array<[string, History, History, string[] | undefined]> = [
    // The classic: the old primary committed 101 unreplicated; the new one wrote 0-2-101..200.
    ['former primary, one unreplicated commit, new primary far ahead', mh('0-1-101'), mh('0-2-200', '0-1-100,0-2-200'), ['0-1-101']],
    ['former primary, several', mh('0-1-105'), mh('0-2-120', '0-1-100,0-2-120'), ['0-1-101..0-1-105']],
    ['former primary, all replicated', mh('0-1-100'), mh('0-2-120', '0-1-100,0-2-120'), undefined],
    ['replica behind the new primary', mh('0-1-90'), mh('0-2-120', '0-1-100,0-2-120'), undefined],
    ['a write made on a replica', mh('0-3-121', '0-1-100,0-2-120,0-3-121'), mh('0-2-125', '0-1-100,0-2-125'), ['0-3-1..0-3-121']],
    ['a domain the primary never saw', mh('0-1-100,5-3-1', '0-1-100,5-3-1'), mh('0-1-100'), ['5-3-1']],
    ['no binary log on the rejoining side: positions decide', mh('0-1-101', ''), mh('0-2-101', '0-1-100,0-2-101'), ['0-1-101']],
    ['no binary log, behind', mh('0-1-99', ''), mh('0-2-101', '0-1-100,0-2-101'), undefined],
    ['nothing at all', mh(''), mh('0-1-5'), undefined],
    ['mysql: contained', my(`${A}:1-100`), my(`${A}:1-100,${B}:1-20`), undefined],
    ['mysql: the old primary wrote 101-103', my(`${A}:1-103`), my(`${A}:1-100,${B}:1-20`), [`${A}:101-103`]],
    ['mysql: two sources', my(`${A}:1-5:9,${B}:1-3`), my(`${A}:1-5`), [`${A}:9`, `${B}:1-3`]],
  ];
  for (const [what, local, primary, want] of cases) {
    const e = errantTransactions(local, primary);
    assert.deepEqual(e?.gtids, want, what);
    if (e) assert.equal(e.text, e.gtids.join(', '), what);
  }
  assert.throws(() => errantTransactions(mh('0-1-1'), my(`${A}:1`)), GtidError);
});

// ---------------------------------------------------------------- the model

interface Tx { domain: number; server: number; seq: number }

/** Write `n` transactions from `server` after `base`, numbering per domain. */
function writeAfter(base: Tx[], server: number, domains: number[]): Tx[] {
  const last = new Map<number, number>();
  for (const t of base) last.set(t.domain, Math.max(last.get(t.domain) ?? 0, t.seq));
  const out = [...base];
  for (const d of domains) {
    const seq = (last.get(d) ?? 0) + 1;
    last.set(d, seq);
    out.push({ domain: d, server, seq });
  }
  return out;
}

function mariaHistory(txs: Tx[]): History {
  const state = new Map<string, number>();
  const pos = new Map<number, Tx>();
  for (const t of txs) {
    state.set(`${t.domain}-${t.server}`, Math.max(state.get(`${t.domain}-${t.server}`) ?? 0, t.seq));
    pos.set(t.domain, t);
  }
  return parseHistory('mariadb', {
    executed: [...pos.values()].map((t) => `${t.domain}-${t.server}-${t.seq}`).join(','),
    binlogState: [...state.entries()].map(([k, s]) => `${k}-${s}`).join(','),
  });
}

const uuidOf = (server: number) => `00000000-0000-0000-0000-${String(server).padStart(12, '0')}`;
function mysqlHistory(txs: Tx[]): History {
  // MySQL numbers per source server, not per domain.
  const per = new Map<number, number>();
  for (const t of txs) per.set(t.server, (per.get(t.server) ?? 0) + 1);
  return parseHistory('mysql', { executed: [...per.entries()].map(([s, n]) => `${uuidOf(s)}:1-${n}`).join(',') });
}

const domains = fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 12 });

test('property: a former primary is refused exactly when it committed what the promoted replica never received', () => {
  fc.assert(fc.property(domains, fc.nat(12), domains, fc.nat(12), (oldWrites, k0, newWrites, j0) => {
    const old = writeAfter([], 1, oldWrites); // the old primary's history
    const k = Math.min(k0, old.length); // what the promoted replica had received
    const promoted = writeAfter(old.slice(0, k), 2, newWrites);
    const j = Math.min(j0, k); // another replica, behind the promoted one, now following it
    const other = old.slice(0, j);
    for (const hist of [mariaHistory, mysqlHistory]) {
      const e = errantTransactions(hist(old), hist(promoted));
      assert.equal(e !== undefined, k < old.length, `${hist.name} old=${JSON.stringify(old)} k=${k}`);
      if (e && hist === mariaHistory) {
        // Every unreplicated commit falls in a listed range, and every range starts after the replicated part.
        for (const t of old.slice(k)) {
          assert.ok(e.gtids.some((g) => {
            const [lo, hi = lo] = g.split('..').map((x) => x.split('-').map(Number)) as [number[], number[]?];
            return lo![0] === t.domain && lo![1] === t.server && lo![2]! <= t.seq && t.seq <= hi![2]!;
          }), `${JSON.stringify(t)} not in ${e.text}`);
        }
      }
      assert.equal(errantTransactions(hist(other), hist(promoted)), undefined, 'a replica behind the new primary rejoins');
      assert.equal(errantTransactions(hist(promoted), hist(promoted)), undefined);
    }
  }), { numRuns: 400 });
});

test('property: MySQL errant transactions are exactly the set difference', () => {
  const set = fc.array(fc.tuple(fc.constantFrom(A, B), fc.integer({ min: 1, max: 40 })), { maxLength: 20 })
    .map((xs) => xs.map(([u, n]) => `${u}:${n}`).join(','));
  fc.assert(fc.property(set, set, (a, b) => {
    const e = errantTransactions(parseHistory('mysql', { executed: a }), parseHistory('mysql', { executed: b }));
    assert.equal(e === undefined, positionContains(mysql(b), mysql(a)));
    if (e) assert.equal(e.gtids.join(','), describeLack(mysql(b), mysql(a)));
  }), { numRuns: 300 });
});

test('unapplied: MariaDB by GTID (complete transactions only), MySQL by source coordinates', () => {
  const s = (o: Partial<{ retrievedGtid: string; readFile: string; readPos: number; execFile: string; execPos: number }>) =>
    ({ retrievedGtid: '', readFile: 'b.1', readPos: 100, execFile: 'b.1', execPos: 100, ...o });
  // Right after a relay-log resume MariaDB shows executed coordinates equal to the received ones: GTIDs decide.
  assert.equal(unapplied('mariadb', s({ retrievedGtid: '0-1-299' }), '0-1-2'), true);
  assert.equal(unapplied('mariadb', s({ retrievedGtid: '0-1-299', execPos: 50 }), '0-1-299'), false);
  assert.equal(unapplied('mariadb', s({ retrievedGtid: '0-1-299,1-2-4' }), '0-1-299'), true);
  assert.equal(unapplied('mariadb', s({}), ''), false, 'no GTID received: coordinates');
  assert.equal(unapplied('mariadb', s({ execPos: 90 }), ''), true);
  // MySQL: its retrieved set may name a partial transaction; coordinates decide.
  assert.equal(unapplied('mysql', s({ retrievedGtid: `${A}:1-10` }), `${A}:1-9`), false);
  assert.equal(unapplied('mysql', s({ execPos: 90 }), ''), true);
  assert.equal(unapplied('mysql', s({ execFile: 'b.0', execPos: 900 }), ''), true);
  assert.equal(unapplied('mysql', s({ readFile: '' }), ''), false, 'never received anything');
});
