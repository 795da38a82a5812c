// lib/cluster: tool arguments, output parsing and the write cache, with a recording runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunOptions, RunResult, Runner } from '../../../lib/exec.ts';
import {
  ClusterTools, attrdCanWait, parseAttrdQuery, parseAttrdQueryAll, parseLocate, parseNodeList, parsePacemakerVersion, primitiveName,
} from '../../../lib/cluster/tools.ts';
import { AttributeCache, shouldWrite } from '../../../lib/cluster/cache.ts';

function recorder(answer: (cmd: string, args: readonly string[]) => Partial<RunResult> = () => ({})) {
  const calls: Array<{ cmd: string; args: readonly string[]; opts: RunOptions }> = [];
  const runner: Runner = async (cmd, args, opts) => {
    calls.push({ cmd, args, opts });
    return { command: cmd, args, code: 0, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: 1, ...answer(cmd, args) };
  };
  return { calls, runner };
}

test('crm_attribute --promotion and attrd_updater are called with the node and instance', async () => {
  const { calls, runner } = recorder();
  const t = new ClusterTools({ runner, instance: 'db:2', node: 'n2', timeoutMs: 1000 });
  await t.setPromotionScore('1000');
  await t.deletePromotionScore();
  await t.setNodeAttribute('db-grade', 'OK');
  await t.setNodeAttribute('db-gtid', '0-1-5', { private: true });
  await t.deleteNodeAttribute('db-lag');
  await t.promotedNodes();
  assert.deepEqual(calls.map((c) => [c.cmd, ...c.args]), [
    ['crm_attribute', '--promotion', '-v', '1000', '-N', 'n2'],
    ['crm_attribute', '--promotion', '-D', '-N', 'n2'],
    ['attrd_updater', '-n', 'db-grade', '-U', 'OK', '-N', 'n2'],
    ['attrd_updater', '-n', 'db-gtid', '-U', '0-1-5', '-p', '-N', 'n2'],
    ['attrd_updater', '-n', 'db-lag', '-D', '-N', 'n2'],
    ['crm_resource', '--locate', '-r', 'db'],
  ]);
  for (const c of calls) {
    assert.equal(c.opts.env?.OCF_RESOURCE_INSTANCE, 'db:2');
    assert.equal(c.opts.timeoutMs, 1000);
  }
});

test('failures come back as reasons, never exceptions', async () => {
  const { runner } = recorder(() => ({ code: 102, stderr: 'crm_attribute: Could not connect to the CIB: Transport endpoint is not connected\n' }));
  const t = new ClusterTools({ runner, instance: 'db', timeoutMs: 1000 });
  const r = await t.setPromotionScore('5');
  assert.equal(r.ok, false);
  assert.match(r.reason!, /exited with 102: crm_attribute: Could not connect/);
  assert.equal((await t.promotedNodes()).ok, false);
});

test('output parsers', () => {
  assert.equal(parseAttrdQuery('name="db-grade" host="n1" value="WARN"\n'), 'WARN');
  assert.equal(parseAttrdQuery('name="db-grade" host="n1" value=""'), '');
  assert.equal(parseAttrdQuery(''), undefined);
  assert.deepEqual(parseLocate('resource db is running on: n1 Promoted\nresource db is running on: n2\nresource db is running on: n3 \n'),
    { promoted: ['n1'], running: ['n1', 'n2', 'n3'] });
  assert.deepEqual(parseLocate('resource db is running on: n2 Master\n'), { promoted: ['n2'], running: ['n2'] });
  assert.deepEqual(parseLocate('resource db is NOT running\n'), { promoted: [], running: [] });
  assert.equal(primitiveName('db:12'), 'db');
  assert.equal(primitiveName('my-db'), 'my-db');
});

test('shouldWrite: new, changed or stale values only', () => {
  const R = 300_000;
  const cases: Array<[Parameters<typeof shouldWrite>[0], string | null, number, boolean]> = [
    [undefined, 'OK', 1000, true],
    [{ value: 'OK', at: 1000 }, 'OK', 2000, false],
    [{ value: 'OK', at: 1000 }, 'WARN', 2000, true],
    [{ value: 'OK', at: 1000 }, null, 2000, true],
    [{ value: null, at: 1000 }, null, 2000, false],
    [{ value: 'OK', at: 1000 }, 'OK', 1000 + R, true],
    [{ value: 'OK', at: 1000 }, 'OK', 500, true],
  ];
  for (const [prev, v, now, want] of cases) assert.equal(shouldWrite(prev, v, now, R), want, JSON.stringify([prev, v, now]));
});

