// A simulated machine that runs a real OpenSSH sshd, for the fence_ssh tests and benchmark.
//
//   const net = new TestNet('fs').create();
//   net.addHost({ name: 'n1', index: 10, v4: ['203.0.113.10/24'] });
//   const node = await startSshNode({ net, host: 'n1', address: '203.0.113.10', uid: 64210, ... });
//   ... node.offCommand(), node.rebootCommand(), node.bootId(), node.power() ...
//   await node.stop();
//
// The "machine" is a pid + mount namespace inside the host's network namespace. Its pid 1 and
// every process in it (sshd included) run as a dedicated unprivileged uid that exists only in
// the machine's own /etc/passwd (bind-mounted in its mount namespace), with no capabilities, an
// empty bounding set and no_new_privs: nothing the machine runs can become root, so nothing in a
// test can reach the real kernel's sysrq or power. Belt and braces, inside the machine:
// /proc/sysrq-trigger and /proc/sys/kernel/sysrq (when the kernel has them) are covered by
// read-only decoy files, the power commands (reboot, poweroff, halt, shutdown, systemctl) by a
// script that refuses, and /run/systemd and /run/dbus by empty tmpfs mounts.
//
// Power, as the machine sees it:
// - offCommand()/rebootCommand() write a request file and send SIGTERM to the machine's pid 1
//   (by its pid file); pid 1 exits, and the kernel kills everything else in the pid namespace,
//   sshd and the very session that ran the command: the connection drops.
// - The harness sees pid 1 exit and does what the hardware would: the network link goes down
//   (the address stops answering, like a powered-off machine), and for a reboot, after
//   bootDelayMs, the machine boots again: with the boot id the reboot command wrote (a real
//   reboot), or with the old one if it wrote none (a "reboot" that only restarted sshd).
// - The machine's boot id file is bind-mounted over /proc/sys/kernel/random/boot_id, so the
//   default boot_id_command reads it too.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestNet } from './netns.ts';

export type NodePower = 'on' | 'off' | 'booting';

export interface SshNodeOptions {
  /** The network and the host (namespace) the machine lives in; omit both for the host's own network (loopback addresses only). */
  net?: TestNet;
  host?: string;
  /** Address sshd listens on (inside the host's namespace, or a 127.x address without net). */
  address: string;
  port?: number;
  /** A uid unused on this machine; the account exists only inside the simulated machine. */
  uid: number;
  user?: string;
  /** Login password (sshd checks it against the machine's private /etc/shadow). */
  password?: string;
  /** Public key lines for authorized_keys. */
  authorizedKeys?: string[];
  hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
  /** Dark time of a reboot before sshd answers again. Default 300 ms. */
  bootDelayMs?: number;
  /** What "off" does to the network: 'dark' (link down, nothing answers) or 'keep' (the address still refuses). */
  offNetwork?: 'dark' | 'keep';
  /** Extra executables put in the machine's /usr/local/bin: name -> script text. */
  bin?: Record<string, string>;
  /** Extra sshd_config lines. */
  sshdConfig?: string[];
  /** Login shell of the account (default /bin/sh). */
  shell?: string;
}

export interface SshNode {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly uid: number;
  readonly dir: string;
  /** "ssh-ed25519 AAAA..." */
  readonly hostKeyPub: string;
  readonly hostKeyFingerprint: string;
  /** known_hosts line for this machine (with [addr]:port when the port is not 22). */
  knownHostsLine(): string;
  bootId(): string;
  bootCount(): number;
  power(): NodePower;
  /** What happened, in order: "boot <id>", "exit off", "exit reboot", "exit crash", "dark", "light". */
  events(): string[];
  /** Commands for the fence agent (run by the machine's account, inside the machine). */
  offCommand(): string;
  rebootCommand(o?: { newBootId?: boolean }): string;
  bootIdCommand(): string;
  /** Wait until the machine is in this power state. */
  waitFor(state: NodePower, timeoutMs?: number): Promise<void>;
  /** Power on a machine that is off (harness side, like a power button). */
  powerOn(): Promise<void>;
  /** Kill the machine from outside (power cut, no request file). */
  cut(): Promise<void>;
  /** Replace the host key (a reinstalled or impostor machine); takes effect at the next boot. */
  newHostKey(): void;
  /** A fake hypervisor's VM: state in a file the machine's scripts share. */
  vm(name: string): { get(): string | undefined; set(state: 'running' | 'shut off'): void };
  vmLog(): string[];
  stop(): Promise<void>;
}

