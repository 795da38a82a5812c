// Issue 12 items 5 and 6, the pure and in-process parts.
//   5. Each statement has its own bound: a statement that does not answer fails with its name and
//      the bound, and the session is closed, so the statements after it fail at once instead of
//      queuing behind it. The server is mysql2's protocol server on 127.0.0.1: it completes the
//      login, answers DO 1 and never answers SHOW SLAVE STATUS.
//   6. The password file: missing or not a file cannot be used by anyone; not root's or readable by
//      others is refused by start and validate-all only, every other action warns (once) and uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { connectMysql2, SqlError, statementLabel } from '../../../lib/mysql/client.ts';
import { passwordFileExposure, passwordFileProblem, readPasswordFile, readPasswordFileChecked } from '../../../lib/mysql/secrets.ts';
import { QUERY_TIMEOUT_MS, replicationPassword, type Ctx } from '../../../agents/mysql/context.ts';
import { OcfError } from '../../../lib/ocf/codes.ts';

test('statementLabel: the leading keywords, never what follows them', () => {
  const cases: Array<[string, string]> = [
    ['SHOW SLAVE STATUS', 'SHOW SLAVE STATUS'],
    ['  SHOW\n ALL SLAVES STATUS', 'SHOW ALL SLAVES'],
    ['STOP SLAVE IO_THREAD', 'STOP SLAVE IO_THREAD'],
    ['STOP SLAVE', 'STOP SLAVE'],
    ["CHANGE MASTER TO MASTER_HOST='10.0.0.1', MASTER_PASSWORD='SECRET'", 'CHANGE MASTER TO'],
    ["CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = 'X'", 'CHANGE REPLICATION SOURCE'],
    ['SELECT @@version AS version', 'SELECT'],
    ['SET GLOBAL read_only = ON', 'SET GLOBAL'],
    ['KILL 42', 'KILL'],
    ['select 1', 'query'],
    ['', 'query'],
    ['SELECTX', 'SELECTX'],
    ['SELECT1', 'query'],
  ];
  for (const [sql, label] of cases) assert.equal(statementLabel(sql), label, sql);
  // Whatever follows the keywords (a password, a value) never reaches the label.
  fc.assert(fc.property(fc.constantFrom('CHANGE MASTER TO', 'SET GLOBAL', 'SELECT', 'KILL'), fc.string({ minLength: 1 }), (kw, rest) => {
    const label = statementLabel(`${kw} ='${rest}'`);
    assert.ok(kw.startsWith(label) || label === 'query', `${label} from ${kw} ='${rest}'`);
  }));
});