test('AttributeCache writes once, persists, retries after a failure, clears', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cache-'));
  try {
    let now = 1000;
    const file = join(dir, 'sub', 'c.json');
    const writes: string[] = [];
    let fail = false;
    const w = (v: string) => async () => { writes.push(v); return fail ? { ok: false, reason: 'down' } : { ok: true }; };
    let c = new AttributeCache(file, 60_000, () => now);
    assert.equal((await c.publish('grade', 'OK', w('OK'))).outcome, 'written');
    assert.equal((await c.publish('grade', 'OK', w('OK'))).outcome, 'unchanged');
    c.save();
    c = new AttributeCache(file, 60_000, () => now);
    assert.equal((await c.publish('grade', 'OK', w('OK'))).outcome, 'unchanged', 'remembered across runs');
    fail = true;
    assert.deepEqual(await c.publish('grade', 'WARN', w('WARN')), { outcome: 'failed', reason: 'down' });
    fail = false;
    assert.equal((await c.publish('grade', 'WARN', w('WARN'))).outcome, 'written', 'a failed write is retried');
    now += 60_000;
    assert.equal((await c.publish('grade', 'WARN', w('WARN'))).outcome, 'written', 'refreshed when stale');
    c.clear();
    assert.equal((await c.publish('grade', 'WARN', w('WARN'))).outcome, 'written');
    assert.deepEqual(writes, ['OK', 'WARN', 'WARN', 'WARN', 'WARN']);
    c.remove();
    assert.equal(new AttributeCache(file).get('grade'), undefined);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('election tools: private attribute with -W only when asked, query on every node, scores of other nodes, node list', async () => {
  const { calls, runner } = recorder((cmd, args) => {
    if (args.includes('--version')) return { stdout: 'Pacemaker 2.1.5\nWritten by Andrew Beekhof\n' };
    if (args.includes('-A')) return { stdout: 'name="db-position" host="n1" value="v1;t;ok;0-1-5"\nname="db-position" host="n2" value=""\n' };
    if (cmd === 'crm_node') return { stdout: '1 n1 member\n2 n2 lost\n3 n3 member\n' };
    return {};
  });
  const t = new ClusterTools({ runner, instance: 'db:0', node: 'n1', timeoutMs: 1000 });
  await t.setNodeAttribute('db-position', 'v', { private: true, wait: 'cluster' });
  await t.setNodeAttribute('db-position', 'v', { private: true });
  const all = await t.queryNodeAttributeAll('db-position');
  assert.deepEqual([...all.value!.entries()], [['n1', 'v1;t;ok;0-1-5'], ['n2', '']]);
  assert.deepEqual((await t.pacemakerVersion()).value, [2, 1, 5]);
  await t.setPromotionScoreOf('n3', 'INFINITY');
  assert.deepEqual((await t.knownNodes()).value, ['n1', 'n2', 'n3']);
  assert.deepEqual(calls.map((c) => [c.cmd, ...c.args]), [
    ['attrd_updater', '-n', 'db-position', '-U', 'v', '-p', '-N', 'n1', '-W', 'cluster'],
    ['attrd_updater', '-n', 'db-position', '-U', 'v', '-p', '-N', 'n1'],
    ['attrd_updater', '-n', 'db-position', '-Q', '-A'],
    ['attrd_updater', '--version'],
    ['crm_attribute', '--promotion', '-v', 'INFINITY', '-N', 'n3'],
    ['crm_node', '-l'],
  ]);
  // The query for every node runs without the agent's on_node variable: with it, attrd_updater
  // 2.1.5 answers for that node only (undefined removes it from the inherited environment).
  const q = calls.find((c) => c.args.includes('-A'))!;
  assert.ok(Object.hasOwn(q.opts.env!, 'OCF_RESKEY_CRM_meta_on_node') && q.opts.env!.OCF_RESKEY_CRM_meta_on_node === undefined);
  assert.equal(q.opts.env!.OCF_RESOURCE_INSTANCE, 'db:0');
  // No node has the attribute yet: an empty answer, not a failure.
  const none = new ClusterTools({ runner: recorder(() => ({ code: 105, stderr: 'Could not query value of x: attribute does not exist\n' })).runner, instance: 'db', timeoutMs: 1000 });
  assert.deepEqual(await none.queryNodeAttributeAll('x'), { ok: true, value: new Map() });
  const down = new ClusterTools({ runner: recorder(() => ({ code: 102, stderr: 'Could not connect to attrd\n' })).runner, instance: 'db', timeoutMs: 1000 });
  assert.equal((await down.queryNodeAttributeAll('x')).ok, false);
});

test('parsers for the election tools; -W arrived in Pacemaker 2.1.6', () => {
  assert.deepEqual([...parseAttrdQueryAll('name="a" host="n1" value="x y"\ngarbage\nname="a" host="n-2" value="v1;t;down:why;"\n')],
    [['n1', 'x y'], ['n-2', 'v1;t;down:why;']]);
  assert.deepEqual(parsePacemakerVersion('Pacemaker 2.1.7\n'), [2, 1, 7]);
  assert.equal(parsePacemakerVersion('nope'), undefined);
  const cases: Array<[number[] | undefined, boolean]> = [
    [[2, 1, 5], false], [[2, 1, 6], true], [[2, 1, 10], true], [[2, 2, 0], true], [[3, 0, 0], true], [[2, 0, 9], false], [[1, 1, 24], false], [undefined, false],
  ];
  for (const [v, want] of cases) assert.equal(attrdCanWait(v), want, JSON.stringify(v));
  assert.deepEqual(parseNodeList('1 n1 member\n\n2 n2 lost\n  3 node-three member\nnot a line\n'), ['n1', 'n2', 'node-three']);
});

test('AttributeCache.forget: the next publish of that key writes again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cache-'));
  try {
    const c = new AttributeCache(join(dir, 'c.json'));
    const w = async () => ({ ok: true });
    assert.equal((await c.publish('score', '1000', w)).outcome, 'written');
    assert.equal((await c.publish('score', '1000', w)).outcome, 'unchanged');
    c.forget('score');
    assert.equal((await c.publish('score', '1000', w)).outcome, 'written');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
