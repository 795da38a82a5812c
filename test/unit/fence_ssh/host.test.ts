// mode=host: command templates against a fake controller, through the real power engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPowerAction, type EngineAction } from '../../../lib/fence/engine.ts';
import { FenceError } from '../../../lib/fence/errors.ts';
import { memoryLogger } from '../../../lib/log.ts';
import { SshError, type DropOutcome, type ExecResult, type SshSession } from '../../../lib/ssh/client.ts';
import { hostDevice, type HostSettings } from '../../../fence/ssh/host.ts';
import type { Connector } from '../../../fence/ssh/connector.ts';
import { HOST_PATTERN_DEFAULTS } from '../../../fence/ssh/commands.ts';
import { FakeClock } from '../fence/fakes.ts';

class FakeController implements Connector {
  readonly where = 'root@198.51.100.5:22';
  vms = new Map<string, string>([['vm1', 'running'], ['vm2', 'shut off'], ['x;y', 'running']]);
  commands: string[] = [];
  logins = 0;
  down = false;
  /** Sessions die after this many commands (a controller that drops idle sessions). */
  dropAfter = Infinity;
  async connect(): Promise<SshSession> {
    if (this.down) throw new SshError('silent', 'no answer from 198.51.100.5:22 within 5 s (TCP connect)');
    this.logins++;
    const ctl = this;
    let n = 0;
    const session: SshSession & { alive: boolean } = {
      where: '198.51.100.5:22', hostKey: { fingerprint: 'SHA256:x', keyType: 'ssh-ed25519', how: 'test' }, alive: true,
      async exec(cmd): Promise<ExecResult> {
        if (!session.alive) throw new SshError('closed', 'closed');
        // The controller closes the session after its answer (the client sees the close before the next call).
        if (++n >= ctl.dropAfter) session.alive = false;
        ctl.commands.push(cmd);
        const res = (code: number, stdout = '', stderr = ''): ExecResult => ({ code, stdout, stderr, timedOut: false, ms: 3 });
        const m = /^virt (domstate|start|destroy|reset) '([^']*)'$/.exec(cmd);
        if (cmd === 'virt list') return res(0, [...ctl.vms.keys()].join('\n'));
        if (!m) return res(127, '', `sh: ${cmd}: not found`);
        const st = ctl.vms.get(m[2]!);
        if (st === undefined) return res(1, '', `error: failed to get domain '${m[2]}'`);
        if (m[1] === 'domstate') return res(0, `${st}\n\n`);
        if (m[1] === 'start') { if (st === 'running') return res(1, '', 'error: Domain is already active'); ctl.vms.set(m[2]!, 'running'); }
        if (m[1] === 'destroy') ctl.vms.set(m[2]!, 'shut off');
        if (m[1] === 'reset') ctl.vms.set(m[2]!, 'running');
        return res(0);
      },
      async execExpectingDrop(): Promise<DropOutcome> { throw new Error('not used in host mode'); },
      close() { session.alive = false; },
    };
    return session;
  }
}

const S: HostSettings = {
  plug: 'vm1', statusCommand: 'virt domstate {plug}', onCommand: 'virt start {plug}', offCommand: 'virt destroy {plug}',
  onPattern: HOST_PATTERN_DEFAULTS.status_on_pattern, offPattern: HOST_PATTERN_DEFAULTS.status_off_pattern,
  loginMs: 5000, shellMs: 3000, powerTimeoutMs: 20000,
};
const timing = { delayMs: 0, powerWaitMs: 0, powerTimeoutMs: 20000, statusSleepMs: 1000, retryOn: 1, method: 'onoff' as 'onoff' | 'cycle' };

type Outcome = { code: number; lines: string[]; error?: undefined } | { error: FenceError; log: unknown[]; code?: undefined; lines?: undefined };

async function act(action: EngineAction, c: FakeController, s: Partial<HostSettings> = {}, method: 'onoff' | 'cycle' = 'onoff'): Promise<Outcome> {
  const { log, entries } = memoryLogger();
  const device = hostDevice(c, { ...S, ...s });
  try {
    return await runPowerAction({ action, device, timing: { ...timing, method }, log, signal: new AbortController().signal, clock: new FakeClock() });
  } catch (e) {
    if (e instanceof FenceError) return { error: e, log: entries };
    throw e;
  } finally {
    await device.close?.();
  }
}

