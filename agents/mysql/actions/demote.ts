// demote: read-only at once, then end every client session (replication and system threads
// excepted), so no write lands on a demoted primary: read_only does not abort a transaction that
// is already open, and on MariaDB it does not bind accounts with READ_ONLY ADMIN at all.
import { OCF, OcfError, type OcfCode } from '../../../lib/ocf/codes.ts';
import { SqlError } from '../../../lib/mysql/client.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { loadState, publish, saveState, withLocal, type Ctx } from '../context.ts';
import { assess, readStatus } from '../replication.ts';

export async function demote(ctx: Ctx): Promise<OcfCode> {
  const p = ctx.params;
  const state = loadState(ctx);
  if (!findServer(p.pid, p.binary || 'mariadbd')) {
    // Nothing runs, so nothing can take writes: the demoted state holds.
    saveState(ctx, { ...state, promoted: false });
    ctx.log.warn('demote: the server is not running');
    return OCF.SUCCESS;
  }
  const r = await withLocal(ctx, async (s) => {
    for (const q of s.sql.readOnly) await s.db.exec(q);
    const rows = await s.db.query(s.sql.clientSessions);
    let killed = 0;
    for (const row of rows) {
      try { await s.db.exec(s.sql.kill(Number(row.id))); killed++; } catch (e) {
        // 1094: unknown thread id, the session ended by itself meanwhile.
        if (!(e instanceof SqlError && e.errno === 1094)) throw e;
      }
    }
    if (killed) ctx.log.info(`demote: ended ${killed} client session(s)`);
    return assess(ctx, await readStatus(s), undefined);
  }).catch((e: unknown) => {
    if (e instanceof OcfError) throw e;
    throw new OcfError(OCF.ERR_GENERIC, `demote could not make the server read-only: ${(e as Error).message}`);
  });
  saveState(ctx, { promoted: false, pendingSince: r.pendingSince });
  await publish(ctx, { score: r.score, grade: r.a.grade, lag: r.a.lag === null ? null : String(r.a.lag) });
  return OCF.SUCCESS;
}
