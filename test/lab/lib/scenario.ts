// What every lab scenario file shares: bringing a lab up for a suite (and always down again),
// waiting on the cluster, the VIP as an operator creates it, and recording timings.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deadline, pollUntil } from '../../../lib/deadline.ts';
import { Lab, LabError, preflightProblems, readConfig, describeStatus, type UpOptions } from './lab.ts';
import { DEFAULT_LAB_DIR, VIP_BASE } from './plan.ts';
import { runningOn, type ClusterStatus } from './crm.ts';
import { vigilMissing, type Stack } from './stacks.ts';

export const VIP = VIP_BASE;
/** corosync token of the scenario labs: corosync 3's default, as operators run it. */
export const SCENARIO_TOKEN_MS = 3000;

const diag = (line: string) => console.log(`# lab: ${line}`);

/**
 * Bring a fresh lab up for a suite. Fails (never skips) with the reason when the machine cannot
 * run it. A lab that fails half-way is torn down before the error is rethrown.
 */
export async function startLab(opts: UpOptions = {}): Promise<Lab> {
  const problems = preflightProblems();
  if (problems.length) throw new LabError(`the lab scenarios cannot run here:\n  - ${problems.join('\n  - ')}`);
  try {
    return await Lab.up({ tokenMs: SCENARIO_TOKEN_MS, fresh: true, log: diag, ...opts });
  } catch (e) {
    await stopLab();
    throw e;
  }
}

/** Tear the lab down (the suite's `after` hook calls this whatever happened). */
export async function stopLab(lab?: Lab): Promise<void> {
  const dir = lab?.config.dir ?? (process.env.VIGIL_LAB_DIR || DEFAULT_LAB_DIR);
  const config = lab?.config ?? readConfig(dir);
  if (config) await new Lab(config, diag).down();
}

/** Fail clearly when a stack's agents are not available (vigil's bundles not built). */
export function requireStack(lab: Lab, stack: Stack): void {
  if (stack.name === 'vigil') {
    const why = vigilMissing(lab);
    if (why) throw new LabError(why);
  }
}

/** Poll crm_mon (from any running node) until `pred` holds; the error shows the last status. */
export async function waitStatus(
  lab: Lab, what: string, pred: (s: ClusterStatus) => boolean, timeoutMs = 60_000, from?: () => string,
): Promise<ClusterStatus> {
  let last: ClusterStatus | undefined;
  const ok = await pollUntil(async () => {
    const node = from?.() ?? lab.anyLiveNode();
    last = await lab.status(node).catch(() => undefined);
    return last && pred(last) ? last : undefined;
  }, 200, new Deadline(timeoutMs));
  if (!ok) throw new LabError(`timed out after ${timeoutMs} ms waiting for ${what}; last status: ${last ? describeStatus(last) +
    ` resources: ${last.resources.map((r) => `${r.id}@[${r.nodes}]${r.failed ? '(failed)' : ''}`).join(' ')}` : 'none'}`);
  return ok;
}

export interface VipOptions {
  id?: string;
  ip?: string;
  cidr?: number;
  /** Extra agent parameters (name=value). */
  params?: string[];
  /** Node to prefer at start. */
  on?: string;
}

/** `pcs resource create` of the stack's VIP agent; waits until it runs and returns the node. */
export async function createVip(lab: Lab, stack: Stack, o: VipOptions = {}): Promise<string> {
  const id = o.id ?? 'vip';
  const node = lab.anyLiveNode();
  const args = ['resource', 'create', id, stack.vipAgent, `ip=${o.ip ?? VIP}`, `cidr_netmask=${o.cidr ?? 24}`, 'nic=eth0',
    ...(o.params ?? []), 'op', 'monitor', 'interval=2s', 'timeout=20s'];
  if (o.on) {
    await lab.pcs(node, [...args, '--disabled']);
    await lab.pcs(node, ['constraint', 'location', id, 'prefers', `${o.on}=100`]);
    await lab.pcs(node, ['resource', 'enable', id]);
  } else {
    await lab.pcs(node, args);
  }
  const st = await waitStatus(lab, `${id} started`, (s) => runningOn(s, id).length === 1, 60_000);
  // The preference only placed it: drop it, so the VIP stays wherever the cluster moves it next.
  if (o.on) await lab.pcs(node, ['constraint', 'remove', `location-${id}-${o.on}-100`]);
  return runningOn(st, id)[0]!;
}

export async function vipNodes(lab: Lab, id = 'vip', from?: string): Promise<string[]> {
  return runningOn(await lab.status(from ?? lab.anyLiveNode()), id);
}

export interface TimingRecord {
  suite: string;
  scenario: string;
  stack: string;
  [metric: string]: string | number | boolean | undefined;
}

/** Append a result to <lab dir>/results.jsonl (read by bench/lab.ts) and print it. */
export function record(lab: Lab, r: TimingRecord): void {
  const line = { at: new Date().toISOString(), nodes: lab.config.nodes, tokenMs: lab.config.tokenMs, ...r };
  appendFileSync(join(lab.config.dir, 'results.jsonl'), JSON.stringify(line) + '\n');
  diag(`result ${JSON.stringify(r)}`);
}

/** Wait until every node is back online with a DC (after a fence reboot). */
export async function waitAllOnline(lab: Lab, timeoutMs = 90_000): Promise<void> {
  await lab.waitReady(timeoutMs);
}
