// The recorded MySQL answers (lib/mysql/fixtures/mysql-8.4.json, written from the 8.0/8.4 manual
// before a MySQL could run here) against a live MySQL 9.7, which speaks the 8.4 dialect: the same
// columns with the same kinds of values, the agent's state query answered with the same keys, and
// the parsers reading both alike. The fixtures stay the unit tests' record of 8.0/8.4; this file
// says where they still match a real server. MySQL only (VIGIL_FLAVOURS without mysql skips it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MariaCluster, flavours, MYSQL, ROOT, type Node } from './support/mariadb.ts';
import { mysql84Sql } from '../../lib/mysql/sql/mysql84.ts';
import { parseReplicaStatus, parseState, type Row } from '../../lib/mysql/status.ts';
import { detectFlavour } from '../../lib/mysql/flavour.ts';

const fixture = JSON.parse(readFileSync(`${ROOT}lib/mysql/fixtures/mysql-8.4.json`, 'utf8')) as Record<string, unknown>;
const kind = (v: unknown) => (v === null ? 'null' : Buffer.isBuffer(v) ? 'string' : typeof v);
const kinds = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, kind(v)]));

describe('the recorded MySQL 8.4 answers against a live MySQL 9.7', { timeout: 300_000, skip: !flavours().includes(MYSQL) && 'VIGIL_FLAVOURS has no mysql' }, () => {
  let c: MariaCluster;
  let n1: Node, n2: Node;
  const live: Record<string, Row> = {};

  before(async () => {
    c = await MariaCluster.create({ flavour: MYSQL, nodes: 2, basePort: 33101 });
    [n1, n2] = c.nodes as [Node, Node];
    for (const n of c.nodes) await c.agentOk(n, 'start');
    await c.notifyAll('pre', 'promote', { promote: [n1], promoted: [] });
    await c.agentOk(n1, 'promote');
    c.setPromoted(n1);
    await c.agentOk(n2, 'notify', c.notifyEnv('post', 'promote', [n1]));
    await c.app(n1, 'INSERT INTO vigiltest.t VALUES (1, "x")');
    await c.waitFor(async () => (await c.ids(n2)).includes(1), 10_000, 'replication');
    await c.noLag(n2);
    live.version = (await c.root(n1, 'SELECT @@version AS version, @@version_comment AS comment'))[0]!;
    live.statePrimary = (await c.root(n1, mysql84Sql.state))[0]!;
    live.stateReplica = (await c.root(n2, mysql84Sql.state))[0]!;
    live.replicaOk = (await c.root(n2, mysql84Sql.replicaStatus))[0]!;
    await c.replication(n2, 'stop-sql');
    await c.app(n1, 'INSERT INTO vigiltest.t VALUES (2, "y")');
    await c.waitFor(async () => { const s = (await c.replica(n2))!; return s.readPos > s.execPos; }, 10_000, 'n2 to receive the row');
    live.sqlStoppedPending = (await c.root(n2, mysql84Sql.replicaStatus))[0]!;
    await c.unlogged(n2, ['INSERT INTO vigiltest.t VALUES (3, "conflict")']);
    await c.replication(n2, 'start-sql');
    await c.app(n1, 'INSERT INTO vigiltest.t VALUES (3, "z")');
    await c.waitFor(async () => (await c.replica(n2))!.lastSqlErrno !== 0, 10_000, 'the SQL error');
    live.sqlError = (await c.root(n2, mysql84Sql.replicaStatus))[0]!;
  });
  after(async () => { await c?.cleanup(process.env.VIGIL_KEEP_TEST_DIRS === '1'); });

  test('9.7 is driven as the 8.4 dialect', () => {
    const v = detectFlavour(String(live.version!.version), String(live.version!.comment));
    assert.equal(typeof v === 'string' ? v : v.flavour, 'mysql84');
    assert.match(String(live.version!.version), /^9\.7\./);
  });

  test('SHOW REPLICA STATUS: every recorded column is there, with the same kind of value', (t) => {
    for (const state of ['replicaOk', 'sqlStoppedPending', 'sqlError']) {
      const rec = (fixture[state] as Row[])[0]!;
      const got = live[state]!;
      const missing = Object.keys(rec).filter((k) => !(k in got));
      assert.deepEqual(missing, [], `${state}: columns the fixture has and 9.7 lacks`);
      const added = Object.keys(got).filter((k) => !(k in rec));
      if (added.length) t.diagnostic(`${state}: 9.7 adds ${added.join(', ')}`);
      const differ = Object.keys(rec).filter((k) => kind(rec[k]) !== kind(got[k]) && kind(rec[k]) !== 'null' && kind(got[k]) !== 'null')
        .map((k) => `${k}: recorded ${kind(rec[k])}, live ${kind(got[k])}`);
      assert.deepEqual(differ, [], `${state}: value kinds`);
    }
  });

  test('the agent\'s state query answers with the recorded keys and kinds', () => {
    for (const state of ['statePrimary', 'stateReplica']) {
      assert.deepEqual(kinds(live[state]!), kinds(fixture[state] as Row), state);
    }
    assert.equal(parseState(live.statePrimary).readOnly, false);
    assert.equal(parseState(live.stateReplica).superReadOnly, true);
    assert.match(parseState(live.stateReplica).gtidExecuted, /^[0-9a-f-]{36}:1(-\d+)?$/);
  });

  test('the parser reads the live rows as it reads the recorded ones', () => {
    const both = (state: string) => [parseReplicaStatus(fixture[state] as Row[])!, parseReplicaStatus([live[state]!])!] as const;
    for (const state of ['replicaOk', 'sqlStoppedPending', 'sqlError']) {
      const [rec, got] = both(state);
      assert.deepEqual(Object.keys(got).sort(), Object.keys(rec).sort(), state);
      for (const k of ['io', 'sqlRunning', 'gtidMode'] as const) assert.equal(got[k], rec[k], `${state}: ${k}`);
    }
    const [, ok] = both('replicaOk');
    assert.equal(ok.secondsBehind, 0);
    assert.equal(ok.sourcePort, n1.port);
    const [, pending] = both('sqlStoppedPending');
    assert.equal(pending.secondsBehind, null, 'no lag figure while the SQL thread is stopped');
    assert.ok(pending.readPos > pending.execPos);
    const [recErr, err] = both('sqlError');
    assert.equal(err.sqlErrno, recErr.sqlErrno, 'the duplicate-key error number');
  });
});
