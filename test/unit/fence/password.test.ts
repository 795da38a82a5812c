import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult, Runner } from '../../../lib/exec.ts';
import { runPasswordScript, splitCommandLine } from '../../../lib/fence/password.ts';
import { FenceError } from '../../../lib/fence/errors.ts';

test('password_script is split into words, never given to a shell', () => {
  const ok: Array<[string, string[]]> = [
    ['/usr/local/sbin/bmc-pass n1', ['/usr/local/sbin/bmc-pass', 'n1']],
    ['  /bin/cat   /etc/x  ', ['/bin/cat', '/etc/x']],
    ['pass show "ipmi/node 1"', ['pass', 'show', 'ipmi/node 1']],
    ["get 'a b' c", ['get', 'a b', 'c']],
    ['get "say \\"hi\\""', ['get', 'say "hi"']],
    ['get a\\ b', ['get', 'a b']],
    ['get "$HOME|x;y"', ['get', '$HOME|x;y']],
    ['get a~b', ['get', 'a~b']],
  ];
  for (const [line, words] of ok) assert.deepEqual(splitCommandLine(line), { words }, line);
  for (const bad of ['cat /x | tr a b', 'get; rm -rf /', 'get $HOME', 'get `id`', 'get > /tmp/x', 'get "open', '', '   ', 'get ~/x', 'a && b', 'get *']) {
    const r = splitCommandLine(bad);
    assert.equal(r.words, undefined, bad);
    assert.ok(r.error);
  }
});

const res = (p: Partial<RunResult>): RunResult => ({ command: 'x', args: [], code: 0, signal: null, stdout: '', stderr: '', timedOut: false, durationMs: 1, ...p });

test('runPasswordScript: stdout without trailing whitespace; failures never show stdout', async () => {
  const seen: Array<[string, readonly string[], number]> = [];
  const runner = (r: Partial<RunResult>): Runner => async (cmd, args, o) => { seen.push([cmd, args, o.timeoutMs]); return res(r); };
  assert.equal(await runPasswordScript('/bin/get n1', runner({ stdout: 'pa ss\n\n' }), { timeoutMs: 5000 }), 'pa ss');
  assert.deepEqual(seen[0], ['/bin/get', ['n1'], 5000]);
  for (const [r, re] of [
    [{ code: 3, stdout: 'LEAK' }, /password_script failed.*exited with 3/],
    [{ timedOut: true, code: null, stdout: 'LEAK' }, /timed out/],
    [{ spawnError: 'ENOENT', code: null }, /could not be run/],
    [{ stdout: '\n' }, /printed nothing/],
  ] as Array<[Partial<RunResult>, RegExp]>) {
    await assert.rejects(runPasswordScript('/bin/get', runner(r), { timeoutMs: 1 }), (e: FenceError) => {
      assert.ok(e instanceof FenceError);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('LEAK'));
      return true;
    });
  }
  await assert.rejects(runPasswordScript('a | b', runner({}), { timeoutMs: 1 }), /without one/);
});
