// fence_ssh in the lab: every node runs sshd; each node's fencing topology is fence_ssh (mode=self)
// at level 1 and fence_ipmi (its BMC) at level 2, set up with pcs as an operator would. A node that
// fails with its SSH working is fenced by level 1 (its BMC never touched); a node whose SSH is dead
// is fenced by level 2 after level 1 fails, and the fencer's log says why level 1 failed.
//
// Safety: the lab's nodes are namespaces on this machine's kernel and their root is real root, so
// fence_ssh's default commands (sysrq, forced poweroff) must never run here. Every fence_ssh device
// gets off_command/reboot_command that only end the node's own pid 1 (through its init's shutdown
// trap, after killing pacemakerd and corosync by their pid files) and refuse to do anything
// unless they run on that lab node; the boot hook also covers /proc/sysrq-trigger and
// /proc/sys/kernel/sysrq (where the kernel has them) with read-only decoys inside every node.
// The kernel's boot_id is shared by all nodes, so the reboot proof reads a per-boot id the boot
// hook writes into the node's own /run.
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, LabError } from './lib/lab.ts';
import { clearConfiguration } from './lib/stacks.ts';
import { record, startLab, stopLab, waitAllOnline, waitStatus } from './lib/scenario.ts';
import { EventLog, FileTail, fenced } from './lib/events.ts';
import { Deadline, pollUntil } from '../../lib/deadline.ts';
import { run } from '../../lib/exec.ts';

const LAB_BIN = fileURLToPath(new URL('./bin/', import.meta.url));

/** Fail clearly (never skip) when the bundles are not built. */
function requireFenceAgents(lab: Lab, names: string[]): void {
  const missing = names.filter((n) => !lab.agents().fenceAgents.includes(n));
  if (missing.length) throw new LabError(`${missing.join(', ')} not built in ${lab.agents().sbinDir} (run npm run build)`);
}

/** Where the fence key and known_hosts live (the lab folder, visible inside every node). */
const sshDir = (lab: Lab) => join(lab.config.dir, 'fence-ssh');

async function keygen(path: string, comment: string): Promise<string> {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  const r = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { timeoutMs: 15_000 });
  assert.equal(r.code, 0, `ssh-keygen (openssh-client): ${r.stderr}${r.spawnError ?? ''}`);
  return readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

