// The failover decisions: election verdicts (table-driven and a model where replicas hold prefixes
// of one stream: every candidate must reach the same winner, the most advanced promotable node),
// switchover readiness, the writable-peer guard (exhaustive over three peers), what is published and
// how notifications are read; semi-sync plans; scores that never cause a failback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodePublication, electionToken, electionVerdict, electorate, encodePublication, guardVerdict, isPrimaryRecovery,
  promoteTarget, switchoverTarget, switchoverVerdict, type Contender, type PeerAnswer, type Publication,
} from '../../../lib/mysql/election.ts';
import { parseNotify, type NotifyEvent } from '../../../lib/ocf/notify.ts';
import { parseSemisyncStatus, semisyncPlan } from '../../../lib/mysql/semisync.ts';
import { sqlFor } from '../../../lib/mysql/flavour.ts';
import { setGlobal } from '../../../lib/mysql/sql/types.ts';
import {
  ELECTION_LOSER_SCORE, ELECTION_WINNER_SCORE, GRADES, PRIMARY_SCORE, promotionScore, UNCONFIGURED_SCORE,
} from '../../../lib/mysql/health.ts';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const ok = (position: string, token = 't'): Publication => ({ token, state: 'ok', position });
const peer = (node: string, publication: Publication | undefined): Contender => ({ node, publication });

