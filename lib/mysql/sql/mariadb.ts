// MariaDB 10.6+: MASTER/SLAVE statements, domain-server-sequence GTIDs, no super_read_only.
//
// MASTER_USE_GTID=current_pos (not slave_pos) on purpose: for a former primary, current_pos
// includes the transactions it wrote itself, so it resumes after them instead of asking for them
// again; for a pure replica (log_slave_updates) both positions are the same. A replica holding
// writes of its own that the source lacks then stops with error 1236, which grades FAIL: the
// agent surfaces errant transactions instead of silently skipping them.
import type { FlavourSql, SourceSpec, Statement } from './types.ts';

const CLIENT_SESSIONS = `SELECT ID AS id FROM information_schema.PROCESSLIST
 WHERE ID <> CONNECTION_ID()
   AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Slave_IO', 'Slave_SQL', 'Slave_worker', 'Daemon', 'Killed')
   AND USER NOT IN ('system user', 'event_scheduler', 'unauthenticated user')`;

function changeSource(s: SourceSpec): Statement {
  const parts = ['MASTER_HOST = ?', 'MASTER_PORT = ?', 'MASTER_USER = ?', 'MASTER_PASSWORD = ?',
    'MASTER_USE_GTID = current_pos', 'MASTER_CONNECT_RETRY = ?'];
  const values: unknown[] = [s.host, s.port, s.user, s.password, s.connectRetrySeconds ?? 5];
  if (s.tls) {
    parts.push('MASTER_SSL = 1', 'MASTER_SSL_VERIFY_SERVER_CERT = 1');
    if (s.tls.ca) { parts.push('MASTER_SSL_CA = ?'); values.push(s.tls.ca); }
    if (s.tls.cert) { parts.push('MASTER_SSL_CERT = ?'); values.push(s.tls.cert); }
    if (s.tls.key) { parts.push('MASTER_SSL_KEY = ?'); values.push(s.tls.key); }
  } else {
    parts.push('MASTER_SSL = 0');
  }
  return { sql: `CHANGE MASTER TO ${parts.join(', ')}`, values };
}

export const mariadbSql: FlavourSql = {
  name: 'mariadb',
  state: `SELECT @@read_only AS read_only, 0 AS super_read_only, @@server_id AS server_id,
 @@gtid_current_pos AS gtid_current, @@gtid_binlog_pos AS gtid_binlog, @@gtid_slave_pos AS gtid_slave, @@version AS version`,
  replicaStatus: 'SHOW SLAVE STATUS',
  stopReplica: 'STOP SLAVE',
  stopReplicaIo: 'STOP SLAVE IO_THREAD',
  replicaIoSessions: "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE COMMAND = 'Slave_IO'",
  startReplicaSql: 'START SLAVE SQL_THREAD',
  startReplica: 'START SLAVE',
  resetReplicaAll: 'RESET SLAVE ALL',
  changeSource,
  keepRelayLog: (file, pos) => [{ sql: 'CHANGE MASTER TO MASTER_USE_GTID = no, RELAY_LOG_FILE = ?, RELAY_LOG_POS = ?', values: [file, Math.trunc(pos)] }],
  readOnly: ['SET GLOBAL read_only = ON'],
  writable: ['SET GLOBAL read_only = OFF'],
  clientSessions: CLIENT_SESSIONS,
  kill: (id) => `KILL CONNECTION ${Math.trunc(id)}`,
  binlogStatus: 'SHOW MASTER STATUS',
  readOnlyNote: 'MariaDB has no super_read_only: accounts with READ_ONLY ADMIN (or SUPER) can still write; demote therefore ends their sessions too.',
  positions: `SELECT @@gtid_current_pos AS executed, @@gtid_binlog_state AS binlog_state, @@read_only AS read_only, 0 AS super_read_only`,
  // Semi-sync is built into MariaDB 10.3+. AFTER_SYNC: a transaction becomes visible on the
  // primary only once a replica has acknowledged it, so nobody reads a commit a failover loses.
  semisyncPrimary: (enabled, timeoutMs) => (enabled ? [
    { name: 'rpl_semi_sync_master_wait_point', value: 'AFTER_SYNC' },
    { name: 'rpl_semi_sync_master_timeout', value: String(Math.max(1, Math.trunc(timeoutMs))) },
    { name: 'rpl_semi_sync_master_enabled', value: 'ON' },
  ] : [{ name: 'rpl_semi_sync_master_enabled', value: 'OFF' }]),
  // A semi-sync replica whose IO thread stops logs in to its source to end the dump thread there,
  // waiting up to kill_conn_timeout (default 5 s) when the source is gone: that wait held the
  // recovery after a power-off for 2 s in the lab. A LAN login takes milliseconds; if it fails,
  // the source ends the old dump thread anyway when this replica connects again.
  semisyncReplica: (enabled) => [
    { name: 'rpl_semi_sync_master_enabled', value: 'OFF' },
    ...(enabled ? [{ name: 'rpl_semi_sync_slave_kill_conn_timeout', value: '1' }] : []),
    { name: 'rpl_semi_sync_slave_enabled', value: enabled ? 'ON' : 'OFF' },
  ],
  semisyncVariables: "SHOW GLOBAL VARIABLES LIKE 'rpl\\_semi\\_sync\\_%'",
  semisyncStatus: "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_%'",
};
