// npm run demo: a 3-node MariaDB cluster in the lab with vigil's agents, a writer and a reader in
// the client namespace, then the primary node's power cut through its BMC (ipmitool chassis power
// off, from another node), and what happened: the timeline, the verdict on every acknowledged
// commit, and a chart (SVG). The lab is left up to explore, or torn down with --down.
// test/lab/demo.mjs installs and builds first (the npm script runs that), then runs this.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Lab } from './lib/lab.ts';
import { preflightProblems, readConfig } from './lib/lab.ts';
import { FileTail } from './lib/events.ts';
import { startLab, stopLab, waitStatus } from './lib/scenario.ts';
import { configureFencing } from './lib/stacks.ts';
import { DEFAULT_LAB_DIR, REPO_ROOT } from './lib/plan.ts';
import { READ_VIP, VIGIL_DB, WRITE_VIP, createDbResources, idsOn, prepareMariadb } from './lib/mariadb.ts';
import { DbCluster, fenceLabel, runScenario, svgInputOf, type FaultKind, type ScenarioResult } from './lib/mysql-scenario.ts';
import { parseWriterLog } from './lib/mysql-analysis.ts';
import { timelineSvg } from './lib/timeline-svg.ts';
import { roVipAfterPromotion } from './lib/readonly-vip.ts';

const { values } = parseArgs({ options: {
  down: { type: 'boolean' }, fault: { type: 'string', default: 'power-off' }, help: { type: 'boolean', short: 'h' },
  'keep-on-failure': { type: 'boolean' },
} });
if (values.help) {
  console.log(`npm run demo [-- --down] [-- --fault power-off|kill-9] [-- --keep-on-failure]
  Brings up a fresh 3-node lab in $VIGIL_LAB_DIR (default /var/lib/vigil-lab) with MariaDB and vigil's
  agents, writes through the VIP, fails the primary and shows what happened.
  --fault power-off  cut the primary node's power through its BMC (default)
  --fault kill-9     kill -9 of the primary's MariaDB server
  --down             tear the lab down at the end (default: leave it up to explore)
  --keep-on-failure  if a step fails, leave the lab up to inspect (default: tear it down)`);
  process.exit(0);
}
const labDir = process.env.VIGIL_LAB_DIR || DEFAULT_LAB_DIR;
const kind: FaultKind = values.fault === 'kill-9' || values.fault === 'kill9' ? 'kill9' : 'poweroff';

const tty = process.stdout.isTTY;
const start = Date.now();
const clock = () => `${((Date.now() - start) / 1000).toFixed(0).padStart(4)} s`;
let live = '';
const clearLive = () => { if (tty && live) { process.stdout.write('\r\x1b[K'); live = ''; } };
const say = (l: string) => { clearLive(); console.log(`${clock()}  ${l}`); };
const showLive = (l: string) => { if (tty) { process.stdout.write(`\r\x1b[K${l}`); live = l; } };
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);

/** A status line every half second while the scenario runs: what the writer sees. */
function ticker(lab: Lab): () => void {
  const tail = new FileTail(join(lab.p.clientDir, 'writer.log'));
  let lastLine = 0;
  const timer = setInterval(() => {
    const w = parseWriterLog(tail.read());
    const acks = w.inserts.filter((i) => i.ok);
    if (!w.inserts.length) return;
    const now = Date.now();
    const last = acks.at(-1)?.rt;
    const lastSec = w.inserts.filter((i) => i.rt > now - 1000);
    const node = w.connects.filter((c) => c.ok).at(-1)?.node ?? '?';
    const quiet = last === undefined ? 'none yet' : `${((now - last) / 1000).toFixed(1)} s ago`;
    const line = `       writer: ${acks.length} commits acknowledged, last ${quiet}; last second ${lastSec.filter((i) => i.ok).length} ok / ` +
      `${lastSec.filter((i) => !i.ok).length} failed; connected to ${node}`;
    if (tty) showLive(line);
    else if (now - lastLine >= 3000) { lastLine = now; console.log(line); }
  }, 500);
  return () => { clearInterval(timer); clearLive(); };
}

