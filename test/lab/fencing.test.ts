// Fencing in the lab: every node's BMC as its stonith device, created with pcs; a manual reboot
// through stonith_admin; and a dead BMC, where the cluster must not take over (and must say why).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from './lib/lab.ts';
import { HEARTBEAT, VIGIL, clearConfiguration, configureFencing, type Stack } from './lib/stacks.ts';
import { VIP, createVip, record, requireStack, startLab, stopLab, waitAllOnline, waitStatus } from './lib/scenario.ts';
import { EventLog, FileTail, fenceFailed, fenced, startedElsewhere } from './lib/events.ts';
import { VipSampler, splitBrains, describeSample } from './lib/sampler.ts';
import { runningOn } from './lib/crm.ts';
import { Deadline, pollUntil, sleep } from '../../lib/deadline.ts';

const STACKS: Stack[] = [VIGIL, HEARTBEAT];

async function fencingReady(lab: Lab): Promise<void> {
  await waitStatus(lab, 'every stonith device started', (s) =>
    lab.nodes.every((n) => s.resources.find((r) => r.id === `fence-${n}`)?.active), 60_000);
}

describe('lab fencing (3 nodes)', () => {
  let lab: Lab | undefined;
  before(async () => { lab = await startLab({ nodes: 3 }); });
  after(async () => { await stopLab(lab); });

  for (const stack of STACKS) {
    test(`${stack.fenceAgent}: stonith device of every node via pcs; stonith_admin --reboot n2 reboots n2 and it rejoins`, async () => {
      const l = lab!;
      requireStack(l, stack);
      await clearConfiguration(l);
      await configureFencing(l, stack.fenceAgent, 'n1');
      await fencingReady(l);
      const devices = (await l.status('n1')).resources;
      for (const n of l.nodes) {
        const d = devices.find((r) => r.id === `fence-${n}`);
        assert.equal(d?.agent, `stonith:${stack.fenceAgent}`, `fence-${n} uses ${stack.fenceAgent}`);
        assert.ok(d?.active && !d.nodes.includes(n), `fence-${n} runs on another node than ${n}: ${JSON.stringify(d)}`);
      }
      const pidBefore = l.nodePid('n2');
      const events = new EventLog(l.p.eventsLog);
      const t0 = Date.now();
      const r = await l.on('n1', ['stonith_admin', '--reboot', 'n2', '--timeout', '90'], { timeoutMs: 120_000 });
      const fenceMs = Date.now() - t0;
      assert.equal(r.code, 0, `stonith_admin --reboot n2 failed: ${r.stderr || r.stdout}`);
      const pidAfterFence = l.nodePid('n2');
      assert.notEqual(pidAfterFence, pidBefore, 'n2 was not power-cycled (same pid 1)');

      // Rejoined: a survivor reports n2 as a member again after the fence (crm_mon alone may still
      // show the old membership for a moment right after stonith_admin returns).
      const rejoined = await pollUntil(async () => {
        const ev = events.read();
        const f = ev.find(fenced('n2'));
        return f && ev.find((e) => e.kind === 'node' && e.node === 'n2' && e.desc === 'member' && e.t > f.t);
      }, 200, new Deadline(120_000));
      assert.ok(rejoined, `n2 did not rejoin after the reboot: ${JSON.stringify(events.read().filter((e) => e.kind !== 'resource'))}`);
      const backMs = rejoined.t - t0;
      await waitAllOnline(l, 60_000);
      const hist = await pollUntil(async () => (await l.status('n1')).fenceHistory.find((f) => f.target === 'n2' && f.status === 'success'),
        500, new Deadline(15_000));
      assert.ok(hist, `no successful reboot of n2 in crm_mon's fence history: ${JSON.stringify((await l.status('n1')).fenceHistory)}`);
      record(l, { suite: 'fencing', scenario: 'stonith_admin --reboot', stack: stack.name, fenceAgent: stack.fenceAgent,
        fenceMs, rejoinedMs: backMs });
    });
  }

  for (const stack of STACKS) {
    test(`${stack.name}: BMC of the failed VIP holder is down: no fencing, no takeover, and crm_mon says why; BMC back: takeover`, async () => {
      const l = lab!;
      requireStack(l, stack);
      await clearConfiguration(l);
      await configureFencing(l, stack.fenceAgent, 'n1');
      await fencingReady(l);
      const victim = await createVip(l, stack, { on: 'n3' });
      assert.equal(victim, 'n3');
      const survivor = l.anyLiveNode([victim]);

      await l.stopBmc(victim);
      const sampler = new VipSampler(l, VIP).start();
      const events = new EventLog(l.p.eventsLog);
      const logs = l.nodes.filter((n) => n !== victim).map((n) => new FileTail(l.p.node(n).pacemakerLog));
      const t0 = Date.now();
      try {
        await l.powerOff(victim);
        // Long enough for loss detection, the fencing attempt and its failure.
        const st = await waitStatus(l, `a failed fencing of ${victim}`, (s) =>
          s.fenceHistory.some((f) => f.target === victim && f.status === 'failed'), 120_000, () => survivor);
        await sleep(5000);
        const view = await l.on(survivor, ['crm_mon', '-1', '--fence-history=2']);
        const why = view.stdout;
        // The operator's view names both facts: the node is unclean, and fencing it failed.
        assert.match(why, new RegExp(`${victim}: UNCLEAN|UNCLEAN.*${victim}|${victim}.*UNCLEAN`), `crm_mon does not show ${victim} UNCLEAN:\n${why}`);
        assert.match(why, /Failed Fencing Actions/i, `crm_mon does not show the failed fencing:\n${why}`);
        // And the fence agent's own reason, as the fencer logged it (the operator's next stop).
        const agentSays = logs.flatMap((t) => t.read().split('\n'))
          .find((x) => x.includes(`${stack.fenceAgent}[`) && x.includes('stderr: ['))?.replace(/^.*stderr: \[\s*/, '').replace(/\s*\]\s*$/, '');
        assert.ok(agentSays, `no ${stack.fenceAgent} error in the survivors' pacemaker logs`);
        assert.deepEqual(runningOn(await l.status(survivor), 'vip').filter((n) => n !== victim), [], 'VIP started elsewhere without fencing');
        const ev = events.read();
        assert.ok(!ev.some(startedElsewhere('vip', victim)), 'the VIP started on a survivor while its holder was not fenced');
        assert.ok(ev.some(fenceFailed(victim)), 'no failed fencing event');
        const failed = st.fenceHistory.find((f) => f.target === victim && f.status === 'failed');
        const fenceFailedMs = (ev.find(fenceFailed(victim))?.t ?? NaN) - t0;

        // The BMC comes back: the next fencing attempt succeeds and the VIP moves.
        const tBmc = Date.now();
        await l.startBmc(victim);
        const moved = await waitStatus(l, 'the VIP running on a survivor', (s) =>
          runningOn(s, 'vip').length === 1 && runningOn(s, 'vip')[0] !== victim, 180_000, () => survivor);
        const takeoverAfterBmcMs = Date.now() - tBmc;
        const samples = await sampler.stop();
        const split = splitBrains(samples);
        assert.deepEqual(split.map((s) => describeSample(s, t0)), [], 'two holders seen');
        const noHolder = samples.filter((s) => s.t > t0 + 2000 && s.t < tBmc);
        assert.ok(noHolder.every((s) => s.holders.length === 0 && s.arp.length === 0), 'someone answered for the VIP while fencing was failing');
        record(l, { suite: 'fencing', scenario: 'BMC down', stack: stack.name, crmMonSays: why.split('\n').find((x) => new RegExp(`reboot of ${victim}.*failed`).test(x))?.trim(), agentSays,
          failedFencingReason: failed?.exitReason ?? failed?.status, fenceFailedMs,
          newHolder: runningOn(moved, 'vip')[0], takeoverAfterBmcMs });
      } finally {
        await sampler.stop();
        await l.startBmc(victim);
      }
      await waitAllOnline(l, 120_000);
    });
  }
});

