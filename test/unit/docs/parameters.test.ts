import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('docs/parameters.md matches the agents\' parameter tables (npm run docs)', () => {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '../../..');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'build/docs.mts', '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
