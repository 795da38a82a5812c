// The power engine: the one place that decides what on, off, reboot, status, monitor and list
// mean for every vigil fence agent. An agent only says how to read and set the power of its
// device (FenceDevice); the engine owns delay, power_wait, verification, retries and the
// "Success:" / "Status:" lines. Time is injected (Clock) so tests run a 20 s power_timeout in
// microseconds, and an AbortSignal bounds the whole action.
//
// Rules (fence-agents' fence_action() with its weak spots fixed):
// - on/off: read the state first; if it already is the requested one, say so and succeed.
//   Otherwise set it, wait power_wait, then poll every stonith_status_sleep until the state is
//   the requested one or power_timeout passes. A timeout is a failure, never a success.
// - on gets 1 + retry_on attempts, as the action and as the second half of a reboot (a BMC may
//   drop an "on" sent too soon after an "off"); failed attempts are stonith_status_sleep apart.
// - reboot = off, verify off, on, verify on. Once off is verified the node is fenced: if it does
//   not come back on, that is logged as an error but the reboot succeeds, as in fence-agents.
//   power_wait guards against a device that reports OFF before the power is really off, so it
//   follows the off; the on half is polled at once (a stale OFF just means one more poll), because
//   the whole cluster waits for the reboot's result before it recovers anything (2 s in the lab).
//   method=cycle uses the device's cycle command when it has one; the off in between cannot be
//   verified, which the option's description says.
// - status prints the state and exits 0 (on) or 2 (off); monitor only proves the device answers.
// - delay applies to off and reboot only, counted from the agent's start.
// - Errors while polling are tolerated until power_timeout (a BMC may be busy while switching)
//   and reported with the timeout; errors before any change fail the action at once.
import type { Logger } from '../log.ts';
import { sleep } from '../deadline.ts';
import { FenceError } from './errors.ts';

export type PowerState = 'on' | 'off';

/** What every device callback receives. */
export interface DeviceCall {
  signal: AbortSignal;
  log: Logger;
}

export interface PlugEntry { id: string; alias?: string; status?: PowerState | 'unknown' }

/** The agent's side: how to talk to one device. Throw a FenceError to fail with a message. */
export interface FenceDevice {
  getPower(call: DeviceCall): Promise<PowerState>;
  setPower(call: DeviceCall, state: PowerState): Promise<void>;
  /** One command that powers off and on again (method=cycle). */
  cycle?(call: DeviceCall): Promise<void>;
  /** The plugs (machines) this device controls; without it list prints nothing. */
  list?(call: DeviceCall): Promise<readonly PlugEntry[]>;
  /** Proof that the device answers; defaults to getPower. */
  monitor?(call: DeviceCall): Promise<void>;
  /**
   * For devices that cannot be polled for "off" (fence_ssh mode=self: a node that is off cannot
   * answer, and one that does not answer is not proven off): carry out off or reboot and prove
   * it, or throw. Called after delay and the status read, instead of set-and-poll.
   */
  changeAndProve?(call: DeviceCall, action: 'off' | 'reboot'): Promise<void>;
  /** Release connections; called once when the action is over, whatever happened. */
  close?(): void | Promise<void>;
}

export interface EngineTiming {
  delayMs: number;
  powerWaitMs: number;
  powerTimeoutMs: number;
  statusSleepMs: number;
  retryOn: number;
  method: 'onoff' | 'cycle';
}

export interface Clock {
  now(): number;
  /** Sleep; returns early (without throwing) when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
export const realClock: Clock = { now: () => Date.now(), sleep };

export const ENGINE_ACTIONS = ['on', 'off', 'reboot', 'status', 'monitor', 'list', 'list-status'] as const;
export type EngineAction = (typeof ENGINE_ACTIONS)[number];

export interface EngineRequest {
  action: EngineAction;
  device: FenceDevice;
  timing: EngineTiming;
  log: Logger;
  signal: AbortSignal;
  clock?: Clock;
  /** When the agent started (clock time), for delay. */
  startedAt?: number;
  /** Field separator of list output. */
  separator?: string;
}

export interface EngineResult {
  /** 0 success; 2 only for status when the target is off. Failures are thrown. */
  code: 0 | 2;
  /** Lines for stdout. */
  lines: string[];
}

const upper = (s: PowerState) => s.toUpperCase();
const secs = (ms: number) => `${Math.round(ms) / 1000} s`;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface Verification { reached: boolean; lastSeen?: PowerState; lastError?: string }

