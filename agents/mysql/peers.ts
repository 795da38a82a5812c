// How a replica reaches another node's server. By default the node name itself is the host (the
// server resolves it, so /etc/hosts or DNS decide); node_map overrides per node, with an optional
// port, for clusters whose node names are not resolvable or whose servers listen elsewhere.
export interface PeerAddress { host: string; port: number }
export interface NodeMap { map: Map<string, { host: string; port?: number }>; problem?: string }

export function parseNodeMap(s: string): NodeMap {
  const map = new Map<string, { host: string; port?: number }>();
  for (const item of s.split(/[\s,;]+/).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) return { map, problem: `"${item}" is not node=address[:port]` };
    const node = item.slice(0, eq);
    const addr = item.slice(eq + 1);
    let host = addr;
    let port: number | undefined;
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr);
    if (v6) {
      host = v6[1]!;
      if (v6[2]) port = Number(v6[2]);
    } else if ((addr.match(/:/g) ?? []).length === 1) {
      const [h, p] = addr.split(':');
      host = h!;
      if (!/^\d+$/.test(p!)) return { map, problem: `"${item}": port "${p}" is not a number` };
      port = Number(p);
    } else if (addr.includes(':')) {
      return { map, problem: `"${item}": write IPv6 addresses in brackets, [2001:db8::1]:3306` };
    }
    if (port !== undefined && (port < 1 || port > 65535)) return { map, problem: `"${item}": port ${port} is out of range` };
    if (!host) return { map, problem: `"${item}" has an empty address` };
    if (map.has(node)) return { map, problem: `node ${node} appears twice` };
    map.set(node, port === undefined ? { host } : { host, port });
  }
  return { map };
}

export function peerAddress(node: string, nodeMap: NodeMap, defaultPort: number): PeerAddress {
  const m = nodeMap.map.get(node);
  return { host: m?.host ?? node, port: m?.port ?? defaultPort };
}
