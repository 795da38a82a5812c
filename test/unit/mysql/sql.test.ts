// Flavour SQL: one module per flavour, and each speaks only its server's dialect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format } from 'mysql2';
import { sqlFor, type FlavourName } from '../../../lib/mysql/flavour.ts';
import type { FlavourSql } from '../../../lib/mysql/sql/types.ts';

const FLAVOURS: FlavourName[] = ['mariadb', 'mysql80', 'mysql84'];
const source = { host: 'n1', port: 3306, user: 'repl', password: "p'w\\\"d; DROP TABLE x" };

function allStatements(s: FlavourSql): string[] {
  const withTls = s.changeSource({ ...source, tls: { ca: '/etc/ca.pem', cert: '/etc/c.pem', key: '/etc/k.pem' } });
  return [s.state, s.replicaStatus, s.stopReplica, s.stopReplicaIo, s.replicaIoSessions, s.startReplicaSql, s.startReplica, s.resetReplicaAll,
    s.changeSource(source).sql, withTls.sql, ...s.readOnly, ...s.writable, s.clientSessions, s.kill(42), s.binlogStatus,
    s.positions, s.semisyncStatus, s.semisyncVariables];
}

test('MySQL 8.4 is never sent a MASTER or SLAVE statement (8.4 removed them)', () => {
  for (const q of allStatements(sqlFor('mysql84'))) {
    const code = q.replace(/'[^']*'/g, "''"); // the processlist filter names thread states in quotes
    assert.doesNotMatch(code, /\b(MASTER|SLAVE)\b/i, q);
  }
  assert.equal(sqlFor('mysql84').binlogStatus, 'SHOW BINARY LOG STATUS');
});

test('MySQL 8.0 uses the SOURCE/REPLICA statements and super_read_only', () => {
  const s = sqlFor('mysql80');
  assert.equal(s.replicaStatus, 'SHOW REPLICA STATUS');
  assert.match(s.changeSource(source).sql, /^CHANGE REPLICATION SOURCE TO .*SOURCE_AUTO_POSITION = 1/);
  assert.deepEqual(s.readOnly, ['SET GLOBAL super_read_only = ON']);
  assert.deepEqual(s.writable, ['SET GLOBAL super_read_only = OFF', 'SET GLOBAL read_only = OFF']);
  assert.match(s.state, /@@gtid_executed/);
  assert.match(s.changeSource(source).sql, /GET_SOURCE_PUBLIC_KEY = 1/, 'caching_sha2_password without TLS needs the key');
});

test('MariaDB uses MASTER_USE_GTID=current_pos and read_only (it has no super_read_only)', () => {
  const s = sqlFor('mariadb');
  assert.equal(s.replicaStatus, 'SHOW SLAVE STATUS');
  assert.match(s.changeSource(source).sql, /^CHANGE MASTER TO .*MASTER_USE_GTID = current_pos/);
  assert.deepEqual(s.readOnly, ['SET GLOBAL read_only = ON']);
  assert.doesNotMatch(s.state, /super_read_only AS|@@super_read_only/);
  assert.match(s.state, /@@gtid_current_pos/);
});

for (const f of FLAVOURS) {
  test(`${f}: the password is a value, never part of the statement text, and escapes safely`, () => {
    const st = sqlFor(f).changeSource(source);
    assert.ok(!st.sql.includes('p\'w'), st.sql);
    assert.ok(st.values!.includes(source.password));
    const placeholders = (st.sql.match(/\?/g) ?? []).length;
    assert.equal(placeholders, st.values!.length);
    const text = format(st.sql, st.values as Parameters<typeof format>[1]);
    assert.ok(text.includes(String.raw`'p\'w\\\"d; DROP TABLE x'`), text);
    assert.match(text, /_PORT = 3306,/, 'the port is a number, unquoted');
  });

  test(`${f}: TLS settings appear only when asked for`, () => {
    const s = sqlFor(f);
    const plain = s.changeSource(source).sql;
    const tls = s.changeSource({ ...source, tls: { ca: '/ca' } });
    assert.match(plain, /_SSL = 0/);
    assert.match(tls.sql, /_SSL = 1, \w+_SSL_VERIFY_SERVER_CERT = 1, \w+_SSL_CA = \?/);
    assert.equal(tls.values!.at(-1), '/ca');
  });

  test(`${f}: demote spares replication and system threads and our own session`, () => {
    const q = sqlFor(f).clientSessions;
    for (const keep of ['Binlog Dump', 'Binlog Dump GTID', 'system user', 'event_scheduler', 'CONNECTION_ID()']) assert.ok(q.includes(keep), keep);
    assert.equal(sqlFor(f).kill(12.9), 'KILL CONNECTION 12');
  });
}

test('positions: every flavour answers executed, binlog_state, read_only and super_read_only', () => {
  for (const f of FLAVOURS) {
    for (const col of ['executed', 'binlog_state', 'read_only', 'super_read_only']) assert.match(sqlFor(f).positions, new RegExp(`AS ${col}\\b`), `${f} ${col}`);
  }
  assert.match(sqlFor('mariadb').positions, /@@gtid_current_pos AS executed, @@gtid_binlog_state AS binlog_state/);
  assert.match(sqlFor('mysql84').positions, /@@gtid_executed AS executed/);
});
