// The fence runtime: runFenceAgent(definition) turns a declarative fence agent into a program
// that Pacemaker, stonith_admin, pcs and an operator at a shell can all run. It owns option
// parsing (argv or stdin), logging and redaction, help/metadata/manpage, validation,
// password_script, the action budget, the power engine and every exit code (0, 1, 2 for status
// off). Agent code supplies the option table and a device with getPower/setPower; nothing below
// this file calls process.exit.
import { appendFileSync, fstatSync, readFileSync } from 'node:fs';
import { Logger, type Level, type LogEntry } from '../log.ts';
import { Deadline } from '../deadline.ts';
import { run as realRun, type Runner } from '../exec.ts';
import { FenceError } from './errors.ts';
import { ENGINE_ACTIONS, realClock, runPowerAction, type Clock, type EngineAction, type EngineTiming, type FenceDevice } from './engine.ts';
import { fenceMetadataXml, type FenceDescription } from './metadata.ts';
import { helpText, manPage } from './docs.ts';
import { missingRequired, parseArgv, parseBoolean, parseStdin, typeOptions, type RawOptions } from './parse.ts';
import type { FenceValues, OptionTable } from './options.ts';
import { runPasswordScript } from './password.ts';

export interface FenceContext<T extends OptionTable> {
  action: EngineAction | 'validate-all';
  options: FenceValues<T>;
  /** Options the operator gave (not defaults). */
  given: ReadonlySet<string>;
  log: Logger;
  /** Aborts when the action's budget is spent; pass it to everything that waits. */
  signal: AbortSignal;
  /** The only way to run programs (lib/exec.ts run, or a fake in tests). */
  runner: Runner;
  env: NodeJS.ProcessEnv;
}

export interface FenceAgentDefinition<T extends OptionTable> {
  name: string;
  version: string;
  shortdesc: string;
  longdesc: string;
  vendorUrl?: string;
  symlinks?: ReadonlyArray<readonly [string, string]>;
  options: T;
  /**
   * The device controls several machines and can list them. Only then is `list` advertised in
   * the metadata: Pacemaker's default host check becomes dynamic-list when it is, and a device
   * that lists nothing could then never fence anyone.
   */
  listable?: boolean;
  /** Rules across options (a required pair, exclusive options). Pure; a reason per problem. */
  check?: (o: FenceValues<T>, given: ReadonlySet<string>) => string[];
  /** Local prerequisites (a binary exists); run by validate-all and before device actions. */
  prerequisites?: (ctx: FenceContext<T>) => Promise<string[]>;
  /** How long one device call may take at most, in ms: feeds the action's budget. */
  callBudgetMs?: (o: FenceValues<T>) => number;
  /** Open the device for one action. */
  device: (ctx: FenceContext<T>) => FenceDevice | Promise<FenceDevice>;
  examples?: string[];
  notes?: string[];
}

export function defineFenceAgent<const T extends OptionTable>(d: FenceAgentDefinition<T>): FenceAgentDefinition<T> { return d; }

export const ALL_ACTIONS = [...ENGINE_ACTIONS, 'metadata', 'manpage', 'validate-all'] as const;

/** Actions in metadata order; list and list-status only for devices that can list. */
export function advertisedActions(d: { listable?: boolean }): string[] {
  return ['on', 'off', 'reboot', 'status', ...(d.listable ? ['list', 'list-status'] : []),
    'monitor', 'metadata', 'manpage', 'validate-all'];
}

export function describeFenceAgent<T extends OptionTable>(d: FenceAgentDefinition<T>): FenceDescription {
  return {
    name: d.name, shortdesc: d.shortdesc, longdesc: d.longdesc, vendorUrl: d.vendorUrl, symlinks: d.symlinks,
    options: d.options, actions: advertisedActions(d),
  };
}

type Loose = Record<string, unknown>;
const num = (o: Loose, k: string, dflt: number): number => (typeof o[k] === 'number' ? o[k] as number : dflt);

/** The engine's timing from the shared power-timing group (defaults when an agent lacks it). */
export function engineTiming(o: Loose): EngineTiming {
  return {
    delayMs: num(o, 'delay', 0) * 1000,
    powerWaitMs: num(o, 'power_wait', 0) * 1000,
    powerTimeoutMs: num(o, 'power_timeout', 20) * 1000,
    statusSleepMs: num(o, 'stonith_status_sleep', 1) * 1000,
    retryOn: num(o, 'retry_on', 1),
    method: o.method === 'cycle' ? 'cycle' : 'onoff',
  };
}

/**
 * The most an action can legitimately take: every step is already bounded (each device call by
 * callMs, each verification by power_timeout); this is the backstop that aborts everything.
 */
