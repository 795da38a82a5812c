// Benchmark: monitor of ocf:vigil:mysql vs ocf:heartbeat:mysql (replication mode) on the same two
// real MariaDB servers (a primary and a GTID replica), each run the way Pacemaker runs agents:
// `env -i` with a plain PATH and the OCF variables only.
//
// Per scenario: wall time (median, p90), CPU (user+sys of the agent and everything it forked, mean),
// max RSS (the largest single process), and processes forked (clone/fork/vfork without
// CLONE_THREAD, counted with strace -f in a separate pass so tracing does not skew the timings).
// Cluster tools are the stubs in bench/mysql-cluster-stub (one /bin/sh each; the real tools cost
// more, and both agents pay per call).
//
//   npm run bench:mysql            (BENCH_N=51 for more samples)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../lib/exec.ts';
import { AGENT, MariaCluster, REPL_PASSWORD, REPL_USER, type Node } from '../test/integration/support/mariadb.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const STUB = join(HERE, 'mysql-cluster-stub');
const HEARTBEAT = '/usr/lib/ocf/resource.d/heartbeat/mysql';
const N = Number(process.env.BENCH_N ?? 31);
const PATH = `${STUB}:/usr/sbin:/usr/bin:/sbin:/bin`;

interface Scenario { name: string; agent: 'vigil' | 'heartbeat'; node: Node; env: Record<string, string>; expect: number }
interface Sample { wallMs: number; cpuMs: number; rssKb: number; rc: number }

function vigilEnv(c: MariaCluster, n: Node, extra: Record<string, string>): Record<string, string> {
  const e = c.env(n, extra);
  delete e.FAKE_CLUSTER_DIR;
  return { ...e, PATH };
}

function heartbeatEnv(n: Node, extra: Record<string, string>): Record<string, string> {
  return {
    PATH, OCF_ROOT: '/usr/lib/ocf', OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '0',
    OCF_RESOURCE_INSTANCE: `db:${n.index}`, OCF_RESOURCE_TYPE: 'mysql', OCF_RESOURCE_PROVIDER: 'heartbeat',
    OCF_RESKEY_crm_feature_set: '3.16.2', HA_RSCTMP: n.rsctmp,
    OCF_RESKEY_CRM_meta_on_node: n.name, OCF_RESKEY_CRM_meta_clone_max: '2', OCF_RESKEY_CRM_meta_promotable: 'true',
    OCF_RESKEY_CRM_meta_notify: 'true', OCF_RESKEY_CRM_meta_timeout: '30000',
    OCF_RESKEY_binary: '/usr/sbin/mariadbd', OCF_RESKEY_client_binary: '/usr/bin/mysql',
    OCF_RESKEY_config: n.config, OCF_RESKEY_datadir: n.datadir, OCF_RESKEY_pid: n.pidFile, OCF_RESKEY_socket: n.socket,
    OCF_RESKEY_user: 'mysql', OCF_RESKEY_group: 'mysql', OCF_RESKEY_log: join(n.dir, 'heartbeat-mysqld.log'),
    OCF_RESKEY_replication_user: REPL_USER, OCF_RESKEY_replication_passwd: REPL_PASSWORD,
    OCF_RESKEY_test_user: REPL_USER, OCF_RESKEY_test_passwd: REPL_PASSWORD,
    ...extra,
  };
}

const envArgs = (e: Record<string, string>) => ['-i', ...Object.entries(e).map(([k, v]) => `${k}=${v}`)];
const agentPath = (s: Scenario) => (s.agent === 'vigil' ? AGENT : HEARTBEAT);

async function sample(s: Scenario, statFile: string): Promise<Sample> {
  const t0 = process.hrtime.bigint();
  const r = await run('/usr/bin/time', ['-f', '%U %S %M', '-o', statFile, '/usr/bin/env', ...envArgs(s.env), agentPath(s), 'monitor'], { timeoutMs: 30_000, cleanEnv: true });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const [u, sy, m] = readFileSync(statFile, 'utf8').trim().split('\n').at(-1)!.split(/\s+/).map(Number);
  const rc = r.code ?? -1;
  if (rc !== s.expect) throw new Error(`${s.name}: monitor returned ${rc}, expected ${s.expect}: ${r.stderr.slice(-600)}`);
  return { wallMs, cpuMs: ((u ?? 0) + (sy ?? 0)) * 1000, rssKb: m ?? 0, rc };
}

