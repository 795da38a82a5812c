// fence_ssh's definition: option table, rules across options (checked before any connection),
// metadata (golden + fence-agents' RNG), help and man page, and the connector's settings.
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEntry } from '../../../lib/log.ts';
import { describeFenceAgent, executeFenceAgent, type FenceAgentDefinition } from '../../../lib/fence/agent.ts';
import { fenceMetadataXml } from '../../../lib/fence/metadata.ts';
import { helpText, manPage, troff } from '../../../lib/fence/docs.ts';
import { getoptText, tableProblems, type OptionSpec } from '../../../lib/fence/options.ts';
import { fenceSsh, SELF_CAVEAT, VERSION } from '../../../fence/ssh/agent.ts';
import { sshOptions, type SshOptions } from '../../../fence/ssh/options.ts';
import { expandHome, hostKeyExpectation, keepaliveMs } from '../../../fence/ssh/connector.ts';
import { FakeClock } from '../fence/fakes.ts';

const GOLDEN = fileURLToPath(new URL('../../golden/fence_ssh.xml', import.meta.url));
const RNG = '/usr/share/cluster/relaxng/metadata.rng';
const description = describeFenceAgent(fenceSsh);
const xml = fenceMetadataXml(description);

/** Run the agent with the device replaced by a recorder: nothing can connect anywhere. */
async function exec(argv: string[], stdin = '', env: NodeJS.ProcessEnv = {}) {
  let deviceCalls = 0;
  const agent: FenceAgentDefinition<SshOptions> = {
    ...fenceSsh,
    device: () => {
      deviceCalls++;
      return { getPower: async () => 'on' as const, setPower: async () => undefined };
    },
  };
  const logs: LogEntry[] = [];
  const out = await executeFenceAgent(agent, { argv, stdin: () => stdin, env, clock: new FakeClock(), logSink: (e) => logs.push(e) });
  return { ...out, deviceCalls, text: logs.map((l) => `${l.level}: ${l.message}`).join('\n') };
}

const BASE = ['-a', '192.0.2.10', '-k', '/dev/null', '--host-key=SHA256:LNDfSVAKGidy/yxdxfETHoUpzcMnSJ6J7qVxO7uITxY'];
const HOST = ['--mode=host', '--status-command=virsh domstate {plug}', '--on-command=virsh start {plug}', '--off-command=virsh destroy {plug}'];

test('the option table is consistent and keeps fence-agents\' names and letters', () => {
  assert.deepEqual(tableProblems(sshOptions), []);
  const expect: Record<string, string> = {
    action: '-o, --action=[action]', ip: '-a, --ip=[ip]', ipport: '-u, --ipport=[port]', username: '-l, --username=[name]',
    password: '-p, --password=[password]', password_script: '-S, --password-script=[script]', identity_file: '-k, --identity-file=[filename]',
    secure: '-x, --secure', plug: '-n, --plug=[plug]', method: '-m, --method=[method]', verbose: '-v, --verbose',
    known_hosts: '--known-hosts=[file]', host_key: '--host-key=[fingerprint]', mode: '--mode=[mode]',
  };
  for (const [k, g] of Object.entries(expect)) assert.equal(getoptText(k, sshOptions[k as keyof SshOptions] as OptionSpec), g, k);
  assert.equal(sshOptions.username.default, 'root');
  assert.equal(sshOptions.ipport.default, 22);
  assert.equal(sshOptions.mode.default, 'self');
  assert.equal((sshOptions.off_command as OptionSpec).default, undefined, 'no default in the table: the self default must never reach a controller in host mode');
  assert.ok(!Object.keys(sshOptions).some((k) => /strict|insecure|no_verify|accept/i.test(k)), 'no switch turns host key checking off');
});

test('metadata matches the golden file (UPDATE_GOLDEN=1 rewrites it; review the diff)', () => {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, xml);
  assert.ok(existsSync(GOLDEN), `missing ${GOLDEN}`);
  assert.equal(xml, readFileSync(GOLDEN, 'utf8'));
});

