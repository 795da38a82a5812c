// The MariaDB test harness itself: cleanup() kills the servers it started, frozen ones included,
// and nothing else, even when a stale pid file names a pid some other process now holds; for MySQL
// (run in its own root) it also leaves no bind mount behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive, signal } from '../../lib/daemon.ts';
import { MariaCluster, MYSQL_ROOT, flavours, type Node } from './support/mariadb.ts';

for (const flavour of flavours()) test(`harness cleanup (${flavour.label}): our servers die, a process named by a stale pid file survives`, { timeout: 120_000 }, async () => {
  const c = await MariaCluster.create({ flavour, nodes: 2, basePort: 33066 });
  const mounted = () => readFileSync('/proc/self/mountinfo', 'utf8').includes(`${MYSQL_ROOT}${c.dir}`);
  assert.equal(mounted(), flavour.name === 'mysql', 'the tree is visible inside the MySQL root while the cluster lives');
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
    assert.equal(mounted(), false, 'no bind mount is left behind');
    assert.equal(existsSync(`${MYSQL_ROOT}${c.dir}`), false, 'nor its mount point');
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
