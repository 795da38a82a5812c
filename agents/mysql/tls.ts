// TLS for the agent's own sessions with other nodes' servers (the writable-peer guard, the
// switchover wait, the rejoin check, the consistency report): on exactly when the replication link
// uses it (replication_require_ssl), with the same files, so an account that REQUIRE SSL or a
// server with require_secure_transport=ON accepts the agent wherever it accepts the replicas.
// The session on the local server goes through its Unix socket, which require_secure_transport
// accepts without TLS.
import { readFileSync } from 'node:fs';
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import type { TlsMaterial } from '../../lib/mysql/tls.ts';
import type { ParamValues } from '../../lib/ocf/params.ts';
import type { MysqlParams } from './params.ts';

type TlsParams = Pick<ParamValues<MysqlParams>, 'replication_require_ssl' | 'replication_ssl_ca' | 'replication_ssl_cert' | 'replication_ssl_key'>;

/**
 * The TLS material for a session with a peer, or undefined when TLS is not asked for. A file that
 * cannot be read is this node's configuration error (rc 2), named by its parameter; its contents
 * never appear in a message.
 */
export function peerTls(p: TlsParams, read: (path: string) => Buffer = readFileSync): TlsMaterial | undefined {
  if (!p.replication_require_ssl) return undefined;
  if (!p.replication_ssl_cert !== !p.replication_ssl_key) {
    throw new OcfError(OCF.ERR_CONFIGURED, 'replication_ssl_cert and replication_ssl_key go together: set both or neither');
  }
  const load = (param: string, path: string): Buffer | undefined => {
    if (!path) return undefined;
    try { return read(path); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new OcfError(OCF.ERR_ARGS, `${param}: cannot read ${path} (${code})`);
    }
  };
  return {
    ca: load('replication_ssl_ca', p.replication_ssl_ca),
    cert: load('replication_ssl_cert', p.replication_ssl_cert),
    key: load('replication_ssl_key', p.replication_ssl_key),
  };
}
