// Graded health of a replica (OK < INFO < WARN < CRITICAL < FAIL, after the MPP state model) and
// the promotion score that follows from it. Pure decisions, tested exhaustively.
//
// The grade says how much the data on this replica can be trusted and how current it is:
//   - an SQL thread stopped by an error means the replica diverged or cannot apply what it
//     received: FAIL, never promotable, whatever its lag;
//   - an IO thread stopped by a fatal error (the source no longer has what we need, or it is
//     ourselves) cannot heal by retrying: FAIL;
//   - an unreachable source is what every replica sees while the primary is down: WARN, still
//     promotable (that is when a promotion is needed);
//   - otherwise the lag decides, by the operator's thresholds.
import { hasPending, type ReplicaStatus } from './status.ts';

export const GRADES = ['OK', 'INFO', 'WARN', 'CRITICAL', 'FAIL'] as const;
export type Grade = (typeof GRADES)[number];

export const worse = (a: Grade, b: Grade): Grade => (GRADES.indexOf(a) >= GRADES.indexOf(b) ? a : b);

export interface LagThresholds {
  /** Seconds of lag at which each grade starts; 0 disables that step. */
  info: number;
  warn: number;
  critical: number;
  fail: number;
}

/**
 * IO errors that retrying cannot cure. 1236: the source cannot send what we ask for (purged
 * binlogs, a GTID the source never had: errant transactions); 1593: equal server ids/uuids;
 * 13114: MySQL 8's number for 1236.
 */
export const FATAL_IO_ERRORS: ReadonlySet<number> = new Set([1236, 1593, 13114]);

export interface ReplicaObservation {
  /** Replica status, or undefined when no source is configured. */
  status: ReplicaStatus | undefined;
  /**
   * For how long (seconds) earlier monitors have seen received-but-unapplied events while the
   * server could not give a lag itself (SQL thread stopped); null when nothing was pending.
   */
  pendingForSeconds: number | null;
}

export interface Assessment {
  grade: Grade;
  /** Seconds; null when no lag applies (no source). */
  lag: number | null;
  reasons: string[];
}

export function lagGrade(lag: number, t: LagThresholds): Grade {
  if (t.fail > 0 && lag >= t.fail) return 'FAIL';
  if (t.critical > 0 && lag >= t.critical) return 'CRITICAL';
  if (t.warn > 0 && lag >= t.warn) return 'WARN';
  if (t.info > 0 && lag >= t.info) return 'INFO';
  return 'OK';
}

/**
 * Received-but-unapplied events the server gives no lag for (SQL thread stopped, or no
 * Seconds_Behind figure): how long have they been waiting? `since` is when an earlier monitor
 * first saw them; returns the new `since` to remember and the seconds waited (null: nothing
 * unmeasured is pending). While the SQL thread applies, the server's own figure is trusted
 * instead: with steady writes something is always briefly pending.
 */
export function trackPending(s: ReplicaStatus | undefined, since: number | undefined, now: number): {
  since: number | undefined; pendingForSeconds: number | null;
} {
  const unmeasured = !!s && hasPending(s) && !(s.sqlRunning && s.secondsBehind !== null);
  if (!unmeasured) return { since: undefined, pendingForSeconds: null };
  const from = since !== undefined && since <= now ? since : now;
  return { since: from, pendingForSeconds: Math.floor((now - from) / 1000) };
}

/** The lag we believe: the server's own figure while it applies, else how long events wait. */
export function effectiveLag(s: ReplicaStatus, pendingForSeconds: number | null): number {
  if (s.sqlRunning && s.secondsBehind !== null) return s.secondsBehind;
  return hasPending(s) && pendingForSeconds !== null ? pendingForSeconds : 0;
}

