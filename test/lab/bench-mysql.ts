// Side-by-side MariaDB failover in the lab: vigil (ocf:vigil:mysql + ocf:vigil:vip + fence_ipmi)
// against the heartbeat stack (ocf:heartbeat:mysql in replication mode + IPaddr2 + fence_ipmilan),
// the same scenarios, writer and samplers as test/lab/mysql-failover.test.ts. Root only; a few
// minutes per stack and semi-sync setting.
//
//   npm run bench:lab-mysql                               both stacks, semi-sync on and off, every scenario
//   npm run bench:lab-mysql -- --stack heartbeat --semisync off --scenarios kill9,poweroff --repeat 2
//   npm run bench:lab-mysql -- --report-only [--since ISO]   only print the table from results.jsonl
//   npm run bench:lab-mysql -- --write-address            vigil's primary holds the write VIP itself (write_ip)
//   npm run bench:lab-mysql -- --load 2                   under load: 2 busy processes throughout
//
// Each stack gets a fresh lab; before each scenario the cluster is put back to health (failures
// cleared), and rebuilt from scratch when that is not enough (the heartbeat stack can be left with
// broken replication). Records go to <lab dir>/results.jsonl (suite "mysql"); the markdown printed
// at the end is the section of bench/RESULTS.md.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LAB_DIR } from './lib/plan.ts';
import { HEARTBEAT_DB, VIGIL_DB, type DbStack } from './lib/mariadb.ts';
import { DbCluster, SCENARIO_TITLES, describeResult, resultRecord, runScenario, type FaultKind } from './lib/mysql-scenario.ts';
import { record, stopLab } from './lib/scenario.ts';

const ALL: FaultKind[] = ['kill9', 'poweroff', 'linkcut', 'freeze', 'switchover', 'replica', 'errant'];

const { values } = parseArgs({ options: {
  stack: { type: 'string', default: 'both' }, semisync: { type: 'string', default: 'both' },
  scenarios: { type: 'string' }, repeat: { type: 'string', default: '1' },
  'report-only': { type: 'boolean' }, since: { type: 'string' },
  // INFINITY: Pacemaker restarts a failed primary where it was (the heartbeat stack's usual setup).
  'migration-threshold': { type: 'string', default: '1' },
  // vigil: the primary holds the write VIP itself (write_ip) instead of an ocf:vigil:vip resource.
  'write-address': { type: 'boolean' },
  // Under load: this many busy processes (normal priority) run for the whole of each stack's runs.
  load: { type: 'string', default: '0' },
} });
const load = Number(values.load);
const writeAddress = values['write-address'] === true;
const threshold = values['migration-threshold'] === 'INFINITY' ? 1_000_000 : Number(values['migration-threshold']);
const say = (l: string) => console.error(l);
const dir = process.env.VIGIL_LAB_DIR || DEFAULT_LAB_DIR;

/**
 * A fixed CPU load, the same for both stacks: `n` processes spinning at normal priority, started
 * once the lab is up and stopped (by pid) when the stack's runs end.
 */
function startLoad(n: number): () => void {
  const kids = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return () => { for (const k of kids) if (k.pid) try { process.kill(k.pid, 'SIGKILL'); } catch { /* gone */ } };
}

async function runStack(stack: DbStack, semisync: boolean, kinds: FaultKind[], repeat: number): Promise<void> {
  say(`== ${stack.name}, semi-sync ${semisync ? 'on' : 'off'}${load ? `, ${load} busy processes` : ''}: bringing the lab up`);
  const wa = writeAddress && stack.name === 'vigil';
  const db = await DbCluster.start(stack, { semisync, migrationThreshold: threshold, writeAddress: wa }, { log: (l) => say(`   lab: ${l}`) });
  const stopLoad = startLoad(load);
  try {
    for (let i = 0; i < repeat; i++) {
      for (const kind of kinds) {
        await db.healthy(90_000);
        const t = Date.now();
        try {
          const r = await runScenario(db, kind, { progress: (l) => say(`   ${l}`) });
          record(db.lab, { ...resultRecord(r), migrationThreshold: threshold, ...(wa ? { writeAddress: true } : {}), ...(load ? { load } : {}) });
          say(describeResult(r).split('\n').map((l) => `   ${l}`).join('\n'));
        } catch (e) {
          say(`   ${kind} failed after ${Date.now() - t} ms: ${(e as Error).message.slice(0, 600)}`);
          record(db.lab, { suite: 'mysql', scenario: kind, stack: stack.name, semisync, migrationThreshold: threshold, ...(wa ? { writeAddress: true } : {}), ...(load ? { load } : {}), failed: true, error: (e as Error).message.slice(0, 300) });
        }
        // After an errant rejoin (refused or not) the servers no longer agree: start over.
        if (kind === 'errant') await db.reset().catch((e: Error) => say(`   reset failed: ${e.message}`));
      }
    }
  } finally {
    stopLoad();
    await stopLab(db.lab);
  }
}

