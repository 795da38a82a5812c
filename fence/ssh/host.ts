// mode=host: log in to a controller (a hypervisor, a PDU or iLO shell, a jump host) and run the
// operator's command templates with the plug filled in. The engine does the rest (verify after
// on/off, retries, reboot as off + on). One connection serves the whole action; it is opened
// again if it breaks between calls.
import type { DeviceCall, FenceDevice, PlugEntry, PowerState } from '../../lib/fence/engine.ts';
import { FenceError } from '../../lib/fence/errors.ts';
import { SshError, type ExecResult, type SshSession } from '../../lib/ssh/client.ts';
import { lastLine, readList, readStatus } from './commands.ts';
import type { Connector } from './connector.ts';
import { fillTemplate, plugProblem } from './plug.ts';
import { secs, sshFailureKind } from './self.ts';

export interface HostSettings {
  plug?: string;
  statusCommand: string;
  onCommand: string;
  offCommand: string;
  rebootCommand?: string;
  listCommand?: string;
  onPattern: string;
  offPattern: string;
  loginMs: number;
  shellMs: number;
  /** Bounds on/off/reboot commands: starting or destroying a VM can take a while. */
  powerTimeoutMs: number;
  /** list-status reads each plug's state too. */
  listWithStatus?: boolean;
}

export function hostDevice(connector: Connector, s: HostSettings): FenceDevice {
  const where = connector.where;
  let session: SshSession | undefined;

  const open = async (call: DeviceCall): Promise<SshSession> => {
    if (session?.alive) return session;
    try {
      session = await connector.connect({ signal: call.signal, log: call.log, timeoutMs: s.loginMs });
      return session;
    } catch (e) {
      if (e instanceof SshError) throw new FenceError(sshFailureKind(e), `cannot log in to the controller ${where}: ${e.message}`);
      throw e;
    }
  };

  const run = async (call: DeviceCall, what: string, template: string, plug: string | undefined, timeoutMs: number): Promise<ExecResult> => {
    let command: string;
    try { command = fillTemplate(template, plug); } catch (e) {
      throw new FenceError('config', `${what}: ${(e as Error).message}`);
    }
    const sess = await open(call);
    call.log.debug(`${where}: running ${what}: ${command}`);
    let r: ExecResult;
    try {
      r = await sess.exec(command, { timeoutMs, signal: call.signal });
    } catch (e) {
      if (e instanceof SshError) throw new FenceError('device', `${what} on ${where}: ${e.message}`);
      throw e;
    }
    call.log.debug(`${what} exit ${r.code ?? r.signal ?? 'none'} after ${r.ms} ms; stdout: ${r.stdout.trim()}; stderr: ${r.stderr.trim()}`);
    if (r.timedOut) throw new FenceError('slow', `${what} did not finish within ${secs(timeoutMs)} on ${where}`);
    if (r.code !== 0) {
      throw new FenceError('device', `${what} failed on ${where} (exit ${r.code ?? r.signal ?? '?'}): ${lastLine(r.stderr, r.stdout) || 'no message'}`);
    }
    return r;
  };

  const statusOf = async (call: DeviceCall, plug: string | undefined): Promise<PowerState> => {
    const r = await run(call, 'status_command', s.statusCommand, plug, s.shellMs);
    const reading = readStatus(r.stdout, s.onPattern, s.offPattern);
    if ('problem' in reading) throw new FenceError('garbage', `${where}${plug ? ` (plug ${plug})` : ''}: ${reading.problem}`);
    return reading.state;
  };

  const device: FenceDevice = {
    getPower: (call) => statusOf(call, s.plug),
    async setPower(call, state) {
      await run(call, `${state}_command`, state === 'on' ? s.onCommand : s.offCommand, s.plug, s.powerTimeoutMs);
    },
    ...(s.rebootCommand ? {
      async cycle(call: DeviceCall) { await run(call, 'reboot_command', s.rebootCommand!, s.plug, s.powerTimeoutMs); },
    } : {}),
    async list(call): Promise<PlugEntry[]> {
      if (!s.listCommand) throw new FenceError('config', 'list needs list_command');
      const r = await run(call, 'list_command', s.listCommand, undefined, s.shellMs);
      const entries: PlugEntry[] = [];
      for (const p of readList(r.stdout)) {
        const bad = plugProblem(p.id);
        if (!s.listWithStatus) { entries.push(p); continue; }
        if (bad) {
          call.log.warn(`list_command printed ${JSON.stringify(p.id)}, which ${bad}; its status is not read`);
          entries.push({ ...p, status: 'unknown' });
          continue;
        }
        try { entries.push({ ...p, status: await statusOf(call, p.id) }); } catch (e) {
          call.log.warn(`status of ${p.id}: ${(e as Error).message}`);
          entries.push({ ...p, status: 'unknown' });
        }
      }
      return entries;
    },
    // A controller that logs us in answers; its commands are checked by status.
    async monitor(call) { await open(call); },
    close() {
      session?.close();
      session = undefined;
    },
  };
  return device;
}
