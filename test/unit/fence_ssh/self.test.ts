// mode=self decisions against a scripted machine on a fake clock: what counts as on, off and
// rebooted, and how long each wait may take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runPowerAction, type EngineAction } from '../../../lib/fence/engine.ts';
import { FenceError } from '../../../lib/fence/errors.ts';
import { memoryLogger } from '../../../lib/log.ts';
import { selfDevice, SilenceWatch, type SelfSettings } from '../../../fence/ssh/self.ts';
import { FakeMachine, dropped, type Look } from './fakes.ts';

const S: SelfSettings = {
  offCommand: 'OFF', rebootCommand: 'REBOOT', bootIdCommand: 'cat /proc/sys/kernel/random/boot_id',
  loginMs: 5000, shellMs: 3000, powerWaitMs: 2000, powerTimeoutMs: 20000, statusSleepMs: 1000,
};
const timing = { delayMs: 0, powerWaitMs: 2000, powerTimeoutMs: 20000, statusSleepMs: 1000, retryOn: 1, method: 'onoff' as const };

async function act(action: EngineAction, m: FakeMachine, s: SelfSettings = S) {
  const { log, entries } = memoryLogger();
  const device = selfDevice(m, s, m.clock);
  const t0 = m.clock.now();
  try {
    const r = await runPowerAction({ action, device, timing, log, signal: new AbortController().signal, clock: m.clock });
    return { ok: true as const, ...r, ms: m.clock.now() - t0, log: entries.map((e) => `${e.level}: ${e.message}`) };
  } catch (e) {
    assert.ok(e instanceof FenceError, String(e));
    return { ok: false as const, error: e, ms: m.clock.now() - t0, log: entries.map((x) => `${x.level}: ${x.message}`) };
  } finally {
    await device.close?.();
  }
}

const up = (bootId: string): Look => ({ kind: 'up', bootId });
const silent: Look = { kind: 'silent' };
const refusing: Look = { kind: 'refusing' };

test('status: a node that logs us in and prints a boot id is ON', async () => {
  const m = new FakeMachine(up('b1'));
  const r = await act('status', m);
  assert.ok(r.ok);
  assert.deepEqual([r.code, r.lines], [0, ['Status: ON']]);
  assert.deepEqual(m.commands, [S.bootIdCommand]);
  assert.equal(m.closed, 1, 'the session is closed at the end');
});

test('status: unreachable is "cannot tell" (rc 1), never OFF; silence takes login_timeout, a refusal is immediate', async () => {
  for (const [look, ms] of [[silent, 5000], [refusing, 1]] as const) {
    const r = await act('status', new FakeMachine(look));
    assert.ok(!r.ok);
    assert.match(r.error.message, /^cannot tell whether root@192\.0\.2\.10:22 is on: .*mode=self cannot see the power state of a node it cannot log in to: it may be off, hung or cut off$/);
    assert.equal(r.error.kind, 'no-answer');
    assert.equal(r.ms, ms);
  }
});

test('status: a refused login or a failing boot id command is reported as such', async () => {
  const r = await act('status', new FakeMachine({ kind: 'no-login' }));
  assert.ok(!r.ok);
  assert.equal(r.error.kind, 'login-refused');
  assert.doesNotMatch(r.error.message, /hung or cut off/);
  const m = new FakeMachine(up('b1'));
  m.bootIdCommand = 'other';
  const b = await act('status', m, { ...S, bootIdCommand: 'cat /nonexistent' });
  assert.ok(!b.ok);
  assert.match(b.error.message, /boot_id_command failed on root@192\.0\.2\.10:22 \(exit 127\): sh: cat \/nonexistent: not found/);
  const slow = new FakeMachine(up('b1'));
  slow.bootIdCommand = 'none';
  slow.replies.set('slowcat', { code: 0, ms: 10_000 });
  const t = await act('status', slow, { ...S, bootIdCommand: 'slowcat' });
  assert.ok(!t.ok);
  assert.match(t.error.message, /did not finish within shell_timeout 3 s/);
  assert.ok(t.ms <= S.loginMs + S.shellMs);
});

