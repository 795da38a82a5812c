// The SQL client: mysql2 in-process, loaded on first use only (its module graph costs ~20 ms of
// start-up that meta-data, stop and a stopped probe must never pay). Every call is bounded twice:
// by mysql2's own timeouts and by our guard, which destroys the socket when the action's deadline
// or AbortSignal fires, so a server frozen with SIGSTOP (its kernel still accepts connections
// into the backlog) can never hang an action.
import { redact } from '../exec.ts';
import type { Statement } from './sql/types.ts';
import type { Row } from './status.ts';
import { describeTlsFailure, mysql2Ssl, type TlsMaterial } from './tls.ts';

export interface ConnectOptions {
  socketPath?: string;
  host?: string;
  port?: number;
  user: string;
  password?: string;
  database?: string;
  /** Milliseconds allowed for connecting and authenticating. */
  connectTimeoutMs: number;
  /** Milliseconds allowed for each query unless the call says otherwise. */
  queryTimeoutMs: number;
  signal?: AbortSignal;
  /** TLS over TCP, verifying the server's certificate and that it names `host`; absent: no TLS. */
  ssl?: TlsMaterial;
}

export interface SqlClient {
  query(stmt: string | Statement, timeoutMs?: number): Promise<Row[]>;
  /** Like query, for statements whose result does not matter. */
  exec(stmt: string | Statement, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A failed connect or query, without the statement text (which may hold a password). `connected`
 * tells whether the connection had been accepted when it failed (false: nothing answered the TCP
 * connect; undefined: not known, e.g. a connect over a socket path): the kernel still accepts
 * connections for a server frozen by SIGSTOP, which then never answers; that is not the silence of
 * a stopped server.
 */
export class SqlError extends Error {
  constructor(message: string, readonly errno: number | undefined, readonly code: string | undefined,
    readonly kind: 'connect' | 'query' | 'timeout', readonly connected?: boolean) {
    super(message);
    this.name = 'SqlError';
  }
}

export type Connector = (opts: ConnectOptions) => Promise<SqlClient>;

interface Mysql2Connection {
  query(opts: { sql: string; values?: unknown; timeout?: number }): Promise<[unknown, unknown]>;
  end(): Promise<void>;
  destroy(): void;
}

function toSqlError(e: unknown, kind: SqlError['kind'], secrets: readonly (string | undefined)[], connected?: boolean): SqlError {
  if (e instanceof SqlError) return connected === undefined ? e : new SqlError(e.message, e.errno, e.code, e.kind, connected);
  const err = e as { message?: string; errno?: number; code?: string; sqlMessage?: string };
  const msg = redact(err.sqlMessage ?? err.message ?? String(e), secrets);
  const timeout = err.code === 'PROTOCOL_SEQUENCE_TIMEOUT' || err.code === 'ETIMEDOUT';
  return new SqlError(msg, err.errno, err.code, timeout ? 'timeout' : kind, connected);
}

/**
 * The statement's leading keywords ("SHOW SLAVE STATUS", "STOP SLAVE", "CHANGE MASTER TO"), to
 * say which one failed. Only upper-case words from the start are taken: values, names and
 * passwords come after them (or travel as placeholders), so they never reach a message. Pure.
 */
export function statementLabel(sql: string): string {
  const m = /^\s*((?:[A-Z_]+\s+){0,2}[A-Z_]+)(?![A-Za-z0-9_@])/.exec(sql);
  return m ? m[1]!.replace(/\s+/g, ' ') : 'query';
}

/** Race a promise against a timer and the signal; on loss run `onLose` (destroy the socket). */
function bounded<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined, what: string, onLose: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const lose = (why: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try { onLose(); } catch { /* socket already gone */ }
      reject(new SqlError(`${what} ${why}`, undefined, 'ETIMEDOUT', 'timeout'));
    };
    const onAbort = () => lose('was abandoned: the action deadline was reached');
    const timer = setTimeout(() => lose(`timed out after ${ms} ms`), Math.max(1, ms));
    if (signal?.aborted) { onAbort(); return; }
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then((v) => {
      if (done) return;
      done = true; clearTimeout(timer); signal?.removeEventListener('abort', onAbort); resolve(v);
    }, (e) => {
      if (done) return;
      done = true; clearTimeout(timer); signal?.removeEventListener('abort', onAbort); reject(e);
    });
  });
}