export function gradeReplica(o: ReplicaObservation, t: LagThresholds): Assessment {
  const s = o.status;
  if (!s) return { grade: 'INFO', lag: null, reasons: ['no replication source configured'] };
  const reasons: string[] = [];
  let grade: Grade = 'OK';
  const add = (g: Grade, why: string) => { grade = worse(grade, g); reasons.push(why); };

  if (!s.sqlRunning) {
    if (s.sqlErrno !== 0) add('FAIL', `SQL thread stopped by error ${s.sqlErrno}: ${s.sqlError}`);
    else add('INFO', 'SQL thread is stopped');
  }
  if (s.io === 'stopped') {
    if (s.ioErrno !== 0 && FATAL_IO_ERRORS.has(s.ioErrno)) add('FAIL', `IO thread stopped by fatal error ${s.ioErrno}: ${s.ioError}`);
    else if (s.ioErrno !== 0) add('CRITICAL', `IO thread stopped by error ${s.ioErrno}: ${s.ioError}`);
    else add('WARN', 'IO thread is stopped');
  } else if (s.io === 'connecting') {
    add('WARN', `cannot reach the source ${s.sourceHost}:${s.sourcePort}${s.ioErrno ? ` (error ${s.ioErrno}: ${s.ioError})` : ''}`);
  }
  const lag = effectiveLag(s, o.pendingForSeconds);
  const lg = lagGrade(lag, t);
  if (lg !== 'OK') add(lg, `lag ${lag} s`);
  return { grade, lag, reasons };
}

/**
 * What a comparison with the primary found (lib/mysql/consistency.ts), on top of the replication
 * grade. Errant transactions: FAIL, never promotable (promoting would publish writes nobody made
 * through the primary, and lose nothing only by luck). Transactions the replica streamed past
 * without applying: CRITICAL, not FAIL, because a node restored from a backup that holds them looks
 * the same from its GTID variables; the reason says how to tell and what to do.
 */
export function gradeConsistency(a: Assessment, c: { errant?: string; missing?: string }): Assessment {
  const reasons = [...a.reasons];
  let grade = a.grade;
  if (c.missing) {
    grade = worse(grade, 'CRITICAL');
    reasons.unshift(`missing transactions ${c.missing} that the primary holds: this replica went past them without applying them (a replica skips events carrying its own server_id: rebuilt with its old server_id?)`);
  }
  if (c.errant) {
    grade = 'FAIL';
    reasons.unshift(`errant transactions ${c.errant}: the primary lacks them`);
  }
  return grade === a.grade && reasons.length === a.reasons.length ? a : { grade, lag: a.lag, reasons };
}

/** Pacemaker's infinity; a score at or above it (1,000,000) counts as INFINITY. */
export const INFINITY = 1_000_000;

/**
 * Promotion scores. The running primary scores above every replica so it keeps the role; a
 * replica's score falls with its grade, and within a grade with its lag, so among equally
 * healthy replicas the most current is preferred. FAIL is -INFINITY: never promotable.
 */
export const PRIMARY_SCORE = 1001;
const BASE: Record<Grade, number> = { OK: 1000, INFO: 800, WARN: 500, CRITICAL: 100, FAIL: -INFINITY };
/**
 * What an election writes (agents/mysql/election.ts): the node found ahead gets the running
 * primary's score (there is no running primary while one is elected) so it beats every replica;
 * the candidate that gave way drops to the bottom of the promotable range. Monitors and the next
 * pre-promote restore graded scores.
 */
export const ELECTION_WINNER_SCORE = PRIMARY_SCORE;
export const ELECTION_LOSER_SCORE = 1;
/** A replica with no source (nothing known about how current it is) at cluster bootstrap. */
export const UNCONFIGURED_SCORE = 10;

export function promotionScore(a: Assessment): number {
  if (a.grade === 'FAIL') return -INFINITY;
  if (a.lag === null) return UNCONFIGURED_SCORE;
  return BASE[a.grade] - Math.min(Math.max(0, Math.floor(a.lag)), 99);
}

/** crm_attribute spelling of a score. */
export function scoreValue(n: number): string {
  if (n >= INFINITY) return 'INFINITY';
  if (n <= -INFINITY) return '-INFINITY';
  return String(Math.trunc(n));
}
