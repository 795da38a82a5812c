// The statements a flavour must provide. A statement with values is a { sql, values } pair: the
// client escapes the values in-process, so a password travels only inside the protocol, never in
// argv, a log line or an exception message (the client wrapper strips `sql` from its errors).
export interface Statement { sql: string; values?: readonly unknown[] }

export interface SourceSpec {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Require TLS on the replication link; ca/cert/key are file paths on the replica. */
  tls?: { ca?: string; cert?: string; key?: string };
  connectRetrySeconds?: number;
}

export interface FlavourSql {
  readonly name: 'mariadb' | 'mysql80' | 'mysql84';
  /** The one-row state the monitor needs: read_only, GTID position, server id. */
  readonly state: string;
  /** Replica status; zero rows when no source is configured. */
  readonly replicaStatus: string;
  readonly stopReplica: string;
  readonly stopReplicaIo: string;
  /**
   * Session ids of the replication receiver (IO) thread. Stopping it while its source has vanished
   * took MariaDB 1-2 s in the lab; ending its session first shortens that (see stopReceiving).
   */
  readonly replicaIoSessions: string;
  readonly startReplicaSql: string;
  readonly startReplica: string;
  readonly resetReplicaAll: string;
  changeSource(s: SourceSpec): Statement;
  /**
   * Before restarting an applier whose two threads are both stopped: statements that keep the relay
   * log it has not applied yet. MariaDB in GTID mode discards relay logs when a thread starts with
   * both stopped (it means to fetch again from its GTID position, which a dead primary cannot
   * serve); pointing it at its own relay-log position without GTID keeps them. MySQL keeps them.
   */
  keepRelayLog(relayFile: string, relayPos: number): Statement[];
  /** Statements that make the server refuse client writes, strongest first. */
  readonly readOnly: readonly string[];
  /** Statements that make it writable again, in order. */
  readonly writable: readonly string[];
  /**
   * Session ids of client connections that a demote must end: everything except this session,
   * replication threads (ours and the dump threads serving replicas) and system threads.
   */
  readonly clientSessions: string;
  kill(id: number): string;
  /** Binary log coordinates of this server as a source (SHOW MASTER/BINARY LOG STATUS). */
  readonly binlogStatus: string;
  /** Read-only check the server itself enforces on the monitoring session, for the docs. */
  readonly readOnlyNote: string;
  /**
   * One row: executed (MariaDB gtid_current_pos, MySQL gtid_executed), binlog_state (MariaDB
   * gtid_binlog_state, empty on MySQL), read_only, super_read_only. Runs on local and remote servers.
   */
  readonly positions: string;
  /** Global variables that make this server a semi-sync primary (enabled) or a plain one, in order. */
  semisyncPrimary(enabled: boolean, timeoutMs: number): readonly Setting[];
  /** The same for a semi-sync replica (enabled) or a plain one; in effect when its IO thread starts. */
  semisyncReplica(enabled: boolean): readonly Setting[];
  /** Rows of Variable_name/Value: the semi-sync variables (only those that differ are set). */
  readonly semisyncVariables: string;
  /** Rows of Variable_name/Value: the semi-sync status counters. */
  readonly semisyncStatus: string;
}

/** A global variable and the value it must have (as SHOW VARIABLES prints it). */
export interface Setting { readonly name: string; readonly value: string }

/** SET GLOBAL for a setting; names and values come from the flavour modules, never from users. */
export const setGlobal = (s: Setting): string => `SET GLOBAL ${s.name} = ${/^\d+$/.test(s.value) ? s.value : `'${s.value}'`}`;
