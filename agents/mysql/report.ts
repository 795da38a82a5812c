// The consistency check of seed 000, as validate-all at OCF_CHECK_LEVEL 20: from any node, read
// every known node's server, find the primary (the one writable server, else the cluster's promoted
// instance) and list, for every other server, the transactions it holds that the primary lacks
// (errant transactions: writes on a replica, or a former primary's unreplicated commits).
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { errantTransactions } from '../../lib/mysql/position.ts';
import { findServer } from '../../lib/mysql/server.ts';
import { localNode, withLocal, withRemote, type Ctx } from './context.ts';
import { guardedNodes } from './guard.ts';
import { readHoldings, type Holdings } from './holdings.ts';
import { findPrimary } from './replication.ts';

type Seen = { node: string; h?: Holdings; error?: string };

export async function errantReport(ctx: Ctx): Promise<string[]> {
  const self = await localNode(ctx);
  const others = await guardedNodes(ctx, self, undefined);
  const read = async (node: string, local: boolean): Promise<Seen> => {
    try {
      return { node, h: local ? await withLocal(ctx, readHoldings, 3000) : await withRemote(ctx, node, readHoldings) };
    } catch (e) {
      if (e instanceof OcfError && e.code !== OCF.ERR_GENERIC) throw e;
      return { node, error: (e as Error).message };
    }
  };
  const localUp = !!findServer(ctx.params.pid, ctx.params.binary || 'mariadbd', ctx.params.datadir);
  const seen = await Promise.all([
    ...(self && localUp ? [read(self, true)] : []),
    ...others.map((n) => read(n, false)),
  ]);
  const writable = seen.filter((x) => x.h && !x.h.row.readOnly && !x.h.row.superReadOnly).map((x) => x.node);
  let primary = writable.length === 1 ? writable[0] : undefined;
  if (!primary) primary = (await findPrimary(ctx, undefined)).node;
  const lines: string[] = [];
  for (const x of seen.filter((y) => y.error)) lines.push(`${x.node}: not checked (${x.error})`);
  if (writable.length > 1) lines.push(`more than one writable server: ${writable.join(', ')}`);
  const ref = seen.find((x) => x.node === primary && x.h);
  if (!ref) {
    lines.push(primary ? `the primary ${primary} could not be read: nothing to compare with` : 'no primary found (no writable server, none promoted): nothing to compare with');
    ctx.log.warn(`errant-transaction report: ${lines.join('; ')}`);
    return lines;
  }
  const found: string[] = [];
  for (const x of seen) {
    if (!x.h || x.node === ref.node) continue;
    const e = errantTransactions(x.h.history, ref.h!.history);
    if (e) found.push(`${x.node}: ${e.text}`);
    else lines.push(`${x.node}: holds nothing that ${ref.node} lacks`);
  }
  for (const l of lines) ctx.log.info(`errant-transaction report (primary ${ref.node}): ${l}`);
  if (found.length) {
    throw new OcfError(OCF.ERR_GENERIC, `errant transactions (not on the primary ${ref.node}): ${found.join('; ')}${writable.length > 1 ? `; ${lines.find((l) => l.startsWith('more than one'))}` : ''}`);
  }
  if (writable.length > 1) throw new OcfError(OCF.ERR_GENERIC, `more than one writable server: ${writable.join(', ')}`);
  return lines;
}
