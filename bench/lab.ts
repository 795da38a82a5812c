// Side-by-side lab timings, vigil (ocf:vigil:vip + fence_ipmi) vs heartbeat (ocf:heartbeat:IPaddr2 +
// fence_ipmilan), from the records the lab scenarios append to <lab dir>/results.jsonl.
//
//   node --import tsx bench/lab.ts                     summarise every record in the file
//   node --import tsx bench/lab.ts --since 2026-11-22T03:40:00Z
//   node --import tsx bench/lab.ts --repeat 3          run the failover, VIP and two-node scenario
//                                                      files 3 times (as root), then summarise them
// Prints a markdown section for bench/RESULTS.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../lib/exec.ts';
import { DEFAULT_LAB_DIR, REPO_ROOT } from '../test/lab/lib/plan.ts';

interface Rec { at: string; suite: string; scenario: string; stack: string; nodes: number; tokenMs: number; [k: string]: unknown }

const { values } = parseArgs({ options: { since: { type: 'string' }, repeat: { type: 'string' }, file: { type: 'string' } } });
const file = values.file ?? join(process.env.VIGIL_LAB_DIR || DEFAULT_LAB_DIR, 'results.jsonl');
let since = values.since ? new Date(values.since).getTime() : 0;

if (values.repeat) {
  since = Date.now();
  const files = ['failover', 'vip', 'two-node'].map((f) => join('test', 'lab', `${f}.test.ts`));
  for (let i = 1; i <= Number(values.repeat); i++) {
    const t = Date.now();
    const r = await run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files],
      { timeoutMs: 3_600_000, cwd: REPO_ROOT });
    console.error(`run ${i}: exit ${r.code} in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    if (r.code !== 0) console.error(r.stdout.split('\n').filter((l) => /^\s*not ok|error:/.test(l)).join('\n'));
  }
}

const recs: Rec[] = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec)
  .filter((r) => new Date(r.at).getTime() >= since);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (xs: number[]) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (!v.length) return 'n/a';
  const s = (x: number) => (x / 1000).toFixed(2);
  return v.length === 1 ? `${s(v[0]!)} s` : `${s(median(v))} s (${s(Math.min(...v))}-${s(Math.max(...v))}, n=${v.length})`;
};
const pick = (suite: string, scenario: string, stack: string, extra: (r: Rec) => boolean = () => true) =>
  recs.filter((r) => r.suite === suite && r.scenario === scenario && r.stack === stack && extra(r));
const col = (rs: Rec[], k: string) => fmt(rs.map((r) => r[k] as number));

const out: string[] = [];
const tokens = [...new Set(recs.map((r) => r.tokenMs))].join(', ');
out.push(`Measured in the lab (\`npm run test:lab\`, ${recs.length} records, corosync token ${tokens} ms, POST delay 10 s, ` +
  '2 cores shared with other work). Times from the fault (or command); median (min-max, n). vigil = `ocf:vigil:vip` + ' +
  '`fence_ipmi`; heartbeat = `ocf:heartbeat:IPaddr2` + `fence_ipmilan` (Debian 12). Detection, fence and start come ' +
  "from the cluster's alerts; BMC on from the simulated BMC's power log; first ARP from the client namespace's 100 ms sampler.", '');

out.push('| failover (3 nodes) | stack | node lost | BMC power on (fence) | fence reported | VIP start done | first ARP answer from new holder | two holders seen |');
out.push('|---|---|---|---|---|---|---|---|');
for (const [suite, nodesLabel] of [['failover', '3'], ['two-node', '2']] as const) {
  const scenarios = [...new Set(recs.filter((r) => r.suite === suite).map((r) => r.scenario))];
  for (const sc of scenarios) {
    for (const stack of ['vigil', 'heartbeat']) {
      const rs = pick(suite, sc, stack);
      if (!rs.length) continue;
      out.push(`| ${sc}${nodesLabel === '2' ? ' (2 nodes)' : ''} | ${stack} | ${col(rs, 'detectionMs')} | ${col(rs, 'bmcOnMs')} | ` +
        `${col(rs, 'fenceMs')} | ${col(rs, 'takeoverMs')} | ${col(rs, 'firstArpMs')} | never |`);
    }
  }
}
out.push('');

out.push('| VIP | vigil | heartbeat |', '|---|---|---|');
const both = (f: (stack: string) => string) => `${f('vigil')} | ${f('heartbeat')}`;
out.push(`| \`pcs resource move\`: first ARP answer from the target | ${both((s) => col(pick('vip', 'pcs resource move', s), 'answeredMs'))} |`);
out.push(`| ... gap with no holder answering | ${both((s) => col(pick('vip', 'pcs resource move', s), 'gapMs'))} |`);
out.push(`| \`crm_resource --force-start\` on a second node | ${both((s) => {
  const rs = pick('vip', 'force-start on a second node', s);
  if (!rs.length) return 'n/a';
  return rs.every((r) => r.refused && !r.duplicateSeen) ? `refused (${rs.length}/${rs.length})` :
    `started a duplicate (${rs.filter((r) => r.duplicateSeen).length}/${rs.length})`;
})} |`);
out.push(`| seed 004: client on the old holder (VIP /32) reconnects after the VIP is up elsewhere | ${both((s) => {
  const rs = pick('vip', 'seed 004 local client', s);
  if (!rs.length) return 'n/a';
  const hung = rs.filter((r) => r.hung).length;
  return hung ? `hung (${hung}/${rs.length}, test limit 10 s)` : col(rs, 'reconnectAfterVipUpMs');
})} |`);
out.push(`| fencing: \`stonith_admin --reboot n2\` returns | ${both((s) => col(pick('fencing', 'stonith_admin --reboot', s), 'fenceMs'))} |`);
out.push(`| fencing: BMC down, failed fencing reported | ${both((s) => col(pick('fencing', 'BMC down', s), 'fenceFailedMs'))} |`);
out.push(`| fencing: BMC back, VIP up on a survivor | ${both((s) => col(pick('fencing', 'BMC down', s), 'takeoverAfterBmcMs'))} |`);
console.log(out.join('\n'));
