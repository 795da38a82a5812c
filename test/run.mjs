// Runs the test suites with Node's built-in runner (TypeScript through tsx).
//   node test/run.mjs             unit + integration (what `npm test` runs; no cluster needed)
//   node test/run.mjs unit        unit tests only
//   node test/run.mjs integration integration tests only (root, real programs, network namespaces)
//   node test/run.mjs lab         the Pacemaker lab scenarios (`npm run test:lab`)
// Node 18/20 have no glob support in --test, hence this file.
import { fileURLToPath } from 'node:url';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = fileURLToPath(new URL('..', import.meta.url));
const suites = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const extra = process.argv.slice(2).filter((a) => a.startsWith('-'));
const chosen = suites.length ? suites : ['unit', 'integration'];

function find(dir) {
  let out = [];
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (e.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const files = chosen.flatMap((s) => find(join(root, 'test', s)));
if (files.length === 0) { console.error(`no test files found for: ${chosen.join(', ')}`); process.exit(1); }
// Integration tests share network namespaces, ports and daemons: run files one at a time.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...extra, ...files], {
  cwd: root, stdio: 'inherit', env: { ...process.env },
});
process.exit(r.status ?? 1);
