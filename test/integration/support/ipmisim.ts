// A real BMC for tests: OpenIPMI's ipmi_sim on a loopback address (or inside a network namespace),
// with a `chassis_control` program that keeps a simulated power state in a file. Used by the
// fence_ipmi tests and benchmark; anything else that needs a BMC can use it the same way:
//
//   const bmc = await startIpmiSim({ address: '127.0.51.1', port: 16231, power: 'on' });
//   try { ... bmc.power() ... bmc.events() ... } finally { await bmc.stop(); }
//
// Facts this relies on (see ../shared/lab-notes.md): ipmi_sim popen()s `<chassis_control> get power`
// and expects "power:1"/"power:0", runs `... set power 0|1` and `... set reset 1`, is
// single-threaded (a slow program makes the whole BMC slow), ignores SIGTERM (stopped with
// SIGKILL by pid), and needs its own state directory (-s) or instances share users on disk.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../lib/exec.ts';
import { probeRmcp } from '../../../fence/ipmi/probe.ts';

export type PowerState = 'on' | 'off';
export type Privilege = 'callback' | 'user' | 'operator' | 'admin';

export interface IpmiUser {
  /** 1..15; user 1 is the anonymous (null) user in IPMI. */
  id?: number;
  name: string;
  /** At most 16 characters; ipmi_sim's lan.conf cannot hold spaces or quotes in it. */
  password: string;
  privilege?: Privilege;
}

export interface IpmiSimOptions {
  /** UDP address; a 127.0.0.0/8 address, or one inside `netns`. Default 127.0.0.1. */
  address?: string;
  port: number;
  /** Run inside this (existing) network namespace with `ip netns exec`. */
  netns?: string;
  /** Default: one administrator "admin" with password "admin-pw". */
  users?: IpmiUser[];
  /** Initial state of the built-in power program. Default on. */
  power?: PowerState;
  /** The built-in program sleeps this long before answering "get power": a slow BMC. */
  getDelayMs?: number;
  /** ... and this long before acting on "set power". */
  setDelayMs?: number;
  /** Replace the built-in program: a command line to which ipmi_sim appends "get power" etc. */
  chassisControl?: string;
  /** Working directory (config, state, logs). Default: a new temporary directory, removed by stop(). */
  dir?: string;
}

export interface PowerEvent {
  /** ms since the epoch */
  at: number;
  /** "get power", "set power 0", "set power 1", "set reset 1" */
  request: string;
  /** For "get power": the state answered. */
  answered?: PowerState;
}

export interface IpmiSim {
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly users: readonly IpmiUser[];
  /** The simulated power state (built-in program only). */
  power(): PowerState;
  setPower(state: PowerState): void;
  /** Every request ipmi_sim made to the power program, in order (built-in program only). */
  events(): PowerEvent[];
  clearEvents(): void;
  /** SIGKILL by pid and wait for the exit; removes a temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Map<number, ChildProcess>();
const tempDirs = new Set<string>();
// Last line of defence: a test runner that exits with simulators still running kills them.
process.on('exit', () => {
  for (const pid of running.keys()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  for (const d of tempDirs) { try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ } }
});

/** Kill every simulator this process started (for `after` hooks). */
export async function stopAllIpmiSims(): Promise<void> {
  await Promise.all([...running.entries()].map(([pid, child]) => killAndWait(pid, child)));
}

function killAndWait(pid: number, child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { running.delete(pid); resolve(); return; }
    const t = setTimeout(() => { running.delete(pid); resolve(); }, 3000);
    child.once('exit', () => { clearTimeout(t); running.delete(pid); resolve(); });
    try { process.kill(pid, 'SIGKILL'); } catch { clearTimeout(t); running.delete(pid); resolve(); }
  });
}

const PRIV: Record<Privilege, string> = { callback: 'callback', user: 'user', operator: 'operator', admin: 'admin' };

function checkConfValue(what: string, v: string): void {
  if (!/^[\x21-\x7e]*$/.test(v) || v.includes('"')) throw new Error(`ipmi_sim cannot hold ${what} ${JSON.stringify(v)}: printable ASCII without spaces or quotes`);
  if (v.length > 16) throw new Error(`${what} ${JSON.stringify(v)} is longer than 16 characters`);
}

// The built-in chassis_control program: state in a file, one log line per request.
const POWER_PROGRAM = `#!/bin/sh
# power.sh STATEFILE EVENTLOG GETDELAY SETDELAY get power | set power 0|1 | set reset 1
state=$1 events=$2 getdelay=$3 setdelay=$4
shift 4
now() { date +%s%3N; }
case "$1 $2" in
  "get power")
    [ "$getdelay" = 0 ] || sleep "$getdelay"
    p=$(cat "$state" 2>/dev/null || echo 1)
    echo "$(now) $* -> $p" >> "$events"
    echo "power:$p" ;;
  "set power")
    [ "$setdelay" = 0 ] || sleep "$setdelay"
    echo "$3" > "$state"
    echo "$(now) $*" >> "$events" ;;
  "set reset")
    [ "$setdelay" = 0 ] || sleep "$setdelay"
    echo 1 > "$state"
    echo "$(now) $*" >> "$events" ;;
  *) echo "$(now) $* (unsupported)" >> "$events"; exit 1 ;;
esac
exit 0
`;

