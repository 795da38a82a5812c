import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineParams, parseParams, parseValue } from '../../../lib/ocf/params.ts';

const table = defineParams({
  ip: { type: 'string', required: true, shortdesc: 'IP', longdesc: 'the IP', validate: (v) => (v.includes(' ') ? 'no spaces' : undefined) },
  count: { type: 'integer', default: 5, min: 0, max: 10, shortdesc: 'n', longdesc: 'n' },
  flag: { type: 'boolean', default: true, shortdesc: 'f', longdesc: 'f' },
  mode: { type: 'select', choices: ['a', 'b'], default: 'a', shortdesc: 'm', longdesc: 'm' },
  opt: { type: 'string', shortdesc: 'o', longdesc: 'o' },
});

test('defaults apply and required is reported', () => {
  const { values, problems } = parseParams(table, {});
  assert.equal(values.count, 5);
  assert.equal(values.flag, true);
  assert.equal(values.mode, 'a');
  assert.equal(values.opt, undefined);
  assert.deepEqual(problems.map((p) => p.name), ['ip']);
});

test('values are typed and every problem is listed', () => {
  const { values, problems } = parseParams(table, {
    OCF_RESKEY_ip: '192.0.2.1', OCF_RESKEY_count: '11', OCF_RESKEY_flag: 'maybe', OCF_RESKEY_mode: 'c',
  });
  assert.equal(values.ip, '192.0.2.1');
  assert.deepEqual(problems.map((p) => p.name), ['count', 'flag', 'mode']);
  assert.match(problems[0]!.reason, /above the maximum 10/);
  assert.match(problems[2]!.reason, /one of: a, b/);
});

test('booleans accept the cluster spellings', () => {
  for (const t of ['1', 'yes', 'true', 'on', 'TRUE']) assert.equal(parseValue('f', table.flag, t).value, true);
  for (const f of ['0', 'no', 'false', 'off']) assert.equal(parseValue('f', table.flag, f).value, false);
});

test('integers reject junk and the string validator runs', () => {
  assert.ok(parseValue('count', table.count, '3x').reason);
  assert.ok(parseValue('count', table.count, '').reason);
  assert.match(parseValue('ip', table.ip, 'a b').reason!, /ip: no spaces/);
});
