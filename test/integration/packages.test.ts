// The RPM and the .deb: built from dist/ by build/package.mjs, checked the way an operator or a
// distribution reviewer would look at them, and their agents compared with dist/.
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../..');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
const ocf = readdirSync(join(root, 'dist/resource.d/vigil'));
const fence = (() => { try { return readdirSync(join(root, 'dist/sbin')); } catch { return []; } })();
const expected = [
  ...ocf.map((a) => `/usr/lib/ocf/resource.d/vigil/${a}`), ...fence.map((f) => `/usr/sbin/${f}`),
  ...ocf.map((a) => `/usr/share/man/man7/ocf_vigil_${a}.7.gz`), ...fence.map((f) => `/usr/share/man/man8/${f}.8.gz`),
];
const sh = (cmd: string, args: string[], cwd = root) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
let rpm = ''; let deb = '';

before(() => {
  for (const c of ['rpmbuild', 'rpmlint', 'dpkg-deb', 'rpm2cpio', 'cpio', 'man']) {
    assert.equal(spawnSync('which', [c]).status, 0, `${c} is missing: apt-get install rpm rpmlint dpkg-dev cpio man-db`);
  }
  rpm = sh('node', ['build/package.mjs', 'rpm']).trim().split('\n').pop()!;
  deb = sh('node', ['build/package.mjs', 'deb']).trim().split('\n').pop()!;
});

/** Run an extracted agent with /usr/bin/node, as its package shebang would. */
function metadataOf(file: string, fenceAgent: boolean): string {
  return sh('/usr/bin/node', [file, ...(fenceAgent ? ['-o', 'metadata'] : ['meta-data'])]);
}
function checkTree(dir: string) {
  for (const p of expected.filter((e) => !e.includes('/man/'))) {
    const f = join(dir, p);
    assert.equal(statSync(f).mode & 0o777, 0o755, `${p} mode`);
    assert.ok(readFileSync(f, 'utf8').startsWith('#!/usr/bin/node\n'), `${p} shebang`);
    const isFence = p.startsWith('/usr/sbin/');
    const name = p.split('/').pop()!;
    const fromDist = metadataOf(join(root, isFence ? 'dist/sbin' : 'dist/resource.d/vigil', name), isFence);
    assert.equal(metadataOf(f, isFence), fromDist, `${p}: same metadata as dist/`);
  }
  for (const p of expected.filter((e) => e.includes('/man/'))) {
    const r = spawnSync('man', ['--warnings', '-l', join(dir, p)], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80', PAGER: 'cat' } });
    assert.equal(r.status, 0, `${p}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), '', `man warnings for ${p}`);
    assert.match(r.stdout, /NAME/);
  }
}

describe('rpm', () => {
  test('file list, dependencies and rpmlint', () => {
    assert.match(rpm, new RegExp(`vigil-${version.replace(/\./g, '\\.')}-1\\.noarch\\.rpm$`));
    const files = sh('rpm', ['-qlp', rpm]).trim().split('\n');
    for (const e of expected) assert.ok(files.includes(e), `${e} in ${files.join(' ')}`);
    assert.ok(files.some((f) => f.endsWith('/LICENSE')) && files.some((f) => f.endsWith('/README.md')));
    const req = sh('rpm', ['-qpR', rpm]);
    assert.match(req, /^nodejs >= 18\.19$/m);
    const rec = sh('rpm', ['-qp', '--recommends', rpm]);
    assert.match(rec, /ipmitool/);
    assert.match(rec, /iputils/);
    const lint = spawnSync('rpmlint', ['-r', join(root, 'rpm/vigil.rpmlintrc'), rpm, join(root, 'rpm/vigil.spec')], { encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.match(lint.stdout, /0 errors, 0 warnings/);
  });
  test('extracted agents: modes, shebangs, same metadata as dist/, man pages render', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rpm-'));
    try {
      execFileSync('sh', ['-c', 'rpm2cpio "$1" | cpio -idm --quiet', 'x', rpm], { cwd: dir });
      checkTree(dir);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('deb', () => {
  test('control fields and file list', () => {
    assert.match(deb, new RegExp(`vigil_${version.replace(/\./g, '\\.')}_all\\.deb$`));
    assert.equal(sh('dpkg-deb', ['-f', deb, 'Depends']).trim(), 'nodejs (>= 18.19)');
    assert.match(sh('dpkg-deb', ['-f', deb, 'Recommends']), /ipmitool, iputils-arping/);
    assert.equal(sh('dpkg-deb', ['-f', deb, 'Architecture']).trim(), 'all');
    const listing = sh('dpkg-deb', ['-c', deb]);
    for (const e of expected) assert.match(listing, new RegExp(` \\.${e.replace(/\./g, '\\.')}\\n`), e);
    assert.match(listing, /root\/root .* \.\/usr\/share\/doc\/vigil\/copyright/);
    assert.doesNotMatch(listing, /node_modules|\.ts\n/);
  });
  test('extracted agents: modes, shebangs, same metadata as dist/, man pages render', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-deb-'));
    try {
      sh('dpkg-deb', ['-x', deb, dir]);
      checkTree(dir);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