/** sshd on every node at every boot (boot hook), started now on the running nodes too. */
async function installSshd(lab: Lab): Promise<void> {
  const dir = sshDir(lab);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const clientPub = await keygen(join(dir, 'id_ed25519'), 'lab-fence');
  const knownHosts: string[] = [];
  const decoy = join(dir, 'decoy');
  writeFileSync(decoy, 'vigil-lab-decoy\n', { mode: 0o444 });
  for (const n of lab.nodes) {
    const np = lab.p.node(n);
    const ssh = join(np.disk, 'ssh');
    mkdirSync(ssh, { recursive: true, mode: 0o700 });
    const hostPub = await keygen(join(ssh, 'ssh_host_ed25519_key'), `${n}-host`);
    knownHosts.push(`${lab.plan(n).lanIp} ${hostPub}`);
    writeFileSync(join(ssh, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });
    writeFileSync(join(ssh, 'sshd_config'), [
      `ListenAddress ${lab.plan(n).lanIp}:22`,
      `HostKey ${join(ssh, 'ssh_host_ed25519_key')}`,
      'PidFile /run/sshd.pid',
      `AuthorizedKeysFile ${join(ssh, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'UseDNS no',
      'LogLevel VERBOSE',
    ].join('\n') + '\n');
    const hook = `#!/bin/sh
# sshd for fence_ssh (test/lab/fence-ssh.test.ts)
cat /proc/sys/kernel/random/uuid > /run/lab/boot_id
for f in /proc/sysrq-trigger /proc/sys/kernel/sysrq; do
  if [ -e "$f" ]; then mount --bind ${decoy} "$f" && mount -o remount,bind,ro "$f"; fi
done
mkdir -p /run/sshd && chmod 755 /run/sshd
exec /usr/sbin/sshd -f ${join(ssh, 'sshd_config')} -E ${join(np.logDir, 'sshd.log')}
`;
    lab.setBootHook(n, '20-sshd', hook);
    const hookPath = join(np.bootHooks, '20-sshd');
    chmodSync(hookPath, 0o755);
    if (lab.nodePid(n)) await lab.onOk(n, [hookPath, n]);
  }
  writeFileSync(join(dir, 'known_hosts'), knownHosts.map((l) => `${l}\n`).join(''));
}

/** The node's power cut, from inside: crash pacemaker and corosync, then its pid 1 exits. Only on that lab node. */
function cutFromInside(node: string): string {
  return `[ -d /run/lab ] && [ "$(hostname)" = ${node} ] || { echo "refusing: not lab node ${node}" >&2; exit 1; }; `
    + `${LAB_BIN}kill-pidfile /run/lab/pacemakerd.pid; ${LAB_BIN}kill-pidfile /run/lab/corosync.pid; kill -TERM 1`;
}

/** Two fencing levels per node: fence_ssh (self) first, the node's BMC with fence_ipmi second. */
async function configureTopology(lab: Lab, on: string): Promise<void> {
  const c = lab.config;
  const dir = sshDir(lab);
  for (const n of lab.nodes) {
    const p = lab.plan(n);
    await lab.pcs(on, ['stonith', 'create', `fence-ssh-${n}`, 'fence_ssh', `ip=${p.lanIp}`, `identity_file=${join(dir, 'id_ed25519')}`,
      `known_hosts=${join(dir, 'known_hosts')}`, 'boot_id_command=cat /run/lab/boot_id',
      `off_command=${cutFromInside(n)}`, `reboot_command=${cutFromInside(n)}`,
      'login_timeout=2', 'shell_timeout=3', 'power_wait=1', 'power_timeout=4', 'stonith_status_sleep=0.5',
      `pcmk_host_list=${n}`, 'op', 'monitor', 'interval=60s']);
    await lab.pcs(on, ['stonith', 'create', `fence-ipmi-${n}`, 'fence_ipmi', `ip=${p.bmcIp}`, `username=${c.bmcUser}`,
      `password=${c.bmcPassword}`, 'lanplus=1', 'cipher=3', `pcmk_host_list=${n}`, 'op', 'monitor', 'interval=60s']);
    for (const d of [`fence-ssh-${n}`, `fence-ipmi-${n}`]) await lab.pcs(on, ['constraint', 'location', d, 'avoids', n]);
    await lab.pcs(on, ['stonith', 'level', 'add', '1', n, `fence-ssh-${n}`]);
    await lab.pcs(on, ['stonith', 'level', 'add', '2', n, `fence-ipmi-${n}`]);
  }
  await waitStatus(lab, 'every stonith device started', (s) =>
    lab.nodes.every((n) => ['ssh', 'ipmi'].every((k) => s.resources.find((r) => r.id === `fence-${k}-${n}`)?.active)), 90_000);
}

/** Lines the survivors' fencers logged about `node` since the tails were opened. */
function fencerLines(tails: FileTail[], node: string): string[] {
  return tails.flatMap((t) => t.read().split('\n')).filter((l) => l.includes(node) || /fence_ssh\[|fence_ipmi\[/.test(l));
}

async function killCorosync(lab: Lab, node: string): Promise<void> {
  await lab.onOk(node, [join(LAB_BIN, 'kill-pidfile'), '/run/lab/corosync.pid']);
}

describe('lab: fence_ssh as level 1, fence_ipmi as level 2 (3 nodes)', () => {
  let lab: Lab | undefined;
  before(async () => {
    lab = await startLab({ nodes: 3 });
    requireFenceAgents(lab, ['fence_ssh', 'fence_ipmi']);
    await installSshd(lab);
    await clearConfiguration(lab, 'n1');
    await configureTopology(lab, 'n1');
  });
  after(async () => { await stopLab(lab); });

  test('the topology is what pcs shows: level 1 fence_ssh, level 2 fence_ipmi, for every node', async () => {
    const l = lab!;
    const out = await l.pcs('n1', ['stonith', 'level', 'config']);
    for (const n of l.nodes) {
      assert.match(out, new RegExp(`Target: ${n}\\n\\s+Level 1 - fence-ssh-${n}\\n\\s+Level 2 - fence-ipmi-${n}`), out);
    }
    // The devices' monitors logged in to every node (a fence_ssh monitor is a login and a boot id read).
    const st = await l.status('n1');
    for (const n of l.nodes) assert.ok(st.resources.find((r) => r.id === `fence-ssh-${n}`)?.active, `fence-ssh-${n} started`);
  });

  test('a failed node whose SSH works is fenced by level 1: its BMC is never used', async () => {
    const l = lab!;
    const victim = 'n2';
    const events = new EventLog(l.p.eventsLog);
    const tails = l.nodes.filter((n) => n !== victim).map((n) => new FileTail(l.p.node(n).pacemakerLog));
    const t0 = Date.now();
    await killCorosync(l, victim);
    const done = await pollUntil(async () => events.read().find(fenced(victim)), 200, new Deadline(90_000));
    assert.ok(done, `${victim} was not fenced: ${JSON.stringify(events.read().filter((e) => e.kind !== 'resource'))}`);
    const fenceMs = done.t - t0;
    assert.equal(l.nodePid(victim), undefined, `${victim}'s pid 1 still runs: level 1 did not stop it`);
    assert.deepEqual(l.powerEvents(victim, t0), [], 'the BMC of the victim was used');
    const lines = fencerLines(tails, victim);
    assert.ok(lines.some((x) => /Operation 'reboot' \[\d+\] targeting n2 using fence-ssh-n2 returned 0/.test(x)),
      `no successful fence-ssh-n2 in the fencers' logs:\n${lines.slice(-30).join('\n')}`);
    assert.deepEqual(lines.filter((x) => /targeting n2 using fence-ipmi-n2/.test(x)), [], 'level 2 was asked');
    record(l, { suite: 'fence-ssh', scenario: 'level 1 (ssh works)', stack: 'vigil', fenceAgent: 'fence_ssh', fenceMs });
    await l.powerOn(victim, { wait: true });
    await waitAllOnline(l, 120_000);
  });

  test('a failed node whose SSH is dead: level 1 fails (with its reason in the log) and level 2 takes over', async () => {
    const l = lab!;
    const victim = 'n3';
    await waitStatus(l, `fence-ssh-${victim} started`, (s) => !!s.resources.find((r) => r.id === `fence-ssh-${victim}`)?.active, 60_000);
    const events = new EventLog(l.p.eventsLog);
    const tails = l.nodes.filter((n) => n !== victim).map((n) => new FileTail(l.p.node(n).pacemakerLog));
    const t0 = Date.now();
    // SSH dies first (sshd killed by its pid file), then the node fails.
    await l.onOk(victim, ['sh', '-c', 'kill -KILL "$(cat /run/sshd.pid)"']);
    await killCorosync(l, victim);
    const done = await pollUntil(async () => events.read().find(fenced(victim)), 200, new Deadline(120_000));
    assert.ok(done, `${victim} was not fenced: ${JSON.stringify(events.read().filter((e) => e.kind !== 'resource'))}`);
    const fenceMs = done.t - t0;
    const power = l.powerEvents(victim, t0).map((e) => e.power);
    assert.deepEqual(power.slice(0, 2), ['off', 'on'], `level 2 (the BMC) power-cycled ${victim}: ${JSON.stringify(power)}`);
    const lines = fencerLines(tails, victim);
    // Level 1 failed, then level 2 succeeded, in that order (fencer log time stamps, HH:MM:SS.mmm).
    const at = (re: RegExp) => lines.filter((x) => re.test(x)).map((x) => /\d\d:\d\d:\d\d\.\d{3}/.exec(x)?.[0] ?? '').sort()[0];
    const l1 = at(/Operation 'reboot' \[\d+\] targeting n3 using fence-ssh-n3 returned 1/);
    const l2 = at(/Operation 'reboot' \[\d+\] targeting n3 using fence-ipmi-n3 returned 0/);
    assert.ok(l1 && l2 && l1 < l2, `level 1 failure (${l1}) before level 2 success (${l2}):\n${lines.slice(-40).join('\n')}`);
    const sshSays = lines.find((x) => x.includes('fence_ssh[') && x.includes('stderr: ['));
    assert.ok(sshSays, `no fence_ssh error in the survivors' logs:\n${lines.slice(-40).join('\n')}`);
    assert.match(sshSays, /cannot tell whether root@192\.0\.2\.\d+:22 is on: .*refused the connection/);
    record(l, { suite: 'fence-ssh', scenario: 'level 2 (ssh dead)', stack: 'vigil', fenceAgent: 'fence_ssh+fence_ipmi', fenceMs,
      level1Says: sshSays.replace(/^.*stderr: \[\s*/, '').replace(/\s*\]\s*$/, '') });
    await waitAllOnline(l, 120_000);
    // The victim came back through its BMC and its boot hook started sshd again.
    const back = await l.on(victim, ['sh', '-c', 'test -s /run/sshd.pid && kill -0 "$(cat /run/sshd.pid)"']);
    assert.equal(back.code, 0, 'sshd runs again after the reboot');
    assert.ok(existsSync(join(sshDir(l), 'known_hosts')));
  });
});
