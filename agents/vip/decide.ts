// Pure decisions of the vip agent: where the address goes, what the kernel's state means, which
// address local connections should use. Inputs are parsed `ip -j` output; no I/O.
import { canonicalIp, inPrefix, ipBytes, ipFamily, maxPrefix, parsePrefix, sameIp, type Family } from '../../lib/net/addr.ts';
import type { AddrInfo, Iface, Route } from '../../lib/net/ip.ts';

export interface Placement { family: Family; ip: string; prefix: number; nic: string }

export type PlacementResult = { ok: Placement } | { error: string };

/**
 * Resolve nic and prefix: explicit values win; otherwise the connected route (no gateway, scope link)
 * with the longest prefix containing the address. Two interfaces with the same best prefix is
 * ambiguous: guessing would put the VIP on the wrong segment.
 */
export function resolvePlacement(
  ip: string, nic: string | undefined, cidr: string | undefined, routes: readonly Route[],
): PlacementResult {
  const family = ipFamily(ip);
  if (!family) return { error: `"${ip}" is not an IP address` };
  let prefix: number | undefined;
  if (cidr !== undefined) {
    prefix = parsePrefix(cidr, family);
    if (prefix === undefined) return { error: `cidr_netmask "${cidr}" is not valid for an IPv${family} address (0-${maxPrefix(family)})` };
  }
  if (nic !== undefined && prefix !== undefined) return { ok: { family, ip: canonicalIp(ip), prefix, nic } };
  const candidates: Array<{ dev: string; len: number }> = [];
  for (const r of routes) {
    if (!r.dev || r.gateway || (r.type && r.type !== 'unicast') || r.dev === 'lo') continue;
    if (r.scope && r.scope !== 'link') continue;
    if (nic !== undefined && r.dev !== nic) continue;
    const [net, lenText] = r.dst === 'default' ? ['', ''] : r.dst.split('/') as [string, string | undefined];
    if (!net) continue;
    const len = lenText === undefined ? maxPrefix(family) : Number(lenText);
    if (family === 6 && inPrefix(net, 'fe80::', 10)) continue;
    if (inPrefix(ip, net, len)) candidates.push({ dev: r.dev, len });
  }
  if (candidates.length === 0) {
    return { error: nic
      ? `no connected route on ${nic} contains ${ip}; set cidr_netmask (32 or 128 for an address outside the interface's subnets)`
      : `no connected route contains ${ip}; set nic and cidr_netmask` };
  }
  const best = Math.max(...candidates.map((c) => c.len));
  const devs = [...new Set(candidates.filter((c) => c.len === best).map((c) => c.dev))];
  if (devs.length > 1) return { error: `${ip} is in connected routes of several interfaces (${devs.join(', ')}); set nic` };
  return { ok: { family, ip: canonicalIp(ip), prefix: prefix ?? best, nic: nic ?? devs[0]! } };
}

export interface Holding { iface: Iface; addr: AddrInfo }

/** Every interface address equal to `ip` (there should be at most one). */
export function findAddress(ifaces: readonly Iface[], ip: string): Holding[] {
  const out: Holding[] = [];
  for (const iface of ifaces) for (const addr of iface.addr_info ?? []) if (sameIp(addr.local, ip)) out.push({ iface, addr });
  return out;
}

export type VipStatus =
  | { state: 'absent' }
  | { state: 'running'; holding: Holding }
  | { state: 'tentative'; holding: Holding }
  | { state: 'failed'; reason: string };

/**
 * What the kernel's view means for the resource. Held on the configured interface and usable means
 * running. Held but unusable (link down, DAD failed) or held on another interface is a failure the
 * cluster must act on, never "not running": an address left behind would answer beside the new holder.
 */
export function vipStatus(ifaces: readonly Iface[], ip: string, nic: string | undefined): VipStatus {
  const found = findAddress(ifaces, ip);
  if (found.length === 0) return { state: 'absent' };
  const mine = nic ? found.filter((h) => h.iface.ifname === nic) : found;
  if (mine.length === 0) {
    return { state: 'failed', reason: `${ip} is configured on ${found.map((h) => h.iface.ifname).join(', ')}, not on ${nic}` };
  }
  const h = mine[0]!;
  if (h.addr.dadfailed) return { state: 'failed', reason: `${ip} on ${h.iface.ifname}: duplicate address detection failed (another host holds it)` };
  const up = h.iface.flags.includes('UP') && h.iface.operstate !== 'DOWN' && !h.iface.flags.includes('NO-CARRIER');
  if (!up) return { state: 'failed', reason: `${ip} is on ${h.iface.ifname} but the interface is down` };
  if (h.addr.tentative) return { state: 'tentative', holding: h };
  return { state: 'running', holding: h };
}

