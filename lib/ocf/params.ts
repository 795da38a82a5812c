// The declarative parameter table. Each agent states its parameters once, here; parsing of
// OCF_RESKEY_*, validation, the meta-data XML, --help text and the man page are all derived from it.
import { OCF, OcfError } from './codes.ts';

interface ParamCommon {
  shortdesc: string;
  longdesc: string;
  required?: boolean;
  /** Parameters sharing a group must not have the same values on two resources (OCF 1.1 unique-group). */
  uniqueGroup?: string;
  /** May change without a restart (OCF 1.1 reloadable, acted on by reload-agent). */
  reloadable?: boolean;
  /** Never logged; shown as [hidden]. */
  secret?: boolean;
  /** Shown in man pages and docs. */
  example?: string;
}
export interface StringParam extends ParamCommon {
  type: 'string';
  default?: string;
  /** Return a reason if the value is unacceptable. Pure: no I/O here. */
  validate?: (v: string) => string | undefined;
}
export interface IntegerParam extends ParamCommon {
  type: 'integer';
  default?: number;
  min?: number;
  max?: number;
}
export interface BooleanParam extends ParamCommon {
  type: 'boolean';
  default?: boolean;
}
export interface SelectParam extends ParamCommon {
  type: 'select';
  choices: readonly string[];
  default?: string;
}
export type ParamSpec = StringParam | IntegerParam | BooleanParam | SelectParam;
export type ParamTable = Readonly<Record<string, ParamSpec>>;

type Base<P extends ParamSpec> = P extends IntegerParam ? number
  : P extends BooleanParam ? boolean
  : P extends SelectParam ? P['choices'][number]
  : string;
type HasValue<P> = P extends { required: true } ? true : P extends { default: unknown } ? true : false;
/** The typed values of a table: parameters with a default or `required` are never undefined. */
export type ParamValues<T extends ParamTable> = {
  -readonly [K in keyof T]: HasValue<T[K]> extends true ? Base<T[K]> : Base<T[K]> | undefined;
};

/** Identity function that keeps the literal types of a table (select choices, required flags). */
export function defineParams<const T extends ParamTable>(t: T): T { return t; }

const TRUE = new Set(['1', 'yes', 'true', 'on', 'y']);
const FALSE = new Set(['0', 'no', 'false', 'off', 'n', '']);

export interface ParamProblem { name: string; reason: string }

/** Parse one raw value; returns the typed value or a reason. */
export function parseValue(name: string, spec: ParamSpec, raw: string): { value?: unknown; reason?: string } {
  switch (spec.type) {
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (TRUE.has(v)) return { value: true };
      if (FALSE.has(v)) return { value: false };
      return { reason: `${name}="${raw}" is not a boolean (use true or false)` };
    }
    case 'integer': {
      if (!/^-?\d+$/.test(raw.trim())) return { reason: `${name}="${raw}" is not an integer` };
      const n = Number(raw.trim());
      if (spec.min !== undefined && n < spec.min) return { reason: `${name}=${n} is below the minimum ${spec.min}` };
      if (spec.max !== undefined && n > spec.max) return { reason: `${name}=${n} is above the maximum ${spec.max}` };
      return { value: n };
    }
    case 'select':
      if (!spec.choices.includes(raw)) return { reason: `${name}="${raw}" is not one of: ${spec.choices.join(', ')}` };
      return { value: raw };
    case 'string': {
      const why = spec.validate?.(raw);
      return why ? { reason: `${name}: ${why}` } : { value: raw };
    }
  }
}

/**
 * Read every parameter of the table from OCF_RESKEY_<name>. An empty value counts as unset, the
 * way the shell agents treat it. Returns the values and every problem found (not just the first),
 * so one validate-all tells the operator everything to fix.
 */
export function parseParams<T extends ParamTable>(
  table: T, env: NodeJS.ProcessEnv,
): { values: ParamValues<T>; problems: ParamProblem[] } {
  const values: Record<string, unknown> = {};
  const problems: ParamProblem[] = [];
  for (const [name, spec] of Object.entries(table)) {
    const raw = env[`OCF_RESKEY_${name}`];
    if (raw === undefined || raw === '') {
      if (spec.required) problems.push({ name, reason: `required parameter ${name} is not set` });
      values[name] = spec.default;
      continue;
    }
    const r = parseValue(name, spec, raw);
    if (r.reason) problems.push({ name, reason: r.reason });
    else values[name] = r.value;
  }
  return { values: values as ParamValues<T>, problems };
}

/** Throw the problems as one configuration error (rc 6) naming each parameter to fix. */
export function assertNoProblems(problems: readonly ParamProblem[]): void {
  if (problems.length > 0) throw new OcfError(OCF.ERR_CONFIGURED, problems.map((p) => p.reason).join('; '));
}

/** A value as it may be shown to a person: secrets hidden. */
export function displayValue(spec: ParamSpec, v: unknown): string {
  if (v === undefined) return '(unset)';
  return spec.secret ? '[hidden]' : String(v);
}
