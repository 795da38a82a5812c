// Failover of the VIP holder: hard power-off, kill -9 of its corosync, and a cut of its node LAN
// link. Each time the node must be fenced through its BMC before the VIP comes up elsewhere, no
// sample may show two holders, and the timeline (detection, fence, takeover, first ARP answer
// from the new holder) is recorded for bench/RESULTS.md.
import { after, before, describe, test } from 'node:test';
import { Lab } from './lib/lab.ts';
import { HEARTBEAT, VIGIL, clearConfiguration, configureFencing, type Stack } from './lib/stacks.ts';
import { createVip, record, requireStack, startLab, stopLab, waitStatus } from './lib/scenario.ts';
import { FAULTS, failover } from './lib/failover.ts';
import { runningOn } from './lib/crm.ts';

const STACKS: Stack[] = [VIGIL, HEARTBEAT];

describe('lab failover of the VIP holder (3 nodes)', () => {
  let lab: Lab | undefined;
  before(async () => { lab = await startLab({ nodes: 3 }); });
  after(async () => { await stopLab(lab); });

  for (const stack of STACKS) {
    for (const fault of FAULTS) {
      test(`${stack.name}: ${fault} of the VIP holder: fenced via ${stack.fenceAgent}, ${stack.vipAgent} up elsewhere`, async () => {
        const l = lab!;
        requireStack(l, stack);
        const st = await l.status(l.anyLiveNode());
        const configured = st.resources.find((r) => r.id === 'vip')?.agent === stack.vipAgent &&
          st.resources.find((r) => r.id === 'fence-n1')?.agent === `stonith:${stack.fenceAgent}`;
        if (!configured || runningOn(st, 'vip').length !== 1) {
          await clearConfiguration(l);
          await configureFencing(l, stack.fenceAgent);
          await waitStatus(l, 'stonith devices started', (s) =>
            l.nodes.every((n) => s.resources.find((r) => r.id === `fence-${n}`)?.active), 60_000);
          await createVip(l, stack, { params: ['meta', 'resource-stickiness=100'] });
        }
        const times = await failover(l, fault);
        record(l, { suite: 'failover', scenario: fault, stack: stack.name, ...times });
      });
    }
  }
});