/**
 * The interface's own address for local connections to the VIP: same family, global scope, not the
 * VIP, not a transient state. For IPv4 the primary (non-secondary) address comes first.
 */
export function permanentAddress(iface: Iface, vip: string, family: Family): string | undefined {
  const fam = family === 4 ? 'inet' : 'inet6';
  const usable = (iface.addr_info ?? []).filter((a) => a.family === fam && !sameIp(a.local, vip)
    && (a.scope ?? 'global') === 'global' && !a.tentative && !a.dadfailed && !a.deprecated);
  usable.sort((a, b) => Number(!!a.secondary) - Number(!!b.secondary));
  return usable[0]?.local;
}

/** The source that `local_src` asks for, or a reason it cannot be had. */
export function chooseLocalSource(
  setting: string, iface: Iface, vip: string, family: Family,
): { src?: string; skip?: string; error?: string } {
  if (setting === 'none') return { skip: 'local_src=none' };
  if (setting === 'auto') {
    const src = permanentAddress(iface, vip, family);
    return src ? { src } : { skip: `${iface.ifname} has no other IPv${family} address to use as source` };
  }
  if (ipFamily(setting) !== family) return { error: `local_src ${setting} is not an IPv${family} address like ${vip}` };
  const has = (iface.addr_info ?? []).some((a) => sameIp(a.local, setting));
  return has ? { src: canonicalIp(setting) } : { error: `local_src ${setting} is not an address of ${iface.ifname}` };
}

/** The duplicate-probe verdict as an operator reads it. */
export function duplicateReason(ip: string, nic: string, holders: readonly string[], when: 'start' | 'monitor'): string {
  const who = holders.length === 1 ? `host ${holders[0]}` : `hosts ${holders.join(', ')}`;
  return when === 'start'
    ? `${ip} is already in use on ${nic}: ${who} answered the duplicate probe; not taking it (find and stop the other holder)`
    : `split brain: ${ip} is also held by ${who} on ${nic}`;
}

/** The subset of os.networkInterfaces() we read. */
export interface OsAddress { address: string; family: string | number; mac: string; cidr: string | null }

// Address flags in /proc/net/if_inet6 (include/uapi/linux/if_addr.h).
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;

/**
 * Fast path of monitor: libuv's getifaddrs() lists only interfaces that are UP and RUNNING, so the
 * VIP found there on the right interface is usable, unless (IPv6) the kernel still runs DAD on it or
 * DAD failed, which /proc/net/if_inet6 says. Returns undefined when only the slow path (ip -j) can
 * tell: absent here may be absent, or held on an interface that is down.
 */
export function runningFromInterfaces(
  nics: Record<string, OsAddress[] | undefined>, ip: string, nic: string | undefined, ifInet6: string,
): { ifname: string; mac: string } | undefined {
  for (const [key, addrs] of Object.entries(nics)) {
    // glibc names an address with a label after the label ("eth0:web"); the interface is before the colon.
    const ifname = key.split(':')[0]!;
    if (nic !== undefined && ifname !== nic) continue;
    const a = (addrs ?? []).find((x) => sameIp(x.address, ip));
    if (!a) continue;
    if (ipFamily(ip) === 6) {
      const hex = ipBytesHex(ip);
      const line = ifInet6.split('\n').find((l) => l.startsWith(hex) && l.trim().endsWith(` ${ifname}`));
      const flags = line ? parseInt(line.trim().split(/\s+/)[4] ?? '0', 16) : NaN;
      if (!Number.isFinite(flags) || flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) return undefined;
    }
    return { ifname, mac: a.mac };
  }
  return undefined;
}

function ipBytesHex(ip: string): string {
  return ipBytes(ip).map((b) => b.toString(16).padStart(2, '0')).join('');
}
