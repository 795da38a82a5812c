// Talking to a BMC with ipmitool. Three pure parts (the argument list, the environment, reading
// what ipmitool said) and one thin I/O part (the FenceDevice) that runs it with lib/exec.
//
// The password never reaches argv: ipmitool gets -E and reads IPMI_PASSWORD from its
// environment, which only root and the process owner can read (/proc/<pid>/environ is 0400),
// unlike /proc/<pid>/cmdline. fence_ipmilan passes -P <password>, readable by every local user.
//
// ipmitool always runs with -v: at that level it prints the step it reached (session open,
// RAKP errors) without packet dumps or session keys, which is what tells "no answer" from
// "login refused" from "logged in but the command got no answer".
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult, Runner } from '../../lib/exec.ts';
import type { FenceValues } from '../../lib/fence/options.ts';
import { FenceError, type FenceErrorKind } from '../../lib/fence/errors.ts';
import type { DeviceCall, FenceDevice, PowerState } from '../../lib/fence/engine.ts';
import type { IpmiOptions } from './options.ts';
import { probeRmcp } from './probe.ts';

export type IpmiValues = FenceValues<IpmiOptions> & { password?: string };
export type ChassisCommand = 'status' | 'on' | 'off' | 'cycle';

/** A Kg key can travel in IPMI_KGKEY only if its bytes are printable ASCII (no NUL, no UTF-8 mangling). */
export function kgForEnvironment(hex: string): string | undefined {
  const bytes = Buffer.from(hex.replace(/^0x/i, ''), 'hex');
  return bytes.every((b) => b >= 0x20 && b < 0x7f) ? bytes.toString('latin1') : undefined;
}

/**
 * ipmitool's -R (retries) so that ipmitool gives up, with its own message, before we stop it:
 * a killed ipmitool says nothing, and for IPMI 1.5 a wrong password is only reported after all
 * retries. Measured with ipmitool 1.8.19: with -I lan the n-th try waits N s, with -I lanplus
 * it waits 2(N + n - 1) s. Keeps 10 % of the budget spare; at least 1.
 */
export function ipmitoolRetries(lanplus: boolean, n: number, budgetMs: number): number {
  const budget = (budgetMs / 1000) * 0.9;
  let retries = 1;
  for (let r = 2; r <= 10; r++) {
    const total = lanplus ? Array.from({ length: r }, (_, k) => 2 * (n + k)).reduce((a, b) => a + b, 0) : n * r;
    if (total > budget) break;
    retries = r;
  }
  return retries;
}

export function ipmitoolArgs(o: IpmiValues, command: ChassisCommand, budgetMs = 8000): string[] {
  const a = ['-I', o.lanplus ? 'lanplus' : 'lan', '-H', o.ip ?? '', '-p', String(o.ipport)];
  if (o.target) a.push('-t', o.target);
  if (o.username) a.push('-U', o.username);
  if (o.auth) a.push('-A', o.auth.toUpperCase());
  a.push('-E');
  if (o.lanplus && o.cipher !== 'auto') a.push('-C', o.cipher);
  a.push('-L', o.privlvl.toUpperCase());
  // A key that cannot travel in the environment is refused by the agent's check(), never put here.
  if (o.hexadecimal_kg && kgForEnvironment(o.hexadecimal_kg) !== undefined) a.push('-K');
  a.push('-N', String(o.ipmitool_timeout), '-R', String(ipmitoolRetries(o.lanplus, o.ipmitool_timeout, budgetMs)));
  a.push('-v', 'chassis', 'power', command);
  return a;
}

/**
 * ipmitool (1.8.19) parses IANA's 4.7 MB enterprise-numbers.txt on every start to name vendors,
 * which chassis power commands never print: two thirds of its run time against a BMC on the same
 * LAN. It reads $HOME/.local/usr/share/misc/enterprise-numbers.txt first, so we give it a HOME
 * holding a one-entry registry. Only in a directory we own that nobody else can write (a planted
 * registry would be parsed by ipmitool running as root); anywhere else, or if anything fails,
 * ipmitool keeps the system registry. VIGIL_IPMITOOL_HOME=off disables this, =<dir> moves it.
 */
export const MINIMAL_REGISTRY = 'PRIVATE ENTERPRISE NUMBERS\n\n(vigil fence_ipmi: names are not needed for chassis power)\n\n'
  + 'Decimal\n| Organization\n| | Contact\n| | | Email\n| | | |\n0\n  Reserved\n    Internet Assigned Numbers Authority\n      iana&iana.org\n';

