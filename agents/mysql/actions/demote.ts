// demote: read-only at once, then end every client session (replication and system threads
// excepted), so no write lands on a demoted primary: read_only does not abort a transaction that
// is already open, and on MariaDB it does not bind accounts with READ_ONLY ADMIN at all.
// In a planned switchover (recorded by pre-demote) it then waits, bounded by the deadline, until the
// target holds every transaction this server wrote, so the promotion that follows loses nothing.
// If the target cannot get there in time, demote still succeeds (the server stays read-only, with
// all its transactions) and says why: the target's election then finds this node ahead and gives
// way to it, so the switchover is abandoned rather than a transaction lost.
import { OCF, OcfError, type OcfCode } from '../../../lib/ocf/codes.ts';
import { sleep } from '../../../lib/deadline.ts';
import { SqlError } from '../../../lib/mysql/client.ts';
import { switchoverVerdict } from '../../../lib/mysql/election.ts';
import { formatPosition, gtidFamily } from '../../../lib/mysql/position.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { addressOf, loadState, openRemote, publish, RECORD_TTL_MS, saveState, withLocal, type Ctx, type LocalSession } from '../context.ts';
import { readHoldings } from '../holdings.ts';
import { applySemisync, assess, readStatus } from '../replication.ts';
import { writeAddress } from '../write-address.ts';

/**
 * Wait until `target` holds this server's transactions. Returns undefined when it does, else why it
 * does not (time ran out, or its replication from us is broken and cannot get there).
 */
async function waitForTarget(ctx: Ctx, s: LocalSession, target: string, reserveMs: number): Promise<string | undefined> {
  const family = gtidFamily(s.sql.name);
  const mine = formatPosition((await readHoldings(s)).applied);
  const addr = addressOf(ctx, ctx.nodeName ?? '');
  let remote: LocalSession | undefined;
  let last = 'no answer yet';
  try {
    for (;;) {
      try {
        remote ??= await openRemote(ctx, target);
        const h = await readHoldings(remote);
        const v = switchoverVerdict(family, mine, formatPosition(h.position));
        if (v.ready) return undefined;
        last = `it lacks ${v.lacks}`;
        const st = h.status;
        if (!st) return `${target} does not replicate at all (${last})`;
        if (st.io === 'stopped' && st.ioErrno !== 0) return `${target}'s replication stopped with error ${st.ioErrno} (${st.ioError}); ${last}`;
        if (ctx.nodeName && (st.sourceHost !== addr.host || st.sourcePort !== addr.port)) {
          return `${target} replicates from ${st.sourceHost}:${st.sourcePort}, not from this server; ${last}`;
        }
      } catch (e) {
        if (e instanceof OcfError && e.code !== OCF.ERR_GENERIC) throw e;
        last = `cannot ask it: ${(e as Error).message}`;
        await remote?.db.close();
        remote = undefined;
      }
      if (ctx.deadline.remaining() <= reserveMs) return `time ran out (${ctx.deadline.elapsed()} ms): ${last}`;
      await sleep(Math.min(20, ctx.deadline.remaining() - reserveMs), ctx.signal);
    }
  } finally {
    await remote?.db.close();
  }
}

export async function demote(ctx: Ctx): Promise<OcfCode> {
  const p = ctx.params;
  // The write address goes first, with its connections, whatever the server's state: clients
  // stop reaching this node at once, and the next primary finds nobody answering for it.
  const released = writeAddress(ctx)?.release();
  released?.catch(() => undefined);
  try {
    return await demoteServer(ctx);
  } finally {
    await released;
  }
}

async function demoteServer(ctx: Ctx): Promise<OcfCode> {
  const p = ctx.params;
  const state = loadState(ctx);
  const sw = state.switchover && Date.now() - state.switchover.at < RECORD_TTL_MS ? state.switchover : undefined;
  if (!findServer(p.pid, p.binary || 'mariadbd', p.datadir)) {
    // Nothing runs, so nothing can take writes: the demoted state holds.
    saveState(ctx, { ...state, promoted: false, switchover: undefined });
    ctx.log.warn('demote: the server is not running');
    return OCF.SUCCESS;
  }
  const r = await withLocal(ctx, async (s) => {
    // The switch waits for the statements in flight to finish: bounded by the deadline, not by
    // the per-statement cap (QUERY_TIMEOUT_MS), since giving up early leaves the server writable.
    for (const q of s.sql.readOnly) await s.db.exec(q, ctx.deadline.remaining());
    const rows = await s.db.query(s.sql.clientSessions);
    let killed = 0;
    for (const row of rows) {
      try { await s.db.exec(s.sql.kill(Number(row.id))); killed++; } catch (e) {
        // 1094: unknown thread id, the session ended by itself meanwhile.
        if (!(e instanceof SqlError && e.errno === 1094)) throw e;
      }
    }
    if (killed) ctx.log.info(`demote: ended ${killed} client session(s)`);
    if (sw) {
      const why = await waitForTarget(ctx, s, sw.target, 1000);
      if (why) {
        ctx.log.error(`switchover to ${sw.target}: it does not hold every transaction of this server (${why}); this server stays read-only and keeps them, and ${sw.target}'s election will give way to it: the switchover is abandoned, nothing is lost (clear the move constraint with pcs resource clear)`);
      } else {
        ctx.log.info(`switchover: ${sw.target} holds every transaction of this server (${ctx.deadline.elapsed()} ms)`);
      }
    }
    // Only now: turning the primary side of semi-sync off releases commits still waiting for an ack.
    await applySemisync(ctx, s, s.sql.semisyncReplica(p.semisync), p.semisync);
    return assess(ctx, await readStatus(s), undefined);
  }).catch((e: unknown) => {
    if (e instanceof OcfError) throw e;
    throw new OcfError(OCF.ERR_GENERIC, `demote could not make the server read-only: ${(e as Error).message}`);
  });
  saveState(ctx, { promoted: false, pendingSince: r.pendingSince });
  await publish(ctx, { score: r.score, grade: r.a.grade, lag: r.a.lag === null ? null : String(r.a.lag) });
  return OCF.SUCCESS;
}
