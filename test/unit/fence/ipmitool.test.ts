import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunResult, Runner } from '../../../lib/exec.ts';
import { typeOptions, parseStdin } from '../../../lib/fence/parse.ts';
import { ipmiOptions } from '../../../fence/ipmi/options.ts';
import {
  ipmitoolArgs, ipmitoolEnv, ipmitoolRetries, prepareIpmitoolHome, MINIMAL_REGISTRY, ipmitoolDevice, kgForEnvironment, readIpmitool, type IpmiValues,
} from '../../../fence/ipmi/ipmitool.ts';
import { isRmcp } from '../../../fence/ipmi/probe.ts';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../../lib/log.ts';
import { FenceError } from '../../../lib/fence/errors.ts';

const values = (stdin: string) => typeOptions(ipmiOptions, parseStdin(ipmiOptions, stdin)).values as IpmiValues;
const base = 'ip=198.51.100.7\nusername=admin\npassword=Pw-1\n';

test('arguments: fence_ipmilan\'s command minus the password, plus -E and -v', () => {
  assert.deepEqual(ipmitoolArgs(values(base), 'status'),
    ['-I', 'lan', '-H', '198.51.100.7', '-p', '623', '-U', 'admin', '-E', '-L', 'ADMINISTRATOR', '-N', '2', '-R', '3', '-v', 'chassis', 'power', 'status']);
  assert.deepEqual(ipmitoolArgs(values(`${base}lanplus=1\nipport=6230\nauth=md5\ntarget=0x72\nprivlvl=operator\nipmitool_timeout=1`), 'off'),
    ['-I', 'lanplus', '-H', '198.51.100.7', '-p', '6230', '-t', '0x72', '-U', 'admin', '-A', 'MD5', '-E', '-C', '3', '-L', 'OPERATOR', '-N', '1', '-R', '2', '-v', 'chassis', 'power', 'off']);
});

test('retries: ipmitool gives up by itself inside the budget', () => {
  // lan: N s per try; lanplus: 2(N + n - 1) s for the n-th try (ipmitool 1.8.19)
  assert.equal(ipmitoolRetries(false, 2, 8000), 3);
  assert.equal(ipmitoolRetries(false, 1, 8000), 7);
  assert.equal(ipmitoolRetries(true, 2, 8000), 1);
  assert.equal(ipmitoolRetries(true, 1, 8000), 2);
  assert.equal(ipmitoolRetries(true, 1, 20000), 3);
  assert.equal(ipmitoolRetries(false, 2, 2400), 1, 'never below 1');
  assert.equal(ipmitoolRetries(false, 1, 60000), 10, 'capped');
});

test('cipher: 3 by default with lanplus, never with lan, omitted for auto', () => {
  assert.ok(ipmitoolArgs(values(`${base}lanplus=1`), 'status').join(' ').includes('-C 3'));
  assert.ok(ipmitoolArgs(values(`${base}lanplus=1\ncipher=17`), 'status').join(' ').includes('-C 17'));
  assert.ok(!ipmitoolArgs(values(`${base}lanplus=1\ncipher=auto`), 'status').includes('-C'));
  assert.ok(!ipmitoolArgs(values(`${base}cipher=17`), 'status').includes('-C'));
});

test('property: the password is never in the arguments, always in IPMI_PASSWORD', () => {
  // The marker keeps a random password from colliding with an ordinary argument such as "623".
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.boolean(), (s, lanplus) => {
    const pw = `PW:${s}`;
    const o = { ...values(`${base}lanplus=${lanplus ? 1 : 0}`), password: pw };
    for (const cmd of ['status', 'on', 'off', 'cycle'] as const) {
      const args = ipmitoolArgs(o, cmd);
      assert.ok(!args.some((a) => a.includes(pw)), args.join(' '));
      assert.ok(!args.includes('-P') && !args.includes('-f') && args.includes('-E'));
      assert.equal(ipmitoolEnv(o).IPMI_PASSWORD, pw);
    }
  }), { numRuns: 200 });
});

test('environment: empty password still set (no prompt), inherited IPMITOOL_PASSWORD removed, C locale', () => {
  const env = ipmitoolEnv({ ...values('ip=198.51.100.7'), password: undefined });
  assert.equal(env.IPMI_PASSWORD, '');
  assert.ok('IPMITOOL_PASSWORD' in env && env.IPMITOOL_PASSWORD === undefined);
  assert.equal(env.LC_ALL, 'C');
});

