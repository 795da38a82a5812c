// The record of the last promotion (lib/mysql/lineage.ts decides with it), kept as cluster
// properties in the CIB's property set "vigil-<resource>": the CIB is replicated to every node
// and survives the loss or restart of any of them, which a node's own state file does not.
//   <resource>-last-primary      the record a promotion writes (JSON)
//   <resource>-replica-<node>    the epoch of the primary <node> last joined as a replica
// Each writer owns its entry: the promoted node the record, each replica its own registration, so
// no two nodes ever rewrite the same value.
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { primitiveName } from '../../lib/cluster/tools.ts';
import { decodeRecord, encodeRecord, type LineageRecord, type Protection } from '../../lib/mysql/lineage.ts';
import { clusterTools, type Ctx } from './context.ts';

export function lineageNames(ctx: Ctx): { set: string; record: string; replica: (node: string) => string } {
  const base = primitiveName(ctx.instance);
  return { set: `vigil-${base}`, record: `${base}-last-primary`, replica: (node) => `${base}-replica-${node}` };
}

/** The operator's one command that forgets the record: the next election then decides alone. */
export function acceptLossCommand(ctx: Ctx): string {
  const n = lineageNames(ctx);
  return `crm_attribute --type crm_config --set-name ${n.set} --name ${n.record} --delete`;
}

export interface Lineage {
  record?: LineageRecord;
  /** The record exists but cannot be read, or the CIB cannot be asked. */
  problem?: string;
  joined: Map<string, number>;
  /** Every cluster property (stonith-enabled among them); undefined when the CIB cannot be asked. */
  properties?: Map<string, string>;
}

/** The record with every cluster property, in one CIB query (promote also needs stonith-enabled). */
export async function readLineage(ctx: Ctx): Promise<Lineage> {
  const r = await clusterTools(ctx).clusterProperties();
  if (!r.ok) return { problem: `cannot read the cluster properties: ${r.reason}`, joined: new Map() };
  const n = lineageNames(ctx);
  const prefix = n.replica('');
  const joined = new Map<string, number>();
  for (const [k, v] of r.value!) {
    if (k.startsWith(prefix) && /^\d+$/.test(v)) joined.set(k.slice(prefix.length), Number(v));
  }
  const d = decodeRecord(r.value!.get(n.record));
  return { ...d, joined, properties: r.value! };
}

/** Write the record; a promotion that cannot record itself does not happen (rc 1). */
export async function writeLineage(ctx: Ctx, rec: LineageRecord): Promise<void> {
  const n = lineageNames(ctx);
  const r = await clusterTools(ctx).setClusterProperty(n.set, n.record, encodeRecord(rec));
  if (!r.ok) {
    throw new OcfError(OCF.ERR_GENERIC, `not promoted: cannot record this promotion in the CIB (${r.reason}); without the record a later failover could promote past this primary`);
  }
}

/**
 * Before a replica starts replicating from `primary`: make sure the record counts it among that
 * primary's replicas (a semi-sync primary may then wait for its acknowledgement alone). Returns why
 * not when the registration cannot be made; the caller then does not replicate.
 */
export async function registerReplica(ctx: Ctx, self: string | undefined, primary: string): Promise<string | undefined> {
  if (!self) return 'this node\'s name is unknown, so it cannot register as a replica';
  const l = await readLineage(ctx);
  if (l.problem) return l.problem;
  const rec = l.record;
  // No record, or one naming another primary: nothing to register under (the primary writes its
  // record when it is promoted; a replica of a primary promoted before records existed is not
  // tracked, as before).
  if (!rec || rec.primary !== primary) return undefined;
  if (rec.replicas.includes(self) || l.joined.get(self) === rec.epoch) return undefined;
  const n = lineageNames(ctx);
  const w = await clusterTools(ctx).setClusterProperty(n.set, n.replica(self), String(rec.epoch));
  if (!w.ok) return `cannot register as a replica of ${primary} in the CIB: ${w.reason}`;
  ctx.log.info(`registered as a replica of ${primary} (epoch ${rec.epoch})`);
  return undefined;
}

/**
 * The primary's monitor: the CIB still holds the record of this node's promotion, with the
 * protection its server has now. A tool that rewrites the CIB's configuration from a copy it read
 * earlier (pcs does, for most of its commands) removes a record written in between: seen in the
 * lab, where the VIPs created right after the first promotion wiped it. It is written again from
 * the copy promote kept (`mine`). One CIB query (the monitor calls this once a minute, and when the
 * protection changed); a write only when something differs. Returns the record as it now stands
 * (or `mine` when the CIB cannot be asked).
 */
export async function keepRecord(ctx: Ctx, self: string | undefined, mine: LineageRecord | undefined, protection: Protection | undefined): Promise<LineageRecord | undefined> {
  const l = await readLineage(ctx);
  if (!l.properties) { ctx.log.warn(`cannot check the record of this promotion: ${l.problem}`); return mine; }
  const cur = l.record;
  if (cur && cur.primary !== self) {
    // Another node's promotion was recorded after ours: that record is the cluster's, not ours to change.
    if (cur.epoch > (mine?.epoch ?? 0)) { ctx.log.error(`the record of the last promotion names ${cur.primary} (epoch ${cur.epoch}), not this primary`); return cur; }
  }
  let want = cur && cur.primary === self ? cur : mine;
  if (!want) return undefined;
  if (want !== cur) ctx.log.warn(`the record of this node's promotion (epoch ${want.epoch}) was ${cur ? `replaced by an older one (${cur.primary}, epoch ${cur.epoch})` : 'missing from the CIB (a configuration rewritten from an older copy?)'}: writing it again`);
  if (protection && want.protection !== 'off' && want.protection !== protection) {
    ctx.log[protection === 'async' ? 'warn' : 'info'](protection === 'async'
      ? 'semi-sync fell back to asynchronous replication (no replica acknowledged within semisync_timeout): recorded, so no replica is promoted over this primary\'s commits if it is lost'
      : 'semi-sync acknowledgements resumed: recorded');
    want = { ...want, protection };
  }
  if (cur && encodeRecord(cur) === encodeRecord(want)) return want;
  const n = lineageNames(ctx);
  const w = await clusterTools(ctx).setClusterProperty(n.set, n.record, encodeRecord(want));
  if (!w.ok) { ctx.log.warn(`could not write the record of this promotion: ${w.reason}`); return cur ?? mine; }
  return want;
}
