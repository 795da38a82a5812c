// fence_ipmi's option table: the shared groups plus the IPMI options, named as in fence_ipmilan
// so a configuration moves between the two by changing the agent name.
import {
  actionOptions, connectionOptions, infoOptions, loggingOptions, loginOptions, methodOptions,
  plugOptions, portAsIpOptions, powerTimingOptions,
} from '../../lib/fence/groups.ts';
import { defineOptions } from '../../lib/fence/options.ts';

export const ipmiOptions = defineOptions({
  ...actionOptions,
  ...connectionOptions({ defaultPort: 623 }),
  ...portAsIpOptions,
  ...loginOptions,
  lanplus: {
    type: 'boolean', short: 'P', default: false,
    shortdesc: 'Use Lanplus to improve security of connection',
    longdesc: 'IPMI v2.0 RMCP+ (ipmitool -I lanplus) instead of IPMI v1.5 (-I lan).',
  },
  cipher: {
    type: 'string', short: 'C', default: '3', metavar: 'cipher',
    shortdesc: 'Ciphersuite to use (same as ipmitool -C parameter)',
    longdesc: 'Only used with lanplus. The default, 3 (HMAC-SHA1, AES-128), is answered at once by nearly '
      + 'every BMC. Set 17 (HMAC-SHA256, AES-128) for BMCs that disabled suite 3. "auto" lets ipmitool ask '
      + 'the BMC which suites it supports: BMCs that do not answer that question make every call wait '
      + '10 s or more.',
    validate: (v) => (/^(auto|\d{1,2})$/.test(v) ? undefined : 'use a cipher suite number (0-17) or auto'),
  },
  privlvl: {
    type: 'select', short: 'L', choices: ['callback', 'user', 'operator', 'administrator'], default: 'administrator',
    ignoreCase: true, metavar: 'level',
    shortdesc: 'Privilege level on IPMI device',
  },
  auth: {
    type: 'select', short: 'A', choices: ['md5', 'password', 'none'], ignoreCase: true, metavar: 'auth',
    shortdesc: 'IPMI Lan Auth type.',
  },
  hexadecimal_kg: {
    type: 'string', metavar: 'key', secret: true,
    shortdesc: 'Hexadecimal-encoded Kg key for IPMIv2 authentication',
    longdesc: 'Passed to ipmitool through its environment (IPMI_KGKEY with -K), so the key must decode to printable '
      + 'ASCII. Other keys are refused: ipmitool could only take them on its command line (-y), where every local '
      + 'user can read them; give the BMC a printable Kg key instead.',
    validate: (v) => (/^(0x)?([0-9a-fA-F]{2})+$/.test(v) ? undefined : 'use an even number of hexadecimal digits'),
  },
  target: {
    type: 'string', metavar: 'targetaddress',
    shortdesc: 'Bridge IPMI requests to the remote target address',
  },
  ...methodOptions,
  ipmitool_path: {
    type: 'string', default: '/usr/bin/ipmitool', metavar: 'path',
    shortdesc: 'Path to ipmitool binary',
  },
  ipmitool_timeout: {
    type: 'integer', default: 2, min: 1, metavar: 'timeout',
    shortdesc: 'Timeout (sec) for IPMI operation',
    longdesc: 'Seconds ipmitool waits for each answer before sending the request again (ipmitool -N). '
      + 'Each ipmitool run as a whole is stopped after login_timeout + shell_timeout seconds.',
  },
  ...plugOptions({
    metavar: 'ip',
    shortdesc: 'IP address or hostname of fencing device (together with --port-as-ip)',
    longdesc: 'One BMC controls one machine, so the plug is not used: Pacemaker passes the name of the node '
      + 'to fence here and it is ignored, unless port_as_ip is set.',
  }),
  ...powerTimingOptions({ powerWait: 2 }),
  ...loggingOptions,
  ...infoOptions,
});

export type IpmiOptions = typeof ipmiOptions;
