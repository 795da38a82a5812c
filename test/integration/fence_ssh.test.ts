// fence_ssh, the built bundle, against real OpenSSH sshd machines (test/integration/support/sshd.ts)
// in network namespaces fs-* on 203.0.113.0/24, run from a client namespace with the environment
// Pacemaker gives fence agents. "Power" is simulated: the commands the tests hand to fence_ssh
// only end the simulated machine (its pid namespace) and write its next boot id. fence_ssh's
// own default commands (sysrq) are never used here: every self-mode call passes off_command,
// reboot_command and boot_id_command, and the machines could not act on them anyway.
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { run, type RunResult } from '../../lib/exec.ts';
import { stonithAdminMetadata } from './support/stonith.ts';
import { TestNet, requireRoot } from './support/netns.ts';
import { keygen, startSshNode, stopAllSshNodes, type SshNode } from './support/sshd.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AGENT = join(ROOT, 'dist/sbin/fence_ssh');
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const PASSWORD = 'Vig1l-ssh-pw-4711'; // unique enough to find anywhere it must not be
const PASSPHRASE = 'Vig1l-key-pass-0815';

// fs-t-*: distinct from a lab run with prefix fs (fs-sw, fs-bmc*, fs-client), which TestNet's cleanup would otherwise take.
const net = new TestNet('fs-t');
const scratch = mkdtempSync(join(tmpdir(), 'fs-test-'));
const KEY = join(scratch, 'id_ed25519');
const WRONG_KEY = join(scratch, 'id_wrong');
const ENC_KEY = join(scratch, 'id_encrypted');
const KH = join(scratch, 'known_hosts');
const children: ChildProcess[] = [];
let pubKey = '';
let encPub = '';

interface Timed extends RunResult { took: number }