test('metadata validates against fence-agents\' metadata.rng (and the validator rejects a broken one)', () => {
  assert.ok(existsSync(RNG), `${RNG} is missing: install Debian's fence-agents package`);
  const dir = mkdtempSync(join(tmpdir(), 'fs-meta-'));
  try {
    const f = join(dir, 'fence_ssh.xml');
    writeFileSync(f, xml);
    const r = spawnSync('xmllint', ['--noout', '--relaxng', RNG, f], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'xmllint must be installed (libxml2-utils)');
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(f, xml.replace('<parameters>', '<params>').replace('</parameters>', '</params>'));
    assert.notEqual(spawnSync('xmllint', ['--noout', '--relaxng', RNG, f]).status, 0);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('metadata: no list action (self mode lists nothing), plug/port for Pacemaker, the self-mode caveat', () => {
  const actions = [...xml.matchAll(/<action name="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(actions, ['on', 'off', 'reboot', 'status', 'monitor', 'metadata', 'manpage', 'validate-all']);
  assert.match(xml, /<parameter name="plug" unique="0" required="0" obsoletes="port">/);
  assert.match(xml, /cannot fence a node that is hung or cut off from the network/);
  assert.match(xml, /level 1 only: cannot fence a hung or cut-off node/);
});

test('--help and the man page say plainly what self mode cannot do', () => {
  const help = helpText(description);
  for (const [k, spec] of Object.entries(sshOptions)) assert.ok(help.includes(getoptText(k, spec as OptionSpec)), k);
  assert.match(help.replace(/\s+/g, ' '), /mode=self cannot fence a node that is hung, overloaded or cut off from the network/);
  assert.match(help.replace(/\s+/g, ' '), /pcs stonith level add 1/);
  const man = manPage(description, VERSION, { notes: fenceSsh.notes, examples: fenceSsh.examples });
  assert.match(man, /^\.TH FENCE_SSH 8 /);
  assert.ok(man.includes(troff(SELF_CAVEAT)));
  for (const k of Object.keys(sshOptions)) assert.ok(man.includes(`\\fB${troff(k)}\\fR`), k);
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: man, encoding: 'utf8' });
  if (!r.error) assert.equal(r.stderr, '', 'groff warnings');
});

test('a plug with shell syntax, quotes or spaces is refused before any connection (argv and stdin)', async () => {
  for (const plug of ['vm1;reboot', '$(reboot)', '`id`', "vm'1", 'vm"1', 'vm 1', 'a|b', '-rf']) {
    const a = await exec([...BASE, ...HOST, '-o', 'status', '-n', plug]);
    assert.equal(a.code, 1, plug);
    assert.equal(a.deviceCalls, 0, `${plug}: no device was opened`);
    assert.match(a.text, /--plug \(plug\): (may only hold|must not start)/);
    const s = await exec([], `action=status\nip=192.0.2.10\nidentity_file=/dev/null\nmode=host\nstatus_command=x {plug}\non_command=x\noff_command=x\nport=${plug}\n`);
    assert.equal(s.code, 1, plug);
    assert.equal(s.deviceCalls, 0);
  }
  const ok = await exec([...BASE, ...HOST, '-o', 'status', '-n', 'vm-1.a_b:c']);
  assert.equal(ok.code, 0, ok.text);
  assert.equal(ok.deviceCalls, 1);
});

test('rules across options', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['-k', '/dev/null', '-o', 'status'], /You have to enter fence address/],
    [[...BASE, '--status-command=virsh domstate {plug}'], /status_command is a mode=host option: set mode=host \(in mode=self fence_ssh powers off the machine it logs in to\)/],
    [[...BASE, '--list-command=virsh list'], /list_command is a mode=host option/],
    [[...BASE, '--mode=host', '-n', 'vm1'], /mode=host needs status_command.*\n.*mode=host needs on_command.*\n.*mode=host needs off_command/],
    [[...BASE, ...HOST, '-o', 'off'], /mode=host needs the machine to act on: --plug/],
    [[...BASE, ...HOST, '-o', 'list'], /list needs list_command/],
    [[...BASE, ...HOST, '-n', 'vm1', '--port-as-ip'], /port_as_ip does not fit mode=host/],
    [[...BASE, '--known-hosts=/tmp/kh'], /give either host_key .* or known_hosts, not both/],
    [['-a', '192.0.2.10', '-k', '/dev/null', '--host-key=MD5:ab:cd'], /--host-key \(host_key\): "MD5:ab:cd" is not a SHA256 fingerprint/],
    [[...BASE, '--status-on-pattern=(x'], /--status-on-pattern \(status_on_pattern\): not a valid regular expression/],
    [['-a', '192.0.2.10', '-o', 'status'], /no credentials: give identity_file, password \(stdin\), password_script or ssh_agent/],
    [['-a', '192.0.2.10', '-k', '/nonexistent/key', '-o', 'status'], /identity_file \/nonexistent\/key cannot be read \(ENOENT\)/],
    [[...BASE, '--mode=vm'], /--mode \(mode\): value "vm" is not one of self, host/],
  ];
  for (const [argv, re] of cases) {
    const r = await exec(argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.text, re, argv.join(' '));
    assert.equal(r.deviceCalls, 0, argv.join(' '));
  }
  // ssh-agent from the environment is a credential
  const agent = await exec(['-a', '192.0.2.10', '-o', 'status', '--host-key=SHA256:LNDfSVAKGidy/yxdxfETHoUpzcMnSJ6J7qVxO7uITxY'], '', { SSH_AUTH_SOCK: '/run/agent.sock' });
  assert.equal(agent.code, 0, agent.text);
  // the host-mode plug is required only where a template uses it
  const noPlug = await exec([...BASE, '--mode=host', '--status-command=pdu status', '--on-command=pdu on', '--off-command=pdu off', '-o', 'off']);
  assert.equal(noPlug.deviceCalls, 1, noPlug.text);
  assert.doesNotMatch(noPlug.text, /needs the machine to act on/);
});

