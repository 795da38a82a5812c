// The power engine's hooks that fence_ssh needs (lib/fence/engine.ts changeAndProve, close via
// lib/fence/agent.ts): devices that prove off/reboot themselves, and release their connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPowerAction, type FenceDevice, type PowerState } from '../../../lib/fence/engine.ts';
import { memoryLogger } from '../../../lib/log.ts';
import { FenceError } from '../../../lib/fence/errors.ts';
import { FakeClock } from '../fence/fakes.ts';

const timing = { delayMs: 0, powerWaitMs: 0, powerTimeoutMs: 5000, statusSleepMs: 1000, retryOn: 1, method: 'onoff' as const };

function proving(power: PowerState | 'unreachable', prove: 'ok' | 'fail' = 'ok') {
  const journal: string[] = [];
  const device: FenceDevice = {
    async getPower() {
      journal.push('get');
      if (power === 'unreachable') throw new FenceError('no-answer', 'cannot tell');
      return power;
    },
    async setPower(_c, s) { journal.push(`set:${s}`); },
    async changeAndProve(_c, action) {
      journal.push(`prove:${action}`);
      if (prove === 'fail') throw new FenceError('power-timeout', 'not proven');
    },
  };
  return { device, journal };
}

async function act(action: 'on' | 'off' | 'reboot' | 'status', device: FenceDevice) {
  const { log } = memoryLogger();
  return runPowerAction({ action, device, timing, log, signal: new AbortController().signal, clock: new FakeClock() });
}

test('off and reboot go to changeAndProve after the status read, never to setPower', async () => {
  for (const action of ['off', 'reboot'] as const) {
    const { device, journal } = proving('on');
    const r = await act(action, device);
    assert.deepEqual(r.lines, [action === 'off' ? 'Success: Powered OFF' : 'Success: Rebooted']);
    assert.deepEqual(journal, ['get', `prove:${action}`]);
  }
});

test('a failed proof fails the action; an unreadable status fails before anything is changed', async () => {
  const { device } = proving('on', 'fail');
  await assert.rejects(act('off', device), /not proven/);
  const dark = proving('unreachable');
  await assert.rejects(act('reboot', dark.device), /cannot tell/);
  assert.deepEqual(dark.journal, ['get']);
});

test('off of a device already off stays "Already OFF"; on and status are unchanged', async () => {
  const off = proving('off');
  assert.deepEqual((await act('off', off.device)).lines, ['Success: Already OFF']);
  assert.deepEqual(off.journal, ['get']);
  const on = proving('on');
  assert.deepEqual((await act('on', on.device)).lines, ['Success: Already ON']);
  assert.deepEqual((await act('status', on.device)).code, 0);
});

test('the runtime closes the device after the action, whether it succeeded or failed', async () => {
  const { defineFenceAgent, executeFenceAgent } = await import('../../../lib/fence/agent.ts');
  const { actionOptions, connectionOptions, powerTimingOptions, loggingOptions, infoOptions } = await import('../../../lib/fence/groups.ts');
  const { defineOptions } = await import('../../../lib/fence/options.ts');
  const options = defineOptions({ ...actionOptions, ...connectionOptions({ defaultPort: 22 }), ...powerTimingOptions(), ...loggingOptions, ...infoOptions });
  for (const fail of [false, true]) {
    let closed = 0;
    const agent = defineFenceAgent({
      name: 'fence_t', version: '1', shortdesc: 't', longdesc: 't', options,
      device: () => ({
        async getPower() { if (fail) throw new FenceError('no-answer', 'down'); return 'on' as const; },
        async setPower() { /* nothing */ },
        close() { closed++; },
      }),
    });
    const out = await executeFenceAgent(agent, { argv: ['-o', 'status', '-a', '192.0.2.1'], logSink: () => undefined, clock: new FakeClock() });
    assert.equal(out.code, fail ? 1 : 0);
    assert.equal(closed, 1);
  }
});
