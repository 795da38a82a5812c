// Thin wrappers over iproute2 (`ip -j`, `ss`) with an injectable runner. Each call is bounded by
// the caller's deadline. Parsing of the JSON is typed here; decisions live in the agents.
import { writeFileSync, readFileSync } from 'node:fs';
import { describeResult, type Runner, type RunResult } from '../exec.ts';
import type { Deadline } from '../deadline.ts';
import { OCF, OcfError } from '../ocf/codes.ts';
import type { Family } from './addr.ts';

export interface AddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope?: string;
  label?: string;
  broadcast?: string;
  secondary?: boolean;
  tentative?: boolean;
  dadfailed?: boolean;
  deprecated?: boolean;
  nodad?: boolean;
}
export interface Iface {
  ifname: string;
  flags: string[];
  operstate?: string;
  address?: string; // link-layer address
  addr_info: AddrInfo[];
}
export interface Route {
  type?: string;
  dst: string;
  dev?: string;
  gateway?: string;
  scope?: string;
  prefsrc?: string;
  protocol?: string;
}

const STEP_MS = 3000;

export class IpTool {
  constructor(private readonly runner: Runner, private readonly deadline: Deadline, private readonly ipPath = 'ip') {}

  private async exec(cmd: string, args: string[], what: string): Promise<RunResult> {
    const r = await this.runner(cmd, args, { timeoutMs: this.deadline.cap(STEP_MS), signal: this.deadline.signal });
    if (r.spawnError) throw new OcfError(OCF.ERR_INSTALLED, `cannot run ${cmd} (${r.spawnError}); install iproute2`);
    if (r.timedOut) throw new OcfError(OCF.ERR_GENERIC, `${what}: ${describeResult(r)}`);
    return r;
  }

  private async json<T>(args: string[], what: string): Promise<T> {
    const r = await this.exec(this.ipPath, ['-j', ...args], what);
    if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, `${what}: ${describeResult(r)}`);
    try { return JSON.parse(r.stdout || '[]') as T; } catch {
      throw new OcfError(OCF.ERR_GENERIC, `${what}: unreadable output from ip -j`);
    }
  }

  /** Interfaces (with their addresses) that hold `ip`; every interface when `to` is omitted. */
  addresses(opts: { to?: string; dev?: string } = {}): Promise<Iface[]> {
    const args = ['addr', 'show'];
    if (opts.dev) args.push('dev', opts.dev);
    if (opts.to) args.push('to', opts.to);
    return this.json<Iface[]>(args, 'reading addresses');
  }

  /** Whether a link exists (a vanished nic is a normal state for stop and monitor). */
  async linkExists(dev: string): Promise<boolean> {
    const r = await this.exec(this.ipPath, ['-j', 'link', 'show', 'dev', dev], 'reading links');
    return r.code === 0;
  }

  routes(family: Family, table: 'main' | 'local'): Promise<Route[]> {
    return this.json<Route[]>([`-${family}`, 'route', 'show', 'table', table], `reading ${table} routes`);
  }

  async addAddress(a: { ip: string; prefix: number; nic: string; broadcast?: string; label?: string; preferredLft?: string }): Promise<void> {
    const args = ['addr', 'add', `${a.ip}/${a.prefix}`, 'dev', a.nic];
    if (a.broadcast) args.push('broadcast', a.broadcast);
    if (a.label) args.push('label', a.label);
    if (a.preferredLft) args.push('preferred_lft', a.preferredLft);
    const r = await this.exec(this.ipPath, args, 'adding the address');
    if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, `could not add ${a.ip}/${a.prefix} to ${a.nic}: ${r.stderr.trim()}`);
  }

  /** Remove the address; true when it was there. */
  async delAddress(ip: string, prefix: number, nic: string): Promise<boolean> {
    const r = await this.exec(this.ipPath, ['addr', 'del', `${ip}/${prefix}`, 'dev', nic], 'removing the address');
    if (r.code === 0) return true;
    if (/Cannot assign requested address|Cannot find device|does not exist/i.test(r.stderr)) return false;
    throw new OcfError(OCF.ERR_GENERIC, `could not remove ${ip}/${prefix} from ${nic}: ${r.stderr.trim()}`);
  }

  /** Set the preferred source of the kernel's `local <ip>` route (seed 004). */
  async replaceLocalRoute(family: Family, ip: string, nic: string, src: string): Promise<void> {
    const r = await this.exec(this.ipPath, [`-${family}`, 'route', 'replace', 'table', 'local', 'local', ip,
      'dev', nic, 'proto', 'kernel', 'scope', 'host', 'src', src], 'changing the local route');
    if (r.code !== 0) throw new OcfError(OCF.ERR_GENERIC, `could not set the source of the local route of ${ip} to ${src}: ${r.stderr.trim()}`);
  }

  /** Delete every `local <ip>` route in table local; returns how many were removed. */
  async deleteLocalRoutes(family: Family, ip: string): Promise<number> {
    let n = 0;
    // Normally there is none or one; a few rounds in case a failed earlier stop left duplicates.
    for (let i = 0; i < 4; i++) {
      const r = await this.exec(this.ipPath, [`-${family}`, 'route', 'del', 'table', 'local', 'local', ip], 'removing the local route');
      if (r.code !== 0) break;
      n++;
    }
    return n;
  }

  /**
   * Destroy TCP sockets whose local or remote address is `ip` (ss -K, kernel SOCK_DESTROY): the
   * kernel sends a reset to the peer, so remote clients reconnect at once instead of waiting for
   * retransmission timeouts. Returns false when the kernel lacks CONFIG_INET_DIAG_DESTROY.
   */
  async killSockets(ip: string, family: Family): Promise<boolean> {
    // Dual-stack listeners hold IPv4 connections as IPv4-mapped IPv6 sockets: match both forms.
    const forms = family === 6 ? [`[${ip}]`] : [ip, `[::ffff:${ip}]`];
    const filter = ['('];
    for (const f of forms) filter.push(...(filter.length > 1 ? ['or'] : []), 'src', f, 'or', 'dst', f);
    filter.push(')');
    const r = await this.exec('ss', ['-K', '-n', '-t', ...filter], 'dropping connections');
    return r.code === 0;
  }
}

/** Ask the kernel to send an unsolicited neighbour advertisement once DAD completes for new addresses. */
export function enableNdiscNotify(nic: string): boolean {
  const p = `/proc/sys/net/ipv6/conf/${nic}/ndisc_notify`;
  try {
    if (readFileSync(p, 'utf8').trim() !== '1') writeFileSync(p, '1');
    return true;
  } catch { return false; }
}
