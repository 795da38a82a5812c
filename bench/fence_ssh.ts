// fence_ssh -o status vs the OpenSSH client (`ssh -o BatchMode=yes host true`) vs fence_virsh -o status
// (fence-agents: /usr/bin/ssh driven by pexpect), all against the same sshd.
//
//   npm run bench:fence_ssh                      # builds, then runs with the defaults below
//   node --import tsx bench/fence_ssh.ts --runs 31
//
// The target is the simulated machine of the fence_ssh tests (test/integration/support/sshd.ts):
// a real OpenSSH sshd on a loopback address, in its own pid and mount namespaces, account with a
// plain /bin/sh login shell (no rc files), ed25519 host and client keys. fence_virsh gets a fake
// `virsh` there that answers `domstate` from a file. Every client runs as Pacemaker runs agents,
// under `env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin`, with the host key checked against the same
// known_hosts file (fence_virsh through its ssh_options). Runs are interleaved (A B C, C B A, ...)
// so drift in machine load hits all of them. Per run: wall time measured here around the whole
// process, user+sys CPU and max RSS from /usr/bin/time (the waited-for children included: ssh
// under fence_virsh). One warm-up run per client is not counted (it also fills fence_ssh's code cache).
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { run } from '../lib/exec.ts';
import { keygen, startSshNode, stopAllSshNodes } from '../test/integration/support/sshd.ts';
import { loadIdentity, sshConnect } from '../lib/ssh/client.ts';
import { hostKeyExpectation } from '../fence/ssh/connector.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 21);
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const ADDRESS = '127.0.54.1';
const PORT = 2222;

interface Sample { wallMs: number; cpuMs: number; rssKb: number; code: number | null }

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };

