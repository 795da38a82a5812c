// The replica monitor's check that it holds nothing the primary lacks and lacks nothing it
// streamed past (lib/mysql/consistency.ts), and the grade that follows (health.ts). Rows marked
// "seen" are cases test/integration/mysql-consistency.test.ts drives through the agent against
// real servers (the MariaDB ones with the variables recorded from mariadbd 10.11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONSISTENCY_RECHECK_MS, compareWithPrimary, consistencyDue, ownWrites, type ConsistencyRecord,
} from '../../../lib/mysql/consistency.ts';
import { gradeConsistency, gradeReplica, promotionScore, type Assessment } from '../../../lib/mysql/health.ts';
import { parseHistory } from '../../../lib/mysql/position.ts';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562'; // the replica's own uuid
const B = '8a94f357-aab4-11df-86ab-c80aa9429562'; // the primary's
const C = 'c0ffee00-1111-2222-3333-444455556666'; // an earlier primary's (a rebuilt node's old uuid)

interface MariaCase { name: string; serverId: number; local: [string, string]; primary: [string, string]; errant?: string; missing?: string; settled: boolean }

// [gtid_binlog_state, gtid_current_pos] of each server. Errant ranges are errantTransactions()'s,
// the rejoin's own: from the primary's last transaction of that server id (none: 1), so a range
// may hold fewer transactions than its width (sequence numbers are shared by a domain's servers).
const MARIA: MariaCase[] = [
  { name: 'a replica in step', serverId: 2, local: ['0-1-3', '0-1-3'], primary: ['0-1-3', '0-1-3'], settled: true },
  { name: 'a replica behind: nothing it could have skipped, settled', serverId: 2, local: ['0-1-2', '0-1-2'], primary: ['0-1-5', '0-1-5'], settled: true },
  { name: 'a former primary behind on the new one\'s writes: its own all there, settled', serverId: 2, local: ['0-1-10,0-2-7', '0-1-10'], primary: ['0-1-12,0-2-7', '0-1-12'], settled: true },
  { name: 'seen: root wrote on the replica', serverId: 2, local: ['0-1-3,0-2-4', '0-2-4'], primary: ['0-1-3', '0-1-3'], errant: '0-2-1..0-2-4', settled: true },
  { name: 'seen: ... and the primary wrote next (SQL thread stopped by 1950)', serverId: 2, local: ['0-1-3,0-2-4', '0-2-4'], primary: ['0-1-4', '0-1-4'], errant: '0-2-1..0-2-4', settled: true },
  { name: 'several local writes', serverId: 2, local: ['0-1-3,0-2-6', '0-2-6'], primary: ['0-1-3', '0-1-3'], errant: '0-2-1..0-2-6', settled: true },
  { name: 'a local write in another domain', serverId: 2, local: ['0-1-3,5-2-1', '0-1-3,5-2-1'], primary: ['0-1-3', '0-1-3'], errant: '5-2-1', settled: true },
  { name: 'a former primary whose writes all reached the new one', serverId: 2, local: ['0-1-10,0-2-7', '0-1-10'], primary: ['0-1-10,0-2-7', '0-1-10'], settled: true },
  { name: 'seen: rebuilt empty with its old server_id, streamed past its own writes', serverId: 1, local: ['0-2-5', '0-2-5'], primary: ['0-1-3,0-2-5', '0-2-5'], missing: '0-1-1..0-1-3', settled: true },
  { name: 'rebuilt with its old server_id, past the last of them only just', serverId: 1, local: ['0-2-4', '0-2-4'], primary: ['0-1-3,0-2-5', '0-2-5'], missing: '0-1-1..0-1-3', settled: true },
  { name: 'rebuilt with its old server_id, still before them: on their way, not missing', serverId: 1, local: ['', ''], primary: ['0-1-3,0-2-5', '0-2-5'], settled: false },
  { name: 'rebuilt with a new server_id: received them', serverId: 3, local: ['0-1-3,0-2-5', '0-2-5'], primary: ['0-1-3,0-2-5', '0-2-5'], settled: true },
  { name: 'holds some of its own, lacks the last one', serverId: 1, local: ['0-1-2,0-2-5', '0-2-5'], primary: ['0-1-3,0-2-5', '0-2-5'], missing: '0-1-3', settled: true },
  { name: 'errant and missing together', serverId: 1, local: ['0-2-5,7-1-2', '0-2-5,7-1-2'], primary: ['0-1-3,0-2-5', '0-2-5'], errant: '7-1-1..7-1-2', missing: '0-1-1..0-1-3', settled: true },
];

