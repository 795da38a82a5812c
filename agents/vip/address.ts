// A floating address held by this node: taken only after the segment says nobody else answers for
// it, announced, with the local route's source fixed (local clients then get a reset, not a hang,
// when it leaves), released with its connections reset, and watched for a second holder. One
// implementation for ocf:vigil:vip and for the write address ocf:vigil:mysql can hold itself
// (promote takes it, demote and stop release it), so both behave exactly alike.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Runner } from '../../lib/exec.ts';
import type { Deadline } from '../../lib/deadline.ts';
import { pollUntil } from '../../lib/deadline.ts';
import type { Logger } from '../../lib/log.ts';
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { enableNdiscNotify, IpTool, type Iface } from '../../lib/net/ip.ts';
import { canonicalIp, ipFamily, sameIp, type Family } from '../../lib/net/addr.ts';
import { probeDuplicate, sendGratuitousArp } from '../../lib/net/probe.ts';
import {
  chooseLocalSource, duplicateReason, resolvePlacement, runningFromInterfaces, vipStatus, type Placement,
} from './decide.ts';

/** What an address needs, as ocf:vigil:vip's parameters name it. */
export interface FloatingSpec {
  ip: string;
  cidr_netmask?: string;
  nic?: string;
  broadcast?: string;
  iflabel?: string;
  preferred_lft?: string;
  arp_count: number;
  arp_interval: number;
  duplicate_check: boolean;
  duplicate_timeout: number;
  local_src: string;
  drop_connections: boolean;
}

export interface FloatingEnv {
  runner: Runner;
  deadline: Deadline;
  log: Logger;
  signal?: AbortSignal;
}

export class FloatingAddress {
  private placed?: Placement;
  constructor(readonly spec: FloatingSpec, private readonly env: FloatingEnv) {}

  private tool(): IpTool { return new IpTool(this.env.runner, this.env.deadline); }

  /** Where the address goes on this node; rc 6 when the configuration cannot say. */
  async placement(): Promise<Placement> {
    if (this.placed) return this.placed;
    const { ip, nic, cidr_netmask } = this.spec;
    const fam = ipFamily(ip)!;
    const routes = nic !== undefined && cidr_netmask !== undefined ? [] : await this.tool().routes(fam, 'main');
    const r = resolvePlacement(ip, nic, cidr_netmask, routes);
    if ('error' in r) throw new OcfError(OCF.ERR_CONFIGURED, r.error);
    this.placed = r.ok;
    return r.ok;
  }

  async validate(): Promise<void> {
    const s = this.spec;
    const p = await this.placement();
    if (!(await this.tool().linkExists(p.nic))) throw new OcfError(OCF.ERR_ARGS, `interface ${p.nic} does not exist on this node`);
    if (s.iflabel && p.family === 6) throw new OcfError(OCF.ERR_CONFIGURED, 'iflabel applies to IPv4 addresses only');
    if (s.iflabel && `${p.nic}:${s.iflabel}`.length > 15) {
      throw new OcfError(OCF.ERR_CONFIGURED, `label ${p.nic}:${s.iflabel} is longer than 15 characters`);
    }
    if (s.broadcast && p.family === 6) throw new OcfError(OCF.ERR_CONFIGURED, 'broadcast applies to IPv4 addresses only');
    const ls = s.local_src;
    if (ls !== 'auto' && ls !== 'none' && ipFamily(ls) !== p.family) {
      throw new OcfError(OCF.ERR_CONFIGURED, `local_src ${ls} is not an IPv${p.family} address like ${p.ip}`);
    }
    if (p.family === 4 && (s.duplicate_check || s.arp_count > 0)) {
      const r = await this.env.runner('arping', ['-V'], { timeoutMs: this.env.deadline.cap(2000) });
      if (r.spawnError) throw new OcfError(OCF.ERR_INSTALLED, 'arping is not installed (package iputils-arping); it is needed for the duplicate check and announcements');
    }
  }

  private async status(p: { ip: string; nic?: string }) {
    const ifaces = await this.tool().addresses({ to: p.ip });
    return { ifaces, status: vipStatus(ifaces, p.ip, p.nic) };
  }

