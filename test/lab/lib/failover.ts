// Failing the VIP holder and timing the cluster's answer, shared by the 3-node and 2-node scenarios.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Lab } from './lab.ts';
import { VIP, vipNodes } from './scenario.ts';
import { EventLog, fenced, nodeLost, startedElsewhere, type ClusterEvent } from './events.ts';
import { VipSampler, describeSample, firstSample, splitBrains } from './sampler.ts';
import { runningOn } from './crm.ts';
import { LAB_BIN } from './plan.ts';
import { Deadline, pollUntil, sleep } from '../../../lib/deadline.ts';

export type Fault = 'power-off' | 'kill -9 corosync' | 'link cut';
export const FAULTS: Fault[] = ['power-off', 'kill -9 corosync', 'link cut'];

export async function injectFault(lab: Lab, node: string, fault: Fault): Promise<void> {
  if (fault === 'power-off') await lab.powerOff(node);
  else if (fault === 'link cut') await lab.cut(node, 'lan');
  else await lab.onOk(node, [join(LAB_BIN, 'kill-pidfile'), '/run/lab/corosync.pid', 'KILL']);
}

export interface FailoverTimes {
  /** First survivor to report the victim lost. */
  detectionMs: number;
  /** The victim's BMC was told to power it off (the fence agent's "off"). */
  bmcOffMs: number;
  /** ... and to power it on again (the end of the fence agent's reboot). */
  bmcOnMs: number;
  /** The fencing alert (success) reached the alert agent. */
  fenceMs: number;
  /** The VIP's start operation on the new holder completed (after its announcements). */
  takeoverMs: number;
  /** First 100 ms sample in which the new holder answered ARP for the VIP (what clients see). */
  firstArpMs: number;
  newHolder: string;
}

/**
 * Inject `fault` into the VIP holder and wait for the cluster to fence it and start the VIP
 * elsewhere. Asserts: fenced before the takeover, never two holders. Leaves the lab whole again
 * (link restored, victim rebooted and online).
 */
export async function failover(lab: Lab, fault: Fault, timeoutMs = 150_000): Promise<FailoverTimes> {
  const [victim] = await vipNodes(lab);
  assert.ok(victim, 'the VIP is not running before the fault');
  const survivor = lab.anyLiveNode([victim]);
  const sampler = new VipSampler(lab, VIP).start();
  await sleep(500);
  const events = new EventLog(lab.p.eventsLog);
  const t0 = Date.now();
  let ev: ClusterEvent[] = [];
  let samples;
  try {
    await injectFault(lab, victim, fault);
    const done = await pollUntil(async () => {
      ev = events.read();
      return ev.some(fenced(victim)) && ev.some(startedElsewhere('vip', victim)) ? true : undefined;
    }, 100, new Deadline(timeoutMs));
    if (!done) {
      const st = await lab.status(survivor).catch(() => undefined);
      assert.fail(`${fault} of ${victim}: no fencing + takeover within ${timeoutMs} ms; events: ${JSON.stringify(ev.map((e) =>
        [e.t - t0, e.kind, e.node, e.rsc, e.task, e.rc, e.desc]))}; vip on ${st ? runningOn(st, 'vip') : '?'}`);
    }
    await sleep(1000);
  } finally {
    samples = await sampler.stop();
    if (fault === 'link cut') await lab.restore(victim, 'lan');
  }
  const lost = ev.find(nodeLost(victim));
  const fence = ev.find(fenced(victim))!;
  const start = ev.find(startedElsewhere('vip', victim))!;
  const split = splitBrains(samples);
  assert.deepEqual(split.map((s) => describeSample(s, t0)), [], `${fault}: two holders seen`);
  // The BMC's own record of the fence: when it cut the power and when it restored it. (The
  // fencing alert can reach the alert agent after the cluster already acted on the result.)
  const power = lab.powerEvents(victim, t0);
  const bmcOff = power.find((p) => p.power === 'off');
  const bmcOn = power.find((p) => p.power === 'on');
  // A node that is already off gets no "off" from a fence agent that checks the status first.
  if (fault !== 'power-off') assert.ok(bmcOff, `the BMC of ${victim} never powered it off`);
  const dead = fault === 'power-off' ? t0 : bmcOff!.t;
  const arp = firstSample(samples, t0, (s) => s.arp.includes(start.node));
  assert.ok(!arp || arp.t >= dead, `${start.node} answered for the VIP ${dead - (arp?.t ?? 0)} ms before ${victim} lost power`);
  assert.ok(start.t >= dead, `the VIP started on ${start.node} before ${victim} lost power`);
  // Whole again for the next scenario: the fence reboot powers the victim on after its POST.
  await lab.waitReady(120_000);
  return {
    detectionMs: lost ? lost.t - t0 : NaN,
    bmcOffMs: bmcOff ? bmcOff.t - t0 : NaN,
    bmcOnMs: bmcOn ? bmcOn.t - t0 : NaN,
    fenceMs: fence.t - t0,
    takeoverMs: start.t - t0,
    firstArpMs: arp ? arp.t - t0 : NaN,
    newHolder: start.node,
  };
}
