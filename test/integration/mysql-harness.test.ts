// The MariaDB test harness itself: cleanup() kills the servers it started, frozen ones included,
// and nothing else, even when a stale pid file names a pid some other process now holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive, signal } from '../../lib/daemon.ts';
import { MariaCluster, type Node } from './support/mariadb.ts';

test('harness cleanup: our servers die, a process named by a stale pid file survives', { timeout: 120_000 }, async () => {
  const c = await MariaCluster.create({ nodes: 2, basePort: 33066 });
  const [n1, n2] = c.nodes as [Node, Node];
  const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => { bystander.once('spawn', () => resolve()); bystander.once('error', reject); });
  let server: number | undefined;
  try {
    const r = await c.agent(n1, 'start');
    assert.equal(r.code, 0, r.stderr);
    server = c.pid(n1)!;
    signal(server, 'SIGSTOP'); // frozen servers must die too
    // n2's server "died" long ago; its pid file now names an unrelated live process.
    mkdirSync(dirname(n2.pidFile), { recursive: true });
    writeFileSync(n2.pidFile, `${bystander.pid}\n`);
    c.track(n2);
    await c.cleanup();
    assert.ok(isAlive(bystander.pid!), 'cleanup killed a process that was not one of its servers');
    assert.equal(isAlive(server), false, 'cleanup left our (frozen) server running');
    assert.equal(existsSync(c.dir), false, 'the temporary tree is removed');
  } finally {
    bystander.kill('SIGKILL');
    const ours = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--datadir=${c.dir}/`); } catch { return false; } };
    if (server !== undefined && isAlive(server) && ours(server)) {
      signal(server, 'SIGCONT');
      signal(server, 'SIGKILL');
    }
    await c.cleanup();
  }
});