  /**
   * Take the address (idempotent). With `probed`, the caller already ran the duplicate probe
   * (overlapping it with other work, see probe()); otherwise it runs here first.
   */
  async take(o: { probed?: boolean } = {}): Promise<void> {
    const p = await this.placement();
    const tool = this.tool();
    const { status } = await this.status(p);
    if (status.state === 'running') {
      this.env.log.info(`${p.ip} is already on ${p.nic}`);
      const [full] = await tool.addresses({ dev: p.nic }); // `to` filtered out the other addresses
      await this.applyLocalSource(p, full ?? status.holding.iface);
      return;
    }
    if (status.state !== 'absent') {
      throw new OcfError(OCF.ERR_GENERIC, status.state === 'failed' ? status.reason : `${p.ip} is in an unexpected state`);
    }
    const link = await this.link(p);
    if (!o.probed) await this.probe();
    if (p.family === 6 && !enableNdiscNotify(p.nic)) this.env.log.warn(`could not enable ndisc_notify on ${p.nic}; neighbours learn the move only when their cache expires`);
    const s = this.spec;
    await tool.addAddress({
      ip: p.ip, prefix: p.prefix, nic: p.nic,
      broadcast: p.family === 4 ? s.broadcast : undefined,
      label: p.family === 4 && s.iflabel ? `${p.nic}:${s.iflabel}` : undefined,
      preferredLft: p.family === 6 ? s.preferred_lft : undefined,
    });
    let iface: Iface = link;
    if (p.family === 6) {
      await this.waitForDad(tool, p);
      iface = (await tool.addresses({ dev: p.nic }))[0] ?? link;
    }
    await this.applyLocalSource(p, iface);
    if (p.family === 4 && s.arp_count > 0) announce(p, s.arp_count, s.arp_interval);
    this.env.log.info(`took ${p.ip}/${p.prefix} on ${p.nic}`);
  }

  private async link(p: Placement): Promise<Iface> {
    const [link] = await this.tool().addresses({ dev: p.nic });
    if (!link) throw new OcfError(OCF.ERR_ARGS, `interface ${p.nic} does not exist on this node`);
    if (!link.flags.includes('UP')) throw new OcfError(OCF.ERR_GENERIC, `interface ${p.nic} is down`);
    return link;
  }

  /**
   * The duplicate probe before taking the address: fails (rc 1) naming the MAC of another holder.
   * Safe to run while the caller does other work: it only listens.
   */
  async probe(): Promise<void> {
    if (!this.spec.duplicate_check) return;
    const p = await this.placement();
    const link = await this.link(p);
    const probe = await probeDuplicate(this.env.runner, {
      family: p.family, ip: p.ip, nic: p.nic, signal: this.env.signal,
      timeoutMs: this.env.deadline.cap(this.spec.duplicate_timeout), ownMacs: link.address ? [link.address] : [],
    });
    if (probe.holders.length > 0) throw new OcfError(OCF.ERR_GENERIC, duplicateReason(p.ip, p.nic, probe.holders, 'start'));
    if (!probe.checked) {
      if (p.family === 4) throw new OcfError(OCF.ERR_INSTALLED, `cannot probe for a duplicate of ${p.ip}: ${probe.note}`);
      this.env.log.info(`no neighbour-solicitation probe (${probe.note}); relying on the kernel's duplicate address detection`);
    }
  }

  /** Wait out the kernel's duplicate address detection; a conflict removes the address again. */
  private async waitForDad(tool: IpTool, p: Placement): Promise<void> {
    const verdict = await pollUntil(async () => {
      const s = vipStatus(await tool.addresses({ to: p.ip }), p.ip, p.nic);
      if (s.state === 'tentative') return undefined;
      return s;
    }, 100, this.env.deadline);
    if (verdict?.state === 'running') return;
    await tool.delAddress(p.ip, p.prefix, p.nic);
    const why = verdict === undefined ? `duplicate address detection for ${p.ip} did not finish before the start timeout`
      : verdict.state === 'failed' ? verdict.reason : `${p.ip} vanished during duplicate address detection`;
    throw new OcfError(OCF.ERR_GENERIC, `${why}; address removed again`);
  }

  private async applyLocalSource(p: Placement, iface: Iface): Promise<void> {
    const choice = chooseLocalSource(this.spec.local_src, iface, p.ip, p.family);
    if (choice.error) throw new OcfError(OCF.ERR_CONFIGURED, choice.error);
    if (!choice.src) {
      if (choice.skip && this.spec.local_src === 'auto') this.env.log.info(`local route source unchanged: ${choice.skip}`);
      return;
    }
    await this.tool().replaceLocalRoute(p.family, p.ip, p.nic, choice.src);
    this.env.log.debug(`local connections to ${p.ip} now use source ${choice.src}`);
  }

