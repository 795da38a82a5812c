// Thin wrappers over Pacemaker's command-line tools, the agent's only way to speak to the
// cluster: promotion scores (crm_attribute --promotion), transient node attributes
// (attrd_updater), where the promoted instance runs (crm_resource --locate) and the local node
// name (crm_node -n). Each runs through an injectable Runner with a bounded timeout and returns a
// value or a reason; none throws, because failing to publish an attribute must not fail a monitor.
import { describeResult, run as realRun, type Runner } from '../exec.ts';

export interface ClusterToolsOptions {
  runner?: Runner;
  /** OCF_RESOURCE_INSTANCE, which crm_attribute --promotion reads from the environment. */
  instance: string;
  /** This node's name when known (OCF_RESKEY_CRM_meta_on_node); tools default to the local node. */
  node?: string;
  /** Milliseconds for each tool run. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ToolResult<T = undefined> { ok: boolean; value?: T; reason?: string }

/** The primitive's id: "db:2" -> "db" (clone instance numbers are not part of attribute names). */
export const primitiveName = (instance: string): string => instance.replace(/:\d+$/, '');

/** `attrd_updater -Q` prints `name="x" host="n1" value="v"`; the value, or undefined. */
export function parseAttrdQuery(out: string): string | undefined {
  const m = /\bvalue="([^"]*)"/.exec(out);
  return m ? m[1] : undefined;
}

/** `attrd_updater -Q -A` prints one `name="x" host="n1" value="v"` line per node: node -> value. */
export function parseAttrdQueryAll(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const r = /\bhost="([^"]*)"\s+value="(.*)"\s*$/.exec(line);
    if (r) m.set(r[1]!, r[2]!);
  }
  return m;
}

/** "Pacemaker 2.1.5" (first line of any tool's --version) -> [2, 1, 5]. */
export function parsePacemakerVersion(out: string): [number, number, number] | undefined {
  const m = /Pacemaker\s+(\d+)\.(\d+)\.(\d+)/.exec(out);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** attrd_updater -W/--wait arrived in Pacemaker 2.1.6. */
export function attrdCanWait(v: readonly number[] | undefined): boolean {
  if (!v) return false;
  const [a = 0, b = 0, c = 0] = v;
  return a > 2 || (a === 2 && (b > 1 || (b === 1 && c >= 6)));
}

/** `crm_node -l` prints "<id> <name> <state>" per known node: the names. */
export function parseNodeList(out: string): string[] {
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2 && /^\d+$/.test(f[0]!)).map((f) => f[1]!);
}

/** `crm_node -l` as node name -> membership state ("member", "lost"). */
export function parseNodeStates(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of out.split('\n').map((l) => l.trim().split(/\s+/))) {
    if (f.length >= 3 && /^\d+$/.test(f[0]!)) m.set(f[1]!, f[2]!);
  }
  return m;
}

/**
 * Nodes where `crm_resource --locate` reports the resource promoted. Lines look like
 * `resource db is running on: n1 Promoted` (`Master` before Pacemaker 2.1).
 */
export function parseLocate(out: string): { promoted: string[]; running: string[] } {
  const promoted: string[] = [];
  const running: string[] = [];
  for (const line of out.split('\n')) {
    const m = /running on:\s*(\S+)(?:\s+(\S+))?/.exec(line);
    if (!m) continue;
    running.push(m[1]!);
    if (m[2] === 'Promoted' || m[2] === 'Master') promoted.push(m[1]!);
  }
  return { promoted, running };
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const xmlText = (s: string) => s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
  if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
  return XML_ENTITIES[e] ?? m;
});

/** The name/value of every <nvpair> in a CIB fragment (later ones win), values unescaped. */
export function parseNvpairs(xml: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const [, attrs] of xml.matchAll(/<nvpair\b([^>]*?)\/?>/g)) {
    const a = new Map([...attrs!.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, k, v]) => [k!, xmlText(v!)]));
    const name = a.get('name');
    if (name !== undefined) m.set(name, a.get('value') ?? '');
  }
  return m;
}

/** Set by Pacemaker for every agent action; Pacemaker's tools read it as "this node". */
export const ON_NODE_ENV = 'OCF_RESKEY_CRM_meta_on_node';

export class ClusterTools {
  private readonly runner: Runner;
  constructor(private readonly o: ClusterToolsOptions) { this.runner = o.runner ?? realRun; }

