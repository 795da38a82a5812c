// npm run demo [-- --down] [-- --fault power-off|kill-9]: on a fresh Debian machine, as root,
// install what is missing (build/install-deps.sh, npm ci), build the agents, then run the demo
// (test/lab/demo.ts). Plain JavaScript with no dependencies: node_modules may not exist yet.
import { existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
// Nothing runs yet when one of these fails: say which step, show its output, say how to rerun it.
const step = (what, cmd, argv) => {
  const t = Date.now();
  process.stdout.write(`${what}... `);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    console.log('failed');
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`);
    console.error(`\ndemo failed while ${what}: ${cmd} ${argv.join(' ')} ${r.signal ? `was killed by ${r.signal}` : `exited with ${r.status}`} ` +
      `(its output is above). Nothing was started. Run it yourself in ${root} to see more, then npm run demo again.`);
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
// Ctrl-C reaches the demo too (same terminal) and it tears the lab down before it exits: this
// process waits for it instead of dying first and handing the terminal back mid-teardown. A
// SIGTERM (not from the terminal) is passed on, with the same effect.
const demo = spawn(process.execPath, ['--import', 'tsx', join('test', 'lab', 'demo.ts'), ...args], { cwd: root, stdio: 'inherit' });
process.on('SIGINT', () => {});
process.on('SIGTERM', () => demo.kill('SIGTERM'));
demo.on('exit', (code) => process.exit(code ?? 130));