/** Run the bundle inside the client namespace, environment wiped as Pacemaker does. */
async function agent(args: string[], stdin = '', env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Timed> {
  const t0 = Date.now();
  const r = await run('ip', ['netns', 'exec', net.ns('cli'), 'env', '-i', `PATH=${PATH}`, `HOME=${scratch}`,
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`), AGENT, ...args], { timeoutMs, input: stdin });
  return { ...r, took: Date.now() - t0 };
}

const sshdLog = (n: SshNode) => readFileSync(join(n.dir, 'state/sshd.log'), 'utf8');
const connectionsSeen = (n: SshNode) => (sshdLog(n).match(/Connection from /g) ?? []).length;

before(async () => {
  requireRoot('fence_ssh integration tests');
  const b = await run(process.execPath, [join(ROOT, 'build/bundle.mjs'), 'fence_ssh'], { timeoutMs: 60_000, cwd: ROOT });
  assert.equal(b.code, 0, b.stderr);
  net.create();
  net.addHost({ name: 'cli', index: 1, v4: ['203.0.113.1/24'] });
  // 203.0.113.99 is black-holed: the client sends to a MAC nobody has, nothing ever answers.
  net.exec('cli', 'ip', ['neigh', 'add', '203.0.113.99', 'lladdr', '02:00:5e:10:00:ee', 'dev', 'eth0', 'nud', 'permanent']);
  pubKey = keygen(KEY, 'ed25519', 'fence').pub;
  keygen(WRONG_KEY, 'ed25519', 'wrong');
  encPub = keygen(ENC_KEY, 'ed25519', 'encrypted', PASSPHRASE).pub;
});

after(async () => {
  for (const c of children) if (c.pid && c.exitCode === null) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
  await stopAllSshNodes();
  net.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

function knownHosts(...nodes: SshNode[]): string {
  writeFileSync(KH, nodes.map((n) => `${n.knownHostsLine()}\n`).join(''));
  return KH;
}

type Way = 'stdin' | 'short' | 'long';
const WAYS: Way[] = ['stdin', 'short', 'long'];

/** Options for one call, in the three forms an agent can get them. */
function invoke(way: Way, o: Record<string, string | undefined>, env: Record<string, string> = {}): Promise<Timed> {
  const entries = Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined);
  if (way === 'stdin') return agent([], `# ${o.action} via stdin\n${entries.map(([k, v]) => `${k}=${v}`).join('\n')}\n`, env);
  const SHORT: Record<string, string> = { action: '-o', ip: '-a', ipport: '-u', username: '-l', identity_file: '-k', password: '-p', password_script: '-S', plug: '-n' };
  const args: string[] = [];
  for (const [k, v] of entries) {
    if (way === 'short' && SHORT[k]) args.push(SHORT[k]!, v);
    else if (way === 'long' && k !== 'action') args.push(`--${k.replace(/_/g, '-')}`, v);
    else args.push(`--${k.replace(/_/g, '-')}=${v}`);
  }
  return agent(args, '', env);
}

function selfOptions(n: SshNode, action: string, extra: Record<string, string | undefined> = {}) {
  return {
    action, ip: n.address, username: n.user, identity_file: KEY, known_hosts: KH,
    off_command: n.offCommand(), reboot_command: n.rebootCommand(), boot_id_command: n.bootIdCommand(),
    login_timeout: '2', shell_timeout: '2', power_wait: '0.5', power_timeout: '10', stonith_status_sleep: '0.2',
    ...extra,
  };
}

describe('mode=self: every action, three ways (stdin, short options, long options)', () => {
  let n1: SshNode;
  before(async () => {
    net.addHost({ name: 'n1', index: 10, v4: ['203.0.113.10/24'] });
    n1 = await startSshNode({ net, host: 'n1', address: '203.0.113.10', uid: 64210, authorizedKeys: [pubKey] });
  });
  after(() => n1.stop());

  interface Case { action: string; rc: number; out: string | RegExp; after?: 'on' | 'off'; newBoot?: boolean }
  const CASES: Case[] = [
    { action: 'status', rc: 0, out: 'Status: ON\n', after: 'on' },
    { action: 'monitor', rc: 0, out: '', after: 'on' },
    { action: 'on', rc: 0, out: 'Success: Already ON\n', after: 'on' },
    { action: 'off', rc: 0, out: 'Success: Powered OFF\n', after: 'off' },
    { action: 'reboot', rc: 0, out: 'Success: Rebooted\n', after: 'on', newBoot: true },
    { action: 'list', rc: 0, out: '' },
    { action: 'list-status', rc: 0, out: '' },
    { action: 'validate-all', rc: 0, out: '' },
    { action: 'metadata', rc: 0, out: /^<\?xml version="1.0" \?>\n<resource-agent name="fence_ssh"/ },
    { action: 'meta-data', rc: 0, out: /<resource-agent name="fence_ssh"/ },
    { action: 'manpage', rc: 0, out: /^\.TH FENCE_SSH 8/ },
  ];
  for (const c of CASES) {
    for (const way of WAYS) {
      test(`${c.action} via ${way}: rc ${c.rc}`, async () => {
        if (n1.power() !== 'on') await n1.powerOn();
        knownHosts(n1);
        const boot0 = n1.bootId();
        const boots0 = n1.bootCount();
        const r = await invoke(way, selfOptions(n1, c.action));
        assert.equal(r.code, c.rc, `${r.stdout}${r.stderr}`);
        if (typeof c.out === 'string') assert.equal(r.stdout, c.out);
        else assert.match(r.stdout, c.out);
        if (c.after) {
          if (c.after === 'on') await n1.waitFor('on');
          assert.equal(n1.power(), c.after);
        }
        if (c.newBoot) {
          assert.equal(n1.bootCount(), boots0 + 1);
          assert.notEqual(n1.bootId(), boot0);
        } else if (c.after === 'on') assert.equal(n1.bootCount(), boots0, 'not rebooted');
        const warnings = r.stderr.split('\n').filter((l) => /WARNING|ERROR/.test(l) && !l.includes('mode=self cannot fence'));
        assert.deepEqual(warnings, []);
      });
    }
  }
});

describe('mode=host: a fake hypervisor, every action three ways', () => {
  let hv: SshNode;
  before(async () => {
    net.addHost({ name: 'hv', index: 20, v4: ['203.0.113.20/24'] });
    hv = await startSshNode({ net, host: 'hv', address: '203.0.113.20', uid: 64220, authorizedKeys: [pubKey], password: PASSWORD });
    hv.vm('vm1').set('running');
    hv.vm('vm2').set('shut off');
  });
  after(() => hv.stop());

  const hostOptions = (action: string, plug?: string, extra: Record<string, string> = {}) => ({
    action, ip: hv.address, username: hv.user, identity_file: KEY, known_hosts: KH, mode: 'host', plug,
    status_command: 'fakevirt domstate {plug}', on_command: 'fakevirt start {plug}', off_command: 'fakevirt destroy {plug}',
    list_command: 'fakevirt list', power_wait: '0', shell_timeout: '2', login_timeout: '2', stonith_status_sleep: '0.2', ...extra,
  });

  interface Case { action: string; before?: 'running' | 'shut off'; rc: number; out: string | RegExp; after?: 'running' | 'shut off'; log: string[] }
  const CASES: Case[] = [
    { action: 'status', before: 'running', rc: 0, out: 'Status: ON\n', after: 'running', log: [] },
    { action: 'status', before: 'shut off', rc: 2, out: 'Status: OFF\n', after: 'shut off', log: [] },
    { action: 'on', before: 'shut off', rc: 0, out: 'Success: Powered ON\n', after: 'running', log: ['start vm1'] },
    { action: 'on', before: 'running', rc: 0, out: 'Success: Already ON\n', after: 'running', log: [] },
    { action: 'off', before: 'running', rc: 0, out: 'Success: Powered OFF\n', after: 'shut off', log: ['destroy vm1'] },
    { action: 'off', before: 'shut off', rc: 0, out: 'Success: Already OFF\n', after: 'shut off', log: [] },
    { action: 'reboot', before: 'running', rc: 0, out: 'Success: Rebooted\n', after: 'running', log: ['destroy vm1', 'start vm1'] },
    { action: 'monitor', rc: 0, out: '', log: [] },
    { action: 'list', rc: 0, out: 'vm1,\nvm2,\n', log: [] },
    { action: 'list-status', before: 'running', rc: 0, out: 'vm1,,ON\nvm2,,OFF\n', log: [] },
    { action: 'validate-all', rc: 0, out: '', log: [] },
  ];
  for (const c of CASES) {
    for (const way of WAYS) {
      test(`${c.action}${c.before ? ` (vm1 ${c.before})` : ''} via ${way}: rc ${c.rc}`, async () => {
        knownHosts(hv);
        if (c.before) hv.vm('vm1').set(c.before);
        hv.vm('vm2').set('shut off');
        const log0 = hv.vmLog().length;
        const r = await invoke(way, hostOptions(c.action, c.action.startsWith('list') || c.action === 'monitor' ? undefined : 'vm1'));
        assert.equal(r.code, c.rc, `${r.stdout}${r.stderr}`);
        if (typeof c.out === 'string') assert.equal(r.stdout, c.out);
        else assert.match(r.stdout, c.out);
        if (c.after) assert.equal(hv.vm('vm1').get(), c.after);
        assert.deepEqual(hv.vmLog().slice(log0), c.log);
        assert.ok(!/WARNING|ERROR/.test(r.stderr), r.stderr);
      });
    }
  }

  test('method=cycle runs reboot_command; password login (stdin) works too', async () => {
    knownHosts(hv);
    hv.vm('vm1').set('running');
    const log0 = hv.vmLog().length;
    const o = { ...hostOptions('reboot', 'vm1', { method: 'cycle', reboot_command: 'fakevirt reset {plug}' }), identity_file: undefined, password: PASSWORD };
    const r = await invoke('stdin', o);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Success: Rebooted\n');
    assert.deepEqual(hv.vmLog().slice(log0), ['reset vm1']);
  });

  test('a plug with ;, $(), quotes or spaces is refused before anything is sent', async () => {
    knownHosts(hv);
    const before = connectionsSeen(hv);
    const log0 = hv.vmLog().length;
    for (const plug of ['vm1;touch /tmp/fs-pwned', '$(touch /tmp/fs-pwned)', '`touch /tmp/fs-pwned`', "vm1' || touch /tmp/fs-pwned '",
      'vm1"; touch /tmp/fs-pwned; "', 'vm1 vm2', 'vm1\ttab', '-all']) {
      for (const way of WAYS) {
        const r = await invoke(way, hostOptions('off', plug));
        assert.equal(r.code, 1, `${JSON.stringify(plug)} via ${way}`);
        assert.match(r.stderr, /--plug \(plug\): (may only hold letters, digits and \. _ : - \(found .*\); it is refused before anything is sent|must not start with "-")/);
        assert.equal(r.stdout, '');
      }
    }
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(connectionsSeen(hv), before, 'not one TCP connection reached the controller');
    assert.deepEqual(hv.vmLog().slice(log0), []);
    assert.ok(!existsSync('/tmp/fs-pwned'));
    assert.equal(hv.vm('vm1').get() !== undefined, true);
  });

  test('errors from the controller are reported in its words', async () => {
    knownHosts(hv);
    const unknown = await invoke('stdin', hostOptions('status', 'vm9'));
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /status_command failed on fsnode64220@203\.0\.113\.20:22 \(exit 1\): error: failed to get domain 'vm9'/);
    const garbage = await invoke('stdin', hostOptions('status', 'vm1', { status_command: 'echo maybe' }));
    assert.equal(garbage.code, 1);
    assert.match(garbage.stderr, /matches neither status_on_pattern nor status_off_pattern: "maybe"/);
  });
});

describe('mode=self: proofs', () => {
  let n2: SshNode;
  let n3: SshNode;
  before(async () => {
    net.addHost({ name: 'n2', index: 11, v4: ['203.0.113.11/24'] });
    net.addHost({ name: 'n3', index: 12, v4: ['203.0.113.12/24'] });
    n2 = await startSshNode({ net, host: 'n2', address: '203.0.113.11', uid: 64211, authorizedKeys: [pubKey], bootDelayMs: 800 });
    // A machine whose "off" leaves its network up: the address keeps refusing connections.
    n3 = await startSshNode({ net, host: 'n3', address: '203.0.113.12', uid: 64212, authorizedKeys: [pubKey], offNetwork: 'keep' });
  });
  after(async () => { await n2.stop(); await n3.stop(); });

  test('reboot is proven by the changed boot id, and the verbose log says so', async () => {
    if (n2.power() !== 'on') await n2.powerOn();
    knownHosts(n2);
    const before = n2.bootId();
    const r = await invoke('stdin', selfOptions(n2, 'reboot', { verbose: '1' }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Success: Rebooted\n');
    await n2.waitFor('on');
    const afterId = n2.bootId();
    assert.notEqual(afterId, before);
    assert.match(r.stderr, new RegExp(`INFO: reboot proven: boot id changed \\(${before} -> ${afterId}\\)`));
    assert.match(r.stderr, /INFO: connection dropped \(connection closed\) \d+ ms after reboot_command/);
    assert.deepEqual(n2.events().slice(-4), ['exit reboot', 'dark', `boot ${afterId}`, 'light']);
  });

  test('the same boot id after "reboot" is a failure (rc 1)', async () => {
    if (n2.power() !== 'on') await n2.powerOn();
    knownHosts(n2);
    const before = n2.bootId();
    const r = await invoke('stdin', selfOptions(n2, 'reboot', { reboot_command: n2.rebootCommand({ newBootId: false }) }));
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`ERROR: Failed: fsnode64211@203\\.0\\.113\\.11:22 answered [\\d.]+ s after reboot_command with the same boot id \\(${before}\\): it did not reboot`));
    await n2.waitFor('on');
    assert.equal(n2.bootId(), before);
  });

  test('the default boot_id_command reads the machine\'s boot id (the kernel\'s file, bound in the machine)', async () => {
    if (n2.power() !== 'on') await n2.powerOn();
    knownHosts(n2);
    const r = await invoke('stdin', selfOptions(n2, 'status', { boot_id_command: undefined, verbose: '1' }));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`is up, boot id ${n2.bootId()}`));
  });

  test('off, then status: unreachable is "cannot tell" (rc 1), never OFF', async () => {
    if (n2.power() !== 'on') await n2.powerOn();
    knownHosts(n2);
    const off = await invoke('stdin', selfOptions(n2, 'off', { verbose: '1' }));
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stderr, /INFO: off proven: off_command accepted, connection dropped, then no answer from .* for [\d.]+ s \(power_wait 0\.5 s/);
    assert.equal(n2.power(), 'off');
    const st = await invoke('stdin', selfOptions(n2, 'status'));
    assert.equal(st.code, 1);
    assert.equal(st.stdout, '', 'no "Status: OFF"');
    assert.match(st.stderr, /cannot tell whether fsnode64211@203\.0\.113\.11:22 is on: no answer from 203\.0\.113\.11:22 within 2 s \(TCP connect\)\. mode=self cannot see the power state of a node it cannot log in to: it may be off, hung or cut off/);
    assert.ok(st.took < 2000 + 1500, `${st.took} ms`);
    const again = await invoke('stdin', selfOptions(n2, 'off'));
    assert.equal(again.code, 1, 'an unreachable node cannot be fenced (or shown off) by self mode');
    await n2.powerOn();
  });

  test('off is not claimed while the address still answers (connection refused) for power_timeout', async () => {
    knownHosts(n3);
    const r = await invoke('stdin', selfOptions(n3, 'off', { power_timeout: '2' }));
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /fsnode64212@203\.0\.113\.12:22 still answers 2(\.\d)? s after off_command \(answered \(203\.0\.113\.12:22 refused the connection \(the host answered; nothing listens on port 22\)\)\): it is not proven off/);
    assert.ok(r.took < 2000 + 2000 + 1500, `${r.took} ms`);
    await n3.powerOn();
  });

  test('off_command that fails or does not drop the connection: rc 1 with the reason, within shell_timeout', async () => {
    knownHosts(n3);
    const fails = await invoke('stdin', selfOptions(n3, 'off', { off_command: 'echo "poweroff: must be superuser" >&2; exit 1' }));
    assert.equal(fails.code, 1);
    assert.match(fails.stderr, /off_command failed on fsnode64212@203\.0\.113\.12:22 \(exit 1\): poweroff: must be superuser/);
    const stays = await invoke('stdin', selfOptions(n3, 'off', { off_command: 'true', shell_timeout: '1' }));
    assert.equal(stays.code, 1);
    assert.match(stays.stderr, /off_command returned success but the connection to .* did not drop within shell_timeout 1 s: the node still runs/);
    assert.ok(stays.took < 2000 + 1000 + 1500, `${stays.took} ms`);
    assert.equal(n3.power(), 'on');
  });

  test('a session that goes silent (keepalives unanswered) counts as dropped, but a node that still logs us in is not off', async () => {
    knownHosts(n3);
    // Freezes only this session's sshd: the connection stays open, nothing answers on it any more.
    const r = await invoke('stdin', selfOptions(n3, 'off', { off_command: 'kill -STOP $PPID', verbose: '1' }));
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /INFO: connection dropped \(no answer to keepalives\) \d+ ms after off_command/);
    assert.match(r.stderr, new RegExp(`still runs [\\d.]+ s after off_command \\(same boot id ${n3.bootId()}\\): it did not power off`));
    assert.ok(r.took < 2000 + 2000 + 2000, `${r.took} ms`);
  });

  test('a boot id command that hangs is stopped by shell_timeout', async () => {
    knownHosts(n3);
    const r = await invoke('stdin', selfOptions(n3, 'status', { boot_id_command: 'sleep 30', shell_timeout: '1' }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /boot_id_command did not finish within shell_timeout 1 s/);
    assert.ok(r.took < 2000 + 1000 + 1500, `${r.took} ms`);
  });
});

