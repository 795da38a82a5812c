// A thin SSH client over ssh2, for agents that log in, run a command or two and leave.
//
// - ssh2 is loaded only when a connection is made (`await import`), by file, so an agent's
//   metadata, help and validate-all never pay for it and the bundle leaves out ssh2's server.
// - We open the TCP socket ourselves with TCP_NODELAY: ssh2 does not set it, and every SSH
//   request/response step then waits for the peer's delayed ACK (about 40 ms each; measured
//   313 ms per connection against 73 ms with it).
// - One timer bounds the whole login (TCP, banner, key exchange, host key, authentication) and
//   says which step it stopped in: "nothing answered" and "something answered but would not
//   speak SSH" are different failures and callers act on the difference.
// - Host keys are always verified (lib/ssh/hostkeys.ts); there is no way to skip it.
// - Secrets (password, key, passphrase) never appear in an error or debug message.
import { connect as netConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Ssh2AuthAttempt, Ssh2Channel } from 'ssh2/lib/client.js';
import type { ParsedKey } from 'ssh2/lib/protocol/keyParser.js';
import {
  algorithmsForKeyType, fingerprint, knownKeyTypes, verifyHostKey,
  type HostKeyExpectation, type HostKeyVerdict,
} from './hostkeys.ts';

export type SshFailure =
  /** TCP RST: the address answered, nothing listens on the port. */
  | 'refused'
  /** Nothing answered the TCP connection at all in the time allowed. */
  | 'silent'
  /** The network reported the host unreachable: nobody answered ARP/ND for it. */
  | 'unreachable'
  /** Our own side cannot send there (no route, interface down): says nothing about the target. */
  | 'no-route'
  /** The name does not resolve: says nothing about the target either. */
  | 'dns'
  /** TCP was accepted but no SSH identification line came. */
  | 'no-banner'
  /** SSH started but the key exchange failed or did not finish. */
  | 'handshake'
  /** The host key is not the expected one. */
  | 'host-key'
  /** The server refused every credential we have. */
  | 'auth'
  /** The server closed the connection, or it broke. */
  | 'closed'
  /** The caller's signal aborted the attempt. */
  | 'aborted'
  /** A local problem with the identity file or the agent socket. */
  | 'credentials';

export class SshError extends Error {
  constructor(
    readonly kind: SshFailure,
    message: string,
    /** The server proved who it is (host key verified) before this failure. */
    readonly hostKeyVerified = false,
  ) {
    super(message);
    this.name = 'SshError';
  }
}

/**
 * Nothing at the address answered: what a powered-off or cut-off machine looks like. Failures
 * that come from our own side (no route, no DNS) are not silence: they prove nothing about the target.
 */
export const isSilence = (e: unknown): boolean =>
  e instanceof SshError && (e.kind === 'silent' || e.kind === 'unreachable');

export interface SshCredentials {
  /** A parsed private key (see loadIdentity) and a label for messages (its path). */
  key?: { parsed: ParsedKey; label: string };
  password?: string;
  /** Path of an ssh-agent socket. */
  agent?: string;
}

/**
 * Read and parse an identity file once (an encrypted key costs a bcrypt-pbkdf run; agents that
 * reconnect while polling must not pay it every time). The passphrase is the login password,
 * as in fence-agents.
 */