// unshare's --kill-child does not survive the machine's switch to its account (the kernel clears
// the parent-death signal on a credential change), so a machine is stopped by SIGKILL to its pid 1,
// by host pid: the kernel then kills everything else in its pid namespace.
interface Running { child: ChildProcess; init?: number }
const running = new Map<number, Running>();
process.on('exit', () => {
  for (const [pid, r] of running) for (const p of [r.init, pid]) { if (p) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } } }
});

export async function stopAllSshNodes(): Promise<void> {
  await Promise.all([...running.keys()].map((pid) => killMachine(pid)));
}

/** The host pid of the machine's pid 1: the only child of unshare. */
function initPid(unsharePid: number): number | undefined {
  try {
    const kids = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length === 1 ? Number(kids[0]) : undefined;
  } catch { return undefined; }
}

function killMachine(pid: number): Promise<void> {
  const r = running.get(pid);
  if (!r) return Promise.resolve();
  const { child } = r;
  return new Promise((resolve) => {
    const done = () => { clearTimeout(t); running.delete(pid); resolve(); };
    if (child.exitCode !== null || child.signalCode !== null) { done(); return; }
    const t = setTimeout(done, 3000);
    child.once('exit', done);
    const init = r.init ?? initPid(pid);
    try { if (init) process.kill(init, 'SIGKILL'); else process.kill(pid, 'SIGKILL'); } catch { done(); }
  });
}

const sh = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: 15000 }).toString();

/** Fails with a clear message when a program the harness needs is missing. */
export function requireSshdTools(): void {
  const need = ['/usr/sbin/sshd', '/usr/bin/ssh-keygen', '/usr/bin/setpriv', '/usr/bin/unshare', '/usr/bin/openssl'];
  const missing = need.filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: apt-get install openssh-server openssh-client util-linux openssl`);
}

export function keygen(path: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519', comment = 'vigil-test', passphrase = ''): { pub: string; fingerprint: string } {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  sh('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', passphrase, '-C', comment, '-f', path]);
  const pub = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const fingerprint = sh('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]).split(/\s+/)[1]!;
  return { pub, fingerprint };
}

// Refuses every power command inside the machine (they could not act anyway: no capabilities).
const REFUSE = `#!/bin/sh
echo "$0: refused inside the simulated machine (vigil test)" >&2
exit 1
`;

// A tiny hypervisor for mode=host: one file per VM under $VMDIR holding "running" or "shut off",
// a log line per change. Messages imitate virsh so fence_virsh can drive it too.
export const FAKEVIRT = `#!/bin/sh
VMDIR=__VMDIR__
log() { echo "$*" >> "$VMDIR/../vms.log"; }
cmd=$1; name=$2
case "$cmd" in
  list)
    if [ "$name" = "--all" ] && [ "$3" = "--name" ]; then ls "$VMDIR"; exit 0; fi
    if [ "$name" = "--all" ]; then
      echo " Id   Name   State"; echo "--------------------"
      for f in "$VMDIR"/*; do [ -e "$f" ] || continue; echo " -    $(basename "$f")   $(cat "$f")"; done; exit 0
    fi
    ls "$VMDIR"; exit 0 ;;
  domstate|start|destroy|reset) ;;
  *) echo "error: unknown command '$cmd'" >&2; exit 1 ;;
esac
f="$VMDIR/$name"
case "$name" in ""|*/*|.*) echo "error: failed to get domain '$name'" >&2; log "refused $cmd $name"; exit 1 ;; esac
[ -f "$f" ] || { echo "error: failed to get domain '$name'" >&2; exit 1; }
state=$(cat "$f")
case "$cmd" in
  domstate) echo "$state"; echo ;;
  start) [ "$state" = running ] && { echo "error: Domain is already active" >&2; exit 1; }
         echo running > "$f"; log "start $name"; echo "Domain '$name' started" ;;
  destroy) [ "$state" = "shut off" ] && { echo "error: domain is not running" >&2; exit 1; }
         echo "shut off" > "$f"; log "destroy $name"; echo "Domain '$name' destroyed" ;;
  reset) echo running > "$f"; log "reset $name"; echo "Domain '$name' was reset" ;;
