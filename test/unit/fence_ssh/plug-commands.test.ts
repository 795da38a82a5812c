import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fillTemplate, plugProblem, PLUG_CHARS } from '../../../fence/ssh/plug.ts';
import {
  HOST_PATTERN_DEFAULTS, SELF_DEFAULTS, lastLine, patternProblem, readBootId, readList, readStatus,
} from '../../../fence/ssh/commands.ts';

test('plugs: names of VMs, hosts, outlets and IPv6 addresses pass', () => {
  for (const p of ['vm1', 'n1.example.com', 'web_01', 'outlet-7', '2001:db8::10', 'A.b_C-9:z', 'x'.repeat(255)]) {
    assert.equal(plugProblem(p), undefined, p);
  }
});

test('plugs: shell syntax, quotes, spaces, control characters and option-like names are refused', () => {
  const evil = ['vm1;reboot', 'vm1 && halt', '$(reboot)', '`reboot`', "vm'1", 'vm"1', 'vm 1', 'vm1|x', 'vm1>f', 'vm1<f',
    'vm1\nreboot', 'vm1\treboot', 'vm*', 'vm?', '~root', 'a/b', '../x', 'vm1#', 'vm$HOME', '-rf', '--all', '', 'x'.repeat(256), 'vm\u00e9'];
  for (const p of evil) assert.notEqual(plugProblem(p), undefined, JSON.stringify(p));
  assert.match(plugProblem('vm1;reboot')!, /found ";"/);
  assert.match(plugProblem('a b\n')!, /found space, 0x0a/);
  assert.match(plugProblem('-rf')!, /must not start with "-"/);
});

test('property: a plug is accepted exactly when it is made of the allowed characters and does not start with "-"', () => {
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), (p) => {
    const ok = PLUG_CHARS.test(p) && !p.startsWith('-');
    assert.equal(plugProblem(p) === undefined, ok, JSON.stringify(p));
  }), { numRuns: 5000 });
});

test('property: whatever survives plugProblem is inert inside single quotes in a POSIX shell', () => {
  fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9._:-]{1,30}$/), (p) => {
    if (plugProblem(p)) return;
    const cmd = fillTemplate('virsh destroy {plug}', p);
    assert.equal(cmd, `virsh destroy '${p}'`);
    assert.ok(!/[;&|`$<>\\"\s]/.test(p));
  }));
});

test('templates: {plug} bare or already quoted, several times, or absent', () => {
  assert.equal(fillTemplate('virsh domstate {plug}', 'vm1'), "virsh domstate 'vm1'");
  assert.equal(fillTemplate("virsh domstate '{plug}'", 'vm1'), "virsh domstate 'vm1'");
  assert.equal(fillTemplate('virsh domstate "{plug}"', 'vm1'), "virsh domstate 'vm1'");
  assert.equal(fillTemplate('echo {plug} {plug}', 'a'), "echo 'a' 'a'");
  assert.equal(fillTemplate('power off', undefined), 'power off');
  assert.equal(fillTemplate('x ${HOME} {plugs}', 'a'), 'x ${HOME} {plugs}');
  assert.throws(() => fillTemplate('virsh start {plug}', undefined), /needs a plug/);
  assert.throws(() => fillTemplate('virsh start {plug}', 'a;b'), /plug may only hold/);
});

test('status output: off is checked before on; both or neither is garbage, never a guess', () => {
  const on = HOST_PATTERN_DEFAULTS.status_on_pattern;
  const off = HOST_PATTERN_DEFAULTS.status_off_pattern;
  const cases: Array<[string, 'on' | 'off' | 'garbage']> = [
    ['running\n\n', 'on'], ['shut off\n', 'off'], ['Shut Off', 'off'], ['paused', 'on'], ['in shutdown', 'on'],
    ['crashed', 'off'], ['ON', 'on'], ['  off  ', 'off'], ['powered off', 'off'], ['', 'garbage'],
    ['error: failed to get domain', 'garbage'], ['running\nshut off', 'garbage'], ['offline', 'garbage'], ['turned on', 'garbage'],
  ];
  for (const [text, want] of cases) {
    const r = readStatus(text, on, off);
    assert.equal('state' in r ? r.state : 'garbage', want, JSON.stringify(text));
  }
  assert.match((readStatus('what', on, off) as { problem: string }).problem, /matches neither .*"what"/);
  assert.match((readStatus('on\noff', on, off) as { problem: string }).problem, /matches both/);
  assert.deepEqual(readStatus('Power: 1', 'Power: 1', 'Power: 0'), { state: 'on' });
  assert.equal(patternProblem('(unclosed'), 'not a valid regular expression: Invalid regular expression: /(unclosed/im: Unterminated group');
  assert.equal(patternProblem(on), undefined);
});

test('boot ids, lists and messages', () => {
  assert.equal(readBootId('483765cc-b90f-445d-a0a0-4c694cefd5c8\n'), '483765cc-b90f-445d-a0a0-4c694cefd5c8');
  assert.equal(readBootId(''), undefined);
  assert.equal(readBootId('a\nb\n'), undefined);
  assert.equal(readBootId('two words'), undefined);
  assert.deepEqual(readList('vm1\n\n  vm2  web server \n'), [{ id: 'vm1' }, { id: 'vm2', alias: 'web server' }]);
  assert.equal(lastLine('a\nb\n\n', 'c'), 'b');
  assert.equal(lastLine('', ' c \n'), 'c');
  assert.equal(lastLine('', ''), '');
});

test('self-mode defaults: sysrq first (enabled first), forced poweroff/reboot as fallback, kernel boot id', () => {
  assert.match(SELF_DEFAULTS.off_command, /^echo 1 > \/proc\/sys\/kernel\/sysrq; if echo o > \/proc\/sysrq-trigger; .*poweroff -ff/);
  assert.match(SELF_DEFAULTS.reboot_command, /^echo 1 > \/proc\/sys\/kernel\/sysrq; if echo b > \/proc\/sysrq-trigger; .*reboot -ff/);
  assert.equal(SELF_DEFAULTS.boot_id_command, 'cat /proc/sys/kernel/random/boot_id');
  for (const c of Object.values(SELF_DEFAULTS)) assert.ok(!/\bsync\b|systemctl (poweroff|reboot)\b/.test(c), 'no clean shutdown, no sync');
});
