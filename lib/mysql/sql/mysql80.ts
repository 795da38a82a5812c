// MySQL 8.0.23 to 8.3: SOURCE/REPLICA statements (the MASTER/SLAVE forms still exist but are
// deprecated), GTID sets with auto-positioning, super_read_only.
import type { FlavourSql, SourceSpec, Statement } from './types.ts';

export const MYSQL_CLIENT_SESSIONS = `SELECT ID AS id FROM information_schema.PROCESSLIST
 WHERE ID <> CONNECTION_ID()
   AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Killed')
   AND USER NOT IN ('system user', 'event_scheduler', 'unauthenticated user')`;

export function mysqlChangeSource(s: SourceSpec): Statement {
  const parts = ['SOURCE_HOST = ?', 'SOURCE_PORT = ?', 'SOURCE_USER = ?', 'SOURCE_PASSWORD = ?',
    'SOURCE_AUTO_POSITION = 1', 'SOURCE_CONNECT_RETRY = ?'];
  const values: unknown[] = [s.host, s.port, s.user, s.password, s.connectRetrySeconds ?? 5];
  if (s.tls) {
    parts.push('SOURCE_SSL = 1', 'SOURCE_SSL_VERIFY_SERVER_CERT = 1');
    if (s.tls.ca) { parts.push('SOURCE_SSL_CA = ?'); values.push(s.tls.ca); }
    if (s.tls.cert) { parts.push('SOURCE_SSL_CERT = ?'); values.push(s.tls.cert); }
    if (s.tls.key) { parts.push('SOURCE_SSL_KEY = ?'); values.push(s.tls.key); }
  } else {
    // caching_sha2_password (the default) needs TLS or the source's RSA key for the first login.
    parts.push('SOURCE_SSL = 0', 'GET_SOURCE_PUBLIC_KEY = 1');
  }
  return { sql: `CHANGE REPLICATION SOURCE TO ${parts.join(', ')}`, values };
}

export const mysql80Sql: FlavourSql = {
  name: 'mysql80',
  state: `SELECT @@read_only AS read_only, @@super_read_only AS super_read_only, @@server_id AS server_id,
 @@gtid_executed AS gtid_executed, @@server_uuid AS server_uuid, @@version AS version`,
  replicaStatus: 'SHOW REPLICA STATUS',
  stopReplica: 'STOP REPLICA',
  stopReplicaIo: 'STOP REPLICA IO_THREAD',
  replicaIoSessions: `SELECT PROCESSLIST_ID AS id FROM performance_schema.threads
 WHERE NAME IN ('thread/sql/replica_io', 'thread/sql/slave_io') AND PROCESSLIST_ID IS NOT NULL`,
  startReplicaSql: 'START REPLICA SQL_THREAD',
  startReplica: 'START REPLICA',
  resetReplicaAll: 'RESET REPLICA ALL',
  changeSource: mysqlChangeSource,
  keepRelayLog: () => [],
  // super_read_only=ON implies read_only=ON and also stops accounts with SUPER/CONNECTION_ADMIN.
  readOnly: ['SET GLOBAL super_read_only = ON'],
  writable: ['SET GLOBAL super_read_only = OFF', 'SET GLOBAL read_only = OFF'],
  clientSessions: MYSQL_CLIENT_SESSIONS,
  kill: (id) => `KILL CONNECTION ${Math.trunc(id)}`,
  binlogStatus: 'SHOW MASTER STATUS',
  readOnlyNote: 'super_read_only blocks every account, administrators included.',
  positions: `SELECT @@gtid_executed AS executed, '' AS binlog_state, @@read_only AS read_only, @@super_read_only AS super_read_only`,
  // The semisync_source/semisync_replica plugins (8.0.26+ names; the option file loads them):
  // without them these variables do not exist and enabling fails with the server's reason.
  semisyncPrimary: (enabled, timeoutMs) => (enabled ? [
    { name: 'rpl_semi_sync_source_wait_point', value: 'AFTER_SYNC' },
    { name: 'rpl_semi_sync_source_timeout', value: String(Math.max(1, Math.trunc(timeoutMs))) },
    { name: 'rpl_semi_sync_source_enabled', value: 'ON' },
  ] : [{ name: 'rpl_semi_sync_source_enabled', value: 'OFF' }]),
  semisyncReplica: (enabled) => [
    { name: 'rpl_semi_sync_source_enabled', value: 'OFF' },
    { name: 'rpl_semi_sync_replica_enabled', value: enabled ? 'ON' : 'OFF' },
  ],
  semisyncVariables: "SHOW GLOBAL VARIABLES LIKE 'rpl\\_semi\\_sync\\_%'",
  semisyncStatus: "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_%'",
};
