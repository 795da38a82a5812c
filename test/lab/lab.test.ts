// The lab itself, through the commands an operator types: up (idempotent, repairs a crashed
// lab), on, power through the BMC and by hand, cut/restore, down; and the isolation promises
// (nothing on the host's interfaces or /usr, private /run, /tmp, /dev/shm per node).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../lib/exec.ts';
import { Deadline, pollUntil } from '../../lib/deadline.ts';
import { Lab } from './lib/lab.ts';
import { CLIENT, REPO_ROOT, VIP_BASE, allNetns } from './lib/plan.ts';
import { startLab, stopLab } from './lib/scenario.ts';
import { procStat } from './lib/proc.ts';

const LAB = join(REPO_ROOT, 'test', 'lab', 'lab');
const ON = join(REPO_ROOT, 'test', 'lab', 'on');

describe('the lab (3 nodes)', () => {
  let lab: Lab | undefined;
  before(async () => { lab = await startLab({ nodes: 3 }); });
  after(async () => { await stopLab(lab); });

  const env = () => ({ VIGIL_LAB_DIR: lab!.config.dir });

  test('test/lab/on runs cluster tools inside a node: crm_mon sees all three nodes online', async () => {
    const r = await run(ON, ['n1', 'crm_mon', '-1'], { timeoutMs: 20_000, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Online: \[ n1 n2 n3 \]/);
    const bad = await run(ON, ['n9', 'true'], { timeoutMs: 5000, env: env() });
    assert.notEqual(bad.code, 0);
  });

  test('each node: its own pid 1, hostname, private /run /tmp /dev/shm, agents from dist/ only in its view', async () => {
    const l = lab!;
    for (const n of l.nodes) {
      assert.equal((await l.onOk(n, ['hostname'])).trim(), n);
      assert.match(await l.onOk(n, ['cat', '/proc/1/cmdline']), /node-init/);
      const fs = await l.onOk(n, ['findmnt', '-n', '-o', 'TARGET,FSTYPE', '--list']);
      for (const m of ['/run', '/tmp', '/dev/shm']) assert.match(fs, new RegExp(`^${m}\\s+tmpfs$`, 'm'), `${n}: ${m} not a private tmpfs`);
      assert.match(await l.onOk(n, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${l.plan(n).lanIp.replace(/\./g, '\\.')}/24`));
    }
    const agents = l.agents();
    if (agents.providers.includes('vigil')) {
      assert.ok(!existsSync('/usr/lib/ocf/resource.d/vigil'), 'the host has /usr/lib/ocf/resource.d/vigil (the lab must not install there)');
      const listed = await l.onOk('n1', ['ls', '/usr/lib/ocf/resource.d/vigil/']);
      for (const a of readdirSync(join(agents.ocfDir, 'vigil'))) assert.match(listed, new RegExp(`^${a}$`, 'm'));
    }
    for (const f of agents.fenceAgents) {
      assert.ok((await l.on('n1', ['test', '-x', `/usr/sbin/${f}`])).code === 0, `${f} not in n1's /usr/sbin`);
    }
  });

  test('isolation: no lab address or port on the host, the switch has no link out', async () => {
    const l = lab!;
    // (The host itself may use TEST-NET numbers on its own network: only the lab's must be absent.)
    const host = (await run('ip', ['-o', 'addr'], { timeoutMs: 5000 })).stdout;
    const labAddresses = [...l.nodes.flatMap((n) => [l.plan(n).lanIp, l.plan(n).mgmtIp, l.plan(n).bmcIp]), CLIENT.ip, VIP_BASE];
    for (const a of labAddresses) assert.doesNotMatch(host, new RegExp(`inet ${a.replace(/\./g, '\\.')}/`), `${a} on the host`);
    const links = await run('ip', ['-o', 'link'], { timeoutMs: 5000 });
    assert.doesNotMatch(links.stdout, /\bn\d-(lan|mgmt)\b|\bbmc\d\b/);
    const sw = await run('ip', ['-n', `${l.config.prefix}-sw`, '-o', 'link', 'show', 'type', 'veth'], { timeoutMs: 5000 });
    // Every switch port's peer lives in a lab namespace (link-netnsid present), none on the host.
    for (const line of sw.stdout.trim().split('\n')) assert.match(line, /link-netns(id)? /, line);
  });

  test('power through the BMC (ipmitool from n1): off kills n2, on boots it after the POST delay, and it rejoins', async () => {
    const l = lab!;
    const p = l.plan('n2');
    // The lab's BMC password is not a secret (it is in lab.json and the CIB).
    const ipmi = (...cmd: string[]) => l.on('n1', ['ipmitool', '-I', 'lanplus', '-C', '3', '-H', p.bmcIp, '-U', l.config.bmcUser,
      '-P', l.config.bmcPassword, ...cmd], { timeoutMs: 20_000 });
    assert.match((await ipmi('chassis', 'power', 'status')).stdout, /is on/);
    const old = l.nodePid('n2');
    assert.equal((await ipmi('chassis', 'power', 'off')).code, 0);
    assert.equal(l.nodePid('n2'), undefined, 'n2 still runs after power off');
    assert.match((await ipmi('chassis', 'power', 'status')).stdout, /is off/);
    const tOn = Date.now();
    assert.equal((await ipmi('chassis', 'power', 'on')).code, 0);
    assert.match((await ipmi('chassis', 'power', 'status')).stdout, /is on/, 'power reads on during POST');
    const booted = await pollUntil(async () => l.nodePid('n2'), 100, new Deadline(l.config.postDelayMs + 20_000));
    assert.ok(booted && booted !== old);
    assert.ok(Date.now() - tOn >= l.config.postDelayMs - 200, 'booted before the POST delay');
    await l.waitReady(90_000);
  });

  test('lab power cycle / off / on by hand, cut and restore a link', async () => {
    const l = lab!;
    const cli = (...a: string[]) => run(LAB, a, { timeoutMs: 60_000, env: env() });
    const old = l.nodePid('n3');
    assert.equal((await cli('power', 'n3', 'off')).code, 0);
    assert.equal((await cli('power', 'n3', 'status')).stdout.trim(), 'off');
    assert.equal((await cli('power', 'n3', 'on')).code, 0);
    assert.equal((await cli('power', 'n3', 'status')).stdout.trim(), 'on');
    await pollUntil(async () => l.nodePid('n3'), 100, new Deadline(l.config.postDelayMs + 20_000));
    assert.notEqual(l.nodePid('n3'), old);
    await l.waitReady(90_000);

    // A cut of n3's node LAN: n1 no longer reaches it over that LAN; restored, it does again.
    const reach = async () => (await l.on('n1', ['arping', '-c', '1', '-w', '1', '-I', 'eth0', l.plan('n3').lanIp])).code === 0;
    assert.equal(await reach(), true);
    assert.equal((await cli('cut', 'n3', 'lan')).code, 0);
    assert.equal(await reach(), false, 'n3 still answers on a cut link');
    assert.equal((await cli('restore', 'n3', 'lan')).code, 0);
    assert.equal(await reach(), true, 'n3 does not answer after restore');
    await l.waitReady(60_000);
  });

  test('lab up again is idempotent, and repairs a crashed lab (dead BMC, dead node)', async () => {
    const l = lab!;
    const pids = l.nodes.map((n) => l.nodePid(n));
    const again = await run(LAB, ['up'], { timeoutMs: 120_000, env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(l.nodes.map((n) => l.nodePid(n)), pids, 'lab up restarted running nodes');
    await l.stopBmc('n2');
    await l.powerOff('n2');
    const repaired = await run(LAB, ['up'], { timeoutMs: 180_000, env: env() });
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.ok(l.bmcRunning('n2') && l.nodePid('n2'));
  });

  test('lab down stops every lab process and namespace; a second down is harmless', async () => {
    const l = lab!;
    const pids = l.nodes.map((n) => l.nodePid(n)!);
    for (const i of [1, 2]) {
      const r = await run(LAB, ['down'], { timeoutMs: 60_000, env: env() });
      assert.equal(r.code, 0, `down #${i}: ${r.stderr}`);
    }
    for (const n of l.nodes) {
      assert.equal(l.nodePid(n), undefined);
      assert.equal(l.bmcRunning(n), false);
    }
    for (const pid of pids) {
      const st = procStat(pid);
      assert.ok(!st || st.state === 'Z', `pid ${pid} (a node's pid 1) still alive`);
    }
    for (const ns of allNetns(l.config)) assert.ok(!existsSync(`/run/netns/${ns}`), `${ns} left behind`);
  });
});
