// Option groups shared by every vigil fence agent. An agent composes its table from these and
// its own options with object spread; groups that differ per agent (default port, power_wait,
// what the plug means) are small factories. Names, short letters and defaults follow
// fence-agents (lib/fencing.py) so configurations move between agents unchanged.
import { defineOptions } from './options.ts';
import { parseBoolean } from './parse.ts';

export const actionOptions = defineOptions({
  action: {
    type: 'string', short: 'o', default: 'reboot', required: true, metavar: 'action',
    shortdesc: 'Fencing action',
    longdesc: 'One of on, off, reboot, status, list, list-status, monitor, metadata, manpage, validate-all. '
      + 'status exits 0 when the target is on and 2 when it is off.',
  },
});

export function connectionOptions(o: { defaultPort: number }) {
  return defineOptions({
    ip: {
      type: 'string', short: 'a', aliases: ['ipaddr'], metavar: 'ip',
      shortdesc: 'IP address or hostname of fencing device',
    },
    ipport: {
      type: 'integer', short: 'u', default: o.defaultPort, min: 1, max: 65535, metavar: 'port',
      shortdesc: 'TCP/UDP port to use for connection with device',
    },
  });
}

/** For devices that control one machine: the node name Pacemaker passes as plug is the address. */
export const portAsIpOptions = defineOptions({
  port_as_ip: {
    type: 'boolean',
    shortdesc: 'Make "port/plug" to be an alias to IP address',
    longdesc: 'Use the plug (port) value, which Pacemaker sets to the name of the node to fence, as the device address.',
  },
});

export function plugOptions(o: { shortdesc: string; longdesc?: string; metavar?: string }) {
  return defineOptions({
    plug: {
      type: 'string', short: 'n', aliases: ['port'], metavar: o.metavar ?? 'id',
      shortdesc: o.shortdesc, ...(o.longdesc ? { longdesc: o.longdesc } : {}),
    },
  });
}

export const loginOptions = defineOptions({
  username: {
    type: 'string', short: 'l', aliases: ['login'], metavar: 'name',
    shortdesc: 'Login name',
  },
  password: {
    type: 'string', short: 'p', aliases: ['passwd'], metavar: 'password', secret: true,
    shortdesc: 'Login password or passphrase',
    longdesc: 'On the command line the password is visible to every user of the machine in the process '
      + 'list: prefer stdin (what Pacemaker uses) or password_script.',
  },
  password_script: {
    type: 'string', short: 'S', aliases: ['passwd_script'], metavar: 'script',
    shortdesc: 'Script to run to retrieve password',
    longdesc: 'A program and its arguments, split on whitespace (single or double quotes group words), run '
      + 'without a shell: no pipes, redirections or variables; write a script file for those. Its standard '
      + 'output, without the trailing newline, is the password. It must exit 0 within login_timeout seconds.',
  },
});

export function powerTimingOptions(o: { powerWait?: number } = {}) {
  return defineOptions({
    delay: {
      type: 'second', default: 0, min: 0,
      shortdesc: 'Wait X seconds before fencing is started',
      longdesc: 'Only off and reboot wait. Counted from the start of the agent.',
    },
    power_timeout: {
      type: 'second', default: 20, min: 0,
      shortdesc: 'Test X seconds for status change after ON/OFF',
      longdesc: 'After a power change the state is polled until it is the requested one; '
        + 'if it is not within this time the action fails (a timeout is never a success).',
    },
    power_wait: {
      type: 'second', default: o.powerWait ?? 0, min: 0,
      shortdesc: 'Wait X seconds after issuing ON/OFF',
      longdesc: 'Then the state is polled. In a reboot only the off waits: the node is fenced once OFF is verified, '
        + 'and the power-on half is polled at once, since the cluster waits for the reboot to finish.',
    },
    login_timeout: {
      type: 'second', default: 5, min: 0,
      shortdesc: 'Wait X seconds for cmd prompt after login',
    },
    shell_timeout: {
      type: 'second', default: 3, min: 0,
      shortdesc: 'Wait X seconds for cmd prompt after issuing command',
    },
    stonith_status_sleep: {
      type: 'second', default: 1, min: 0,
      shortdesc: 'Sleep X seconds between status calls during a STONITH action',
    },
    retry_on: {
      type: 'integer', default: 1, min: 0, metavar: 'attempts',
      shortdesc: 'Count of attempts to retry power on',
      longdesc: 'Power on (the action, and the second half of a reboot) is tried 1 + retry_on times, stonith_status_sleep apart, each verified until power_timeout.',
    },
    disable_timeout: {
      type: 'string', metavar: 'true/false',
      shortdesc: 'Accepted for compatibility and ignored: vigil agents always honour their timeouts',
      validate: (v) => (parseBoolean(v) === undefined ? 'use true or false' : undefined),
    },
  });
}

export const methodOptions = defineOptions({
  method: {
    type: 'select', short: 'm', choices: ['onoff', 'cycle'], default: 'onoff', ignoreCase: true, metavar: 'method',
    shortdesc: 'Method to fence',
    longdesc: 'onoff: power off, verify off, power on, verify on. cycle: one power cycle command; the off '
      + 'in between cannot be verified, so the agent may report success before the node was ever off.',
  },
});

export const loggingOptions = defineOptions({
  verbose: {
    type: 'boolean', short: 'v',
    shortdesc: 'Verbose mode. Multiple -v flags can be stacked on the command line (e.g., -vvv) to increase verbosity.',
  },
  verbose_level: {
    type: 'integer', min: 0, metavar: 'level',
    shortdesc: 'Level of debugging detail in output. Defaults to the number of --verbose flags specified on the '
      + 'command line, or to 1 if verbose=1 in a stonith device configuration (i.e., on stdin).',
  },
  debug_file: {
    type: 'string', short: 'D', aliases: ['debug'], metavar: 'debugfile',
    shortdesc: 'Write debug information to given file',
  },
  quiet: {
    type: 'boolean', short: 'q',
    shortdesc: 'Disable logging to stderr. Does not affect --debug-file.',
  },
});

export const infoOptions = defineOptions({
  version: { type: 'boolean', short: 'V', shortdesc: 'Display version information and exit' },
  help: { type: 'boolean', short: 'h', shortdesc: 'Display help and exit' },
});
