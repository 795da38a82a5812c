// The lab's plan: names, addresses, MACs and the text of every configuration file, as pure
// functions of the lab's configuration. Nothing here touches the system, so the whole layout can
// be read (and unit-tested) in one place.
//
//   node LAN   192.0.2.0/24      nodes .11-.18, VIPs .100-.199, client .200 (+ probe sources .201-.216)
//   mgmt LAN   198.51.100.0/24   nodes .11-.18 (to reach BMCs), BMCs .101-.108
//   switch     named netns <prefix>-sw with bridges `lan` and `mgmt`, no link to the host
//   BMCs       named netns <prefix>-bmc<i>, one ipmi_sim each on UDP 623
//   client     named netns <prefix>-client on the node LAN
//   nodes      anonymous namespaces (net, uts, ipc, mount, pid): powering off kills them all
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const LAB_BIN = join(REPO_ROOT, 'test', 'lab', 'bin');
export const DEFAULT_LAB_DIR = '/var/lib/vigil-lab';
export const CLUSTER_NAME = 'vigil-lab';
/** The PATH every node process gets (nodes start from a clean environment, as under systemd). */
export const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/**
 * Folders every node gets fresh and empty at boot (bin/node-init mounts a tmpfs on each), so a
 * host path beneath one of them is invisible inside a node unless the node keeps it ('keep' steps).
 */
export const NODE_PRIVATE_DIRS: readonly string[] = ['/tmp', '/run', '/dev/shm'];

/** The node-private folder `path` lies in (or is), if any; `path` must be absolute and resolved. */
export function nodePrivateRoot(path: string): string | undefined {
  return NODE_PRIVATE_DIRS.find((d) => path === d || path.startsWith(`${d}/`));
}

/**
 * Which of `paths` (absolute, symlinks resolved) a node must keep visible at the same place:
 * those under a node-private folder, without the ones another kept path already contains.
 */
export function keptPaths(paths: readonly string[]): string[] {
  const under = (a: string, b: string) => a === b || a.startsWith(`${b}/`);
  const priv = [...new Set(paths.map((p) => p.replace(/\/+$/, '') || '/'))].filter((p) => nodePrivateRoot(p));
  return priv.filter((p) => !priv.some((q) => q !== p && under(p, q))).sort();
}

export interface LabConfig {
  /** Persistent state: per-node disks, BMC state, pid files, logs. Never inside the git tree. */
  dir: string;
  /** Prefix of the named network namespaces, so two labs (or other tests) never collide. */
  prefix: string;
  nodes: number;
  /** corosync totem token in ms. */
  tokenMs: number;
  /** Simulated POST: power-on waits this long before the node boots. Longer than token + consensus. */
  postDelayMs: number;
  /**
   * The agents every node sees: a tree shaped like dist/ (resource.d/<provider>/<agent>,
   * sbin/fence_<agent>) or an unpacked package root (usr/lib/ocf/resource.d/..., usr/sbin/...).
   */
  agentsDir: string;
  bmcUser: string;
  bmcPassword: string;
}

export const DEFAULTS: Omit<LabConfig, 'dir'> = {
  prefix: 'vlab',
  nodes: 3,
  tokenMs: 3000,
  postDelayMs: 10_000,
  agentsDir: join(REPO_ROOT, 'dist'),
  bmcUser: 'admin',
  bmcPassword: 'vigil-lab-bmc',
};

export const MAX_NODES = 8;

