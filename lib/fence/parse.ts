// The two ways options reach a fence agent, reduced to one shape:
//   argv  (an operator at a shell): getopt style, `-o reboot`, `-oreboot`, `-vvv`, `--action=reboot`,
//         `--action reboot`, `--lanplus`, unambiguous long prefixes, `--` ends the options;
//   stdin (pacemaker-fenced, scripts): one `key=value` per line, `#` comments and blank lines
//         skipped, one pair of surrounding quotes stripped, the last value wins, old names and
//         new names alike, `-` and `_` interchangeable, unknown keys reported and ignored.
// Both produce raw strings per table key; typeOptions() turns them into typed values once.
import {
  longName, nameIndex, normalizeName, takesValue,
  type FenceValues, type OptionSpec, type OptionTable,
} from './options.ts';

export interface RawOptions {
  source: 'argv' | 'stdin';
  /** Raw value per table key; flags given on argv are `true`. */
  values: Map<string, string | boolean>;
  /** How often each key was given (`-vvv` counts 3). */
  counts: Map<string, number>;
  /** Arguments that are not options (reported, like getopt's leftovers). */
  positional: string[];
  /** Input we ignored: worth a warning. */
  warnings: string[];
  /** Input we ignored on purpose (keys Pacemaker always sends): debug only. */
  notes: string[];
  /** Input we cannot make sense of: a usage error. */
  errors: string[];
}

const emptyRaw = (source: RawOptions['source']): RawOptions => ({
  source, values: new Map(), counts: new Map(), positional: [], warnings: [], notes: [], errors: [],
});

function put(raw: RawOptions, key: string, value: string | boolean): void {
  raw.values.set(key, value);
  raw.counts.set(key, (raw.counts.get(key) ?? 0) + 1);
}

/** Resolve `--name` (already without dashes): exact match first, then a unique prefix. */
function resolveLong(table: OptionTable, name: string): { key?: string; error?: string } {
  const want = normalizeName(name);
  const longs = Object.entries(table).map(([key, spec]) => [normalizeName(longName(key, spec)), key] as const);
  const exact = longs.find(([l]) => l === want);
  if (exact) return { key: exact[1] };
  const prefixed = longs.filter(([l]) => want.length > 0 && l.startsWith(want));
  if (prefixed.length === 1) return { key: prefixed[0]![1] };
  if (prefixed.length > 1) {
    return { error: `option --${name} is ambiguous (${prefixed.map(([l]) => `--${l.replace(/_/g, '-')}`).join(', ')})` };
  }
  return { error: `unknown option --${name}` };
}

export function parseArgv(table: OptionTable, argv: readonly string[]): RawOptions {
  const raw = emptyRaw('argv');
  const shorts = new Map<string, string>();
  for (const [key, spec] of Object.entries(table)) if (spec.short) shorts.set(spec.short, key);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { raw.positional.push(...argv.slice(i + 1)); break; }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const { key, error } = resolveLong(table, name);
      if (!key) { raw.errors.push(error!); continue; }
      const spec = table[key]!;
      if (takesValue(spec)) {
        const value = inline ?? argv[++i];
        if (value === undefined) { raw.errors.push(`option --${longName(key, spec)} requires a value`); continue; }
        put(raw, key, value);
      } else if (inline !== undefined) {
        raw.errors.push(`option --${longName(key, spec)} does not take a value`);
      } else {
        put(raw, key, true);
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        const key = shorts.get(c);
        if (!key) { raw.errors.push(`unknown option -${c}`); break; }
        const spec = table[key]!;
        if (!takesValue(spec)) { put(raw, key, true); continue; }
        const rest = arg.slice(j + 1);
        const value = rest !== '' ? rest : argv[++i];
        if (value === undefined) raw.errors.push(`option -${c} requires a value`);
        else put(raw, key, value);
        break;
      }
    } else {
      raw.positional.push(arg);
    }
  }
  return raw;
}

/** Keys pacemaker-fenced passes to every agent; ignoring them is not worth a warning. */
export function isPacemakerKey(name: string): boolean {
  return name === 'nodename' || name === 'nodeid' || name === 'crm_feature_set'
    || name.startsWith('pcmk_') || name.startsWith('CRM_meta');
}

export function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) return v.slice(1, -1);
  return v;
}