function bmcPowerOff(lab: Lab, victim: string): Promise<void> {
  // As an operator would: ipmitool from another node to the victim's BMC on the management LAN.
  const from = lab.anyLiveNode([victim]);
  const p = lab.plan(victim);
  return lab.onOk(from, ['ipmitool', '-I', 'lanplus', '-C', '3', '-H', p.bmcIp, '-U', lab.config.bmcUser, '-E', 'chassis', 'power', 'off'],
    { env: { IPMI_PASSWORD: lab.config.bmcPassword } }).then(() => undefined);
}

function secs(r: ScenarioResult, t: number | undefined): string {
  return t === undefined ? '      -' : `${((t - r.t0) / 1000).toFixed(2).padStart(7)} s`;
}

async function main(): Promise<number> {
  const problems = preflightProblems();
  if (problems.length) { console.error(`the demo cannot run here:\n  - ${problems.join('\n  - ')}`); return 1; }
  console.log(bold('vigil demo: MariaDB failover without losing a commit'));
  console.log(`  3 nodes (network namespaces), Corosync + Pacemaker, one simulated BMC (IPMI) per node,`);
  console.log(`  ocf:vigil:mysql (semi-sync), write VIP ${WRITE_VIP} with the primary, read-only VIP ${READ_VIP} on a healthy replica,`);
  console.log(`  fence_ipmi for every node. Lab folder: ${process.env.VIGIL_LAB_DIR || '/var/lib/vigil-lab'}\n`);

  const lab = await step('bringing up the 3-node lab (fresh disks, Corosync, Pacemaker, one BMC per node)',
    'see nodes/<n>/log/init.log and nodes/<n>/disk/var-log-corosync/corosync.log in the lab folder',
    () => startLab({ nodes: 3, log: (l) => { if (/lab up|booted/.test(l)) say(`  ${l}`); } }));
  const db = new DbCluster(lab, VIGIL_DB, { semisync: true });
  await step('setting up MariaDB on every node (one datadir, users, my.cnf per node)',
    'see nodes/<n>/log/ in the lab folder', () => prepareMariadb(lab, 'vigil', true));
  await step('creating the fence devices (pcs stonith create fence-<n> fence_ipmi ...)',
    'test/lab/on n1 stonith_admin --metadata -a fence_ipmi shows whether the nodes see vigil\'s fence agent',
    () => configureFencing(lab, VIGIL_DB.fenceAgent));
  await step('waiting for the fence devices to start (fence_ipmi reaching every BMC)',
    'test/lab/on n1 crm_mon -1 --fence-history shows why a device is stopped',
    () => waitStatus(lab, 'stonith devices started', (s) => lab.nodes.every((n) => s.resources.find((r) => r.id === `fence-${n}`)?.active), 60_000));
  await step('creating the database resources (pcs resource create db ocf:vigil:mysql ... promotable, and the VIPs)',
    'test/lab/on n1 pcs resource describe ocf:vigil:mysql shows whether the nodes see the agent',
    () => createDbResources(lab, VIGIL_DB, db.opts));
  const h = await step('waiting for a healthy database cluster (one primary, two replicas replicating, the VIPs up)',
    'test/lab/on n1 crm_mon -1A shows roles, grades and failed actions', () => db.waitHealthy(180_000));
  say(`cluster healthy: primary ${bold(h.primary)}, replicas ${h.replicas.join(' ')}, read-only VIP on ${h.roVip ?? '-'}`);
  let ok = false;
  {
    // The scenario and its verdict.
    say(`starting the writer (a row every 20 ms through ${WRITE_VIP}) and the reader (every server's read_only and both VIPs every 100 ms)`);
    const stop = ticker(lab);
    let r: ScenarioResult;
    try {
      r = await step(`${kind === 'kill9' ? 'killing the primary\'s server' : 'cutting the primary\'s power'} and waiting for the failover and its return`,
        'the writer\'s log is client/writer.log and the cluster\'s events events/alerts.log in the lab folder',
        () => runScenario(db, kind, {
        progress: (l) => say(l.startsWith('  ') ? `  ${l.trim()}` : l.replace(/^power-off of the primary node/, 'POWER-OFF of the primary node (ipmitool chassis power off via its BMC)')),
        powerOff: bmcPowerOff,
        afterRejoinMs: 3000,
      }));
    } finally {
      stop();
    }
    current = { what: 'counting the acknowledged commits on every node and drawing the chart', look: `${labDir}/demo/` };

    // ---- the verdict: every acknowledged commit, on the new primary and on every replica
    const acked = r.writer.inserts.filter((i) => i.ok).map((i) => i.id);
    const base = Math.min(...r.writer.inserts.map((i) => i.id));
    const onNodes: Array<[string, number]> = [];
    for (const n of lab.nodes) {
      if (!lab.nodePid(n)) continue;
      const have = await idsOn(lab, n, base, base + 9_000_000).catch(() => undefined);
      if (have) onNodes.push([n, acked.filter((id) => have.has(id)).length]);
    }
    const tl = r.timeline;
    console.log(`\n${bold('Timeline')} (seconds after the failure)`);
    const row = (what: string, t: number | undefined, how = '') => console.log(`  ${what.padEnd(22)} ${secs(r, t)}  ${how}`);
    row('failure', r.t0, `${kind === 'kill9' ? 'kill -9 of mariadbd' : 'power off through the BMC'} on ${r.victim} (the primary)`);
    row('detection', tl.detection, tl.detectionHow ?? '');
    row('fence', tl.fence, tl.fenceHow ? fenceLabel(tl.fenceHow).replace(/^fence: /, '') : '');
    row('promotion', tl.promotion, tl.promotedNode ? `${tl.promotedNode} promoted (the most advanced replica, after catch-up)` : '');
    row('VIP move', tl.vipMove, tl.vipNode ? `${WRITE_VIP} up on ${tl.vipNode}` : '');
    row('first write accepted', tl.firstWrite, r.outage.lastAckBefore !== undefined ? `the writer's outage: ${((r.outage.outageMs ?? 0) / 1000).toFixed(2)} s` : '');
    // Where reads went: the read-only VIP must leave a replica that was just promoted (issue 12 item 8).
    const ro = tl.promotion !== undefined ? roVipAfterPromotion(r.samples, tl.promotion) : undefined;
    if (ro) {
      const onPrimary = ro.onPrimaryMs ? `; answered by the primary ${ro.primary} for ${(ro.onPrimaryMs / 1000).toFixed(1)} s after the promotion` : '';
      row('read-only VIP', ro.onReplica?.t, ro.onReplica ? `${READ_VIP} on replica ${ro.onReplica.node}${onPrimary}` : `${READ_VIP} never on a replica after the promotion${onPrimary}`);
    }
    if (r.rejoinMs !== undefined) row(`${r.victim} back`, r.t0 + r.rejoinMs, `a replica of ${r.finalPrimary}: no failback (second outage ${r.outage.secondOutageMs} ms)`);

    const lostEverywhere = onNodes.filter(([, have]) => have < acked.length);
    console.log(`\n${bold('Verdict')}`);
    console.log(`  commits acknowledged to the writer: ${acked.length} (of ${r.writer.inserts.length} attempts)`);
    for (const [n, have] of onNodes) {
      console.log(`  present on ${n} (${n === r.finalPrimary ? 'the new primary' : 'replica'}): ${have}`);
    }
    console.log(`  lost: ${bold(String(r.lost.length))}${lostEverywhere.length ? ` (missing somewhere: ${lostEverywhere.map(([n, h]) => `${n} lacks ${acked.length - h}`).join(', ')})` : ''}`);
    console.log(`  servers converged (CHECKSUM TABLE equal): ${r.converged ? 'yes' : 'NO'}; two writable servers at once: ${r.twoWritable.length ? `${r.twoWritable.length} samples` : 'never'}; ` +
      `two holders of the write VIP: ${r.vipSplit.length ? `${r.vipSplit.length} samples` : 'never'}`);
    ok = r.lost.length === 0 && lostEverywhere.length === 0 && r.converged && !r.twoWritable.length && !r.vipSplit.length;

    const dir = join(lab.config.dir, 'demo');
    mkdirSync(dir, { recursive: true });
    const svg = join(dir, 'timeline.svg');
    const chart = svgInputOf(r, lab.nodes, `vigil: ${r.title} ${r.victim}`,
      `writer through ${WRITE_VIP} every 20 ms; ${acked.length} commits acknowledged, ${r.lost.length} lost; outage ${((r.outage.outageMs ?? 0) / 1000).toFixed(2)} s`);
    if (ro?.onReplica) chart.marks.push({ t: ro.onReplica.t, label: `read-only VIP on replica ${ro.onReplica.node}` });
    writeFileSync(svg, timelineSvg(chart));
    // The chart's own input (samples included), so it can be drawn again without a rerun.
    writeFileSync(join(dir, 'chart-input.json'), JSON.stringify(chart));
    writeFileSync(join(dir, 'result.json'), JSON.stringify({ ...r, samples: undefined, vipSamples: undefined, writer: undefined }, null, 2));
    console.log(`\n  chart: ${svg} (open it in a browser)`);
  }
  if (values.down) {
    say('tearing the lab down (--down)');
    await stopLab(lab);
  }
  console.log(`\n${bold(`Done in ${Math.round((Date.now() - start) / 1000)} s.`)}`);
  if (!values.down) {
    console.log(`The lab is still up. Explore it:
  test/lab/on n1 crm_mon -1A                         # nodes, roles, grades and promotion scores
  test/lab/on n1 pcs status                          # the same through pcs
  test/lab/on n2 mariadb -e 'SHOW SLAVE STATUS\\G'    # a replica's view
  test/lab/lab status                                # power, BMCs and links of every node
  test/lab/lab power n1 off                          # cut a node's power and watch crm_mon again
  npm run lab:down                                   # tear it down`);
  }
  return ok ? 0 : 1;
}