test('status reads the template\'s output: running is ON (0), shut off is OFF (2)', async () => {
  const c = new FakeController();
  assert.deepEqual(await act('status', c), { code: 0, lines: ['Status: ON'] });
  assert.deepEqual(await act('status', c, { plug: 'vm2' }), { code: 2, lines: ['Status: OFF'] });
  assert.deepEqual(c.commands, ["virt domstate 'vm1'", "virt domstate 'vm2'"]);
});

test('off, on and reboot run the templates once each, verified by status, over one login', async () => {
  const c = new FakeController();
  assert.deepEqual((await act('off', c)).lines, ['Success: Powered OFF']);
  assert.deepEqual(c.commands, ["virt domstate 'vm1'", "virt destroy 'vm1'", "virt domstate 'vm1'"]);
  assert.equal(c.logins, 1);
  c.commands = [];
  assert.deepEqual((await act('reboot', c)).lines, ['Success: Rebooted']);
  assert.deepEqual(c.commands, ["virt domstate 'vm1'", "virt start 'vm1'", "virt domstate 'vm1'"], 'already off: only on');
  c.commands = [];
  await act('reboot', c);
  assert.deepEqual(c.commands, ["virt domstate 'vm1'", "virt destroy 'vm1'", "virt domstate 'vm1'", "virt start 'vm1'", "virt domstate 'vm1'"]);
  assert.equal(c.vms.get('vm1'), 'running');
});

test('method=cycle uses reboot_command when there is one', async () => {
  const c = new FakeController();
  await act('reboot', c, { rebootCommand: 'virt reset {plug}' }, 'cycle');
  assert.deepEqual(c.commands, ["virt domstate 'vm1'", "virt reset 'vm1'", "virt domstate 'vm1'"]);
});

test('a failing command, garbage output and an unknown plug are errors with the controller\'s words', async () => {
  const c = new FakeController();
  const unknown = await act('status', c, { plug: 'vm9' }) as { error: FenceError };
  assert.match(unknown.error.message, /status_command failed on root@198\.51\.100\.5:22 \(exit 1\): error: failed to get domain 'vm9'/);
  const garbage = await act('status', c, { statusCommand: 'virt list' }) as { error: FenceError };
  assert.equal(garbage.error.kind, 'garbage');
  assert.match(garbage.error.message, /matches neither/);
  const missing = await act('off', c, { offCommand: 'virsh destroy {plug}' }) as { error: FenceError };
  assert.match(missing.error.message, /off_command failed .*\(exit 127\): sh: virsh destroy 'vm1': not found/);
});

test('a plug that would need quoting never reaches the controller, even from a template', async () => {
  const c = new FakeController();
  const r = await act('status', c, { plug: "vm1'; reboot; '" }) as { error: FenceError };
  assert.equal(r.error.kind, 'config');
  assert.match(r.error.message, /status_command: plug may only hold/);
  assert.deepEqual(c.commands, []);
  assert.equal(c.logins, 0, 'not even a login');
});

test('list and list-status; names that are not valid plugs get no status read', async () => {
  const c = new FakeController();
  assert.deepEqual((await act('list', c, { listCommand: 'virt list' })).lines, ['vm1,', 'vm2,', 'x;y,']);
  const { log, entries } = memoryLogger();
  const device = hostDevice(c, { ...S, listCommand: 'virt list', listWithStatus: true });
  const r = await runPowerAction({ action: 'list-status', device, timing, log, signal: new AbortController().signal, clock: new FakeClock() });
  assert.deepEqual(r.lines, ['vm1,,ON', 'vm2,,OFF', 'x;y,,UNKNOWN']);
  assert.ok(!c.commands.some((x) => x.includes('x;y')), 'never sent');
  assert.match(entries.map((e) => e.message).join('\n'), /list_command printed "x;y", which may only hold .*; its status is not read/);
});

test('the session is opened again when the controller drops it; a dead controller fails the call', async () => {
  const c = new FakeController();
  c.dropAfter = 1;
  assert.deepEqual((await act('off', c)).lines, ['Success: Powered OFF']);
  assert.equal(c.logins, 3, 'one login per command');
  const d = new FakeController();
  d.down = true;
  const r = await act('monitor', d) as { error: FenceError };
  assert.equal(r.error.kind, 'no-answer');
  assert.match(r.error.message, /cannot log in to the controller root@198\.51\.100\.5:22: no answer/);
  assert.ok(!(await act('monitor', new FakeController()) as { error?: unknown }).error);
});