export async function loadIdentity(path: string, passphrase?: string): Promise<{ parsed: ParsedKey; label: string }> {
  let data: Buffer;
  try { data = readFileSync(path); } catch (e) {
    throw new SshError('credentials', `cannot read identity_file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // A CommonJS module: Node's ESM loader offers module.exports as the default export.
  const keyParser = await import('ssh2/lib/protocol/keyParser.js');
  const parseKey = keyParser.parseKey ?? keyParser.default.parseKey;
  let parsed = parseKey(data, passphrase);
  if (parsed instanceof Error) {
    const m = parsed.message;
    if (/no passphrase given/i.test(m)) {
      throw new SshError('credentials', `identity_file ${path} is encrypted: give its passphrase as password (stdin or password_script)`);
    }
    if (passphrase && /decrypt|bad|passphrase|integrity/i.test(m)) {
      throw new SshError('credentials', `identity_file ${path}: cannot decrypt it with the given passphrase`);
    }
    throw new SshError('credentials', `identity_file ${path} is not a private key ssh2 can read (${m.replace(passphrase ?? '\0', '[hidden]')})`);
  }
  if (Array.isArray(parsed)) parsed = parsed[0]!;
  if (!parsed.isPrivateKey()) throw new SshError('credentials', `identity_file ${path} holds a public key, not a private key`);
  return { parsed, label: path };
}

export interface SshConnectOptions {
  host: string;
  port: number;
  username: string;
  credentials: SshCredentials;
  hostKey: HostKeyExpectation;
  /** Bounds the whole login: TCP connect, banner, key exchange, authentication. */
  timeoutMs: number;
  /** Send a keepalive after this much silence; 3 unanswered in a row end the session. */
  keepaliveMs?: number;
  signal?: AbortSignal;
  debug?: (msg: string) => void;
  /** Default true. false exists only so the benchmark can show what TCP_NODELAY saves. */
  tcpNoDelay?: boolean;
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export type DropOutcome =
  /** The connection went away after the command was sent. `accepted`: the server had confirmed it. */
  | { kind: 'dropped'; how: string; accepted: boolean; afterMs: number; exitCode?: number | null }
  /** The command ended with a failure status and the connection is still up. */
  | { kind: 'failed'; code: number | null; signal?: string; stdout: string; stderr: string; afterMs: number }
  /** Neither: the connection was still up when the time ran out. */
  | { kind: 'stayed'; exitCode?: number | null; afterMs: number }
  /** The server would not run the command (channel or exec request refused). */
  | { kind: 'rejected'; reason: string };

export interface SshSession {
  readonly where: string;
  readonly serverIdent?: string;
  readonly hostKey: { fingerprint: string; keyType: string; how: string };
  readonly alive: boolean;
  exec(command: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<ExecResult>;
  /** Run a command that should take the machine (and so this connection) down. */
  execExpectingDrop(command: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<DropOutcome>;
  close(): void;
}

type Phase = 'tcp' | 'banner' | 'kex' | 'auth';
const MAX_OUTPUT = 1 << 20;

export const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

const secs = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export function socketFailure(code: string | undefined, where: string, port: number, message: string): [SshFailure, string] {
  switch (code) {
    case 'ECONNREFUSED': return ['refused', `${where} refused the connection (the host answered; nothing listens on port ${port})`];
    case 'EHOSTUNREACH': case 'EHOSTDOWN':
      return ['unreachable', `${where} is unreachable (${code}: nothing answers for that address)`];
    case 'ENETUNREACH': case 'ENETDOWN':
      return ['no-route', `cannot reach ${where} from here (${code}: no route or our interface is down)`];
    case 'ETIMEDOUT': return ['silent', `no answer from ${where} (${code})`];
    case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_FAIL': return ['dns', `cannot resolve ${where.replace(/:\d+$/, '')} (${code})`];
    case 'ECONNRESET': case 'EPIPE': return ['closed', `${where} reset the connection`];
    default: return ['closed', `connection to ${where} failed: ${code ?? message}`];
  }
}

export async function sshConnect(o: SshConnectOptions): Promise<SshSession> {
  const where = hostPort(o.host, o.port);
  if (o.signal?.aborted) throw new SshError('aborted', `not connecting to ${where}: the time budget is spent`);
  const { default: Client } = await import('ssh2/lib/client.js');
  const debug = o.debug ?? (() => undefined);
  const started = Date.now();
  const known = knownKeyTypes(o.hostKey);
  // Offer first the key types known_hosts has for this host, so the server presents one we can check.
  const preferred = known.flatMap(algorithmsForKeyType);

  return new Promise<SshSession>((resolve, reject) => {
    let phase: Phase = 'tcp';
    let verdict: HostKeyVerdict | undefined;
    let ident: string | undefined;
    let settled = false;
    let serverMethods: string[] | undefined;
    const tried: string[] = [];
    const notes: string[] = [];
    const noDelay = o.tcpNoDelay ?? true;
    const sock: Socket = netConnect({ host: o.host, port: o.port, noDelay });
    sock.setNoDelay(noDelay);
    const client = new Client();

    const cleanup = () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (kind: SshFailure, message: string) => {
      if (settled) return;
      settled = true;
      cleanup();
      try { client.destroy(); } catch { /* not connected */ }
      sock.destroy();
      debug(`ssh ${where}: ${kind} after ${Date.now() - started} ms in step ${phase}`);
      reject(new SshError(kind, message, verdict?.ok === true));
    };
    const onTimeout = () => {
      const t = secs(o.timeoutMs);
      switch (phase) {
        case 'tcp': return fail('silent', `no answer from ${where} within ${t} (TCP connect)`);
        case 'banner': return fail('no-banner', `${where} accepted the TCP connection but sent no SSH banner within ${t}`);
        case 'kex': return fail('handshake', `${where} (${ident ?? 'no ident'}) did not finish the SSH key exchange within ${t}`);
        case 'auth': return fail('auth', `${where} did not finish authentication within ${t}${tried.length ? ` (tried ${tried.join(', ')})` : ''}`);
      }
    };
    const timer = setTimeout(onTimeout, Math.max(0, o.timeoutMs));
    const onAbort = () => fail('aborted', `connecting to ${where} stopped: the action's time budget is spent`);
    o.signal?.addEventListener('abort', onAbort, { once: true });

    sock.once('connect', () => { phase = 'banner'; debug(`ssh ${where}: TCP connected in ${Date.now() - started} ms`); });

    const attempts: Array<{ label: string; method: string; attempt: Ssh2AuthAttempt }> = [];
    const c = o.credentials;
    if (c.key) {
      const pub = c.key.parsed.getPublicSSH();
      attempts.push({ method: 'publickey', label: `publickey ${c.key.label} (${c.key.parsed.type} ${fingerprint(pub)})`,
        attempt: { type: 'publickey', username: o.username, key: c.key.parsed } });
    }
    if (c.agent) attempts.push({ method: 'publickey', label: `ssh-agent ${c.agent}`, attempt: { type: 'agent', username: o.username, agent: c.agent } });
    if (c.password !== undefined) {
      const password = c.password;
      attempts.push({ method: 'password', label: 'password', attempt: { type: 'password', username: o.username, password } });
      let asked = 0;
      attempts.push({ method: 'keyboard-interactive', label: 'keyboard-interactive', attempt: {
        type: 'keyboard-interactive', username: o.username,
        // One round of answers; a server that asks again has refused them.
        prompt: (_n, _i, _l, prompts, finish) => finish(asked++ ? [] : prompts.map((p) => (p.echo ? o.username : password))),
      } });
    }

    client.on('error', (err: Error & { level?: string; code?: string | number }) => {
      if (settled) return;
      const level = err.level ?? '';
      if (level === 'agent' || (level === 'client-authentication' && !/All configured authentication methods failed/.test(err.message))) {
        notes.push(err.message); // one method failed locally; ssh2 goes on with the next
        debug(`ssh ${where}: ${level}: ${err.message}`);
        return;
      }
      if (verdict && !verdict.ok) return fail('host-key', verdict.reason);
      if (level === 'client-socket') {
        const [kind, msg] = socketFailure(typeof err.code === 'string' ? err.code : undefined, where, o.port, err.message);
        return fail(phase === 'tcp' || kind !== 'closed' ? kind : 'closed', phase === 'tcp' || kind !== 'closed' ? msg : `${msg} during ${phase === 'banner' ? 'the banner' : phase === 'kex' ? 'the key exchange' : 'authentication'}`);
      }
      if (level === 'client-authentication') {
        const offered = serverMethods ? `; the server accepts: ${serverMethods.join(',')}` : '';
        const none = tried.length ? `tried ${tried.join(', ')}` : 'no credential matches what the server accepts';
        return fail('auth', `${o.username}@${where} refused the login (${none}${offered})${notes.length ? `; ${notes.join('; ')}` : ''}`);
      }
      if (level === 'client-timeout' && /Keepalive/i.test(err.message)) return fail('closed', `${where} stopped answering during login`);
      if (phase === 'auth') return fail('auth', `${where} ended the login: ${err.message}`);
      if (phase === 'banner' && /lost before handshake/i.test(err.message)) {
        return fail('no-banner', `${where} accepted the TCP connection and closed it without an SSH banner`);
      }
      return fail('handshake', `SSH handshake with ${where}${ident ? ` (${ident})` : ''} failed: ${err.message}`);
    });
    client.on('handshake', () => { phase = 'auth'; debug(`ssh ${where}: key exchange done in ${Date.now() - started} ms`); });
    client.on('close', () => {
      if (verdict && !verdict.ok) return fail('host-key', verdict.reason);
      fail(phase === 'banner' ? 'no-banner' : 'closed', phase === 'banner'
        ? `${where} accepted the TCP connection and closed it without an SSH banner`
        : `${where} closed the connection during ${phase === 'tcp' ? 'connect' : phase === 'kex' ? 'the key exchange' : 'authentication'}`);
    });
    client.on('ready', () => {
      if (settled) { client.destroy(); return; }
      settled = true;
      cleanup();
      debug(`ssh ${where}: logged in as ${o.username} with ${tried[tried.length - 1] ?? '?'} in ${Date.now() - started} ms`);
      const v = verdict as HostKeyVerdict & { ok: true };
      resolve(new Session(client, sock, where, ident, { fingerprint: v.fingerprint, keyType: v.keyType, how: v.how }));
    });

    client.connect({
      sock,
      username: o.username,
      readyTimeout: 0,
      keepaliveInterval: o.keepaliveMs ?? 0,
      keepaliveCountMax: 2,
      ...(preferred.length ? { algorithms: { serverHostKey: preferred } } : {}),
      hostVerifier: (key, verify) => {
        verdict = verifyHostKey(o.hostKey, key);
        debug(`ssh ${where}: host key ${verdict.keyType} ${verdict.fingerprint}: ${verdict.ok ? `verified (${verdict.how})` : verdict.kind}`);
        verify(verdict.ok);
      },
      authHandler: (methodsLeft) => {
        if (methodsLeft) serverMethods = methodsLeft;
        for (let next = attempts.shift(); next; next = attempts.shift()) {
          if (methodsLeft && !methodsLeft.includes(next.method)) continue;
          tried.push(next.label);
          debug(`ssh ${where}: trying ${next.label}`);
          return next.attempt;
        }
        return false;
      },
    });
    // Attached after connect(): ssh2 has paused the socket, so this listener misses nothing and
    // steals nothing. The first bytes are the server's identification line.
    sock.on('data', function banner(d: Buffer) {
      if (phase === 'banner') phase = 'kex';
      if (!ident) {
        const line = d.toString('latin1').split('\n').find((l) => l.startsWith('SSH-'));
        if (line) { ident = line.trim().slice(0, 100); debug(`ssh ${where}: server ${ident}`); }
      }
      if (ident) sock.off('data', banner);
    });
  });
}

