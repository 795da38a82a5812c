// TLS for a SQL session over TCP: what mysql2 is given, and what a refused handshake is called.
// Verification is not optional here: a session that asked for TLS either proves the server's
// certificate (chain to the CA, and the name or address that was dialled) or does not start, and
// nothing is sent on it before that (mysql2 sends the credentials after the handshake).

/** The PEM material of a TLS session. Contents, not paths: never log them. */
export interface TlsMaterial {
  /** CAs that may sign the server's certificate; absent: the system's trusted CAs. */
  ca?: Buffer;
  /** Client certificate and key, for servers or accounts that ask for one (REQUIRE X509). */
  cert?: Buffer;
  key?: Buffer;
}

/** mysql2's `ssl` option for `material`: the chain and the server's identity are both checked. */
export function mysql2Ssl(material: TlsMaterial): Record<string, unknown> {
  return {
    ca: material.ca, cert: material.cert, key: material.key,
    rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2',
  };
}

/**
 * What a failed TLS session means, from mysql2's error (it replaces Node's code by its own), or
 * undefined when the failure was not TLS's. Pure.
 */
export function describeTlsFailure(code: string | undefined, message: string): string | undefined {
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') return 'TLS refused: the server does not offer TLS (it has no ssl_cert/ssl_key), and this session requires it';
  if (code !== 'HANDSHAKE_SSL_ERROR') return undefined;
  if (/altnames|does not match certificate|hostname mismatch/i.test(message)) {
    return `TLS refused: the server's certificate is not issued for the address dialled (${message})`;
  }
  if (/certificate|self[- ]signed|issuer|verify|expired|not yet valid/i.test(message)) {
    return `TLS refused: the server's certificate does not verify against the CA (${message})`;
  }
  return `TLS handshake failed (${message})`;
}
