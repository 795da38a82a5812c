// The lab from a newcomer's clone: under /tmp (every node mounts its own empty /tmp, /run and
// /dev/shm, so links into a checkout there used to point at nothing: "Agent 'stonith:fence_ipmi'
// is not installed") and in a folder whose name has a space. The clone is built and brought up
// with the commands the README gives, and a node must see vigil's fence and resource agents,
// run them (the stonith devices start), and run the lab's own programs from the clone (the alert
// agent, the BMC's chassis program).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '../../lib/exec.ts';
import { Lab, LabError, preflightProblems } from './lib/lab.ts';
import { DEFAULT_LAB_DIR, REPO_ROOT, allNetns } from './lib/plan.ts';
import { stopLab, waitStatus } from './lib/scenario.ts';

const labDir = process.env.VIGIL_LAB_DIR || DEFAULT_LAB_DIR;
const env = { VIGIL_LAB_DIR: labDir };
const show = (r: RunResult) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n${r.stdout}\n${r.stderr}`;

describe('lab: from a clone under /tmp in a folder with a space', { timeout: 15 * 60_000 }, () => {
  let base = '';
  let clone = '';
  let brought = false;

  before(async () => {
    const problems = preflightProblems();
    if (problems.length) throw new LabError(`the lab cannot run here:\n  - ${problems.join('\n  - ')}`);
    base = mkdtempSync('/tmp/vigil clone ');
    clone = join(base, 'my vigil');
    const c = await run('git', ['clone', '--quiet', REPO_ROOT, clone], { timeoutMs: 120_000 });
    assert.equal(c.code, 0, `git clone: ${show(c)}`);
    // The clone shares this checkout's packages (npm ci would fetch them again).
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(clone, 'node_modules'));
    const b = await run('npm', ['run', 'build'], { cwd: clone, timeoutMs: 300_000 });
    assert.equal(b.code, 0, `npm run build in the clone: ${show(b)}`);
    assert.ok(existsSync(join(clone, 'dist', 'sbin', 'fence_ipmi')), 'the clone built no dist/sbin/fence_ipmi');
  });

  after(async () => {
    if (brought) await stopLab();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  test('a lab folder under /tmp is refused at once, saying what to do', async () => {
    const refusedDir = `/tmp/vigil-lab-refused-${process.pid}`;
    const t = Date.now();
    const r = await run('npm', ['run', 'lab:up', '--', '--nodes', '2'], { cwd: clone, timeoutMs: 60_000, env: { VIGIL_LAB_DIR: refusedDir } });
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /lab dir must not be under \/tmp: every node gets its own empty \/tmp/);
    assert.match(r.stderr, /set VIGIL_LAB_DIR to a folder elsewhere, e\.g\. \/var\/lib\/vigil-lab/);
    assert.ok(Date.now() - t < 30_000, 'the refusal took longer than starting node');
    assert.ok(!existsSync(refusedDir), 'the refused lab created its folder');
  });

  test('npm run lab:up from the clone: the nodes see, describe and run vigil\'s agents from it', async () => {
    brought = true;
    const up = await run('npm', ['run', 'lab:up', '--', '--nodes', '2', '--fresh', '--fence', 'fence_ipmi'], { cwd: clone, timeoutMs: 300_000, env });
    assert.equal(up.code, 0, `npm run lab:up in the clone: ${show(up)}`);
    assert.match(up.stdout, /stonith: one fence_ipmi device per node/);
    const lab = Lab.open(labDir);
    assert.equal(lab.config.agentsDir, join(clone, 'dist'), 'the lab took its agents from the clone');
    for (const n of lab.nodes) {
      const target = (await lab.onOk(n, ['readlink', '-f', '/usr/lib/ocf/resource.d/vigil'])).trim();
      assert.equal(target, join(clone, 'dist', 'resource.d', 'vigil'), `${n}: the agents' link`);
      assert.equal((await lab.on(n, ['test', '-x', '/usr/sbin/fence_ipmi'])).code, 0, `${n} cannot run /usr/sbin/fence_ipmi`);
    }
    const meta = await lab.onOk('n1', ['stonith_admin', '--metadata', '--agent', 'fence_ipmi'], { timeoutMs: 60_000 });
    assert.match(meta, /<resource-agent name="fence_ipmi"/);
    assert.match(await lab.pcs('n1', ['stonith', 'describe', 'fence_ipmi']), /lanplus/);
    for (const a of ['mysql', 'vip']) {
      const m = await lab.onOk('n2', ['crm_resource', '--show-metadata', `ocf:vigil:${a}`], { timeoutMs: 60_000 });
      assert.match(m, new RegExp(`<resource-agent name="${a}"`));
    }
    // Pacemaker runs fence_ipmi's monitor against each BMC: the device starts only if it ran.
    await waitStatus(lab, 'both stonith devices started', (s) => lab.nodes.every((n) => s.resources.find((r) => r.id === `fence-${n}`)?.active), 90_000);
    // The BMC answers through the chassis program of the clone (via the lab folder's link).
    const p = lab.plan('n2');
    const power = await lab.onOk('n1', ['ipmitool', '-I', 'lanplus', '-C', '3', '-H', p.bmcIp, '-U', lab.config.bmcUser, '-E',
      'chassis', 'power', 'status'], { env: { IPMI_PASSWORD: lab.config.bmcPassword } });
    assert.match(power, /Chassis Power is on/);
    // The alert agent in the clone ran inside the nodes: the stonith devices' starts are recorded.
    assert.match(readFileSync(lab.p.eventsLog, 'utf8'), /\tresource\tn[12]\tfence-n[12]\tstart\t0\t/);
  });

  test('npm run lab:down from the clone leaves no lab namespace behind', async () => {
    const down = await run('npm', ['run', 'lab:down'], { cwd: clone, timeoutMs: 120_000, env });
    assert.equal(down.code, 0, show(down));
    const lab = Lab.open(labDir);
    for (const ns of allNetns(lab.config)) assert.ok(!existsSync(`/run/netns/${ns}`), `${ns} still exists`);
    for (const n of lab.nodes) assert.equal(lab.nodePid(n), undefined, `${n} still runs`);
    brought = false;
  });
});
