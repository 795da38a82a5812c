// ocf:vigil:vip parameters. Names follow IPaddr2 where they mean the same, so an operator can move
// a resource from ocf:heartbeat:IPaddr2 by changing the agent name.
import { defineParams } from '../../lib/ocf/params.ts';
import { ipFamily, validInterfaceName } from '../../lib/net/addr.ts';

export const params = defineParams({
  ip: {
    type: 'string', required: true, uniqueGroup: 'address',
    shortdesc: 'The floating IPv4 or IPv6 address',
    longdesc: 'The IPv4 or IPv6 address this resource holds, in plain notation (192.0.2.10, 2001:db8::10), without a prefix length.',
    example: '192.0.2.10',
    validate: (v) => (ipFamily(v) ? undefined : `"${v}" is not an IPv4 or IPv6 address (give the prefix length in cidr_netmask)`),
  },
  cidr_netmask: {
    type: 'string',
    shortdesc: 'Prefix length of the address',
    longdesc: 'Prefix length (24, 64) or, for IPv4, a dotted netmask. When unset it is taken from the connected route that contains the address. Use 32 (or 128) for an address outside every subnet of the interface.',
    validate: (v) => (/^\d{1,3}$/.test(v) || /^\d{1,3}(\.\d{1,3}){3}$/.test(v) ? undefined : `"${v}" is not a prefix length or netmask`),
  },
  nic: {
    type: 'string',
    shortdesc: 'Network interface',
    longdesc: 'The interface to add the address to. When unset, the interface of the connected route that contains the address; the choice must be unambiguous.',
    validate: (v) => (validInterfaceName(v) ? undefined : `"${v}" is not a valid interface name (letters, digits, "_", "." and "-", at most 15 characters; use iflabel for labels)`),
  },
  broadcast: {
    type: 'string',
    shortdesc: 'Broadcast address (IPv4)',
    longdesc: 'Broadcast address for an IPv4 address: an address, or "+" to derive it from the prefix. Unset: none.',
    validate: (v) => (v === '+' || v === '-' || ipFamily(v) === 4 ? undefined : `"${v}" is not an IPv4 address, "+" or "-"`),
  },
  iflabel: {
    type: 'string',
    shortdesc: 'Interface label (IPv4)',
    longdesc: 'Label the address as <nic>:<iflabel>, as ifconfig shows it. IPv4 only; nic and label together must fit in 15 characters.',
    validate: (v) => (/^[A-Za-z0-9_]{1,14}$/.test(v) ? undefined : `"${v}" is not a valid label (letters, digits and "_")`),
  },
  arp_count: {
    type: 'integer', default: 5, min: 0, max: 100,
    shortdesc: 'Gratuitous ARP count',
    longdesc: 'How many gratuitous ARP announcements to send after taking an IPv4 address. The first leaves at once; start does not wait for the rest. IPv6 addresses are announced by the kernel (one unsolicited neighbour advertisement when DAD completes).',
  },
  arp_interval: {
    type: 'integer', default: 200, min: 10, max: 10000,
    shortdesc: 'Milliseconds between announcements',
    longdesc: 'Milliseconds between two gratuitous ARP announcements.',
  },
  preferred_lft: {
    type: 'string', default: 'forever',
    shortdesc: 'IPv6 preferred lifetime',
    longdesc: 'Preferred lifetime of an IPv6 address: "forever", or 0 so the address is never chosen as a source for outgoing connections.',
    validate: (v) => (v === 'forever' || /^\d+$/.test(v) ? undefined : `"${v}" must be "forever" or a number of seconds`),
  },
  duplicate_check: {
    type: 'boolean', default: true,
    shortdesc: 'Refuse to take an address another host answers for',
    longdesc: 'Before adding the address, probe the segment (IPv4: ARP probe; IPv6: neighbour solicitation with ndisc6, then the kernel\'s duplicate address detection). If another host answers, start fails and names the MAC that answered. Turning this off lets two nodes hold one address (split brain).',
  },
  duplicate_timeout: {
    type: 'integer', default: 300, min: 100, max: 10000,
    shortdesc: 'Milliseconds the duplicate probe listens',
    longdesc: 'How long the duplicate probe waits for an answer, in milliseconds. Answers on a LAN take well under a millisecond; the default keeps start fast.',
  },
  local_src: {
    type: 'string', default: 'auto',
    shortdesc: 'Source address for local connections to the VIP',
    longdesc: 'After adding the address, replace the source of its route in table local with the interface\'s permanent address ("auto"), or with the given address. Local clients connected to the VIP then get a reset when the VIP leaves instead of hanging for minutes. "none" leaves the kernel\'s route alone.',
    validate: (v) => (v === 'auto' || v === 'none' || ipFamily(v) ? undefined : `"${v}" must be "auto", "none" or an address`),
  },
  drop_connections: {
    type: 'boolean', default: true,
    shortdesc: 'Reset TCP connections of the address on stop',
    longdesc: 'On stop, destroy the TCP connections whose local or remote address is the VIP (ss -K), so the kernel resets them and clients reconnect at once to the new holder.',
  },
});
