// The OCF runtime: one call, runAgent(definition), turns a declarative agent into a program that
// Pacemaker can run. It owns dispatch, parameter parsing and validation, the action deadline,
// probe detection, logging set-up, the ocf-exit-reason line and every exit code. Agent code only
// returns a code or throws an OcfError; nothing below this file calls process.exit.
import { Logger } from '../log.ts';
import { redact } from '../exec.ts';
import { Deadline } from '../deadline.ts';
import { OCF, OcfError, OCF_NAMES, type OcfCode } from './codes.ts';
import { parseParams, type ParamProblem, type ParamTable, type ParamValues } from './params.ts';
import { metadataXml, type ActionSpec } from './metadata.ts';
import { parseNotify, type NotifyEvent } from './notify.ts';
import { helpText } from './help.ts';
import { ocfManPage } from './man.ts';

export interface AgentContext<T extends ParamTable> {
  action: string;
  params: ParamValues<T>;
  log: Logger;
  deadline: Deadline;
  signal: AbortSignal;
  /** Recurring interval in ms; 0 for one-shot operations and probes. */
  intervalMs: number;
  /** A monitor with interval 0: Pacemaker asking "is it running here?" before it decides anything. */
  isProbe: boolean;
  /** OCF_CHECK_LEVEL (monitor depth): 0, 10, 20. */
  checkLevel: number;
  /** OCF_RESOURCE_INSTANCE, e.g. "vip" or "db:1". */
  instance: string;
  /** The node this operation runs on, when Pacemaker says. */
  nodeName?: string;
  notify?: NotifyEvent;
  env: NodeJS.ProcessEnv;
  /** A meta attribute, e.g. meta('clone_max'). */
  meta(name: string): string | undefined;
}

export type ActionHandler<T extends ParamTable> = (ctx: AgentContext<T>) => Promise<OcfCode | number | void>;

export interface ActionDefinition<T extends ParamTable> {
  run: ActionHandler<T>;
  /** The entries this action contributes to meta-data (monitor may have one per depth or role). */
  meta: ActionSpec[];
}

export interface AgentDefinition<T extends ParamTable> {
  name: string;
  version: string;
  shortdesc: string;
  longdesc: string;
  params: T;
  actions: Record<string, ActionDefinition<T>>;
  /** Checks that need the host (binaries, interfaces, files); used by validate-all and before start. */
  validate?: ActionHandler<T>;
  /** Examples for the man page and --help (pcs commands). */
  examples?: string[];
}

export function defineAgent<const T extends ParamTable>(d: AgentDefinition<T>): AgentDefinition<T> { return d; }

export function describeAgent<T extends ParamTable>(d: AgentDefinition<T>) {
  const actions: Array<readonly [string, ActionSpec]> = [];
  for (const [name, a] of Object.entries(d.actions)) for (const m of a.meta) actions.push([name, m]);
  actions.push(['meta-data', { timeout: 5 }]);
  if (!('validate-all' in d.actions)) actions.push(['validate-all', { timeout: 20 }]);
  return { name: d.name, version: d.version, shortdesc: d.shortdesc, longdesc: d.longdesc, params: d.params, actions };
}

/**
 * Time an action may use. Pacemaker kills the agent at the operation timeout; we stop a little
 * earlier so the failure carries a reason instead of being a bare timeout.
 */
export function actionBudgetMs(timeoutMs: number): number {
  return Math.max(timeoutMs - Math.min(2000, timeoutMs * 0.1), 100);
}

const int = (s: string | undefined, dflt: number): number => {
  const n = Number(s);
  return s !== undefined && s !== '' && Number.isFinite(n) ? n : dflt;
};

export interface RunOutcome { code: number; reason?: string; stdout?: string }