describe('failures: rc 1, the right reason, within the timeouts', () => {
  let n4: SshNode;
  let mute: ChildProcess;
  before(async () => {
    net.addHost({ name: 'n4', index: 13, v4: ['203.0.113.13/24'] });
    net.addHost({ name: 'mute', index: 30, v4: ['203.0.113.30/24'] });
    n4 = await startSshNode({ net, host: 'n4', address: '203.0.113.13', uid: 64213, authorizedKeys: [pubKey, encPub], password: PASSWORD });
    // Accepts TCP and never says a word.
    mute = net.spawn('mute', process.execPath, ['-e', "require('net').createServer((s) => s.on('error', () => {})).listen(22, '203.0.113.30', () => console.log('ready'))"]);
    children.push(mute);
    await new Promise<void>((res, rej) => {
      mute.stdout!.once('data', () => res());
      mute.once('exit', (c) => rej(new Error(`silent server exited ${c}`)));
    });
  });
  after(() => n4.stop());

  const status = (o: Record<string, string | undefined>, env: Record<string, string> = {}) =>
    invoke('stdin', { action: 'status', ip: n4.address, username: n4.user, known_hosts: KH, boot_id_command: n4.bootIdCommand(), login_timeout: '2', shell_timeout: '2', ...o }, env);

  test('unknown host key: refused, with the presented fingerprint to pin', async () => {
    writeFileSync(KH, '');
    const r = await status({ identity_file: KEY });
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`unknown host key for 203.0.113.13: the server presented ssh-ed25519 ${n4.hostKeyFingerprint}, which is not in ${KH}`), r.stderr);
    assert.ok(r.stderr.includes(`host_key=${n4.hostKeyFingerprint}`));
    assert.ok(r.took < 2000, `${r.took} ms`);
    const missing = await status({ identity_file: KEY, known_hosts: join(scratch, 'nonexistent') });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /which is not in .*nonexistent \(file missing\)/);
    const home = await status({ identity_file: KEY, known_hosts: undefined });
    assert.ok(home.stderr.includes(`not in ${scratch}/.ssh/known_hosts (file missing)`), `default: the running user's file: ${home.stderr}`);
  });

  test('changed host key: refused, both fingerprints shown; a pinned key works and a wrong pin does not', async () => {
    const other = keygen(join(scratch, 'other_host'), 'ed25519', 'impostor');
    writeFileSync(KH, `# stale entry\n203.0.113.13 ${other.pub}\n`);
    const r = await status({ identity_file: KEY });
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`HOST KEY CHANGED for 203.0.113.13: the server presented ssh-ed25519 ${n4.hostKeyFingerprint}, but ${KH} has line 2: ssh-ed25519 ${other.fingerprint}`), r.stderr);
    const pinned = await status({ identity_file: KEY, known_hosts: undefined, host_key: n4.hostKeyFingerprint });
    assert.deepEqual([pinned.code, pinned.stdout], [0, 'Status: ON\n'], pinned.stderr);
    const wrongPin = await status({ identity_file: KEY, known_hosts: undefined, host_key: other.fingerprint });
    assert.equal(wrongPin.code, 1);
    assert.ok(wrongPin.stderr.includes(`does not match the pinned host_key (${other.fingerprint}): the server presented ssh-ed25519 ${n4.hostKeyFingerprint}`), wrongPin.stderr);
  });

  test('wrong key and wrong password: the login is refused, and no secret is printed', async () => {
    knownHosts(n4);
    const k = await status({ identity_file: WRONG_KEY });
    assert.equal(k.code, 1);
    assert.match(k.stderr, /fsnode64213@203\.0\.113\.13:22 refused the login \(tried publickey .*id_wrong \(ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}\); the server accepts: publickey,password\)/);
    assert.ok(k.took < 2000, `${k.took} ms`);
    const p = await status({ password: 'not-the-password', verbose: '1' });
    assert.equal(p.code, 1);
    assert.match(p.stderr, /refused the login \(tried password; the server accepts: publickey,password\)/);
    assert.ok(!p.stderr.includes('not-the-password'));
    const good = await status({ password: PASSWORD, verbose: '1' });
    assert.equal(good.code, 0, good.stderr);
    assert.ok(!good.stderr.includes(PASSWORD) && !good.stdout.includes(PASSWORD));
  });

  test('encrypted identity file: the password is its passphrase; without it the reason says so', async () => {
    knownHosts(n4);
    const ok = await status({ identity_file: ENC_KEY, password: PASSPHRASE });
    assert.equal(ok.code, 0, ok.stderr);
    const none = await status({ identity_file: ENC_KEY });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /identity_file .*id_encrypted is encrypted: give its passphrase as password/);
    const wrong = await status({ identity_file: ENC_KEY, password: 'wrong-passphrase' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /cannot decrypt it with the given passphrase/);
    assert.ok(!wrong.stderr.includes('wrong-passphrase'));
  });

  test('ssh-agent authentication (SSH_AUTH_SOCK or ssh_agent)', async () => {
    knownHosts(n4);
    const sock = join(scratch, 'agent.sock');
    const ag = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    children.push(ag);
    try {
      for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      const add = await run('ssh-add', [KEY], { timeoutMs: 10_000, env: { SSH_AUTH_SOCK: sock } });
      assert.equal(add.code, 0, add.stderr);
      const env = await status({}, { SSH_AUTH_SOCK: sock });
      assert.deepEqual([env.code, env.stdout], [0, 'Status: ON\n'], env.stderr);
      const opt = await status({ ssh_agent: sock, verbose: '1' });
      assert.equal(opt.code, 0, opt.stderr);
      assert.match(opt.stderr, /logged in as fsnode64213 with ssh-agent/);
    } finally { ag.kill('SIGKILL'); }
  });

  test('password_script, run without a shell', async () => {
    knownHosts(n4);
    const script = join(scratch, 'pw.sh');
    writeFileSync(script, `#!/bin/sh\necho '${PASSWORD}'\n`);
    chmodSync(script, 0o700);
    const r = await status({ password_script: script });
    assert.deepEqual([r.code, r.stdout], [0, 'Status: ON\n'], r.stderr);
  });

  test('black-holed address: rc 1 within login_timeout', async () => {
    writeFileSync(KH, '203.0.113.99 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq2yp9JCmAFxH0GMqGWMnlhaYnDxk5lb1zMsTjwWQaq\n');
    for (const action of ['status', 'off', 'reboot']) {
      const r = await status({ action, ip: '203.0.113.99', identity_file: KEY, off_command: 'false', reboot_command: 'false' });
      assert.equal(r.code, 1, action);
      assert.match(r.stderr, /cannot tell whether fsnode64213@203\.0\.113\.99:22 is on: no answer from 203\.0\.113\.99:22 within 2 s \(TCP connect\)/);
      assert.ok(r.took >= 2000 && r.took < 2000 + 1000, `${action}: ${r.took} ms`);
    }
  });

  test('a server that accepts TCP but never speaks: rc 1 within login_timeout', async () => {
    writeFileSync(KH, '');
    const r = await status({ ip: '203.0.113.30', identity_file: KEY });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /203\.0\.113\.30:22 accepted the TCP connection but sent no SSH banner within 2 s/);
    assert.ok(r.took >= 2000 && r.took < 2000 + 1000, `${r.took} ms`);
  });

  test('nothing listening: refused at once', async () => {
    const r = await status({ ipport: '2222', identity_file: KEY });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /203\.0\.113\.13:2222 refused the connection \(the host answered; nothing listens on port 2222\)/);
    assert.ok(r.took < 1000, `${r.took} ms`);
  });

  test('the password is in no process\'s command line, stdout or stderr, even with -vvv', async () => {
    knownHosts(n4);
    const scan = scanCmdlines(PASSWORD);
    const r = await invoke('stdin', { action: 'status', ip: n4.address, username: n4.user, password: PASSWORD, known_hosts: KH,
      boot_id_command: `sleep 1; cat ${join(n4.dir, 'boot/boot_id')}`, shell_timeout: '3', verbose_level: '3' });
    const seen = await scan.stop();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(seen.leaks, []);
    assert.ok(seen.agentSeen > 0 && seen.scans > 10, 'the scan saw the agent running');
    assert.ok(!r.stderr.includes(PASSWORD) && !r.stdout.includes(PASSWORD));
    assert.match(r.stderr, /DEBUG: .*logged in as fsnode64213 with password/);
  });
});