/** Every problem with a configuration, empty when it is usable. */
export function configProblems(c: LabConfig): string[] {
  const p: string[] = [];
  if (!isAbsolute(c.dir)) p.push(`lab dir must be absolute: ${c.dir}`);
  const rel = relative(REPO_ROOT, resolve(c.dir));
  if (!rel.startsWith('..') && !isAbsolute(rel)) p.push(`lab dir must not be inside the git tree: ${c.dir}`);
  if (/[\s'"\\$`]/.test(c.dir)) p.push(`lab dir must not contain spaces, quotes or shell characters: ${c.dir}`);
  const priv = isAbsolute(c.dir) ? nodePrivateRoot(resolve(c.dir).replace(/^\/var\/run(?=\/|$)/, '/run')) : undefined;
  if (priv) {
    p.push(`lab dir must not be under ${priv}: every node gets its own empty ${priv} and would not see its disk ` +
      `(set VIGIL_LAB_DIR to a folder elsewhere, e.g. ${DEFAULT_LAB_DIR}, or leave it unset)`);
  }
  if (!/^[a-z][a-z0-9]{0,7}$/.test(c.prefix)) p.push(`prefix must be 1-8 lowercase letters/digits: ${c.prefix}`);
  if (!Number.isInteger(c.nodes) || c.nodes < 2 || c.nodes > MAX_NODES) p.push(`nodes must be 2..${MAX_NODES}: ${c.nodes}`);
  if (!Number.isInteger(c.tokenMs) || c.tokenMs < 300 || c.tokenMs > 60_000) p.push(`token must be 300..60000 ms: ${c.tokenMs}`);
  const consensus = consensusMs(c.tokenMs);
  if (c.postDelayMs < c.tokenMs + consensus) {
    p.push(`post delay ${c.postDelayMs} ms must exceed token + consensus (${c.tokenMs + consensus} ms), ` +
      'or a rebooted node returns before the survivors dropped it and stops itself ("We were allegedly just fenced")');
  }
  if (!isAbsolute(c.agentsDir) || /[\t\n]/.test(c.agentsDir)) p.push(`agents dir must be an absolute path without tabs or newlines: ${c.agentsDir}`);
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(c.bmcUser)) p.push('bmc user must be 1-16 letters, digits, _ or -');
  if (!/^[A-Za-z0-9_-]{1,20}$/.test(c.bmcPassword)) p.push('bmc password must be 1-20 letters, digits, _ or -');
  return p;
}

/** corosync's default: 1.2 x token. */
export function consensusMs(tokenMs: number): number { return Math.round(tokenMs * 1.2); }

export interface NodePlan {
  index: number;
  name: string;
  lanIp: string;
  mgmtIp: string;
  lanMac: string;
  mgmtMac: string;
  bmcIp: string;
  bmcMac: string;
  /** Named netns of this node's BMC. */
  bmcNetns: string;
  /** Ports on the switch (inside the switch netns). */
  lanPort: string;
  mgmtPort: string;
  bmcPort: string;
}

const hex = (n: number) => n.toString(16).padStart(2, '0');

export function nodeNames(c: Pick<LabConfig, 'nodes'>): string[] {
  return Array.from({ length: c.nodes }, (_, i) => `n${i + 1}`);
}

export function nodeIndex(name: string, c: Pick<LabConfig, 'nodes'>): number {
  const m = /^n([1-9])$/.exec(name);
  const i = m ? Number(m[1]) : NaN;
  if (!(i >= 1 && i <= c.nodes)) throw new Error(`no node ${JSON.stringify(name)} in this lab (n1..n${c.nodes})`);
  return i;
}

export function nodePlan(c: Pick<LabConfig, 'prefix' | 'nodes'>, name: string): NodePlan {
  const i = nodeIndex(name, c);
  return {
    index: i,
    name,
    lanIp: `192.0.2.${10 + i}`,
    mgmtIp: `198.51.100.${10 + i}`,
    lanMac: `02:00:c0:00:02:${hex(10 + i)}`,
    mgmtMac: `02:00:c6:33:64:${hex(10 + i)}`,
    bmcIp: `198.51.100.${100 + i}`,
    bmcMac: `02:00:c6:33:64:${hex(100 + i)}`,
    bmcNetns: `${c.prefix}-bmc${i}`,
    lanPort: `${name}-lan`,
    mgmtPort: `${name}-mgmt`,
    bmcPort: `bmc${i}`,
  };
}

export const CLIENT = { ip: '192.0.2.200', mac: '02:00:c0:00:02:c8', port: 'client' } as const;
/**
 * Extra client addresses, one per concurrent ARP probe of the sampler: every arping on the
 * interface sees every ARP reply to the client's MAC, and only the target address (our source)
 * tells whose probe a reply answers.
 */
export const PROBE_SOURCES: readonly string[] = Array.from({ length: 16 }, (_, i) => `192.0.2.${201 + i}`);
/** The first address of the VIP range; scenarios use VIP_BASE, VIP_BASE+1, ... */
export const VIP_BASE = '192.0.2.100';

export function switchNetns(c: Pick<LabConfig, 'prefix'>): string { return `${c.prefix}-sw`; }
export function clientNetns(c: Pick<LabConfig, 'prefix'>): string { return `${c.prefix}-client`; }
export function allNetns(c: Pick<LabConfig, 'prefix' | 'nodes'>): string[] {
  return [switchNetns(c), clientNetns(c), ...nodeNames(c).map((n) => nodePlan(c, n).bmcNetns)];
}

/** Where things live in the lab folder. */
export function paths(dir: string) {
  const node = (n: string) => {
    const base = join(dir, 'nodes', n);
    const disk = join(base, 'disk');
    return {
      base,
      disk,
      conf: join(base, 'node.conf'),
      mounts: join(base, 'mounts'),
      bootHooks: join(base, 'boot.d'),
      pid: join(base, 'pid'),
      unsharePid: join(base, 'unshare.pid'),
      bootPid: join(base, 'boot.pid'),
      cutMarker: (link: LinkName) => join(base, `cut-${link}`),
      logDir: join(base, 'log'),
      initLog: join(base, 'log', 'init.log'),
      corosyncConf: join(disk, 'etc-corosync', 'corosync.conf'),
      authkey: join(disk, 'etc-corosync', 'authkey'),
      cibDir: join(disk, 'var-lib-pacemaker', 'cib'),
      pacemakerLog: join(disk, 'var-log-pacemaker', 'pacemaker.log'),
      corosyncLog: join(disk, 'var-log-corosync', 'corosync.log'),
    };
  };
  const bmc = (n: string) => {
    const base = join(dir, 'bmc', n);
    return { base, lanConf: join(base, 'lan.conf'), emu: join(base, 'sim.emu'), state: join(base, 'state'),
      pid: join(base, 'pid'), log: join(base, 'ipmi_sim.log') };
  };
  return {
    dir,
    config: join(dir, 'lab.json'),
    lock: join(dir, 'lock'),
    events: join(dir, 'events'),
    eventsLog: join(dir, 'events', 'alerts.log'),
    clientDir: join(dir, 'client'),
    /** Links to the lab programs other software stores a path to (see LINKED_PROGRAMS). */
    bin: join(dir, 'bin'),
    node,
    bmc,
  };
}

export type LinkName = 'lan' | 'mgmt';

/**
 * Lab programs whose path outlives one lab:up or cannot hold a space: the CIB stores the alert
 * agent's (a kept disk keeps it from an earlier checkout), ipmi_sim's lan.conf the chassis
 * program's (unquoted). Both get a link in the lab folder, renewed at every lab:up, to this
 * checkout's program.
 */
export const LINKED_PROGRAMS: readonly string[] = ['alert', 'chassis'];

/** The node's disk: host folder -> path inside the node. Owner 'hacluster' where pacemaker writes. */
export const DISK_LAYOUT: ReadonlyArray<{ dir: string; target: string; owner?: 'hacluster'; mode?: number }> = [
  { dir: 'etc-corosync', target: '/etc/corosync' },
  { dir: 'var-lib-corosync', target: '/var/lib/corosync' },
  { dir: 'var-log-corosync', target: '/var/log/corosync' },
  { dir: 'var-lib-pacemaker', target: '/var/lib/pacemaker' },
  { dir: 'var-lib-pacemaker/cib', target: '', owner: 'hacluster', mode: 0o750 },
  { dir: 'var-lib-pacemaker/pengine', target: '', owner: 'hacluster', mode: 0o750 },
  { dir: 'var-lib-pacemaker/blackbox', target: '', owner: 'hacluster', mode: 0o750 },
  { dir: 'var-lib-pacemaker/cores', target: '', owner: 'hacluster', mode: 0o750 },
  { dir: 'var-log-pacemaker', target: '/var/log/pacemaker', owner: 'hacluster', mode: 0o770 },
  { dir: 'var-log-pacemaker/bundles', target: '', owner: 'hacluster', mode: 0o770 },
  { dir: 'var-lib-pcsd', target: '/var/lib/pcsd', mode: 0o700 },
];

/**
 * A step of a node's mounts file (see bin/node-init). Fields are separated by tabs, so paths may
 * hold spaces (a checkout in "/root/my work/vigil"); tabs and newlines are refused.
 */
export type MountStep =
  /** The host's folder `at` stays visible at `at` although it lies under a node-private folder. */
  | { op: 'keep'; at: string }
  | { op: 'bind'; from: string; to: string }
  | { op: 'tmpfs'; at: string }
  | { op: 'overlay'; at: string }
  | { op: 'mkdir'; at: string }
  | { op: 'symlink'; target: string; at: string };

export function mountsText(steps: readonly MountStep[]): string {
  const line = (s: MountStep): string[] => {
    switch (s.op) {
      case 'keep': return ['keep', s.at];
      case 'bind': return ['bind', s.from, s.to];
      case 'tmpfs': return ['tmpfs', s.at];
      case 'overlay': return ['overlay', s.at];
      case 'mkdir': return ['mkdir', s.at];
      case 'symlink': return ['symlink', s.target, s.at];
    }
  };
  return steps.map((s) => {
    const words = line(s);
    for (const w of words.slice(1)) {
      if (!isAbsolute(w) || /[\t\n\r]/.test(w)) throw new Error(`mount step path must be absolute, without tabs or newlines: ${JSON.stringify(w)}`);
    }
    return words.join('\t');
  }).join('\n') + '\n';
}

/**
 * The base mounts of every node: the host folders it must keep although they lie under its
 * private /tmp, /run or /dev/shm (a checkout in /tmp/x: the agents' and the lab programs' links
 * point there), its disk over the cluster's state folders, then the agents under test over the
 * distribution's agent folders (an overlay, so the host's own /usr/lib/ocf and /usr/sbin are never
 * written).
 */
export function baseMounts(
  disk: string, agents: { ocfDir: string; sbinDir: string; providers: string[]; fenceAgents: string[] }, keep: readonly string[] = [],
): MountStep[] {
  const steps: MountStep[] = keep.map((at) => ({ op: 'keep' as const, at }));
  steps.push(...DISK_LAYOUT.filter((d) => d.target)
    .map((d) => ({ op: 'bind' as const, from: join(disk, d.dir), to: d.target })));
  steps.push({ op: 'bind', from: join(disk, 'hosts'), to: '/etc/hosts' });
  steps.push({ op: 'bind', from: join(disk, 'hostname'), to: '/etc/hostname' });
  if (agents.providers.length) {
    steps.push({ op: 'overlay', at: '/usr/lib/ocf/resource.d' });
    for (const p of agents.providers) {
      steps.push({ op: 'symlink', target: join(agents.ocfDir, p), at: `/usr/lib/ocf/resource.d/${p}` });
    }
  }
  if (agents.fenceAgents.length) {
    steps.push({ op: 'overlay', at: '/usr/sbin' });
    for (const f of agents.fenceAgents) {
      steps.push({ op: 'symlink', target: join(agents.sbinDir, f), at: `/usr/sbin/${f}` });
    }
  }
  return steps;
}

/** node.conf: read by node-init (addresses) and by the BMC's chassis program (which cables to pull at power-off). */
export function nodeConfText(p: NodePlan, switchNs: string): string {
  return [`NAME=${p.name}`, `LAN_ADDR=${p.lanIp}/24`, `MGMT_ADDR=${p.mgmtIp}/24`,
    `SWITCH_NETNS=${switchNs}`, `LAN_PORT=${p.lanPort}`, `MGMT_PORT=${p.mgmtPort}`].join('\n') + '\n';
}

export function hostsText(c: Pick<LabConfig, 'prefix' | 'nodes'>): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
  for (const n of nodeNames(c)) {
    const p = nodePlan(c, n);
    lines.push(`${p.lanIp} ${n}`, `${p.mgmtIp} ${n}-mgmt`, `${p.bmcIp} ${n}-bmc`);
  }
  lines.push(`${CLIENT.ip} client`);
  return lines.join('\n') + '\n';
}

