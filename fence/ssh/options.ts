// fence_ssh's option table: the shared groups plus SSH, host-key and per-mode command options.
// Names follow fence-agents where a concept exists there (identity_file, secure, plug, the
// timing group) so configurations read the same.
import {
  actionOptions, connectionOptions, infoOptions, loggingOptions, loginOptions, methodOptions,
  plugOptions, portAsIpOptions, powerTimingOptions,
} from '../../lib/fence/groups.ts';
import { defineOptions } from '../../lib/fence/options.ts';
import { parsePins } from '../../lib/ssh/hostkeys.ts';
import { HOST_PATTERN_DEFAULTS, SELF_DEFAULTS, patternProblem } from './commands.ts';
import { plugProblem } from './plug.ts';

const timing = powerTimingOptions({ powerWait: 2 });

const plug = plugOptions({
  metavar: 'plug',
  shortdesc: 'Machine on the controller (mode=host), or the node name Pacemaker passes (mode=self)',
  longdesc: 'mode=host: the virtual machine, outlet or server the controller\'s commands act on; it replaces '
    + '{plug} in the command templates. mode=self: Pacemaker passes the name of the node to fence here and it '
    + 'is not used unless port_as_ip is set. Only letters, digits and . _ : - are accepted (and no leading -): '
    + 'anything else is refused before any connection is made.',
}).plug;

export const sshOptions = defineOptions({
  ...actionOptions,
  ...connectionOptions({ defaultPort: 22 }),
  ...portAsIpOptions,
  ...loginOptions,
  username: {
    ...loginOptions.username, default: 'root',
    shortdesc: 'Login name',
  },
  identity_file: {
    type: 'string', short: 'k', metavar: 'filename',
    shortdesc: 'Identity file (private key) for SSH',
    longdesc: 'An OpenSSH or PEM private key. If it is encrypted, password is its passphrase. Read by the agent '
      + 'itself: the key never appears on a command line.',
  },
  ssh_agent: {
    type: 'string', metavar: 'socket',
    shortdesc: 'Path of an ssh-agent socket to authenticate with (default: $SSH_AUTH_SOCK when set)',
  },
  secure: {
    type: 'boolean', short: 'x',
    shortdesc: 'Use SSH connection (always on; accepted for compatibility with fence-agents)',
  },
  known_hosts: {
    type: 'string', default: '~/.ssh/known_hosts', metavar: 'file',
    shortdesc: 'known_hosts file the host key must be listed in',
    longdesc: 'OpenSSH format (hashed names, wildcards, [host]:port, @revoked are understood). The default is the '
      + 'running user\'s file (root\'s under Pacemaker). An unknown or different key fails the action with the '
      + 'presented SHA256 fingerprint in the message. There is no setting that turns host key checking off.',
  },
  host_key: {
    type: 'string', metavar: 'fingerprint',
    shortdesc: 'Pinned host key fingerprint(s), SHA256:... as ssh-keygen -l prints it; replaces known_hosts',
    longdesc: 'One fingerprint, or several separated by commas (during a key rotation). When set, known_hosts '
      + 'is not read. Get it on the host with: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub',
    validate: (v) => {
      const { pins, bad } = parsePins(v);
      if (bad.length) return `"${bad[0]}" is not a SHA256 fingerprint (SHA256: followed by 43 base64 characters)`;
      return pins.length ? undefined : 'is empty';
    },
  },
  mode: {
    type: 'select', choices: ['self', 'host'], default: 'self', ignoreCase: true, metavar: 'mode',
    shortdesc: 'self: log in to the node to fence and stop it from inside (level 1 only: cannot fence a hung or '
      + 'cut-off node); host: log in to a controller (hypervisor, PDU, jump host) and run the command templates',
    longdesc: 'mode=self cannot fence a node that is hung, overloaded or cut off from the network, which is exactly '
      + 'when fencing is needed most. Use it only as the first fencing level, with a power fence (IPMI, PDU, '
      + 'hypervisor) as the next level: pcs stonith level add 1 <node> <this device>; pcs stonith level add 2 <node> '
      + '<power device>. In self mode a reboot is proven by a changed boot id, an off by the node staying silent, '
      + 'and status never reports OFF for a node it cannot reach.',
  },
  off_command: {
    type: 'string', metavar: 'command',
    shortdesc: 'Command that powers off (self: run on the node; host: template with {plug})',
    longdesc: `mode=self default: ${SELF_DEFAULTS.off_command}. mode=host: required, e.g. "virsh destroy {plug}".`,
  },
  reboot_command: {
    type: 'string', metavar: 'command',
    shortdesc: 'Command that reboots (self: run on the node; host: template with {plug}, used with method=cycle)',
    longdesc: `mode=self default: ${SELF_DEFAULTS.reboot_command}. mode=host: optional; without method=cycle a `
      + 'reboot is off_command, verified off, on_command, verified on.',
  },
  boot_id_command: {
    type: 'string', default: SELF_DEFAULTS.boot_id_command, metavar: 'command',
    shortdesc: 'Command printing the node\'s boot id (mode=self): a reboot is proven by a different one',
  },
  status_command: {
    type: 'string', metavar: 'command',
    shortdesc: 'Template printing the power state of {plug} (mode=host, required)',
    longdesc: 'Its output is matched against status_off_pattern and status_on_pattern, e.g. "virsh domstate {plug}".',
  },
  on_command: {
    type: 'string', metavar: 'command',
    shortdesc: 'Template that powers {plug} on (mode=host, required)',
  },
  list_command: {
    type: 'string', metavar: 'command',
    shortdesc: 'Command printing one plug per line, name first (mode=host, for list and list-status)',
  },
  status_on_pattern: {
    type: 'string', default: HOST_PATTERN_DEFAULTS.status_on_pattern, metavar: 'regex',
    shortdesc: 'Regular expression (per line, any case) that status output matches when the machine is on',
    validate: patternProblem,
  },
  status_off_pattern: {
    type: 'string', default: HOST_PATTERN_DEFAULTS.status_off_pattern, metavar: 'regex',
    shortdesc: 'Regular expression (per line, any case) that status output matches when the machine is off',
    validate: patternProblem,
  },
  ...methodOptions,
  plug: { ...plug, validate: plugProblem },
  ...timing,
  power_wait: {
    ...timing.power_wait,
    longdesc: 'mode=self: after the off command dropped the connection, the node must stay silent (no answer at all '
      + 'on its SSH port) for this long before the off counts as done; a reboot that cannot be proven by a new boot '
      + 'id needs the same silence. mode=host: wait after on_command/off_command before reading the status (in a reboot only after off_command: the node is fenced once it is verified off).',
  },
  login_timeout: {
    ...timing.login_timeout,
    longdesc: 'Bounds one whole login: TCP connect, SSH banner, key exchange, host key check and authentication.',
  },
  shell_timeout: {
    ...timing.shell_timeout,
    longdesc: 'Bounds each command (status, boot id, list); in mode=self also the wait for the connection to '
      + 'drop after the off or reboot command. mode=host on_command/off_command/reboot_command get power_timeout.',
  },
  ...loggingOptions,
  ...infoOptions,
});

export type SshOptions = typeof sshOptions;
