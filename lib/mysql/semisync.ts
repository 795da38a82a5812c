// Semi-synchronous replication settings, pure: which global variables must change. Only those
// that differ are set, so a cluster without semi-sync never needs the privilege to change them
// (MariaDB's REPLICATION MASTER ADMIN) and MySQL without the plugins is left alone.
import type { Setting } from './sql/types.ts';

export interface SemisyncPlan {
  /** SET GLOBAL these, in order. */
  set: Setting[];
  /** Variables the server does not have but must be changed (MySQL without the plugins). */
  missing: string[];
}

/** `current`: lower-cased variable name -> value, from SHOW GLOBAL VARIABLES. */
export function semisyncPlan(current: ReadonlyMap<string, string>, wanted: readonly Setting[]): SemisyncPlan {
  const set: Setting[] = [];
  const missing: string[] = [];
  for (const w of wanted) {
    const have = current.get(w.name.toLowerCase());
    if (have === undefined) {
      // Absent means the feature is absent: nothing to turn off.
      if (w.value !== 'OFF') missing.push(w.name);
      continue;
    }
    if (have.toUpperCase() !== w.value.toUpperCase()) set.push(w);
  }
  return { set, missing };
}

export interface SemisyncState {
  /** The primary side is on and a replica acknowledges (Rpl_semi_sync_master/source_status). */
  primaryActive: boolean;
  /** Replicas connected as semi-sync clients. */
  clients: number;
  /** Transactions acknowledged / not acknowledged (committed asynchronously after the timeout). */
  acknowledged: number;
  unacknowledged: number;
  replicaActive: boolean;
}

/** SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_%' (either flavour's names), as a map. */
export function parseSemisyncStatus(m: ReadonlyMap<string, string>): SemisyncState {
  const pick = (...names: string[]) => names.map((n) => m.get(n)).find((v) => v !== undefined);
  const on = (v: string | undefined) => (v ?? '').toUpperCase() === 'ON';
  const n = (v: string | undefined) => Number(v ?? 0) || 0;
  return {
    primaryActive: on(pick('rpl_semi_sync_master_status', 'rpl_semi_sync_source_status')),
    clients: n(pick('rpl_semi_sync_master_clients', 'rpl_semi_sync_source_clients')),
    acknowledged: n(pick('rpl_semi_sync_master_yes_tx', 'rpl_semi_sync_source_yes_tx')),
    unacknowledged: n(pick('rpl_semi_sync_master_no_tx', 'rpl_semi_sync_source_no_tx')),
    replicaActive: on(pick('rpl_semi_sync_slave_status', 'rpl_semi_sync_replica_status')),
  };
}