const TRUE = new Set(['1', 'yes', 'on', 'true']);
const FALSE = new Set(['0', 'no', 'off', 'false']);
export function parseBoolean(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  return undefined;
}

export function parseStdin(table: OptionTable, text: string): RawOptions {
  const raw = emptyRaw('stdin');
  const index = nameIndex(table);
  for (const [n, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const name = normalizeName(eq < 0 ? line : line.slice(0, eq));
    // Values are never echoed in messages: any line may carry a password.
    const value = eq < 0 ? '' : unquote(line.slice(eq + 1).trim());
    const key = index.get(name);
    if (!key) {
      if (isPacemakerKey(name)) raw.notes.push(`ignoring ${name} (set by Pacemaker, not used by this agent)`);
      else raw.warnings.push(`ignoring unknown option "${name}" (stdin line ${n + 1})`);
      continue;
    }
    const spec = table[key]!;
    if (spec.type === 'boolean') {
      const b = parseBoolean(value);
      if (b === undefined) {
        raw.warnings.push(`ignoring ${name} (stdin line ${n + 1}): use 1/yes/on/true or 0/no/off/false`);
        continue;
      }
      put(raw, key, b);
    } else {
      put(raw, key, value);
    }
  }
  return raw;
}

/** The option as the operator knows it, for messages: `--ipport (ipport)`. */
export const optionLabel = (key: string, spec: OptionSpec): string => `--${longName(key, spec)} (${key})`;

/** Parse one raw value; a reason if it is unacceptable. Secret values are never quoted. */
export function typeValue(key: string, spec: OptionSpec, raw: string | boolean): { value?: unknown; reason?: string } {
  const label = optionLabel(key, spec);
  const shown = spec.secret ? '' : ` "${String(raw)}"`;
  if (spec.type === 'boolean') {
    if (typeof raw === 'boolean') return { value: raw };
    const b = parseBoolean(raw);
    return b === undefined ? { reason: `${label}: value${shown} is not a boolean (use 1/yes/on/true or 0/no/off/false)` } : { value: b };
  }
  const s = String(raw);
  switch (spec.type) {
    case 'integer':
    case 'second': {
      const ok = spec.type === 'integer' ? /^-?\d+$/.test(s.trim()) : /^\d+(\.\d+)?$/.test(s.trim());
      if (!ok) return { reason: `${label}: value${shown} is not ${spec.type === 'integer' ? 'an integer' : 'a number of seconds'}` };
      const n = Number(s.trim());
      if (spec.min !== undefined && n < spec.min) return { reason: `${label}: ${n} is below the minimum ${spec.min}` };
      if (spec.max !== undefined && n > spec.max) return { reason: `${label}: ${n} is above the maximum ${spec.max}` };
      return { value: n };
    }
    case 'select': {
      const found = spec.choices.find((c) => (spec.ignoreCase ? c.toLowerCase() === s.toLowerCase() : c === s));
      return found === undefined ? { reason: `${label}: value${shown} is not one of ${spec.choices.join(', ')}` } : { value: found };
    }
    case 'string': {
      const why = spec.validate?.(s);
      return why ? { reason: `${label}: ${why}` } : { value: s };
    }
  }
}

export interface TypedOptions<T extends OptionTable> {
  values: FenceValues<T>;
  /** Keys the operator gave (not defaults). */
  given: ReadonlySet<string>;
  problems: string[];
}

/** Typed values with defaults applied, and every problem found (not just the first). */
export function typeOptions<T extends OptionTable>(table: T, raw: RawOptions): TypedOptions<T> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  const given = new Set<string>();
  for (const [key, spec] of Object.entries(table)) {
    const r = raw.values.get(key);
    if (r === undefined) { values[key] = spec.default; continue; }
    const t = typeValue(key, spec, r);
    if (t.reason) { problems.push(t.reason); values[key] = spec.default; continue; }
    values[key] = t.value;
    given.add(key);
  }
  return { values: values as FenceValues<T>, given, problems };
}

/** Required options that were not given. */
export function missingRequired(table: OptionTable, given: ReadonlySet<string>): string[] {
  return Object.entries(table)
    .filter(([key, spec]) => spec.required && spec.default === undefined && !given.has(key))
    .map(([key, spec]) => `${optionLabel(key, spec)} is required`);
}
