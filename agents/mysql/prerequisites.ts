// Reading what lib/mysql/prerequisites.ts judges: the server's settings (live, or from its option
// files before it runs), every peer's identity, and the cluster's fencing property.
import type { Lineage } from './lineage.ts';
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { run } from '../../lib/exec.ts';
import { flavourFromBinaryVersion } from '../../lib/mysql/flavour.ts';
import {
  fencingVerdict, identityClashes, identityFromRow, identityQuery, settingProblems, settingsReason, variablesFromHelp,
  variablesFromRows, variablesQuery, type Identity, type PeerIdentity, type SettingProblem,
} from '../../lib/mysql/prerequisites.ts';
import { splitParameters } from '../../lib/mysql/server.ts';
import { localNode, withLocal, withRemote, type Ctx, type LocalSession } from './context.ts';
import { guardedNodes } from './guard.ts';

/** The wrong settings of the server behind `s`, from its live variables. */
export async function liveSettingProblems(s: LocalSession): Promise<SettingProblem[]> {
  return settingProblems(s.sql.name, variablesFromRows(await s.db.query(variablesQuery(s.sql.name))));
}

export function settingsError(ctx: Ctx, problems: readonly SettingProblem[]): OcfError {
  return new OcfError(OCF.ERR_CONFIGURED, settingsReason(problems, ctx.params.config || undefined));
}

export interface OptionFileSettings {
  problems?: SettingProblem[];
  /** server_id the server would start with. */
  serverId?: string;
  /** Why nothing could be checked. */
  unchecked?: string;
}

/**
 * The settings a stopped server would start with: `mariadbd --verbose --help` reads the option
 * files (includes, groups, loose- prefixes) and the command line exactly as a start would, and
 * prints the result without starting anything. MySQL's --help does not say whether the binary log
 * is on (it is by default), and no MySQL runs where this was tested: its settings are checked by
 * start, once the server answers.
 */
export async function optionFileSettings(ctx: Ctx, binary: string): Promise<OptionFileSettings> {
  const p = ctx.params;
  const args = [...(p.config ? [`--defaults-file=${p.config}`] : []), ...(process.getuid?.() === 0 ? [`--user=${p.user}`] : []),
    ...splitParameters(p.additional_parameters), '--verbose', '--help'];
  const r = await run(binary, args, { timeoutMs: ctx.deadline.cap(10_000), signal: ctx.signal });
  if (r.code !== 0) return { unchecked: `${binary} --verbose --help failed: ${(r.stderr.trim().split('\n').pop() ?? '') || `exit ${r.code}`}` };
  const v = flavourFromBinaryVersion(r.stdout.split('\n').slice(0, 3).join('\n'));
  if (typeof v === 'string') return { unchecked: v };
  if (v.flavour !== 'mariadb') return { unchecked: 'MySQL settings are checked when the server runs' };
  const vars = variablesFromHelp(r.stdout);
  if (Object.keys(vars).length === 0) return { unchecked: `${binary} --verbose --help printed no variables` };
  return { problems: settingProblems(v.flavour, vars), serverId: vars.server_id };
}

/**
 * Depth 10: no peer's server shares this one's server_id (or server_uuid). Peers that do not
 * answer are logged as not checked: their own validate-all checks them when they run.
 */
export async function checkPeerIdentities(ctx: Ctx, local: Identity): Promise<void> {
  const self = await localNode(ctx);
  if (!self) { ctx.log.warn('this node\'s name is unknown: server_id not compared with the peers'); return; }
  const nodes = await guardedNodes(ctx, self, undefined);
  const peers = await Promise.all(nodes.map(async (node): Promise<PeerIdentity> => {
    try {
      const [row] = await withRemote(ctx, node, (s) => s.db.query(identityQuery(s.sql.name)));
      return { node, identity: identityFromRow(row) };
    } catch (e) {
      if (e instanceof OcfError && e.code !== OCF.ERR_GENERIC) throw e;
      return { node, unanswered: (e as Error).message };
    }
  }));
  const v = identityClashes(local, peers);
  if (v.unchecked.length) ctx.log.warn(`server identity not checked against ${v.unchecked.join(', ')}`);
  if (v.clashes.length) throw new OcfError(OCF.ERR_CONFIGURED, v.clashes.join('; '));
  const checked = nodes.length - v.unchecked.length;
  if (checked > 0) ctx.log.info(`server_id ${local.serverId} is this server's own among ${checked} peer(s)`);
}

export const localIdentity = async (s: LocalSession): Promise<Identity> => identityFromRow((await s.db.query(identityQuery(s.sql.name)))[0]);

/** Before a promotion: refuse (rc 1) while the cluster does not fence, unless the operator accepted that. */
/** Refuse (rc 1) a promotion while the cluster does not fence; `config` is promote's CIB read. */
export function requireFencing(ctx: Ctx, config: Lineage): void {
  // An absent property is Pacemaker's default, true.
  const read = config.properties ? { ok: true, value: config.properties.get('stonith-enabled') } : { ok: false, reason: config.problem };
  const v = fencingVerdict(read, ctx.params.allow_without_fencing);
  if (v.refuse) throw new OcfError(OCF.ERR_GENERIC, v.refuse);
  if (v.warn) ctx.log.warn(v.warn);
}

/**
 * validate-all: the running server's live settings, else what its option files would give it;
 * at depth 10 also its identity against every peer's.
 */
export async function validatePrerequisites(ctx: Ctx, binary: string, running: boolean): Promise<void> {
  if (running) {
    let seen: { problems: SettingProblem[]; identity?: Identity };
    try {
      seen = await withLocal(ctx, async (s) => ({
        problems: await liveSettingProblems(s), identity: ctx.checkLevel >= 10 ? await localIdentity(s) : undefined,
      }));
    } catch (e) {
      if (e instanceof OcfError) throw e;
      ctx.log.warn(`server settings not checked: the running server did not answer (${(e as Error).message})`);
      return;
    }
    if (seen.problems.length) throw settingsError(ctx, seen.problems);
    if (seen.identity) await checkPeerIdentities(ctx, seen.identity);
    return;
  }
  const f = await optionFileSettings(ctx, binary);
  if (f.unchecked !== undefined) {
    ctx.log.warn(`server settings not checked while the server is stopped (${f.unchecked}); start checks them`);
    return;
  }
  if (f.problems!.length) throw settingsError(ctx, f.problems!);
  if (ctx.checkLevel >= 10 && f.serverId) await checkPeerIdentities(ctx, { serverId: f.serverId });
}
