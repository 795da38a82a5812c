// One RMCP presence ping (the ASF "are you there" every IPMI LAN interface answers), used only
// after ipmitool got nothing sensible back, to tell the operator what is at the address:
// nothing (ICMP port unreachable), something that is not a BMC, a BMC that will not open an
// IPMI session, or silence. node:dgram is imported statically: it costs about 0.4 ms, and a
// dynamic import() of a builtin does not work inside the bundles' vm.Script loader.
import { createSocket } from 'node:dgram';

export interface ProbeResult { kind: 'refused' | 'rmcp' | 'garbage' | 'silent' | 'error'; detail?: string }

// RMCP v1.0, sequence 0xff (no ACK), class ASF; ASF IANA 4542, type presence ping, tag 0x56.
const PING = Buffer.from([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x56, 0x00, 0x00]);

/** Is this an RMCP packet (ASF pong or IPMI)? */
export function isRmcp(m: Buffer): boolean {
  return m.length >= 4 && m[0] === 0x06 && m[1] === 0x00 && ((m[3]! & 0x1f) === 0x06 || (m[3]! & 0x1f) === 0x07);
}

export async function probeRmcp(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  if (timeoutMs <= 0) return { kind: 'silent' };
  return new Promise<ProbeResult>((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try { sock.close(); } catch { /* already closed */ }
      resolve(r);
    };
    const onAbort = () => finish({ kind: 'silent' });
    const timer = setTimeout(() => finish({ kind: 'silent' }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // A connected UDP socket is told about ICMP port unreachable (ECONNREFUSED).
    sock.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNREFUSED'
      ? { kind: 'refused' } : { kind: 'error', detail: e.code ?? e.message }));
    sock.on('message', (m: Buffer) => finish(isRmcp(m)
      ? { kind: 'rmcp' }
      : { kind: 'garbage', detail: `${m.length} bytes starting ${m.subarray(0, 8).toString('hex')}` }));
    try {
      sock.connect(port, host, () => sock.send(PING));
    } catch (e) {
      finish({ kind: 'error', detail: (e as Error).message });
    }
  });
}
