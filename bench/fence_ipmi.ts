// fence_ipmi vs fence_ipmilan (Debian's fence-agents) against the same ipmi_sim BMC.
//
//   npm run bench:fence_ipmi                         # builds, then runs with the defaults below
//   node --import tsx bench/fence_ipmi.ts --runs 30 --reboot-runs 7
//
// Both agents run as Pacemaker runs them: `env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin`, options on
// stdin, the same options (lanplus, cipher 3, defaults otherwise). Runs are interleaved (A B, B A,
// ...) so drift in machine load hits both. Per run: wall time measured here around the whole
// process, user+sys CPU and max RSS from /usr/bin/time (which reports the waited-for children,
// ipmitool or python included). One warm-up run per agent and action is not counted (it also
// fills fence_ipmi's code cache, as the first monitor on a node would).
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { run } from '../lib/exec.ts';
import { startIpmiSim } from '../test/integration/support/ipmisim.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 21);
const REBOOT_RUNS = arg('reboot-runs', 5);
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const PASSWORD = 'bench-pw-31';

interface Sample { wallMs: number; cpuMs: number; rssKb: number; code: number | null }
const AGENTS = {
  fence_ipmi: join(ROOT, 'dist/sbin/fence_ipmi'),
  fence_ipmilan: '/usr/sbin/fence_ipmilan',
} as const;
type AgentName = keyof typeof AGENTS;

const scratch = mkdtempSync(join(tmpdir(), 'fi-bench-'));
const timeFile = join(scratch, 'time');