export async function runPowerAction(req: EngineRequest): Promise<EngineResult> {
  const { device, timing, log, signal } = req;
  const clock = req.clock ?? realClock;
  const call: DeviceCall = { signal, log };
  const checkAborted = () => {
    if (signal.aborted) throw new FenceError('device', `${req.action} did not finish within its time budget`);
  };

  /** Poll until the state is `target` or power_timeout passes; the last poll runs at the deadline. */
  const waitForState = async (target: PowerState): Promise<Verification> => {
    const until = clock.now() + timing.powerTimeoutMs;
    const v: Verification = { reached: false };
    for (;;) {
      try {
        v.lastSeen = await device.getPower(call);
        if (v.lastSeen === target) { v.reached = true; return v; }
        log.debug(`power is ${v.lastSeen}, waiting for ${target}`);
      } catch (e) {
        v.lastError = message(e);
        log.debug(`status failed while waiting for ${target}: ${v.lastError}`);
      }
      const left = until - clock.now();
      if (left <= 0 || signal.aborted) return v;
      await clock.sleep(Math.min(timing.statusSleepMs, left), signal);
    }
  };

  const setAndVerify = async (target: PowerState, attempts: number, waitMs = timing.powerWaitMs): Promise<Verification> => {
    let v: Verification = { reached: false };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      checkAborted();
      try {
        log.debug(`setting power ${target} (attempt ${attempt}/${attempts})`);
        await device.setPower(call, target);
      } catch (e) {
        if (attempt === attempts) throw e;
        log.warn(`power ${target} failed (attempt ${attempt}/${attempts}): ${message(e)}`);
        await clock.sleep(timing.statusSleepMs, signal);
        continue;
      }
      if (waitMs > 0) await clock.sleep(waitMs, signal);
      v = await waitForState(target);
      if (v.reached) return v;
      if (attempt < attempts) {
        log.warn(`power still ${v.lastSeen ?? 'unknown'} ${secs(timing.powerTimeoutMs)} after power ${target} `
          + `(attempt ${attempt}/${attempts}); trying again`);
      }
    }
    return v;
  };

  const timedOut = (target: PowerState, v: Verification): FenceError => new FenceError('power-timeout',
    `Timed out waiting to power ${upper(target)}: power_timeout ${secs(timing.powerTimeoutMs)} passed`
    + `${v.lastSeen ? `, last state seen ${upper(v.lastSeen)}` : ''}${v.lastError ? `, last error: ${v.lastError}` : ''}`);

  switch (req.action) {
    case 'list':
    case 'list-status': {
      if (!device.list) return { code: 0, lines: [] };
      const sep = req.separator ?? ',';
      const entries = await device.list(call);
      return {
        code: 0,
        lines: entries.map((p) => [p.id, p.alias ?? '', ...(req.action === 'list-status'
          ? [(p.status ?? 'unknown').toUpperCase()] : [])].join(sep)),
      };
    }
    case 'monitor':
      if (device.monitor) await device.monitor(call);
      else await device.getPower(call);
      return { code: 0, lines: [] };
    case 'status': {
      const s = await device.getPower(call);
      return { code: s === 'on' ? 0 : 2, lines: [`Status: ${upper(s)}`] };
    }
    default:
      break;
  }

  // on, off, reboot change power: Pacemaker's delay goes first (it breaks fence races in two-node clusters).
  if ((req.action === 'off' || req.action === 'reboot') && timing.delayMs > 0) {
    const wait = (req.startedAt ?? clock.now()) + timing.delayMs - clock.now();
    if (wait > 0) {
      log.info(`delay: waiting ${secs(wait)} before fencing`);
      await clock.sleep(wait, signal);
      checkAborted();
    }
  }

  const status = await device.getPower(call);
  log.debug(`power is ${status} before ${req.action}`);

  if (device.changeAndProve && (req.action === 'reboot' || (req.action === 'off' && status !== 'off'))) {
    await device.changeAndProve(call, req.action);
    return { code: 0, lines: [req.action === 'off' ? 'Success: Powered OFF' : 'Success: Rebooted'] };
  }

  if (req.action === 'on' || req.action === 'off') {
    if (status === req.action) return { code: 0, lines: [`Success: Already ${upper(status)}`] };
    const attempts = req.action === 'on' ? 1 + timing.retryOn : 1;
    const v = await setAndVerify(req.action, attempts);
    if (!v.reached) throw timedOut(req.action, v);
    return { code: 0, lines: [`Success: Powered ${upper(req.action)}`] };
  }

  // reboot
  if (timing.method === 'cycle' && device.cycle) {
    const attempts = 1 + timing.retryOn;
    for (let attempt = 1; ; attempt++) {
      checkAborted();
      try { await device.cycle(call); break; } catch (e) {
        if (attempt >= attempts) throw e;
        log.warn(`power cycle failed (attempt ${attempt}/${attempts}): ${message(e)}`);
      }
    }
    if (timing.powerWaitMs > 0) await clock.sleep(timing.powerWaitMs, signal);
    const on = await waitForState('on');
    if (!on.reached) log.error(`power cycle was accepted but the power is not ON after ${secs(timing.powerTimeoutMs)}`);
    return { code: 0, lines: ['Success: Rebooted'] };
  }
  if (timing.method === 'cycle') log.warn('method=cycle: this device has no cycle command; using off and on');

  if (status !== 'off') {
    const off = await setAndVerify('off', 1);
    if (!off.reached) throw timedOut('off', off);
    log.info('power is OFF (verified); powering on');
  }
  try {
    const on = await setAndVerify('on', 1 + timing.retryOn, 0);
    if (!on.reached) log.error(`${timedOut('on', on).message}; the node stays off, which is what fencing needs`);
  } catch (e) {
    log.error(`power on after off failed: ${message(e)}; the node stays off, which is what fencing needs`);
  }
  return { code: 0, lines: ['Success: Rebooted'] };
}
