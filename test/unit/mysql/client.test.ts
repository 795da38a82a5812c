// The SQL client's errors say whether the connection had been accepted: the writable-peer guard
// reads a mute server that accepted the connection (a frozen one) differently from silence.
// Real sockets on 127.0.0.1: a listener that accepts and never answers, and a port nobody listens on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { connectMysql2, SqlError } from '../../../lib/mysql/client.ts';
import { classifyPeerError } from '../../../agents/mysql/guard.ts';

async function listen(onConn: (s: Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const socks: Socket[] = [];
  const srv = createServer((s) => { socks.push(s); onConn(s); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { port, close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) };
}

const attempt = async (port: number, connectTimeoutMs = 300): Promise<SqlError> => {
  try {
    const c = await connectMysql2({ host: '127.0.0.1', port, user: 'u', password: 'pw', connectTimeoutMs, queryTimeoutMs: 300 });
    await c.close();
  } catch (e) {
    assert.ok(e instanceof SqlError, String(e));
    return e;
  }
  assert.fail('connected to a server that never answers');
};

test('a listener that accepts and never answers: a timeout after the connection was accepted, read as unknown', async () => {
  const mute = await listen(() => undefined);
  try {
    const t0 = Date.now();
    const e = await attempt(mute.port);
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    assert.equal(e.kind, 'timeout');
    assert.equal(e.connected, true);
    assert.match(e.message, /the connection was accepted/);
    assert.equal(classifyPeerError(e).answer, 'unknown');
  } finally { await mute.close(); }
});

test('nobody listening: refused before any connection, read as silent', async () => {
  const gone = await listen(() => undefined);
  const port = gone.port;
  await gone.close();
  const e = await attempt(port);
  assert.equal(e.code, 'ECONNREFUSED');
  assert.equal(e.connected, false);
  assert.equal(classifyPeerError(e).answer, 'silent');
});

test('a connection closed by the other side after it was accepted: unknown', async () => {
  const rude = await listen((s) => s.destroy());
  try {
    const e = await attempt(rude.port);
    assert.equal(e.connected, true, `${e.code}: ${e.message}`);
    assert.equal(classifyPeerError(e).answer, 'unknown');
  } finally { await rude.close(); }
});
