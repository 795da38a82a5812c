// Pure address arithmetic for IPv4 and IPv6: parsing, canonical forms, prefix membership.
// No I/O here; everything that asks the kernel lives in ip.ts.
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

export function ipFamily(s: string): Family | undefined {
  if (isIPv4(s)) return 4;
  if (isIPv6(s) && !s.includes('%')) return 6;
  return undefined;
}

/** Expand an address into its bytes (4 or 16). */
export function ipBytes(s: string): number[] {
  const fam = ipFamily(s);
  if (fam === 4) return s.split('.').map(Number);
  if (fam !== 6) throw new Error(`not an IP address: ${s}`);
  let text = s;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) { // IPv4-mapped tail, e.g. ::ffff:192.0.2.1
    tail = text.slice(lastColon + 1).split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest === undefined ? 0 : 8 - h.length - r.length;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...r].map((g) => parseInt(g, 16));
  const bytes = groups.flatMap((g) => [(g >> 8) & 0xff, g & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The canonical text of an address (RFC 5952 for IPv6), so "2001:DB8:0::1" equals "2001:db8::1". */
export function canonicalIp(s: string): string {
  const fam = ipFamily(s);
  if (fam === 4) return s;
  if (fam !== 6) throw new Error(`not an IP address: ${s}`);
  const b = ipBytes(s);
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  // Longest run of two or more zero groups becomes "::" (first one on ties).
  let best = -1; let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i; while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function sameIp(a: string, b: string): boolean {
  const fa = ipFamily(a); const fb = ipFamily(b);
  return fa !== undefined && fa === fb && canonicalIp(a) === canonicalIp(b);
}

export function maxPrefix(f: Family): number { return f === 4 ? 32 : 128; }

/** Whether `ip` lies inside `net/prefix` (same family only). */
export function inPrefix(ip: string, net: string, prefix: number): boolean {
  const f = ipFamily(ip);
  if (f === undefined || f !== ipFamily(net)) return false;
  const a = ipBytes(ip); const b = ipBytes(net);
  let bits = prefix;
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

/** Accept a prefix length ("24") or, for IPv4, a dotted netmask ("255.255.255.0"). */
export function parsePrefix(s: string, f: Family): number | undefined {
  if (/^\d{1,3}$/.test(s)) {
    const n = Number(s);
    return n >= 0 && n <= maxPrefix(f) ? n : undefined;
  }
  if (f === 4 && isIPv4(s)) {
    const bits = ipBytes(s).map((x) => x.toString(2).padStart(8, '0')).join('');
    return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
  }
  return undefined;
}

/** Linux interface names: 1-15 bytes, no slash, no whitespace; we also refuse shell metacharacters. */
export function validInterfaceName(s: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(s);
}

export const MAC_RE = /([0-9a-f]{2}(?::[0-9a-f]{2}){5})/i;
