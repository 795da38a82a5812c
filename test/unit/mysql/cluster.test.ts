// lib/cluster: tool arguments, output parsing and the write cache, with a recording runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunOptions, RunResult, Runner } from '../../../lib/exec.ts';
import { ClusterTools, parseAttrdQuery, parseLocate, primitiveName } from '../../../lib/cluster/tools.ts';
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