/** Write the minimal registry under `base` and check ownership; `base` if ipmitool may use it. */
export function prepareIpmitoolHome(base: string): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  try {
    const dir = join(base, '.local/usr/share/misc');
    const file = join(dir, 'enterprise-numbers.txt');
    const ours = (p: string) => { const st = statSync(p); return st.uid === uid && (st.mode & 0o022) === 0; };
    let fresh = false;
    try { fresh = statSync(file).size === Buffer.byteLength(MINIMAL_REGISTRY) && ours(file); } catch { /* first use */ }
    if (!fresh) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, MINIMAL_REGISTRY, { mode: 0o644 });
      renameSync(tmp, file);
    }
    // Every directory ipmitool walks through below `base` must be ours and closed to others.
    for (let p = dir; p.length >= base.length; p = join(p, '..')) if (!ours(p)) return undefined;
    return ours(file) ? base : undefined;
  } catch {
    return undefined; // read-only or foreign: the system registry it is
  }
}

let homeCache: { home?: string } | undefined;
export function ipmitoolHome(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!homeCache) {
    const setting = env.VIGIL_IPMITOOL_HOME;
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    const base = setting === 'off' ? undefined
      : setting || (root ? '/run/vigil/ipmitool' : env.XDG_RUNTIME_DIR ? `${env.XDG_RUNTIME_DIR}/vigil/ipmitool` : undefined);
    homeCache = { home: base ? prepareIpmitoolHome(base) : undefined };
  }
  return homeCache.home;
}

export function ipmitoolEnv(o: IpmiValues, home?: string): Record<string, string | undefined> {
  const kg = o.hexadecimal_kg ? kgForEnvironment(o.hexadecimal_kg) : undefined;
  return {
    ...(home ? { HOME: home } : {}),
    // Always set, even empty: with -E and no variable ipmitool would prompt on the terminal.
    IPMI_PASSWORD: o.password ?? '',
    // ipmitool prefers this one; an inherited value must not override ours.
    IPMITOOL_PASSWORD: undefined,
    IPMI_KGKEY: kg,
    // Messages are matched in English.
    LANG: 'C', LC_ALL: 'C',
  };
}

export type Reading =
  | { ok: true; state?: PowerState }
  | { ok: false; kind: FenceErrorKind; message: string; /** worth asking the address directly what is there */ probe: boolean };

const LOGGED_IN = /Discovered IPMB address|Running Get (VSO|PICMG)|Get HPM\.x|Set Session Privilege|SESSION OPENED/i;

/**
 * What one ipmitool run means. `where` names the BMC ("BMC 198.51.100.7:623"), `budgetMs` the
 * time the run was allowed. Pure: table-tested with the outputs of real ipmitool runs.
 */
export function readIpmitool(r: RunResult, command: ChassisCommand, where: string, budgetMs: number): Reading {
  const out = r.stdout;
  const err = r.stderr;
  const what = `"chassis power ${command}"`;
  const within = `within ${Math.round(budgetMs / 100) / 10} s`;
  if (r.spawnError) {
    return { ok: false, kind: 'device', probe: false, message: /ENOENT/.test(r.spawnError)
      ? `ipmitool not found at ${r.command} (set ipmitool_path)` : `cannot run ${r.command}: ${r.spawnError}` };
  }
  if (!r.timedOut && r.code === 0) {
    if (command !== 'status') return { ok: true };
    const m = /Chassis Power is (on|off)/i.exec(out);
    if (m) return { ok: true, state: m[1]!.toLowerCase() as PowerState };
    return { ok: false, kind: 'garbage', probe: false,
      message: `${where} answered ${what} with garbage: ${JSON.stringify(out.trim().slice(0, 80))}` };
  }
  const loggedIn = LOGGED_IN.test(err);
  if (/unauthorized name|invalid user name/i.test(err)) {
    return { ok: false, kind: 'login-refused', probe: false, message: `${where} refused the login: unknown user name` };
  }
  if (/RAKP 2 HMAC is invalid|Activate Session command failed|RAKP \d message indicates an error : (invalid integrity|unauthorized)/i.test(err)) {
    return { ok: false, kind: 'login-refused', probe: false,
      message: `${where} refused the login: wrong password (or Kg key) for this user` };
  }
  if (/insufficient privilege|unauthorized role/i.test(err)) {
    return { ok: false, kind: 'login-refused', probe: false,
      message: `${where} refused ${what}: privilege level too low for this user (see privlvl)` };
  }
  if (/invalid (authentication|integrity|confidentiality) algorithm|no matching cipher suite/i.test(err)) {
    return { ok: false, kind: 'login-refused', probe: false,
      message: `${where} refused the cipher suite (set cipher, e.g. 3 or 17)` };
  }
  if (/Get Auth Capabilities (error|command failed): \S|Invalid RMCP/i.test(err)) {
    return { ok: false, kind: 'garbage', probe: false,
      message: `${where} answered with garbage: not a valid IPMI response (${lastLine(err, /Get Auth Capabilities/i)})` };
  }
  if (loggedIn && (r.timedOut || /Unable to (get|set) Chassis|Close Session command failed|No response/i.test(err))) {
    return { ok: false, kind: 'slow', probe: false,
      message: `${where} accepted the session but did not answer ${what} ${r.timedOut ? within : 'in time (ipmitool gave up)'}` };
  }
  if (r.timedOut || /Get Auth Capabilities (error|command failed)\s*$|Get Channel Authentication Capabilities|No response from remote controller|Unable to establish/im.test(err)) {
    if (!loggedIn) {
      return { ok: false, kind: 'no-answer', probe: true,
        message: `no answer from ${where} ${r.timedOut ? within : `(ipmitool gave up after ${Math.round(r.durationMs / 100) / 10} s)`}` };
    }
  }
  return { ok: false, kind: 'device', probe: false,
    message: `${where}: ${what} failed${r.code !== null ? ` (ipmitool exit ${r.code})` : ''}: ${lastLine(err) || 'no message'}` };
}

