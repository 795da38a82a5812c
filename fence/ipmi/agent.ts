// fence_ipmi: STONITH through a BMC over IPMI-over-LAN with ipmitool. The definition only; the
// runtime (lib/fence) does parsing, metadata, the power engine and exit codes.
import { accessSync, constants, statSync } from 'node:fs';
import { defineFenceAgent } from '../../lib/fence/agent.ts';
import { ipmiOptions } from './options.ts';
import { callBudgetMs, ipmitoolDevice, kgForEnvironment, type IpmiValues } from './ipmitool.ts';

export const VERSION = '0.1.0';

export const fenceIpmi = defineFenceAgent({
  name: 'fence_ipmi',
  version: VERSION,
  shortdesc: 'Fence agent for IPMI',
  longdesc: 'fence_ipmi powers a machine off, on or through a reboot by asking its BMC (iLO, iDRAC, IMM, '
    + 'OpenBMC, any IPMI 1.5/2.0 LAN interface) with ipmitool, and checks the power state after every change: '
    + 'it reports success only once the BMC says the machine is in the requested state. Options are those of '
    + 'fence_ipmilan. The password is handed to ipmitool through its environment (ipmitool -E), never on a '
    + 'command line where other local users could read it. A BMC that does not answer, refuses the login or '
    + 'answers garbage fails the action within login_timeout + shell_timeout seconds per call, with a message '
    + 'saying which it was.',
  vendorUrl: 'https://www.intel.com/content/www/us/en/products/docs/servers/ipmi/ipmi-home.html',
  options: ipmiOptions,
  check(o) {
    const problems: string[] = [];
    if (!o.ip) problems.push('You have to enter fence address: --ip (ip), or --plug with --port-as-ip');
    if (o.hexadecimal_kg && kgForEnvironment(o.hexadecimal_kg) === undefined) {
      problems.push('hexadecimal_kg does not decode to printable ASCII: ipmitool could only take it on its command line, '
        + 'where every local user can read it (set a printable Kg key on the BMC)');
    }
    return problems;
  },
  async prerequisites(ctx) {
    const path = ctx.options.ipmitool_path;
    try {
      if (!statSync(path).isFile()) return [`ipmitool_path ${path} is not a file`];
      accessSync(path, constants.X_OK);
      return [];
    } catch (e) {
      return [`ipmitool not found or not executable at ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}); install ipmitool or set ipmitool_path`];
    }
  },
  callBudgetMs: (o) => callBudgetMs(o),
  device: (ctx) => {
    if (ctx.options.plug && !ctx.options.port_as_ip) ctx.log.debug(`plug ${ctx.options.plug} is not used: a BMC controls one machine`);
    return ipmitoolDevice(ctx.options as IpmiValues, ctx.runner);
  },
  notes: [
    'Pacemaker: one stonith resource per BMC, with pcmk_host_list naming the node it fences. fence_ipmi does '
      + 'not advertise a list action (a BMC controls one machine), so without pcmk_host_list Pacemaker asks '
      + 'status, which succeeds for any node name, exactly as with fence_ipmilan.',
    'cipher defaults to 3 with lanplus. ipmitool left to choose (cipher=auto) first asks the BMC for its cipher '
      + 'suites; BMCs that do not answer that make every call wait 10 s or more.',
    'password_script is run without a shell: the value is split into words (quotes group words) and run '
      + 'directly. Pipes, redirections and variables are refused; put them in a script file.',
    'disable_timeout is accepted for compatibility and ignored: every ipmitool run is bounded by '
      + 'login_timeout + shell_timeout, every verification by power_timeout.',
  ],
  examples: [
    'pcs stonith create fence-n1 fence_ipmi ip=198.51.100.11 username=admin password_script="/usr/local/sbin/bmc-pass n1" lanplus=1 pcmk_host_list=n1',
    'fence_ipmi --ip=198.51.100.11 --username=admin --password-script="/usr/local/sbin/bmc-pass n1" --lanplus -o status',
    'printf "action=reboot\\nip=198.51.100.11\\nusername=admin\\npassword=secret\\nlanplus=1\\n" | fence_ipmi',
  ],
});
