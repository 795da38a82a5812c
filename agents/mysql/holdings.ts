// What a server holds, read from the server (local or remote): the position the election and a
// switchover compare (applied plus received), and the history a rejoin compares.
import { parsePositionsRow, parseReplicaStatus, type PositionsRow, type ReplicaStatus } from '../../lib/mysql/status.ts';
import {
  formatPosition, gtidFamily, parseHistory, parsePosition, positionUnion, type GtidFamily, type History, type Position,
} from '../../lib/mysql/position.ts';
import type { LocalSession } from './context.ts';

export interface Holdings {
  family: GtidFamily;
  row: PositionsRow;
  status: ReplicaStatus | undefined;
  /** Applied, plus what the replica received and has not applied yet. */
  position: Position;
  /** Applied only. */
  applied: Position;
  history: History;
}

export async function readHoldings(s: LocalSession): Promise<Holdings> {
  const family = gtidFamily(s.sql.name);
  const [[row], statusRows] = await Promise.all([s.db.query(s.sql.positions), s.db.query(s.sql.replicaStatus)]);
  const status = parseReplicaStatus(statusRows);
  const r = parsePositionsRow(row);
  const applied = parsePosition(family, r.executed);
  // Only a replica using GTIDs has a meaningful received position (Gtid_IO_Pos / Retrieved_Gtid_Set).
  const received = status && status.retrievedGtid ? parsePosition(family, status.retrievedGtid) : undefined;
  const position = received ? positionUnion(applied, received) : applied;
  return { family, row: r, status, position, applied, history: parseHistory(family, { executed: r.executed, binlogState: r.binlogState }) };
}

export const positionText = (h: Holdings): string => formatPosition(h.position);