test('compareWithPrimary, MariaDB: errant, missing, settled', () => {
  for (const c of MARIA) {
    const h = ([binlogState, executed]: [string, string]) => parseHistory('mariadb', { executed, binlogState });
    const v = compareWithPrimary({ family: 'mariadb', local: h(c.local), primary: h(c.primary), serverId: c.serverId, caughtUp: false });
    assert.equal(v.errant?.text, c.errant, `${c.name}: errant`);
    assert.equal(v.missing?.text, c.missing, `${c.name}: missing`);
    assert.equal(v.settled, c.settled, `${c.name}: settled`);
  }
});

interface MysqlCase { name: string; local: string; primary: string; caughtUp: boolean; errant?: string; missing?: string; settled: boolean }

const MYSQL: MysqlCase[] = [
  { name: 'a replica in step', local: `${B}:1-10`, primary: `${B}:1-10`, caughtUp: true, settled: true },
  { name: 'a replica behind on the primary\'s own newest: settled (nothing it could have skipped)', local: `${B}:1-8`, primary: `${B}:1-10`, caughtUp: false, settled: true },
  { name: 'caught up, yet the primary wrote one more meanwhile: not missing', local: `${C}:1-100,${B}:1-19`, primary: `${C}:1-100,${B}:1-20`, caughtUp: true, settled: true },
  { name: 'seen: FLUSH PRIVILEGES on the replica (or a SUPER user writing)', local: `${A}:1,${B}:1-10`, primary: `${B}:1-10`, caughtUp: true, errant: `${A}:1`, settled: true },
  { name: 'errant, while still behind: errant all the same', local: `${A}:1-2,${B}:1-5`, primary: `${B}:1-10`, caughtUp: false, errant: `${A}:1-2`, settled: true },
  { name: 'seen: rebuilt with its old server_id, skipped what it wrote as a primary', local: `${B}:1-20`, primary: `${B}:1-20,${C}:1-100`, caughtUp: true, missing: `${C}:1-100`, settled: true },
  { name: 'rebuilt, still catching up: not judged', local: `${B}:1-3`, primary: `${B}:1-20,${C}:1-100`, caughtUp: false, settled: false },
  { name: 'a gap in an earlier primary\'s range', local: `${B}:1-20,${C}:1-40:61-100`, primary: `${B}:1-20,${C}:1-100`, caughtUp: true, missing: `${C}:41-60`, settled: true },
  { name: 'the primary\'s own tagged transactions are its newest too', local: `${B}:1-20`, primary: `${B}:1-20:t:1-3`, caughtUp: true, settled: true },
  { name: 'errant and missing together', local: `${A}:1,${B}:1-20`, primary: `${B}:1-20,${C}:1-100`, caughtUp: true, errant: `${A}:1`, missing: `${C}:1-100`, settled: true },
];

test('compareWithPrimary, MySQL: errant, missing (only once caught up), the primary\'s own newest never missing', () => {
  for (const c of MYSQL) {
    const h = (executed: string) => parseHistory('mysql', { executed });
    const v = compareWithPrimary({ family: 'mysql', local: h(c.local), primary: h(c.primary), serverId: 1, primaryUuid: B.toUpperCase(), caughtUp: c.caughtUp });
    assert.equal(v.errant?.text, c.errant, `${c.name}: errant`);
    assert.equal(v.missing?.text, c.missing, `${c.name}: missing`);
    assert.equal(v.settled, c.settled, `${c.name}: settled`);
  }
});

test('ownWrites: what a replica wrote itself, steady while it only replicates', () => {
  const m = (binlogState: string, sourceServerId: number) => ownWrites('mariadb', { binlogState, executed: '', sourceServerId });
  assert.equal(m('0-1-3', 1), '', 'a pure replica');
  assert.equal(m('0-1-3', 1), m('0-1-3000', 1), 'replicated transactions do not change it');
  assert.equal(m('0-1-3,0-2-4', 1), '0-2-4', 'seen: the write root made on the replica');
  assert.notEqual(m('0-1-3,0-2-4', 1), m('0-1-3,0-2-5', 1), 'a second local write changes it');
  assert.equal(m('0-1-10,0-2-7', 1), '0-2-7', 'a former primary: its old writes, steady');
  assert.equal(m('0-1-3,0-99-4', 1), '0-99-4', 'a write under a forged session server_id');
  assert.equal(m('0-2-5,0-1-3', 2), '0-1-3', 'sorted, after a failover');
  const y = (executed: string, serverUuid?: string) => ownWrites('mysql', { binlogState: '', executed, sourceServerId: 0, serverUuid });
  assert.equal(y(`${B}:1-10`, A), '');
  assert.equal(y(`${B}:1-10`, A), y(`${B}:1-99`, A));
  assert.equal(y(`${A}:1,${B}:1-10`, A.toUpperCase()), `${A}:1`);
  assert.equal(y(`${A}:1,${A}:adm:1-2,${B}:1-10`, A), `${A}:1,${A}:adm:1-2`, 'tagged transactions of its own count');
  assert.equal(y(`${A}:1,${B}:1-10`), '', 'no uuid known: nothing to fingerprint (the periodic comparison still runs)');
});