// ---- a failure names its step and takes down what the demo brought up

interface Step { what: string; look: string }
/** The step under way, once the demo may have started something; undefined before and after. */
let current: Step | undefined;
let tearing: Promise<void> | undefined;
/** Set by Ctrl-C or SIGTERM: the steps then fail as the lab goes away, and that is no news. */
let interrupted = false;

async function step<T>(what: string, look: string, fn: () => Promise<T>): Promise<T> {
  current = { what, look };
  say(`${what}...`);
  return fn();
}

/** Why the demo failed, in a few lines: the step, the error's own first lines, where to look. */
function failureText(s: Step | undefined, e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).trim().split('\n');
  const shown = msg.slice(0, 12).map((l) => `    ${l}`).join('\n') + (msg.length > 12 ? `\n    ... (${msg.length - 12} more lines)` : '');
  return `\n${bold('demo failed')}${s ? ` while ${s.what}` : ''}:\n${shown}\n` +
    (s ? `  to look closer: ${s.look}${/lab folder/.test(s.look) ? ` (${labDir})` : ''}\n` : '');
}

/**
 * Take the lab down once (a second signal waits for the first). After an interrupt the demo's own
 * steps may still be starting things (a node's boot) while the first pass runs: a second pass
 * stops what they started.
 */
function tearDown(why: string, passes = 1): Promise<void> {
  tearing ??= (async () => {
    if (values['keep-on-failure']) {
      console.error(`  the lab is left up (--keep-on-failure); tear it down with: npm run lab:down   (in ${REPO_ROOT})`);
      return;
    }
    if (!readConfig(labDir)) { console.error('  nothing of the lab was started'); return; }
    console.error(`  ${why}: tearing down what the demo brought up (nodes, BMCs, namespaces; logs stay in ${labDir})...`);
    try {
      for (let i = 0; i < passes; i++) {
        if (i) await new Promise((r) => setTimeout(r, 2000));
        await stopLab();
      }
      console.error('  the lab is down. Run the demo again with -- --keep-on-failure to leave it up for a look.');
    } catch (e) {
      console.error(`  tearing down failed too: ${(e as Error).message}\n  finish it with: npm run lab:down   (as root, in ${REPO_ROOT})`);
    }
  })();
  return tearing;
}

function keepDetails(e: unknown): string | undefined {
  try {
    if (!readConfig(labDir)) return undefined;
    const dir = join(labDir, 'demo');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'error.log');
    writeFileSync(file, `${new Date().toISOString()} while ${current?.what ?? 'starting'}\n${(e as Error)?.stack ?? String(e)}\n`);
    return file;
  } catch { return undefined; }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    clearLive();
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${bold('demo interrupted')} (${sig})${current ? ` while ${current.what}` : ''}`);
    const s = current;
    (s ? tearDown('interrupted', 2) : Promise.resolve()).finally(() => process.exit(130));
  });
}

main().then((code) => { process.exitCode = code; }, async (e: unknown) => {
  if (interrupted) return;
  clearLive();
  const s = current;
  console.error(failureText(s, e));
  const file = keepDetails(e);
  if (file) console.error(`  the full error: ${file}`);
  if (s) await tearDown('failed');
  process.exitCode = 1;
});
