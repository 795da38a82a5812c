// The lab: a real Pacemaker/Corosync cluster of namespaced nodes on one machine, with one
// ipmi_sim BMC per node, isolated switches and a client namespace. This module is the API that
// the CLI (test/lab/lab, npm run lab:up|lab:down), the scenarios and later the demo use.
//
// Safety: every process is started through bin/daemon (pid file with start time) and stopped by
// that pid; every network object lives in a namespace the lab created (named <prefix>-*, or a
// node's anonymous namespace); the host's interfaces, routes and /usr are never touched.
import {
  accessSync, appendFileSync, chmodSync, chownSync, constants, existsSync, mkdirSync, readdirSync,
  readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { run, describeResult, redact, type RunResult } from '../../../lib/exec.ts';
import { Deadline, pollUntil, sleep } from '../../../lib/deadline.ts';
import {
  CLIENT, CLUSTER_PROPERTIES, PROBE_SOURCES, DEFAULT_LAB_DIR, DEFAULTS, DISK_LAYOUT, IPMI_EMU, LAB_BIN, LINKED_PROGRAMS, NODE_PATH,
  REPO_ROOT, alertXml, allNetns, baseMounts, clientNetns, configProblems, corosyncConf, hostsText, ipmiLanConf, keptPaths,
  mountsText, nodeConfText, nodeNames, nodePlan, paths, switchNetns,
  type LabConfig, type LinkName, type MountStep, type NodePlan,
} from './plan.ts';
import { isLive, killPidFile, livePid, readPidFile, signalPidFile } from './proc.ts';
import { parseCrmMon, type ClusterStatus } from './crm.ts';

export class LabError extends Error {}

/** Programs the lab needs, with the Debian package that has each. */
export const REQUIRED_PROGRAMS: ReadonlyArray<[string, string]> = [
  ['corosync', 'corosync'], ['corosync-cfgtool', 'corosync'], ['pacemakerd', 'pacemaker'],
  ['crm_mon', 'pacemaker-cli-utils'], ['crm_resource', 'pacemaker-cli-utils'], ['cibadmin', 'pacemaker-cli-utils'],
  ['stonith_admin', 'pacemaker-cli-utils'], ['crm_attribute', 'pacemaker-cli-utils'], ['pcs', 'pcs'],
  ['ipmi_sim', 'openipmi'], ['ipmitool', 'ipmitool'], ['arping', 'iputils-arping'],
  ['nsenter', 'util-linux'], ['unshare', 'util-linux'], ['setsid', 'util-linux'], ['ip', 'iproute2'], ['ss', 'iproute2'],
  ['fence_ipmilan', 'fence-agents'],
];
const REQUIRED_FILES: ReadonlyArray<[string, string]> = [
  ['/usr/lib/ocf/resource.d/heartbeat/IPaddr2', 'resource-agents'],
];

export function findProgram(name: string): string | undefined {
  for (const d of NODE_PATH.split(':')) {
    const p = join(d, name);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

/** Why the lab cannot run here (not root, missing packages, no overlayfs), or [] when it can. */
export function preflightProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('the lab needs root (namespaces, bridges, mounts): run it as root');
  const missing = new Map<string, string[]>();
  for (const [prog, pkg] of REQUIRED_PROGRAMS) {
    if (!findProgram(prog)) missing.set(pkg, [...(missing.get(pkg) ?? []), prog]);
  }
  for (const [file, pkg] of REQUIRED_FILES) {
    if (!existsSync(file)) missing.set(pkg, [...(missing.get(pkg) ?? []), file]);
  }
  if (missing.size) {
    problems.push(`missing packages: ${[...missing.keys()].join(' ')} (for ${[...missing.values()].flat().join(', ')}); ` +
      `install with: apt-get install -y ${[...missing.keys()].join(' ')}`);
  }
  try {
    if (!/\boverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) problems.push('the kernel has no overlayfs (modprobe overlay)');
  } catch { /* not Linux: the root check already failed */ }
  return problems;
}

export interface UpOptions extends Partial<Omit<LabConfig, 'dir'>> {
  dir?: string;
  /** Wipe every node's disk (CIB, logs) first. */
  fresh?: boolean;
  /** How long to wait for every node Online with a DC (ms). */
  waitMs?: number;
  log?: (line: string) => void;
}

export interface OnOptions {
  timeoutMs?: number;
  input?: string;
  /** Extra environment inside the node (the node's environment is otherwise clean). */
  env?: Record<string, string>;
}

const CMD_TIMEOUT = 30_000;

function labDirFromEnv(): string { return process.env.VIGIL_LAB_DIR || DEFAULT_LAB_DIR; }

export function readConfig(dir: string): LabConfig | undefined {
  try { return { ...DEFAULTS, ...JSON.parse(readFileSync(paths(dir).config, 'utf8')), dir } as LabConfig; } catch { return undefined; }
}

export class Lab {
  readonly p: ReturnType<typeof paths>;
  log: (line: string) => void;

  constructor(readonly config: LabConfig, log?: (line: string) => void) {
    this.p = paths(config.dir);
    this.log = log ?? (() => {});
  }

  /** The lab described by $VIGIL_LAB_DIR (or the default folder). */
  static open(dir = labDirFromEnv(), log?: (line: string) => void): Lab {
    const c = readConfig(dir);
    if (!c) throw new LabError(`no lab in ${dir} (bring one up with: npm run lab:up)`);
    return new Lab(c, log);
  }

  get nodes(): string[] { return nodeNames(this.config); }
  plan(node: string): NodePlan { return nodePlan(this.config, node); }

  // ---------------------------------------------------------------- lifecycle

  static async up(opts: UpOptions = {}): Promise<Lab> {
    const problems = preflightProblems();
    if (problems.length) throw new LabError(`cannot bring the lab up:\n  - ${problems.join('\n  - ')}`);
    const dir = opts.dir ?? labDirFromEnv();
    const old = readConfig(dir);
    const config: LabConfig = {
      ...DEFAULTS, ...(old ?? {}),
      ...Object.fromEntries(Object.entries(opts).filter(([k, v]) => v !== undefined && k in DEFAULTS)),
      // The agents come from this checkout unless asked otherwise: an old lab.json (another
      // checkout, an unpacked package) must not decide which agents a new lab runs.
      agentsDir: opts.agentsDir ?? DEFAULTS.agentsDir,
      dir,
    } as LabConfig;
    const bad = configProblems(config);
    const tree = findAgents(config.agentsDir);
    if (!tree.providers.length || !tree.fenceAgents.length) {
      bad.push(`no agents in ${config.agentsDir} (expected resource.d/<provider>/ and sbin/fence_*: run npm run build, or pass --agents <unpacked package root>)`);
    }
    if (bad.length) throw new LabError(`bad lab configuration:\n  - ${bad.join('\n  - ')}`);
    const log = opts.log ?? (() => {});
    // A different shape (or prefix) cannot be patched in place: stop the old lab first, by its
    // own configuration, and start from clean disks.
    let fresh = opts.fresh ?? false;
    if (old && (old.nodes !== config.nodes || old.prefix !== config.prefix)) {
      log(`lab shape changed (${old.nodes} -> ${config.nodes} nodes): tearing the old one down`);
      await new Lab(old, log).down();
      fresh = true;
    } else if (old && (fresh || old.tokenMs !== config.tokenMs)) {
      // Running nodes read corosync.conf only at boot: a new token needs them restarted.
      await new Lab(old, log).down();
    }
    const lab = new Lab(config, log);
    await lab.withLock(async () => {
      const started = Date.now();
      lab.prepareDisks(fresh);
      await lab.prepareCib();
      await lab.ensureSwitch();
      await lab.ensureClient();
      await Promise.all(lab.nodes.map((n) => lab.ensureBmc(n)));
      await Promise.all(lab.nodes.map((n) => lab.boot(n)));
      log(`nodes booted in ${Date.now() - started} ms; waiting for the cluster`);
      await lab.waitReady(opts.waitMs ?? 120_000);
      log(`lab up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lab.nodes.join(' ')} online`);
    });
    return lab;
  }

  /** Stop everything the lab started and delete its namespaces. Safe on a half-built or crashed lab. */
  async down(opts: { purge?: boolean } = {}): Promise<void> {
    // BMCs and pending boots first, so nothing powers a node on again while we stop it.
    for (const n of this.nodes) {
      await killPidFile(this.p.bmc(n).pid);
      await killPidFile(this.p.node(n).bootPid);
    }
    for (const n of this.nodes) await killPidFile(this.p.node(n).pid, 10_000);
    for (const n of this.nodes) await killPidFile(this.p.node(n).unsharePid);
    for (const f of this.listPidFiles(this.p.clientDir)) await killPidFile(f);
    for (const ns of allNetns(this.config)) {
      if (existsSync(`/run/netns/${ns}`)) {
        const r = await run('ip', ['netns', 'delete', ns], { timeoutMs: CMD_TIMEOUT });
        if (r.code !== 0) this.log(`warning: ${describeResult(r)}`);
      }
    }
    rmSync(this.p.lock, { force: true });
    if (opts.purge) rmSync(this.config.dir, { recursive: true, force: true });
    this.log(`lab down${opts.purge ? ' (purged)' : ''}`);
  }

  private listPidFiles(dir: string): string[] {
    try { return readdirSync(dir).filter((f) => f.endsWith('.pid')).map((f) => join(dir, f)); } catch { return []; }
  }

  /** One lab command at a time changes the lab (up/down); a crashed holder's lock is taken over. */
  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(this.config.dir, { recursive: true });
    const held = readPidFile(this.p.lock);
    if (isLive(held) && held.pid !== process.pid) throw new LabError(`another lab command (pid ${held.pid}) is running`);
    const self = readFileSync('/proc/self/stat', 'utf8');
    writeFileSync(this.p.lock, `${process.pid} ${self.slice(self.lastIndexOf(')') + 2).split(' ')[19]}\n`);
    try { return await fn(); } finally { rmSync(this.p.lock, { force: true }); }
  }

  private prepareDisks(fresh: boolean): void {
    const c = this.config;
    if (fresh) {
      for (const d of ['nodes', 'bmc', 'events', 'client']) rmSync(join(c.dir, d), { recursive: true, force: true });
    }
    mkdirSync(c.dir, { recursive: true, mode: 0o755 });
    chmodSync(c.dir, 0o755); // alert agents run as hacluster and must reach the events folder
    this.linkPrograms();
    writeFileSync(this.p.config, JSON.stringify({ ...c, dir: undefined, createdBy: 'test/lab' }, null, 2) + '\n');
    mkdirSync(this.p.events, { recursive: true });
    chmodSync(this.p.events, 0o1777);
    if (!existsSync(this.p.eventsLog)) writeFileSync(this.p.eventsLog, '');
    chmodSync(this.p.eventsLog, 0o666);
    mkdirSync(this.p.clientDir, { recursive: true });
    const { uid, gid } = hacluster();
    // One authkey for the whole cluster, kept across lab:up runs.
    const keys = this.nodes.map((n) => this.p.node(n).authkey).filter((f) => existsSync(f));
    const key = keys.length ? readFileSync(keys[0]!) : randomBytes(256);
    for (const n of this.nodes) {
      const np = this.p.node(n);
      for (const d of DISK_LAYOUT) {
        const path = join(np.disk, d.dir);
        mkdirSync(path, { recursive: true });
        if (d.owner) chownSync(path, uid, gid);
        if (d.mode !== undefined) chmodSync(path, d.mode);
      }
      mkdirSync(np.logDir, { recursive: true });
      mkdirSync(np.bootHooks, { recursive: true });
      writeFileSync(np.corosyncConf, corosyncConf(c));
      writeFileSync(np.authkey, key, { mode: 0o400 });
      writeFileSync(join(np.disk, 'hosts'), hostsText(c));
      writeFileSync(join(np.disk, 'hostname'), `${n}\n`);
      writeFileSync(np.conf, nodeConfText(this.plan(n), switchNetns(this.config)));
    }
  }

  /** The lab folder's links to this checkout's programs (LINKED_PROGRAMS), each replaced atomically. */
  private linkPrograms(): void {
    mkdirSync(this.p.bin, { recursive: true, mode: 0o755 });
    for (const name of LINKED_PROGRAMS) {
      const link = join(this.p.bin, name);
      const tmp = `${link}.${process.pid}.tmp`;
      rmSync(tmp, { force: true });
      symlinkSync(join(LAB_BIN, name), tmp);
      renameSync(tmp, link);
    }
  }

  /** A node whose disk has no CIB starts from one with the lab's properties and event alert. */
  private async prepareCib(): Promise<void> {
    const need = this.nodes.filter((n) => !existsSync(join(this.p.node(n).cibDir, 'cib.xml')));
    if (!need.length) return;
    const file = join(this.config.dir, 'cib-seed.xml');
    const empty = await run('cibadmin', ['--empty'], { timeoutMs: CMD_TIMEOUT });
    must(empty);
    writeFileSync(file, empty.stdout);
    const env = { CIB_file: file };
    for (const [name, value] of Object.entries(CLUSTER_PROPERTIES)) {
      must(await run('crm_attribute', ['--type', 'crm_config', '--name', name, '--update', value], { timeoutMs: CMD_TIMEOUT, env }));
    }
    must(await run('cibadmin', ['--create', '--scope', 'configuration', '--xml-text',
      `<alerts>${alertXml(join(this.p.bin, 'alert'), this.p.eventsLog)}</alerts>`], { timeoutMs: CMD_TIMEOUT, env }));
    const { uid, gid } = hacluster();
    for (const n of need) {
      const target = join(this.p.node(n).cibDir, 'cib.xml');
      writeFileSync(target, readFileSync(file), { mode: 0o600 });
      chownSync(target, uid, gid);
    }
  }

  async waitReady(timeoutMs: number, nodes = this.nodes): Promise<ClusterStatus> {
    const d = new Deadline(timeoutMs);
    let last: ClusterStatus | undefined;
    const ok = await pollUntil(async () => {
      const on = nodes.find((n) => this.nodePid(n));
      if (!on) return undefined;
      last = await this.status(on).catch(() => undefined);
      if (!last?.dc) return undefined;
      return nodes.every((n) => last!.nodes.find((x) => x.name === n)?.online) ? last : undefined;
    }, 500, d);
    if (!ok) {
      throw new LabError(`cluster not ready after ${timeoutMs} ms: ${last ? describeStatus(last) : 'no answer from crm_mon'}`);
    }
    return ok;
  }

  // ---------------------------------------------------------------- network

  private async ip(args: string[]): Promise<RunResult> {
    return run('ip', args, { timeoutMs: CMD_TIMEOUT });
  }

  private async ensureNetns(ns: string): Promise<void> {
    if (!existsSync(`/run/netns/${ns}`)) must(await this.ip(['netns', 'add', ns]));
    must(await this.ip(['-n', ns, 'link', 'set', 'lo', 'up']));
  }

  private async ensureSwitch(): Promise<void> {
    const sw = switchNetns(this.config);
    await this.ensureNetns(sw);
    for (const [br, mac] of [['lan', '02:00:c0:00:02:01'], ['mgmt', '02:00:c6:33:64:01']] as const) {
      const exists = await this.ip(['-n', sw, 'link', 'show', br]);
      if (exists.code !== 0) must(await this.ip(['-n', sw, 'link', 'add', br, 'address', mac, 'type', 'bridge']));
      must(await this.ip(['-n', sw, 'link', 'set', br, 'up']));
    }
  }

  /**
   * Plug a cable: a veth pair from a switch port to `ifname` inside `target` (a named netns or a
   * pid), with a fixed MAC on the far end. A leftover port of a previous life is removed first.
   */
  private async plug(bridge: 'lan' | 'mgmt', port: string, target: string | number, ifname: string, mac: string, up = true): Promise<void> {
    const sw = switchNetns(this.config);
    if ((await this.ip(['-n', sw, 'link', 'show', port])).code === 0) await this.ip(['-n', sw, 'link', 'del', port]);
    must(await this.ip(['-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'address', mac, 'netns', String(target)]));
    must(await this.ip(['-n', sw, 'link', 'set', port, 'master', bridge]));
    if (up) must(await this.ip(['-n', sw, 'link', 'set', port, 'up']));
  }

  private async ensureClient(): Promise<void> {
    const ns = clientNetns(this.config);
    await this.ensureNetns(ns);
    if ((await this.ip(['-n', ns, 'link', 'show', 'eth0'])).code === 0) return;
    await this.plug('lan', CLIENT.port, ns, 'eth0', CLIENT.mac);
    must(await this.ip(['-n', ns, 'addr', 'add', `${CLIENT.ip}/24`, 'dev', 'eth0']));
    for (const a of PROBE_SOURCES) must(await this.ip(['-n', ns, 'addr', 'add', `${a}/24`, 'dev', 'eth0']));
    must(await this.ip(['-n', ns, 'link', 'set', 'eth0', 'up']));
  }

  /** Pull a node's cable out of the switch (it stays out across reboots until restored). */
  async cut(node: string, link: LinkName = 'lan'): Promise<void> {
    const p = this.plan(node);
    writeFileSync(this.p.node(node).cutMarker(link), '');
    const r = await this.ip(['-n', switchNetns(this.config), 'link', 'set', link === 'lan' ? p.lanPort : p.mgmtPort, 'down']);
    if (r.code !== 0 && this.nodePid(node)) must(r);
  }

  async restore(node: string, link: LinkName = 'lan'): Promise<void> {
    const p = this.plan(node);
    rmSync(this.p.node(node).cutMarker(link), { force: true });
    const r = await this.ip(['-n', switchNetns(this.config), 'link', 'set', link === 'lan' ? p.lanPort : p.mgmtPort, 'up']);
    if (r.code !== 0 && this.nodePid(node)) must(r);
  }

  isCut(node: string, link: LinkName = 'lan'): boolean { return existsSync(this.p.node(node).cutMarker(link)); }

  // ---------------------------------------------------------------- BMCs

  async ensureBmc(node: string): Promise<void> {
    const p = this.plan(node);
    await this.ensureNetns(p.bmcNetns);
    if ((await this.ip(['-n', p.bmcNetns, 'link', 'show', 'eth0'])).code !== 0) {
      await this.plug('mgmt', p.bmcPort, p.bmcNetns, 'eth0', p.bmcMac);
      must(await this.ip(['-n', p.bmcNetns, 'addr', 'add', `${p.bmcIp}/24`, 'dev', 'eth0']));
      must(await this.ip(['-n', p.bmcNetns, 'link', 'set', 'eth0', 'up']));
    }
    await this.startBmc(node);
  }

  bmcRunning(node: string): boolean { return livePid(this.p.bmc(node).pid) !== undefined; }

  /** Start the node's ipmi_sim (the BMC answers again). */
  async startBmc(node: string): Promise<void> {
    if (this.bmcRunning(node)) return;
    const p = this.plan(node);
    const bp = this.p.bmc(node);
    mkdirSync(bp.state, { recursive: true });
    writeFileSync(bp.lanConf, ipmiLanConf(this.config, p, join(this.p.bin, 'chassis')), { mode: 0o600 });
    writeFileSync(bp.emu, IPMI_EMU);
    must(await this.daemon(bp.pid, bp.log, ['nsenter', `--net=/run/netns/${p.bmcNetns}`,
      'ipmi_sim', '-c', bp.lanConf, '-f', bp.emu, '-s', bp.state, '-n']));
    const d = new Deadline(10_000);
    const listening = await pollUntil(async () => {
      const r = await run('ss', ['-N', p.bmcNetns, '-Hlun', 'sport', '=', ':623'], { timeoutMs: 5000 });
      return r.stdout.includes(':623') ? true : undefined;
    }, 50, d);
    if (!listening) throw new LabError(`the BMC of ${node} does not listen on ${p.bmcIp}:623 (see ${bp.log})`);
  }

  /** Kill the node's ipmi_sim (SIGKILL: it ignores SIGTERM). The node itself keeps running. */
  async stopBmc(node: string): Promise<void> {
    await killPidFile(this.p.bmc(node).pid);
  }

  // ---------------------------------------------------------------- nodes and power

  /** Host pid of the node's pid 1 while it is powered on and booted. */
  nodePid(node: string): number | undefined { return livePid(this.p.node(node).pid); }

  /** Power is on while the node runs or its (simulated) POST is under way. */
  isPoweredOn(node: string): boolean {
    return this.nodePid(node) !== undefined || livePid(this.p.node(node).bootPid) !== undefined;
  }

  /**
   * Boot a node: write its node files, start pid 1 in fresh namespaces, plug its cables.
   * `postDelayMs` simulates the firmware's POST (power-on through the BMC uses the lab's).
   */
  async boot(node: string, opts: { postDelayMs?: number } = {}): Promise<void> {
    if (this.nodePid(node)) return;
    if (opts.postDelayMs) await sleep(opts.postDelayMs);
    const np = this.p.node(node);
    writeFileSync(np.conf, nodeConfText(this.plan(node), switchNetns(this.config)));
    writeFileSync(np.mounts, mountsText([...baseMounts(np.disk, this.agents(), this.keptPaths()), ...this.extraMounts(node)]));
    rmSync(np.pid, { force: true });
    appendFileSync(np.initLog, `---- boot ${new Date().toISOString()}\n`);
    must(await this.daemon(np.unsharePid, np.initLog, ['env', '-i', `PATH=${NODE_PATH}`, 'LANG=C.UTF-8',
      'unshare', '--net', '--uts', '--ipc', '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private',
      join(LAB_BIN, 'node-init'), this.config.dir, node]));
    const d = new Deadline(10_000);
    const pid = await pollUntil(async () => this.nodePid(node), 20, d);
    if (!pid) throw new LabError(`${node} did not start (see ${np.initLog})`);
    const p = this.plan(node);
    await this.plug('lan', p.lanPort, pid, 'eth0', p.lanMac, !this.isCut(node, 'lan'));
    await this.plug('mgmt', p.mgmtPort, pid, 'eth1', p.mgmtMac, !this.isCut(node, 'mgmt'));
  }

  /**
   * Agent providers and fence agents in the agents folder: dist/ (resource.d/<provider>, sbin/) by
   * default, or the root of an unpacked package (usr/lib/ocf/resource.d/<provider>, usr/sbin/).
   */
  agents(): AgentTree {
    return findAgents(this.config.agentsDir);
  }

  /**
   * Host folders a node must keep visible although they lie under its private /tmp, /run or
   * /dev/shm: this checkout (the lab programs nodes run: alert, daemon, kill-pidfile, ...) and the
   * agents folder, so a clone in /tmp/x works like one in /srv/x.
   */
  keptPaths(): string[] {
    const real = (p: string) => { try { return realpathSync(p); } catch { return p; } };
    return keptPaths([real(REPO_ROOT), real(this.config.agentsDir)]);
  }

  /** Extra mount steps a later feature (MariaDB, sshd) stores in nodes/<n>/mounts.d/*.json. */
  private extraMounts(node: string): MountStep[] {
    const dir = join(this.p.node(node).base, 'mounts.d');
    const files = (() => { try { return readdirSync(dir).filter((f) => f.endsWith('.json')).sort(); } catch { return []; } })();
    return files.flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as MountStep[]);
  }

  /** Register mount steps every later boot of `node` applies after the base ones. */
  setMounts(node: string, name: string, steps: MountStep[]): void {
    mountsText(steps); // validates
    const dir = join(this.p.node(node).base, 'mounts.d');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(steps, null, 2));
  }

  /** Register an executable the node's init runs at every boot, after the network, before corosync. */
  setBootHook(node: string, name: string, script: string): void {
    if (!/^[0-9]{2}-[a-z0-9-]+$/.test(name)) throw new LabError(`boot hook name must look like 20-sshd: ${name}`);
    writeFileSync(join(this.p.node(node).bootHooks, name), script, { mode: 0o755 });
  }

  /**
   * Hard power-off: the node's cables go dead, then SIGKILL of its pid 1 (and of a pending boot).
   * The kernel tears a killed namespace down in the background and until then it answered with
   * RSTs for seconds (connection refused from a machine that is off); a powered-off machine is
   * silent. The next boot plugs the cables in again.
   */
  async powerOff(node: string): Promise<void> {
    const p = this.plan(node);
    for (const port of [p.lanPort, p.mgmtPort]) await this.ip(['-n', switchNetns(this.config), 'link', 'set', port, 'down']);
    await killPidFile(this.p.node(node).bootPid);
    await killPidFile(this.p.node(node).pid);
  }

  /** Power on with the lab's POST delay, as the BMC does; returns at once. */
  async powerOn(node: string, opts: { wait?: boolean } = {}): Promise<void> {
    if (this.isPoweredOn(node)) return;
    if (opts.wait) { await this.boot(node, { postDelayMs: this.config.postDelayMs }); return; }
    const np = this.p.node(node);
    must(await this.daemon(np.bootPid, join(np.logDir, 'power.log'), [join(REPO_ROOT, 'test', 'lab', 'lab'), 'boot', node, '--post']));
  }

  /** What the node's BMC did to its power (bin/chassis logs every request with epoch ms). */
  powerEvents(node: string, since = 0): Array<{ t: number; power: 'on' | 'off' }> {
    let text = '';
    try { text = readFileSync(join(this.p.node(node).logDir, 'power.log'), 'utf8'); } catch { return []; }
    return [...text.matchAll(/^(\d{13}) chassis: power (on|off)$/gm)]
      .map((m) => ({ t: Number(m[1]), power: m[2] as 'on' | 'off' }))
      .filter((e) => e.t >= since);
  }

  async powerCycle(node: string): Promise<void> {
    await this.powerOff(node);
    await this.powerOn(node);
  }

  /** Clean shutdown (pacemaker, then corosync), then power off. */
  async shutdown(node: string, timeoutMs = 120_000): Promise<void> {
    const np = this.p.node(node);
    if (!signalPidFile(np.pid, 'SIGTERM')) return;
    const d = new Deadline(timeoutMs);
    await pollUntil(async () => (this.nodePid(node) ? undefined : true), 100, d);
    await killPidFile(np.pid);
  }

  // ---------------------------------------------------------------- running things

  private async daemon(pidFile: string, logFile: string, argv: string[]): Promise<RunResult> {
    // VIGIL_LAB_DIR travels along: the BMCs' chassis program and power-on boots run `lab boot`.
    return run(join(LAB_BIN, 'daemon'), [pidFile, logFile, ...argv], {
      timeoutMs: CMD_TIMEOUT, cwd: REPO_ROOT, cleanEnv: true, env: { PATH: NODE_PATH, LANG: 'C.UTF-8', VIGIL_LAB_DIR: this.config.dir },
    });
  }

  /** The argv that runs `argv` on a node (all its namespaces, its root, a clean environment). */
  onArgv(node: string, argv: readonly string[], env: Record<string, string> = {}): string[] {
    const pid = this.nodePid(node);
    if (!pid) throw new LabError(`${node} is powered off`);
    return ['nsenter', '-t', String(pid), '-m', '-u', '-n', '-p', '-i', '-r',
      'env', '-i', `PATH=${NODE_PATH}`, 'LANG=C.UTF-8', 'HOME=/root',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv];
  }

  /** Run a command on a node (like test/lab/on). Never throws for the command's own failure. */
  async on(node: string, argv: readonly string[], opts: OnOptions = {}): Promise<RunResult> {
    const [cmd, ...args] = this.onArgv(node, argv, opts.env);
    return run(cmd!, args, { timeoutMs: opts.timeoutMs ?? CMD_TIMEOUT, input: opts.input, cleanEnv: true, env: { PATH: NODE_PATH } });
  }

  /**
   * Like on(), but a failure is an exception that names the command as run on the node (without
   * nsenter's wrapper) and the end of its stderr: pcs gives the reason on the lines before its last
   * ("Error: Agent 'stonith:fence_ipmi' is not installed ..." above "Errors have occurred").
   * The BMC password a pcs command carries is hidden.
   */
  async onOk(node: string, argv: readonly string[], opts: OnOptions = {}): Promise<string> {
    const r = await this.on(node, argv, opts);
    if (r.code !== 0) {
      const secrets = [this.config.bmcPassword];
      const head = describeResult({ ...r, command: argv[0] ?? '', args: argv.slice(1), stderr: '' }, secrets);
      const err = r.stderr.trim().split('\n').filter(Boolean).slice(-6).map((l) => `\n  ${l}`).join('');
      throw new LabError(redact(`on ${node}: ${head}${err}${r.stdout ? `\n${r.stdout.trim()}` : ''}`, secrets));
    }
    return r.stdout;
  }

  /** The argv that runs `argv` in the client namespace (on the node LAN, outside the cluster). */
  clientArgv(argv: readonly string[]): string[] {
    return ['nsenter', `--net=/run/netns/${clientNetns(this.config)}`, ...argv];
  }

  async client(argv: readonly string[], opts: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
    const [cmd, ...args] = this.clientArgv(argv);
    return run(cmd!, args, { timeoutMs: opts.timeoutMs ?? CMD_TIMEOUT, input: opts.input, env: opts.env });
  }

  /** Start a long-running program in the client namespace; stopped by stopClientDaemon or lab:down. */
  async startClientDaemon(name: string, argv: readonly string[], env: Record<string, string> = {}): Promise<{ pid: number; log: string }> {
    if (!/^[a-z0-9-]+$/.test(name)) throw new LabError(`bad daemon name ${name}`);
    const pidFile = join(this.p.clientDir, `${name}.pid`);
    const log = join(this.p.clientDir, `${name}.log`);
    await killPidFile(pidFile);
    const r = await run(join(LAB_BIN, 'daemon'), [pidFile, log, ...this.clientArgv(argv)], {
      timeoutMs: CMD_TIMEOUT, cwd: REPO_ROOT, cleanEnv: true, env: { PATH: NODE_PATH, LANG: 'C.UTF-8', ...env },
    });
    must(r);
    return { pid: Number(r.stdout.trim()), log };
  }

  async stopClientDaemon(name: string): Promise<void> { await killPidFile(join(this.p.clientDir, `${name}.pid`)); }

  /**
   * Start a long-running program inside a node (it dies with the node's power). Its pid file is
   * in the node's /run, its output in nodes/<n>/log/<name>.log.
   */
  async startNodeDaemon(node: string, name: string, argv: readonly string[]): Promise<string> {
    if (!/^[a-z0-9-]+$/.test(name)) throw new LabError(`bad daemon name ${name}`);
    const log = join(this.p.node(node).logDir, `${name}.log`);
    await this.stopNodeDaemon(node, name);
    return (await this.onOk(node, [join(LAB_BIN, 'daemon'), `/run/lab/${name}.pid`, log, ...argv])).trim();
  }

  async stopNodeDaemon(node: string, name: string): Promise<void> {
    if (!this.nodePid(node)) return;
    await this.on(node, [join(LAB_BIN, 'kill-pidfile'), `/run/lab/${name}.pid`]);
  }

  // ---------------------------------------------------------------- cluster views

  /** crm_mon's view from `node`, parsed. */
  async status(node: string): Promise<ClusterStatus> {
    const out = await this.onOk(node, ['crm_mon', '--one-shot', '--inactive', '--output-as=xml', '--fence-history=2'], { timeoutMs: 15_000 });
    return parseCrmMon(out);
  }

  async pcs(node: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
    return this.onOk(node, ['pcs', ...args], { timeoutMs });
  }

  /** The first node that is powered on and booted. */
  anyLiveNode(except: readonly string[] = []): string {
    const n = this.nodes.find((x) => !except.includes(x) && this.nodePid(x));
    if (!n) throw new LabError('no node is running');
    return n;
  }
}

export interface AgentTree { ocfDir: string; sbinDir: string; providers: string[]; fenceAgents: string[] }

export function findAgents(dir: string): AgentTree {
  const list = (d: string) => { try { return readdirSync(d).sort(); } catch { return []; } };
  const pkg = existsSync(join(dir, 'usr', 'lib', 'ocf', 'resource.d'));
  const ocfDir = pkg ? join(dir, 'usr', 'lib', 'ocf', 'resource.d') : join(dir, 'resource.d');
  const sbinDir = pkg ? join(dir, 'usr', 'sbin') : join(dir, 'sbin');
  return {
    ocfDir,
    sbinDir,
    providers: list(ocfDir).filter((p) => statSync(join(ocfDir, p)).isDirectory()),
    fenceAgents: list(sbinDir).filter((f) => f.startsWith('fence_')),
  };
}

export function describeStatus(s: ClusterStatus): string {
  const nodes = s.nodes.map((n) => `${n.name}:${n.online ? 'online' : n.unclean ? 'UNCLEAN' : 'offline'}`).join(' ');
  return `dc=${s.dc ?? 'none'} ${nodes}`;
}

function must(r: RunResult): RunResult {
  if (r.code !== 0) throw new LabError(describeResult(r));
  return r;
}

function hacluster(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('hacluster:'));
  if (!line) throw new LabError('no hacluster user: install pacemaker');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}
