// fence_ssh: STONITH over SSH, in-process (ssh2; no ssh binary, no expect). The definition only;
// the runtime (lib/fence) does parsing, metadata, the power engine and exit codes.
import { accessSync, constants, existsSync } from 'node:fs';
import { defineFenceAgent } from '../../lib/fence/agent.ts';
import type { FenceValues } from '../../lib/fence/options.ts';
import { sshOptions, type SshOptions } from './options.ts';
import { SELF_DEFAULTS } from './commands.ts';
import { expandHome, sshConnector, type ConnectionSettings } from './connector.ts';
import { selfDevice } from './self.ts';
import { hostDevice } from './host.ts';

export const VERSION = '0.1.0';

type Values = FenceValues<SshOptions> & { password?: string };

const HOST_ONLY = ['status_command', 'on_command', 'list_command'] as const;
const PLUG_ACTIONS = new Set(['on', 'off', 'reboot', 'status']);

export const SELF_CAVEAT = 'mode=self cannot fence a node that is hung or cut off from the network, which is when '
  + 'fencing is needed most: use it only as the first fencing level, before a power fence '
  + '(pcs stonith level add 1 <node> <this device>; pcs stonith level add 2 <node> <IPMI/PDU/hypervisor device>).';

export const fenceSsh = defineFenceAgent({
  name: 'fence_ssh',
  version: VERSION,
  shortdesc: 'Fence agent over SSH (the node itself, or a hypervisor/PDU shell)',
  longdesc: 'fence_ssh fences over SSH without an ssh binary, with host keys always verified (known_hosts or a '
    + 'pinned SHA256 fingerprint; an unknown or changed key fails with the presented fingerprint) and key, '
    + 'password or ssh-agent authentication (secrets never on a command line or in a log). '
    + 'mode=self logs in to the node to fence and stops it at once without a clean shutdown (sysrq by default). '
    + `${SELF_CAVEAT} `
    + 'Its results are proven, not assumed: a reboot by a changed boot id, an off by the node staying silent for '
    + 'power_wait after the connection dropped; status says ON only for a node that logged us in, and fails '
    + '(never OFF) for a node it cannot reach. '
    + 'mode=host logs in to a controller (a hypervisor, a PDU or iLO shell, a jump host) and runs command '
    + 'templates with the target as {plug} (only letters, digits and . _ : - are accepted in it); on and off are '
    + 'verified by reading the status until power_timeout. Every wait is bounded by login_timeout, shell_timeout '
    + 'and power_timeout.',
  vendorUrl: 'https://www.openssh.com/',
  options: sshOptions,
  check(o, given) {
    const problems: string[] = [];
    if (!o.ip) problems.push('You have to enter fence address: --ip (ip), or --plug with --port-as-ip');
    if (given.has('host_key') && given.has('known_hosts')) {
      problems.push('give either host_key (pinned fingerprints) or known_hosts, not both');
    }
    if (o.mode === 'self') {
      for (const k of HOST_ONLY) {
        if (o[k] !== undefined) {
          problems.push(`${k} is a mode=host option: set mode=host (in mode=self fence_ssh powers off the machine it logs in to)`);
        }
      }
    } else {
      for (const k of ['status_command', 'on_command', 'off_command'] as const) {
        if (!o[k]) problems.push(`mode=host needs ${k} (a command template with {plug})`);
      }
      if (o.port_as_ip) problems.push('port_as_ip does not fit mode=host: there the plug names the machine on the controller');
      const needsPlug = [o.status_command, o.on_command, o.off_command].some((t) => t?.includes('{plug}'));
      if (PLUG_ACTIONS.has(String(o.action).toLowerCase()) && needsPlug && !o.plug) {
        problems.push('mode=host needs the machine to act on: --plug (plug)');
      }
      if (String(o.action).toLowerCase().startsWith('list') && !o.list_command) problems.push('list needs list_command');
    }
    return problems;
  },
  async prerequisites(ctx) {
    const o = ctx.options as Values;
    const problems: string[] = [];
    if (o.identity_file) {
      try { accessSync(expandHome(o.identity_file), constants.R_OK); } catch (e) {
        problems.push(`identity_file ${o.identity_file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    const agent = o.ssh_agent || ctx.env.SSH_AUTH_SOCK;
    const hasPassword = (o.password !== undefined && o.password !== '') || !!o.password_script;
    if (!o.identity_file && !hasPassword && !agent) {
      problems.push('no credentials: give identity_file, password (stdin), password_script or ssh_agent');
    }
    if (ctx.action === 'validate-all') {
      if (!o.host_key && !existsSync(expandHome(o.known_hosts))) {
        problems.push(`known_hosts file ${expandHome(o.known_hosts)} does not exist: add the host key to it or pin it with host_key=SHA256:...`);
      }
      if (o.ssh_agent && !existsSync(o.ssh_agent)) problems.push(`ssh_agent socket ${o.ssh_agent} does not exist`);
      if (o.mode === 'self') ctx.log.warn(SELF_CAVEAT);
      if (o.mode === 'host' && o.reboot_command && o.method !== 'cycle') {
        ctx.log.warn('reboot_command is only used with method=cycle; reboot runs off_command and on_command');
      }
    }
    return problems;
  },
  device(ctx) {
    const o = ctx.options as Values;
    const settings: ConnectionSettings = {
      ip: o.ip!, ipport: o.ipport, username: o.username, known_hosts: o.known_hosts, shell_timeout: o.shell_timeout,
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.identity_file ? { identity_file: o.identity_file } : {}),
      ...(o.host_key ? { host_key: o.host_key } : {}),
      ...((o.ssh_agent || ctx.env.SSH_AUTH_SOCK) ? { ssh_agent: o.ssh_agent || ctx.env.SSH_AUTH_SOCK } : {}),
    };
    const connector = sshConnector(settings);
    const ms = (sec: number) => Math.round(sec * 1000);
    if (o.mode === 'host') {
      return hostDevice(connector, {
        ...(o.plug ? { plug: o.plug } : {}),
        statusCommand: o.status_command!, onCommand: o.on_command!, offCommand: o.off_command!,
        ...(o.reboot_command ? { rebootCommand: o.reboot_command } : {}),
        ...(o.list_command ? { listCommand: o.list_command } : {}),
        onPattern: o.status_on_pattern, offPattern: o.status_off_pattern,
        loginMs: ms(o.login_timeout), shellMs: ms(o.shell_timeout), powerTimeoutMs: ms(o.power_timeout),
        listWithStatus: ctx.action === 'list-status',
      });
    }
    if (o.plug && !o.port_as_ip) ctx.log.debug(`plug ${o.plug} is not used: mode=self fences the node at ${o.ip}`);
    return selfDevice(connector, {
      offCommand: o.off_command ?? SELF_DEFAULTS.off_command,
      rebootCommand: o.reboot_command ?? SELF_DEFAULTS.reboot_command,
      bootIdCommand: o.boot_id_command,
      loginMs: ms(o.login_timeout), shellMs: ms(o.shell_timeout), powerWaitMs: ms(o.power_wait),
      powerTimeoutMs: ms(o.power_timeout), statusSleepMs: ms(o.stonith_status_sleep),
    });
  },
  notes: [
    SELF_CAVEAT,
    'Pacemaker: in mode=self make one stonith resource per node with pcmk_host_list naming the node it fences (or '
      + 'port_as_ip=1 when node names resolve to their addresses). fence_ssh does not advertise a list action, so '
      + 'without pcmk_host_list Pacemaker asks status, which in mode=self succeeds for any node name.',
    'Host keys: the first connection to a new host fails with "unknown host key ... presented ssh-ed25519 '
      + 'SHA256:...". Compare that fingerprint with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host, '
      + 'then add the key to known_hosts (ssh-keyscan) or set host_key=SHA256:....',
    'mode=self off: after off_command the connection must drop within shell_timeout, and then nothing may answer '
      + 'at the address (not even a TCP refusal) for power_wait seconds. reboot: the boot id (boot_id_command) '
      + 'must change; the same boot id is a failure. A node that does not come back within power_timeout counts as '
      + 'rebooted only if it was silent for power_wait, and a warning says the proof is weaker.',
    'The account\'s login shell runs every command: keep its startup files light (a heavy rc file adds its cost to '
      + 'every fence action and monitor).',
    'disable_timeout is accepted for compatibility and ignored: every step keeps its timeout.',
  ],
  examples: [
    'pcs stonith create ssh-n1 fence_ssh ip=192.0.2.11 identity_file=/root/.ssh/fence_ed25519 pcmk_host_list=n1',
    'pcs stonith level add 1 n1 ssh-n1; pcs stonith level add 2 n1 ipmi-n1',
    'fence_ssh -a 192.0.2.11 -k /root/.ssh/fence_ed25519 --host-key=SHA256:... -o status',
    'pcs stonith create kvm fence_ssh mode=host ip=198.51.100.5 identity_file=/root/.ssh/fence_ed25519 '
      + 'status_command="virsh domstate {plug}" on_command="virsh start {plug}" off_command="virsh destroy {plug}" '
      + 'list_command="virsh list --all --name" pcmk_host_map="n1:vm-n1;n2:vm-n2"',
  ],
});