export async function startIpmiSim(o: IpmiSimOptions): Promise<IpmiSim> {
  const address = o.address ?? '127.0.0.1';
  const users = o.users ?? [{ id: 2, name: 'admin', password: 'admin-pw', privilege: 'admin' }];
  const ownDir = !o.dir;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'fi-ipmisim-'));
  if (ownDir) tempDirs.add(dir);
  mkdirSync(join(dir, 'state'), { recursive: true });
  const stateFile = join(dir, 'power');
  const eventsFile = join(dir, 'events.log');
  writeFileSync(stateFile, o.power === 'off' ? '0\n' : '1\n');
  writeFileSync(eventsFile, '');
  const program = join(dir, 'power.sh');
  writeFileSync(program, POWER_PROGRAM);
  chmodSync(program, 0o755);
  const secs = (ms = 0) => String(Math.max(0, ms) / 1000);
  const chassis = o.chassisControl ?? `${program} ${stateFile} ${eventsFile} ${secs(o.getDelayMs)} ${secs(o.setDelayMs)}`;
  if (chassis.includes('"')) throw new Error('chassis_control command line cannot contain quotes');

  const userLines = users.map((u, i) => {
    checkConfValue('user name', u.name);
    checkConfValue('password', u.password);
    const id = u.id ?? i + 2;
    return `  user ${id} true "${u.name}" "${u.password}" ${PRIV[u.privilege ?? 'admin']} 10 none md2 md5 straight`;
  });
  const lanConf = join(dir, 'lan.conf');
  writeFileSync(lanConf, `# written by test/integration/support/ipmisim.ts
name "fi-${address.replace(/[^0-9a-z]/gi, '_')}-${o.port}"
set_working_mc 0x20
  startlan 1
    addr ${address} ${o.port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${chassis}"
${userLines.join('\n')}
`);
  const emu = join(dir, 'sim.emu');
  writeFileSync(emu, 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n');

  const simArgs = ['-c', lanConf, '-f', emu, '-s', join(dir, 'state'), '-n'];
  const [cmd, args] = o.netns ? ['ip', ['netns', 'exec', o.netns, 'ipmi_sim', ...simArgs]] : ['ipmi_sim', simArgs];
  const logFd = openSync(join(dir, 'ipmi_sim.log'), 'a');
  // detached: its own process group, so a ^C to the test runner does not orphan it half-killed;
  // stdin ignored (with -n it never reads the console).
  const child = spawn(cmd, args as string[], { stdio: ['ignore', logFd, logFd], detached: true });
  closeSync(logFd);
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start ipmi_sim: ${(await spawnFailed).message}`);
  const pid = child.pid;
  running.set(pid, child);

  let stopped = false;
  const sim: IpmiSim = {
    address, port: o.port, pid, dir, users,
    power: () => (readFileSync(stateFile, 'utf8').trim() === '0' ? 'off' : 'on'),
    setPower: (s) => writeFileSync(stateFile, s === 'off' ? '0\n' : '1\n'),
    events: () => readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean).map((line) => {
      const m = /^(\d+) (.*?)(?: -> ([01]))?$/.exec(line);
      if (!m) return { at: 0, request: line };
      return { at: Number(m[1]), request: m[2]!, ...(m[3] !== undefined ? { answered: m[3] === '1' ? 'on' as const : 'off' as const } : {}) };
    }),
    clearEvents: () => writeFileSync(eventsFile, ''),
    async stop() {
      if (stopped) return;
      stopped = true;
      await killAndWait(pid, child);
      if (ownDir) { rmSync(dir, { recursive: true, force: true }); tempDirs.delete(dir); }
    },
  };

  // Ready when it answers an RMCP ping and (unless its power program is slow on purpose) the
  // first user can read the power state through the real login path; within 5 s.
  const u = users[0]!;
  const until = Date.now() + 5000;
  let last = '';
  let pinged = false;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = existsSync(join(dir, 'ipmi_sim.log')) ? readFileSync(join(dir, 'ipmi_sim.log'), 'utf8') : '';
      await sim.stop();
      throw new Error(`ipmi_sim exited at start-up (${child.exitCode ?? child.signalCode}): ${log.trim()}`);
    }
    if (!pinged) {
      pinged = await answersPing(address, o.port, o.netns);
      last = 'no answer to RMCP ping';
    }
    if (pinged && (o.getDelayMs ?? 0) > 0) return sim;
    if (pinged) {
      const probe = ['-I', 'lan', '-H', address, '-p', String(o.port), '-U', u.name, '-E', '-N', '1', '-R', '1', 'chassis', 'power', 'status'];
      const [pc, pa] = o.netns ? ['ip', ['netns', 'exec', o.netns, 'ipmitool', ...probe]] : ['ipmitool', probe];
      const r = await run(pc, pa as string[], { timeoutMs: 3000, env: { IPMI_PASSWORD: u.password } });
      if (r.code === 0) { sim.clearEvents(); return sim; }
      last = (r.spawnError ?? r.stderr).trim();
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  await sim.stop();
  throw new Error(`ipmi_sim on ${address}:${o.port} not ready within 5 s: ${last}`);
}

async function answersPing(address: string, port: number, netns?: string): Promise<boolean> {
  if (!netns) return (await probeRmcp(address, port, 300)).kind === 'rmcp';
  const r = await run('ip', ['netns', 'exec', netns, 'rmcp_ping', '-p', String(port), '-t', '1', address], { timeoutMs: 3000 });
  return /IPMI/.test(r.stdout);
}