  /** Is the address on any interface of this node? From the kernel's list, without running a program. */
  presentHere(): boolean {
    const ip = canonicalIp(this.spec.ip);
    return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => sameIp(a.address, ip)));
  }

  /** Release the address wherever it is on this node; returns whether it was held. */
  async release(): Promise<boolean> {
    const ip = canonicalIp(this.spec.ip);
    const fam = ipFamily(ip) as Family;
    const tool = this.tool();
    const nic = this.spec.nic;
    // Wherever the address is on this node, on any interface: the address is unique to this
    // resource, and one left on another interface would keep answering beside the next holder. An
    // interface that vanished took the address with it, which is a successful stop.
    const held = (await tool.addresses({ to: ip })).flatMap((i) => i.addr_info
      .filter((a) => sameIp(a.local, ip)).map((a) => ({ nic: i.ifname, prefix: a.prefixlen })));
    const elsewhere = held.filter((h) => nic !== undefined && h.nic !== nic);
    if (elsewhere.length) this.env.log.warn(`${ip} is also on ${elsewhere.map((h) => h.nic).join(', ')}, not only on ${nic}: removing it there too`);
    // Reset connections before the address goes (a reset sent after it has no source to leave
    // from) and once more after, for connections accepted in between.
    if (this.spec.drop_connections && held.length > 0) await this.dropConnections(tool, ip, fam);
    for (const h of held) await tool.delAddress(ip, h.prefix, h.nic);
    if (this.spec.drop_connections && held.length > 0) await this.dropConnections(tool, ip, fam);
    // A local route whose source we replaced outlives the address; left behind, this node would keep
    // answering for the VIP locally.
    const removed = await tool.deleteLocalRoutes(fam, ip);
    if (removed > 0) this.env.log.debug(`removed ${removed} local route(s) for ${ip}`);
    if (held.length) this.env.log.info(`released ${ip} from ${held.map((h) => h.nic).join(', ')}`);
    return held.length > 0;
  }

  /** Best effort: a failure here must not fail stop (a failed stop gets the node fenced). */
  private async dropConnections(tool: IpTool, ip: string, fam: Family): Promise<void> {
    try {
      if (!(await tool.killSockets(ip, fam))) this.env.log.warn(`could not reset connections of ${ip} (kernel without socket destroy support?)`);
    } catch (e) {
      this.env.log.warn(`could not reset connections of ${ip}: ${(e as Error).message}`);
    }
  }

  /**
   * Is the address held here? false when absent; throws (rc 1) for a failed or tentative address,
   * and at `depth` 10 when another host answers for it too (split brain).
   */
  async held(depth: number): Promise<boolean> {
    const ip = canonicalIp(this.spec.ip);
    const fast = runningFromInterfaces(networkInterfaces(), ip, this.spec.nic, ipFamily(ip) === 6 ? readIfInet6() : '');
    let holder: { ifname: string; mac?: string };
    if (fast) holder = fast; // the common case costs no process at all
    else {
      const { status } = await this.status({ ip, nic: this.spec.nic });
      if (status.state === 'absent') return false;
      if (status.state === 'failed') throw new OcfError(OCF.ERR_GENERIC, status.reason);
      if (status.state === 'tentative') throw new OcfError(OCF.ERR_GENERIC, `${ip} is still in duplicate address detection`);
      holder = { ifname: status.holding.iface.ifname, mac: status.holding.iface.address };
    }
    if (depth >= 10 && this.spec.duplicate_check) {
      const probe = await probeDuplicate(this.env.runner, {
        family: ipFamily(ip)!, ip, nic: holder.ifname, signal: this.env.signal,
        timeoutMs: this.env.deadline.cap(this.spec.duplicate_timeout), ownMacs: holder.mac ? [holder.mac] : [],
      });
      if (probe.holders.length > 0) throw new OcfError(OCF.ERR_GENERIC, duplicateReason(ip, holder.ifname, probe.holders, 'monitor'));
      if (!probe.checked) this.env.log.warn(`second-holder check skipped: ${probe.note}`);
    }
    return true;
  }
}

function readIfInet6(): string {
  try { return readFileSync('/proc/net/if_inet6', 'utf8'); } catch { return ''; }
}

/**
 * The first gratuitous ARP leaves now; the rest are sent by a detached copy of this agent (any
 * bundle that holds addresses dispatches ANNOUNCE_WORKER) so that the action returns at once
 * (iputils arping cannot space packets by less than a second).
 */
function announce(p: Placement, count: number, intervalMs: number): void {
  sendGratuitousArp(p.ip, p.nic);
  if (count <= 1 || !process.argv[1]) return;
  try {
    const c = spawn(process.execPath, [process.argv[1], ANNOUNCE_WORKER, p.ip, p.nic, String(count - 1), String(intervalMs)],
      { stdio: 'ignore', detached: true, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } });
    c.on('error', () => { /* the first announcement went out already */ });
    c.unref();
  } catch { /* ignore */ }
}

export const ANNOUNCE_WORKER = '__announce';

/** Body of the detached announcer: count more announcements, intervalMs apart. */
export async function announceWorker(args: readonly string[]): Promise<void> {
  const [ip, nic, countText, intervalText] = args;
  if (!ip || ipFamily(ip) !== 4 || !nic) return;
  const count = Math.min(100, Number(countText) || 0);
  const interval = Math.max(10, Number(intervalText) || 200);
  for (let i = 0; i < count; i++) {
    await new Promise((r) => setTimeout(r, interval));
    sendGratuitousArp(ip, nic);
  }
}
