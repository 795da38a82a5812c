import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runPowerAction, type EngineAction, type EngineTiming } from '../../../lib/fence/engine.ts';
import { FenceError } from '../../../lib/fence/errors.ts';
import { actionBudgetMs } from '../../../lib/fence/agent.ts';
import { memoryLogger } from '../../../lib/log.ts';
import { FakeClock, FakeDevice, type FakeDeviceOptions } from './fakes.ts';

const TIMING: EngineTiming = { delayMs: 0, powerWaitMs: 0, powerTimeoutMs: 20_000, statusSleepMs: 1000, retryOn: 1, method: 'onoff' };

async function run(action: EngineAction, dev: FakeDeviceOptions = {}, timing: Partial<EngineTiming> = {}) {
  const clock = new FakeClock();
  const device = new FakeDevice(clock, dev);
  const { log, entries } = memoryLogger();
  const started = clock.now();
  const signal = new AbortController().signal;
  try {
    const r = await runPowerAction({ action, device, timing: { ...TIMING, ...timing }, log, signal, clock, startedAt: started });
    return { ...r, device, clock, entries, elapsed: clock.now() - started, error: undefined as FenceError | undefined };
  } catch (e) {
    return { code: -1, lines: [] as string[], device, clock, entries, elapsed: clock.now() - started, error: e as FenceError };
  }
}

test('status: 0 and "Status: ON" when on, 2 and "Status: OFF" when off', async () => {
  const on = await run('status', { power: 'on' });
  assert.deepEqual([on.code, on.lines], [0, ['Status: ON']]);
  const off = await run('status', { power: 'off' });
  assert.deepEqual([off.code, off.lines], [2, ['Status: OFF']]);
});

test('status: a device that does not answer fails (never a status)', async () => {
  const r = await run('status', { failGets: [1] });
  assert.ok(r.error instanceof FenceError);
  assert.equal(r.error.kind, 'no-answer');
});

test('monitor only reads the state, whatever it is; list prints nothing for a single-machine device', async () => {
  for (const power of ['on', 'off'] as const) {
    const r = await run('monitor', { power });
    assert.deepEqual([r.code, r.lines, r.device.journal], [0, [], [`get:${power}`]]);
  }
  const l = await run('list');
  assert.deepEqual([l.code, l.lines, l.device.journal], [0, [], []]);
  const ls = await run('list-status', { plugs: [{ id: 'n1', alias: 'node1', status: 'on' }, { id: 'n2' }] });
  assert.deepEqual(ls.lines, ['n1,node1,ON', 'n2,,UNKNOWN']);
});

test('on/off when already in that state: "Already", no command sent', async () => {
  const r = await run('off', { power: 'off' });
  assert.deepEqual(r.lines, ['Success: Already OFF']);
  assert.deepEqual(r.device.journal, ['get:off']);
  const r2 = await run('on', { power: 'on' });
  assert.deepEqual(r2.lines, ['Success: Already ON']);
});

test('off: set, power_wait, then poll until off', async () => {
  const r = await run('off', { power: 'on', settleMs: { off: 3500 } }, { powerWaitMs: 2000 });
  assert.deepEqual(r.lines, ['Success: Powered OFF']);
  assert.equal(r.device.power, 'off');
  // get(on) set(off) [power_wait 2 s] get(on) [1 s] get(on)... until 3.5 s have passed
  assert.deepEqual(r.device.journal, ['get:on', 'set:off', 'get:on', 'get:on', 'get:off']);
  assert.deepEqual(r.clock.sleeps, [2000, 1000, 1000]);
});

test('off that never happens fails after power_timeout: a timeout is never a success', async () => {
  const r = await run('off', { power: 'on', settleMs: { off: Infinity } }, { powerTimeoutMs: 5000, statusSleepMs: 1000 });
  assert.ok(r.error instanceof FenceError);
  assert.equal(r.error.kind, 'power-timeout');
  assert.match(r.error.message, /Timed out waiting to power OFF.*5 s.*last state seen ON/);
  // polled at 0,1,..,5 s: the last poll runs at the deadline, none after it
  assert.equal(r.device.journal.filter((j) => j.startsWith('get')).length, 1 + 6);
  assert.equal(r.elapsed, 5000);
});

