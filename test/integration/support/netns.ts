// Isolated test networks: a bridge in its own namespace (no link to the host, no route out) and
// hosts in their own namespaces, each with one veth "eth0" on the bridge and TEST-NET addresses.
// Everything is named with a prefix so parallel suites do not collide, and destroy() removes it all.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new Error(`${what} needs root (network namespaces); run the tests as root`);
}

export function requireCommands(cmds: readonly string[], pkgs: string): void {
  const missing = cmds.filter((c) => !['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(`${d}/${c}`)));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: install ${pkgs} (apt-get install ${pkgs})`);
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 }).toString();

export interface HostSpec { name: string; index: number; v4?: string[]; v6?: string[] }

export class TestNet {
  readonly hosts: string[] = [];
  private children: ChildProcess[] = [];
  constructor(readonly prefix: string) {}

  get switchNs(): string { return `${this.prefix}-sw`; }
  ns(host: string): string { return `${this.prefix}-${host}`; }
  mac(index: number): string { return `02:00:5e:10:00:${index.toString(16).padStart(2, '0')}`; }

  /** Remove leftovers of an earlier crashed run with the same prefix, then build the switch. */
  create(): this {
    this.destroy();
    sh('ip', ['netns', 'add', this.switchNs]);
    sh('ip', ['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    sh('ip', ['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
    return this;
  }

  addHost(h: HostSpec): string {
    const ns = this.ns(h.name);
    const peer = `${this.prefix}${h.index}`.slice(0, 15);
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['link', 'add', peer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    sh('ip', ['link', 'set', peer, 'netns', this.switchNs]);
    sh('ip', ['-n', this.switchNs, 'link', 'set', peer, 'master', 'br0', 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', this.mac(h.index), 'up']);
    for (const a of h.v4 ?? []) sh('ip', ['-n', ns, 'addr', 'add', a, 'dev', 'eth0']);
    for (const a of h.v6 ?? []) sh('ip', ['-n', ns, 'addr', 'add', a, 'dev', 'eth0', 'nodad']);
    this.hosts.push(ns);
    return ns;
  }

  /** Run a command inside a host's namespace (argument array, never a shell string). */
  exec(host: string, cmd: string, args: string[], env: Record<string, string> = {}) {
    return execFileSync('ip', ['netns', 'exec', this.ns(host), 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 }).toString();
  }

  /** Start a long-running process in a host; killed by pid in destroy(). */
  spawn(host: string, cmd: string, args: string[]): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', this.ns(host), cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.push(c);
    return c;
  }

  destroy(): void {
    for (const c of this.children) if (c.exitCode === null && c.pid) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
    this.children = [];
    let list = '';
    try { list = sh('ip', ['netns', 'list']); } catch { /* none */ }
    for (const line of list.split('\n')) {
      const name = line.split(' ')[0];
      if (name && (name === this.switchNs || name.startsWith(`${this.prefix}-`))) {
        // Processes we started in it were killed above; deleting the netns drops its interfaces.
        try { sh('ip', ['netns', 'del', name]); } catch { /* already gone */ }
      }
    }
  }
}
