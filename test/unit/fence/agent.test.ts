import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEntry } from '../../../lib/log.ts';
import type { RunResult, Runner } from '../../../lib/exec.ts';
import { defineFenceAgent, executeFenceAgent, readStream, type FenceContext } from '../../../lib/fence/agent.ts';
import {
  actionOptions, connectionOptions, infoOptions, loggingOptions, loginOptions, methodOptions, plugOptions,
  portAsIpOptions, powerTimingOptions,
} from '../../../lib/fence/groups.ts';
import { defineOptions } from '../../../lib/fence/options.ts';
import { FenceError } from '../../../lib/fence/errors.ts';
import { FakeClock, FakeDevice, type FakeDeviceOptions } from './fakes.ts';

// A minimal agent built the way fence_ssh or any other agent would be.
const options = defineOptions({
  ...actionOptions,
  ...connectionOptions({ defaultPort: 22 }),
  ...portAsIpOptions,
  ...loginOptions,
  ...methodOptions,
  ...plugOptions({ shortdesc: 'Machine' }),
  ...powerTimingOptions(),
  ...loggingOptions,
  ...infoOptions,
});

interface Harness {
  dev?: FakeDeviceOptions;
  /** Make the device fail with a message that contains the password. */
  leak?: boolean;
  runner?: Runner;
}

async function exec(argv: string[], stdin = '', h: Harness = {}) {
  const clock = new FakeClock();
  let device: FakeDevice | undefined;
  let seen: FenceContext<typeof options> | undefined;
  const agent = defineFenceAgent({
    name: 'fence_test', version: '9.9', shortdesc: 'test', longdesc: 'test agent', options,
    check: (o) => (o.ip ? [] : ['You have to enter fence address']),
    device: (ctx) => {
      seen = ctx;
      device = new FakeDevice(clock, h.dev);
      if (h.leak) {
        device.getPower = async () => { throw new FenceError('login-refused', `refused password ${ctx.options.password}`); };
      }
      return device;
    },
  });
  const logs: LogEntry[] = [];
  const out = await executeFenceAgent(agent, {
    argv, stdin: () => stdin, clock, logSink: (e) => logs.push(e), runner: h.runner,
  });
  return { ...out, logs, text: logs.map((l) => `${l.level}: ${l.message}`).join('\n'), device, ctx: seen };
}

const CONN = ['-a', '192.0.2.5', '-l', 'root', '-p', 'Secr3t!'];
const CONN_STDIN = 'ip=192.0.2.5\nusername=root\npassword=Secr3t!\n';

test('status exit codes: 0 on, 2 off, 1 when the device fails', async () => {
  assert.equal((await exec([...CONN, '-o', 'status'], '', { dev: { power: 'on' } })).code, 0);
  const off = await exec([...CONN, '-o', 'status'], '', { dev: { power: 'off' } });
  assert.deepEqual([off.code, off.stdout], [2, 'Status: OFF\n']);
  assert.equal((await exec([...CONN, '-o', 'status'], '', { dev: { failGets: [1] } })).code, 1);
});

test('argv and stdin reach the same device with the same options', async () => {
  const a = await exec([...CONN, '--action=off', '--power-timeout=7', '-n', 'n1'], '', { dev: { power: 'on' } });
  const s = await exec([], `${CONN_STDIN}action=off\npower_timeout=7\nport=n1\n`, { dev: { power: 'on' } });
  assert.deepEqual([a.code, a.stdout], [0, 'Success: Powered OFF\n']);
  assert.deepEqual([s.code, s.stdout], [a.code, a.stdout]);
  assert.deepEqual(s.device!.journal, a.device!.journal);
  assert.deepEqual({ ...s.ctx!.options }, { ...a.ctx!.options });
  assert.equal(s.ctx!.options.plug, 'n1');
});

test('stdin without action means reboot, like fence-agents', async () => {
  const r = await exec([], CONN_STDIN, { dev: { power: 'on' } });
  assert.deepEqual([r.code, r.stdout], [0, 'Success: Rebooted\n']);
});

test('information actions work without any device option', async () => {
  const meta = await exec(['-o', 'metadata']);
  assert.equal(meta.code, 0);
  assert.match(meta.stdout, /^<\?xml version="1.0" \?>\n<resource-agent name="fence_test"/);
  assert.equal((await exec([], 'action=meta-data\n')).stdout, meta.stdout);
  assert.match((await exec(['-o', 'manpage'])).stdout, /^\.TH FENCE_TEST 8/);
  assert.match((await exec(['-h'])).stdout, /^fence_test: test\n\nUsage:/);
  assert.equal((await exec(['--version'])).stdout, 'fence_test 9.9\n');
  assert.equal((await exec(['-o', 'metadata'])).device, undefined, 'no device contact');
});

