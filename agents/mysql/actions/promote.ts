// promote: the election (unless the primary recovers where it ran), the check against the record
// of the last promotion (never promote past a more recent primary that is missing), then catch-up
// (stop receiving, apply everything received, bounded by the deadline) alongside the
// writable-peer guard, a second look at both with what was actually applied, the new record
// written to the CIB, and only then forget the source and become writable. Every refusal leaves
// the server read-only and fails the promotion (rc 1) with the reason: Pacemaker plans again.
import { OCF, OcfError, type OcfCode } from '../../../lib/ocf/codes.ts';
import { PRIMARY_SCORE, scoreValue } from '../../../lib/mysql/health.ts';
import type { Contender } from '../../../lib/mysql/election.ts';
import { lineageVerdict, nextRecord, type LineageRecord } from '../../../lib/mysql/lineage.ts';
import { formatPosition, gtidFamily, type GtidFamily } from '../../../lib/mysql/position.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { clusterTools, loadState, localNode, publish, RECORD_TTL_MS, saveState, withLocal, type Ctx } from '../context.ts';
import { holdElection, recheckElection } from '../election.ts';
import { guardWritablePeers } from '../guard.ts';
import { readHoldings } from '../holdings.ts';
import { acceptLossCommand, readLineage, writeLineage, type Lineage } from '../lineage.ts';
import { applySemisync, catchUp, readState, readStatus } from '../replication.ts';
import { writeAddress } from '../write-address.ts';
import { requireFencing } from '../prerequisites.ts';

/** Settle both, then throw the first failure (so no rejection is left unhandled). */
async function both(a: Promise<unknown>, b: Promise<unknown>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
}

