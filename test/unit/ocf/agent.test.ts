import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineAgent, executeAgent, actionBudgetMs } from '../../../lib/ocf/agent.ts';
import { OCF, OcfError } from '../../../lib/ocf/codes.ts';
import { defineParams } from '../../../lib/ocf/params.ts';
import { metadataXml } from '../../../lib/ocf/metadata.ts';
import { parseNotify } from '../../../lib/ocf/notify.ts';
import { memoryLogger } from '../../../lib/log.ts';
import { sleep } from '../../../lib/deadline.ts';

const params = defineParams({
  name: { type: 'string', required: true, shortdesc: 'n', longdesc: 'the name' },
  mode: { type: 'select', choices: ['fast', 'safe'], default: 'safe', reloadable: true, shortdesc: 'm', longdesc: 'the mode' },
  secret: { type: 'string', secret: true, shortdesc: 's', longdesc: 's' },
});
const seen: string[] = [];
const agent = defineAgent({
  name: 'demo', version: '1', shortdesc: 'demo', longdesc: 'demo agent', params,
  validate: async (ctx) => { if (ctx.params.name === 'bad-here') throw new OcfError(OCF.ERR_ARGS, 'not on this host'); },
  actions: {
    start: { meta: [{ timeout: 20 }], run: async (ctx) => { seen.push(`start ${ctx.params.name} ${ctx.params.mode}`); } },
    stop: { meta: [{ timeout: 20 }], run: async () => OCF.SUCCESS },
    monitor: { meta: [{ timeout: 10, interval: 10 }, { timeout: 10, interval: 30, depth: 10 }], run: async (ctx) => {
      if (ctx.params.name === 'hang') { await sleep(60_000); }
      if (ctx.params.name === 'throw') throw new Error(`boom ${ctx.params.secret}`);
      if (ctx.params.name === 'ocf-throw') throw new OcfError(OCF.ERR_ARGS, `cannot log in with ${ctx.params.secret}`);
      if (ctx.params.name === 'leak') ctx.log.info(`password is ${ctx.params.secret}`);
      return ctx.isProbe ? OCF.NOT_RUNNING : OCF.SUCCESS;
    } },
    promote: { meta: [{ timeout: 30 }], run: async (ctx) => { seen.push(`notify? ${ctx.notify === undefined}`); } },
    'reload-agent': { meta: [{ timeout: 10 }], run: async () => OCF.SUCCESS },
  },
});
const exec = (action: string, env: Record<string, string>) => executeAgent(agent, [action], env, memoryLogger().log);

test('dispatch: known actions run, unknown is 3 with a reason listing the actions', async () => {
  assert.equal((await exec('start', { OCF_RESKEY_name: 'x' })).code, 0);
  assert.equal(seen.at(-1), 'start x safe');
  const u = await exec('migrate_to', { OCF_RESKEY_name: 'x' });
  assert.equal(u.code, OCF.ERR_UNIMPLEMENTED);
  assert.match(u.reason!, /not supported.*start, stop, monitor/);
  assert.equal((await exec('', {})).code, OCF.ERR_UNIMPLEMENTED);
});

test('probe detection: monitor with interval 0 (or none) is a probe', async () => {
  assert.equal((await exec('monitor', { OCF_RESKEY_name: 'x', OCF_RESKEY_CRM_meta_interval: '0' })).code, OCF.NOT_RUNNING);
  assert.equal((await exec('monitor', { OCF_RESKEY_name: 'x', OCF_RESKEY_CRM_meta_interval: '10000' })).code, OCF.SUCCESS);
});

test('invalid parameters: start/validate fail with 6, stop succeeds, probe says not running', async () => {
  const s = await exec('start', { OCF_RESKEY_mode: 'turbo' });
  assert.equal(s.code, OCF.ERR_CONFIGURED);
  assert.match(s.reason!, /required parameter name is not set; mode="turbo" is not one of: fast, safe/);
  assert.equal((await exec('validate-all', {})).code, OCF.ERR_CONFIGURED);
  assert.equal((await exec('stop', {})).code, OCF.SUCCESS);
  assert.equal((await exec('monitor', { OCF_RESKEY_CRM_meta_interval: '0' })).code, OCF.NOT_RUNNING);
  assert.equal((await exec('monitor', { OCF_RESKEY_CRM_meta_interval: '5000' })).code, OCF.ERR_CONFIGURED);
});