test('usage errors, unknown actions and missing options exit 1 with a message', async () => {
  const cases: Array<[string[], string, RegExp]> = [
    [['--bogus'], '', /Parse error: unknown option --bogus/],
    [[...CONN, '-o', 'explode'], '', /Unrecognised action 'explode'/],
    [['-o', 'status'], '', /Failed: You have to enter fence address/],
    [[], 'action=status\n', /Failed: You have to enter fence address/],
    [[...CONN, '-o', 'status', '--power-timeout=soon'], '', /--power-timeout \(power_timeout\): value "soon" is not a number of seconds/],
  ];
  for (const [argv, stdin, re] of cases) {
    const r = await exec(argv, stdin);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.text, re);
    assert.equal(r.device, undefined, 'the device is never contacted with bad options');
  }
});

test('validate-all: 0 when the options are fine, 1 listing every problem, no device contact', async () => {
  const ok = await exec([...CONN, '-o', 'validate-all']);
  assert.equal(ok.code, 0);
  const bad = await exec(['-o', 'validate-all', '--ipport=0', '--retry-on=x']);
  assert.equal(bad.code, 1);
  assert.equal(bad.logs.filter((l) => l.level === 'error').length, 3, bad.text);
  assert.equal(bad.device, undefined);
});

test('secrets: redacted in every log line, including errors built by the device', async () => {
  const r = await exec([], `${CONN_STDIN}action=status\n`, { leak: true });
  assert.equal(r.code, 1);
  assert.match(r.text, /refused password \[hidden\]/);
  assert.ok(!r.text.includes('Secr3t!'));
});

test('a password on the command line works but is warned about', async () => {
  const r = await exec([...CONN, '-o', 'status']);
  assert.match(r.text, /visible to every user in the process list/);
  const s = await exec([], `${CONN_STDIN}action=status\n`);
  assert.ok(!/process list/.test(s.text));
});

test('password_script: run without a shell, output becomes the password, hidden from logs', async () => {
  const calls: Array<[string, readonly string[]]> = [];
  const runner: Runner = async (cmd, args) => {
    calls.push([cmd, args]);
    return { command: cmd, args, code: 0, signal: null, stdout: 'Fr0m-Script\n', stderr: '', timedOut: false, durationMs: 1 } as RunResult;
  };
  const r = await exec([], 'ip=192.0.2.5\npasswd_script=/usr/local/bin/get-pw "node 1"\naction=status\n', { runner, leak: true });
  assert.deepEqual(calls, [['/usr/local/bin/get-pw', ['node 1']]]);
  assert.equal(r.ctx!.options.password, 'Fr0m-Script');
  assert.match(r.text, /refused password \[hidden\]/);
  assert.ok(!r.text.includes('Fr0m-Script'));
});

test('stdin: unknown keys warned, Pacemaker keys not, nothing fails because of them', async () => {
  const r = await exec([], `${CONN_STDIN}action=status\nmystery=1\nnodename=n2\npcmk_host_list=n1\n`);
  assert.equal(r.code, 0);
  assert.equal(r.logs.filter((l) => l.level === 'warn').length, 1);
  assert.match(r.text, /warn: ignoring unknown option "mystery"/);
});

test('port_as_ip turns the plug Pacemaker passes into the address', async () => {
  const r = await exec([], 'port_as_ip=1\nport=192.0.2.99\naction=status\n');
  assert.equal(r.code, 0, r.text);
  assert.equal(r.ctx!.options.ip, '192.0.2.99');
});

test('disable_timeout is accepted and changes nothing', async () => {
  const r = await exec([], `${CONN_STDIN}disable_timeout=true\naction=status\n`);
  assert.equal(r.code, 0);
  assert.equal(r.ctx!.options.power_timeout, 20);
});

test('stdin that never ends fails after the timeout instead of hanging; a closed pipe is read whole', async () => {
  const { PassThrough } = await import('node:stream');
  const open = new PassThrough();
  open.write('action=status\n');
  const t = Date.now();
  await assert.rejects(readStream(open, 200), /standard input did not end within 0.2 s/);
  assert.ok(Date.now() - t < 1000);
  const closed = new PassThrough();
  closed.end('action=status\nip=192.0.2.1\n');
  assert.equal(await readStream(closed, 200), 'action=status\nip=192.0.2.1\n');
});