async function main() {
  const agent = join(ROOT, 'dist/sbin/fence_ssh');
  for (const p of [agent, '/usr/sbin/fence_virsh', '/usr/bin/ssh', '/usr/bin/time']) {
    if (!existsSync(p)) throw new Error(`${p} not found (npm run build; apt-get install fence-agents openssh-client time)`);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'fs-bench-'));
  const timeFile = join(scratch, 'time');
  const key = join(scratch, 'id_ed25519');
  const kh = join(scratch, 'known_hosts');
  const { pub } = keygen(key, 'ed25519', 'bench');
  const node = await startSshNode({
    address: ADDRESS, port: PORT, uid: 64230, authorizedKeys: [pub],
    bin: { virsh: '#!/bin/sh\nexec /usr/local/bin/fakevirt "$@"\n' },
  });
  try {
    node.vm('vm1').set('running');
    writeFileSync(kh, `${node.knownHostsLine()}\n`);
    const once = async (argv: string[], stdin: string): Promise<Sample> => {
      const t0 = process.hrtime.bigint();
      const r = await run('/usr/bin/time', ['-f', '%e %U %S %M %x', '-o', timeFile, 'env', '-i', `PATH=${PATH}`, ...argv],
        { timeoutMs: 60_000, input: stdin, env: { PATH }, cleanEnv: true });
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const [, user, sys, rss, exit] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ');
      if (r.code !== 0) throw new Error(`${argv[0]} exited ${r.code ?? exit}: ${r.stdout}${r.stderr}`);
      return { wallMs, cpuMs: (Number(user) + Number(sys)) * 1000, rssKb: Number(rss), code: r.code };
    };
    const hostKeyOpts = ['-o', `UserKnownHostsFile=${kh}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null'];
    const clients: Record<string, () => Promise<Sample>> = {
      'fence_ssh -o status': () => once([agent], [
        'action=status', `ip=${ADDRESS}`, `ipport=${PORT}`, `username=${node.user}`, `identity_file=${key}`, `known_hosts=${kh}`,
      ].join('\n')),
      'ssh -o BatchMode=yes host true': () => once(['ssh', '-o', 'BatchMode=yes', ...hostKeyOpts, '-i', key, '-p', String(PORT),
        `${node.user}@${ADDRESS}`, 'true'], ''),
      'fence_virsh -o status': () => once(['fence_virsh'], [
        'action=status', `ip=${ADDRESS}`, `ipport=${PORT}`, `username=${node.user}`, `identity_file=${key}`, 'plug=vm1',
        // fence_virsh's own default ssh_options, plus our known_hosts (it would otherwise answer "yes" and write root's).
        `ssh_options=-o UserKnownHostsFile=${kh} -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -t '/bin/bash -c "PS1=\\[EXPECT\\]# /bin/bash --noprofile --norc"'`,
      ].join('\n')),
    };
    const names = Object.keys(clients);
    const results: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (const n of names) await clients[n]!(); // warm-up
    for (let i = 0; i < RUNS; i++) {
      for (const n of i % 2 ? [...names].reverse() : names) results[n]!.push(await clients[n]!());
    }
    const metadata: number[] = [];
    for (let i = 0; i < RUNS; i++) metadata.push((await once([agent, '-o', 'metadata'], '')).wallMs);

    // In-process, the SSH part alone (lib/ssh: login + one command + close), with and without TCP_NODELAY.
    const credentials = { key: await loadIdentity(key) };
    const hostKey = hostKeyExpectation({ ip: ADDRESS, ipport: PORT, username: node.user, known_hosts: kh, shell_timeout: 3 });
    const inProcess: Record<'nodelay' | 'nagle', number[]> = { nodelay: [], nagle: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const mode of i % 2 ? ['nagle', 'nodelay'] as const : ['nodelay', 'nagle'] as const) {
        const t0 = process.hrtime.bigint();
        const s = await sshConnect({ host: ADDRESS, port: PORT, username: node.user, credentials, hostKey, timeoutMs: 10_000, tcpNoDelay: mode === 'nodelay' });
        const r = await s.exec('true', { timeoutMs: 10_000 });
        s.close();
        if (r.code !== 0) throw new Error(`true exited ${r.code}`);
        inProcess[mode].push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }

    const base = median(results['ssh -o BatchMode=yes host true']!.map((s) => s.wallMs));
    const virsh = median(results['fence_virsh -o status']!.map((s) => s.wallMs));
    const rows = names.map((n) => {
      const s = results[n]!;
      const w = median(s.map((x) => x.wallMs));
      return `| ${n} | ${s.length} | ${w.toFixed(0)} | ${pct(s.map((x) => x.wallMs), 0.9).toFixed(0)} | ${median(s.map((x) => x.cpuMs)).toFixed(0)} `
        + `| ${(median(s.map((x) => x.rssKb)) / 1024).toFixed(1)} | ${(w / base).toFixed(2)}x | ${(w / virsh).toFixed(2)}x |`;
    });
    const ver = async (c: string, a: string[]) => { const r = await run(c, a, { timeoutMs: 10_000 }); return (r.stdout.trim() || r.stderr.trim()).split('\n')[0]; };
    const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}; `
      + `Node ${process.version}; ${await ver('ssh', ['-V'])}; ${await ver('python3', ['--version'])}; `
      + `fence-agents ${(await ver('fence_virsh', ['-V']))}; sshd on ${ADDRESS}:${PORT} (loopback)`;
    const table = [
      `Machine: ${machine}.`,
      '',
      '| client | runs | wall ms (median) | wall ms (p90) | CPU ms (median user+sys) | max RSS MiB | vs OpenSSH ssh | vs fence_virsh |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `fence_ssh -o metadata (no SSH at all: start-up of the bundle): median ${median(metadata).toFixed(0)} ms over ${metadata.length} runs.`,
      `In-process login + \`true\` + close with lib/ssh (ssh2): median ${median(inProcess.nodelay).toFixed(1)} ms with TCP_NODELAY, `
        + `${median(inProcess.nagle).toFixed(1)} ms without (${RUNS} runs each, interleaved).`,
    ].join('\n');
    console.log(table);
    mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
    const out = join(ROOT, 'bench/out', `fence_ssh-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(out, JSON.stringify({ machine, runs: RUNS, results, metadata, inProcess }, null, 1));
    process.stderr.write(`raw samples: ${out}\n`);
  } finally {
    await stopAllSshNodes();
    await node.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
