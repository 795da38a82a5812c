// The option table of a fence agent. Each agent composes one immutable table from the shared
// groups in groups.ts plus its own options; argv and stdin parsing, validation, --help, the
// metadata XML and the man page are all derived from it. Nothing restates an option by hand.
//
// Names follow fence-agents so an operator can switch agents by changing the agent name: the
// table key is the name used on stdin and in the metadata (`ip`, `password_script`), the long
// option is the key with `_` turned into `-` (`--password-script`), and `aliases` are the old
// stdin names (`ipaddr`, `passwd_script`) that the metadata lists as deprecated.

interface OptionCommon {
  shortdesc: string;
  /** Extra explanation for --help and the man page (the fence metadata format has no longdesc). */
  longdesc?: string;
  /** One-letter getopt name, without the dash. */
  short?: string;
  /** Long option name when it is not the key with `_` -> `-`. */
  long?: string;
  /** Placeholder shown in "--ip=[ip]". */
  metavar?: string;
  /** Older names accepted on stdin and listed in the metadata as deprecated. */
  aliases?: readonly string[];
  /** Must be given for every device action (metadata says required="1"). */
  required?: boolean;
  /** Never logged: every value is registered with log.hide(). */
  secret?: boolean;
}
export interface StringOption extends OptionCommon {
  type: 'string';
  default?: string;
  /** A reason if the value is unacceptable. Pure: no I/O. */
  validate?: (v: string) => string | undefined;
}
export interface IntegerOption extends OptionCommon {
  type: 'integer';
  default?: number;
  min?: number;
  max?: number;
}
/** A duration in seconds; decimals are accepted (fence-agents only takes integers). */
export interface SecondOption extends OptionCommon {
  type: 'second';
  default?: number;
  min?: number;
  max?: number;
}
/** A flag on the command line (`--lanplus`), 1/yes/on/true or 0/no/off/false on stdin. */
export interface BooleanOption extends OptionCommon {
  type: 'boolean';
  default?: boolean;
}
export interface SelectOption extends OptionCommon {
  type: 'select';
  choices: readonly string[];
  default?: string;
  /** Compare case-insensitively and store the choice as written in the table. */
  ignoreCase?: boolean;
}
export type OptionSpec = StringOption | IntegerOption | SecondOption | BooleanOption | SelectOption;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

type Base<O extends OptionSpec> = O extends IntegerOption | SecondOption ? number
  : O extends BooleanOption ? boolean
  : O extends SelectOption ? O['choices'][number]
  : string;
type HasValue<O> = O extends { default: unknown } ? true : false;
/** Typed option values: options with a default are never undefined. */
export type FenceValues<T extends OptionTable> = {
  readonly [K in keyof T]: HasValue<T[K]> extends true ? Base<T[K]> : Base<T[K]> | undefined;
};

/** Keeps literal types (choices, defaults) and freezes the table so no agent can patch a group. */
export function defineOptions<const T extends OptionTable>(t: T): T {
  for (const spec of Object.values(t)) {
    Object.freeze(spec);
    if (spec.aliases) Object.freeze(spec.aliases);
  }
  return Object.freeze(t);
}

/** `-` and `_` are interchangeable everywhere a name is read. */
export const normalizeName = (name: string): string => name.trim().replace(/-/g, '_');
export const longName = (key: string, spec: OptionSpec): string => spec.long ?? key.replace(/_/g, '-');
export const takesValue = (spec: OptionSpec): boolean => spec.type !== 'boolean';

/** Placeholder for the value in help and getopt text. */
export function metavar(key: string, spec: OptionSpec): string {
  if (spec.metavar) return spec.metavar;
  if (spec.type === 'second') return 'seconds';
  return key;
}

/** "-a, --ip=[ip]" as fence-agents writes it in <getopt mixed>. */
export function getoptText(key: string, spec: OptionSpec): string {
  const long = `--${longName(key, spec)}${takesValue(spec) ? `=[${metavar(key, spec)}]` : ''}`;
  return spec.short ? `-${spec.short}, ${long}` : long;
}

/** Problems in a table itself: duplicate short options, long names or aliases. Used by tests. */
export function tableProblems(table: OptionTable): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const claim = (what: string, owner: string) => {
    const prev = seen.get(what);
    if (prev && prev !== owner) problems.push(`${what} is used by both ${prev} and ${owner}`);
    seen.set(what, owner);
  };
  for (const [key, spec] of Object.entries(table)) {
    if (key !== normalizeName(key)) problems.push(`option key ${key} must use _ not -`);
    if (spec.short) {
      if (!/^[A-Za-z0-9]$/.test(spec.short)) problems.push(`${key}: short option must be one letter or digit`);
      claim(`-${spec.short}`, key);
    }
    claim(`--${normalizeName(longName(key, spec))}`, key);
    claim(`name ${key}`, key);
    for (const a of spec.aliases ?? []) claim(`name ${normalizeName(a)}`, key);
    if (spec.type === 'select' && spec.default !== undefined && !spec.choices.includes(spec.default)) {
      problems.push(`${key}: default ${spec.default} is not one of its choices`);
    }
  }
  return problems;
}

/** Map every accepted stdin name (key and aliases, normalised) to its key. */
export function nameIndex(table: OptionTable): Map<string, string> {
  const index = new Map<string, string>();
  for (const [key, spec] of Object.entries(table)) {
    index.set(normalizeName(key), key);
    for (const a of spec.aliases ?? []) index.set(normalizeName(a), key);
  }
  return index;
}