class Session implements SshSession {
  alive = true;
  private lastError?: string;
  constructor(
    private readonly client: InstanceType<typeof import('ssh2/lib/client.js').default>,
    private readonly sock: Socket,
    readonly where: string,
    readonly serverIdent: string | undefined,
    readonly hostKey: { fingerprint: string; keyType: string; how: string },
  ) {
    client.on('close', () => { this.alive = false; });
    client.on('error', (e: Error) => { this.lastError = e.message; });
  }

  private open(command: string, cb: (err: Error | undefined, ch?: Ssh2Channel) => void): void {
    try {
      this.client.exec(command, (err, ch) => cb(err, err ? undefined : ch));
    } catch (e) {
      cb(e as Error);
    }
  }

  exec(command: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<ExecResult> {
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      if (!this.alive) { reject(new SshError('closed', `the connection to ${this.where} is closed`)); return; }
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      let sig: string | undefined;
      let channel: Ssh2Channel | undefined;
      let done = false;
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        this.client.off('close', onDrop);
        f();
      };
      const onDrop = () => finish(() => reject(new SshError('closed',
        `${this.where} closed the connection while running the command${this.lastError ? ` (${this.lastError})` : ''}`)));
      const onTimeout = () => finish(() => {
        try { channel?.close(); } catch { /* gone */ }
        resolve({ code: null, stdout, stderr, timedOut: true, ms: Date.now() - t0 });
      });
      const timer = setTimeout(onTimeout, Math.max(0, o.timeoutMs));
      const onAbort = onTimeout;
      if (o.signal?.aborted) { onAbort(); return; }
      o.signal?.addEventListener('abort', onAbort, { once: true });
      this.client.on('close', onDrop);
      this.open(command, (err, ch) => {
        if (err || !ch) {
          finish(() => reject(new SshError(this.alive ? 'handshake' : 'closed', `${this.where} would not run the command: ${err?.message ?? 'no channel'}`)));
          return;
        }
        channel = ch;
        ch.end();
        ch.on('data', (d: Buffer) => { if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8'); });
        ch.stderr.on('data', (d: Buffer) => { if (stderr.length < MAX_OUTPUT) stderr += d.toString('utf8'); });
        ch.on('exit', (c: number | null, s?: string) => { code = c ?? null; sig = s ?? undefined; });
        ch.on('close', () => finish(() => resolve({ code, ...(sig ? { signal: sig } : {}), stdout, stderr, timedOut: false, ms: Date.now() - t0 })));
      });
    });
  }

