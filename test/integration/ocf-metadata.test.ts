// Every built OCF agent's meta-data validates against both validators operators use: the DTD
// (xmllint --valid, as ocf-tester runs it) and resource-agents' metadata.rng.
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), '../../dist/resource.d/vigil');
const RA = '/usr/share/resource-agents';

test('validators are installed', () => {
  assert.ok(existsSync(`${RA}/ra-api-1.dtd`) && existsSync(`${RA}/metadata.rng`), 'install resource-agents (ra-api-1.dtd, metadata.rng)');
  assert.ok(existsSync('/usr/bin/xmllint'), 'install libxml2-utils (xmllint)');
});

for (const name of existsSync(dir) ? readdirSync(dir) : []) {
  test(`${name}: meta-data is valid (DTD and RNG) and runs with an empty environment`, () => {
    const md = spawnSync(join(dir, name), ['meta-data'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(md.status, 0, md.stderr);
    for (const args of [['--noout', '--valid', '-'], ['--noout', '--relaxng', `${RA}/metadata.rng`, '-']]) {
      const v = spawnSync('xmllint', args, { input: md.stdout, cwd: RA, encoding: 'utf8' });
      assert.equal(v.status, 0, `xmllint ${args.join(' ')}: ${v.stderr}`);
    }
  });
}

test('at least the vip agent was built', () => assert.ok(existsSync(join(dir, 'vip')), 'run npm run build first'));
