// Metadata XML in the fence-agents format (validated by fence-agents' metadata.rng), derived from
// the option table. Pacemaker reads it (stonith_admin --metadata, pcs stonith describe) to learn
// the parameters and actions: "port"/"plug" tells it how to pass the target node, "list" in the
// actions makes dynamic-list its default host check, "on automatic" asks for unfencing.
import { getoptText, type OptionSpec, type OptionTable } from './options.ts';

export interface FenceDescription {
  name: string;
  shortdesc: string;
  longdesc: string;
  vendorUrl?: string;
  symlinks?: ReadonlyArray<readonly [name: string, shortdesc: string]>;
  options: OptionTable;
  /** Actions in metadata order. */
  actions: readonly string[];
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function defaultText(spec: OptionSpec): string | undefined {
  if (spec.default === undefined) return undefined;
  if (spec.type === 'boolean') return spec.default ? '1' : '0';
  return String(spec.default);
}

function parameterXml(name: string, key: string, spec: OptionSpec, relation: string): string {
  const def = defaultText(spec);
  const defAttr = def === undefined ? '' : ` default="${xmlEscape(def)}"`;
  const content = spec.type === 'select'
    ? `\t\t<content type="select"${defAttr}>\n${spec.choices.map((c) => `\t\t\t<option value="${xmlEscape(c)}"/>\n`).join('')}\t\t</content>`
    : `\t\t<content type="${spec.type}"${defAttr}/>`;
  return `\t<parameter name="${xmlEscape(name)}" unique="0" required="${spec.required ? 1 : 0}"${relation}>
\t\t<getopt mixed="${xmlEscape(getoptText(key, spec))}"/>
${content}
\t\t<shortdesc lang="en">${xmlEscape(spec.shortdesc)}</shortdesc>
\t</parameter>
`;
}

export function fenceMetadataXml(d: FenceDescription): string {
  let params = '';
  for (const [key, spec] of Object.entries(d.options)) {
    const aliases = spec.aliases ?? [];
    // fence-agents' convention: the new name "obsoletes" the old one, the old one is "deprecated".
    params += parameterXml(key, key, spec, aliases.length ? ` obsoletes="${xmlEscape(aliases[0]!)}"` : '');
    for (const a of aliases) params += parameterXml(a, key, spec, ' deprecated="1"');
  }
  const actions = d.actions
    .map((a) => (a === 'on' ? '\t<action name="on" automatic="0"/>\n' : `\t<action name="${xmlEscape(a)}"/>\n`))
    .join('');
  const symlinks = (d.symlinks ?? [])
    .map(([n, s]) => `<symlink name="${xmlEscape(n)}" shortdesc="${xmlEscape(s)}"/>\n`).join('');
  return `<?xml version="1.0" ?>
<resource-agent name="${xmlEscape(d.name)}" shortdesc="${xmlEscape(d.shortdesc)}">
${symlinks}<longdesc>${xmlEscape(d.longdesc.trim())}</longdesc>
<vendor-url>${xmlEscape(d.vendorUrl ?? '')}</vendor-url>
<parameters>
${params}</parameters>
<actions>
${actions}</actions>
</resource-agent>
`;
}