test('host validation runs before start and for validate-all', async () => {
  const r = await exec('start', { OCF_RESKEY_name: 'bad-here' });
  assert.deepEqual([r.code, r.reason], [OCF.ERR_ARGS, 'not on this host']);
  assert.equal((await exec('validate-all', { OCF_RESKEY_name: 'bad-here' })).code, OCF.ERR_ARGS);
  assert.equal((await exec('validate-all', { OCF_RESKEY_name: 'fine' })).code, OCF.SUCCESS);
});

test('an unexpected exception is rc 1 with a reason, secrets hidden', async () => {
  const r = await exec('monitor', { OCF_RESKEY_name: 'throw', OCF_RESKEY_secret: 's3cret', OCF_RESKEY_CRM_meta_interval: '1000' });
  assert.equal(r.code, OCF.ERR_GENERIC);
  assert.equal(r.reason, 'monitor failed: boom [hidden]');
  const o = await exec('monitor', { OCF_RESKEY_name: 'ocf-throw', OCF_RESKEY_secret: 's3cret', OCF_RESKEY_CRM_meta_interval: '1000' });
  assert.deepEqual([o.code, o.reason], [OCF.ERR_ARGS, 'cannot log in with [hidden]']);
  const { log, entries } = memoryLogger();
  await executeAgent(agent, ['monitor'], { OCF_RESKEY_name: 'leak', OCF_RESKEY_secret: 's3cret', OCF_RESKEY_CRM_meta_interval: '1000' }, log);
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.message, 'password is [hidden]');
});

test('the deadline bounds a hung action', async () => {
  const t = Date.now();
  const r = await exec('monitor', { OCF_RESKEY_name: 'hang', OCF_RESKEY_CRM_meta_timeout: '1000', OCF_RESKEY_CRM_meta_interval: '1000' });
  assert.equal(r.code, OCF.ERR_GENERIC);
  assert.match(r.reason!, /did not finish within its \d+ ms budget/);
  assert.ok(Date.now() - t < 1500, `took ${Date.now() - t} ms`);
  assert.ok(actionBudgetMs(20000) === 18000 && actionBudgetMs(1000) === 900);
});

test('meta-data: common ground of the DTD and metadata.rng, full 1.1 on request', async () => {
  const m = await exec('meta-data', {});
  assert.equal(m.code, 0);
  const xml = m.stdout!;
  assert.match(xml, /<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">/);
  assert.match(xml, /<version>1.0<\/version>/);
  assert.match(xml, /<content type="string" default="safe"\/>/);
  assert.match(xml, /Allowed values: fast, safe\. Can be changed without restarting/);
  assert.doesNotMatch(xml, /reload-agent|reloadable|unique-group|type="select"/);
  assert.match(xml, /<action name="monitor" timeout="10s" interval="30s" depth="10"\/>/);
  assert.match(xml, /<action name="validate-all" timeout="20s"\/>/);
  const full = metadataXml({ name: 'demo', version: '1', shortdesc: 's', longdesc: 'l', params, actions: [['reload-agent', { timeout: 10 }]] }, true);
  assert.match(full, /<version>1.1<\/version>/);
  assert.match(full, /<parameter name="mode" reloadable="1" required="0">/);
  assert.match(full, /<content type="select" default="safe">\s*<option value="fast"\/>/);
  assert.match(full, /<action name="reload-agent"/);
});

test('notify variables become records, with the pre-2.1 names as fallback', () => {
  const n = parseNotify({
    OCF_RESKEY_CRM_meta_notify_type: 'pre', OCF_RESKEY_CRM_meta_notify_operation: 'promote',
    OCF_RESKEY_CRM_meta_notify_promote_resource: 'db:1 ', OCF_RESKEY_CRM_meta_notify_promote_uname: 'n2',
    OCF_RESKEY_CRM_meta_notify_master_resource: 'db:0', OCF_RESKEY_CRM_meta_notify_master_uname: 'n1',
    OCF_RESKEY_CRM_meta_notify_active_resource: 'db:0 db:1 db:2', OCF_RESKEY_CRM_meta_notify_active_uname: 'n1 n2 n3',
    OCF_RESKEY_CRM_meta_notify_all_uname: 'n1 n2 n3',
  })!;
  assert.equal(n.type, 'pre');
  assert.equal(n.operation, 'promote');
  assert.deepEqual(n.promote, [{ resource: 'db:1', uname: 'n2' }]);
  assert.deepEqual(n.promoted, [{ resource: 'db:0', uname: 'n1' }]);
  assert.equal(n.active.length, 3);
  assert.deepEqual(n.all, ['n1', 'n2', 'n3']);
  assert.deepEqual(n.stop, []);
  assert.equal(parseNotify({ OCF_RESKEY_CRM_meta_notify_type: 'pre' }), undefined);
});
