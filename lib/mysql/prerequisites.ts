// What the agent assumes of every server, checked instead of trusted. The election compares GTID
// positions and the rejoin check looks for transactions a primary lacks: both are only right when
// every server logs, with its GTID, everything it wrote or applied. Pure: variables in, problems
// out; reading them (live, from the option files, from the peers) is agents/mysql/prerequisites.ts.
import type { FlavourName } from './flavour.ts';
import type { Row } from './status.ts';

/** Server variables by their live name (log_slave_updates, not log-slave-updates), values as SHOW VARIABLES prints them. */
export type Variables = Readonly<Record<string, string | undefined>>;

export interface Requirement {
  /** The variable, or the alternatives the server may know it by (newest first). */
  readonly names: readonly string[];
  /** The value it must have, as SHOW VARIABLES prints it. */
  readonly want: string;
  /** The option file line that gives it. */
  readonly fix: string;
  /** Why the agent cannot do without it (docs/mysql.md section 1 says the same). */
  readonly why: string;
}

export interface SettingProblem {
  /** The variable's name as the server knows it. */
  readonly setting: string;
  /** Its value, undefined when the server does not report it at all. */
  readonly value: string | undefined;
  readonly want: string;
  readonly fix: string;
}

const LOG_BIN: Requirement = {
  names: ['log_bin'], want: 'ON', fix: 'log_bin = mysql-bin',
  why: 'without a binary log a server has no GTID history: nothing can replicate from it and the election cannot compare it',
};
// MariaDB 10.6-10.11 and MySQL before 8.0.26 know only log_slave_updates.
const LOG_UPDATES: Requirement = {
  names: ['log_replica_updates', 'log_slave_updates'], want: 'ON', fix: 'log_slave_updates = ON',
  why: 'a replica that does not log what it applies has a binary log without the primary\'s transactions: promoted, it cannot serve them to the others, and its position no longer says what it holds',
};
const SERVER_ID: Requirement = {
  names: ['server_id'], want: 'not 0', fix: 'server_id = <a number unique to this node>',
  why: 'a server with server_id 0 refuses to replicate in either direction',
};

const REQUIREMENTS: Record<'mariadb' | 'mysql', readonly Requirement[]> = {
  mariadb: [
    LOG_BIN, LOG_UPDATES,
    {
      names: ['gtid_strict_mode'], want: 'ON', fix: 'gtid_strict_mode = ON',
      why: 'without strict mode MariaDB accepts transactions out of GTID order, so a position no longer says which transactions a server holds',
    },
    SERVER_ID,
  ],
  mysql: [
    LOG_BIN,
    {
      names: ['gtid_mode'], want: 'ON', fix: 'gtid_mode = ON',
      why: 'the election, auto-positioning and the errant-transaction check all work on GTID sets; anything below ON leaves transactions without one',
    },
    {
      names: ['enforce_gtid_consistency'], want: 'ON', fix: 'enforce_gtid_consistency = ON',
      why: 'gtid_mode = ON needs it: statements that cannot be logged with a GTID are refused instead of breaking replication',
    },
    { ...LOG_UPDATES, fix: 'log_replica_updates = ON' },
    SERVER_ID,
  ],
};

const family = (f: FlavourName): 'mariadb' | 'mysql' => (f === 'mariadb' ? 'mariadb' : 'mysql');

/** The settings a server of this flavour must have, in the order they are reported. */
export function requiredSettings(flavour: FlavourName): readonly Requirement[] { return REQUIREMENTS[family(flavour)]; }

/** Every variable name the check reads, for SHOW GLOBAL VARIABLES (one round trip). */
export function variablesQuery(flavour: FlavourName): string {
  const names = [...new Set(requiredSettings(flavour).flatMap((r) => r.names))];
  return `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map((n) => `'${n}'`).join(', ')})`;
}

/** Rows of Variable_name/Value as variables. */
export function variablesFromRows(rows: readonly Row[]): Variables {
  const v: Record<string, string> = {};
  for (const r of rows) {
    const name = r.Variable_name ?? r.variable_name;
    if (name !== undefined && name !== null) v[String(name).toLowerCase()] = String(r.Value ?? r.value ?? '');
  }
  return v;
}

const ON = new Set(['on', '1', 'true', 'yes']);
const OFF = new Set(['off', '0', 'false', 'no']);

/** ON/OFF for what reads as a boolean (SHOW VARIABLES, --help's TRUE/FALSE), else the value as given. */
function normalized(value: string): string {
  const l = value.trim().toLowerCase();
  if (ON.has(l)) return 'ON';
  if (OFF.has(l)) return 'OFF';
  return value.trim();
}

function satisfied(r: Requirement, value: string): boolean {
  if (r.want === 'not 0') return /^\d+$/.test(value.trim()) && Number(value) !== 0;
  return normalized(value) === r.want;
}

/** The wrong settings among `vars`, one per requirement, in the table's order. */
export function settingProblems(flavour: FlavourName, vars: Variables): SettingProblem[] {
  const out: SettingProblem[] = [];
  for (const r of requiredSettings(flavour)) {
    const name = r.names.find((n) => vars[n] !== undefined);
    const value = name === undefined ? undefined : vars[name];
    if (value !== undefined && satisfied(r, value)) continue;
    const shown = value === undefined ? undefined : r.want === 'ON' ? normalized(value) : value.trim();
    out.push({ setting: name ?? r.names[r.names.length - 1]!, value: shown, want: r.want, fix: r.fix });
  }
  return out;
}

/**
 * The exit reason naming every wrong setting and what to write where. `where` is the option file
 * (the config parameter), or undefined for the server's default option files. The settings come
 * first: Pacemaker keeps only the first 128 characters of an exit reason (crm_mon shows those).
 */
