// The server process: its command line (pure), starting it detached, finding it by pid file and
// stopping it within the deadline.
import { type Deadline, sleep } from '../deadline.ts';
import type { Logger } from '../log.ts';
import { normalize } from 'node:path';
import { isAlive, procCmdline, procComm, procState, readPidFile, signal } from '../daemon.ts';
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
  /**
   * This server was the last primary (the cluster's record of the last promotion names it): its
   * crash recovery keeps everything in its binary log instead of running as a semi-sync replica's.
   */
  lastPrimary?: boolean;
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
  // they would come back as errant transactions when the old primary rejoins. MariaDB 10.11 only
  // truncates the binary log when the role is also given as SLAVE (seen in the lab: a powered-off
  // primary's unacknowledged commit came back and its rejoin was refused).
  // Not for the last primary itself: recovery rolls back every transaction whose engine commit was
  // not yet durable, acknowledged or not (seen in the lab: a kill -9'd primary lost its last
  // acknowledged commit, which only a replica then held, or, running asynchronously, nobody). Its
  // transactions are the cluster's newest history; a node promoted after it is recorded instead.
  if (c.semisync && c.flavour === 'mariadb' && !c.lastPrimary) a.push('--rpl-semi-sync-slave-enabled=ON', '--init-rpl-role=SLAVE');
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

/** A path as a command line may spell it: no trailing slash, no "//" or "/./". */
const samePath = (a: string, b: string) => normalize(a).replace(/(.)\/+$/, '$1') === normalize(b).replace(/(.)\/+$/, '$1');

/**
 * Was this command line started for this instance: does it name this pid file or this datadir
 * (--pid-file=, --pid_file=, --datadir=, either as one argument or followed by the value)?
 */
export function isInstanceCmdline(argv: readonly string[], pidFile: string, datadir?: string): boolean {
  const wanted: Array<[string[], string | undefined]> = [[['--pid-file', '--pid_file'], pidFile], [['--datadir'], datadir]];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    for (const [names, path] of wanted) {
      if (!path) continue;
      for (const n of names) {
        if (a.startsWith(`${n}=`) && samePath(a.slice(n.length + 1), path)) return true;
        if (a === n && argv[i + 1] !== undefined && samePath(argv[i + 1]!, path)) return true;
      }
    }
  }
  return false;
}

/**
 * The server process named by the pid file, if it is alive, is a database server, and was started
 * for this instance: its command line names this pid file or this datadir. A stale pid file whose
 * pid now belongs to another program, or to another instance's server, does not count (stop would
 * signal it); neither does a process whose command line cannot be read.
 */
export function findServer(pidFile: string, binary: string, datadir?: string): ServerProcess | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  const comm = procComm(pid);
  const own = binary.split('/').pop()!.slice(0, 15);
  if (comm !== undefined && comm !== own && !SERVER_COMMS.has(comm)) return undefined;
  const argv = procCmdline(pid);
  if (!argv || !isInstanceCmdline(argv, pidFile, datadir)) return undefined;
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
