// Two nodes: corosync's two_node mode keeps quorum with one survivor, so both halves of a split
// may try to fence. The delay on n1's device (pcmk_delay_base) lets n1 win that race: exactly one
// node is fenced, never both, and the VIP ends on the survivor.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from './lib/lab.ts';
import { HEARTBEAT, VIGIL, TWO_NODE_FENCE_DELAY, clearConfiguration, configureFencing, type Stack } from './lib/stacks.ts';
import { createVip, record, requireStack, startLab, stopLab, vipNodes, waitStatus } from './lib/scenario.ts';
import { failover, type Fault } from './lib/failover.ts';
import { EventLog, fenced } from './lib/events.ts';
import { runningOn } from './lib/crm.ts';

const STACKS: Stack[] = [VIGIL, HEARTBEAT];
const FAULTS: Fault[] = ['power-off', 'link cut'];

describe('lab with two nodes (two_node, fence delay on n1)', () => {
  let lab: Lab | undefined;
  before(async () => { lab = await startLab({ nodes: 2 }); });
  after(async () => { await stopLab(lab); });

  test('corosync runs with two_node and n1\'s stonith device carries the delay', async () => {
    const l = lab!;
    const q = await l.onOk('n1', ['corosync-quorumtool', '-s']);
    assert.match(q, /Flags:.*2Node/, `two_node not active:\n${q}`);
    assert.match(q, /Quorate:\s+Yes/);
  });

  for (const stack of STACKS) {
    for (const fault of FAULTS) {
      test(`${stack.name}: ${fault} of the VIP holder n2: n1 fences it (and only it) and takes the VIP`, async () => {
        const l = lab!;
        requireStack(l, stack);
        await clearConfiguration(l);
        await configureFencing(l, stack.fenceAgent);
        const cib = await l.onOk('n1', ['pcs', 'stonith', 'config', 'fence-n1']);
        assert.match(cib, new RegExp(`pcmk_delay_base=${TWO_NODE_FENCE_DELAY}`), `no delay on fence-n1:\n${cib}`);
        await waitStatus(l, 'stonith devices started', (s) =>
          l.nodes.every((n) => s.resources.find((r) => r.id === `fence-${n}`)?.active), 60_000);
        await createVip(l, stack, { on: 'n2', params: ['meta', 'resource-stickiness=100'] });
        assert.deepEqual(await vipNodes(l), ['n2']);
        const n1Pid = l.nodePid('n1');
        const events = new EventLog(l.p.eventsLog);
        const times = await failover(l, fault);
        assert.equal(times.newHolder, 'n1');
        assert.ok(!events.read().some(fenced('n1')), 'n1 was fenced too: both halves shot each other');
        assert.equal(l.nodePid('n1'), n1Pid, 'n1 was restarted');
        const st = await l.status('n1');
        assert.deepEqual(runningOn(st, 'vip'), ['n1']);
        record(l, { suite: 'two-node', scenario: fault, stack: stack.name, ...times });
      });
    }
  }
});