export function settingsReason(problems: readonly SettingProblem[], where: string | undefined): string {
  const file = where ? where : 'the server\'s option file';
  const each = problems.map((p) => `${p.setting} is ${p.value === undefined ? 'not reported' : p.value}`);
  const fixes = problems.map((p) => `"${p.fix}"`);
  return `wrong server settings: ${each.join(', ')}; put ${fixes.join(', ')} in the [mysqld] section of ${file} (the election and the errant-transaction check rely on them)`;
}

/**
 * `mariadbd --verbose --help` ends with a table of every variable after the option files and the
 * command line were read ("log-slave-updates   TRUE"); the same live names and values as
 * SHOW VARIABLES. log-bin shows the base name ("(No default value)" or 0 when off).
 */
export function variablesFromHelp(text: string): Variables {
  const at = text.search(/^Variables \(--variable-name=value\)/m);
  if (at < 0) return {};
  const v: Record<string, string> = {};
  for (const line of text.slice(at).split('\n')) {
    const m = /^([a-z][a-z0-9-]*)\s+(.*?)\s*$/.exec(line);
    if (!m || m[1]!.startsWith('-')) continue;
    v[m[1]!.replace(/-/g, '_')] = m[2]!;
  }
  if (v.log_bin !== undefined) v.log_bin = v.log_bin === '(No default value)' || v.log_bin === '0' || v.log_bin === '' ? 'OFF' : 'ON';
  return v;
}

// --- every server its own identity ---

/** Who a server says it is. */
export interface Identity {
  serverId: string;
  /** MySQL only. */
  serverUuid?: string;
  /** Where it runs: hostname, port and datadir together tell the same server reached twice. */
  hostname?: string;
  port?: string;
  datadir?: string;
}

export function identityQuery(flavour: FlavourName): string {
  return `SELECT @@server_id AS server_id, ${flavour === 'mariadb' ? "'' AS server_uuid" : '@@server_uuid AS server_uuid'}, @@hostname AS hostname, @@port AS port, @@datadir AS datadir`;
}

export function identityFromRow(row: Row | undefined): Identity {
  const s = (k: string) => (row?.[k] === undefined || row?.[k] === null || row?.[k] === '' ? undefined : String(row[k]));
  return { serverId: s('server_id') ?? '', serverUuid: s('server_uuid'), hostname: s('hostname'), port: s('port'), datadir: s('datadir') };
}

export type PeerIdentity = { node: string; identity: Identity } | { node: string; unanswered: string };

export interface IdentityVerdict {
  /** Each a sentence naming the node and the value they share. */
  clashes: string[];
  /** Peers that did not answer: not checked, which is not an error (their own validate-all checks them). */
  unchecked: string[];
}

/**
 * MySQL replicas skip events that carry their own server_id, and the server_uuid names the GTIDs
 * a server writes: two servers sharing either silently lose or confuse transactions.
 */
export function identityClashes(local: Identity, peers: readonly PeerIdentity[]): IdentityVerdict {
  const clashes: string[] = [];
  const unchecked: string[] = [];
  for (const p of peers) {
    if ('unanswered' in p) { unchecked.push(`${p.node} (${p.unanswered})`); continue; }
    const o = p.identity;
    if (local.hostname !== undefined && local.hostname === o.hostname && local.port === o.port && local.datadir === o.datadir) {
      clashes.push(`${p.node}'s address reaches this node's own server (${o.hostname}:${o.port}): fix node_map`);
      continue;
    }
    if (local.serverId !== '' && o.serverId === local.serverId) {
      clashes.push(`${p.node}'s server has the same server_id ${o.serverId} as this one: give every server its own server_id`);
    }
    if (local.serverUuid && o.serverUuid === local.serverUuid) {
      clashes.push(`${p.node}'s server has the same server_uuid ${o.serverUuid} as this one (a copied datadir): remove auto.cnf from one of them and restart it`);
    }
  }
  return { clashes, unchecked };
}

// --- fencing ---

export interface FencingVerdict { refuse?: string; warn?: string }

/** Pacemaker's booleans (crm_str_to_boolean); anything else is no answer. */
function pacemakerBoolean(v: string): boolean | undefined {
  const l = v.trim().toLowerCase();
  if (['true', 'on', 'yes', 'y', '1'].includes(l)) return true;
  if (['false', 'off', 'no', 'n', '0'].includes(l)) return false;
  return undefined;
}

/**
 * May this node promote, given the cluster property stonith-enabled? `read` is what the CIB said:
 * ok with undefined means the property is absent (Pacemaker's default, true). A silent peer is
 * only safe to take as stopped when the cluster fences what it loses; in doubt, refuse.
 */
export function fencingVerdict(read: { ok: boolean; value?: string; reason?: string }, allowWithoutFencing: boolean): FencingVerdict {
  let problem: string | undefined;
  if (!read.ok) problem = `stonith-enabled cannot be read (${read.reason ?? 'no answer'})`;
  else if (read.value !== undefined) {
    const b = pacemakerBoolean(read.value);
    if (b === false) problem = `stonith-enabled=${read.value.trim()} (fencing disabled)`;
    else if (b === undefined) problem = `stonith-enabled="${read.value.trim()}" is neither true nor false`;
  }
  if (!problem) return {};
  const risk = 'a peer that does not answer may still be running and taking writes';
  if (allowWithoutFencing) return { warn: `${problem}: promoting anyway because allow_without_fencing=true; ${risk}` };
  // The names first: Pacemaker keeps 128 characters of an exit reason.
  return { refuse: `not promoted: ${problem} and allow_without_fencing is not set: ${risk}; enable fencing (pcs property set stonith-enabled=true), or set allow_without_fencing=true to accept that risk` };
}
