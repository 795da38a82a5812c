// The server process: its command line (pure), starting it detached, finding it by pid file and
// stopping it within the deadline.
import { type Deadline, sleep } from '../deadline.ts';
import type { Logger } from '../log.ts';
import { isAlive, procComm, procState, readPidFile, signal } from '../daemon.ts';
import type { FlavourName } from './flavour.ts';

export interface ServerConfig {
  binary: string;
  /** Option file (--defaults-file); the server's own search order when unset. */
  config?: string;
  datadir: string;
  socket: string;
  port: number;
  pidFile: string;
  user: string;
  log?: string;
  additionalParameters: readonly string[];
  flavour: FlavourName;
  /** Semi-synchronous replication (the semisync parameter). */
  semisync?: boolean;
}

/**
 * The server's argv. Read-only and no replica threads from the first moment: a server that comes
 * up writable could take a write before anything could flip it, and a replica thread started from
 * a stale configuration could pull from a former primary.
 */
export function serverArgs(c: ServerConfig, runningAsRoot = true): string[] {
  const a: string[] = [];
  if (c.config) a.push(`--defaults-file=${c.config}`); // must come first
  a.push(`--datadir=${c.datadir}`, `--pid-file=${c.pidFile}`, `--socket=${c.socket}`, `--port=${c.port}`);
  if (runningAsRoot) a.push(`--user=${c.user}`);
  a.push('--read-only');
  if (c.flavour !== 'mariadb') a.push('--super-read-only');
  a.push(c.flavour === 'mysql84' ? '--skip-replica-start' : '--skip-slave-start');
  // MariaDB: a server started as a semi-sync replica runs its crash recovery as one, rolling back
  // transactions a crashed primary wrote to its binary log but no replica acknowledged; without it
  // they would come back as errant transactions when the old primary rejoins.
  if (c.semisync && c.flavour === 'mariadb') a.push('--rpl-semi-sync-slave-enabled=ON');
  if (c.log) a.push(`--log-error=${c.log}`);
  a.push(...c.additionalParameters);
  return a;
}

/** Split additional_parameters: whitespace-separated options, no shell quoting. */
export function splitParameters(s: string | undefined): string[] {
  return (s ?? '').split(/\s+/).filter(Boolean);
}

/** Names the kernel may show for a server we started (comm is cut at 15 characters). */
const SERVER_COMMS = new Set(['mariadbd', 'mysqld', 'mariadb', 'mysqld-debug']);

export interface ServerProcess { pid: number; frozen: boolean }

/**
 * The server process named by the pid file, if it is alive and is a database server (a recycled
 * pid of another program does not count).
 */
export function findServer(pidFile: string, binary: string): ServerProcess | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  const comm = procComm(pid);
  const own = binary.split('/').pop()!.slice(0, 15);
  if (comm !== undefined && comm !== own && !SERVER_COMMS.has(comm)) return undefined;
  return { pid, frozen: procState(pid) === 'stopped' };
}

/** When to give up on a clean shutdown: leave this much of the budget for SIGKILL and reaping. */
export function killMarginMs(budgetMs: number): number {
  return Math.min(1500, Math.max(200, Math.floor(budgetMs * 0.25)));
}

export type StopOutcome = 'clean' | 'killed' | 'survived';

/**
 * SIGTERM is the server's clean shutdown (it finishes or rolls back transactions, flushes, and
 * removes its pid file). Wait for it while the deadline allows; only when too little time is left
 * for anything else, SIGKILL, and say so: a killed server recovers from its redo log at next start.
 */
export async function stopProcess(pid: number, deadline: Deadline, log: Logger, pollMs = 100): Promise<StopOutcome> {
  if (!isAlive(pid)) return 'clean';
  if (procState(pid) === 'stopped') log.warn(`server pid ${pid} is frozen (SIGSTOP); a clean shutdown cannot proceed until it is continued`);
  signal(pid, 'SIGTERM');
  const margin = killMarginMs(deadline.budgetMs);
  while (deadline.remaining() > margin) {
    if (!isAlive(pid)) return 'clean';
    await sleep(Math.min(pollMs, deadline.remaining() - margin), deadline.signal);
  }
  if (!isAlive(pid)) return 'clean';
  log.error(`server pid ${pid} did not shut down within ${deadline.elapsed()} ms of SIGTERM; sending SIGKILL (crash recovery will run at next start)`);
  signal(pid, 'SIGKILL');
  // SIGKILL also ends a stopped process; the kernel needs a moment to tear it down.
  const until = Date.now() + Math.max(100, deadline.remaining());
  while (Date.now() < until) {
    if (!isAlive(pid)) return 'killed';
    await sleep(20);
  }
  return isAlive(pid) ? 'survived' : 'killed';
}