describe('the simulated machines cannot touch the real one', () => {
  let n5: SshNode;
  before(async () => {
    net.addHost({ name: 'n5', index: 14, v4: ['203.0.113.14/24'] });
    n5 = await startSshNode({ net, host: 'n5', address: '203.0.113.14', uid: 64214, authorizedKeys: [pubKey] });
  });
  after(() => n5.stop());

  test('the account is unprivileged, capability-less, no_new_privs; sysrq and the power commands are decoys', async () => {
    knownHosts(n5);
    // Only reads and access(2) checks: nothing here writes to sysrq or runs a power command.
    const probe = 'id -u; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; '
      + 'for f in /proc/sysrq-trigger /proc/sys/kernel/sysrq; do if [ -e $f ]; then echo "$f: $(cat $f 2>&1)"; [ -w $f ] && echo "$f: WRITABLE"; else echo "$f: absent"; fi; done; '
      + 'head -c 200 /usr/bin/systemctl | tail -n +2 | head -1';
    const r = await run('ip', ['netns', 'exec', net.ns('cli'), 'ssh', '-F', '/dev/null', '-i', KEY, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${KH}`,
      '-o', 'StrictHostKeyChecking=yes', `${n5.user}@${n5.address}`, probe], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], '64214');
    assert.match(r.stdout, /CapEff:\s+0000000000000000/);
    assert.match(r.stdout, /CapBnd:\s+0000000000000000/);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
    assert.doesNotMatch(r.stdout, /WRITABLE/);
    for (const f of ['/proc/sysrq-trigger', '/proc/sys/kernel/sysrq']) {
      // Where the kernel has the file, the machine sees the read-only decoy instead.
      const expected = existsSync(f) ? `${f}: vigil-test-decoy` : `${f}: absent`;
      assert.ok(lines.includes(expected), `${expected} in ${r.stdout}`);
    }
    assert.match(r.stdout, /refused inside the simulated machine/);
  });
});

describe('Pacemaker sees the agent', () => {
  test('stonith_admin --metadata --agent fence_ssh (bundle overlaid on /usr/sbin in a private mount namespace)', async () => {
    const r = await stonithAdminMetadata(AGENT);
    assert.equal(r.code, 0, `needs root and pacemaker-cli-utils: ${r.stderr}${r.spawnError ?? ''}`);
    assert.match(r.stdout, /<resource-agent name="fence_ssh"/);
    assert.match(r.stdout, /<parameter name="port"/);
    assert.match(r.stdout, /<action name="reboot"/);
  });

  test('metadata from the bundle equals the golden file and validates against metadata.rng', async () => {
    const r = await agent(['-o', 'metadata']);
    assert.equal(r.stdout, readFileSync(join(ROOT, 'test/golden/fence_ssh.xml'), 'utf8'));
    const f = join(scratch, 'm.xml');
    writeFileSync(f, r.stdout);
    const v = await run('xmllint', ['--noout', '--relaxng', '/usr/share/cluster/relaxng/metadata.rng', f], { timeoutMs: 10_000 });
    assert.equal(v.code, 0, v.stderr || v.spawnError);
  });
});

/** Read every process's command line every few ms until stopped; report any that contain `secret`. */
function scanCmdlines(secret: string) {
  const leaks: string[] = [];
  let agentSeen = 0;
  let scans = 0;
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      scans++;
      for (const pid of readdirSync('/proc')) {
        if (!/^\d+$/.test(pid) || pid === String(process.pid)) continue;
        let cmd: string;
        try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { continue; }
        if (cmd.includes(secret)) leaks.push(`${pid}: ${cmd}`);
        if (cmd.includes('dist/sbin/fence_ssh')) agentSeen++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { stop: async () => { stopping = true; await loop; return { leaks, agentSeen, scans }; } };
}