test('consistencyDue: the primary is asked only on a change, a finding, or once a minute', () => {
  const rec: ConsistencyRecord = { ownWrites: '', source: '127.0.0.1:3306', at: 1_000_000 };
  const now = (o: Partial<{ ownWrites: string; source: string; at: number; flagged: boolean }> = {}) =>
    ({ ownWrites: '', source: '127.0.0.1:3306', at: rec.at + 7000, flagged: false, ...o });
  const rows: Array<[string, ConsistencyRecord | undefined, ReturnType<typeof now>, boolean]> = [
    ['nothing settled yet', undefined, now(), true],
    ['steady', rec, now(), false],
    ['a local write since', rec, now({ ownWrites: '0-2-4' }), true],
    ['another source', rec, now({ source: '127.0.0.1:3307' }), true],
    ['something was found: look again every monitor', rec, now({ flagged: true }), true],
    ['just under a minute', rec, now({ at: rec.at + CONSISTENCY_RECHECK_MS - 1 }), false],
    ['a minute', rec, now({ at: rec.at + CONSISTENCY_RECHECK_MS }), true],
    ['the clock went back', rec, now({ at: rec.at - 1 }), true],
  ];
  for (const [name, r, n, want] of rows) assert.equal(consistencyDue(r, n), want, name);
});

test('gradeConsistency: errant is FAIL (never promotable), missing at least CRITICAL, nothing leaves the grade alone', () => {
  const t = { info: 5, warn: 30, critical: 120, fail: 0 };
  const base = (lag: number): Assessment => gradeReplica({
    status: { sourceHost: 'h', sourcePort: 3306, sourceUser: 'r', io: 'running', sqlRunning: true, ioErrno: 0, ioError: '', sqlErrno: 0, sqlError: '',
      secondsBehind: lag, readFile: 'b.1', readPos: 1, execFile: 'b.1', execPos: 1, gtidMode: 'Current_Pos', retrievedGtid: '', sourceServerId: 1, sqlState: '', relayFile: '', relayPos: 0 },
    pendingForSeconds: null,
  }, t);
  for (const lag of [0, 10, 60, 500]) {
    const a = base(lag);
    assert.deepEqual(gradeConsistency(a, {}), a);
    const e = gradeConsistency(a, { errant: '0-2-4' });
    assert.equal(e.grade, 'FAIL');
    assert.equal(promotionScore(e), -1_000_000);
    assert.match(e.reasons[0]!, /errant transactions 0-2-4/);
    const m = gradeConsistency(a, { missing: '0-1-1..0-1-3' });
    assert.ok(m.grade === 'CRITICAL' || m.grade === 'FAIL', `lag ${lag}: ${m.grade}`);
    assert.ok(promotionScore(m) < promotionScore(a) || a.grade === 'CRITICAL', 'a node missing transactions scores below a complete one');
    assert.match(m.reasons[0]!, /missing transactions 0-1-1\.\.0-1-3 .*own server_id/);
    assert.equal(gradeConsistency(a, { errant: 'x', missing: 'y' }).grade, 'FAIL');
  }
});

test('nodeAt: the node a replica\'s source address belongs to (node_map, else the host is the node name)', async () => {
  const { nodeAt } = await import('../../../agents/mysql/replication.ts');
  const ctx = (node_map: string) => ({ params: { node_map, replication_port: 3306 } }) as unknown as Parameters<typeof nodeAt>[0];
  const map = 'n1=127.0.0.1:33061 n2=127.0.0.1:33062 n3=[2001:db8::3]';
  assert.equal(nodeAt(ctx(map), '127.0.0.1', 33062), 'n2');
  assert.equal(nodeAt(ctx(map), '2001:db8::3', 3306), 'n3');
  assert.equal(nodeAt(ctx(map), '127.0.0.1', 33069), undefined, 'no node listens there');
  assert.equal(nodeAt(ctx(''), 'db2.example.net', 3306), 'db2.example.net', 'without node_map the host is the node name');
  assert.equal(nodeAt(ctx(''), 'db2.example.net', 3307), undefined, 'at another port it is no node of ours');
});
