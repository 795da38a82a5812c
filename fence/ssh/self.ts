// mode=self: log in to the node to fence and stop it from inside. Nothing here may claim more
// than was seen:
// - status: a node that logs us in and prints its boot id is ON. A node we cannot reach is not
//   OFF: it may be off, hung or cut off, so status fails ("cannot tell").
// - off: the off command was accepted, the connection dropped, and then nothing answered at the
//   address (no TCP answer at all, not even a refusal) for power_wait. A refusal means the
//   machine's network stack still runs; a login means it still runs, full stop.
// - reboot: the boot id read before the command must differ from the one the node reports when
//   it answers again. The same boot id is a failure (sshd restarted, the kernel did not). If the
//   node does not come back within power_timeout, the reboot counts only if it was silent for
//   power_wait after the drop (it is off or still booting), and the log says the proof is weaker.
import type { Clock, DeviceCall, FenceDevice, PowerState } from '../../lib/fence/engine.ts';
import { realClock } from '../../lib/fence/engine.ts';
import { FenceError, type FenceErrorKind } from '../../lib/fence/errors.ts';
import { SshError, isSilence, type SshSession } from '../../lib/ssh/client.ts';
import { lastLine, readBootId } from './commands.ts';
import type { Connector } from './connector.ts';

export interface SelfSettings {
  offCommand: string;
  rebootCommand: string;
  bootIdCommand: string;
  loginMs: number;
  shellMs: number;
  powerWaitMs: number;
  powerTimeoutMs: number;
  statusSleepMs: number;
}

export type ProbeKind =
  /** Nothing answered at all. */
  | 'silent'
  /** Something answered (a refusal, a banner, a login without a boot id): the machine runs. */
  | 'answered'
  /** Logged in and read the boot id. */
  | 'up';

export interface Probe { kind: ProbeKind; startedAt: number; endedAt: number; detail: string; bootId?: string }

/**
 * Continuous silence, from the start of the first silent probe of a run to the end of the last
 * one; any answer ends the run. Only observed time counts: the gaps between probes are short
 * (stonith_status_sleep) and bounded by probes on both sides.
 */
export class SilenceWatch {
  private start?: number;
  private end?: number;
  longest = 0;
  add(p: Probe): void {
    if (p.kind !== 'silent') { this.start = undefined; this.end = undefined; return; }
    this.start ??= p.startedAt;
    this.end = p.endedAt;
    this.longest = Math.max(this.longest, this.current);
  }
  get running(): boolean { return this.start !== undefined; }
  get startedAt(): number | undefined { return this.start; }
  get current(): number { return this.start === undefined || this.end === undefined ? 0 : this.end - this.start; }
}

export const secs = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

export function sshFailureKind(e: SshError): FenceErrorKind {
  switch (e.kind) {
    case 'silent': case 'unreachable': case 'refused': case 'no-route': case 'dns': return 'no-answer';
    case 'no-banner': case 'handshake': return 'garbage';
    case 'host-key': return 'config';
    case 'auth': case 'credentials': return 'login-refused';
    default: return 'device';
  }
}