test('validate-all: self mode warns about its limits; missing known_hosts and agent sockets are reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-va-'));
  try {
    writeFileSync(join(dir, 'kh'), '');
    const ok = await exec(['-a', '192.0.2.10', '-k', '/dev/null', `--known-hosts=${join(dir, 'kh')}`, '-o', 'validate-all']);
    assert.equal(ok.code, 0, ok.text);
    assert.ok(ok.text.includes(`warn: ${SELF_CAVEAT}`));
    assert.equal(ok.deviceCalls, 0);
    const bad = await exec(['-a', '192.0.2.10', '-k', '/dev/null', `--known-hosts=${join(dir, 'none')}`, '--ssh-agent=/nonexistent.sock', '-o', 'validate-all']);
    assert.equal(bad.code, 1);
    assert.match(bad.text, /known_hosts file .*\/none does not exist: add the host key to it or pin it with host_key=SHA256/);
    assert.match(bad.text, /ssh_agent socket \/nonexistent\.sock does not exist/);
    const host = await exec([...BASE, ...HOST, '--reboot-command=virsh reset {plug}', '-o', 'validate-all']);
    assert.equal(host.code, 0, host.text);
    assert.doesNotMatch(host.text, /mode=self cannot/);
    assert.match(host.text, /reboot_command is only used with method=cycle/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('connector settings: ~ is the running user\'s home, missing known_hosts is reported, keepalive within 0.2..1 s', () => {
  const home = process.env.HOME;
  process.env.HOME = '/tmp/fs-home';
  try {
    assert.equal(expandHome('~/.ssh/known_hosts'), '/tmp/fs-home/.ssh/known_hosts');
    assert.equal(expandHome('/etc/ssh/kh'), '/etc/ssh/kh');
    assert.equal(expandHome('~other/x'), '~other/x');
  } finally { if (home === undefined) delete process.env.HOME; else process.env.HOME = home; }
  const e = hostKeyExpectation({ ip: 'n1', ipport: 22, username: 'root', known_hosts: '/nonexistent/kh', shell_timeout: 3 });
  assert.deepEqual(e.knownHosts, { path: '/nonexistent/kh', problem: 'file missing' });
  const p = hostKeyExpectation({ ip: 'n1', ipport: 22, username: 'root', known_hosts: '/x', host_key: 'SHA256:LNDfSVAKGidy/yxdxfETHoUpzcMnSJ6J7qVxO7uITxY', shell_timeout: 3 });
  assert.deepEqual(p.pins, ['SHA256:LNDfSVAKGidy/yxdxfETHoUpzcMnSJ6J7qVxO7uITxY']);
  assert.equal(p.knownHosts, undefined);
  assert.deepEqual([keepaliveMs(0.1), keepaliveMs(3), keepaliveMs(60)], [200, 750, 1000]);
});
