// A throwaway certificate authority for TLS tests, made with openssl (argument arrays, no shell):
// a CA, a server certificate it signs for a list of names and addresses, a client certificate, and
// a second, unrelated CA whose trust must get nobody in. EC P-256 keys: generated in milliseconds.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../lib/exec.ts';

export interface Pki {
  dir: string;
  /** The CA that signed server and client, and its key (serverCertificate signs more). */
  ca: string;
  caKey: string;
  /** Another CA, which signed nothing here. */
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed (${r.code}): ${r.stderr.slice(-600)}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await openssl(['req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

async function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, ext: string[]): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, [...ext, ''].join('\n'));
  await openssl(['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', extFile]);
  return { cert, key };
}

/**
 * The PKI in `dir` (created). `serverNames` go into the server certificate's subjectAltName
 * (IP:127.0.0.1, DNS:db.example). Every file is world-readable: the servers run as mysql, and
 * the directory is a test's private temporary one.
 */
export async function makePki(dir: string, serverNames: string[]): Promise<Pki> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const ca = await makeCa(dir, 'vigil-test-ca');
  const other = await makeCa(dir, 'vigil-other-ca');
  const server = await makeLeaf(dir, 'server', ca, [`subjectAltName=${serverNames.join(',')}`, 'extendedKeyUsage=serverAuth']);
  const client = await makeLeaf(dir, 'client', ca, ['extendedKeyUsage=clientAuth']);
  for (const f of [server.key, client.key]) chmodSync(f, 0o644);
  return { dir, ca: ca.cert, caKey: ca.key, otherCa: other.cert, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key };
}

/** Another server certificate from the PKI's CA, for `sans` (subjectAltName entries). */
export async function serverCertificate(pki: Pki, name: string, sans: string[]): Promise<{ cert: string; key: string }> {
  const leaf = await makeLeaf(pki.dir, name, { cert: pki.ca, key: pki.caKey }, [`subjectAltName=${sans.join(',')}`, 'extendedKeyUsage=serverAuth']);
  chmodSync(leaf.key, 0o644);
  return leaf;
}