test('ipmitool HOME with a one-entry IANA registry: only in a directory nobody else can write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fi-home-'));
  try {
    const base = join(dir, 'ipmitool');
    assert.equal(prepareIpmitoolHome(base), base);
    assert.equal(readFileSync(join(base, '.local/usr/share/misc/enterprise-numbers.txt'), 'utf8'), MINIMAL_REGISTRY);
    assert.equal(prepareIpmitoolHome(base), base, 'second use: file already there');
    assert.equal(ipmitoolEnv(values('ip=198.51.100.7'), base).HOME, base);
    assert.ok(!('HOME' in ipmitoolEnv(values('ip=198.51.100.7'), undefined)), 'no HOME override without a safe directory');
    chmodSync(join(base, '.local'), 0o777);
    assert.equal(prepareIpmitoolHome(base), undefined, 'a world-writable directory on the way is refused');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('Kg key: printable keys go through IPMI_KGKEY with -K, others never reach argv', () => {
  const printable = Buffer.from('KgKey-1').toString('hex');
  assert.equal(kgForEnvironment(printable), 'KgKey-1');
  const o = values(`${base}lanplus=1\nhexadecimal_kg=${printable}`);
  assert.ok(ipmitoolArgs(o, 'status').includes('-K'));
  assert.ok(!ipmitoolArgs(o, 'status').join(' ').includes(printable));
  assert.equal(ipmitoolEnv(o).IPMI_KGKEY, 'KgKey-1');
  const binary = values(`${base}lanplus=1\nhexadecimal_kg=0x00ff10`);
  assert.equal(kgForEnvironment('00ff10'), undefined);
  assert.ok(!ipmitoolArgs(binary, 'status').includes('-y'));
  assert.ok(!ipmitoolArgs(binary, 'status').join(' ').includes('00ff10'));
});

const result = (p: Partial<RunResult>): RunResult => ({
  command: '/usr/bin/ipmitool', args: [], code: 1, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: 30, ...p,
});
const W = 'BMC 198.51.100.7:623';
const LOGIN = 'Loading IANA PEN Registry...\nRunning Get VSO Capabilities my_addr 0x20, transit 0, target 0x20\nInvalid completion code received: Invalid command\nDiscovered IPMB address 0x0\n';

// stderr texts below are what ipmitool 1.8.19 -v printed against ipmi_sim and silent/garbage UDP ports.
const CASES: Array<[string, Partial<RunResult>, 'status' | 'on', string | RegExp]> = [
  ['status on', { code: 0, stdout: 'Chassis Power is on\n', stderr: LOGIN }, 'status', 'ok:on'],
  ['status off', { code: 0, stdout: 'Chassis Power is off\n', stderr: LOGIN }, 'status', 'ok:off'],
  ['power on accepted', { code: 0, stdout: 'Chassis Power Control: Up/On\n', stderr: LOGIN }, 'on', 'ok:'],
  ['lanplus wrong password', { stderr: 'Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n' }, 'status', /login-refused:.*refused the login: wrong password/],
  ['lanplus wrong user', { stderr: 'Loading IANA PEN Registry...\nRAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session\n' }, 'status', /login-refused:.*refused the login: unknown user name/],
  ['lan wrong password', { stderr: 'Activate Session command failed\nError: Unable to establish LAN session\nError: Unable to establish IPMI v1.5 / RMCP session\n' }, 'status', /login-refused:.*wrong password/],
  ['lan wrong user', { stderr: 'Invalid user name\nError: Unable to establish LAN session\n' }, 'status', /login-refused:.*unknown user/],
  ['privilege', { stderr: `${LOGIN}Set Chassis Power Control to Up/On failed: Insufficient privilege level\n` }, 'on', /login-refused:.*privilege level too low/],
  ['cipher 17 refused', { stderr: 'Error in open session response message : invalid authentication algorithm\n\nError: Unable to establish IPMI v2 / RMCP+ session\n' }, 'status', /login-refused:.*cipher suite/],
  ['silent, lanplus gave up', { stderr: 'Get Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session\n', durationMs: 2030 }, 'status', /no-answer:no answer from BMC 198\.51\.100\.7:623 \(ipmitool gave up after 2 s\)/],
  ['silent, lan gave up', { stderr: 'Get Auth Capabilities command failed\nError: Unable to establish LAN session\n' }, 'status', /no-answer:no answer/],
  ['silent, killed', { code: null, signal: 'SIGKILL', timedOut: true, stderr: 'Loading IANA PEN Registry...\n' }, 'status', /no-answer:no answer from .* within 7 s/],
  ['echoing garbage', { stderr: 'Get Auth Capabilities error: Unknown (0x0E)\nError issuing Get Channel Authentication Capabilities request\n' }, 'status', /garbage:.*answered with garbage: not a valid IPMI response \(Get Auth Capabilities error: Unknown \(0x0E\)\)/],
  ['garbage status text', { code: 0, stdout: 'HTTP/1.1 400 Bad Request\n' }, 'status', /garbage:.*answered "chassis power status" with garbage/],
  ['slow: killed after login', { code: null, signal: 'SIGKILL', timedOut: true, stderr: LOGIN }, 'status', /slow:.*accepted the session but did not answer "chassis power status" within 7 s/],
  ['slow: ipmitool gave up after login', { stderr: `${LOGIN}Unable to get Chassis Power Status\nClose Session command failed\n` }, 'status', /slow:.*accepted the session.*ipmitool gave up/],
  ['not installed', { code: null, spawnError: 'ENOENT spawn /nope ENOENT', command: '/nope' }, 'status', /device:ipmitool not found at \/nope/],
  ['other failure', { stderr: `${LOGIN}Something odd happened\n` }, 'status', /device:.*failed \(ipmitool exit 1\): Something odd happened/],
];

test('reading ipmitool: each outcome gets its own kind and message', () => {
  for (const [name, r, cmd, want] of CASES) {
    const got = readIpmitool(result(r), cmd, W, 7000);
    const text = got.ok ? `ok:${got.state ?? ''}` : `${got.kind}:${got.message}`;
    if (typeof want === 'string') assert.equal(text, want, name);
    else assert.match(text, want, name);
  }
});

test('only a silent BMC is worth probing with an RMCP ping', () => {
  for (const [name, r, cmd] of CASES) {
    const got = readIpmitool(result(r), cmd, W, 7000);
    if (!got.ok) assert.equal(got.probe, got.kind === 'no-answer', name);
  }
});

test('RMCP recognition', () => {
  assert.ok(isRmcp(Buffer.from('0600ff06000011be40010010000011be000000008100000000000000', 'hex')));
  assert.ok(!isRmcp(Buffer.from('HTTP/1.1 400 Bad Request')));
});

test('device: one ipmitool run per call, bounded by login_timeout + shell_timeout, secrets handed to exec', async () => {
  const calls: Array<{ cmd: string; args: readonly string[]; timeoutMs: number; env: Record<string, string | undefined>; secrets: readonly string[] }> = [];
  const runner: Runner = async (cmd, args, opts) => {
    calls.push({ cmd, args, timeoutMs: opts.timeoutMs, env: opts.env ?? {}, secrets: opts.secrets ?? [] });
    return result({ code: 0, stdout: args.includes('status') ? 'Chassis Power is off\n' : '', stderr: LOGIN, args });
  };
  const o = values(`${base}login_timeout=4\nshell_timeout=2\nipmitool_path=/opt/ipmitool`);
  const dev = ipmitoolDevice(o, runner);
  const { log } = memoryLogger();
  const call = { signal: new AbortController().signal, log };
  assert.equal(await dev.getPower(call), 'off');
  await dev.setPower(call, 'on');
  assert.equal(calls.length, 2);
  assert.equal(calls[0]!.cmd, '/opt/ipmitool');
  assert.ok(calls[0]!.timeoutMs <= 6000 && calls[0]!.timeoutMs >= 5000);
  assert.equal(calls[0]!.env.IPMI_PASSWORD, 'Pw-1');
  assert.deepEqual(calls[0]!.secrets, ['Pw-1']);
  assert.deepEqual(calls[1]!.args.slice(-3), ['chassis', 'power', 'on']);
});

test('device: a failure becomes a FenceError of the right kind', async () => {
  const runner: Runner = async () => result({ stderr: '> RAKP 2 HMAC is invalid\n' });
  const dev = ipmitoolDevice(values(base), runner);
  const { log } = memoryLogger();
  await assert.rejects(dev.getPower({ signal: new AbortController().signal, log }),
    (e: FenceError) => e instanceof FenceError && e.kind === 'login-refused');
});

test('Kg key that cannot travel in the environment is refused as a configuration problem', async () => {
  const { fenceIpmi } = await import('../../../fence/ipmi/agent.ts');
  const bad = fenceIpmi.check!(values(`${base}lanplus=1\nhexadecimal_kg=0x00ff10aa`) as never, new Set());
  assert.equal(bad.length, 1);
  assert.match(bad[0]!, /hexadecimal_kg does not decode to printable ASCII/);
  assert.deepEqual(fenceIpmi.check!(values(`${base}lanplus=1\nhexadecimal_kg=${Buffer.from('KgKey-1').toString('hex')}`) as never, new Set()), []);
});
