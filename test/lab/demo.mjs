// npm run demo [-- --down] [-- --fault power-off|kill-9]: on a fresh Debian machine, as root,
// install what is missing (build/install-deps.sh, npm ci), build the agents, then run the demo
// (test/lab/demo.ts). Plain JavaScript with no dependencies: node_modules may not exist yet.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const step = (what, cmd, argv) => {
  const t = Date.now();
  process.stdout.write(`${what}... `);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    console.log('failed');
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    process.exit(1);
  }
  console.log(`done (${((Date.now() - t) / 1000).toFixed(1)} s)`);
};

if (args.includes('-h') || args.includes('--help')) {
  spawnSync(process.execPath, ['--import', 'tsx', join('test', 'lab', 'demo.ts'), '--help'], { cwd: root, stdio: 'inherit' });
  process.exit(0);
}
if (process.getuid?.() !== 0) {
  console.error('the demo needs root: it creates network namespaces, bridges and mounts (sudo npm run demo)');
  process.exit(1);
}
step('checking the Debian packages (build/install-deps.sh)', 'bash', [join('build', 'install-deps.sh')]);
if (!existsSync(join(root, 'node_modules', 'tsx')) || !existsSync(join(root, 'node_modules', 'mysql2'))) {
  step('installing the npm dependencies (npm ci)', 'npm', ['ci', '--no-audit', '--no-fund']);
}
step('building the agents (npm run build)', 'npm', ['run', 'build']);
const r = spawnSync(process.execPath, ['--import', 'tsx', join('test', 'lab', 'demo.ts'), ...args], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