esac
`;

// pid 1 of the machine, run as the machine's account: starts sshd and lives until SIGTERM.
const INIT = `#!/bin/sh
D=$1
# Hold no descriptor of the harness: it must see the machine's end as the end of unshare.
exec </dev/null >/dev/null 2>>"$D/state/init.log"
echo $$ > "$D/state/init.pid"
trap 'exit 0' TERM
/usr/sbin/sshd -D -e -f "$D/sshd_config" 2>>"$D/state/sshd.log" &
wait
`;

// Run as root in the machine's new mount + pid namespaces, then becomes the account for good.
const BOOT = `#!/bin/sh
set -e
D=$1 U=$2
mount --bind "$D/etc/passwd" /etc/passwd
mount --bind "$D/etc/group" /etc/group
mount --bind "$D/etc/shadow" /etc/shadow
mount --bind "$D/boot/boot_id" /proc/sys/kernel/random/boot_id
mount -o remount,bind,ro /proc/sys/kernel/random/boot_id
for f in /proc/sysrq-trigger /proc/sys/kernel/sysrq; do
  if [ -e "$f" ]; then mount --bind "$D/decoy" "$f"; mount -o remount,bind,ro "$f"; fi
done
for d in /run/systemd /run/dbus; do [ -d "$d" ] && mount -t tmpfs -o size=64k,mode=755 tmpfs "$d"; done
for p in /sbin/reboot /sbin/poweroff /sbin/halt /sbin/shutdown /sbin/telinit /usr/sbin/reboot /usr/sbin/poweroff \\
         /usr/sbin/halt /usr/sbin/shutdown /bin/systemctl /usr/bin/systemctl; do
  if [ -e "$p" ]; then mount --bind "$D/refuse" "$(readlink -f "$p")" 2>/dev/null || true; fi
done
[ -d /usr/local/bin ] && mount --bind "$D/bin" /usr/local/bin
# Its own ptys (ssh -t, fence_virsh): a devpts instance whose ptys belong to the account that opens them.
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts && mount --bind /dev/pts/ptmx /dev/ptmx
exec setpriv --reuid="$U" --regid="$U" --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \\
  -- /bin/sh "$D/init.sh" "$D"