/** Run one action and return its outcome; does not exit (testable). */
export async function executeAgent<T extends ParamTable>(
  d: AgentDefinition<T>, argv: readonly string[], env: NodeJS.ProcessEnv, logger?: Logger,
): Promise<RunOutcome> {
  const action = argv[0] ?? '';
  if (action === 'meta-data' || action === 'metadata') return { code: OCF.SUCCESS, stdout: metadataXml(describeAgent(d)) };
  if (action === 'manpage') return { code: OCF.SUCCESS, stdout: ocfManPage(describeAgent(d), 'vigil', d.examples) };
  if (action === 'usage' || action === 'help' || action === '--help' || action === '-h') {
    return { code: OCF.SUCCESS, stdout: helpText(d) };
  }
  const instance = env.OCF_RESOURCE_INSTANCE ?? d.name;
  const debug = env.HA_DEBUG === '1' || env.OCF_TRACE_RA === '1';
  const log = logger ?? new Logger({
    tag: `${d.name}(${instance})`,
    stderrLevel: debug ? 'debug' : 'info',
    files: [env.HA_LOGFILE, debug ? env.HA_DEBUGLOG : undefined].filter((f): f is string => !!f),
    fileLevel: debug ? 'debug' : 'info',
    syslogFacility: env.HA_LOGFACILITY,
  });
  const handler = action === 'validate-all' && !d.actions['validate-all'] ? undefined : d.actions[action];
  if (!handler && action !== 'validate-all') {
    return { code: OCF.ERR_UNIMPLEMENTED, reason: `action "${action}" is not supported by ${d.name}; use one of: ${[...Object.keys(d.actions), 'validate-all', 'meta-data'].join(', ')}` };
  }
  const intervalMs = int(env.OCF_RESKEY_CRM_meta_interval, 0);
  const isProbe = action === 'monitor' && intervalMs === 0;
  const specTimeout = handler?.meta[0]?.timeout ?? 20;
  const timeoutMs = int(env.OCF_RESKEY_CRM_meta_timeout, specTimeout * 1000);
  const deadline = new Deadline(actionBudgetMs(timeoutMs));
  const { values, problems } = parseParams(d.params, env);
  for (const [name, spec] of Object.entries(d.params)) if (spec.secret) log.hide(env[`OCF_RESKEY_${name}`]);
  const ctx: AgentContext<T> = {
    action, params: values, log, deadline, signal: deadline.signal, intervalMs, isProbe,
    checkLevel: int(env.OCF_CHECK_LEVEL, 0), instance, nodeName: env.OCF_RESKEY_CRM_meta_on_node,
    notify: action === 'notify' ? parseNotify(env) : undefined, env,
    meta: (name) => env[`OCF_RESKEY_CRM_meta_${name}`],
  };
  try {
    if (problems.length > 0) {
      const early = onInvalidParams(action, isProbe, problems, log);
      if (early) return early;
    }
    let code: OcfCode | number | void;
    if (action === 'validate-all' && !handler) code = d.validate ? await d.validate(ctx) : OCF.SUCCESS;
    else {
      if (action === 'start' && d.validate) {
        const v = await d.validate(ctx);
        if (v !== undefined && v !== OCF.SUCCESS) return { code: v, reason: 'validation failed' };
      }
      code = await withGuard(handler!.run(ctx), deadline, action);
    }
    return { code: code ?? OCF.SUCCESS };
  } catch (e) {
    // The reason ends up in the CIB and in crm_mon: it gets the same redaction as the log.
    if (e instanceof OcfError) return { code: e.code, reason: redact(e.message, log.hidden) };
    log.debug(`unexpected error: ${(e as Error).stack ?? String(e)}`);
    return { code: OCF.ERR_GENERIC, reason: redact(`${action} failed: ${(e as Error).message ?? String(e)}`, log.hidden) };
  } finally {
    deadline.dispose();
  }
}

/**
 * What invalid parameters mean depends on the action. A resource with a broken configuration was
 * never started by this agent (start validates first), so stop has nothing to do (and a failed stop
 * would get the node fenced) and a probe can truthfully say "not running"; start and everything
 * else fail with OCF_ERR_CONFIGURED so Pacemaker stops trying everywhere and shows the reason.
 */
function onInvalidParams(action: string, isProbe: boolean, problems: ParamProblem[], log: Logger): RunOutcome | undefined {
  const reason = problems.map((p) => p.reason).join('; ');
  if (action === 'stop') {
    log.warn(`invalid parameters (${reason}); a resource with this configuration cannot be running: stop succeeds`);
    return { code: OCF.SUCCESS };
  }
  if (isProbe) {
    log.warn(`invalid parameters (${reason}); probe reports not running`);
    return { code: OCF.NOT_RUNNING };
  }
  return { code: OCF.ERR_CONFIGURED, reason };
}

async function withGuard<R>(p: Promise<R>, deadline: Deadline, action: string): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    // Handlers pass deadline.signal to every wait; this is the backstop if one does not.
    timer = setTimeout(() => reject(new OcfError(OCF.ERR_GENERIC,
      `${action} did not finish within its ${deadline.budgetMs} ms budget (raise the operation timeout or look for a hung dependency)`)),
    deadline.remaining() + 250);
  });
  try { return await Promise.race([p, guard]); } finally { clearTimeout(timer); }
}

/** Entry point of every OCF agent bundle. The only place that exits. */
export async function runAgent<T extends ParamTable>(d: AgentDefinition<T>): Promise<never> {
  const out = await executeAgent(d, process.argv.slice(2), process.env);
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.reason) {
    const prefix = process.env.OCF_EXIT_REASON_PREFIX ?? 'ocf-exit-reason:';
    process.stderr.write(`${prefix}${out.reason}\n`);
  }
  if (process.env.HA_DEBUG === '1') process.stderr.write(`DEBUG: exit ${out.code} (${OCF_NAMES[out.code] ?? '?'})\n`);
  process.exit(out.code);
}