test('on: a running node is "Already ON"; self mode cannot switch anything on', async () => {
  const r = await act('on', new FakeMachine(up('b1')));
  assert.ok(r.ok);
  assert.deepEqual(r.lines, ['Success: Already ON']);
  const d = await act('on', new FakeMachine(silent));
  assert.ok(!d.ok);
  assert.match(d.error.message, /cannot tell/);
});

test('off: accepted, dropped, then silent for power_wait = proven', async () => {
  const m = new FakeMachine(up('b1'));
  m.onDropCommand = (_c, mm) => { mm.then(0, refusing).then(50, silent); return dropped(8); };
  const r = await act('off', m);
  assert.ok(r.ok, !r.ok ? r.error.message : '');
  assert.deepEqual(r.lines, ['Success: Powered OFF']);
  assert.deepEqual(m.commands, [S.bootIdCommand, 'OFF'], 'one connection: status read, then the command');
  assert.ok(r.log.some((l) => /^info: off proven: off_command accepted, connection dropped, then no answer from .* for 2 s \(power_wait 2 s/.test(l)), r.log.join('\n'));
  assert.ok(r.ms >= 2000 && r.ms < 4000, `${r.ms}`);
});

test('off: a node whose network keeps answering (refusals) is not proven off, within power_timeout', async () => {
  const m = new FakeMachine(up('b1'));
  m.onDropCommand = (_c, mm) => { mm.then(0, refusing); return dropped(); };
  const r = await act('off', m);
  assert.ok(!r.ok);
  assert.equal(r.error.kind, 'power-timeout');
  assert.match(r.error.message, /still answers 20(\.\d)? s after off_command \(answered \(192\.0\.2\.10:22 refused the connection\)\): it is not proven off/);
  assert.ok(r.ms >= 20000 && r.ms <= 20000 + 1500, `${r.ms}`);
  const probes = m.connects.slice(1); // after the status read
  const gaps = probes.slice(1).map(([t], i) => t - probes[i]![0]);
  assert.ok(gaps.every((g) => g >= 900 && g <= 1100), `probes every stonith_status_sleep: ${gaps}`);
});

test('off: failures on our own side (no route, no DNS) are not the node\'s silence', async () => {
  const m = new FakeMachine(up('b1'));
  m.onDropCommand = (_c, mm) => { mm.then(0, { kind: 'local-failure' }); return dropped(); };
  const r = await act('off', m);
  assert.ok(!r.ok);
  assert.match(r.error.message, /still answers .*cannot reach 192\.0\.2\.10:22 from here \(ENETUNREACH.*it is not proven off/);
});

test('off: a node that logs us in again failed to power off, whatever its boot id says', async () => {
  const same = new FakeMachine(up('b1'));
  same.onDropCommand = (_c, mm) => { mm.then(0, refusing).then(300, up('b1')); return dropped(); };
  const s = await act('off', same);
  assert.ok(!s.ok);
  assert.match(s.error.message, /still runs 1(\.\d)? s after off_command \(same boot id b1\): it did not power off/);
  const rebooted = new FakeMachine(up('b1'));
  rebooted.onDropCommand = (_c, mm) => { mm.then(0, silent).then(1500, up('b2')); return dropped(); };
  const n = await act('off', rebooted);
  assert.ok(!n.ok);
  assert.match(n.error.message, /came back 1\.5 s after off_command with a new boot id \(b1 -> b2\): it rebooted instead of powering off/);
});

test('off: the command fails, stays, or is refused: rc 1 with the reason, and no probing', async () => {
  const cases: Array<[ReturnType<FakeMachine['onDropCommand']>, RegExp]> = [
    [{ kind: 'failed', code: 1, stdout: '', stderr: 'sh: 1: cannot create /proc/sysrq-trigger: Permission denied\npoweroff: must be superuser.\n', afterMs: 20 },
      /off_command failed on root@192\.0\.2\.10:22 \(exit 1\): poweroff: must be superuser\./],
    [{ kind: 'stayed', exitCode: 0, afterMs: 3000 }, /off_command returned success but the connection to .* did not drop within shell_timeout 3 s: the node still runs/],
    [{ kind: 'stayed', afterMs: 3000 }, /off_command was accepted but the connection .* did not drop/],
    [{ kind: 'rejected', reason: 'Channel open failure' }, /would not run off_command: Channel open failure/],
  ];
  for (const [outcome, re] of cases) {
    const m = new FakeMachine(up('b1'));
    m.onDropCommand = () => outcome;
    const r = await act('off', m);
    assert.ok(!r.ok);
    assert.match(r.error.message, re);
    assert.equal(m.connects.length, 1, 'no probes after a failed command');
    assert.ok(r.ms <= S.loginMs + 2 * S.shellMs);
  }
});

test('off or reboot of a node that cannot be reached fails before anything is sent', async () => {
  for (const action of ['off', 'reboot'] as const) {
    const m: FakeMachine = new FakeMachine(silent);
    const r = await act(action, m);
    assert.ok(!r.ok);
    assert.match(r.error.message, /cannot tell/);
    assert.deepEqual(m.commands, []);
  }
});

test('reboot: proven by a new boot id when the node answers again', async () => {
  const m = new FakeMachine(up('b1'));
  m.onDropCommand = (c, mm) => { assert.equal(c, 'REBOOT'); mm.then(0, refusing).then(200, silent).then(4000, refusing).then(6000, up('b2')); return dropped(); };
  const r = await act('reboot', m);
  assert.ok(r.ok, !r.ok ? r.error.message : '');
  assert.deepEqual(r.lines, ['Success: Rebooted']);
  assert.ok(r.log.some((l) => /^info: reboot proven: boot id changed \(b1 -> b2\); .* answered again 6(\.\d)? s after reboot_command/.test(l)), r.log.join('\n'));
  assert.ok(r.ms >= 6000 && r.ms < 8000, `${r.ms}`);
});

test('reboot: the same boot id afterwards is a failure (sshd restarted, the kernel did not)', async () => {
  const m = new FakeMachine(up('b1'));
  m.onDropCommand = (_c, mm) => { mm.then(0, refusing).then(400, up('b1')); return dropped(); };
  const r = await act('reboot', m);
  assert.ok(!r.ok);
  assert.match(r.error.message, /answered 1(\.\d)? s after reboot_command with the same boot id \(b1\): it did not reboot/);
});

test('reboot: not back within power_timeout counts only after power_wait of silence, with a warning', async () => {
  const dark = new FakeMachine(up('b1'));
  dark.onDropCommand = (_c, mm) => { mm.then(0, silent); return dropped(); };
  const r = await act('reboot', dark);
  assert.ok(r.ok);
  assert.ok(r.log.some((l) => /^warn: reboot not proven by boot id: .* did not answer again within power_timeout 20 s; .*no answer at all for 20 s, so it is off or still booting/.test(l)), r.log.join('\n'));
  assert.ok(r.ms >= 20000 && r.ms <= 20000 + S.loginMs, `${r.ms}`);

  const refuses = new FakeMachine(up('b1'));
  refuses.onDropCommand = (_c, mm) => { mm.then(0, refusing); return dropped(); };
  const f = await act('reboot', refuses);
  assert.ok(!f.ok);
  assert.match(f.error.message, /no proof that .* rebooted: it did not answer again within power_timeout 20 s and was never silent for power_wait 2 s/);

  const blink = new FakeMachine(up('b1'));
  blink.onDropCommand = (_c, mm) => { mm.then(0, silent).then(1200, refusing); return dropped(); };
  const b = await act('reboot', blink);
  assert.ok(!b.ok, 'a 1.2 s blink is not 2 s of silence');
});

test('silence is measured over observed probes only', () => {
  const w = new SilenceWatch();
  w.add({ kind: 'silent', startedAt: 0, endedAt: 1000, detail: '' });
  w.add({ kind: 'silent', startedAt: 1100, endedAt: 2100, detail: '' });
  assert.deepEqual([w.running, w.current, w.longest], [true, 2100, 2100]);
  w.add({ kind: 'answered', startedAt: 2200, endedAt: 2201, detail: '' });
  assert.deepEqual([w.running, w.current, w.longest], [false, 0, 2100]);
  w.add({ kind: 'silent', startedAt: 3000, endedAt: 3500, detail: '' });
  assert.deepEqual([w.current, w.longest], [500, 2100]);
});

// What a node may look like after the drop: a sequence of stretches.
const stretch = fc.record({
  ms: fc.integer({ min: 1, max: 8000 }),
  look: fc.constantFrom<Look>(silent, refusing, up('b1'), up('b2'), { kind: 'no-login' }),
});

function timeline(m: FakeMachine, parts: Array<{ ms: number; look: Look }>, last: Look): void {
  let at = 0;
  for (const p of parts) { m.then(at, p.look); at += p.ms; }
  m.then(at, last);
}

/** Longest silent stretch in the script, and when a login first became possible (and with what boot id). */
function facts(parts: Array<{ ms: number; look: Look }>, last: Look) {
  const all = [...parts, { ms: Infinity, look: last }];
  let longest = 0; let run = 0; let at = 0; let firstUp: { at: number; bootId: string } | undefined;
  for (const p of all) {
    if (p.look.kind === 'silent') { run += p.ms; longest = Math.max(longest, run); } else run = 0;
    if (p.look.kind === 'up' && !firstUp) firstUp = { at, bootId: p.look.bootId };
    at += p.ms;
  }
  return { longest, firstUp };
}

test('property: off never succeeds without power_wait of real silence, and never takes longer than its bounds', async () => {
  await fc.assert(fc.asyncProperty(fc.array(stretch, { maxLength: 6 }), fc.constantFrom<Look>(silent, refusing, up('b1')), async (parts, last) => {
    const m = new FakeMachine(up('b1'));
    m.onDropCommand = (_c, mm) => { timeline(mm, parts, last); return dropped(0); };
    const r = await act('off', m);
    const f = facts(parts, last);
    if (r.ok) assert.ok(f.longest >= S.powerWaitMs, `success with only ${f.longest} ms of silence`);
    if (parts.length === 0 && last.kind === 'silent') assert.ok(r.ok, 'a node that goes dark for good is proven off');
    assert.ok(r.ms <= 30 + 5 + S.powerTimeoutMs + S.powerWaitMs + S.loginMs + S.statusSleepMs, `${r.ms} ms`);
  }), { numRuns: 300 });
});

test('property: reboot succeeds only on a new boot id or on power_wait of silence; the same boot id first always fails', async () => {
  await fc.assert(fc.asyncProperty(fc.array(stretch, { maxLength: 6 }), fc.constantFrom<Look>(silent, refusing, up('b1'), up('b2')), async (parts, last) => {
    const m = new FakeMachine(up('b1'));
    m.onDropCommand = (_c, mm) => { timeline(mm, parts, last); return dropped(0); };
    const r = await act('reboot', m);
    const f = facts(parts, last);
    if (r.ok) {
      const proven = r.log.some((l) => l.includes('reboot proven: boot id changed (b1 -> b2)'));
      assert.ok(proven || f.longest >= S.powerWaitMs, r.log.join('\n'));
      if (proven) assert.ok(f.firstUp?.bootId === 'b2' || parts.some((p) => p.look.kind === 'up'));
    }
    if (f.firstUp && f.firstUp.bootId === 'b1' && f.firstUp.at === 0) assert.ok(!r.ok, 'back at once with the same boot id');
    assert.ok(r.ms <= 30 + 5 + S.powerTimeoutMs + S.loginMs + S.shellMs + S.statusSleepMs, `${r.ms} ms`);
  }), { numRuns: 300 });
});