/** Processes (not threads) created by one monitor run. */
async function forks(s: Scenario, traceFile: string): Promise<number> {
  const r = await run('strace', ['-f', '-qq', '-e', 'trace=clone,clone3,fork,vfork', '-o', traceFile, '/usr/bin/env', ...envArgs(s.env), agentPath(s), 'monitor'],
    { timeoutMs: 60_000, cleanEnv: true });
  if (r.code !== s.expect) throw new Error(`${s.name} under strace returned ${r.code}: ${r.stderr.slice(-400)}`);
  return readFileSync(traceFile, 'utf8').split('\n')
    .filter((l) => /\b(clone3?|v?fork)\(/.test(l) && !l.includes('resumed>') && !l.includes('CLONE_THREAD')).length;
}

const q = (xs: number[], p: number) => { const a = [...xs].sort((x, y) => x - y); return a[Math.min(a.length - 1, Math.floor(p * (a.length - 1) + 0.5))]!; };

async function main(): Promise<void> {
  const c = await MariaCluster.create({ nodes: 2, basePort: 33091 });
  const out = join(HERE, 'out');
  mkdirSync(out, { recursive: true });
  try {
    const [p, r] = c.nodes as [Node, Node];
    for (const n of c.nodes) {
      const s = await c.agent(n, 'start');
      if (s.code !== 0) throw new Error(`start ${n.name}: ${s.reason}`);
    }
    if ((await c.agent(p, 'promote')).code !== 0) throw new Error('promote');
    c.setPromoted(p);
    if ((await c.agent(r, 'notify', c.notifyEnv('post', 'promote', [p]))).code !== 0) throw new Error('notify');
    await c.app(p, 'INSERT INTO vigiltest.t VALUES (1, "bench")');
    await c.waitFor(async () => (await c.root(r, 'SELECT COUNT(*) AS n FROM vigiltest.t'))[0]!.n === 1, 10_000, 'replication');

    const rep = { OCF_RESKEY_CRM_meta_interval: '7000' };
    const pri = { OCF_RESKEY_CRM_meta_interval: '5000', OCF_RESKEY_CRM_meta_role: 'Promoted' };
    const l10 = { OCF_CHECK_LEVEL: '10' };
    const scenarios: Scenario[] = [
      { name: 'replica monitor', agent: 'vigil', node: r, env: vigilEnv(c, r, rep), expect: 0 },
      { name: 'replica monitor', agent: 'heartbeat', node: r, env: heartbeatEnv(r, { ...rep, ...l10 }), expect: 0 },
      { name: 'replica monitor depth 10', agent: 'vigil', node: r, env: vigilEnv(c, r, { ...rep, ...l10 }), expect: 0 },
      { name: 'replica monitor depth 0', agent: 'heartbeat', node: r, env: heartbeatEnv(r, rep), expect: 0 },
      { name: 'primary monitor', agent: 'vigil', node: p, env: vigilEnv(c, p, pri), expect: 8 },
      { name: 'primary monitor', agent: 'heartbeat', node: p, env: heartbeatEnv(p, pri), expect: 8 },
      { name: 'primary monitor depth 10', agent: 'vigil', node: p, env: vigilEnv(c, p, { ...pri, ...l10 }), expect: 8 },
      { name: 'primary monitor depth 10', agent: 'heartbeat', node: p, env: heartbeatEnv(p, { ...pri, ...l10 }), expect: 8 },
    ];
    // Round-robin over the scenarios, so a burst of load on this (shared) machine hits every row alike.
    const stat = join(out, 'time.txt');
    for (const s of scenarios) for (let i = 0; i < 3; i++) await sample(s, stat); // warm caches
    const samples = scenarios.map(() => [] as Sample[]);
    for (let i = 0; i < N; i++) for (const [k, s] of scenarios.entries()) samples[k]!.push(await sample(s, stat));
    const results: Array<Record<string, unknown>> = [];
    for (const [k, s] of scenarios.entries()) {
      const xs = samples[k]!;
      const f = await forks(s, join(out, 'strace.txt'));
      const row = {
        scenario: s.name, agent: s.agent, rc: s.expect, n: N,
        wallMedianMs: +q(xs.map((x) => x.wallMs), 0.5).toFixed(1), wallP90Ms: +q(xs.map((x) => x.wallMs), 0.9).toFixed(1),
        // time(1) reports CPU in 10 ms steps: the mean over the runs says more than a median.
        cpuMeanMs: +(xs.reduce((a, x) => a + x.cpuMs, 0) / xs.length).toFixed(1), maxRssMb: +(q(xs.map((x) => x.rssKb), 0.5) / 1024).toFixed(1),
        processesForked: f,
      };
      results.push(row);
      console.error(JSON.stringify(row));
    }
    const bundle = readFileSync(AGENT).length;
    const node = (await run(process.execPath, ['--version'], { timeoutMs: 5000 })).stdout.trim();
    writeFileSync(join(out, 'mysql.json'), `${JSON.stringify({ date: new Date().toISOString(), node, bundleBytes: bundle, results }, null, 1)}\n`);
    const lines = [
      `| scenario | agent | rc | wall median (ms) | wall p90 (ms) | CPU mean (ms) | max RSS (MB) | processes forked |`,
      `|---|---|---|---|---|---|---|---|`,
      ...results.map((x) => `| ${x.scenario} | ${x.agent} | ${x.rc} | ${x.wallMedianMs} | ${x.wallP90Ms} | ${x.cpuMeanMs} | ${x.maxRssMb} | ${x.processesForked} |`),
    ];
    console.log(`${N} runs per row, interleaved, after 3 warm-ups; Node ${node}; bundle ${(bundle / 1024).toFixed(0)} KiB\n`);
    console.log(lines.join('\n'));
  } finally {
    await c.cleanup();
  }
}

await main();