  execExpectingDrop(command: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<DropOutcome> {
    const t0 = Date.now();
    return new Promise((resolve) => {
      if (!this.alive) { resolve({ kind: 'rejected', reason: `the connection to ${this.where} is already closed` }); return; }
      let accepted = false;
      let exitCode: number | null | undefined;
      let stdout = '';
      let stderr = '';
      let done = false;
      const finish = (r: DropOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onTimeout);
        this.client.off('close', onDrop);
        resolve(r);
      };
      const onDrop = () => finish({ kind: 'dropped', how: this.lastError && /keepalive/i.test(this.lastError)
        ? 'no answer to keepalives' : 'connection closed', accepted, afterMs: Date.now() - t0,
        ...(exitCode !== undefined ? { exitCode } : {}) });
      const onTimeout = () => finish({ kind: 'stayed', afterMs: Date.now() - t0, ...(exitCode !== undefined ? { exitCode } : {}) });
      const timer = setTimeout(onTimeout, Math.max(0, o.timeoutMs));
      if (o.signal?.aborted) { onTimeout(); return; }
      o.signal?.addEventListener('abort', onTimeout, { once: true });
      this.client.on('close', onDrop);
      this.open(command, (err, ch) => {
        if (err || !ch) {
          // A machine that dies at once may take the server's confirmation with it.
          if (!this.alive) return;
          finish({ kind: 'rejected', reason: err?.message ?? 'no channel' });
          return;
        }
        accepted = true;
        ch.end();
        ch.on('data', (d: Buffer) => { if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8'); });
        ch.stderr.on('data', (d: Buffer) => { if (stderr.length < MAX_OUTPUT) stderr += d.toString('utf8'); });
        ch.on('exit', (c: number | null, s?: string) => {
          exitCode = c ?? null;
          // Success may come before the drop (a shutdown that takes a moment): keep waiting for it.
          if (c !== 0) {
            // Let the rest of stderr arrive with the channel's close, unless the connection goes first.
            ch.on('close', () => finish({ kind: 'failed', code: c ?? null, ...(s ? { signal: s } : {}), stdout, stderr, afterMs: Date.now() - t0 }));
          }
        });
      });
    });
  }

  close(): void {
    if (!this.alive) return;
    this.alive = false;
    try { this.client.end(); } catch { /* gone */ }
    // end() sends SSH_MSG_DISCONNECT and half-closes; do not wait for the server's FIN.
    setTimeout(() => this.sock.destroy(), 200).unref();
  }
}
