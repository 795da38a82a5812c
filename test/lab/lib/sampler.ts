// Who holds the VIP, asked every 100 ms from two sides:
//  - each node's own view: is the address configured on one of its interfaces (`ip -o addr`)?
//  - the network's view: which MACs answer an ARP probe for it from the client namespace.
// A split brain is any sample in which two nodes hold it, or two MACs answer one probe.
//
// arping only takes whole seconds for its deadline and interval, so every tick starts its own
// short-lived arping (`-b -c 2 -w 1 -i 2`): exactly one broadcast probe (the next one would be due
// after the deadline), then up to 1 s for replies, which come within a millisecond from every
// holder. Only "Unicast reply" lines count: they answer our probe, while gratuitous announcements
// of a new holder arrive as broadcasts and would blur two moments into one sample. Concurrent
// probes use different source addresses (PROBE_SOURCES): every arping on the interface sees every
// reply to the client's MAC, and arping keeps only those addressed to its own source.
import { run } from '../../../lib/exec.ts';
import { sleep } from '../../../lib/deadline.ts';
import type { Lab } from './lab.ts';
import { PROBE_SOURCES } from './plan.ts';

export interface Sample {
  /** ms since the epoch at which the tick started (both views describe this moment). */
  t: number;
  /** Nodes with the VIP on an interface. */
  holders: string[];
  /** Nodes (by MAC; unknown MACs verbatim) answering an ARP probe for the VIP. */
  arp: string[];
}

/** Node names answering, from arping's output. Pure. */
export function parseArping(out: string, macToNode: ReadonlyMap<string, string>): string[] {
  const seen: string[] = [];
  for (const m of out.matchAll(/^Unicast reply from \S+ \[([0-9A-Fa-f:]{17})\]/gm)) {
    const mac = m[1]!.toLowerCase();
    const who = macToNode.get(mac) ?? mac;
    if (!seen.includes(who)) seen.push(who);
  }
  return seen.sort();
}

/** Does `ip -o addr show` output list `ip` as an address? Pure. */
export function holdsAddress(ipOut: string, ip: string): boolean {
  return ipOut.split('\n').some((l) => new RegExp(`\\sinet6? ${ip.replace(/\./g, '\\.')}/`).test(l));
}

export class VipSampler {
  readonly samples: Sample[] = [];
  private running = false;
  private loop?: Promise<void>;
  private pending = new Set<Promise<void>>();
  private readonly macs: Map<string, string>;
  private ticks = 0;

  constructor(private readonly lab: Lab, readonly vip: string, readonly everyMs = 100) {
    this.macs = new Map(lab.nodes.map((n) => [lab.plan(n).lanMac.toLowerCase(), n]));
  }

  start(): this {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t = Date.now();
        const p = this.tick(t).finally(() => this.pending.delete(p));
        this.pending.add(p);
        await sleep(Math.max(0, t + this.everyMs - Date.now()));
      }
    })();
    return this;
  }

  async stop(): Promise<Sample[]> {
    this.running = false;
    await this.loop;
    await Promise.all([...this.pending]);
    this.samples.sort((a, b) => a.t - b.t);
    return this.samples;
  }

  private async tick(t: number): Promise<void> {
    const views = this.lab.nodes.map(async (n) => {
      const pid = this.lab.nodePid(n);
      if (!pid) return undefined;
      // Only the network namespace, and only for a moment: a process that stayed in it would keep
      // a powered-off node's addresses alive.
      const r = await run('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-o', 'addr', 'show'], { timeoutMs: 2000 });
      return r.code === 0 && holdsAddress(r.stdout, this.vip) ? n : undefined;
    });
    const source = PROBE_SOURCES[this.ticks++ % PROBE_SOURCES.length]!;
    const arp = run('nsenter', [`--net=/run/netns/${this.lab.config.prefix}-client`, 'arping', '-b', '-c', '2', '-w', '1', '-i', '2',
      '-s', source, '-I', 'eth0', this.vip], { timeoutMs: 3000 });
    const holders = (await Promise.all(views)).filter((x): x is string => !!x);
    this.samples.push({ t, holders, arp: parseArping((await arp).stdout, this.macs) });
  }
}

/** Samples in which more than one node held the VIP or answered for it. */
export function splitBrains(samples: readonly Sample[]): Sample[] {
  return samples.filter((s) => s.holders.length > 1 || s.arp.length > 1);
}

/** The first sample at or after `from` where `pred` holds. */
export function firstSample(samples: readonly Sample[], from: number, pred: (s: Sample) => boolean): Sample | undefined {
  return samples.find((s) => s.t >= from && pred(s));
}

export function describeSample(s: Sample, t0 = 0): string {
  return `t=${t0 ? `+${s.t - t0} ms` : new Date(s.t).toISOString()} holders=[${s.holders}] arp=[${s.arp}]`;
}
