// Packages the built bundles (run `npm run build` first; the npm scripts do):
//   node build/package.mjs man    -> dist/man/*.7, *.8 (from each agent's own tables)
//   node build/package.mjs rpm    -> pkg-out/vigil-<version>-1.noarch.rpm (rpmbuild, rpm/vigil.spec)
//   node build/package.mjs deb    -> pkg-out/vigil_<version>_all.deb (dpkg-deb)
// In packages the shebang is /usr/bin/node (both RPM and Debian distributions install Node.js
// there), so the agents do not depend on PATH, which Pacemaker keeps minimal.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const dist = join(root, 'dist');
const out = join(root, 'pkg-out');
const run = (cmd, args, opts = {}) => String(execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts }) ?? '');

const ocfAgents = () => readdirSync(join(dist, 'resource.d/vigil'));
const fenceAgents = () => (existsSync(join(dist, 'sbin')) ? readdirSync(join(dist, 'sbin')) : []);

export function buildMan() {
  const dir = join(dist, 'man');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const env = { PATH: '/usr/bin:/bin', VIGIL_CACHE_DIR: 'off' };
  for (const a of ocfAgents()) writeFileSync(join(dir, `ocf_vigil_${a}.7`), run(join(dist, 'resource.d/vigil', a), ['manpage'], { env }));
  for (const f of fenceAgents()) writeFileSync(join(dir, `${f}.8`), run(join(dist, 'sbin', f), ['-o', 'manpage'], { env }));
  return readdirSync(dir);
}

