// The one way vigil runs other programs: argument arrays only (never a shell string), every run
// bounded by a timeout and an AbortSignal, secrets passed through the environment or stdin.
//
// We use node:child_process directly rather than execa: agents start once per operation and
// execa's module graph costs several milliseconds of start-up on every monitor, for features
// (pipelines, template strings) an agent must not use anyway.
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Kill the child (SIGKILL) after this many milliseconds. Required: nothing waits forever. */
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

export const run: Runner = (command, args, opts) =>
  new Promise((resolve) => {
    const started = Date.now();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const env = opts.cleanEnv ? { ...opts.env } : { ...process.env, ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const finish = (r: Partial<RunResult>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        command, args, code: null, signal: null, stdout, stderr, timedOut,
        durationMs: Date.now() - started, ...r,
      });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, args as string[], {
        env: env as NodeJS.ProcessEnv,
        cwd: opts.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      resolve({ command, args, code: null, signal: null, stdout: '', stderr: '', timedOut: false,
        spawnError: (e as Error).message, durationMs: 0 });
      return;
    }
    const kill = () => { try { child.kill('SIGKILL'); } catch { /* already gone */ } };
    const timer = setTimeout(() => { timedOut = true; kill(); }, Math.max(0, opts.timeoutMs));
    const onAbort = () => { timedOut = true; kill(); };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdin!.on('error', () => { /* child exited before reading its input */ });
    child.stdin!.end(opts.input ?? '');
    child.on('error', (e: NodeJS.ErrnoException) => finish({ spawnError: `${e.code ?? ''} ${e.message}`.trim() }));
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
