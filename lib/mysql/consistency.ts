// Seed 000's "check regularly that there are no unexpected writes on replicas", as pure decisions
// for the replica's monitor: what a replica wrote itself (cheap, from its own variables, every
// monitor), when the primary must be asked, and what the comparison with the primary means.
//
// Two findings:
//   - errant: the replica holds transactions the primary lacks (a SUPER/root user writing past
//     read_only, a FLUSH PRIVILEGES on a MySQL replica). Exactly errantTransactions(), the check a
//     rejoin makes; never promotable while they stand.
//   - missing: the replica went past transactions the primary holds without applying them. A
//     replica skips events carrying its own server_id (replicate_same_server_id=0; seen with
//     MariaDB 10.11 and MySQL 9.7: a node rebuilt empty with its old server_id lacked every row it
//     had written as a primary, with replication caught up; MariaDB's GTID position even equal to
//     the primary's).
import { gtidSubtract, parseGtidSet, formatGtidSet } from './gtid.ts';
import { errantTransactions, type Errant, type GtidFamily, type History } from './position.ts';

/**
 * What this replica wrote under an identity other than its source's, from its own variables: a
 * change means a local write (or a rebuilt server) and is worth asking the primary about.
 * MariaDB: the gtid_binlog_state entries of every server but the source (the source's grow with
 * every replicated transaction; a former primary's stay still; a local write adds or raises this
 * server's). MySQL: this server's own uuid in gtid_executed (a local write always takes it).
 */
export function ownWrites(family: GtidFamily, o: { binlogState: string; executed: string; sourceServerId: number; serverUuid?: string }): string {
  if (family === 'mariadb') {
    return o.binlogState.replace(/\s+/g, '').split(',').filter(Boolean)
      .filter((g) => Number(g.split('-')[1]) !== o.sourceServerId).sort().join(',');
  }
  const own = (o.serverUuid ?? '').toLowerCase();
  if (!own) return '';
  const set = parseGtidSet(o.executed);
  return formatGtidSet(new Map([...set].filter(([k]) => k === own || k.startsWith(`${own}:`))));
}

/** The last comparison with the primary that settled the question (kept in the agent's state). */
export interface ConsistencyRecord {
  /** ownWrites() at that comparison. */
  ownWrites: string;
  /** host:port of the source then. */
  source: string;
  at: number;
}

/**
 * Even with nothing changed locally the primary is asked again this often: the cheap check cannot
 * see a write made under a forged identity (MariaDB SET SESSION server_id, MySQL gtid_next), nor
 * what a replica skipped. One comparison costs a login and four queries on the primary: 17-54 ms
 * of a 0.25-0.55 s monitor (loopback; MariaDB 10.11 and MySQL 9.7, 6 runs); once a minute per
 * replica is nothing beside its own dump thread, while asking at every 7 s monitor would add a
 * tenth to each and a login to the primary per replica every few seconds.
 */
export const CONSISTENCY_RECHECK_MS = 60_000;

/**
 * Must this monitor ask the primary? Yes when nothing settled was recorded, the source changed,
 * this replica wrote something since (ownWrites changed), it was found errant or missing
 * transactions (so a repair is seen at the next monitor), or the last comparison is old.
 */
export function consistencyDue(rec: ConsistencyRecord | undefined, now: { ownWrites: string; source: string; at: number; flagged: boolean }): boolean {
  if (!rec || now.flagged) return true;
  if (rec.source !== now.source || rec.ownWrites !== now.ownWrites) return true;
  return now.at - rec.at >= CONSISTENCY_RECHECK_MS || now.at < rec.at;
}

export interface ConsistencyInput {
  family: GtidFamily;
  local: History;
  primary: History;
  /** This replica's server_id: the id whose events it skips. */
  serverId: number;
  /** MySQL: the primary's own server_uuid (its newest transactions may still be on their way). */
  primaryUuid?: string;
  /**
   * MySQL: both threads running, nothing received left to apply, no lag. Only then does a
   * transaction of an earlier primary that this replica lacks mean it was skipped (MySQL's sets
   * have no order that would tell "skipped" from "not yet received").
   */
  caughtUp: boolean;
}

export interface ConsistencyVerdict {
  errant?: Errant;
  missing?: Errant;
  /**
   * Nothing is left undecided (record it): every transaction of the primary that could be missing
   * has either been applied or been streamed past. Errant transactions are always decided; only a
   * replica still catching up on what it could have skipped is not settled, and is asked about
   * again at the next monitor. A replica merely behind on the primary's own newest is settled, so
   * a busy cluster's replicas do not log in to the primary at every monitor.
   */
  settled: boolean;
}

export function compareWithPrimary(i: ConsistencyInput): ConsistencyVerdict {
  const errant = errantTransactions(i.local, i.primary);
  if (i.local.family === 'mysql' && i.primary.family === 'mysql') {
    const own = (i.primaryUuid ?? '').toLowerCase();
    const lacks = gtidSubtract(i.primary.set, i.local.set);
    const older = new Map([...lacks].filter(([k]) => !own || !(k === own || k.startsWith(`${own}:`))));
    if (older.size === 0) return { errant, settled: true };
    if (!i.caughtUp) return { errant, settled: false };
    const gtids = formatGtidSet(older).split(',');
    return { errant, missing: { gtids, text: gtids.join(', ') }, settled: true };
  }
  if (i.local.family !== 'mariadb' || i.primary.family !== 'mariadb') return { errant, settled: false };
  const local = i.local;
  const primary = i.primary;
  // Sequence numbers of a domain grow in binary-log order (gtid_strict_mode): a replica whose
  // position in a domain is at or past the primary's last transaction from this server id has
  // streamed past it, so lacking it means it was skipped, not that it is still on its way.
  const gtids: string[] = [];
  let settled = true;
  for (const [key, seq] of [...primary.state.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [domain, server] = key.split('-').map(Number) as [number, number];
    if (server !== i.serverId) continue;
    const mine = local.state.get(key) ?? 0n;
    const at = local.pos.get(domain)?.seq ?? 0n;
    if (seq <= mine) continue;
    if (at < seq) { settled = false; continue; }
    gtids.push(seq === mine + 1n ? `${domain}-${server}-${seq}` : `${domain}-${server}-${mine + 1n}..${domain}-${server}-${seq}`);
  }
  return { errant, missing: gtids.length ? { gtids, text: gtids.join(', ') } : undefined, settled };
}