test('publications: encode/decode round trip; foreign or damaged values are not publications', () => {
  const pubs: Publication[] = [
    ok('0-1-100,1-2-5'), ok(`${A}:1-5:7`), ok(''),
    { token: 'abc', state: 'fail', why: 'SQL thread stopped by error 1062', position: '0-1-9' },
    { token: 'abc', state: 'errant', why: 'errant transactions 0-3-4', position: '0-1-9,0-3-4' },
    { token: 'abc', state: 'down', why: 'server not running' },
  ];
  for (const p of pubs) assert.deepEqual(decodePublication(encodePublication(p)), p);
  // Separators in reasons cannot break the format.
  const odd = decodePublication(encodePublication({ token: 'x', state: 'fail', why: 'a;b"c\nd', position: '0-1-1' }));
  assert.deepEqual(odd, { token: 'x', state: 'fail', why: 'a,b,c,d', position: '0-1-1' });
  for (const bad of [undefined, '', 'v2;t;ok;0-1-1', 'v1;t;maybe;0-1-1', 'garbage']) assert.equal(decodePublication(bad), undefined, String(bad));
  fc.assert(fc.property(fc.string(), fc.string(), (why, token) => {
    const t = token.replace(/[;\n"]/g, '');
    const d = decodePublication(encodePublication({ token: t, state: 'down', why }));
    assert.equal(d?.token, t);
    assert.equal(d?.state, 'down');
  }));
});

const env = (o: Record<string, string>): NotifyEvent => parseNotify(Object.fromEntries(
  Object.entries({ type: 'pre', operation: 'promote', ...o }).map(([k, v]) => [`OCF_RESKEY_CRM_meta_notify_${k}`, v]),
))!;

test('notifications: token, target, electorate, primary recovery, switchover', () => {
  const failover = env({ promote_uname: 'n2', stop_uname: 'n1', active_uname: 'n1 n2 n3', promoted_uname: 'n1', demote_uname: 'n1', all_uname: 'n1 n2 n3' });
  assert.equal(promoteTarget(failover), 'n2');
  assert.deepEqual(electorate(failover), ['n2', 'n3'], 'the stopping old primary has no say');
  assert.equal(isPrimaryRecovery(failover, 'n2'), false);
  assert.equal(switchoverTarget(failover, 'n1'), 'n2', 'demote + stop of the primary while n2 is promoted still hands over');
  const recovery = env({ promote_uname: 'n1', promoted_uname: 'n1', demote_uname: 'n1', stop_uname: 'n1', start_uname: 'n1', active_uname: 'n1 n2 n3' });
  assert.equal(isPrimaryRecovery(recovery, 'n1'), true);
  assert.deepEqual(electorate(recovery), ['n1', 'n2', 'n3'], 'restarting counts as active');
  const move = env({ promote_uname: 'n2', promoted_uname: 'n1', demote_uname: 'n1', active_uname: 'n1 n2 n3' });
  assert.equal(switchoverTarget(move, 'n1'), 'n2');
  assert.equal(switchoverTarget(move, 'n3'), undefined, 'only the demoted primary hands over');
  assert.deepEqual(electorate(move), ['n1', 'n2', 'n3'], 'the demoted primary publishes its position too');
  const bootstrap = env({ promote_uname: 'n1', active_uname: 'n1 n2 n3', start_uname: '' });
  assert.equal(switchoverTarget(bootstrap, 'n1'), undefined);
  assert.equal(isPrimaryRecovery(bootstrap, 'n1'), false);
  // The token: the same for every recipient whatever the list order, different for another plan.
  const a = env({ promote_uname: 'n2', stop_uname: 'n1 n4', active_uname: 'n1 n2 n3' });
  const b = env({ promote_uname: 'n2', stop_uname: 'n4 n1', active_uname: 'n3 n2 n1' });
  const c = env({ promote_uname: 'n3', stop_uname: 'n1 n4', active_uname: 'n1 n2 n3' });
  assert.equal(electionToken(a), electionToken(b));
  assert.notEqual(electionToken(a), electionToken(c));
  assert.match(electionToken(a), /^[0-9a-f]{12}$/);
});

test('election verdicts: table', () => {
  const self = { node: 'n2', position: '0-1-100' };
  const cases: Array<[string, Contender[], string, string?]> = [
    ['alone', [], 'promote'],
    ['peers behind or equal', [peer('n3', ok('0-1-90')), peer('n4', ok('0-1-100'))], 'promote'],
    ['a peer ahead', [peer('n3', ok('0-1-105'))], 'defer', 'n3'],
    ['the most advanced of several', [peer('n3', ok('0-1-103')), peer('n4', ok('0-1-105'))], 'defer', 'n4'],
    ['ahead in another domain', [peer('n3', ok('0-1-100,1-3-2'))], 'defer', 'n3'],
    ['a peer not published yet', [peer('n3', ok('0-1-90')), peer('n4', undefined)], 'wait'],
    ['a peer whose server is down is set aside', [peer('n3', { token: 't', state: 'down', why: 'not running' })], 'promote'],
    ['an unpromotable peer ahead: nobody is promoted (its extra may be acknowledged commits)', [peer('n3', { token: 't', state: 'fail', why: 'SQL error', position: '0-1-110' })], 'refuse'],
    ['unpromotable ahead of the best promotable too: still nobody', [peer('n3', { token: 't', state: 'fail', why: 'x', position: '0-1-110' }), peer('n4', ok('0-1-104'))], 'refuse'],
    ['unpromotable but behind: it does not stand in the way', [peer('n3', { token: 't', state: 'fail', why: 'x', position: '0-1-90' }), peer('n4', ok('0-1-104'))], 'defer', 'n4'],
    ['an errant peer ahead cannot win, and what only it holds is not waited for', [peer('n3', { token: 't', state: 'errant', why: 'errant transactions 0-3-1', position: '0-1-110' })], 'promote'],
    ['errant ahead, promotable ahead too', [peer('n3', { token: 't', state: 'errant', why: 'x', position: '0-1-110' }), peer('n4', ok('0-1-104'))], 'defer', 'n4'],
    ['an unreadable publication', [peer('n3', ok('garbage'))], 'refuse'],
  ];
  for (const [what, peers, kind, to] of cases) {
    const v = electionVerdict('mariadb', self, peers);
    assert.equal(v.kind, kind, `${what}: ${JSON.stringify(v)}`);
    if (to) assert.equal(v.kind === 'defer' && v.to, to, what);
  }
  const d = electionVerdict('mariadb', self, [peer('n3', ok('0-1-105'))]);
  assert.ok(d.kind === 'defer');
  assert.match(d.reason, /^n3 is ahead of n2 by domain 0: sequence 101-105 \(last from server 1\)/);
  const w = electionVerdict('mariadb', self, [peer('n3', undefined), peer('n4', undefined)]);
  assert.deepEqual(w, { kind: 'wait', nodes: ['n3', 'n4'] });
  const u = electionVerdict('mariadb', self, [peer('n3', { token: 't', state: 'errant', why: 'x', position: '0-1-110' })]);
  assert.ok(u.kind === 'promote' && u.notes.some((n) => /n3 holds transactions no promotable node has/.test(n)), JSON.stringify(u));
  const f = electionVerdict('mariadb', self, [peer('n3', { token: 't', state: 'fail', why: 'SQL thread stopped by error 1062', position: '0-1-110' })]);
  assert.ok(f.kind === 'refuse' && /^n3 holds domain 0: sequence 101-110 .*which no promotable node has, and cannot be promoted \(SQL thread stopped by error 1062\): promoting n2 would lose them/.test(f.reason), JSON.stringify(f));
  const my = electionVerdict('mysql', { node: 'n1', position: `${A}:1-10` }, [peer('n2', ok(`${A}:1-12`))]);
  assert.ok(my.kind === 'defer' && my.lacks === `${A}:11-12`, JSON.stringify(my));
});

// The model: one primary wrote a stream; each replica received a prefix of it. Some replicas cannot
// be promoted, some have no running server. Whoever is the candidate, the verdicts must agree on one
// winner: a promotable node with the longest prefix.
const scenario = fc.record({
  family: fc.constantFrom<'mariadb' | 'mysql'>('mariadb', 'mysql'),
  nodes: fc.array(fc.record({ received: fc.nat(30), state: fc.constantFrom('ok', 'ok', 'ok', 'fail', 'down') }), { minLength: 1, maxLength: 5 }),
});
const posText = (family: 'mariadb' | 'mysql', n: number) => (family === 'mariadb' ? (n ? `0-1-${n}` : '') : (n ? `${A}:1-${n}` : ''));

test('property: every candidate reaches the same winner, the most advanced promotable node', () => {
  fc.assert(fc.property(scenario, ({ family, nodes }) => {
    const names = nodes.map((_, i) => `n${i + 1}`);
    const pub = (i: number): Publication => {
      const n = nodes[i]!;
      if (n.state === 'down') return { token: 't', state: 'down', why: 'x' };
      if (n.state === 'fail') return { token: 't', state: 'fail', why: 'x', position: posText(family, n.received) };
      return ok(posText(family, n.received));
    };
    const promotable = nodes.map((n, i) => ({ ...n, i })).filter((n) => n.state === 'ok');
    if (promotable.length === 0) return;
    const best = Math.max(...promotable.map((n) => n.received));
    const tiedBest = promotable.filter((n) => n.received === best).map((n) => names[n.i]!);
    if (nodes.some((n) => n.state === 'fail' && n.received > best)) {
      // An unpromotable node holds more than every promotable one: every candidate refuses.
      for (const c of promotable) {
        const peers = names.map((node, i) => peer(node, pub(i))).filter((p) => p.node !== names[c.i]);
        assert.equal(electionVerdict(family, { node: names[c.i]!, position: posText(family, c.received) }, peers).kind, 'refuse');
      }
      return;
    }
    const winners = new Set<string>();
    for (const c of promotable) {
      const peers = names.map((node, i) => peer(node, pub(i))).filter((p) => p.node !== names[c.i]);
      const v = electionVerdict(family, { node: names[c.i]!, position: posText(family, c.received) }, peers);
      if (c.received === best) {
        assert.equal(v.kind, 'promote', `${names[c.i]} holds the most: ${JSON.stringify(v)}`);
        winners.add(names[c.i]!);
      } else {
        assert.equal(v.kind, 'defer', JSON.stringify(v));
        if (v.kind !== 'defer') return;
        const to = promotable.find((p) => names[p.i] === v.to)!;
        assert.equal(to.received, best, `deferred to ${v.to}, which is not the most advanced`);
      }
    }
    assert.deepEqual([...winners].sort(), tiedBest.sort(), 'exactly the tied-best nodes may promote');
  }), { numRuns: 500 });
});

// The model with diverged histories and several streams. Per stream (a MariaDB domain; for MySQL,
// the GTIDs of one origin server), the first primary wrote `base` transactions; up to two later
// primaries each took over from a point of it (`at`) and wrote `len` more of their own. Each node
// received a prefix of one branch per stream. MariaDB positions then show the same sequence
// number with different server ids; MySQL sets show other servers' uuids. What a node lacks is
// counted on explicit transaction sets: the union of everything held by nodes with a running
// server, less its own. The tied-best are the promotable nodes lacking the fewest; exactly they
// may promote, and everybody else defers to one of them.
const divergedScenario = fc.record({
  family: fc.constantFrom<'mariadb' | 'mysql'>('mariadb', 'mysql'),
  streams: fc.array(fc.record({
    base: fc.nat(12),
    forks: fc.array(fc.record({ at: fc.nat(12), len: fc.integer({ min: 1, max: 6 }) }), { maxLength: 2 }),
  }), { minLength: 1, maxLength: 3 }),
  nodes: fc.array(fc.record({
    state: fc.constantFrom('ok', 'ok', 'ok', 'errant', 'down'),
    picks: fc.array(fc.record({ branch: fc.nat(2), upto: fc.nat(20) }), { minLength: 3, maxLength: 3 }),
  }), { minLength: 1, maxLength: 5 }),
});
const uuidOf = (stream: number, server: number) => `3e11fa47-71ca-11e1-9e33-c80aa94295${stream}${server}`;

/** One node's holdings (transaction ids) and its position text, for one family. */
interface Stream { base: number; forks: Array<{ at: number; len: number }> }
function holdings(family: 'mariadb' | 'mysql', streams: readonly Stream[], picks: ReadonlyArray<{ branch: number; upto: number }>): {
  held: Set<string>; position: string;
} {
  const held = new Set<string>();
  const parts: string[] = [];
  streams.forEach((st, d) => {
    const pick = picks[d]!;
    const branch = pick.branch % (st.forks.length + 1);
    const fork = branch === 0 ? undefined : st.forks[branch - 1]!;
    const from = fork ? Math.min(fork.at, st.base) : st.base; // transactions of the first primary on this branch
    const length = fork ? from + fork.len : st.base;
    const j = pick.upto % (length + 1);
    const mine = Math.min(j, from);
    const theirs = j - mine; // transactions of the later primary (server branch + 1)
    for (let k = 1; k <= mine; k++) held.add(family === 'mariadb' ? `${d}-1-${k}` : `${uuidOf(d, 1)}:${k}`);
    for (let k = 1; k <= theirs; k++) held.add(family === 'mariadb' ? `${d}-${branch + 1}-${from + k}` : `${uuidOf(d, branch + 1)}:${k}`);
    if (family === 'mariadb') {
      if (j > 0) parts.push(`${d}-${theirs > 0 ? branch + 1 : 1}-${j}`);
    } else {
      if (mine > 0) parts.push(`${uuidOf(d, 1)}:1-${mine}`);
      if (theirs > 0) parts.push(`${uuidOf(d, branch + 1)}:1-${theirs}`);
    }
  });
  return { held, position: parts.join(',') };
}

test('property: diverged histories and several streams: exactly the nodes lacking the fewest transactions may promote', () => {
  fc.assert(fc.property(divergedScenario, ({ family, streams, nodes }) => {
    const names = nodes.map((_, i) => `n${i + 1}`);
    const h = nodes.map((n) => holdings(family, streams, n.picks));
    const union = new Set<string>();
    nodes.forEach((n, i) => { if (n.state !== 'down') for (const t of h[i]!.held) union.add(t); });
    const lacks = h.map((x) => [...union].filter((t) => !x.held.has(t)).length);
    const pub = (i: number): Publication => {
      const n = nodes[i]!;
      if (n.state === 'down') return { token: 't', state: 'down', why: 'x' };
      if (n.state === 'errant') return { token: 't', state: 'errant', why: 'x', position: h[i]!.position };
      return ok(h[i]!.position);
    };
    const promotable = nodes.map((n, i) => ({ ...n, i })).filter((n) => n.state === 'ok');
    if (promotable.length === 0) return;
    const fewest = Math.min(...promotable.map((n) => lacks[n.i]!));
    const tiedBest = promotable.filter((n) => lacks[n.i] === fewest).map((n) => names[n.i]!);
    const winners: string[] = [];
    for (const c of promotable) {
      const me = names[c.i]!;
      const peers = names.map((node, i) => peer(node, pub(i))).filter((p) => p.node !== me);
      const v = electionVerdict(family, { node: me, position: h[c.i]!.position }, peers);
      const why = `${me} (${h[c.i]!.position || 'empty'}, lacks ${lacks[c.i]}): ${JSON.stringify(v)}`;
      if (v.kind === 'promote') winners.push(me);
      else {
        assert.equal(v.kind, 'defer', why);
        if (v.kind === 'defer') assert.ok(tiedBest.includes(v.to), `${why}: deferred to ${v.to}, not one of ${tiedBest.join(', ')}`);
      }
    }
    assert.deepEqual(winners.sort(), tiedBest.sort(), `positions ${h.map((x, i) => `${names[i]}=${nodes[i]!.state}:${x.position}`).join(' ')}`);
  }), { numRuns: 2000 });
});

test('election: diverged positions are measured by what each holds, not by which branch reached the furthest sequence number first', () => {
  // n1 and n2 both wrote (received) sequence 10 of domain 0 on different branches; n2 also holds
  // one more transaction of domain 1. n2 lacks fewer: it wins whichever of them is the candidate.
  const n1 = { node: 'n1', position: '0-1-10,1-1-4' };
  const n2 = { node: 'n2', position: '0-2-10,1-1-5' };
  assert.equal(electionVerdict('mariadb', n2, [peer('n1', ok(n1.position))]).kind, 'promote');
  const v = electionVerdict('mariadb', n1, [peer('n2', ok(n2.position))]);
  assert.ok(v.kind === 'defer' && v.to === 'n2', JSON.stringify(v));
  // The same sequence number on two branches and nothing else: a tie, the candidate promotes.
  for (const [me, other] of [['0-1-10', '0-2-10'], ['0-2-10', '0-1-10']] as const) {
    assert.equal(electionVerdict('mariadb', { node: 'n2', position: me }, [peer('n1', ok(other))]).kind, 'promote', me);
  }
});

test('switchover readiness', () => {
  assert.deepEqual(switchoverVerdict('mariadb', '0-1-100', '0-1-100'), { ready: true });
  assert.deepEqual(switchoverVerdict('mariadb', '0-1-100', '0-1-100,1-2-3'), { ready: true });
  assert.deepEqual(switchoverVerdict('mariadb', '0-1-100', '0-1-98'), { ready: false, lacks: 'domain 0: sequence 99-100 (last from server 1)' });
  assert.deepEqual(switchoverVerdict('mysql', `${A}:1-10`, `${A}:1-9`), { ready: false, lacks: `${A}:10` });
  assert.deepEqual(switchoverVerdict('mysql', '', ''), { ready: true });
  fc.assert(fc.property(fc.nat(50), fc.nat(50), (p, t) => {
    assert.equal(switchoverVerdict('mariadb', posText('mariadb', p), posText('mariadb', t)).ready, t >= p);
    assert.equal(switchoverVerdict('mysql', posText('mysql', p), posText('mysql', t)).ready, t >= p);
  }));
});

test('writable-peer guard: exhaustive over three peers', () => {
  const kinds = ['read-only', 'writable', 'silent', 'unknown'] as const;
  const make = (node: string, k: (typeof kinds)[number]): PeerAnswer => (k === 'silent' || k === 'unknown'
    ? { node, answer: k, detail: `${k} detail` } : { node, answer: k });
  for (const a of kinds) for (const b of kinds) for (const c of kinds) {
    const answers = [make('n1', a), make('n2', b), make('n3', c)];
    const v = guardVerdict(answers);
    const bad = answers.filter((x) => x.answer === 'writable' || x.answer === 'unknown');
    assert.equal(v.ok, bad.length === 0, JSON.stringify(answers));
    if (!v.ok) for (const x of bad) assert.match(v.reason, new RegExp(x.node), JSON.stringify(answers));
    if (v.ok) assert.equal(v.notes.length, answers.filter((x) => x.answer === 'silent').length);
  }
  const v = guardVerdict([{ node: 'n3', answer: 'writable' }]);
  assert.deepEqual(v, { ok: false, reason: 'refusing to become writable: n3 still accepts writes (not read-only); stop or fence n3 first' });
  assert.deepEqual(guardVerdict([]), { ok: true, notes: [] });
});

test('semi-sync: only what differs is set; absent variables only matter when enabling', () => {
  const cur = new Map([['rpl_semi_sync_master_enabled', 'OFF'], ['rpl_semi_sync_slave_enabled', 'OFF'],
    ['rpl_semi_sync_master_timeout', '10000'], ['rpl_semi_sync_master_wait_point', 'AFTER_COMMIT'],
    ['rpl_semi_sync_slave_kill_conn_timeout', '5']]);
  const m = sqlFor('mariadb');
  assert.deepEqual(semisyncPlan(cur, m.semisyncReplica(false)), { set: [], missing: [] }, 'already off: nothing to do, no privilege needed');
  assert.deepEqual(semisyncPlan(cur, m.semisyncPrimary(true, 10000)).set.map(setGlobal), [
    "SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC'", "SET GLOBAL rpl_semi_sync_master_enabled = 'ON'",
  ]);
  assert.deepEqual(semisyncPlan(cur, m.semisyncReplica(true)).set.map((s) => s.name),
    ['rpl_semi_sync_slave_kill_conn_timeout', 'rpl_semi_sync_slave_enabled'], 'a stop must not wait 5 s for a source that is gone');
  const my = sqlFor('mysql84');
  assert.deepEqual(semisyncPlan(new Map(), my.semisyncReplica(false)), { set: [], missing: [] }, 'MySQL without the plugins: off is a no-op');
  assert.deepEqual(semisyncPlan(new Map(), my.semisyncPrimary(true, 5000)).missing,
    ['rpl_semi_sync_source_wait_point', 'rpl_semi_sync_source_timeout', 'rpl_semi_sync_source_enabled']);
  for (const f of ['mysql80', 'mysql84'] as const) {
    for (const s of [...sqlFor(f).semisyncPrimary(true, 1), ...sqlFor(f).semisyncReplica(true)]) assert.doesNotMatch(s.name, /master|slave/, s.name);
  }
  assert.equal(setGlobal({ name: 'rpl_semi_sync_master_timeout', value: '250' }), 'SET GLOBAL rpl_semi_sync_master_timeout = 250');
  const st = parseSemisyncStatus(new Map([['rpl_semi_sync_master_status', 'ON'], ['rpl_semi_sync_master_clients', '2'],
    ['rpl_semi_sync_master_yes_tx', '17'], ['rpl_semi_sync_master_no_tx', '1']]));
  assert.deepEqual(st, { primaryActive: true, clients: 2, acknowledged: 17, unacknowledged: 1, replicaActive: false });
  assert.equal(parseSemisyncStatus(new Map([['rpl_semi_sync_source_status', 'ON']])).primaryActive, true);
});

test('no failback: no replica score, and no score a starting instance gets, reaches the running primary\'s', () => {
  fc.assert(fc.property(fc.constantFrom(...GRADES), fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null }), (grade, lag) => {
    assert.ok(promotionScore({ grade, lag, reasons: [] }) < PRIMARY_SCORE);
  }));
  assert.ok(UNCONFIGURED_SCORE < PRIMARY_SCORE);
  assert.ok(ELECTION_LOSER_SCORE > 0 && ELECTION_LOSER_SCORE < UNCONFIGURED_SCORE);
  assert.ok(ELECTION_WINNER_SCORE > promotionScore({ grade: 'OK', lag: 0, reasons: [] }), 'the node found ahead beats every replica');
});

