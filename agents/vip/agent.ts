// ocf:vigil:vip: a floating IPv4/IPv6 address that refuses to create a second holder.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { run, type Runner } from '../../lib/exec.ts';
import { defineAgent, type AgentContext } from '../../lib/ocf/agent.ts';
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { pollUntil } from '../../lib/deadline.ts';
import { enableNdiscNotify, IpTool, type Iface } from '../../lib/net/ip.ts';
import { canonicalIp, ipFamily, sameIp, type Family } from '../../lib/net/addr.ts';
import { probeDuplicate, sendGratuitousArp } from '../../lib/net/probe.ts';
import { params } from './params.ts';
import { chooseLocalSource, duplicateReason, resolvePlacement, runningFromInterfaces, vipStatus, type Placement } from './decide.ts';

type Ctx = AgentContext<typeof params>;

/** Replaceable for tests of the agent logic; the bundle always uses the real runner. */
export const io: { runner: Runner } = { runner: run };

const ipTool = (ctx: Ctx) => new IpTool(io.runner, ctx.deadline);

const placements = new WeakMap<Ctx, Placement>();

/** Where the address goes on this node; rc 6 when the configuration cannot say. */
async function placement(ctx: Ctx): Promise<Placement> {
  const cached = placements.get(ctx);
  if (cached) return cached;
  const { ip, nic, cidr_netmask } = ctx.params;
  const fam = ipFamily(ip)!;
  const routes = nic !== undefined && cidr_netmask !== undefined ? [] : await ipTool(ctx).routes(fam, 'main');
  const r = resolvePlacement(ip, nic, cidr_netmask, routes);
  if ('error' in r) throw new OcfError(OCF.ERR_CONFIGURED, r.error);
  placements.set(ctx, r.ok);
  return r.ok;
}

async function validate(ctx: Ctx): Promise<void> {
  const p = await placement(ctx);
  const tool = ipTool(ctx);
  if (!(await tool.linkExists(p.nic))) throw new OcfError(OCF.ERR_ARGS, `interface ${p.nic} does not exist on this node`);
  if (ctx.params.iflabel && p.family === 6) throw new OcfError(OCF.ERR_CONFIGURED, 'iflabel applies to IPv4 addresses only');
  if (ctx.params.iflabel && `${p.nic}:${ctx.params.iflabel}`.length > 15) {
    throw new OcfError(OCF.ERR_CONFIGURED, `label ${p.nic}:${ctx.params.iflabel} is longer than 15 characters`);
  }
  if (ctx.params.broadcast && p.family === 6) throw new OcfError(OCF.ERR_CONFIGURED, 'broadcast applies to IPv4 addresses only');
  const ls = ctx.params.local_src;
  if (ls !== 'auto' && ls !== 'none' && ipFamily(ls) !== p.family) {
    throw new OcfError(OCF.ERR_CONFIGURED, `local_src ${ls} is not an IPv${p.family} address like ${p.ip}`);
  }
  if (p.family === 4 && (ctx.params.duplicate_check || ctx.params.arp_count > 0)) {
    const r = await io.runner('arping', ['-V'], { timeoutMs: ctx.deadline.cap(2000) });
    if (r.spawnError) throw new OcfError(OCF.ERR_INSTALLED, 'arping is not installed (package iputils-arping); it is needed for the duplicate check and announcements');
  }
}

async function readStatus(ctx: Ctx, p: { ip: string; nic?: string }) {
  const ifaces = await ipTool(ctx).addresses({ to: p.ip });
  return { ifaces, status: vipStatus(ifaces, p.ip, p.nic) };
}