test('on: retry_on sends "on" again when the first one is ignored', async () => {
  const r = await run('on', { power: 'off', ignoreSets: { on: 1 } }, { powerTimeoutMs: 3000, retryOn: 1 });
  assert.deepEqual(r.lines, ['Success: Powered ON']);
  assert.equal(r.device.journal.filter((j) => j === 'set:on').length, 2);
  const fail = await run('on', { power: 'off', ignoreSets: { on: 5 } }, { powerTimeoutMs: 3000, retryOn: 2 });
  assert.equal(fail.error?.kind, 'power-timeout');
  assert.equal(fail.device.journal.filter((j) => j === 'set:on').length, 3);
});

test('off gets one attempt only (retry_on is for on)', async () => {
  const r = await run('off', { power: 'on', ignoreSets: { off: 1 } }, { powerTimeoutMs: 2000, retryOn: 3 });
  assert.equal(r.error?.kind, 'power-timeout');
  assert.equal(r.device.journal.filter((j) => j === 'set:off').length, 1);
});

test('reboot: off, verified off, on, verified on; ends on', async () => {
  const r = await run('reboot', { power: 'on', settleMs: { off: 1500, on: 500 } });
  assert.deepEqual(r.lines, ['Success: Rebooted']);
  assert.equal(r.device.power, 'on');
  const j = r.device.journal;
  const setOff = j.indexOf('set:off');
  const seenOff = j.indexOf('get:off');
  const setOn = j.indexOf('set:on');
  assert.ok(setOff >= 0 && seenOff > setOff && setOn > seenOff, j.join(' '));
  assert.equal(j[j.length - 1], 'get:on');
});

test('reboot: power_wait follows the off only; the on half is polled at once', async () => {
  const r = await run('reboot', { power: 'on' }, { powerWaitMs: 2000 });
  assert.deepEqual(r.lines, ['Success: Rebooted']);
  assert.deepEqual(r.device.journal, ['get:on', 'set:off', 'get:off', 'set:on', 'get:on']);
  assert.deepEqual(r.clock.sleeps, [2000]);
  const on = await run('on', { power: 'off' }, { powerWaitMs: 2000 });
  assert.deepEqual(on.clock.sleeps, [2000], 'the on action keeps its power_wait');
});

test('reboot of a machine that is off: no off command, just on', async () => {
  const r = await run('reboot', { power: 'off' });
  assert.deepEqual(r.lines, ['Success: Rebooted']);
  assert.deepEqual(r.device.journal, ['get:off', 'set:on', 'get:on']);
});

test('reboot: off not verified fails, and "on" is never sent', async () => {
  const r = await run('reboot', { power: 'on', settleMs: { off: Infinity } }, { powerTimeoutMs: 3000 });
  assert.equal(r.error?.kind, 'power-timeout');
  assert.ok(!r.device.journal.includes('set:on'));
});

test('reboot: once off is verified, a failed "on" is logged but the fencing succeeded', async () => {
  const r = await run('reboot', { power: 'on', settleMs: { on: Infinity } }, { powerTimeoutMs: 2000 });
  assert.deepEqual(r.lines, ['Success: Rebooted']);
  assert.equal(r.device.power, 'off');
  assert.ok(r.entries.some((e) => e.level === 'error' && /Timed out waiting to power ON/.test(e.message)));
});

test('method=cycle uses the cycle command when the device has one, else off/on', async () => {
  const c = await run('reboot', { power: 'on', withCycle: true }, { method: 'cycle' });
  assert.deepEqual(c.lines, ['Success: Rebooted']);
  assert.ok(c.device.journal.includes('cycle') && !c.device.journal.includes('set:off'));
  const n = await run('reboot', { power: 'on' }, { method: 'cycle' });
  assert.ok(n.device.journal.includes('set:off'));
  assert.ok(n.entries.some((e) => e.level === 'warn' && /no cycle command/.test(e.message)));
});