test('guard: how a peer\'s failure to answer is read', async () => {
  const { classifyPeerError } = await import('../../../agents/mysql/guard.ts');
  const { SqlError } = await import('../../../lib/mysql/client.ts');
  const cases: Array<[unknown, 'silent' | 'unknown']> = [
    [new SqlError('connecting to 192.0.2.1:3306 timed out after 1000 ms', undefined, 'ETIMEDOUT', 'timeout', false), 'silent'],
    [new SqlError('connect ETIMEDOUT', undefined, 'ETIMEDOUT', 'connect', false), 'silent'],
    [new SqlError('connect ECONNREFUSED 127.0.0.1:33082', -111, 'ECONNREFUSED', 'connect', false), 'silent'],
    [new SqlError('connect ECONNREFUSED 127.0.0.1:33082', -111, 'ECONNREFUSED', 'connect'), 'silent'],
    [new SqlError('connect EHOSTUNREACH 192.0.2.9:3306', -113, 'EHOSTUNREACH', 'connect', false), 'silent'],
    [new SqlError('connect ENETUNREACH 192.0.2.9:3306', -101, 'ENETUNREACH', 'connect', false), 'silent'],
    [new SqlError('getaddrinfo ENOTFOUND n9', -3008, 'ENOTFOUND', 'connect'), 'silent'],
    // The connection was accepted (a frozen server's kernel still accepts), then nothing answered.
    [new SqlError('connect ETIMEDOUT (the connection was accepted, then the server did not answer)', undefined, 'ETIMEDOUT', 'timeout', true), 'unknown'],
    [new SqlError('connecting to 127.0.0.1:33081 timed out after 1050 ms', undefined, 'ETIMEDOUT', 'timeout', true), 'unknown'],
    [new SqlError('query timed out after 1000 ms', undefined, 'ETIMEDOUT', 'timeout', true), 'unknown'],
    [new SqlError('Query inactivity timeout', undefined, 'PROTOCOL_SEQUENCE_TIMEOUT', 'timeout', true), 'unknown'],
    // Not known whether anything accepted the connection: in doubt.
    [new SqlError('connect ETIMEDOUT', undefined, 'ETIMEDOUT', 'timeout'), 'unknown'],
    [new SqlError('Connection lost: The server closed the connection.', undefined, 'PROTOCOL_CONNECTION_LOST', 'query', true), 'unknown'],
    [new SqlError('read ECONNRESET', -104, 'ECONNRESET', 'connect', true), 'unknown'],
    [new SqlError("Access denied for user 'repl'@'10.0.0.2'", 1045, 'ER_ACCESS_DENIED_ERROR', 'connect'), 'unknown'],
    [new SqlError("Host '10.0.0.2' is not allowed to connect", 1130, 'ER_HOST_NOT_PRIVILEGED', 'connect'), 'unknown'],
    [new SqlError('Too many connections', 1040, 'ER_CON_COUNT_ERROR', 'connect'), 'unknown'],
    [new Error('something else'), 'unknown'],
  ];
  for (const [e, want] of cases) assert.equal(classifyPeerError(e).answer, want, (e as Error).message);
});
