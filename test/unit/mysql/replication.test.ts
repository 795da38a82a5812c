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

test('stopReceiving: ends the one receiver session before STOP; with several (multi-source) or none, plain STOP', async () => {
  const { stopReceiving } = await import('../../../agents/mysql/replication.ts');
  const { sqlFor } = await import('../../../lib/mysql/flavour.ts');
  const run = async (rows: Array<Record<string, unknown>> | Error) => {
    const sent: string[] = [];
    const db = {
      queryTimeoutMs: 1000,
      query: async (q: string | { sql: string }) => {
        const text = typeof q === 'string' ? q : q.sql;
        sent.push(text);
        if (rows instanceof Error) throw rows;
        return rows;
      },
      exec: async (q: string | { sql: string }) => { sent.push(typeof q === 'string' ? q : q.sql); },
    };
    const sql = sqlFor('mariadb');
    await stopReceiving({ db, sql } as unknown as Parameters<typeof stopReceiving>[0]);
    return sent.filter((q) => q !== sql.replicaIoSessions);
  };
  assert.deepEqual(await run([{ id: 67 }]), ['KILL CONNECTION 67', 'STOP SLAVE IO_THREAD']);
  assert.deepEqual(await run([{ id: 67 }, { id: 68 }]), ['STOP SLAVE IO_THREAD'], 'other channels are not ours to interrupt');
  assert.deepEqual(await run([]), ['STOP SLAVE IO_THREAD']);
  assert.deepEqual(await run(new Error('no PROCESS privilege')), ['STOP SLAVE IO_THREAD'], 'a failed lookup costs only the slow stop');
});

test('stopReceiving from a source that is gone: destroys only SYN-SENT sockets to its address while the STOP runs', async () => {
  const { stopReceiving } = await import('../../../agents/mysql/replication.ts');
  const { sqlFor } = await import('../../../lib/mysql/flavour.ts');
  const sql = sqlFor('mariadb');
  const run = async (host: string, stopMs: number) => {
    const calls: string[][] = [];
    const db = {
      queryTimeoutMs: 1000,
      query: async () => [{ id: 5 }],
      exec: async (q: string | { sql: string }) => {
        if ((typeof q === 'string' ? q : q.sql) === sql.stopReplicaIo) await new Promise((r) => setTimeout(r, stopMs));
      },
    };
    const runner = async (command: string, args: readonly string[]) => {
      calls.push([command, ...args]);
      return { command, args, code: 0, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: 1 };
    };
    await stopReceiving({ db, sql } as unknown as Parameters<typeof stopReceiving>[0], { host, port: 3306 }, runner);
    return calls;
  };
  const v4 = await run('192.0.2.13', 150);
  assert.ok(v4.length >= 2, `ss ran while the STOP was pending: ${JSON.stringify(v4)}`);
  assert.deepEqual(v4[0], ['ss', '-K', '-n', '-t', 'state', 'syn-sent', 'dst', '192.0.2.13', 'dport', '=', ':3306']);
  assert.deepEqual((await run('2001:db8::13', 80))[0]!.slice(6, 8), ['dst', '[2001:db8::13]']);
  assert.deepEqual(await run('192.0.2.13', 0), [], 'a STOP that returns at once needs no help');
  assert.deepEqual(await run('db-n3.example', 150), [], 'a host name is not resolved here: plain STOP');
});