async function once(agent: string, argv: string[], stdin: string, extraEnv: string[] = []): Promise<Sample> {
  const t0 = process.hrtime.bigint();
  const r = await run('/usr/bin/time', ['-f', '%e %U %S %M %x', '-o', timeFile, 'env', '-i', `PATH=${PATH}`, ...extraEnv, agent, ...argv],
    { timeoutMs: 120_000, input: stdin, env: { PATH }, cleanEnv: true });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const [, user, sys, rss, exit] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ');
  return { wallMs, cpuMs: (Number(user) + Number(sys)) * 1000, rssKb: Number(rss), code: r.code ?? Number(exit) };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main() {
  for (const [n, p] of Object.entries(AGENTS)) if (!existsSync(p)) throw new Error(`${n} not found at ${p} (npm run build; apt-get install fence-agents)`);
  const bmc = await startIpmiSim({ address: '127.0.52.1', port: 16331, users: [{ name: 'admin', password: PASSWORD }] });
  try {
    const conn = `ip=${bmc.address}\nipport=${bmc.port}\nusername=admin\npassword=${PASSWORD}\nlanplus=1\ncipher=3\n`;
    const plan: Array<{ name: string; runs: number; argv: string[]; stdin: string; expect: number; before?: () => void }> = [
      { name: 'status', runs: RUNS, argv: [], stdin: `action=status\n${conn}`, expect: 0, before: () => bmc.setPower('on') },
      { name: 'monitor', runs: RUNS, argv: [], stdin: `action=monitor\n${conn}`, expect: 0 },
      { name: 'metadata', runs: RUNS, argv: ['-o', 'metadata'], stdin: '', expect: 0 },
      { name: 'reboot', runs: REBOOT_RUNS, argv: [], stdin: `action=reboot\n${conn}`, expect: 0, before: () => bmc.setPower('on') },
      { name: 'reboot, power_wait=0', runs: RUNS, argv: [], stdin: `action=reboot\n${conn}power_wait=0\n`, expect: 0, before: () => bmc.setPower('on') },
    ];
    const results: Record<string, Record<AgentName, Sample[]>> = {};
    const ipmitoolAlone: number[] = [];
    // How much of fence_ipmi's status time is ipmitool's IANA registry (see ipmitoolHome()).
    const withoutRegistryTrick: Sample[] = [];
    for (const step of plan) {
      const names = Object.keys(AGENTS) as AgentName[];
      results[step.name] = { fence_ipmi: [], fence_ipmilan: [] };
      for (const n of names) { step.before?.(); await once(AGENTS[n], step.argv, step.stdin); } // warm-up
      for (let i = 0; i < step.runs; i++) {
        for (const n of i % 2 ? [...names].reverse() : names) {
          step.before?.();
          const s = await once(AGENTS[n], step.argv, step.stdin);
          if (s.code !== step.expect) throw new Error(`${n} ${step.name} exited ${s.code}`);
          results[step.name]![n].push(s);
        }
        if (step.name === 'status') {
          withoutRegistryTrick.push(await once(AGENTS.fence_ipmi, step.argv, step.stdin, ['VIGIL_IPMITOOL_HOME=off']));
          const t0 = process.hrtime.bigint();
          const r = await run('env', ['-i', `PATH=${PATH}`, `IPMI_PASSWORD=${PASSWORD}`, 'ipmitool', '-I', 'lanplus', '-C', '3', '-H', bmc.address, '-p', String(bmc.port), '-U', 'admin', '-E', 'chassis', 'power', 'status'], { timeoutMs: 30_000 });
          if (r.code === 0) ipmitoolAlone.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }
      process.stderr.write(`${step.name}: done\n`);
    }

    const rows = Object.entries(results).map(([name, r]) => {
      const a = r.fence_ipmi; const b = r.fence_ipmilan;
      const wa = median(a.map((s) => s.wallMs)); const wb = median(b.map((s) => s.wallMs));
      return `| ${name} | ${a.length} | ${wa.toFixed(0)} | ${wb.toFixed(0)} | ${(wa / wb).toFixed(2)}x | ${mean(a.map((s) => s.cpuMs)).toFixed(0)} | ${mean(b.map((s) => s.cpuMs)).toFixed(0)} | ${(median(a.map((s) => s.rssKb)) / 1024).toFixed(1)} | ${(median(b.map((s) => s.rssKb)) / 1024).toFixed(1)} |`;
    });
    const ver = async (c: string, a: string[]) => (await run(c, a, { timeoutMs: 10_000 })).stdout.trim() || (await run(c, a, { timeoutMs: 10_000 })).stderr.trim();
    const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}; `
      + `Node ${process.version}, ${await ver('python3', ['--version'])}, ${(await ver('ipmitool', ['-V'])).split('\n')[0]}, `
      + `fence-agents ${(await ver('fence_ipmilan', ['-V'])).split('\n').pop()}, OpenIPMI ipmi_sim on loopback`;
    const table = [
      `Machine: ${machine}.`,
      '',
      '| action | runs | fence_ipmi wall ms (median) | fence_ipmilan wall ms (median) | ratio | fence_ipmi CPU ms (mean user+sys) | fence_ipmilan CPU ms | fence_ipmi max RSS MiB | fence_ipmilan max RSS MiB |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `ipmitool alone (\`chassis power status\`, lanplus, -C 3, system IANA registry): median ${median(ipmitoolAlone).toFixed(0)} ms over ${ipmitoolAlone.length} runs.`,
      `fence_ipmi status with ipmitool reading the system IANA registry (VIGIL_IPMITOOL_HOME=off): median ${median(withoutRegistryTrick.map((x) => x.wallMs)).toFixed(0)} ms, CPU ${mean(withoutRegistryTrick.map((x) => x.cpuMs)).toFixed(0)} ms.`,
    ].join('\n');
    console.log(table);
    mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
    const out = join(ROOT, 'bench/out', `fence_ipmi-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(out, JSON.stringify({ machine, runs: RUNS, rebootRuns: REBOOT_RUNS, results, ipmitoolAlone, withoutRegistryTrick }, null, 1));
    process.stderr.write(`raw samples: ${out}\n`);
  } finally {
    await bmc.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
