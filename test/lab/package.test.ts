// Issue 8, the lab part: the agents an operator installs from the .deb, not from dist/. The package
// is built from the current bundles, unpacked (dpkg-deb -x) into the lab folder, and every node's
// /usr/lib/ocf/resource.d/vigil and /usr/sbin/fence_* come from that tree. From inside a node:
// Pacemaker's and pcs's own tools find and describe the agents, then a VIP failover and a MariaDB
// failover run on the installed package.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../lib/exec.ts';
import { Lab, LabError, preflightProblems } from './lib/lab.ts';
import { DEFAULT_LAB_DIR, REPO_ROOT } from './lib/plan.ts';
import { VIGIL, configureFencing } from './lib/stacks.ts';
import { createVip, record, startLab, stopLab, waitStatus } from './lib/scenario.ts';
import { failover } from './lib/failover.ts';
import { VIGIL_DB, createDbResources, prepareMariadb } from './lib/mariadb.ts';
import { DbCluster, describeResult, resultRecord, runScenario } from './lib/mysql-scenario.ts';
import { idRanges } from './lib/mysql-analysis.ts';

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('lab: the agents from the installed .deb', { timeout: 20 * 60_000 }, () => {
  let lab: Lab | undefined;
  let root = '';

  before(async () => {
    const problems = preflightProblems();
    if (problems.length) throw new LabError(`the lab cannot run here:\n  - ${problems.join('\n  - ')}`);
    if (!existsSync(join(REPO_ROOT, 'dist', 'resource.d', 'vigil', 'mysql'))) throw new LabError('dist/ is not built: run npm run build');
    const built = await run(process.execPath, [join(REPO_ROOT, 'build', 'package.mjs'), 'deb'], { timeoutMs: 300_000, cwd: REPO_ROOT });
    assert.equal(built.code, 0, `node build/package.mjs deb: ${built.stderr}`);
    const deb = join(REPO_ROOT, 'pkg-out', `vigil_${version}_all.deb`);
    assert.ok(existsSync(deb), `${deb} was not built`);
    // Outside the git tree, where every node sees it: the lab folder.
    root = join(process.env.VIGIL_LAB_DIR || DEFAULT_LAB_DIR, 'pkg-root');
    rmSync(root, { recursive: true, force: true });
    const x = await run('dpkg-deb', ['-x', deb, root], { timeoutMs: 60_000 });
    assert.equal(x.code, 0, `dpkg-deb -x: ${x.stderr}`);
    lab = await startLab({ nodes: 3, agentsDir: root });
  });
  after(async () => {
    await stopLab(lab);
  });

  test('the nodes see the packaged agents, and Pacemaker and pcs describe them', async () => {
    const l = lab!;
    const link = (await l.onOk('n1', ['readlink', '/usr/lib/ocf/resource.d/vigil'])).trim();
    assert.equal(link, join(root, 'usr', 'lib', 'ocf', 'resource.d', 'vigil'), 'the node uses the unpacked package');
    const head = (await l.onOk('n1', ['head', '-1', '/usr/lib/ocf/resource.d/vigil/mysql'])).trim();
    assert.equal(head, '#!/usr/bin/node', 'the packaged shebang');
    const mysql = await l.onOk('n1', ['pcs', 'resource', 'describe', 'ocf:vigil:mysql'], { timeoutMs: 60_000 });
    assert.match(mysql, /replication_password_file/);
    assert.match(mysql, /promotable/i);
    const ipmi = await l.onOk('n1', ['pcs', 'stonith', 'describe', 'fence_ipmi'], { timeoutMs: 60_000 });
    assert.match(ipmi, /lanplus/);
    const installed = await l.onOk('n1', ['stonith_admin', '--list-installed'], { timeoutMs: 60_000 });
    for (const f of ['fence_ipmi', 'fence_ssh']) assert.match(installed, new RegExp(`^\\s*${f}$`, 'm'), `${f} not listed:\n${installed}`);
    const vip = await l.onOk('n1', ['crm_resource', '--show-metadata', 'ocf:vigil:vip'], { timeoutMs: 60_000 });
    assert.match(vip, /<resource-agent name="vip"/);
    assert.match(vip, /<parameter name="ip"/);
  });

  test('VIP failover from the package: power-off of the holder, fenced by fence_ipmi, ocf:vigil:vip up elsewhere', async () => {
    const l = lab!;
    await configureFencing(l, VIGIL.fenceAgent);
    await waitStatus(l, 'stonith devices started', (s) => l.nodes.every((n) => s.resources.find((r) => r.id === `fence-${n}`)?.active), 60_000);
    await createVip(l, VIGIL, { params: ['meta', 'resource-stickiness=100'] });
    const times = await failover(l, 'power-off');
    record(l, { suite: 'package', scenario: 'VIP power-off', stack: 'vigil (deb)', ...times });
    assert.ok(times.takeoverMs > times.fenceMs - 1000, 'the VIP came up before the fence');
    await l.pcs(l.anyLiveNode(), ['resource', 'delete', 'vip', '--force']);
  });

  test('MariaDB failover from the package: kill -9 of the primary\'s server, no acknowledged commit lost, the old primary rejoins', async (t) => {
    const l = lab!;
    const db = new DbCluster(l, VIGIL_DB, { semisync: true });
    await prepareMariadb(l, 'vigil', true);
    await createDbResources(l, VIGIL_DB, db.opts);
    await db.waitHealthy(180_000);
    const r = await runScenario(db, 'kill9');
    t.diagnostic(describeResult(r));
    record(l, { ...resultRecord(r), suite: 'package', stack: 'vigil (deb)' });
    assert.deepEqual(r.lost, [], idRanges(r.lost));
    for (const [n, lost] of Object.entries(r.lostOn)) assert.deepEqual(lost, [], `${n}: ${idRanges(lost)}`);
    assert.deepEqual(r.twoWritable.length, 0);
    assert.deepEqual(r.vipSplit.length, 0);
    assert.ok(r.converged, JSON.stringify(r.checksums));
    assert.notEqual(r.newPrimary, r.oldPrimary);
    assert.equal(r.finalPrimary, r.newPrimary);
    assert.ok(r.rejoinMs !== undefined, `${r.victim} did not come back: ${r.notes.join('; ')}`);
  });
});