export function corosyncConf(c: Pick<LabConfig, 'prefix' | 'nodes' | 'tokenMs'>): string {
  const nodes = nodeNames(c).map((n) => {
    const p = nodePlan(c, n);
    return `    node {\n        ring0_addr: ${p.lanIp}\n        name: ${n}\n        nodeid: ${p.index}\n    }`;
  });
  return `# Written by the vigil lab (test/lab). Changes are overwritten by lab:up.
totem {
    version: 2
    cluster_name: ${CLUSTER_NAME}
    transport: knet
    token: ${c.tokenMs}
    crypto_cipher: aes256
    crypto_hash: sha256
}

nodelist {
${nodes.join('\n')}
}

quorum {
    provider: corosync_votequorum
${c.nodes === 2 ? '    two_node: 1\n' : ''}}

logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: no
    to_stderr: no
    timestamp: hires
}
`;
}

/** Cluster properties every lab starts with (a fresh CIB would wait 20 s for a DC otherwise). */
export const CLUSTER_PROPERTIES: Readonly<Record<string, string>> = {
  'stonith-enabled': 'true',
  'dc-deadtime': '5s',
  'cluster-name': CLUSTER_NAME,
  // A fence device that failed is tried again soon: the BMC-down scenario restores the BMC.
  'cluster-recheck-interval': '1min',
  // No throttling for CPU load: the nodes share one machine, and /proc/loadavg is not per namespace,
  // so each node would report the load of all three (and of whatever else runs) as its own and
  // Pacemaker would run one action at a time cluster-wide (seen: every notification of a failover
  // serialized, "High CPU load detected: 8.26", failovers 3-5x slower). 0 turns the throttle off.
  'load-threshold': '0%',
};

/** The alert that records every node, fencing and resource event with microseconds. */
export function alertXml(alertAgent: string, eventsLog: string): string {
  return `<alert id="lab-events" path="${alertAgent}">` +
    `<recipient id="lab-events-log" value="${eventsLog}"/></alert>`;
}

export function ipmiLanConf(c: Pick<LabConfig, 'dir' | 'bmcUser' | 'bmcPassword'>, p: NodePlan, chassis: string): string {
  const guid = `a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5${hex(p.index)}`;
  return `# ipmi_sim LAN configuration for the BMC of ${p.name} (written by the vigil lab)
name "${p.name}-bmc"
set_working_mc 0x20
  startlan 1
    addr ${p.bmcIp} 623
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid ${guid}
  endlan
  chassis_control "${chassis} ${c.dir} ${p.name}"
  user 2 true "${c.bmcUser}" "${c.bmcPassword}" admin 10 md2 md5 straight
`;
}

export const IPMI_EMU = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
mc_enable 0x20
`;