export function actionBudgetMs(action: string, t: EngineTiming, callMs: number): number {
  const change = (attempts: number) => attempts * (2 * callMs + t.powerWaitMs + t.powerTimeoutMs + t.statusSleepMs);
  const slack = 2000;
  switch (action) {
    case 'on': return callMs + change(1 + t.retryOn) + slack;
    case 'off': return t.delayMs + callMs + change(1) + slack;
    case 'reboot': return t.delayMs + callMs + change(1) + change(1 + t.retryOn) + slack;
    default: return callMs + slack;
  }
}

export interface ExecuteOptions {
  argv: readonly string[];
  /** Standard input, read only when there are no arguments. */
  stdin?: () => string | Promise<string>;
  env?: NodeJS.ProcessEnv;
  runner?: Runner;
  clock?: Clock;
  /** Receives every log line after redaction (tests); default: stderr and debug_file. */
  logSink?: (e: LogEntry) => void;
  /** When the agent started, for delay. */
  startedAt?: number;
}

export interface FenceOutcome { code: number; stdout: string }

const LEVEL_ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const LEVEL_LABEL: Record<Level, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

function makeLogger(tag: string, o: Loose, verboseLevel: number, sink?: (e: LogEntry) => void): Logger {
  if (sink) return new Logger({ tag, sink });
  const stderrMin: Level = verboseLevel > 0 ? 'debug' : 'warn';
  const quiet = o.quiet === true;
  const file = typeof o.debug_file === 'string' && o.debug_file !== '' ? o.debug_file : undefined;
  let fileFailed = false;
  return new Logger({
    tag,
    sink: (e) => {
      if (!quiet && LEVEL_ORDER[e.level] >= LEVEL_ORDER[stderrMin]) process.stderr.write(`${LEVEL_LABEL[e.level]}: ${e.message}\n`);
      if (file && !fileFailed) {
        try { appendDebug(file, `${e.time.toISOString()} ${tag}[${process.pid}] ${LEVEL_LABEL[e.level]}: ${e.message}\n`); } catch (err) {
          fileFailed = true;
          process.stderr.write(`WARNING: cannot write debug_file ${file}: ${(err as Error).message}\n`);
        }
      }
    },
  });
}

// mode 0600: a debug file may hold device addresses and user names, never passwords (redacted).
function appendDebug(file: string, line: string): void {
  appendFileSync(file, line, { mode: 0o600 });
}

