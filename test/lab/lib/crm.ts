// Reading crm_mon's XML (`crm_mon --output-as=xml`) into plain records. crm_mon's XML is flat and
// regular, so a small attribute reader is enough; it is pure and unit-tested with real output.

export interface NodeStatus {
  name: string;
  online: boolean;
  standby: boolean;
  unclean: boolean;
  pending: boolean;
  shutdown: boolean;
}

export interface ResourceStatus {
  id: string;
  agent: string;
  role: string;
  active: boolean;
  failed: boolean;
  /** Nodes the resource runs on (more than one is a split brain the cluster knows about). */
  nodes: string[];
}

export interface FenceEvent {
  action: string;
  target: string;
  status: string;
  exitReason?: string;
  delegate?: string;
  origin?: string;
  completed?: string;
}

export interface OpFailure {
  opKey: string;
  node: string;
  exitStatus: string;
  exitReason?: string;
}

export interface ClusterStatus {
  dc?: string;
  quorate?: boolean;
  nodes: NodeStatus[];
  resources: ResourceStatus[];
  fenceHistory: FenceEvent[];
  failures: OpFailure[];
}

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
const unescape = (s: string) => s.replace(/&(quot|amp|lt|gt|apos|#\d+);/g, (_, e: string) =>
  e.startsWith('#') ? String.fromCharCode(Number(e.slice(1))) : ENTITIES[e]!);

export function attributes(tagText: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tagText.matchAll(/([A-Za-z_:][-\w:.]*)="([^"]*)"/g)) out[m[1]!] = unescape(m[2]!);
  return out;
}

/** Attributes of every `<tag ...>` in `xml`, with the element's inner text when it has any. */
export function elements(xml: string, tag: string): Array<{ attrs: Record<string, string>; inner: string }> {
  const re = new RegExp(`<${tag}(\\s[^>]*?)?(/>|>([\\s\\S]*?)</${tag}>)`, 'g');
  return [...xml.matchAll(re)].map((m) => ({ attrs: attributes(m[1] ?? ''), inner: m[3] ?? '' }));
}

const yes = (v: string | undefined) => v === 'true';

export function parseCrmMon(xml: string): ClusterStatus {
  const dcEl = elements(xml, 'current_dc')[0]?.attrs;
  const nodesSection = /<nodes>([\s\S]*?)<\/nodes>/.exec(xml)?.[1] ?? '';
  const nodes = elements(nodesSection, 'node').map(({ attrs: a }) => ({
    name: a.name ?? '',
    online: yes(a.online),
    standby: yes(a.standby),
    unclean: yes(a.unclean),
    pending: yes(a.pending),
    shutdown: yes(a.shutdown),
  }));
  const resources = elements(xml, 'resource').map(({ attrs: a, inner }) => ({
    id: a.id ?? '',
    agent: a.resource_agent ?? '',
    role: a.role ?? '',
    active: yes(a.active),
    failed: yes(a.failed),
    nodes: elements(inner, 'node').map((n) => n.attrs.name ?? ''),
  }));
  const fenceHistory = elements(xml, 'fence_event').map(({ attrs: a }) => ({
    action: a.action ?? '',
    target: a.target ?? '',
    status: a.status ?? '',
    exitReason: a['exit-reason'] || a.exit_reason || undefined,
    delegate: a.delegate,
    origin: a.origin,
    completed: a.completed,
  }));
  const failures = elements(xml, 'failure').map(({ attrs: a }) => ({
    opKey: a.op_key ?? '',
    node: a.node ?? '',
    exitStatus: a.exitstatus ?? '',
    exitReason: a.exitreason || undefined,
  }));
  return {
    dc: dcEl && yes(dcEl.present) ? dcEl.name : undefined,
    quorate: dcEl ? yes(dcEl.with_quorum) : undefined,
    nodes,
    resources,
    fenceHistory,
    failures,
  };
}

/** Nodes a resource runs on, by crm_mon. */
export function runningOn(s: ClusterStatus, rsc: string): string[] {
  return s.resources.find((r) => r.id === rsc)?.nodes ?? [];
}