async function start(ctx: Ctx): Promise<number> {
  const p = await placement(ctx);
  const tool = ipTool(ctx);
  const { status } = await readStatus(ctx, p);
  if (status.state === 'running') {
    ctx.log.info(`${p.ip} is already on ${p.nic}`);
    const [full] = await tool.addresses({ dev: p.nic }); // `to` filtered out the other addresses
    await applyLocalSource(ctx, p, full ?? status.holding.iface);
    return OCF.SUCCESS;
  }
  if (status.state !== 'absent') {
    throw new OcfError(OCF.ERR_GENERIC, status.state === 'failed' ? status.reason : `${p.ip} is in an unexpected state`);
  }
  const [link] = await tool.addresses({ dev: p.nic });
  if (!link) throw new OcfError(OCF.ERR_ARGS, `interface ${p.nic} does not exist on this node`);
  if (!link.flags.includes('UP')) throw new OcfError(OCF.ERR_GENERIC, `interface ${p.nic} is down`);

  if (ctx.params.duplicate_check) {
    const probe = await probeDuplicate(io.runner, {
      family: p.family, ip: p.ip, nic: p.nic, signal: ctx.signal,
      timeoutMs: ctx.deadline.cap(ctx.params.duplicate_timeout), ownMacs: link.address ? [link.address] : [],
    });
    if (probe.holders.length > 0) throw new OcfError(OCF.ERR_GENERIC, duplicateReason(p.ip, p.nic, probe.holders, 'start'));
    if (!probe.checked) {
      if (p.family === 4) throw new OcfError(OCF.ERR_INSTALLED, `cannot probe for a duplicate of ${p.ip}: ${probe.note}`);
      ctx.log.info(`no neighbour-solicitation probe (${probe.note}); relying on the kernel's duplicate address detection`);
    }
  }
  if (p.family === 6 && !enableNdiscNotify(p.nic)) ctx.log.warn(`could not enable ndisc_notify on ${p.nic}; neighbours learn the move only when their cache expires`);

  await tool.addAddress({
    ip: p.ip, prefix: p.prefix, nic: p.nic,
    broadcast: p.family === 4 ? ctx.params.broadcast : undefined,
    label: p.family === 4 && ctx.params.iflabel ? `${p.nic}:${ctx.params.iflabel}` : undefined,
    preferredLft: p.family === 6 ? ctx.params.preferred_lft : undefined,
  });

  let iface: Iface = link;
  if (p.family === 6) {
    await waitForDad(ctx, tool, p);
    iface = (await tool.addresses({ dev: p.nic }))[0] ?? link;
  }
  await applyLocalSource(ctx, p, iface);
  if (p.family === 4 && ctx.params.arp_count > 0) announce(p, ctx.params.arp_count, ctx.params.arp_interval);
  ctx.log.info(`took ${p.ip}/${p.prefix} on ${p.nic}`);
  return OCF.SUCCESS;
}

/** Wait out the kernel's duplicate address detection; a conflict removes the address again. */
async function waitForDad(ctx: Ctx, tool: IpTool, p: Placement): Promise<void> {
  const verdict = await pollUntil(async () => {
    const s = vipStatus(await tool.addresses({ to: p.ip }), p.ip, p.nic);
    if (s.state === 'tentative') return undefined;
    return s;
  }, 100, ctx.deadline);
  if (verdict?.state === 'running') return;
  await tool.delAddress(p.ip, p.prefix, p.nic);
  const why = verdict === undefined ? `duplicate address detection for ${p.ip} did not finish before the start timeout`
    : verdict.state === 'failed' ? verdict.reason : `${p.ip} vanished during duplicate address detection`;
  throw new OcfError(OCF.ERR_GENERIC, `${why}; address removed again`);
}

async function applyLocalSource(ctx: Ctx, p: Placement, iface: Iface): Promise<void> {
  const choice = chooseLocalSource(ctx.params.local_src, iface, p.ip, p.family);
  if (choice.error) throw new OcfError(OCF.ERR_CONFIGURED, choice.error);
  if (!choice.src) {
    if (choice.skip && ctx.params.local_src === 'auto') ctx.log.info(`local route source unchanged: ${choice.skip}`);
    return;
  }
  await ipTool(ctx).replaceLocalRoute(p.family, p.ip, p.nic, choice.src);
  ctx.log.debug(`local connections to ${p.ip} now use source ${choice.src}`);
}

