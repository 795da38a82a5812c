// Deciding whether the host key an SSH server presents is the one we expect. Pure: the caller
// reads the known_hosts file and hands its text in, and gets back a verdict with a reason an
// operator can act on (the presented fingerprint, the known_hosts lines that disagree).
//
// known_hosts as OpenSSH writes and reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
//   [marker] hostpatterns keytype base64-key [comment]
// - hostpatterns: comma-separated; `*` and `?` wildcards; a leading `!` negates (a host matching a
//   negated pattern is never matched by that line); `[host]:port` for ports other than 22;
//   `|1|salt|hash` is a hashed name (HMAC-SHA1 of the name, keyed with the salt).
// - marker `@revoked`: that key must never be accepted, for any host the line matches.
// - marker `@cert-authority`: a CA for host certificates. We do not accept certificates, so those
//   lines are skipped (and said so in the reason when nothing else matches).
// Unlike OpenSSH there is no "ask" and no "accept new": an unknown or different key is refused.
import { createHash, createHmac } from 'node:crypto';

/** "SHA256:<base64 without padding>", as ssh-keygen -l and OpenSSH's warnings print it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type inside an SSH public key blob (its first string), e.g. "ssh-ed25519". */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** A pinned fingerprint must look like what ssh-keygen -lf prints: SHA256: and 43 base64 characters. */
export const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Split a host_key option value (one or more fingerprints, separated by commas or spaces). */
export function parsePins(value: string): { pins: string[]; bad: string[] } {
  const words = value.split(/[\s,]+/).filter(Boolean);
  return { pins: words.filter((w) => FINGERPRINT_RE.test(w)), bad: words.filter((w) => !FINGERPRINT_RE.test(w)) };
}

/** The algorithms that can present a key of this type (what we offer in the key exchange). */
export function algorithmsForKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}

export interface KnownHostLine {
  line: number;
  marker?: 'revoked' | 'cert-authority';
  patterns: string;
  keyType: string;
  key: Buffer;
}

/** Every usable line; comments, blank and malformed lines are skipped (their numbers kept). */
export function parseKnownHosts(text: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const words = line.split(/\s+/);
    let marker: KnownHostLine['marker'];
    if (words[0]?.startsWith('@')) {
      const m = words.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [patterns, keyType, b64] = words;
    if (!patterns || !keyType || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    // A line whose key does not say its own type is corrupt: ignore it rather than trust it.
    if (blobKeyType(key) !== keyType) continue;
    out.push({ line: i + 1, ...(marker ? { marker } : {}), patterns, keyType, key });
  }
  return out;
}

/** The name known_hosts files use for host:port ("[host]:port" unless the port is 22). */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return port === 22 ? h : `[${h}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(pattern: string, name: string): boolean {
  const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(pattern);
  if (!m) return false;
  const mac = createHmac('sha1', Buffer.from(m[1]!, 'base64')).update(name).digest();
  return mac.equals(Buffer.from(m[2]!, 'base64'));
}

/** Does this line's host field name `name` (already in knownHostsName form)? */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatches(patterns, name);
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p === '') continue;
    const negated = p.startsWith('!');
    const glob = negated ? p.slice(1) : p;
    if (globToRegExp(glob).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

export type HostKeyVerdict =
  | { ok: true; fingerprint: string; keyType: string; how: string }
  | { ok: false; kind: 'unknown' | 'changed' | 'revoked'; fingerprint: string; keyType: string; reason: string };

export interface HostKeyExpectation {
  host: string;
  port: number;
  /** Fingerprints pinned by the operator; when given, known_hosts is not consulted. */
  pins?: readonly string[];
  /** The known_hosts file: its path (for messages) and text (undefined when missing/unreadable). */
  knownHosts?: { path: string; text?: string; problem?: string };
}

/** Key types known_hosts lists for this host (to offer those algorithms first). */
export function knownKeyTypes(e: HostKeyExpectation): string[] {
  if (e.pins?.length || !e.knownHosts?.text) return [];
  const name = knownHostsName(e.host, e.port);
  const types = parseKnownHosts(e.knownHosts.text)
    .filter((l) => !l.marker && patternsMatch(l.patterns, name)).map((l) => l.keyType);
  return [...new Set(types)];
}

export function verifyHostKey(e: HostKeyExpectation, blob: Buffer): HostKeyVerdict {
  const fp = fingerprint(blob);
  const keyType = blobKeyType(blob) ?? 'unknown-type';
  const presented = `${keyType} ${fp}`;
  const where = knownHostsName(e.host, e.port);
  const pinHint = `host_key=${fp}`;
  if (e.pins && e.pins.length) {
    if (e.pins.includes(fp)) return { ok: true, fingerprint: fp, keyType, how: `pinned host_key ${fp}` };
    return { ok: false, kind: 'changed', fingerprint: fp, keyType,
      reason: `host key of ${where} does not match the pinned host_key (${e.pins.join(', ')}): the server presented ${presented}. `
        + `If the host was reinstalled, verify the new key out of band and pin it (${pinHint})` };
  }
  const kh = e.knownHosts;
  const path = kh?.path ?? 'known_hosts';
  const lines = kh?.text ? parseKnownHosts(kh.text) : [];
  const forHost = lines.filter((l) => patternsMatch(l.patterns, where));
  const revoked = lines.find((l) => l.marker === 'revoked' && l.key.equals(blob));
  if (revoked) {
    return { ok: false, kind: 'revoked', fingerprint: fp, keyType,
      reason: `host key of ${where} is revoked (@revoked, ${path} line ${revoked.line}): the server presented ${presented}` };
  }
  const plain = forHost.filter((l) => !l.marker);
  const same = plain.find((l) => l.key.equals(blob));
  if (same) return { ok: true, fingerprint: fp, keyType, how: `${path} line ${same.line}` };
  if (plain.length) {
    const known = plain.map((l) => `line ${l.line}: ${l.keyType} ${fingerprint(l.key)}`).join('; ');
    return { ok: false, kind: 'changed', fingerprint: fp, keyType,
      reason: `HOST KEY CHANGED for ${where}: the server presented ${presented}, but ${path} has ${known}. `
        + 'Someone may be intercepting the connection, or the host was reinstalled; verify the new key out of band, '
        + `then replace the line or pin it (${pinHint})` };
  }
  const missing = kh?.text === undefined ? ` (${kh?.problem ?? 'file missing'})` : '';
  const ca = forHost.some((l) => l.marker === 'cert-authority') ? '; @cert-authority lines are not used (host certificates are not supported)' : '';
  return { ok: false, kind: 'unknown', fingerprint: fp, keyType,
    reason: `unknown host key for ${where}: the server presented ${presented}, which is not in ${path}${missing}${ca}. `
      + `Verify it out of band (ssh-keygen -lf on the host), then add it to known_hosts or pin it (${pinHint})` };
}