// ---------------------------------------------------------------- the report

interface Rec { at: string; suite: string; scenario: string; stack: string; semisync: boolean; [k: string]: unknown }

function report(since: number): string {
  const recs: Rec[] = readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l) as Rec).filter((r) => r.suite === 'mysql' && new Date(r.at).getTime() >= since);
  const num = (rs: Rec[], k: string) => rs.map((r) => r[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = Math.floor(s.length / 2); return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
  const sec = (xs: number[]) => {
    if (!xs.length) return '-';
    const f = (x: number) => (x / 1000).toFixed(2);
    return xs.length === 1 ? `${f(xs[0]!)} s` : `${f(med(xs))} s (${f(Math.min(...xs))}-${f(Math.max(...xs))}, n=${xs.length})`;
  };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const out: string[] = [];
  out.push('| scenario | semi-sync | stack | outage (last ack before the fault to first ack after) | after the fence: first write / write VIP up | lost acked commits (primary / replicas) | second outage | two writable (samples) | old primary back | runs |');
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const semisync of [true, false]) {
    for (const kind of ALL) {
      for (const [stack, thr, wa] of [['vigil', 1, true], ['vigil', 1, false], ['heartbeat', 1, false], ['heartbeat', 1_000_000, false]] as const) {
        const rs = recs.filter((r) => r.scenario === kind && r.stack === stack && r.semisync === semisync &&
          ((r.migrationThreshold as number | undefined) ?? 1) === thr && (r.writeAddress === true) === wa && ((r.load as number | undefined) ?? 0) === load);
        if (!rs.length) continue;
        const ok = rs.filter((r) => !r.failed);
        const afterFence = ok.filter((r) => typeof r.fenceDoneMs === 'number' && typeof r.firstWriteMs === 'number')
          .map((r) => (r.firstWriteMs as number) - (r.fenceDoneMs as number));
        const vipAfterFence = ok.filter((r) => typeof r.fenceDoneMs === 'number' && typeof r.vipMs === 'number')
          .map((r) => (r.vipMs as number) - (r.fenceDoneMs as number));
        const back = kind === 'errant'
          ? ok.map((r) => (r.refused ? 'refused' : r.converged ? 'joined' : 'joined, diverged')).join(', ')
          : kind === 'switchover' ? 'replica' : ok.map((r) => (r.failback ? 'FAILBACK' : r.refused ? 'refused (errant)' : r.rejoinMs !== undefined ? 'replica' : 'not back')).join(', ');
        const label = `${stack}${wa ? ' (write_ip)' : ''}${rs[0]!.migrationThreshold !== undefined && rs[0]!.migrationThreshold !== 1 ? ` (migration-threshold ${rs[0]!.migrationThreshold})` : ''}`;
        out.push(`| ${SCENARIO_TITLES[kind]} | ${semisync ? 'on' : 'off'} | ${label} | ${sec(num(ok, 'outageMs'))} | ` +
          `${afterFence.length ? `${sec(afterFence)} / ${sec(vipAfterFence)}` : '-'} | ` +
          `${sum(num(ok, 'lostAcked'))} / ${sum(num(ok, 'lostOnReplicas'))} | ${sec(num(ok, 'secondOutageMs'))} | ${sum(num(ok, 'twoWritable'))} | ${back || '-'} | ` +
          `${ok.length}${rs.length > ok.length ? ` (+${rs.length - ok.length} failed)` : ''} |`);
      }
    }
  }
  return out.join('\n');
}

const started = Date.now();
if (!values['report-only']) {
  const kinds = values.scenarios ? values.scenarios.split(',') as FaultKind[] : ALL;
  for (const k of kinds) if (!ALL.includes(k)) throw new Error(`unknown scenario ${k} (${ALL.join(', ')})`);
  const stacks = values.stack === 'both' ? [VIGIL_DB, HEARTBEAT_DB] : values.stack === 'heartbeat' ? [HEARTBEAT_DB] : [VIGIL_DB];
  const semis = values.semisync === 'both' ? [true, false] : [values.semisync !== 'off'];
  for (const stack of stacks) for (const semisync of semis) await runStack(stack, semisync, kinds, Number(values.repeat));
  say(`bench done in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
}
console.log(report(values.since ? new Date(values.since).getTime() : values['report-only'] ? 0 : started));
