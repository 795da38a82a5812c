// The SQL client: mysql2 in-process, loaded on first use only (its module graph costs ~20 ms of
// start-up that meta-data, stop and a stopped probe must never pay). Every call is bounded twice:
// by mysql2's own timeouts and by our guard, which destroys the socket when the action's deadline
// or AbortSignal fires, so a server frozen with SIGSTOP (its kernel still accepts connections
// into the backlog) can never hang an action.
import { redact } from '../exec.ts';
import type { Statement } from './sql/types.ts';
import type { Row } from './status.ts';

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
}

export interface SqlClient {
  query(stmt: string | Statement, timeoutMs?: number): Promise<Row[]>;
  /** Like query, for statements whose result does not matter. */
  exec(stmt: string | Statement, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A failed connect or query, without the statement text (which may hold a password). */
export class SqlError extends Error {
  constructor(message: string, readonly errno: number | undefined, readonly code: string | undefined,
    readonly kind: 'connect' | 'query' | 'timeout') {
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

function toSqlError(e: unknown, kind: SqlError['kind'], secrets: readonly (string | undefined)[]): SqlError {
  if (e instanceof SqlError) return e;
  const err = e as { message?: string; errno?: number; code?: string; sqlMessage?: string };
  const msg = redact(err.sqlMessage ?? err.message ?? String(e), secrets);
  const timeout = err.code === 'PROTOCOL_SEQUENCE_TIMEOUT' || err.code === 'ETIMEDOUT';
  return new SqlError(msg, err.errno, err.code, timeout ? 'timeout' : kind);
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
  }).then((c) => { conn = c as unknown as Mysql2Connection; return conn; });
  try {
    await bounded(pending, opts.connectTimeoutMs + 50, opts.signal, `connecting to ${target}`, () => {
      // The connection object may still arrive after we gave up; destroy it then.
      pending.then((c) => c.destroy(), () => undefined);
    });
  } catch (e) {
    throw toSqlError(e, 'connect', secrets);
  }
  const c = conn!;
  const query = async (stmt: string | Statement, timeoutMs = opts.queryTimeoutMs): Promise<Row[]> => {
    const s = typeof stmt === 'string' ? { sql: stmt } : stmt;
    try {
      const [rows] = await bounded(c.query({ sql: s.sql, values: s.values, timeout: Math.max(1, timeoutMs) }),
        timeoutMs + 50, opts.signal, 'query', () => c.destroy());
      return Array.isArray(rows) ? (rows as Row[]) : [];
    } catch (e) {
      throw toSqlError(e, 'query', secrets);
    }
  };
  return {
    query,
    exec: async (stmt, timeoutMs) => { await query(stmt, timeoutMs); },
    close: async () => {
      try { await bounded(c.end(), 500, undefined, 'closing', () => c.destroy()); } catch { c.destroy(); }
    },
  };
};