export function selfDevice(connector: Connector, s: SelfSettings, clock: Clock = realClock): FenceDevice {
  const where = connector.where;
  let session: SshSession | undefined;
  let bootIdBefore: string | undefined;
  // Shorter probes say little; longer ones are cut by login_timeout anyway.
  const minProbeMs = Math.min(s.loginMs, 1000);

  const login = async (call: DeviceCall, timeoutMs: number): Promise<SshSession> =>
    connector.connect({ signal: call.signal, log: call.log, timeoutMs });

  const bootIdOn = async (sess: SshSession, call: DeviceCall): Promise<string> => {
    let r;
    try {
      r = await sess.exec(s.bootIdCommand, { timeoutMs: s.shellMs, signal: call.signal });
    } catch (e) {
      if (e instanceof SshError) throw new FenceError('device', `reading the boot id on ${where}: ${e.message}`);
      throw e;
    }
    if (r.timedOut) throw new FenceError('slow', `boot_id_command did not finish within shell_timeout ${secs(s.shellMs)} on ${where}`);
    if (r.code !== 0) {
      throw new FenceError('device', `boot_id_command failed on ${where} (exit ${r.code ?? r.signal ?? '?'}): ${lastLine(r.stderr, r.stdout) || 'no message'}`);
    }
    const id = readBootId(r.stdout);
    if (!id) throw new FenceError('garbage', `boot_id_command printed no boot id on ${where}: ${JSON.stringify(r.stdout.slice(0, 80))}`);
    return id;
  };

  /** One look at the node: silent, answering, or up with its boot id. Never throws for the node's sake. */
  const probe = async (call: DeviceCall, timeoutMs: number): Promise<Probe> => {
    const startedAt = clock.now();
    const done = (kind: ProbeKind, detail: string, bootId?: string): Probe =>
      ({ kind, startedAt, endedAt: clock.now(), detail, ...(bootId ? { bootId } : {}) });
    let sess: SshSession;
    try {
      sess = await login(call, timeoutMs);
    } catch (e) {
      if (!(e instanceof SshError)) throw e;
      if (e.kind === 'aborted') throw new FenceError('power-timeout', `the action's time budget ran out while waiting for ${where}`);
      return done(isSilence(e) ? 'silent' : 'answered', e.message);
    }
    try {
      const id = await bootIdOn(sess, call);
      return done('up', `logged in, boot id ${id}`, id);
    } catch (e) {
      if (e instanceof FenceError) return done('answered', `logged in, but ${e.message}`);
      throw e;
    } finally {
      sess.close();
    }
  };

  const pause = async (call: DeviceCall, ms: number) => { if (ms > 0) await clock.sleep(ms, call.signal); };
  const probeLine = (p: Probe) => `${p.kind} (${p.detail})`;

  const proveOff = async (call: DeviceCall, droppedAt: number): Promise<void> => {
    const watch = new SilenceWatch();
    const silenceBy = droppedAt + s.powerTimeoutMs;
    let probes = 0;
    let last: Probe | undefined;
    for (;;) {
      if (watch.running && watch.current >= s.powerWaitMs) {
        call.log.info(`off proven: off_command accepted, connection dropped, then no answer from ${where} for `
          + `${secs(watch.current)} (power_wait ${secs(s.powerWaitMs)}, ${probes} probe${probes === 1 ? '' : 's'})`);
        return;
      }
      const now = clock.now();
      if ((!watch.running && now >= silenceBy) || call.signal.aborted) {
        throw new FenceError('power-timeout', `${where} still answers ${secs(now - droppedAt)} after off_command `
          + `(${last ? probeLine(last) : 'not probed'}): it is not proven off (power_timeout ${secs(s.powerTimeoutMs)})`);
      }
      const need = watch.running ? watch.startedAt! + s.powerWaitMs - now : s.powerWaitMs;
      const timeoutMs = Math.min(s.loginMs, Math.max(need, minProbeMs));
      const p = await probe(call, timeoutMs);
      probes++;
      last = p;
      call.log.debug(`probe ${probes}, ${secs(p.startedAt - droppedAt)} after the drop: ${probeLine(p)}`);
      if (p.kind === 'up') {
        throw new FenceError('device', bootIdBefore && p.bootId !== bootIdBefore
          ? `${where} came back ${secs(p.endedAt - droppedAt)} after off_command with a new boot id (${bootIdBefore} -> ${p.bootId}): it rebooted instead of powering off`
          : `${where} still runs ${secs(p.endedAt - droppedAt)} after off_command (same boot id ${p.bootId}): it did not power off`);
      }
      watch.add(p);
      const early = p.endedAt - p.startedAt < timeoutMs - 50;
      if (p.kind !== 'silent' || early) await pause(call, Math.min(s.statusSleepMs, Math.max(0, silenceBy + s.powerWaitMs - clock.now())));
    }
  };

  const proveReboot = async (call: DeviceCall, droppedAt: number, before: string): Promise<void> => {
    const watch = new SilenceWatch();
    const until = droppedAt + s.powerTimeoutMs;
    let last: Probe | undefined;
    while (clock.now() < until && !call.signal.aborted) {
      const timeoutMs = Math.min(s.loginMs, Math.max(until - clock.now(), minProbeMs));
      const p = await probe(call, timeoutMs);
      last = p;
      call.log.debug(`probe ${secs(p.startedAt - droppedAt)} after the drop: ${probeLine(p)}`);
      if (p.kind === 'up') {
        if (p.bootId === before) {
          throw new FenceError('device', `${where} answered ${secs(p.endedAt - droppedAt)} after reboot_command with the same `
            + `boot id (${before}): it did not reboot`);
        }
        call.log.info(`reboot proven: boot id changed (${before} -> ${p.bootId}); ${where} answered again `
          + `${secs(p.endedAt - droppedAt)} after reboot_command`);
        return;
      }
      watch.add(p);
      const early = p.endedAt - p.startedAt < timeoutMs - 50;
      if (p.kind !== 'silent' || early) await pause(call, Math.min(s.statusSleepMs, Math.max(0, until - clock.now())));
    }
    if (watch.longest >= s.powerWaitMs) {
      call.log.warn(`reboot not proven by boot id: ${where} did not answer again within power_timeout ${secs(s.powerTimeoutMs)}; `
        + `after the connection dropped it gave no answer at all for ${secs(watch.longest)}, so it is off or still booting`);
      return;
    }
    throw new FenceError('power-timeout', `no proof that ${where} rebooted: it did not answer again within power_timeout `
      + `${secs(s.powerTimeoutMs)} and was never silent for power_wait ${secs(s.powerWaitMs)} (last: ${last ? probeLine(last) : 'not probed'})`);
  };

  const device: FenceDevice = {
    async getPower(call): Promise<PowerState> {
      if (session && !session.alive) session = undefined;
      if (!session) {
        try {
          session = await login(call, s.loginMs);
        } catch (e) {
          if (!(e instanceof SshError)) throw e;
          // A problem on our side (the key file) is not a question about the node.
          if (e.kind === 'credentials') throw new FenceError('config', e.message);
          const hint = isSilence(e) || e.kind === 'refused' || e.kind === 'no-banner'
            ? '. mode=self cannot see the power state of a node it cannot log in to: it may be off, hung or cut off' : '';
          throw new FenceError(sshFailureKind(e), `cannot tell whether ${where} is on: ${e.message}${hint}`);
        }
      }
      bootIdBefore = await bootIdOn(session, call);
      call.log.debug(`${where} is up, boot id ${bootIdBefore}`);
      return 'on';
    },

    async setPower(_call, state) {
      // The engine reaches this only for "on" of a node that is not on, which self mode never reports.
      throw new FenceError('config', `mode=self cannot power ${where} ${state}: use a power fence (IPMI, PDU, hypervisor) for that`);
    },

    async changeAndProve(call, action) {
      if (!session?.alive || !bootIdBefore) await device.getPower(call);
      const sess = session!;
      const before = bootIdBefore!;
      session = undefined;
      const command = action === 'off' ? s.offCommand : s.rebootCommand;
      call.log.info(`${action}: running ${action}_command on ${where} (boot id ${before})`);
      call.log.debug(`${action}_command: ${command}`);
      const r = await sess.execExpectingDrop(command, { timeoutMs: s.shellMs, signal: call.signal });
      switch (r.kind) {
        case 'rejected':
          throw new FenceError('device', `${where} would not run ${action}_command: ${r.reason}`);
        case 'failed':
          sess.close();
          throw new FenceError('device', `${action}_command failed on ${where} (exit ${r.code ?? r.signal ?? '?'}): `
            + `${lastLine(r.stderr, r.stdout) || 'no message'}`);
        case 'stayed':
          sess.close();
          throw new FenceError('slow', `${action}_command ${r.exitCode === 0 ? 'returned success' : 'was accepted'} but the `
            + `connection to ${where} did not drop within shell_timeout ${secs(s.shellMs)}: the node still runs`);
        case 'dropped':
          call.log.info(`connection dropped (${r.how}) ${r.afterMs} ms after ${action}_command`
            + `${r.accepted ? '' : ', before the server confirmed the command'}`);
          break;
      }
      const droppedAt = clock.now();
      if (action === 'off') await proveOff(call, droppedAt);
      else await proveReboot(call, droppedAt, before);
    },

    close() {
      session?.close();
      session = undefined;
    },
  };
  return device;
}
