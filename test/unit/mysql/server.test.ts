// Finding the server by its pid file: a stale pid file whose pid was reused by another process of
// the same name (another instance's server) must not count, or stop would signal that process.
// Real processes stand in for servers: node with a server's command line, found as binary "node".
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findServer, isInstanceCmdline } from '../../../lib/mysql/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-server-test-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A long-lived process whose command line carries `args` (as a server's would). */
async function fakeServer(args: string[]): Promise<number> {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', ...args], { stdio: 'ignore' });
  children.push(c);
  await new Promise<void>((resolve, reject) => { c.once('spawn', () => resolve()); c.once('error', reject); });
  return c.pid!;
}

test('isInstanceCmdline: this pid file or this datadir, in any spelling the server accepts', () => {
  const pid = '/run/mysqld/db.pid';
  const data = '/var/lib/mysql';
  const yes: string[][] = [
    ['mariadbd', `--pid-file=${pid}`],
    ['mariadbd', `--pid_file=${pid}`],
    ['mariadbd', '--pid-file', pid],
    ['mariadbd', `--datadir=${data}`],
    ['mariadbd', `--datadir=${data}/`],
    ['mariadbd', '--datadir', '/var/lib//mysql'],
    ['/usr/sbin/mariadbd', '--defaults-file=/etc/my.cnf', `--datadir=${data}`, `--pid-file=${pid}`, '--read-only'],
  ];
  for (const argv of yes) assert.equal(isInstanceCmdline(argv, pid, data), true, argv.join(' '));
  const no: string[][] = [
    ['mariadbd'],
    ['mariadbd', '--pid-file=/run/mysqld/other.pid', '--datadir=/srv/other'],
    ['mariadbd', `--pid-file=${pid}.old`],
    ['mariadbd', '--datadir=/var/lib/mysql2'],
    ['mariadbd', '--pid-file'],
    [`--pid-file=${pid}`], // argv[0] is the program, never an option
  ];
  for (const argv of no) assert.equal(isInstanceCmdline(argv, pid, data), false, argv.join(' '));
  assert.equal(isInstanceCmdline(['mariadbd', `--datadir=${data}`], pid), false, 'no datadir given: only the pid file counts');
});

test('findServer: a pid file naming another instance\'s server (same name) is not ours', async () => {
  const mine = join(dir, 'mine.pid');
  const data = join(dir, 'data');
  const ours = await fakeServer([`--datadir=${data}`, `--pid-file=${mine}`]);
  const theirs = await fakeServer([`--datadir=${join(dir, 'other')}`, `--pid-file=${join(dir, 'other.pid')}`]);
  const bare = await fakeServer([]);
  writeFileSync(mine, `${ours}\n`);
  assert.deepEqual(findServer(mine, process.execPath, data), { pid: ours, frozen: false });
  assert.deepEqual(findServer(mine, process.execPath), { pid: ours, frozen: false }, 'the pid file alone names it');
  // A stale pid file: the pid now belongs to another instance's server, or to one without options.
  writeFileSync(mine, `${theirs}\n`);
  assert.equal(findServer(mine, process.execPath, data), undefined);
  writeFileSync(mine, `${bare}\n`);
  assert.equal(findServer(mine, process.execPath, data), undefined);
  // Only the datadir names it (the pid file was given in an option file).
  const viaData = await fakeServer([`--datadir=${data}`]);
  writeFileSync(mine, `${viaData}\n`);
  assert.deepEqual(findServer(mine, process.execPath, data), { pid: viaData, frozen: false });
  assert.equal(findServer(mine, process.execPath), undefined, 'without the datadir nothing names it');
  // A program that is no server (its name is neither the binary's nor a server's) never counts.
  writeFileSync(mine, `${ours}\n`);
  assert.equal(findServer(mine, '/usr/sbin/mariadbd', data), undefined);
});
