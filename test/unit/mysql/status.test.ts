// Replica status and server state parsed from real (MariaDB) and reference (MySQL) answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasPending, parseReplicaStatus, parseState, truthy, type ReplicaStatus } from '../../../lib/mysql/status.ts';
import { FIXTURES } from './fixtures.ts';

for (const [name, f] of Object.entries(FIXTURES)) {
  test(`${name}: no rows means no source`, () => {
    assert.equal(parseReplicaStatus(f.unconfigured), undefined);
  });

  test(`${name}: a healthy replica`, () => {
    const s = parseReplicaStatus(f.replicaOk)!;
    assert.equal(s.io, 'running');
    assert.equal(s.sqlRunning, true);
    assert.equal(s.sqlErrno, 0);
    assert.equal(s.ioErrno, 0);
    assert.equal(s.secondsBehind, 0);
    assert.equal(hasPending(s), false);
    assert.ok(s.sourceHost.length > 0);
    assert.ok(s.sourcePort > 0);
    assert.notEqual(s.gtidMode, 'No');
    assert.ok(s.retrievedGtid.length > 0);
  });

  test(`${name}: SQL thread stopped with events pending`, () => {
    const s = parseReplicaStatus(f.sqlStoppedPending)!;
    assert.equal(s.sqlRunning, false);
    assert.equal(s.sqlErrno, 0);
    assert.equal(s.secondsBehind, null, 'the server gives no lag while the applier is stopped');
    assert.equal(hasPending(s), true);
  });

  test(`${name}: SQL thread stopped by an error`, () => {
    const s = parseReplicaStatus(f.sqlError)!;
    assert.equal(s.sqlRunning, false);
    assert.ok(s.sqlErrno === 1062, String(s.sqlErrno));
    assert.ok(s.sqlError.length > 0);
  });

  test(`${name}: source unreachable`, () => {
    const s = parseReplicaStatus(f.ioConnecting)!;
    assert.equal(s.io, 'connecting');
    assert.equal(s.ioErrno, 2003);
  });

  test(`${name}: state of primary and replica`, () => {
    const p = parseState(f.statePrimary);
    const r = parseState(f.stateReplica);
    assert.equal(p.readOnly, false);
    assert.equal(r.readOnly, true);
    assert.ok(p.gtidExecuted.length > 0);
    assert.ok(!/\s/.test(r.gtidExecuted), 'GTID sets are normalised without whitespace');
    if (name === 'mariadb') {
      assert.equal(r.superReadOnly, false);
      assert.equal(r.gtidSlave, '0-1-1');
    } else {
      assert.equal(r.superReadOnly, true);
      assert.ok(r.serverUuid);
    }
  });
}

test('MySQL fatal IO error and a lagging applier', () => {
  const fatal = parseReplicaStatus(FIXTURES.mysql84.ioFatal!)!;
  assert.equal(fatal.io, 'stopped');
  assert.equal(fatal.ioErrno, 13114);
  const lag = parseReplicaStatus(FIXTURES.mysql80.replicaLagging!)!;
  assert.equal(lag.secondsBehind, 45);
  assert.equal(hasPending(lag), true);
});

test('MariaDB multi-source: the default (unnamed) connection is the one read', () => {
  const base = FIXTURES.mariadb.replicaOk[0]!;
  const s = parseReplicaStatus([{ ...base, Connection_name: 'other', Master_Host: 'x' }, { ...base, Connection_name: '', Master_Host: 'main' }]);
  assert.equal(s!.sourceHost, 'main');
});

test('read_only spellings', () => {
  for (const t of [1, '1', 'ON', 'on', 'NO_LOCK', 'NO_LOCK_NO_ADMIN', true]) assert.equal(truthy(t), true, String(t));
  for (const f of [0, '0', 'OFF', 'off', '', null, undefined, false]) assert.equal(truthy(f), false, String(f));
});

test('pending compares received and applied source coordinates', () => {
  const s = (rf: string, rp: number, ef: string, ep: number): ReplicaStatus => ({
    ...parseReplicaStatus(FIXTURES.mariadb.replicaOk)!, readFile: rf, readPos: rp, execFile: ef, execPos: ep,
  });
  assert.equal(hasPending(s('b.1', 10, 'b.1', 10)), false);
  assert.equal(hasPending(s('b.1', 11, 'b.1', 10)), true);
  assert.equal(hasPending(s('b.2', 4, 'b.1', 900)), true, 'a new binlog file received, old one not finished');
  assert.equal(hasPending(s('', 0, '', 0)), false, 'nothing received yet');
});

test('parseState refuses an empty answer', () => {
  assert.throws(() => parseState(undefined), /no row/);
});