test('delay applies to off and reboot only, counted from the start', async () => {
  for (const action of ['off', 'reboot'] as const) {
    const r = await run(action, { power: 'on' }, { delayMs: 10_000 });
    assert.equal(r.clock.sleeps[0], 10_000, action);
    assert.ok(r.elapsed >= 10_000);
  }
  for (const action of ['on', 'status', 'monitor'] as const) {
    const r = await run(action, { power: 'off' }, { delayMs: 10_000 });
    assert.ok(r.elapsed < 10_000, action);
  }
});

test('errors while polling are tolerated until power_timeout, and reported with the timeout', async () => {
  const ok = await run('off', { power: 'on', failGets: [2, 3], settleMs: { off: 2500 } });
  assert.deepEqual(ok.lines, ['Success: Powered OFF']);
  const bad = await run('off', { power: 'on', failGets: [2, 3, 4, 5, 6, 7], settleMs: { off: Infinity } }, { powerTimeoutMs: 3000 });
  assert.equal(bad.error?.kind, 'power-timeout');
  assert.match(bad.error!.message, /last error: no answer/);
});

test('an error before any change fails at once, without sending a command', async () => {
  const r = await run('reboot', { failGets: [1] });
  assert.equal(r.error?.kind, 'no-answer');
  assert.deepEqual(r.device.journal, ['get:error']);
});

test('an aborted action stops waiting and fails', async () => {
  const clock = new FakeClock();
  const device = new FakeDevice(clock, { power: 'on', settleMs: { off: Infinity } });
  const ac = new AbortController();
  const { log } = memoryLogger();
  const origSleep = clock.sleep.bind(clock);
  clock.sleep = async (ms, signal) => { ac.abort(); return origSleep(ms, signal); };
  await assert.rejects(runPowerAction({ action: 'off', device, timing: TIMING, log, signal: ac.signal, clock }),
    (e: FenceError) => e.kind === 'power-timeout');
  assert.ok(clock.now() - 1_000_000 < TIMING.powerTimeoutMs);
});

test('property: on/off never report success unless the last state read is the requested one', async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom<'on' | 'off'>('on', 'off'), fc.constantFrom<'on' | 'off'>('on', 'off'),
    fc.integer({ min: 0, max: 30_000 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }),
    async (action, start, settle, ignore, retryOn) => {
      const r = await run(action, { power: start, settleMs: { [action]: settle }, ignoreSets: { [action]: ignore } },
        { powerTimeoutMs: 10_000, retryOn });
      const gets = r.device.journal.filter((j) => j.startsWith('get:'));
      if (r.code === 0) assert.equal(gets[gets.length - 1], `get:${action}`);
      else assert.equal(r.error?.kind, 'power-timeout');
    }), { numRuns: 300 });
});

test('the action budget covers every bounded step', () => {
  const t = { ...TIMING, powerWaitMs: 2000, delayMs: 5000 };
  const call = 8000;
  assert.ok(actionBudgetMs('status', t, call) >= call);
  assert.ok(actionBudgetMs('off', t, call) >= t.delayMs + 3 * call + t.powerWaitMs + t.powerTimeoutMs);
  assert.ok(actionBudgetMs('reboot', t, call) > actionBudgetMs('off', t, call) + t.powerTimeoutMs);
  assert.ok(actionBudgetMs('on', t, call) >= 2 * (t.powerTimeoutMs + t.powerWaitMs));
});

test('reboot: the power-on half gets the same 1 + retry_on attempts as the on action', async () => {
  const r = await run('reboot', { power: 'on', ignoreSets: { on: 1 } }, { powerTimeoutMs: 3000, retryOn: 1 });
  assert.equal(r.code, 0);
  assert.equal(r.device.power, 'on', 'the second "on" was sent and verified');
});
