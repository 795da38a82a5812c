// The write address the promoted instance holds itself (write_ip): ocf:vigil:vip's address
// handling (agents/vip/address.ts), with vip's defaults for everything but where the address goes.
import { run } from '../../lib/exec.ts';
import { FloatingAddress } from '../vip/address.ts';
import { params as vip } from '../vip/params.ts';
import type { Ctx } from './context.ts';

/** Undefined when write_ip is not set. */
export function writeAddress(ctx: Ctx): FloatingAddress | undefined {
  const p = ctx.params;
  if (!p.write_ip) return undefined;
  return new FloatingAddress({
    ip: p.write_ip, cidr_netmask: p.write_cidr_netmask || undefined, nic: p.write_nic || undefined,
    arp_count: vip.arp_count.default, arp_interval: vip.arp_interval.default, duplicate_check: vip.duplicate_check.default,
    duplicate_timeout: p.write_duplicate_timeout, local_src: vip.local_src.default, drop_connections: vip.drop_connections.default,
  }, { runner: run, deadline: ctx.deadline, log: ctx.log, signal: ctx.signal });
}
