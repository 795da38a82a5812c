// Starting a long-running server from an agent, and asking the kernel about processes by pid.
// lib/exec.ts runs programs to completion; a database server must outlive the agent that starts
// it, so it is spawned here: argument array only, its own session (setsid), stdin from
// /dev/null, stdout/stderr appended to a file, no inherited descriptors, not waited for.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export interface DetachedOptions {
  /** File that receives the program's stdout and stderr (appended); /dev/null when unset. */
  outputFile?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Start `command` in a new session and return its pid at once; throws if it cannot be spawned. */
export function spawnDetached(command: string, args: readonly string[], opts: DetachedOptions = {}): Promise<number> {
  const out = openSync(opts.outputFile ?? '/dev/null', 'a');
  const env = { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, args as string[], {
        detached: true, stdio: ['ignore', out, out], env: env as NodeJS.ProcessEnv, cwd: opts.cwd,
      });
    } catch (e) {
      closeSync(out);
      reject(e as Error);
      return;
    }
    child.once('error', (e) => { closeSync(out); reject(e); });
    child.once('spawn', () => {
      closeSync(out);
      child.unref();
      resolve(child.pid!);
    });
  });
}

export type ProcState = 'running' | 'stopped' | 'zombie' | 'gone';

/**
 * State of a pid from /proc/<pid>/stat. A zombie counts as gone for every purpose of ours (the
 * machine's init may reap orphans lazily, and `kill -0` succeeds on zombies). 'stopped' is a
 * process frozen by SIGSTOP (T) or a tracer (t).
 */
export function procState(pid: number): ProcState {
  if (!Number.isInteger(pid) || pid <= 1) return 'gone';
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return 'gone'; }
  const s = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (s === 'Z' || s === 'X' || s === 'x') return 'zombie';
  if (s === 'T' || s === 't') return 'stopped';
  return 'running';
}

export const isAlive = (pid: number): boolean => {
  const s = procState(pid);
  return s === 'running' || s === 'stopped';
};

/** The executable name the kernel has for a pid (/proc/<pid>/comm, at most 15 characters). */
export function procComm(pid: number): string | undefined {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return undefined; }
}

/** The argument vector of a pid (/proc/<pid>/cmdline), or undefined when it cannot be read or is empty (a zombie). */
export function procCmdline(pid: number): string[] | undefined {
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  let raw: string;
  try { raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return undefined; }
  const argv = raw.split('\0');
  if (argv.at(-1) === '') argv.pop();
  return argv.length ? argv : undefined;
}

/** A pid file's pid, or undefined when the file is missing, empty or not a number. */
export function readPidFile(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const n = Number(readFileSync(path, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch { return undefined; }
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try { process.kill(pid, sig); return true; } catch { return false; }
}
