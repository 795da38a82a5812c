// The one way vigil runs other programs: argument arrays only (never a shell string), every run
// bounded by a timeout and an AbortSignal (which end the program's whole process group) and its
// output by a size, secrets passed through the environment or stdin.
//
// We use node:child_process directly rather than execa: agents start once per operation and
// execa's module graph costs several milliseconds of start-up on every monitor, for features
// (pipelines, template strings) an agent must not use anyway.
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Kill the child's whole process group (SIGKILL) after this many milliseconds. Required: nothing waits forever. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Extra environment, merged over process.env (use for secrets such as IPMI_PASSWORD). */
  env?: Record<string, string | undefined>;
  /** Replace the environment entirely instead of merging. */
  cleanEnv?: boolean;
  cwd?: string;
  /** Values to hide if they ever appear in an error message built from this run. */
  secrets?: readonly string[];
  /** Bytes kept of stdout and of stderr each (default OUTPUT_LIMIT_BYTES); the rest is read and dropped. */
  maxOutputBytes?: number;
}

export interface RunResult {
  command: string;
  args: readonly string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The program could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
  durationMs: number;
  /** stdout or stderr went past maxOutputBytes: what was kept ends with a line saying how much was dropped. */
  truncated?: boolean;
}

export type Runner = (command: string, args: readonly string[], opts: RunOptions) => Promise<RunResult>;

/** Replace every secret by `[hidden]`. Used on anything that may reach a log or an exception. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length > 0) out = out.split(s).join('[hidden]');
  }
  return out;
}

/**
 * Per stream. Far above anything the programs we run print (the largest, cibadmin's crm_config
 * section or an ipmitool sensor list, is a few kB), and small enough that a program gone wrong
 * (a password_script printing a file, a tool in a loop) cannot make an agent hold hundreds of MB.
 */
export const OUTPUT_LIMIT_BYTES = 1024 * 1024;

/**
 * After the program exits, how long its stdout and stderr may stay open (ms): the data is already
 * in the pipes, so only a process it left behind can hold them longer.
 */
const PIPE_GRACE_MS = 100;

/** After a SIGKILL to the group, how long to wait for the pipes to close before abandoning them. */
const KILL_GRACE_MS = 250;

/** Process groups of children still running, killed if the agent exits first (process.exit). */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try { process.kill(-pid, 'SIGKILL'); } catch { /* the group is gone */ }
}

/** Output of one stream, bounded: the first `limit` bytes are kept, the rest only counted. */
class Capped {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  constructor(private readonly limit: number) {}
  add(b: Buffer): void {
    const room = this.limit - this.kept;
    if (room >= b.length) { this.chunks.push(b); this.kept += b.length; return; }
    if (room > 0) { this.chunks.push(b.subarray(0, room)); this.kept += room; }
    this.dropped += b.length - Math.max(0, room);
  }
  text(): string {
    const s = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped ? `${s}\n[output truncated: ${this.dropped} more bytes were discarded]\n` : s;
  }
}

/**
 * Every child runs in its own process group (detached: a new session), so a timeout or an abort
 * kills everything it started: a password_script's helper that inherited the pipes would
 * otherwise keep them open, and this promise pending, for as long as it lives. For the same
 * reason, once the program itself has exited, whatever it left in its group still holding the
 * pipes is killed after PIPE_GRACE_MS (a daemon meant to outlive it detaches and closes them, as
 * daemons do). A descendant that escaped the group (setsid) and keeps the pipes is not waited for:
 * the pipes are abandoned after KILL_GRACE_MS.
 */
export const run: Runner = (command, args, opts) =>
  new Promise((resolve) => {
    const started = Date.now();
    const limit = Math.max(0, opts.maxOutputBytes ?? OUTPUT_LIMIT_BYTES);
    const out = new Capped(limit);
    const err = new Capped(limit);
    let timedOut = false;
    let settled = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const env = opts.cleanEnv ? { ...opts.env } : { ...process.env, ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    let child: ReturnType<typeof spawn>;
    const finish = (r: Partial<RunResult>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (child?.pid) liveGroups.delete(child.pid);
      const truncated = out.dropped > 0 || err.dropped > 0;
      resolve({
        command, args, code: null, signal: null, stdout: out.text(), stderr: err.text(), timedOut,
        durationMs: Date.now() - started, ...(truncated ? { truncated } : {}), ...r,
      });
    };
    try {
      child = spawn(command, args as string[], {
        env: env as NodeJS.ProcessEnv,
        cwd: opts.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (e) {
      resolve({ command, args, code: null, signal: null, stdout: '', stderr: '', timedOut: false,
        spawnError: (e as Error).message, durationMs: 0 });
      return;
    }
    const pid = child.pid;
    if (pid) {
      liveGroups.add(pid);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', () => { for (const g of liveGroups) killGroup(g); });
      }
    }
    /** Stop waiting for pipes that something outside our reach keeps open. */
    const abandonPipes = () => {
      child.stdout!.destroy();
      child.stderr!.destroy();
      finish(exited ?? {});
    };
    const kill = () => {
      if (pid) killGroup(pid);
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
      clearTimeout(graceTimer);
      graceTimer = setTimeout(abandonPipes, KILL_GRACE_MS);
    };
    const timer = setTimeout(() => { timedOut = true; kill(); }, Math.max(0, opts.timeoutMs));
    const onAbort = () => { timedOut = true; kill(); };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (d: Buffer) => out.add(d));
    child.stderr!.on('data', (d: Buffer) => err.add(d));
    child.stdin!.on('error', () => { /* child exited before reading its input */ });
    child.stdin!.end(opts.input ?? '');
    child.on('error', (e: NodeJS.ErrnoException) => finish({ spawnError: `${e.code ?? ''} ${e.message}`.trim() }));
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      if (settled || timedOut) return;
      graceTimer = setTimeout(() => {
        // Something still holds the pipes. While a member of the group lives, its id cannot be
        // given to another process; if none does (the holder escaped with setsid), the kill finds
        // no group, unless the pid was recycled for a new session leader within these 100 ms.
        if (pid) killGroup(pid);
        graceTimer = setTimeout(abandonPipes, KILL_GRACE_MS);
      }, PIPE_GRACE_MS);
    });
    child.on('close', (code, signal) => finish({ code, signal }));
  });

/** One line that says what happened, safe to log: program, exit status, first line of stderr. */
export function describeResult(r: RunResult, secrets: readonly string[] = []): string {
  const what = `${r.command} ${r.args.join(' ')}`;
  let how: string;
  if (r.spawnError) how = `could not be run: ${r.spawnError}`;
  else if (r.timedOut) how = `timed out after ${r.durationMs} ms`;
  else if (r.signal) how = `was killed by ${r.signal}`;
  else how = `exited with ${r.code}`;
  const err = r.stderr.trim().split('\n').filter(Boolean).slice(-1)[0];
  return redact(`${what} ${how}${err ? `: ${err}` : ''}`, secrets);
}