/** Run one invocation and return its outcome; does not exit (testable). */
export async function executeFenceAgent<T extends OptionTable>(
  d: FenceAgentDefinition<T>, x: ExecuteOptions,
): Promise<FenceOutcome> {
  const clock = x.clock ?? realClock;
  const startedAt = x.startedAt ?? clock.now();
  const env = x.env ?? process.env;
  const fromArgv = x.argv.length > 0;
  let input = '';
  if (!fromArgv && x.stdin) {
    try { input = await x.stdin(); } catch (e) {
      // No logger exists yet (its options come from this input): say it plainly and fail.
      process.stderr.write(`ERROR: Failed: ${(e as Error).message}\n`);
      return { code: 1, stdout: '' };
    }
  }
  const raw: RawOptions = fromArgv ? parseArgv(d.options, x.argv) : parseStdin(d.options, input);
  const typed = typeOptions(d.options, raw);
  const o = { ...typed.values } as Loose;

  const verboseLevel = typeof o.verbose_level === 'number' ? o.verbose_level
    : fromArgv ? (raw.counts.get('verbose') ?? 0) : (o.verbose === true ? 1 : 0);
  const log = makeLogger(d.name, o, verboseLevel, x.logSink);
  // Secrets are registered before anything is logged, whatever else is wrong with the input.
  for (const [key, spec] of Object.entries(d.options)) {
    const v = raw.values.get(key);
    if (spec.secret && typeof v === 'string') log.hide(v);
  }

  for (const w of raw.warnings) log.warn(w);
  for (const n of raw.notes) log.debug(n);
  if (raw.positional.length) log.warn(`unused arguments on the command line: ${raw.positional.join(' ')}`);
  if (fromArgv && raw.values.has('password')) {
    log.warn('a password on the command line is visible to every user in the process list; use stdin or --password-script');
  }

  const description = describeFenceAgent(d);
  if (o.help === true) return { code: 0, stdout: helpText(description) };
  if (o.version === true) return { code: 0, stdout: `${d.name} ${d.version}\n` };

  let action = String(o.action ?? 'reboot').toLowerCase();
  if (action === 'meta-data') action = 'metadata';
  if (raw.errors.length) {
    for (const e of raw.errors) log.error(`Parse error: ${e}`);
    log.error(`Please use '-h' for usage`);
    return { code: 1, stdout: '' };
  }
  if (action === 'metadata') return { code: 0, stdout: fenceMetadataXml(description) };
  if (action === 'manpage') return { code: 0, stdout: manPage(description, d.version, { examples: d.examples, notes: d.notes }) };
  if (!(ALL_ACTIONS as readonly string[]).includes(action)) {
    log.error(`Unrecognised action '${action}'; use one of: ${ALL_ACTIONS.join(', ')}`);
    return { code: 1, stdout: '' };
  }
  if (o.disable_timeout !== undefined && parseBoolean(String(o.disable_timeout))) {
    log.debug('disable_timeout is ignored: every step keeps its timeout');
  }
  // port_as_ip: the node name Pacemaker passes as port/plug is the device's address.
  if (o.port_as_ip === true && typeof o.plug === 'string' && o.plug !== '') o.ip = o.plug;

  const values = o as FenceValues<T>;
  const problems = [...typed.problems, ...missingRequired(d.options, typed.given), ...(d.check?.(values, typed.given) ?? [])];
  const timing = engineTiming(o);
  const callMs = d.callBudgetMs?.(values) ?? (num(o, 'login_timeout', 5) + num(o, 'shell_timeout', 3)) * 1000;
  const deadline = new Deadline(actionBudgetMs(action, timing, callMs) + num(o, 'login_timeout', 5) * 1000);
  const ctx: FenceContext<T> = {
    action: action as FenceContext<T>['action'], options: values, given: typed.given, log,
    signal: deadline.signal, runner: x.runner ?? realRun, env,
  };
  try {
    if (action === 'validate-all') {
      if (problems.length === 0 && d.prerequisites) problems.push(...await d.prerequisites(ctx));
      for (const p of problems) log.error(p);
      return { code: problems.length ? 1 : 0, stdout: '' };
    }
    if (problems.length) {
      for (const p of problems) log.error(`Failed: ${p}`);
      return { code: 1, stdout: '' };
    }
    if (d.prerequisites) {
      const missing = await d.prerequisites(ctx);
      if (missing.length) { for (const p of missing) log.error(`Failed: ${p}`); return { code: 1, stdout: '' }; }
    }
    if (typeof o.password_script === 'string' && o.password_script !== '' && 'password' in d.options) {
      const pw = await runPasswordScript(o.password_script, ctx.runner, {
        timeoutMs: num(o, 'login_timeout', 5) * 1000, signal: deadline.signal,
      });
      log.hide(pw);
      o.password = pw;
    }
    const device = await d.device(ctx);
    try {
      const result = await runPowerAction({
        action: action as EngineAction, device, timing, log, signal: deadline.signal, clock, startedAt,
        separator: typeof o.separator === 'string' ? o.separator : ',',
      });
      return { code: result.code, stdout: result.lines.map((l) => `${l}\n`).join('') };
    } finally {
      try { await device.close?.(); } catch (e) { log.debug(`closing the device: ${(e as Error)?.message ?? String(e)}`); }
    }
  } catch (e) {
    if (e instanceof FenceError) log.error(`Failed: ${e.message}`);
    else {
      log.error(`Failed: ${action}: ${(e as Error)?.message ?? String(e)}`);
      log.debug(`unexpected error: ${(e as Error)?.stack ?? String(e)}`);
    }
    return { code: 1, stdout: '' };
  } finally {
    deadline.dispose();
  }
}

/**
 * All of stdin. Pacemaker writes the options and closes the pipe at once; a parent that never
 * closes it must not hang the agent, so a pipe or socket gets STDIN_TIMEOUT_MS to reach its end.
 * A terminal (an operator typing) waits for Ctrl-D; a file is read at once.
 */
export const STDIN_TIMEOUT_MS = 30_000;
export async function readStdin(timeoutMs = STDIN_TIMEOUT_MS): Promise<string> {
  let st: ReturnType<typeof fstatSync> | undefined;
  try { st = fstatSync(0); } catch { return ''; } // no stdin at all: no options
  if (process.stdin.isTTY) {
    process.stderr.write('No options given: reading name=value lines from stdin (end with Ctrl-D; -h for help)\n');
  } else if (st.isFIFO() || st.isSocket()) {
    return readStream(process.stdin, timeoutMs);
  }
  try { return readFileSync(0, 'utf8'); } catch { return ''; }
}

export function readStream(stream: NodeJS.ReadableStream, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      stream.removeAllListeners('data');
      reject(new FenceError('usage', `standard input did not end within ${timeoutMs / 1000} s: give the options as name=value lines and close stdin, or use command-line options`));
    }, timeoutMs);
    stream.on('data', (c: Buffer | string) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
    stream.on('end', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')); });
    stream.on('error', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

/** Entry point of every fence agent bundle. The only place that exits. */
export async function runFenceAgent<T extends OptionTable>(d: FenceAgentDefinition<T>): Promise<never> {
  const startedAt = Date.now();
  const out = await executeFenceAgent(d, { argv: process.argv.slice(2), stdin: readStdin, startedAt });
  if (out.stdout) process.stdout.write(out.stdout);
  process.exit(out.code);
}