export async function promote(ctx: Ctx): Promise<OcfCode> {
  const p = ctx.params;
  if (!findServer(p.pid, p.binary || 'mariadbd', p.datadir)) throw new OcfError(OCF.ERR_GENERIC, 'cannot promote: the server is not running');
  const self = await localNode(ctx);
  const st = loadState(ctx);
  const rec = st.election && Date.now() - st.election.at < RECORD_TTL_MS ? st.election : undefined;
  const address = writeAddress(ctx);
  // Read from the CIB while the server is asked (one query, no waiting on the critical path).
  const lineage = readLineage(ctx);
  lineage.catch(() => undefined);
  let written: LineageRecord | undefined;
  await withLocal(ctx, async (s) => {
    const [status, config] = await Promise.all([readStatus(s), lineage]);
    requireFencing(ctx, config);
    if (status && !status.sqlRunning && status.sqlErrno !== 0) {
      throw new OcfError(OCF.ERR_GENERIC, `not promotable: the SQL thread stopped with error ${status.sqlErrno} (${status.sqlError})`);
    }
    if (st.errant) throw new OcfError(OCF.ERR_GENERIC, `not promotable: this server holds errant transactions ${st.errant} that the last primary lacked`);
    const family = gtidFamily(s.sql.name);
    let peers: Contender[] | undefined;
    if (!rec) {
      if (Number(ctx.meta('clone_max') ?? '1') > 1 && !p.manual_promotion) {
        throw new OcfError(OCF.ERR_GENERIC, 'not promoted: no election was recorded for this promotion (the pre-promote notification did not run, timed out or could not be saved; or the promotion was forced by hand), and without one a lagging replica could win. The clone needs notify=true; retry through the cluster (pcs resource cleanup), or set manual_promotion=true to promote a node you have checked yourself');
      }
      ctx.log.warn(`no pre-promote notification was recorded for this promotion: promoting without an election (${p.manual_promotion ? 'manual_promotion=true' : 'not a clone of several instances'})`);
    } else if (rec.recover) {
      ctx.log.info('the promoted instance recovers where it ran: no election');
    } else if (!self) {
      throw new OcfError(OCF.ERR_GENERIC, 'not promoted: this node\'s name is unknown, so the election cannot run');
    } else {
      const h = await readHoldings(s);
      const position = formatPosition(h.position);
      peers = await holdElection(ctx, family, self, rec, position, Math.min(10_000, Math.floor(ctx.deadline.remaining() / 3)));
      checkLineage(ctx, family, self, position, peers, await lineage, false);
    }
    if (!self) throw new OcfError(OCF.ERR_GENERIC, 'not promoted: this node\'s name is unknown, so the promotion cannot be recorded');

    // Catch-up and the guard run side by side; the guard uses its own connections; the write
    // address's duplicate probe only listens, so it runs meanwhile too.
    // Keep a second for the statements that follow.
    const probing = address?.probe();
    probing?.catch(() => undefined);
    await both(catchUp(ctx, s, 1000), guardWritablePeers(ctx, self, rec));
    if (probing) await probing;

    const applied = formatPosition((await readHoldings(s)).applied);
    if (peers && status) {
      // A transaction received only in part cannot be applied: look again with what was applied.
      await recheckElection(ctx, family, self, peers, applied);
      checkLineage(ctx, family, self, applied, peers, await lineage, true);
    }
    // The record is in the CIB before the first write is accepted: a failover after this one
    // knows this node's commits exist and refuses to promote a node without them.
    const l = await lineage;
    const keep = rec?.recover && l.record?.primary === self;
    if (!keep && l.problem) throw new OcfError(OCF.ERR_GENERIC, `not promoted: ${l.problem}`);
    const replicas = rec ? rec.peers : await everyOtherNode(ctx, self);
    written = keep ? l.record : nextRecord(l.record, self, applied, p.semisync ? 'sync' : 'off', replicas, Date.now());
    const recording = keep ? Promise.resolve() : writeLineage(ctx, written!);
    if (status) {
      await both(recording, (async () => {
        await s.db.exec(s.sql.stopReplica);
        await s.db.exec(s.sql.resetReplicaAll);
      })());
      ctx.log.info(`applied everything received from ${status.sourceHost}:${status.sourcePort}; replication configuration cleared`);
    } else {
      await recording;
    }
    await applySemisync(ctx, s, s.sql.semisyncPrimary(p.semisync, p.semisync_timeout), p.semisync);
    for (const q of s.sql.writable) await s.db.exec(q);
    // Clients reach the server the moment it takes writes, not a cluster step later.
    const [now] = await Promise.all([readState(s), address?.take({ probed: true })]);
    if (now.readOnly || now.superReadOnly) throw new OcfError(OCF.ERR_GENERIC, 'the server is still read-only after promotion');
  });
  // The copy of the record the primary's monitors keep in the CIB (and compare with the server's protection).
  saveState(ctx, { ...loadState(ctx), promoted: true, pendingSince: undefined, election: undefined, switchover: undefined, errant: undefined, lineage: written, recordCheckedAt: undefined });
  await publish(ctx, { score: scoreValue(PRIMARY_SCORE), grade: 'OK', lag: '0' });
  ctx.log.info(`promoted: the server is writable${p.semisync ? ' (semi-synchronous primary)' : ''} (${ctx.deadline.elapsed()} ms)`);
  return OCF.SUCCESS;
}

/** Refuse (rc 1) unless the record of the last promotion allows this node to win. */
function checkLineage(ctx: Ctx, family: GtidFamily, self: string, position: string, peers: readonly Contender[], l: Lineage, final: boolean): void {
  const present = new Map<string, string>();
  for (const c of peers) if (c.publication && c.publication.state !== 'down') present.set(c.node, c.publication.position);
  const v = lineageVerdict({
    family, self, position, record: l.record, problem: l.problem, present, joined: l.joined,
    allowAsync: ctx.params.allow_async_failover, acceptCommand: acceptLossCommand(ctx),
  });
  if (!v.ok) throw new OcfError(OCF.ERR_GENERIC, v.reason);
  if (final) for (const n of v.notes) ctx.log.warn(`election: ${n}`);
}

/** Without an election's electorate (a manual promotion): every other node may replicate from us. */
async function everyOtherNode(ctx: Ctx, self: string): Promise<string[]> {
  const r = await clusterTools(ctx).knownNodes();
  return r.ok ? r.value!.filter((n) => n !== self) : [];
}
