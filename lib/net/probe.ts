// Asking the segment who answers for an address, and telling it that we do now.
//
// IPv4: `arping -D` sends an ARP probe from 0.0.0.0 (RFC 5227), which no host mistakes for a claim
// and which our own kernel does not answer, so it works both before we add the address and while
// we hold it (to find a second holder). iputils arping only takes whole seconds for its wait, so
// the probe's length is set by our own timer: arping exits at once with status 1 on the first
// reply, and a probe still waiting when our budget ends has heard nobody.
// IPv6: `ndisc6` (package ndisc6) sends a neighbour solicitation and prints the link-layer address
// of every answer; our own kernel does not answer it. The kernel's DAD still runs on add.
import { spawn } from 'node:child_process';
import type { Runner } from '../exec.ts';
import { MAC_RE, type Family } from './addr.ts';

export interface ProbeResult {
  /** False when the probe could not run (tool missing, interface gone); `note` says why. */
  checked: boolean;
  /** Link-layer addresses of other hosts that answered for the address. */
  holders: string[];
  note?: string;
}

/** MAC addresses in arping or ndisc6 output, lower-case, without duplicates. */
export function parseProbeMacs(out: string): string[] {
  const macs = new Set<string>();
  for (const line of out.split('\n')) {
    if (!/reply from|link-layer address/i.test(line)) continue;
    const m = MAC_RE.exec(line);
    if (m?.[1]) macs.add(m[1].toLowerCase());
  }
  return [...macs];
}

export async function probeDuplicate(
  runner: Runner, a: { family: Family; ip: string; nic: string; timeoutMs: number; signal?: AbortSignal; ownMacs?: string[] },
): Promise<ProbeResult> {
  const own = new Set((a.ownMacs ?? []).map((m) => m.toLowerCase()));
  if (a.family === 4) {
    // Two probes a third of the window apart, so one lost packet does not hide a holder.
    const one = async (delayMs: number) => {
      if (delayMs) await new Promise((res) => setTimeout(res, delayMs));
      return runner('arping', ['-D', '-I', a.nic, '-c', '2', '-w', '2', a.ip],
        { timeoutMs: Math.max(50, a.timeoutMs - delayMs), signal: a.signal });
    };
    const results = await Promise.all([one(0), one(Math.floor(a.timeoutMs / 3))]);
    const holders = new Set<string>();
    for (const r of results) {
      if (r.spawnError) return { checked: false, holders: [], note: `arping is not installed (${r.spawnError})` };
      if (r.timedOut || r.code === 0) continue;
      if (r.code === 1 && /reply from/i.test(r.stdout)) {
        for (const m of parseProbeMacs(r.stdout)) if (!own.has(m)) holders.add(m);
        continue;
      }
      return { checked: false, holders: [], note: `arping failed: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? ''}` };
    }
    return { checked: true, holders: [...holders] };
  }
  const waitMs = Math.max(100, a.timeoutMs - 50);
  const r = await runner('ndisc6', ['-m', '-n', '-r', '1', '-w', String(waitMs), a.ip, a.nic],
    { timeoutMs: a.timeoutMs + 200, signal: a.signal });
  if (r.spawnError) return { checked: false, holders: [], note: `ndisc6 is not installed (${r.spawnError})` };
  if (r.timedOut || r.code === 2) return { checked: true, holders: [] };
  if (r.code === 0) return { checked: true, holders: parseProbeMacs(r.stdout).filter((m) => !own.has(m)) };
  return { checked: false, holders: [], note: `ndisc6 failed: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? ''}` };
}

/**
 * Send one gratuitous ARP (an unsolicited ARP request from the address to itself) and leave it
 * running detached: the packet leaves at once, arping then only waits for replies that a
 * gratuitous ARP never gets. Start does not wait for it.
 */
export function sendGratuitousArp(ip: string, nic: string): void {
  try {
    const c = spawn('arping', ['-U', '-c', '1', '-w', '1', '-I', nic, '-s', ip, ip], { stdio: 'ignore', detached: true });
    c.on('error', () => { /* reported by validate-all (arping missing) */ });
    c.unref();
  } catch { /* ignore */ }
}
