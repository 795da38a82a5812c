// ocf:vigil:vip vs ocf:heartbeat:IPaddr2, side by side in one run: same namespace, same address,
// interleaved rounds, both under the clean environment Pacemaker gives agents.
//   npm run bench:vip [-- rounds]
// Prints a Markdown table; paste it into bench/RESULTS.md.
import { fileURLToPath } from 'node:url';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';

const NS = 'vbench';
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const VIGIL = join(root, 'dist/resource.d/vigil/vip');
const IPADDR2 = '/usr/lib/ocf/resource.d/heartbeat/IPaddr2';
const rounds = Number(process.argv[2] ?? 30);
const tmp = mkdtempSync(join(tmpdir(), 'vbench-'));
const timeFile = join(tmp, 'time');

function sh(cmd: string, args: string[]) { return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString(); }
function setup() {
  teardown();
  sh('ip', ['netns', 'add', NS]);
  sh('ip', ['netns', 'add', `${NS}-peer`]);
  sh('ip', ['link', 'add', 'eth0', 'netns', NS, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', `${NS}-peer`]);
  for (const [ns, a] of [[NS, '192.0.2.1/24'], [`${NS}-peer`, '192.0.2.2/24']] as const) {
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', ns, 'addr', 'add', a, 'dev', 'eth0']);
  }
}
function teardown() { for (const n of [NS, `${NS}-peer`]) { try { sh('ip', ['netns', 'del', n]); } catch { /* absent */ } } }

interface Sample { wall: number; cpu: number; rss: number; code: number }
const ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'OCF_ROOT=/usr/lib/ocf', 'OCF_RESOURCE_INSTANCE=bench',
  'OCF_RESKEY_ip=192.0.2.10', 'OCF_RESKEY_cidr_netmask=24', 'OCF_RESKEY_nic=eth0', 'OCF_RESKEY_CRM_meta_timeout=20000'];

/** One run inside the namespace, measured by GNU time (wall, user+sys, max RSS). */
function once(cmd: string[], extra: string[] = []): Sample {
  const r = spawnSync('ip', ['netns', 'exec', NS, '/usr/bin/time', '-o', timeFile, '-f', '%e %U %S %M',
    'env', '-i', ...ENV, ...extra, ...cmd], { encoding: 'utf8' });
  const [e, u, s, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
  return { wall: e * 1000, cpu: (u + s) * 1000, rss: m / 1024, code: r.status ?? -1 };
}
// GNU time has 10 ms wall resolution: measure wall ourselves too.
function timed(cmd: string[], extra: string[] = []): Sample {
  const t = process.hrtime.bigint();
  const s = once(cmd, extra);
  return { ...s, wall: Number(process.hrtime.bigint() - t) / 1e6 };
}
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };

type Row = { what: string; a: Sample[]; b: Sample[] };
const rows: Row[] = [];
function row(what: string): Row { let r = rows.find((x) => x.what === what); if (!r) { r = { what, a: [], b: [] }; rows.push(r); } return r; }

if (process.getuid?.() !== 0) { console.error('bench:vip needs root (network namespaces)'); process.exit(1); }
setup();
try {
  // The ip command run in the namespace alone, and node itself: the floors.
  for (let i = 0; i < rounds; i++) {
    row('floor: node -e 0 / ip -j addr').a.push(timed(['node', '-e', '0']));
    row('floor: node -e 0 / ip -j addr').b.push(timed(['ip', '-j', 'addr', 'show', 'to', '192.0.2.10']));
    const agents: Array<[keyof Pick<Row, 'a' | 'b'>, string, string[]]> = [['a', VIGIL, []], ['b', IPADDR2, []]];
    // Alternate which agent goes first, so neither always runs on a warm cache.
    if (i % 2) agents.reverse();
    for (const [side, agent] of agents) {
      row('meta-data')[side].push(timed([agent, 'meta-data']));
      row('probe (stopped)')[side].push(timed([agent, 'monitor'], ['OCF_RESKEY_CRM_meta_interval=0']));
      row('start')[side].push(timed([agent, 'start']));
      row('monitor, depth 0')[side].push(timed([agent, 'monitor'], ['OCF_RESKEY_CRM_meta_interval=10000']));
      row('monitor, depth 10')[side].push(timed([agent, 'monitor'], ['OCF_RESKEY_CRM_meta_interval=30000', 'OCF_CHECK_LEVEL=10']));
      row('stop')[side].push(timed([agent, 'stop']));
    }
    if (i < 5) {
      // IPaddr2's own duplicate probe (run_arping=true) for comparison with our default-on probe.
      row('start, IPaddr2 with run_arping=true').b.push(timed([IPADDR2, 'start'], ['OCF_RESKEY_run_arping=true']));
      timed([IPADDR2, 'stop']);
    }
  }
} finally { teardown(); rmSync(tmp, { recursive: true, force: true }); }

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");
const peak = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, node ${process.version}; ${rounds} interleaved rounds; medians.`);
console.log('| operation | vigil vip wall ms | IPaddr2 wall ms | ratio | vigil CPU ms | IPaddr2 CPU ms | vigil max RSS MB | IPaddr2 max RSS MB | rc vigil/IPaddr2 |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const wa = median(r.a.map((s) => s.wall)); const wb = median(r.b.map((s) => s.wall));
  console.log(`| ${r.what} | ${f(wa)} | ${f(wb)} | ${r.a.length && r.b.length ? (wa / wb).toFixed(2) : '-'} | ${f(median(r.a.map((s) => s.cpu)))} | ${f(median(r.b.map((s) => s.cpu)))} | ${f(peak(r.a.map((s) => s.rss)))} | ${f(peak(r.b.map((s) => s.rss)))} | ${[...new Set(r.a.map((s) => s.code))].join(',')}/${[...new Set(r.b.map((s) => s.code))].join(',')} |`);
}