function lastLine(text: string, prefer?: RegExp): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean)
    .filter((l) => !/^Loading IANA PEN Registry/.test(l));
  const pick = prefer ? lines.find((l) => prefer.test(l)) : undefined;
  return pick ?? lines[lines.length - 1] ?? '';
}

/** "BMC 198.51.100.7:623" or "[2001:db8::7]:623". */
export const bmcName = (o: IpmiValues): string =>
  `BMC ${o.ip && o.ip.includes(':') ? `[${o.ip}]` : o.ip}:${o.ipport}`;

/** ms one ipmitool run may take: logging in plus running the command. */
export const callBudgetMs = (o: { login_timeout: number; shell_timeout: number }): number =>
  Math.max(1000, (o.login_timeout + o.shell_timeout) * 1000);

export function ipmitoolDevice(o: IpmiValues, runner: Runner): FenceDevice {
  const where = bmcName(o);
  const budget = callBudgetMs(o);
  // When nothing sensible came back, a direct RMCP ping tells "nothing there" from "garbage";
  // it gets a slice of the call's budget so the whole call still fits in it.
  const probeMs = Math.min(1000, Math.floor(budget / 5));

  const call = async (c: DeviceCall, command: ChassisCommand): Promise<Reading & { ok: true }> => {
    const args = ipmitoolArgs(o, command, budget - probeMs);
    c.log.debug(`running ${o.ipmitool_path} ${args.join(' ')} (password in IPMI_PASSWORD)`);
    const r = await runner(o.ipmitool_path, args, {
      timeoutMs: budget - probeMs, signal: c.signal, env: ipmitoolEnv(o, ipmitoolHome()),
      secrets: [o.password, o.hexadecimal_kg].filter((s): s is string => !!s),
    });
    c.log.debug(`ipmitool exit ${r.code ?? r.signal ?? 'none'} after ${r.durationMs} ms; stdout: ${r.stdout.trim()}; stderr: ${r.stderr.trim().replace(/\n/g, ' | ')}`);
    const reading = readIpmitool(r, command, where, budget - probeMs);
    if (reading.ok) return reading;
    let message = reading.message;
    let kind = reading.kind;
    if (reading.probe && o.ip && !c.signal.aborted) {
      const p = await probeRmcp(o.ip, o.ipport, probeMs, c.signal);
      c.log.debug(`RMCP ping of ${where}: ${p.kind}${p.detail ? ` (${p.detail})` : ''}`);
      if (p.kind === 'refused') message += `: nothing listens on UDP port ${o.ipport} (ICMP port unreachable)`;
      else if (p.kind === 'garbage') { kind = 'garbage'; message = `${where} answered with garbage: not RMCP/IPMI (${p.detail})`; }
      else if (p.kind === 'rmcp') message += ': it answers RMCP pings but not IPMI session requests (check lanplus, cipher, and that IPMI over LAN is enabled)';
    }
    throw new FenceError(kind, message);
  };

  return {
    async getPower(c) {
      const r = await call(c, 'status');
      return r.state!;
    },
    async setPower(c, state) { await call(c, state); },
    async cycle(c) { await call(c, 'cycle'); },
  };
}
