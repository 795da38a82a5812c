// The writable-peer guard (seed 003): before this server becomes writable, ask every other known
// node's server whether it still accepts writes. The verdict is lib/mysql/election.ts guardVerdict.
import { OCF, OcfError } from '../../lib/ocf/codes.ts';
import { SqlError } from '../../lib/mysql/client.ts';
import { guardVerdict, type GuardVerdict, type PeerAnswer } from '../../lib/mysql/election.ts';
import { parsePositionsRow } from '../../lib/mysql/status.ts';
import { clusterTools, withRemote, type Ctx, type ElectionRecord } from './context.ts';
import { parseNodeMap } from './peers.ts';

/**
 * Errors that mean "nobody is there", all raised before any connection exists: refused (no server
 * listening), no route to the machine, or a name nobody knows.
 */
const SILENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * How one peer's failure to answer is read: silent (nobody there) or unknown (somebody, but
 * unclear). A timeout counts as silence only when the TCP connect itself got no answer: once the
 * connection was accepted, something is there (a server frozen by SIGSTOP, or overloaded, whose
 * kernel still accepts connections) that may take writes again the moment it resumes; so is a
 * connection lost or reset after it was accepted. In doubt, the promotion is refused.
 */
export function classifyPeerError(e: unknown): { answer: 'silent' | 'unknown'; detail: string } {
  const detail = (e as Error).message ?? String(e);
  if (e instanceof SqlError) {
    if (e.code !== undefined && SILENT_CODES.has(e.code)) return { answer: 'silent', detail };
    if ((e.kind === 'timeout' || e.code === 'ETIMEDOUT') && e.connected === false) return { answer: 'silent', detail };
  }
  return { answer: 'unknown', detail };
}

/** Every node whose server could take writes: node_map, the cluster's node list, minus this node. */
export async function guardedNodes(ctx: Ctx, self: string | undefined, rec: ElectionRecord | undefined): Promise<string[]> {
  const nodes = new Set<string>([...parseNodeMap(ctx.params.node_map).map.keys(), ...(rec?.all ?? [])]);
  if (nodes.size === 0 || !rec) {
    const r = await clusterTools(ctx).knownNodes();
    if (r.ok) for (const n of r.value!) nodes.add(n);
    else ctx.log.warn(`cannot list the cluster's nodes (${r.reason}); checking only node_map's`);
  }
  if (self) nodes.delete(self);
  return [...nodes].sort();
}

/** How long a node that left the membership gets to answer (ms), when peer_timeout is longer. */
export const LOST_PEER_TIMEOUT_MS = 200;

/**
 * How long to wait for `node`'s server. A node that left the membership (crm_node -l: not
 * "member") was fenced before this promotion (with fencing enabled Pacemaker promotes nothing
 * while a lost node is unfenced), so waiting peer_timeout for its machine only delays the
 * failover after a power loss: it gets a short look instead, which a live server on a LAN still
 * answers many times over. Pure.
 */
export function peerTimeoutFor(node: string, membership: ReadonlyMap<string, string> | undefined, peerTimeoutMs: number): number {
  const st = membership?.get(node);
  return st !== undefined && st !== 'member' ? Math.min(peerTimeoutMs, LOST_PEER_TIMEOUT_MS) : peerTimeoutMs;
}

export async function askPeers(ctx: Ctx, nodes: readonly string[], timeoutOf: (node: string) => number = () => ctx.params.peer_timeout): Promise<PeerAnswer[]> {
  return Promise.all(nodes.map(async (node): Promise<PeerAnswer> => {
    try {
      const row = parsePositionsRow((await withRemote(ctx, node, (s) => s.db.query(s.sql.positions), timeoutOf(node)))[0]);
      return row.readOnly || row.superReadOnly ? { node, answer: 'read-only' } : { node, answer: 'writable' };
    } catch (e) {
      if (e instanceof OcfError && e.code !== OCF.ERR_GENERIC) throw e;
      const c = classifyPeerError(e);
      return c.answer === 'silent' ? { node, answer: 'silent', detail: c.detail } : { node, answer: 'unknown', detail: c.detail };
    }
  }));
}

/** Throws (rc 1) when another server still takes writes or cannot be read. */
export async function guardWritablePeers(ctx: Ctx, self: string | undefined, rec: ElectionRecord | undefined): Promise<GuardVerdict> {
  const [nodes, m] = await Promise.all([guardedNodes(ctx, self, rec), clusterTools(ctx).nodeStates()]);
  const membership = m.ok ? m.value : undefined;
  const v = guardVerdict(await askPeers(ctx, nodes, (n) => peerTimeoutFor(n, membership, ctx.params.peer_timeout)));
  if (!v.ok) throw new OcfError(OCF.ERR_GENERIC, v.reason);
  for (const n of v.notes) ctx.log.info(`writable-peer guard: ${n}`);
  return v;
}