`;

export async function startSshNode(o: SshNodeOptions): Promise<SshNode> {
  requireSshdTools();
  if (process.getuid?.() !== 0) throw new Error('the simulated sshd machine needs root (namespaces, mounts)');
  const port = o.port ?? 22;
  const user = o.user ?? `fsnode${o.uid}`;
  try {
    sh('getent', ['passwd', String(o.uid)]);
    throw new Error(`uid ${o.uid} exists on this machine; the test account needs an unused uid`);
  } catch (e) {
    if ((e as Error).message.includes('exists on this machine')) throw e;
  }
  const D = mkdtempSync(join(tmpdir(), 'fs-node-'));
  chmodSync(D, 0o755);
  for (const d of ['etc', 'state', 'boot', 'bin', 'home', 'state/vms']) mkdirSync(join(D, d), { recursive: true });
  for (const d of ['state', 'home', 'state/vms']) chownSync(join(D, d), o.uid, o.uid);
  const shell = o.shell ?? '/bin/sh';
  writeFileSync(join(D, 'etc/passwd'), `${readFileSync('/etc/passwd', 'utf8')}${user}:x:${o.uid}:${o.uid}:vigil test machine:${D}/home:${shell}\n`);
  // Without a "tty" group sshd leaves the account's ptys to the account (it could not chown them to tty).
  const groups = readFileSync('/etc/group', 'utf8').split('\n').filter((l) => l && !l.startsWith('tty:')).join('\n');
  writeFileSync(join(D, 'etc/group'), `${groups}\n${user}:x:${o.uid}:\n`);
  // "*": no password can match, but the account is not locked ("!"), which sshd would refuse even for keys.
  const hash = o.password ? sh('openssl', ['passwd', '-6', '-stdin'], o.password).trim() : '*';
  // Only the account's own line: the machine has no other secrets to read.
  writeFileSync(join(D, 'etc/shadow'), `${user}:${hash}:19000:0:99999:7:::\n`, { mode: 0o600 });
  chownSync(join(D, 'etc/shadow'), o.uid, o.uid);
  writeFileSync(join(D, 'decoy'), 'vigil-test-decoy\n', { mode: 0o444 });
  writeFileSync(join(D, 'refuse'), REFUSE, { mode: 0o755 });
  writeFileSync(join(D, 'init.sh'), INIT, { mode: 0o755 });
  writeFileSync(join(D, 'boot.sh'), BOOT, { mode: 0o755 });
  writeFileSync(join(D, 'bin/fakevirt'), FAKEVIRT.replace('__VMDIR__', join(D, 'state/vms')), { mode: 0o755 });
  for (const [name, text] of Object.entries(o.bin ?? {})) writeFileSync(join(D, 'bin', name), text, { mode: 0o755 });
  writeFileSync(join(D, 'authorized_keys'), (o.authorizedKeys ?? []).map((k) => `${k}\n`).join(''), { mode: 0o644 });

  const hostKeyPath = join(D, 'hostkey');
  let hk = keygen(hostKeyPath, o.hostKeyType ?? 'ed25519', `${user}-host`);
  chownSync(hostKeyPath, o.uid, o.uid);
  writeFileSync(join(D, 'sshd_config'), [
    `ListenAddress ${o.address.includes(':') ? `[${o.address}]` : o.address}:${port}`,
    `HostKey ${hostKeyPath}`,
    `PidFile ${D}/state/sshd.pid`,
    `AuthorizedKeysFile ${D}/authorized_keys`,
    `PasswordAuthentication ${o.password ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'UsePAM no',
    'StrictModes no',
    'UseDNS no',
    'PermitRootLogin no',
    `AllowUsers ${user}`,
    'LogLevel VERBOSE',
    ...(o.sshdConfig ?? []),
  ].join('\n') + '\n');

  let bootId: string = randomUUID();
  let boots = 0;
  let power: NodePower = 'off';
  let child: ChildProcess | undefined;
  let stopped = false;
  let rebootTimer: NodeJS.Timeout | undefined;
  const events: string[] = [];
  const waiters: Array<() => void> = [];
  const setPower = (p: NodePower) => { power = p; for (const w of waiters.splice(0)) w(); };

  // Network namespaces get net.ipv4.ip_unprivileged_port_start from the init namespace's value
  // at creation; sshd runs unprivileged and must bind port 22.
  if (o.net && o.host) sh('ip', ['netns', 'exec', o.net.ns(o.host), 'sysctl', '-q', '-w', 'net.ipv4.ip_unprivileged_port_start=0']);
  else if (port < 1024) throw new Error('without a network namespace use a port >= 1024');

  const link = (up: boolean) => {
    if (!o.net || !o.host) return;
    sh('ip', ['-n', o.net.ns(o.host), 'link', 'set', 'eth0', up ? 'up' : 'down']);
    events.push(up ? 'light' : 'dark');
  };

  const readState = (f: string) => { try { return readFileSync(join(D, 'state', f), 'utf8').trim(); } catch { return undefined; } };

  const onExit = () => {
    running.delete(child?.pid ?? -1);
    child = undefined;
    if (stopped) return;
    const req = readState('power_request');
    const why = req === 'off' || req === 'reboot' ? req : 'crash';
    events.push(`exit ${why}`);
    if (why === 'reboot' || o.offNetwork !== 'keep') link(false);
    setPower('off');
    if (why === 'reboot') {
      setPower('booting');
      rebootTimer = setTimeout(() => {
        const next = readState('next_boot_id');
        if (next) bootId = next;
        boot().catch((e) => { events.push(`boot failed: ${(e as Error).message}`); setPower('off'); });
      }, o.bootDelayMs ?? 300);
    }
  };

  const boot = async () => {
    if (child) throw new Error('the machine is already running');
    writeFileSync(join(D, 'boot/boot_id'), `${bootId}\n`, { mode: 0o444 });
    for (const f of ['power_request', 'next_boot_id', 'init.pid', 'sshd.pid']) rmSync(join(D, 'state', f), { force: true });
    writeFileSync(join(D, 'state/sshd.log'), '');
    chownSync(join(D, 'state/sshd.log'), o.uid, o.uid);
    const args = ['unshare', '--pid', '--fork', '--kill-child', '--mount', '--propagation', 'private', '--mount-proc',
      '/bin/sh', join(D, 'boot.sh'), D, String(o.uid)];
    const c = o.net && o.host
      ? spawn('ip', ['netns', 'exec', o.net.ns(o.host), ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr!.on('data', (d) => { stderr += String(d); });
    child = c;
    const entry: Running = { child: c };
    running.set(c.pid!, entry);
    c.once('exit', onExit);
    boots++;
    events.push(`boot ${bootId}`);
    const t0 = Date.now();
    while (!/Server listening on/.test(readState('sshd.log') ?? '')) {
      if (child !== c) throw new Error(`the machine died while booting: ${stderr.trim()} ${readState('sshd.log') ?? ''}`);
      if (Date.now() - t0 > 10_000) throw new Error(`sshd did not start within 10 s: ${stderr.trim()} ${readState('sshd.log') ?? ''}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    entry.init = initPid(c.pid!);
    if (!entry.init) throw new Error(`cannot find the machine's pid 1 (child of unshare ${c.pid})`);
    link(true);
    setPower('on');
  };

  const node: SshNode = {
    address: o.address, port, user, uid: o.uid, dir: D,
    get hostKeyPub() { return hk.pub; },
    get hostKeyFingerprint() { return hk.fingerprint; },
    knownHostsLine: () => `${port === 22 ? o.address : `[${o.address}]:${port}`} ${hk.pub}`,
    bootId: () => bootId,
    bootCount: () => boots,
    power: () => power,
    events: () => [...events],
    offCommand: () => `echo off > ${D}/state/power_request; kill -TERM $(cat ${D}/state/init.pid)`,
    rebootCommand: ({ newBootId = true } = {}) => `${newBootId ? `cat /proc/sys/kernel/random/uuid > ${D}/state/next_boot_id; ` : ''}`
      + `echo reboot > ${D}/state/power_request; kill -TERM $(cat ${D}/state/init.pid)`,
    bootIdCommand: () => `cat ${D}/boot/boot_id`,
    waitFor: (state, timeoutMs = 10_000) => new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const check = () => {
        if (power === state) { resolve(); return; }
        if (Date.now() - t0 > timeoutMs) { reject(new Error(`machine still ${power}, not ${state}, after ${timeoutMs} ms`)); return; }
        waiters.push(check);
        setTimeout(() => { const i = waiters.indexOf(check); if (i >= 0) { waiters.splice(i, 1); check(); } }, 50);
      };
      check();
    }),
    powerOn: async () => { if (power === 'off') await boot(); },
    cut: async () => {
      if (child?.pid) await killMachine(child.pid);
    },
    newHostKey: () => {
      hk = keygen(hostKeyPath, o.hostKeyType ?? 'ed25519', `${user}-host-new`);
      chownSync(hostKeyPath, o.uid, o.uid);
    },
    vm: (name) => {
      const f = join(D, 'state/vms', name);
      return {
        get: () => { try { return readFileSync(f, 'utf8').trim(); } catch { return undefined; } },
        set: (state) => { writeFileSync(f, `${state}\n`); chownSync(f, o.uid, o.uid); },
      };
    },
    vmLog: () => { try { return readFileSync(join(D, 'state/vms.log'), 'utf8').split('\n').filter(Boolean); } catch { return []; } },
    stop: async () => {
      stopped = true;
      clearTimeout(rebootTimer);
      if (child?.pid) await killMachine(child.pid);
      rmSync(D, { recursive: true, force: true });
    },
  };
  await boot();
  return node;
}
