// Server answers turned into one shape for every flavour. MariaDB and MySQL before 8.0.22 name
// the replica status columns Master_*/Slave_*, MySQL 8.0.22+ Source_*/Replica_*; the values mean
// the same, so we read whichever name is present. Pure: tested against recorded answers.
export type Row = Record<string, unknown>;

export interface ServerState {
  readOnly: boolean;
  superReadOnly: boolean;
  serverId: number;
  /** MariaDB gtid_current_pos / MySQL gtid_executed: what this server holds. */
  gtidExecuted: string;
  /** MariaDB only: gtid_binlog_pos and gtid_slave_pos. */
  gtidBinlog?: string;
  gtidSlave?: string;
  serverUuid?: string;
  version: string;
}

export type IoState = 'running' | 'connecting' | 'stopped';

export interface ReplicaStatus {
  sourceHost: string;
  sourcePort: number;
  sourceUser: string;
  io: IoState;
  sqlRunning: boolean;
  ioErrno: number;
  ioError: string;
  sqlErrno: number;
  sqlError: string;
  /** Seconds_Behind_Master/Source; null when the server cannot tell (SQL thread stopped, ...). */
  secondsBehind: number | null;
  /** Coordinates on the source of what was received and of what was applied. */
  readFile: string;
  readPos: number;
  execFile: string;
  execPos: number;
  /** MariaDB: Using_Gtid (Current_Pos/Slave_Pos/No); MySQL: Auto_Position 1 -> "Auto". */
  gtidMode: string;
  /** MariaDB Gtid_IO_Pos / MySQL Retrieved_Gtid_Set. */
  retrievedGtid: string;
  sourceServerId: number;
  sqlState: string;
  /** Where the SQL thread is in this replica's own relay log. */
  relayFile: string;
  relayPos: number;
}

function pick(row: Row, ...names: string[]): unknown {
  for (const n of names) if (n in row) return row[n];
  return undefined;
}
const str = (v: unknown): string => (v === null || v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
const num = (v: unknown, dflt = 0): number => {
  if (v === null || v === undefined || v === '') return dflt;
  const n = Number(str(v));
  return Number.isFinite(n) ? n : dflt;
};
/** read_only is 0/1 on MySQL and MariaDB 10.x, ON/OFF or an enum (NO_LOCK, ...) on newer MariaDB. */
export function truthy(v: unknown): boolean {
  const s = str(v).trim().toUpperCase();
  return !(s === '' || s === '0' || s === 'OFF' || s === 'FALSE' || s === 'NO');
}

export function parseState(row: Row | undefined): ServerState {
  if (!row) throw new Error('the server returned no row for its state');
  const gtidCurrent = pick(row, 'gtid_current', 'gtid_executed');
  return {
    readOnly: truthy(row.read_only),
    superReadOnly: truthy(row.super_read_only),
    serverId: num(row.server_id),
    gtidExecuted: str(gtidCurrent).replace(/\s+/g, ''),
    gtidBinlog: 'gtid_binlog' in row ? str(row.gtid_binlog) : undefined,
    gtidSlave: 'gtid_slave' in row ? str(row.gtid_slave) : undefined,
    serverUuid: 'server_uuid' in row ? str(row.server_uuid) : undefined,
    version: str(row.version),
  };
}

function ioState(v: unknown): IoState {
  const s = str(v).trim().toLowerCase();
  if (s === 'yes') return 'running';
  if (s === 'connecting' || s === 'preparing') return 'connecting';
  return 'stopped';
}

/** One row of SHOW SLAVE/REPLICA STATUS (the default connection), or undefined when none. */
export function parseReplicaStatus(rows: readonly Row[]): ReplicaStatus | undefined {
  // MariaDB multi-source: the default connection has an empty Connection_name.
  const row = rows.find((r) => str(r.Connection_name) === '') ?? rows[0];
  if (!row) return undefined;
  const autoPos = pick(row, 'Auto_Position');
  const gtidMode = 'Using_Gtid' in row ? str(row.Using_Gtid) : num(autoPos) === 1 ? 'Auto' : 'No';
  const sb = pick(row, 'Seconds_Behind_Master', 'Seconds_Behind_Source');
  return {
    sourceHost: str(pick(row, 'Master_Host', 'Source_Host')),
    sourcePort: num(pick(row, 'Master_Port', 'Source_Port')),
    sourceUser: str(pick(row, 'Master_User', 'Source_User')),
    io: ioState(pick(row, 'Slave_IO_Running', 'Replica_IO_Running')),
    sqlRunning: str(pick(row, 'Slave_SQL_Running', 'Replica_SQL_Running')).toLowerCase() === 'yes',
    ioErrno: num(row.Last_IO_Errno),
    ioError: str(row.Last_IO_Error),
    sqlErrno: num(row.Last_SQL_Errno),
    sqlError: str(row.Last_SQL_Error),
    secondsBehind: sb === null || sb === undefined || sb === '' ? null : num(sb),
    readFile: str(pick(row, 'Master_Log_File', 'Source_Log_File')),
    readPos: num(pick(row, 'Read_Master_Log_Pos', 'Read_Source_Log_Pos')),
    execFile: str(pick(row, 'Relay_Master_Log_File', 'Relay_Source_Log_File')),
    execPos: num(pick(row, 'Exec_Master_Log_Pos', 'Exec_Source_Log_Pos')),
    gtidMode,
    retrievedGtid: str(pick(row, 'Gtid_IO_Pos', 'Retrieved_Gtid_Set')).replace(/\s+/g, ''),
    sourceServerId: num(pick(row, 'Master_Server_Id', 'Source_Server_Id')),
    sqlState: str(pick(row, 'Slave_SQL_Running_State', 'Replica_SQL_Running_State')),
    relayFile: str(row.Relay_Log_File),
    relayPos: num(row.Relay_Log_Pos),
  };
}

/**
 * Has the replica received events it has not applied yet? Compares the source coordinates of the
 * IO thread (received) and the SQL thread (applied); both flavours report them.
 */
export function hasPending(s: ReplicaStatus): boolean {
  if (!s.readFile) return false;
  if (s.readFile !== s.execFile) return true;
  return s.readPos > s.execPos;
}

export interface PositionsRow {
  executed: string;
  binlogState: string;
  readOnly: boolean;
  superReadOnly: boolean;
}

/** The `positions` row of a flavour (local or remote server). */
export function parsePositionsRow(row: Row | undefined): PositionsRow {
  if (!row) throw new Error('the server returned no row for its GTID positions');
  return {
    executed: str(row.executed).replace(/\s+/g, ''),
    binlogState: str(row.binlog_state).replace(/\s+/g, ''),
    readOnly: truthy(row.read_only),
    superReadOnly: truthy(row.super_read_only),
  };
}

/** SHOW STATUS / SHOW VARIABLES rows as a name -> value map (names lower-cased). */
export function statusMap(rows: readonly Row[]): Map<string, string> {
  return new Map(rows.map((r) => [str(r.Variable_name).toLowerCase(), str(r.Value)]));
}
