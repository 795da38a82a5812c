// The one parameter table of ocf:vigil:mysql: parsing, validation, meta-data, help and man page
// all come from here.
import { defineParams } from '../../lib/ocf/params.ts';
import { parseNodeMap } from './peers.ts';
import { ipFamily, validInterfaceName } from '../../lib/net/addr.ts';

const absolute = (what: string) => (v: string): string | undefined =>
  (v.startsWith('/') ? undefined : `${what} must be an absolute path, not "${v}"`);

export const params = defineParams({
  // --- the server ---
  binary: {
    type: 'string', default: '',
    shortdesc: 'Server binary',
    longdesc: 'Path of the database server program, started directly (never through mysqld_safe, which would restart a killed server behind the cluster\'s back). Empty: mariadbd, then mysqld, from PATH and the usual sbin directories.',
    validate: (v) => (v === '' ? undefined : absolute('binary')(v)),
  },
  config: {
    type: 'string', default: '',
    shortdesc: 'Option file',
    longdesc: 'Option file passed as --defaults-file. Empty: the server reads its default option files (/etc/mysql/my.cnf and what it includes). Put server_id, log_bin, log_slave_updates and binlog settings there.',
    validate: (v) => (v === '' ? undefined : absolute('config')(v)),
  },
  datadir: {
    type: 'string', default: '/var/lib/mysql', uniqueGroup: 'datadir',
    shortdesc: 'Data directory',
    longdesc: 'The server\'s data directory; it must exist and be initialised (mariadb-install-db or mysqld --initialize).',
    validate: absolute('datadir'),
  },
  socket: {
    type: 'string', default: '/run/mysqld/mysqld.sock', uniqueGroup: 'socket',
    shortdesc: 'Unix socket',
    longdesc: 'Unix socket of the server; the agent talks to its local server through it.',
    validate: absolute('socket'),
  },
  port: {
    type: 'integer', default: 3306, min: 1, max: 65535, uniqueGroup: 'port',
    shortdesc: 'TCP port',
    longdesc: 'TCP port the server listens on.',
  },
  pid: {
    type: 'string', default: '/run/mysqld/mysqld.pid', uniqueGroup: 'pid',
    shortdesc: 'Pid file',
    longdesc: 'Pid file the server writes; the agent finds (and stops) the server by it.',
    validate: absolute('pid'),
  },
  user: {
    type: 'string', default: 'mysql',
    shortdesc: 'System user',
    longdesc: 'System account the server runs as (passed as --user; the server drops root privileges itself). It must own the data directory.',
    validate: (v) => (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(v) ? undefined : `"${v}" is not a valid user name`),
  },
  log: {
    type: 'string', default: '',
    shortdesc: 'Error log',
    longdesc: 'Error log, passed as --log-error. Empty: the option file decides; anything the server writes to stderr before it opens its log is appended to <datadir>/vigil-mysqld.out.',
    validate: (v) => (v === '' ? undefined : absolute('log')(v)),
  },
  additional_parameters: {
    type: 'string', default: '',
    shortdesc: 'Extra server options',
    longdesc: 'More options for the server command line, separated by spaces (no shell quoting). They come last, so they override the agent\'s own, except that the server always starts read-only and with replication stopped.',
  },
  // --- replication ---
  replication_user: {
    type: 'string', default: 'root',
    shortdesc: 'Replication and administration account',
    longdesc: 'Account used by the agent on the local server (through the socket) and by replicas to connect to the primary. It needs REPLICATION SLAVE, REPLICATION CLIENT (BINLOG MONITOR and SLAVE MONITOR on MariaDB), PROCESS, CONNECTION ADMIN (or SUPER), READ_ONLY ADMIN on MariaDB, SYSTEM_VARIABLES_ADMIN and REPLICATION_SLAVE_ADMIN on MySQL.',
  },
  replication_password: {
    type: 'string', default: '', secret: true,
    shortdesc: 'Password of the replication account',
    longdesc: 'Password of replication_user. Prefer replication_password_file: a value here is stored in the CIB, readable on every node.',
  },
  replication_password_file: {
    type: 'string', default: '',
    shortdesc: 'File holding the replication password',
    longdesc: 'A file owned by root with mode 0600 or 0400 whose first line is the password of replication_user. The alternative to replication_password; set one of the two.',
    validate: (v) => (v === '' ? undefined : absolute('replication_password_file')(v)),
  },
  replication_port: {
    type: 'integer', default: 3306, min: 1, max: 65535,
    shortdesc: 'Port of the peers',
    longdesc: 'TCP port on which replicas reach the primary, unless node_map gives one for that node.',
  },
  replication_require_ssl: {
    type: 'boolean', default: false,
    shortdesc: 'TLS on every connection to another node\'s server',
    longdesc: 'Require TLS, verifying the server\'s certificate, on every TCP connection to another node\'s server: the replication link (replicas to the primary) and the agent\'s own sessions (the writable-peer guard at promotion, the switchover wait, the rejoin check, the consistency report). The certificate must chain to replication_ssl_ca and name the address or host name the node is dialled at (node_map, else the node name). Needed when the replication account REQUIRE SSL or the servers run with require_secure_transport=ON. The agent\'s session on its own server goes through the Unix socket, without TLS.',
  },
  replication_ssl_ca: {
    type: 'string', default: '',
    shortdesc: 'CA file for TLS to other nodes\' servers',
    longdesc: 'CA certificate file (PEM), on every node, that verifies the other servers\' certificates, for the replication link and the agent\'s own sessions. Empty: the agent\'s sessions trust the system\'s CAs.',
  },
  replication_ssl_cert: {
    type: 'string', default: '',
    shortdesc: 'Client certificate for TLS to other nodes\' servers',
    longdesc: 'Client certificate file (PEM) presented by replicas and by the agent\'s own sessions (for accounts that REQUIRE X509). Set with replication_ssl_key.',
  },
  replication_ssl_key: {
    type: 'string', default: '',
    shortdesc: 'Client key for TLS to other nodes\' servers',
    longdesc: 'Key file (PEM) of replication_ssl_cert, readable by root and by the server\'s user (the replication link reads it too).',
  },
  node_map: {
    type: 'string', default: '',
    shortdesc: 'Node addresses',
    longdesc: 'How replicas reach each node\'s server: a space-separated list of node=address or node=address:port (IPv6 in brackets: node=[2001:db8::1]:3306). Nodes not listed are reached by their node name (resolved by the server) on replication_port.',
    validate: (v) => parseNodeMap(v).problem,
  },
  // --- failover ---
  semisync: {
    type: 'boolean', default: false,
    shortdesc: 'Semi-synchronous replication',
    longdesc: 'Configure semi-synchronous replication on start, promote and demote: the primary waits (AFTER_SYNC) until at least one replica has acknowledged each transaction, so a commit acknowledged to a client survives the primary\'s death; the election promotes the replica that holds it. MariaDB has it built in (and the agent also starts servers with --rpl-semi-sync-slave-enabled, so a crashed primary rolls back what no replica acknowledged); MySQL needs the semisync_source and semisync_replica plugins loaded by the option file. false turns it off on the next start, promote or demote.',
  },
  semisync_timeout: {
    type: 'integer', default: 10000, min: 1,
    shortdesc: 'Semi-sync acknowledgement timeout (ms)',
    longdesc: 'How long the semi-sync primary waits for a replica\'s acknowledgement before it carries on asynchronously (and commits are no longer protected until a replica catches up). Raise it to favour zero loss over write availability when every replica is gone.',
  },
  peer_timeout: {
    type: 'integer', default: 1000, min: 100,
    shortdesc: 'Time (ms) for another node\'s server to answer',
    longdesc: 'Before becoming writable, promote asks every other node\'s server whether it still accepts writes; a node where nothing answers the connection within this time (refused, unreachable, powered off) is taken as stopped (the cluster only promotes after stopping or fencing what it lost). A server that accepts the connection but then does not answer (frozen, overloaded) refuses the promotion: it may take writes again the moment it resumes. A powered-off machine often answers nothing at all; a node that has left the cluster membership (and so was fenced before any promotion) gets at most 200 ms, so a power loss does not cost this whole time; a live server on a LAN answers in milliseconds. Also the time for each look at the target\'s position during a planned switchover and at the primary\'s when a former primary rejoins.',
  },
  allow_async_failover: {
    type: 'boolean', default: false,
    shortdesc: 'Promote after losing a primary that ran asynchronously',
    longdesc: 'With semisync=true, a primary whose replicas stopped acknowledging carries on asynchronously after semisync_timeout, and says so in the cluster record. When such a primary is lost, the commits it acknowledged meanwhile may exist on no other server: by default no replica is promoted (the resource waits, no writes anywhere) until the lost primary comes back or the operator accepts the loss (docs/mysql.md, "Accepting a loss"). true promotes the most advanced replica anyway, choosing availability over those commits. With semisync=false every primary is asynchronous by choice and this check does not apply.',
  },
  manual_promotion: {
    type: 'boolean', default: false,
    shortdesc: 'Allow a promotion without an election',
    longdesc: 'A promotion in a clone of more than one instance needs the election that the pre-promote notification starts (notify=true). Without its record (the notification timed out, or the promotion was forced by hand with crm_resource --force-promote) the promotion fails, because a lagging replica could win. true lets such a promotion proceed without comparing positions: only for an operator promoting a node they have checked themselves.',
  },
  allow_without_fencing: {
    type: 'boolean', default: false,
    shortdesc: 'Promote while the cluster has fencing disabled',
    longdesc: 'A peer that does not answer is only safe to treat as stopped when the cluster fences what it loses. With stonith-enabled=false a silent peer may still be running and taking writes, so promotion is refused. true accepts that risk (test clusters only).',
  },
  // --- the write address (optional) ---
  write_ip: {
    type: 'string', default: '',
    shortdesc: 'Write address held by the primary itself',
    longdesc: 'An IPv4 or IPv6 address that the promoted instance holds itself: promote takes it the moment the server is writable (after the same duplicate-address probe as ocf:vigil:vip, run while the promotion catches up), demote and stop release it before anything else (resetting its connections), and the primary\'s monitor checks it (depth 10: for a second holder). The node that accepts writes is then exactly the node that holds the address, with no separate VIP resource, colocation or ordering: one step fewer in every failover. Empty: no address (use an ocf:vigil:vip resource colocated with the promoted instance instead). docs/mysql.md compares both set-ups.',
    example: '192.0.2.50',
    validate: (v) => (v === '' || ipFamily(v) ? undefined : `"${v}" is not an IPv4 or IPv6 address (give the prefix length in write_cidr_netmask)`),
  },
  write_cidr_netmask: {
    type: 'string', default: '',
    shortdesc: 'Prefix length of the write address',
    longdesc: 'As ocf:vigil:vip\'s cidr_netmask: a prefix length or, for IPv4, a dotted netmask. Empty: taken from the connected route that contains write_ip.',
    validate: (v) => (v === '' || /^\d{1,3}$/.test(v) || /^\d{1,3}(\.\d{1,3}){3}$/.test(v) ? undefined : `"${v}" is not a prefix length or netmask`),
  },
  write_nic: {
    type: 'string', default: '',
    shortdesc: 'Interface of the write address',
    longdesc: 'As ocf:vigil:vip\'s nic. Empty: the interface of the connected route that contains write_ip.',
    validate: (v) => (v === '' || validInterfaceName(v) ? undefined : `"${v}" is not a valid interface name`),
  },
  write_duplicate_timeout: {
    type: 'integer', default: 300, min: 100, max: 10000,
    shortdesc: 'Milliseconds the write address\'s duplicate probe listens',
    longdesc: 'As ocf:vigil:vip\'s duplicate_timeout. The probe runs while the promotion catches up, so it adds to the failover only when catch-up is faster.',
  },
  // --- health ---
  lag_info: {
    type: 'integer', default: 5, min: 0,
    shortdesc: 'Lag (s) graded INFO',
    longdesc: 'Replication lag in seconds from which a replica is graded INFO. 0 disables this step.',
  },
  lag_warn: {
    type: 'integer', default: 30, min: 0,
    shortdesc: 'Lag (s) graded WARN',
    longdesc: 'Replication lag in seconds from which a replica is graded WARN. 0 disables this step.',
  },
  lag_critical: {
    type: 'integer', default: 120, min: 0,
    shortdesc: 'Lag (s) graded CRITICAL',
    longdesc: 'Replication lag in seconds from which a replica is graded CRITICAL. 0 disables this step.',
  },
  lag_fail: {
    type: 'integer', default: 0, min: 0,
    shortdesc: 'Lag (s) graded FAIL',
    longdesc: 'Replication lag in seconds from which a replica is graded FAIL and is no longer promotable. 0 (the default) disables this step: a lagging replica catches up during promotion.',
  },
  test_table: {
    type: 'string', default: 'mysql.user',
    shortdesc: 'Table read at OCF_CHECK_LEVEL 10',
    longdesc: 'A table (schema.table) that a depth-10 monitor reads one row of, proving the server answers real queries.',
    validate: (v) => (/^[A-Za-z0-9_$]+\.[A-Za-z0-9_$]+$/.test(v) ? undefined : `"${v}" is not schema.table`),
  },
});

export type MysqlParams = typeof params;