/** A server that logs anybody in, answers DO 1 (OK, no rows) and leaves every other statement unanswered. */
async function stuckServer(): Promise<{ port: number; queries: string[]; close: () => void }> {
  const mysql = await import('mysql2');
  const queries: string[] = [];
  const conns: Array<{ stream: { destroy(): void } }> = [];
  const server = mysql.createServer((conn: any) => {
    conns.push(conn);
    conn.serverHandshake({
      protocolVersion: 10, serverVersion: '10.11.99-MariaDB', connectionId: conns.length, statusFlags: 2,
      characterSet: 8, capabilityFlags: 0xffffff, authCallback: (_p: unknown, cb: (e: null) => void) => cb(null),
    });
    conn.on('query', (sql: string) => {
      queries.push(sql);
      if (sql.startsWith('SET NAMES') || sql === 'DO 1') conn.writeOk();
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((r) => (server as any).listen(0, '127.0.0.1', r));
  const port = (server as any)._server.address().port as number;
  return { port, queries, close: () => { for (const c of conns) c.stream.destroy(); (server as any).close(); } };
}

test('a statement that never answers fails at its own bound, named; the session is closed and the next statement fails at once', async () => {
  const srv = await stuckServer();
  try {
    const db = await connectMysql2({ host: '127.0.0.1', port: srv.port, user: 'u', password: 'Pw-9', connectTimeoutMs: 2000, queryTimeoutMs: 300 });
    assert.deepEqual(await db.query('DO 1'), []);
    let t0 = Date.now();
    await assert.rejects(db.query('SHOW SLAVE STATUS'), (e: unknown) => {
      assert.ok(e instanceof SqlError);
      assert.equal(e.kind, 'timeout');
      assert.match(e.message, /^SHOW SLAVE STATUS timed out after 3\d\d ms$/);
      return true;
    });
    const took = Date.now() - t0;
    assert.ok(took >= 290 && took < 1000, `the statement was given up after ${took} ms (bound 300)`);
    t0 = Date.now();
    await assert.rejects(db.exec('STOP SLAVE', 5000), /STOP SLAVE not sent: the session was closed when SHOW SLAVE STATUS timed out/);
    assert.ok(Date.now() - t0 < 50, 'the statement after a timeout is refused at once');
    t0 = Date.now();
    await db.close();
    assert.ok(Date.now() - t0 < 50, 'closing an abandoned session does not wait');
    assert.deepEqual(srv.queries, ['DO 1', 'SHOW SLAVE STATUS']);
  } finally { srv.close(); }
});

test('a statement may be given a longer bound than the session default', async () => {
  const srv = await stuckServer();
  try {
    const db = await connectMysql2({ host: '127.0.0.1', port: srv.port, user: 'u', password: 'Pw-9', connectTimeoutMs: 2000, queryTimeoutMs: 100 });
    const t0 = Date.now();
    await assert.rejects(db.exec('SET GLOBAL read_only = ON', 600), /SET GLOBAL timed out after 600 ms/);
    assert.ok(Date.now() - t0 >= 590);
    await db.close();
  } finally { srv.close(); }
});

test('the local session cap: what a status query needs, many times over, well under a notification budget', () => {
  assert.ok(QUERY_TIMEOUT_MS >= 3000 && QUERY_TIMEOUT_MS <= 10_000, String(QUERY_TIMEOUT_MS));
});

test('password file rules: what nobody can use, and what only exposes the password', () => {
  const f = (o: Partial<{ exists: boolean; isFile: boolean; uid: number; mode: number }>) =>
    ({ exists: true, isFile: true, uid: 0, mode: 0o100600, ...o });
  const cases: Array<[Partial<{ exists: boolean; isFile: boolean; uid: number; mode: number }>, RegExp | undefined, RegExp | undefined]> = [
    [{}, undefined, undefined],
    [{ mode: 0o100400 }, undefined, undefined],
    [{ exists: false }, /does not exist/, undefined],
    [{ isFile: false }, /not a regular file/, undefined],
    [{ uid: 1000 }, /owned by root \(uid 0\), not uid 1000/, /owned by root/],
    [{ mode: 0o100640 }, /readable by others \(mode 640\)/, /readable by others \(mode 640\)/],
    [{ mode: 0o100604 }, /readable by others/, /readable by others/],
    [{ mode: 0o100660 }, /readable by others/, /readable by others/],
  ];
  for (const [o, problem, exposure] of cases) {
    const p = passwordFileProblem('/etc/pw', f(o));
    if (problem) assert.match(p ?? '', problem, JSON.stringify(o)); else assert.equal(p, undefined, JSON.stringify(o));
    if (!f(o).exists || !f(o).isFile) continue;
    const x = passwordFileExposure('/etc/pw', f(o));
    if (exposure) assert.match(x ?? '', exposure, JSON.stringify(o)); else assert.equal(x, undefined, JSON.stringify(o));
  }
});

function fakeCtx(action: string, file: string): { ctx: Ctx; warnings: string[]; hidden: string[] } {
  const warnings: string[] = [];
  const hidden: string[] = [];
  const log = { warn: (m: string) => warnings.push(m), hide: (s: string) => hidden.push(s), info: () => undefined, debug: () => undefined, error: () => undefined };
  const ctx = { action, params: { replication_password_file: file, replication_password: '' }, log } as unknown as Ctx;
  return { ctx, warnings, hidden };
}

test('replicationPassword: an exposed file is refused by start and validate-all only; the others warn once and use it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pw-'));
  try {
    const file = join(dir, 'repl.pw');
    writeFileSync(file, 'Pw-from-file\nsecond line\n');
    chmodSync(file, 0o600);
    assert.equal(readPasswordFile(file), 'Pw-from-file');
    assert.deepEqual(readPasswordFileChecked(file), { password: 'Pw-from-file' });
    chmodSync(file, 0o640);
    assert.throws(() => readPasswordFile(file), /readable by others \(mode 640\)/);
    assert.equal(readPasswordFileChecked(file).password, 'Pw-from-file');

    for (const action of ['start', 'validate-all']) {
      const { ctx } = fakeCtx(action, file);
      assert.throws(() => replicationPassword(ctx), (e: unknown) => e instanceof OcfError && e.code === 2 && /mode 640/.test(e.message), action);
    }
    for (const action of ['monitor', 'notify', 'promote', 'demote']) {
      const { ctx, warnings, hidden } = fakeCtx(action, file);
      assert.equal(replicationPassword(ctx), 'Pw-from-file', action);
      assert.equal(replicationPassword(ctx), 'Pw-from-file', action);
      assert.equal(warnings.length, 1, `${action}: ${warnings.join(' | ')}`);
      assert.match(warnings[0]!, new RegExp(`readable by others \\(mode 640\\).*${action} carries on`));
      assert.ok(!warnings[0]!.includes('Pw-from-file'));
      assert.ok(hidden.includes('Pw-from-file'), 'the password is hidden from the log');
    }
    // No password to read: every action fails as before (rc 2).
    const missing = join(dir, 'nope.pw');
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    for (const [path, re] of [[missing, /does not exist/], [sub, /not a regular file/]] as const) {
      for (const action of ['monitor', 'start']) {
        const { ctx } = fakeCtx(action, path);
        assert.throws(() => replicationPassword(ctx), (e: unknown) => e instanceof OcfError && e.code === 2 && re.test(e.message), `${action} ${path}`);
      }
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
