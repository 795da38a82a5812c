// stop: clean shutdown (SIGTERM), waiting within the deadline; SIGKILL only when little time is
// left, and said so. A stopped server is success. A frozen server is handled the same way: it
// cannot act on SIGTERM, so it is killed near the deadline.
import { rmSync } from 'node:fs';
import { OCF, OcfError, type OcfCode } from '../../../lib/ocf/codes.ts';
import { findServer, stopProcess } from '../../../lib/mysql/server.ts';
import { clearState, publish, resolveBinary, type Ctx } from '../context.ts';
import { writeAddress } from '../write-address.ts';

export async function stop(ctx: Ctx): Promise<OcfCode> {
  const p = ctx.params;
  // A stopped instance holds no write address (a demote released it; this covers a stop alone).
  await writeAddress(ctx)?.release();
  const proc = findServer(p.pid, resolveBinary(ctx) ?? (p.binary || 'mariadbd'), p.datadir);
  if (proc) {
    ctx.log.info(`stopping server pid ${proc.pid}`);
    const outcome = await stopProcess(proc.pid, ctx.deadline, ctx.log);
    if (outcome === 'survived') {
      throw new OcfError(OCF.ERR_GENERIC, `server pid ${proc.pid} survived SIGKILL (uninterruptible I/O?); the node may need fencing`);
    }
    if (outcome === 'killed') {
      // The server had no chance to remove them; a stale pid file would mislead the next probe.
      rmSync(p.pid, { force: true });
    }
    ctx.log.info(`server pid ${proc.pid} ${outcome === 'clean' ? 'shut down cleanly' : 'was killed'} after ${ctx.deadline.elapsed()} ms`);
  }
  clearState(ctx);
  // A stopped instance is neither promotable nor a healthy replica for a read-only VIP.
  await publish(ctx, { score: null, grade: null, lag: null, errant: null });
  return OCF.SUCCESS;
}