  private async tool(cmd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<ToolResult<string>> {
    const r = await this.runner(cmd, args, {
      timeoutMs: this.o.timeoutMs, signal: this.o.signal,
      env: { OCF_RESOURCE_INSTANCE: this.o.instance, ...env },
    });
    if (r.code === 0) return { ok: true, value: r.stdout };
    return { ok: false, reason: describeResult(r) };
  }

  private nodeArgs(): string[] { return this.o.node ? ['-N', this.o.node] : []; }

  /**
   * Every cluster property (crm_config, all property sets) as name -> value, in one CIB query: the
   * mysql agent keeps its record of the last promotion there, where it outlives every node.
   */
  async clusterProperties(): Promise<ToolResult<Map<string, string>>> {
    const r = await this.tool('cibadmin', ['--query', '--scope', 'crm_config']);
    return r.ok ? { ok: true, value: parseNvpairs(r.value!) } : { ok: false, reason: r.reason };
  }

  /** Set a cluster property in the property set `set` (created if missing). */
  setClusterProperty(set: string, name: string, value: string): Promise<ToolResult<string>> {
    return this.tool('crm_attribute', ['--type', 'crm_config', '--set-name', set, '--name', name, '--update', value]);
  }

  setPromotionScore(score: string): Promise<ToolResult<string>> {
    return this.tool('crm_attribute', ['--promotion', '-v', score, ...this.nodeArgs()]);
  }

  deletePromotionScore(): Promise<ToolResult<string>> {
    return this.tool('crm_attribute', ['--promotion', '-D', ...this.nodeArgs()]);
  }

  async getPromotionScore(): Promise<ToolResult<string>> {
    const r = await this.tool('crm_attribute', ['--promotion', '-G', '-q', ...this.nodeArgs()]);
    return r.ok ? { ok: true, value: r.value!.trim() } : r;
  }

  /**
   * A transient node attribute; `private` keeps it out of the CIB (attrd only); `wait` (Pacemaker
   * 2.1.6+ only: check attrdCanWait) returns once the value is in effect locally or on every node.
   */
  setNodeAttribute(name: string, value: string, opts: { private?: boolean; node?: string; wait?: 'local' | 'cluster' } = {}): Promise<ToolResult<string>> {
    const node = opts.node ?? this.o.node;
    return this.tool('attrd_updater', ['-n', name, '-U', value, ...(opts.private ? ['-p'] : []), ...(node ? ['-N', node] : []),
      ...(opts.wait ? ['-W', opts.wait] : [])]);
  }

  /** One attribute on every node, as this node's attrd knows it (a missing attribute: empty map). */
  async queryNodeAttributeAll(name: string): Promise<ToolResult<Map<string, string>>> {
    // An agent's environment names its node (OCF_RESKEY_CRM_meta_on_node), and attrd_updater
    // 2.1.5 then answers -Q -A for that node only (seen in the lab): the election would never see
    // its peers. Without it, the answer covers every node.
    const r = await this.tool('attrd_updater', ['-n', name, '-Q', '-A'], { [ON_NODE_ENV]: undefined });
    if (r.ok) return { ok: true, value: parseAttrdQueryAll(r.value!) };
    // attrd_updater exits non-zero when no node has the attribute yet.
    if (/exited with 105|does not exist/i.test(r.reason ?? '')) return { ok: true, value: new Map() };
    return { ok: false, reason: r.reason };
  }

  async pacemakerVersion(): Promise<ToolResult<[number, number, number]>> {
    const r = await this.tool('attrd_updater', ['--version']);
    const v = r.ok ? parsePacemakerVersion(r.value!) : undefined;
    return v ? { ok: true, value: v } : { ok: false, reason: r.reason ?? 'no version in attrd_updater --version' };
  }

  /** Another node's promotion score (an election raises the winner's). */
  setPromotionScoreOf(node: string, score: string): Promise<ToolResult<string>> {
    return this.tool('crm_attribute', ['--promotion', '-v', score, '-N', node]);
  }

  /** Every node the cluster knows (crm_node -l). */
  async knownNodes(): Promise<ToolResult<string[]>> {
    const r = await this.tool('crm_node', ['-l']);
    return r.ok ? { ok: true, value: parseNodeList(r.value!) } : { ok: false, reason: r.reason };
  }

  /** Every node the cluster knows with its membership state (crm_node -l). */
  async nodeStates(): Promise<ToolResult<Map<string, string>>> {
    const r = await this.tool('crm_node', ['-l']);
    return r.ok ? { ok: true, value: parseNodeStates(r.value!) } : { ok: false, reason: r.reason };
  }

  deleteNodeAttribute(name: string, node = this.o.node): Promise<ToolResult<string>> {
    return this.tool('attrd_updater', ['-n', name, '-D', ...(node ? ['-N', node] : [])]);
  }

  async queryNodeAttribute(name: string, node = this.o.node): Promise<ToolResult<string | undefined>> {
    const r = await this.tool('attrd_updater', ['-n', name, '-Q', ...(node ? ['-N', node] : [])]);
    return r.ok ? { ok: true, value: parseAttrdQuery(r.value!) } : { ok: false, reason: r.reason };
  }

  /** Nodes running the promoted instance of this clone, from the live cluster status. */
  async promotedNodes(): Promise<ToolResult<string[]>> {
    const r = await this.tool('crm_resource', ['--locate', '-r', primitiveName(this.o.instance)]);
    return r.ok ? { ok: true, value: parseLocate(r.value!).promoted } : { ok: false, reason: r.reason };
  }

  async localNodeName(): Promise<ToolResult<string>> {
    const r = await this.tool('crm_node', ['-n']);
    return r.ok ? { ok: true, value: r.value!.trim() } : r;
  }
}
