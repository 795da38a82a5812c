// validate-all (and the check before every start): parameters, binary, datadir, user, password
// file; clone meta where Pacemaker gives it; at OCF_CHECK_LEVEL 10, a login of the replication
// account on the running server; at OCF_CHECK_LEVEL 20, the errant-transaction report (report.ts):
// rc 1 with the list when any server holds transactions the primary lacks.
//   6 ERR_CONFIGURED: wrong everywhere (parameter values, clone meta), or server settings the
//                     election relies on (prerequisites.ts; a server_id shared with a peer at depth 10);
//   5 ERR_INSTALLED:  no server binary on this node;
//   2 ERR_ARGS:       wrong on this node (datadir, user, password file, login).
import { writeAddress } from '../write-address.ts';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OCF, OcfError, type OcfCode } from '../../../lib/ocf/codes.ts';
import { run } from '../../../lib/exec.ts';
import { findServer } from '../../../lib/mysql/server.ts';
import { replicationPassword, resolveBinary, withLocal, type Ctx } from '../context.ts';
import { errantReport } from '../report.ts';
import { validatePrerequisites } from '../prerequisites.ts';
import { peerTls } from '../tls.ts';

const isTrue = (v: string | undefined) => v !== undefined && ['true', '1', 'yes', 'on'].includes(v.toLowerCase());

export function cloneMetaProblem(meta: (n: string) => string | undefined): string | undefined {
  if (meta('clone_max') === undefined) return undefined; // not a clone, or not told: nothing to check
  // Pacemaker (2.1.5 at least) does not pass the clone's promotable meta to its instances; it
  // passes promoted_max and master_max for promotable clones only.
  const flag = meta('promotable') ?? meta('master');
  const promotable = flag !== undefined ? isTrue(flag) : meta('promoted_max') !== undefined || meta('master_max') !== undefined;
  if (!promotable) return 'the clone must be promotable (promotable=true)';
  if (!isTrue(meta('notify'))) return 'the clone needs notify=true: replicas repoint to a new primary in the post-promote notification';
  const pmax = meta('promoted_max') ?? meta('master_max');
  if (pmax !== undefined && pmax !== '1') return `promoted-max must be 1, not ${pmax}: one writable primary`;
  return undefined;
}

export async function validate(ctx: Ctx): Promise<OcfCode> {
  const p = ctx.params;
  if (p.replication_password && p.replication_password_file) {
    throw new OcfError(OCF.ERR_CONFIGURED, 'set replication_password or replication_password_file, not both');
  }
  const clone = cloneMetaProblem(ctx.meta);
  if (clone) throw new OcfError(OCF.ERR_CONFIGURED, clone);
  if (p.lag_warn && p.lag_critical && p.lag_warn > p.lag_critical) {
    throw new OcfError(OCF.ERR_CONFIGURED, `lag_warn (${p.lag_warn}) must not exceed lag_critical (${p.lag_critical})`);
  }
  const binary = resolveBinary(ctx);
  if (!binary) {
    throw new OcfError(OCF.ERR_INSTALLED, p.binary ? `server binary ${p.binary} does not exist on this node` : 'neither mariadbd nor mysqld is installed on this node');
  }
  if (!existsSync(p.datadir) || !statSync(p.datadir).isDirectory()) {
    throw new OcfError(OCF.ERR_ARGS, `datadir ${p.datadir} does not exist on this node`);
  }
  if (!existsSync(join(p.datadir, 'mysql'))) {
    throw new OcfError(OCF.ERR_ARGS, `datadir ${p.datadir} is not initialised (no mysql schema); run mariadb-install-db or mysqld --initialize`);
  }
  if (p.config && !existsSync(p.config)) throw new OcfError(OCF.ERR_ARGS, `option file ${p.config} does not exist on this node`);
  await writeAddress(ctx)?.validate(); // the interface exists, the prefix is known, arping is there
  if (process.getuid?.() === 0) {
    const r = await run('id', ['-u', p.user], { timeoutMs: ctx.deadline.cap(5000), signal: ctx.signal });
    if (r.code !== 0) throw new OcfError(OCF.ERR_ARGS, `system user ${p.user} does not exist on this node`);
  }
  replicationPassword(ctx); // checks the password file's owner and mode
  peerTls(p); // and that the TLS files of sessions with peers can be read
  if (ctx.checkLevel >= 10 && findServer(p.pid, binary)) {
    try {
      await withLocal(ctx, async (s) => { await s.db.query('SELECT 1'); });
    } catch (e) {
      throw new OcfError(OCF.ERR_ARGS, `${p.replication_user} cannot log in to the local server: ${(e as Error).message}`);
    }
  }
  // validate-all only: a start checks the live settings itself, once its server answers.
  if (ctx.action === 'validate-all') await validatePrerequisites(ctx, binary, findServer(p.pid, binary, p.datadir) !== undefined);
  if (ctx.checkLevel >= 20) await errantReport(ctx);
  return OCF.SUCCESS;
}
