// ocf:vigil:vip: a floating IPv4/IPv6 address that refuses to create a second holder. The address
// handling itself is address.ts, shared with the write address ocf:vigil:mysql can hold.
import { run, type Runner } from '../../lib/exec.ts';
import { defineAgent, type AgentContext } from '../../lib/ocf/agent.ts';
import { OCF } from '../../lib/ocf/codes.ts';
import { params } from './params.ts';
import { FloatingAddress } from './address.ts';

type Ctx = AgentContext<typeof params>;

/** Replaceable for tests of the agent logic; the bundle always uses the real runner. */
export const io: { runner: Runner } = { runner: run };

const addresses = new WeakMap<Ctx, FloatingAddress>();
function address(ctx: Ctx): FloatingAddress {
  let a = addresses.get(ctx);
  if (!a) {
    a = new FloatingAddress(ctx.params, { runner: io.runner, deadline: ctx.deadline, log: ctx.log, signal: ctx.signal });
    addresses.set(ctx, a);
  }
  return a;
}

export const vipAgent = defineAgent({
  name: 'vip',
  version: '0.1.0',
  shortdesc: 'Floating IPv4/IPv6 address that refuses to create a second holder',
  longdesc: `Holds a floating IPv4 or IPv6 address on one node. Before taking the address it probes the segment and
refuses if another host answers for it; while running, a monitor at depth 10 looks for a second holder (split
brain). After taking the address it announces it (gratuitous ARP for IPv4, unsolicited neighbour advertisement
for IPv6), and it points the local route's source at the interface's own address so local clients get a reset,
not a hang, when the address moves away. Stop resets the address's TCP connections so clients reconnect at once.
Parameter names follow ocf:heartbeat:IPaddr2 where they mean the same.`,
  params,
  validate: async (ctx) => { await address(ctx).validate(); },
  actions: {
    start: { run: async (ctx) => { await address(ctx).take(); return OCF.SUCCESS; }, meta: [{ timeout: 20 }] },
    stop: { run: async (ctx) => { await address(ctx).release(); return OCF.SUCCESS; }, meta: [{ timeout: 20 }] },
    monitor: {
      run: async (ctx) => ((await address(ctx).held(ctx.checkLevel)) ? OCF.SUCCESS : OCF.NOT_RUNNING),
      meta: [{ timeout: 20, interval: 10, depth: 0 }, { timeout: 20, interval: 30, depth: 10 }],
    },
  },
  examples: [
    'pcs resource create vip ocf:vigil:vip ip=192.0.2.10 cidr_netmask=24 op monitor interval=10s op monitor interval=30s OCF_CHECK_LEVEL=10',
    'pcs resource create vip6 ocf:vigil:vip ip=2001:db8::10 cidr_netmask=64 nic=eth0',
  ],
});

