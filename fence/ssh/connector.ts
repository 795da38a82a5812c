// Turning fence_ssh's options into SSH connections. The devices (self.ts, host.ts) only see a
// Connector, so their logic is tested with fake sessions and a fake clock.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { Logger } from '../../lib/log.ts';
import { hostPort, loadIdentity, sshConnect, type SshCredentials, type SshSession } from '../../lib/ssh/client.ts';
import { parsePins, type HostKeyExpectation } from '../../lib/ssh/hostkeys.ts';

export interface ConnectCall { signal: AbortSignal; log: Logger; timeoutMs: number }

export interface Connector {
  /** "user@host:port", for messages. */
  readonly where: string;
  connect(c: ConnectCall): Promise<SshSession>;
}

export interface ConnectionSettings {
  ip: string;
  ipport: number;
  username: string;
  password?: string;
  identity_file?: string;
  /** Agent socket; already defaulted from SSH_AUTH_SOCK by the caller. */
  ssh_agent?: string;
  known_hosts: string;
  host_key?: string;
  shell_timeout: number;
}

/** "~/x" is the running user's home ($HOME, else the password database). */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
}

/** What the host key must be: pinned fingerprints, or the known_hosts file as it is now. */
export function hostKeyExpectation(s: ConnectionSettings): HostKeyExpectation {
  const base = { host: s.ip, port: s.ipport };
  if (s.host_key) return { ...base, pins: parsePins(s.host_key).pins };
  const path = expandHome(s.known_hosts);
  try {
    return { ...base, knownHosts: { path, text: readFileSync(path, 'utf8') } };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ...base, knownHosts: { path, problem: code === 'ENOENT' ? 'file missing' : `cannot read it: ${code ?? (e as Error).message}` } };
  }
}

/**
 * Keepalives detect a machine that died without closing the connection (sysrq off sends no FIN):
 * three unanswered in a row end the session, so the gap is a quarter of shell_timeout, within
 * 0.2..1 s.
 */
export const keepaliveMs = (shellTimeoutS: number): number => Math.min(1000, Math.max(200, Math.round(shellTimeoutS * 1000 / 4)));

export function sshConnector(s: ConnectionSettings): Connector {
  const hostKey = hostKeyExpectation(s);
  let credentials: Promise<SshCredentials> | undefined;
  const prepare = async (): Promise<SshCredentials> => ({
    ...(s.identity_file ? { key: await loadIdentity(expandHome(s.identity_file), s.password) } : {}),
    ...(s.password !== undefined && s.password !== '' ? { password: s.password } : {}),
    ...(s.ssh_agent ? { agent: s.ssh_agent } : {}),
  });
  return {
    where: `${s.username}@${hostPort(s.ip, s.ipport)}`,
    async connect(c) {
      credentials ??= prepare();
      return sshConnect({
        host: s.ip, port: s.ipport, username: s.username, credentials: await credentials, hostKey,
        timeoutMs: c.timeoutMs, keepaliveMs: keepaliveMs(s.shell_timeout), signal: c.signal,
        debug: (m) => c.log.debug(m),
      });
    },
  };
}
