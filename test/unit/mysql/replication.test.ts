// Which replica the monitor starts again when it is pointed at the primary: only one whose IO
// thread stopped without an error (a promotion that failed after its catch-up, a STOP SLAVE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stoppedQuietly } from '../../../agents/mysql/replication.ts';
import { parseReplicaStatus, type IoState, type ReplicaStatus } from '../../../lib/mysql/status.ts';
import { FIXTURES } from './fixtures.ts';

const healthy = parseReplicaStatus(FIXTURES.mariadb.replicaOk)!;
const status = (o: Partial<ReplicaStatus>): ReplicaStatus => ({ ...healthy, ...o });

test('stoppedQuietly: exhaustive over IO state, IO error, SQL thread and SQL error', () => {
  for (const io of ['running', 'connecting', 'stopped'] as IoState[]) {
    for (const ioErrno of [0, 2003, 1236]) {
      for (const sqlRunning of [true, false]) {
        for (const sqlErrno of [0, 1062]) {
          const want = io === 'stopped' && ioErrno === 0 && sqlErrno === 0;
          assert.equal(stoppedQuietly(status({ io, ioErrno, sqlRunning, sqlErrno })), want, JSON.stringify({ io, ioErrno, sqlRunning, sqlErrno }));
        }
      }
    }
  }
  // The recorded answers: a healthy replica and one connecting to an unreachable source are left alone.
  for (const f of Object.values(FIXTURES)) {
    assert.equal(stoppedQuietly(parseReplicaStatus(f.replicaOk)!), false, f.source);
    assert.equal(stoppedQuietly(parseReplicaStatus(f.ioConnecting)!), false, f.source);
    assert.equal(stoppedQuietly(parseReplicaStatus(f.sqlError)!), false, f.source);
  }
});