/** The installed tree under `stage`, shebangs rewritten; man pages gzipped when `gzipMan`. */
function stageTree(stage, { gzipMan }) {
  const files = [];
  const put = (src, rel, mode, transform) => {
    const dst = join(stage, rel);
    mkdirSync(dirname(dst), { recursive: true });
    let data = readFileSync(src);
    if (transform) data = transform(data);
    writeFileSync(dst, data);
    chmodSync(dst, mode);
    files.push(rel);
  };
  const shebang = (buf) => Buffer.from(buf.toString('utf8').replace(/^#!\/usr\/bin\/env node\n/, '#!/usr/bin/node\n'));
  for (const a of ocfAgents()) put(join(dist, 'resource.d/vigil', a), `usr/lib/ocf/resource.d/vigil/${a}`, 0o755, shebang);
  for (const f of fenceAgents()) put(join(dist, 'sbin', f), `usr/sbin/${f}`, 0o755, shebang);
  for (const m of readdirSync(join(dist, 'man'))) {
    const sec = m.split('.').pop();
    if (gzipMan) put(join(dist, 'man', m), `usr/share/man/man${sec}/${m}.gz`, 0o644, (b) => gzipSync(b, { level: 9 }));
    else put(join(dist, 'man', m), `usr/share/man/man${sec}/${m}`, 0o644);
  }
  return files;
}

export function buildRpm() {
  buildMan();
  const top = join(out, 'rpmbuild');
  rmSync(top, { recursive: true, force: true });
  for (const d of ['SOURCES', 'SPECS', 'BUILD', 'RPMS', 'SRPMS', 'BUILDROOT']) mkdirSync(join(top, d), { recursive: true });
  // Source tarball: the bundles as built, laid out as the spec's %install expects.
  const src = join(top, 'src', `vigil-${version}`);
  mkdirSync(src, { recursive: true });
  cpSync(join(dist, 'resource.d'), join(src, 'resource.d'), { recursive: true });
  if (fenceAgents().length) cpSync(join(dist, 'sbin'), join(src, 'sbin'), { recursive: true });
  cpSync(join(dist, 'man'), join(src, 'man'), { recursive: true });
  for (const f of ['README.md', 'LICENSE']) copyFileSync(join(root, f), join(src, f));
  for (const dir of ['resource.d/vigil', 'sbin']) {
    if (!existsSync(join(src, dir))) continue;
    for (const f of readdirSync(join(src, dir))) {
      const p = join(src, dir, f);
      writeFileSync(p, readFileSync(p, 'utf8').replace(/^#!\/usr\/bin\/env node\n/, '#!/usr/bin/node\n'));
      chmodSync(p, 0o755);
    }
  }
  run('tar', ['-C', join(top, 'src'), '--owner=0', '--group=0', '-czf', join(top, 'SOURCES', `vigil-${version}.tar.gz`), `vigil-${version}`]);
  run('rpmbuild', ['-bb', '--quiet', '--define', `_topdir ${top}`, '--define', `vigil_version ${version}`,
    '--define', '_binary_payload w9.gzdio',
    // Debian's rpm runs the brp scripts with dash, which they do not support; the spec compresses
    // the man pages itself.
    '--define', '__brp_compress /bin/true', join(root, 'rpm/vigil.spec')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const rpm = readdirSync(join(top, 'RPMS/noarch')).find((f) => f.endsWith('.rpm'));
  copyFileSync(join(top, 'RPMS/noarch', rpm), join(out, rpm));
  return join(out, rpm);
}

export function buildDeb() {
  buildMan();
  const stage = join(out, 'deb-stage');
  rmSync(stage, { recursive: true, force: true });
  stageTree(stage, { gzipMan: true });
  const doc = join(stage, 'usr/share/doc/vigil');
  mkdirSync(doc, { recursive: true });
  copyFileSync(join(root, 'README.md'), join(doc, 'README.md'));
  writeFileSync(join(doc, 'copyright'), `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: vigil\n\nFiles: *\nCopyright: 2026 the vigil authors\nLicense: MIT\n${readFileSync(join(root, 'LICENSE'), 'utf8').split('\n').slice(2).map((l) => (l ? ` ${l}` : ' .')).join('\n')}\n`);
  const date = new Date().toUTCString().replace('GMT', '+0000');
  writeFileSync(join(doc, 'changelog.Debian.gz'), gzipSync(Buffer.from(
    `vigil (${version}) unstable; urgency=medium\n\n  * Package built from the vigil repository; see the spec's changelog.\n\n -- vigil maintainers <maintainers@vigil.invalid>  ${date}\n`), { level: 9 }));
  const size = Math.ceil(Number(run('du', ['-sk', '--exclude=DEBIAN', stage]).split('\t')[0]));
  mkdirSync(join(stage, 'DEBIAN'), { recursive: true });
  writeFileSync(join(stage, 'DEBIAN/control'), [
    'Package: vigil', `Version: ${version}`, 'Architecture: all', 'Section: admin', 'Priority: optional',
    'Maintainer: vigil maintainers <maintainers@vigil.invalid>', `Installed-Size: ${size}`,
    'Depends: nodejs (>= 18.19)', 'Recommends: ipmitool, iputils-arping, ndisc6, iproute2',
    'Suggests: pacemaker, resource-agents',
    'Description: Pacemaker agents for MySQL/MariaDB replication, floating IPs and fencing',
    ' ocf:vigil:vip is a floating IPv4/IPv6 address that probes for a duplicate',
    ' before taking it; ocf:vigil:mysql a promotable MariaDB/MySQL replication',
    ' agent with graded replica health; fence_ipmi and fence_ssh are STONITH agents',
    ' that never put a secret on a command line.', '',
  ].join('\n'));
  for (const d of ['usr', 'usr/lib', 'usr/lib/ocf', 'usr/lib/ocf/resource.d']) if (existsSync(join(stage, d))) chmodSync(join(stage, d), 0o755);
  const deb = join(out, `vigil_${version}_all.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb]);
  return deb;
}

const what = process.argv[2];
mkdirSync(out, { recursive: true });
if (!existsSync(join(dist, 'resource.d/vigil'))) { console.error('nothing built: run npm run build first'); process.exit(1); }
if (what === 'man') console.log(buildMan().map((m) => `dist/man/${m}`).join('\n'));
else if (what === 'rpm') console.log(buildRpm());
else if (what === 'deb') console.log(buildDeb());
else { console.error('usage: node build/package.mjs man|rpm|deb'); process.exit(2); }
