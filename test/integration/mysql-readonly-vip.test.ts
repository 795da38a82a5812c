// The read-only VIP of docs/mysql.md (the MPP read-only virtual server of seed 001): the pcs commands
// of the guide, run as written against a CIB file, and Pacemaker's own scheduler (crm_simulate)
// deciding where the VIPs go from the node attributes the agent publishes (<rsc>-grade, and the
// promotion score). Agents are swapped for stand-ins the scheduler does not run (ocf:pacemaker:
// Stateful, ocf:heartbeat:IPaddr2); placement depends only on the constraints and attributes. The
// cluster has a stickiness default (`pcs resource defaults`) of 100, as many do: a recipe whose
// colocation score only equals the stickiness left the read-only VIP on a replica that had just
// been promoted (issue 12 item 8). The lab runs the same recipe with the real agents (checked below).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../lib/exec.ts';
import { ROOT } from './support/mariadb.ts';
import { GRADES } from '../../lib/mysql/health.ts';
import { READ_VIP_ID, vipCommands, VIGIL_DB } from '../lab/lib/mariadb.ts';

const DOC = join(ROOT, 'docs/mysql.md');

/** The shell lines of a marked block of the guide, continuations joined. */
function docBlock(name: string): string[] {
  const text = readFileSync(DOC, 'utf8');
  const m = new RegExp(`<!-- begin ${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\s*<!-- end ${name} -->`).exec(text);
  assert.ok(m, `docs/mysql.md has no block "${name}"`);
  return m[1]!.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** Split a documented command into argv (the guide uses no quoting beyond plain words). */
const argv = (line: string) => line.split(/\s+/);

describe('read-only VIP on healthy replicas (docs/mysql.md), placed by Pacemaker\'s scheduler', { timeout: 120_000 }, () => {
  let dir: string;
  let base: string;

  const tool = async (cib: string, cmd: string, args: string[]) => {
    const r = await run(cmd, args, { timeoutMs: 30_000, env: { CIB_file: cib } });
    assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  before(async () => {
    for (const t of ['pcs', 'cibadmin', 'crm_simulate', 'crm_attribute']) {
      const r = await run('sh', ['-c', `command -v ${t}`], { timeoutMs: 5000 });
      assert.equal(r.code, 0, `${t} is not installed (apt-get install pacemaker-cli-utils pcs)`);
    }
    dir = mkdtempSync(join(tmpdir(), 'vigil-rovip-'));
    base = join(dir, 'base.xml');
    const empty = await run('cibadmin', ['--empty'], { timeoutMs: 10_000 });
    assert.equal(empty.code, 0, empty.stderr);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(base, empty.stdout);
    for (const n of [1, 2, 3]) await tool(base, 'cibadmin', ['-C', '-o', 'nodes', '-X', `<node id="${n}" uname="n${n}"/>`]);
    await tool(base, 'cibadmin', ['-M', '-X', '<cib have-quorum="1"/>']);
    await tool(base, 'pcs', ['-f', base, 'property', 'set', 'stonith-enabled=false']);
    await tool(base, 'pcs', ['-f', base, 'resource', 'defaults', 'update', 'resource-stickiness=100']);
    // The guide's commands, as written, with stand-in agents.
    for (const line of [...docBlock('clone'), ...docBlock('read-only-vip')]) {
      const a = argv(line.replace('ocf:vigil:mysql', 'ocf:pacemaker:Stateful').replace(/ocf:vigil:vip/g, 'ocf:heartbeat:IPaddr2'));
      assert.equal(a[0], 'pcs', line);
      await tool(base, 'pcs', ['-f', base, ...a.slice(1), '--force']);
    }
    const up = join(dir, 'up.xml');
    await tool(base, 'crm_simulate', ['-x', base, '-u', 'n1', '-u', 'n2', '-u', 'n3', '-O', up]);
    copyFileSync(up, base);
  });
  after(() => { if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true }); });

  /** Set attributes as the agent publishes them, let the scheduler run until nothing changes, report where things are. */
  async function settle(cib: string, attrs: Record<string, Record<string, string | null>>, lost: string[] = []): Promise<{ rovip?: string; vip?: string; promoted?: string }> {
    for (const [node, kv] of Object.entries(attrs)) {
      for (const [name, value] of Object.entries(kv)) {
        await tool(cib, 'crm_attribute', ['-N', node, '-n', name, '-l', 'reboot', ...(value === null ? ['-D'] : ['-v', value])]);
      }
    }
    const next = join(dir, 'next.xml');
    // A lost node (fenced, or off): out of the membership, its instances stopped.
    if (lost.length) {
      await tool(cib, 'crm_simulate', ['-x', cib, ...lost.flatMap((n) => ['-d', n]), '-O', next]);
      copyFileSync(next, cib);
    }
    for (let i = 0; i < 6; i++) {
      const out = await tool(cib, 'crm_simulate', ['-x', cib, '-S', '-O', next]);
      copyFileSync(next, cib);
      const summary = /Transition Summary:\n([\s\S]*?)\n\n/.exec(out)?.[1] ?? '';
      if (!summary.trim()) break;
    }
    const status = await tool(cib, 'crm_simulate', ['-x', cib, '-L']);
    const where = (rsc: string) => new RegExp(`${rsc}\\s+\\([^)]*\\):\\s+Started (\\S+)`).exec(status)?.[1];
    return { rovip: where('db-ro-vip'), vip: where('db-vip'), promoted: /Promoted: \[ (\S+) \]/.exec(status)?.[1] };
  }

  const fresh = (name: string) => { const f = join(dir, `${name}.xml`); copyFileSync(base, f); return f; };
  // What the agent publishes: the primary 1001 and grade OK; replicas their graded score and grade.
  const primary = { 'master-db': '1001', 'db-grade': 'OK' };
  const replica = (grade: string, score = grade === 'FAIL' ? '-INFINITY' : '1000') => ({ 'master-db': score, 'db-grade': grade });

  test('the write VIP follows the primary; the read-only VIP a replica graded OK, never a FAIL one', async () => {
    const f = fresh('a');
    const p = await settle(f, { n1: primary, n2: replica('FAIL'), n3: replica('OK') });
    assert.deepEqual(p, { promoted: 'n1', vip: 'n1', rovip: 'n3' });
  });

  test('when that replica degrades the read-only VIP moves to a healthy one; with none it falls back to the primary', async () => {
    const f = fresh('b');
    assert.equal((await settle(f, { n1: primary, n2: replica('OK'), n3: replica('OK') })).promoted, 'n1');
    const first = (await settle(f, {})).rovip!;
    assert.ok(['n2', 'n3'].includes(first), first);
    const other = first === 'n2' ? 'n3' : 'n2';
    assert.equal((await settle(f, { [first]: { 'db-grade': 'WARN' } })).rovip, other, 'moves off a WARN replica');
    assert.equal((await settle(f, { [other]: { 'db-grade': 'CRITICAL' } })).rovip, 'n1', 'no healthy replica: the primary serves reads');
    assert.equal((await settle(f, { [first]: { 'db-grade': 'OK' } })).rovip, first, 'back on a healthy replica');
    // A stopped instance deletes its grade: no attribute, no read-only VIP there.
    assert.equal((await settle(f, { [first]: { 'db-grade': null }, [other]: { 'db-grade': 'OK' } })).rovip, other);
  });

  test('the replica holding the read-only VIP is promoted (its primary lost): the VIP moves to the healthy replica', async () => {
    // Whatever stickiness the cluster defaults to: the recipe sets the VIP's own.
    for (const stickiness of ['100', '1000', 'INFINITY', null]) {
      const f = fresh(`promoted-${stickiness}`);
      if (stickiness === null) await tool(f, 'pcs', ['-f', f, 'resource', 'defaults', 'update', 'resource-stickiness=']);
      else await tool(f, 'pcs', ['-f', f, 'resource', 'defaults', 'update', `resource-stickiness=${stickiness}`]);
      // n3 degraded a moment, so the read-only VIP is on n2; n3 healthy again, the VIP stays.
      assert.deepEqual(await settle(f, { n1: primary, n2: replica('OK'), n3: replica('WARN', '900') }), { promoted: 'n1', vip: 'n1', rovip: 'n2' });
      assert.equal((await settle(f, { n3: replica('OK') })).rovip, 'n2', 'no move between two healthy replicas');
      // n1 is lost; n2 won the election (its score 1001, as the agent sets the winner's), is
      // promoted and publishes the primary's grade OK. n3 stays a healthy replica.
      const p = await settle(f, { n1: { 'master-db': null, 'db-grade': null }, n2: primary }, ['n1']);
      assert.deepEqual(p, { promoted: 'n2', vip: 'n2', rovip: 'n3' }, `resource-stickiness default ${stickiness}`);
    }
  });

  test('the lab runs the documented recipe (test/lab/lib/mariadb.ts)', () => {
    const lab = vipCommands(VIGIL_DB).filter((c) => c.includes(READ_VIP_ID));
    const doc = docBlock('read-only-vip').map((l) => argv(l).slice(1));
    for (const d of doc.filter((c) => c[0] === 'constraint')) {
      assert.ok(lab.some((c) => c.join(' ') === d.join(' ')), `the lab lacks: pcs ${d.join(' ')}`);
    }
    assert.equal(lab.filter((c) => c[0] === 'constraint').length, doc.filter((c) => c[0] === 'constraint').length, 'the lab has constraints the guide does not');
    // The create line: the lab's own address, NIC and monitor, the guide's meta attributes.
    const meta = (c: string[]) => (c.includes('meta') ? c.slice(c.indexOf('meta') + 1).filter((a) => !a.startsWith('--')) : []);
    const docCreate = doc.find((c) => c[0] === 'resource' && c[1] === 'create')!;
    const labCreate = lab.find((c) => c[0] === 'resource' && c[1] === 'create')!;
    assert.deepEqual(meta(labCreate), meta(docCreate));
  });

  test('every grade but OK keeps the read-only VIP away (the rule, exhaustively over the agent\'s grades)', async () => {
    for (const g of GRADES) {
      const f = fresh(`g-${g}`);
      const p = await settle(f, { n1: primary, n2: replica(g), n3: { 'master-db': '1000', 'db-grade': null } });
      assert.equal(p.rovip, g === 'OK' ? 'n2' : 'n1', `grade ${g}: ${JSON.stringify(p)}`);
    }
  });
});