/**
 * The first gratuitous ARP leaves now; the rest are sent by a detached copy of this agent so that
 * start returns at once (iputils arping cannot space packets by less than a second).
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

async function stop(ctx: Ctx): Promise<number> {
  const ip = canonicalIp(ctx.params.ip);
  const fam = ipFamily(ip) as Family;
  const tool = ipTool(ctx);
  const nic = ctx.params.nic;
  // Wherever the address is on this node, on any interface: the address is unique to this
  // resource, and one left on another interface would keep answering beside the next holder. An
  // interface that vanished took the address with it, which is a successful stop.
  const held = (await tool.addresses({ to: ip })).flatMap((i) => i.addr_info
    .filter((a) => sameIp(a.local, ip)).map((a) => ({ nic: i.ifname, prefix: a.prefixlen })));
  const elsewhere = held.filter((h) => nic !== undefined && h.nic !== nic);
  if (elsewhere.length) ctx.log.warn(`${ip} is also on ${elsewhere.map((h) => h.nic).join(', ')}, not only on ${nic}: removing it there too`);
  // Reset connections before the address goes (a reset sent after it has no source to leave
  // from) and once more after, for connections accepted in between.
  if (ctx.params.drop_connections && held.length > 0) await dropConnections(ctx, tool, ip, fam);
  for (const h of held) await tool.delAddress(ip, h.prefix, h.nic);
  if (ctx.params.drop_connections && held.length > 0) await dropConnections(ctx, tool, ip, fam);
  // A local route whose source we replaced outlives the address; left behind, this node would keep
  // answering for the VIP locally.
  const removed = await tool.deleteLocalRoutes(fam, ip);
  if (removed > 0) ctx.log.debug(`removed ${removed} local route(s) for ${ip}`);
  if (held.length) ctx.log.info(`released ${ip} from ${held.map((h) => h.nic).join(', ')}`);
  return OCF.SUCCESS;
}

/** Best effort: a failure here must not fail stop (a failed stop gets the node fenced). */
async function dropConnections(ctx: Ctx, tool: IpTool, ip: string, fam: Family): Promise<void> {
  try {
    if (!(await tool.killSockets(ip, fam))) ctx.log.warn(`could not reset connections of ${ip} (kernel without socket destroy support?)`);
  } catch (e) {
    ctx.log.warn(`could not reset connections of ${ip}: ${(e as Error).message}`);
  }
}

async function monitor(ctx: Ctx): Promise<number> {
  const ip = canonicalIp(ctx.params.ip);
  const fast = runningFromInterfaces(networkInterfaces(), ip, ctx.params.nic, ipFamily(ip) === 6 ? readIfInet6() : '');
  let holder: { ifname: string; mac?: string };
  if (fast) holder = fast; // the common case costs no process at all
  else {
    const { status } = await readStatus(ctx, { ip, nic: ctx.params.nic });
    if (status.state === 'absent') return OCF.NOT_RUNNING;
    if (status.state === 'failed') throw new OcfError(OCF.ERR_GENERIC, status.reason);
    if (status.state === 'tentative') throw new OcfError(OCF.ERR_GENERIC, `${ip} is still in duplicate address detection`);
    holder = { ifname: status.holding.iface.ifname, mac: status.holding.iface.address };
  }
  if (ctx.checkLevel >= 10 && ctx.params.duplicate_check) {
    const probe = await probeDuplicate(io.runner, {
      family: ipFamily(ip)!, ip, nic: holder.ifname, signal: ctx.signal,
      timeoutMs: ctx.deadline.cap(ctx.params.duplicate_timeout), ownMacs: holder.mac ? [holder.mac] : [],
    });
    if (probe.holders.length > 0) throw new OcfError(OCF.ERR_GENERIC, duplicateReason(ip, holder.ifname, probe.holders, 'monitor'));
    if (!probe.checked) ctx.log.warn(`second-holder check skipped: ${probe.note}`);
  }
  return OCF.SUCCESS;
}

function readIfInet6(): string {
  try { return readFileSync('/proc/net/if_inet6', 'utf8'); } catch { return ''; }
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
  validate: async (ctx) => { await validate(ctx); },
  actions: {
    start: { run: start, meta: [{ timeout: 20 }] },
    stop: { run: stop, meta: [{ timeout: 20 }] },
    monitor: { run: monitor, meta: [{ timeout: 20, interval: 10, depth: 0 }, { timeout: 20, interval: 30, depth: 10 }] },
  },
  examples: [
    'pcs resource create vip ocf:vigil:vip ip=192.0.2.10 cidr_netmask=24 op monitor interval=10s op monitor interval=30s OCF_CHECK_LEVEL=10',
    'pcs resource create vip6 ocf:vigil:vip ip=2001:db8::10 cidr_netmask=64 nic=eth0',
  ],
});

