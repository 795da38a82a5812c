// lib/exec.ts against real child processes (node -e programs, argument arrays): a timeout ends the
// whole process group, so a grandchild holding our pipes (a password_script that started a helper)
// cannot hold the run past its timeout; output beyond the cap is dropped, and the result says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeResult, run } from '../../lib/exec.ts';

const NODE = process.execPath;

/** Alive and not a zombie waiting for its (new) parent to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}

async function gone(pid: number, ms = 1000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !alive(pid);
}

/** A program that starts a grandchild inheriting its stdout and stderr, prints the grandchild's pid, then runs `then`. */
const parentWithGrandchild = (then: string) => [
  '-e',
  `const { spawn } = require('node:child_process');
   const g = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: ['ignore', 'inherit', 'inherit'] });
   process.stdout.write('grandchild ' + g.pid + '\\n');
   ${then}`,
];

const grandchildPid = (stdout: string): number => {
  const m = /grandchild (\d+)/.exec(stdout);
  assert.ok(m, `no grandchild pid in ${JSON.stringify(stdout)}`);
  return Number(m[1]);
};

const killQuietly = (pid: number | undefined) => { if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } };

// Node starts in 50-300 ms on a loaded machine: the timeout leaves the parent time to start its
// grandchild, and the check is that run() returns right after it, not 30 s later.
const TIMEOUT_MS = 1000;

test('timeout: the child and the grandchild holding its stdout are killed; run returns at the timeout', async () => {
  let gpid: number | undefined;
  try {
    const t0 = Date.now();
    const r = await run(NODE, parentWithGrandchild('setTimeout(() => {}, 30000);'), { timeoutMs: TIMEOUT_MS });
    const took = Date.now() - t0;
    gpid = grandchildPid(r.stdout);
    assert.equal(r.timedOut, true);
    assert.ok(took < TIMEOUT_MS + 700, `run took ${took} ms with a ${TIMEOUT_MS} ms timeout`);
    assert.ok(await gone(gpid), `grandchild ${gpid} outlived the timeout`);
    assert.match(describeResult(r), /timed out after \d+ ms/);
  } finally { killQuietly(gpid); }
});

test('the child exits but leaves a grandchild holding its stdout: run returns with the exit code, the grandchild is gone', async () => {
  let gpid: number | undefined;
  try {
    const t0 = Date.now();
    const r = await run(NODE, parentWithGrandchild('process.exit(3);'), { timeoutMs: 10_000 });
    const took = Date.now() - t0;
    gpid = grandchildPid(r.stdout);
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 3);
    assert.ok(took < 2000, `run took ${took} ms although the program exited at once`);
    assert.ok(await gone(gpid), `grandchild ${gpid} outlived the program that started it`);
  } finally { killQuietly(gpid); }
});

test('an abort signal ends the whole group too', async () => {
  let gpid: number | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-exec-'));
  try {
    // The parent also writes the grandchild's pid to a file: the abort comes once it exists.
    const pidFile = join(dir, 'grandchild');
    const ac = new AbortController();
    const started = run(NODE, parentWithGrandchild(`require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid)); setTimeout(() => {}, 30000);`),
      { timeoutMs: 30_000, signal: ac.signal });
    const until = Date.now() + 10_000;
    while (!existsSync(pidFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    ac.abort();
    const r = await started;
    gpid = grandchildPid(r.stdout);
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t0 < 700, `run took ${Date.now() - t0} ms after the abort`);
    assert.ok(await gone(gpid), `grandchild ${gpid} outlived the abort`);
  } finally { killQuietly(gpid); rmSync(dir, { recursive: true, force: true }); }
});

test('output beyond the cap is read and dropped: the result keeps the head and says it was truncated', async () => {
  // 256 MiB on stdout, 1 MiB on stderr: kept whole, that would be hundreds of MB of strings.
  const prog = `const b = Buffer.alloc(1 << 20, 'x');
    process.stderr.write(Buffer.alloc(1 << 20, 'e'));
    let n = 256;
    const more = () => { while (n > 0) { n--; if (!process.stdout.write(b)) { process.stdout.once('drain', more); return; } } };
    more();`;
  const before = process.memoryUsage().rss;
  const r = await run(NODE, ['-e', prog], { timeoutMs: 60_000, maxOutputBytes: 64 * 1024 });
  const grew = process.memoryUsage().rss - before;
  assert.equal(r.code, 0, r.stderr.slice(0, 200));
  assert.equal(r.truncated, true);
  assert.ok(r.stdout.startsWith('x'.repeat(64 * 1024)), 'the head of the output is kept');
  assert.ok(r.stdout.length < 64 * 1024 + 200, `stdout kept ${r.stdout.length} characters`);
  assert.match(r.stdout, /\[output truncated: 268369920 more bytes were discarded\]\n?$/);
  assert.match(r.stderr, /\[output truncated: 983040 more bytes were discarded\]\n?$/);
  assert.ok(grew < 100 * 1024 * 1024, `memory grew by ${Math.round(grew / 1048576)} MiB while reading 257 MiB`);
});

test('output within the cap is returned whole and not marked', async () => {
  const r = await run(NODE, ['-e', "process.stdout.write('a'.repeat(1000)); process.stderr.write('é\\n')"], { timeoutMs: 10_000, maxOutputBytes: 1000 });
  assert.equal(r.stdout, 'a'.repeat(1000));
  assert.equal(r.stderr, 'é\n');
  assert.equal(r.truncated, undefined);
});

test('a program that does not exist: spawnError, no hang', async () => {
  const r = await run('/nonexistent/vigil-no-such-program', [], { timeoutMs: 1000 });
  assert.ok(r.spawnError, JSON.stringify(r));
  assert.match(describeResult(r), /could not be run/);
});
