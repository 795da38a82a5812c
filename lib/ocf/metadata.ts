// meta-data XML from the parameter and action tables.
//
// Which vocabulary: operators validate agents with two tools shipped by resource-agents, the DTD
// (ra-api-1.dtd, used by `xmllint --valid` in ocf-tester) and metadata.rng (used by its `make check`).
// Their common ground is OCF 1.0 plus the 1.1 role names: both reject `select`, `reloadable`,
// `unique-group` and the `reload-agent` action name; the DTD also rejects `special`. So by default
// we emit that common ground and fold what 1.0 cannot say (choices, reloadability) into the
// longdesc. The tables keep the full 1.1 information: EMIT_OCF_1_1 switches to the 1.1 vocabulary.
import type { ParamSpec, ParamTable } from './params.ts';

export const EMIT_OCF_1_1 = false;

export interface ActionSpec {
  timeout: number; // seconds
  interval?: number; // seconds
  depth?: number;
  role?: 'Promoted' | 'Unpromoted';
  startDelay?: number;
}

export interface AgentDescription {
  name: string;
  version: string;
  shortdesc: string;
  longdesc: string;
  params: ParamTable;
  actions: ReadonlyArray<readonly [string, ActionSpec]>;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The longdesc as shown to people: the table's text plus what the 1.0 vocabulary cannot carry. */
export function paramLongdesc(spec: ParamSpec, ocf11 = EMIT_OCF_1_1): string {
  const extra: string[] = [];
  if (!ocf11 && spec.type === 'select') extra.push(`Allowed values: ${spec.choices.join(', ')}.`);
  if (spec.type === 'integer' && (spec.min !== undefined || spec.max !== undefined)) {
    extra.push(`Range: ${spec.min ?? '-inf'} to ${spec.max ?? 'inf'}.`);
  }
  if (!ocf11 && spec.reloadable) extra.push('Can be changed without restarting the resource.');
  return [spec.longdesc.trim(), ...extra].join(' ');
}

function contentXml(spec: ParamSpec, ocf11: boolean): string {
  const def = spec.default === undefined ? '' : ` default="${xmlEscape(
    spec.type === 'boolean' ? (spec.default ? 'true' : 'false') : String(spec.default))}"`;
  if (spec.type === 'select' && ocf11) {
    const opts = spec.choices.map((c) => `\n    <option value="${xmlEscape(c)}"/>`).join('');
    return `<content type="select"${def}>${opts}\n  </content>`;
  }
  const type = spec.type === 'select' ? 'string' : spec.type;
  return `<content type="${type}"${def}/>`;
}

export function metadataXml(d: AgentDescription, ocf11 = EMIT_OCF_1_1): string {
  const params = Object.entries(d.params).map(([name, spec]) => {
    const attrs = [`name="${xmlEscape(name)}"`];
    if (ocf11) {
      if (spec.uniqueGroup) attrs.push(`unique-group="${xmlEscape(spec.uniqueGroup)}"`);
      if (spec.reloadable) attrs.push('reloadable="1"');
    } else {
      attrs.push(`unique="${spec.uniqueGroup ? 1 : 0}"`);
    }
    attrs.push(`required="${spec.required ? 1 : 0}"`);
    return `<parameter ${attrs.join(' ')}>
  <longdesc lang="en">${xmlEscape(paramLongdesc(spec, ocf11))}</longdesc>
  <shortdesc lang="en">${xmlEscape(spec.shortdesc)}</shortdesc>
  ${contentXml(spec, ocf11)}
</parameter>`;
  }).join('\n');
  const actions = d.actions
    .filter(([name]) => ocf11 || name !== 'reload-agent')
    .map(([name, a]) => {
      const attrs = [`name="${name}"`, `timeout="${a.timeout}s"`];
      if (a.interval !== undefined) attrs.push(`interval="${a.interval}s"`);
      if (a.depth !== undefined) attrs.push(`depth="${a.depth}"`);
      if (a.role) attrs.push(`role="${a.role}"`);
      if (a.startDelay !== undefined) attrs.push(`start-delay="${a.startDelay}s"`);
      return `<action ${attrs.join(' ')}/>`;
    }).join('\n');
  return `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="${xmlEscape(d.name)}" version="${xmlEscape(d.version)}">
<version>${ocf11 ? '1.1' : '1.0'}</version>
<longdesc lang="en">${xmlEscape(d.longdesc.trim())}</longdesc>
<shortdesc lang="en">${xmlEscape(d.shortdesc)}</shortdesc>
<parameters>
${params}
</parameters>
<actions>
${actions}
</actions>
</resource-agent>
`;
}