export const connectMysql2: Connector = async (opts) => {
  const secrets = [opts.password];
  const target = opts.socketPath ?? `${opts.host}:${opts.port}`;
  const mysql = await import('mysql2/promise');
  // Over TCP, our own socket (what mysql2 would open), to learn whether the connect was accepted.
  const net = opts.socketPath ? undefined : await import('node:net');
  let accepted = false;
  let conn: Mysql2Connection | undefined;
  const pending = mysql.createConnection({
    socketPath: opts.socketPath,
    host: opts.host,
    port: opts.port,
    user: opts.user,
    password: opts.password ?? '',
    database: opts.database,
    connectTimeout: Math.max(1, opts.connectTimeoutMs),
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    // Debian's root@localhost authenticates by the peer's uid on the socket; nothing to send.
    authPlugins: { unix_socket: () => () => Buffer.alloc(0) },
    ssl: opts.ssl && mysql2Ssl(opts.ssl),
    stream: net && (() => {
      const sock = net.connect(opts.port ?? 3306, opts.host ?? 'localhost');
      sock.setNoDelay(true);
      sock.once('connect', () => { accepted = true; });
      // mysql2 gives TLS no server name for an address (SNI takes names only), and Node then
      // checks the certificate against "localhost": with the address here it checks the address
      // that was dialled (a name is checked as the name, through mysql2's servername).
      if (opts.ssl && net.isIP(opts.host ?? '')) (sock as unknown as { _host: string })._host = opts.host!;
      return sock;
    }),
  }).then((c) => { conn = c as unknown as Mysql2Connection; return conn; });
  try {
    await bounded(pending, opts.connectTimeoutMs + 50, opts.signal, `connecting to ${target}`, () => {
      // The connection object may still arrive after we gave up; destroy it then.
      pending.then((c) => c.destroy(), () => undefined);
    });
  } catch (e) {
    const err = toSqlError(e, 'connect', secrets, net ? accepted : undefined);
    const tls = opts.ssl && describeTlsFailure(err.code, err.message);
    if (tls) throw new SqlError(`connecting to ${target}: ${tls}`, err.errno, err.code, err.kind, err.connected);
    if (err.kind !== 'timeout' || err.connected === undefined) throw err;
    const how = err.connected ? 'the connection was accepted, then the server did not answer' : 'nothing answered the TCP connect';
    throw new SqlError(`${err.message} (${how})`, err.errno, err.code, err.kind, err.connected);
  }
  const c = conn!;
  // Set once a statement ran out of time. The server may still be working on it, or be stuck in
  // it: the session is destroyed, and the statements that follow fail at once instead of queuing
  // behind it (mysql2 runs one statement at a time) and each waiting its own timeout.
  let abandoned: string | undefined;
  const query = async (stmt: string | Statement, timeoutMs = opts.queryTimeoutMs): Promise<Row[]> => {
    const s = typeof stmt === 'string' ? { sql: stmt } : stmt;
    const what = statementLabel(s.sql);
    if (abandoned) throw new SqlError(`${what} not sent: ${abandoned}`, undefined, 'ETIMEDOUT', 'timeout', true);
    try {
      const [rows] = await bounded(c.query({ sql: s.sql, values: s.values, timeout: Math.max(1, timeoutMs) }),
        timeoutMs + 50, opts.signal, what, () => c.destroy());
      return Array.isArray(rows) ? (rows as Row[]) : [];
    } catch (e) {
      const err = toSqlError(e, 'query', secrets, true);
      if (err.kind !== 'timeout') throw err;
      c.destroy();
      // mysql2's own timer says only "Query inactivity timeout".
      const msg = err.code === 'PROTOCOL_SEQUENCE_TIMEOUT' ? `${what} timed out after ${timeoutMs} ms` : err.message;
      abandoned = `the session was closed when ${msg}`;
      throw new SqlError(msg, err.errno, err.code, 'timeout', true);
    }
  };
  return {
    query,
    exec: async (stmt, timeoutMs) => { await query(stmt, timeoutMs); },
    close: async () => {
      if (abandoned) return;
      try { await bounded(c.end(), 500, undefined, 'closing', () => c.destroy()); } catch { c.destroy(); }
    },
  };
};
