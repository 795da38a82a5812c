// Plain-text help derived from the same tables as the meta-data.
import { paramLongdesc } from './metadata.ts';
import type { ParamTable } from './params.ts';
import { wrapLines } from '../text.ts';

interface Describable {
  name: string; shortdesc: string; longdesc: string; params: ParamTable;
  actions: Record<string, unknown>; examples?: string[];
}

const wrap = (text: string, indent: string): string => wrapLines(text, indent, 78).join('\n');

export function helpText(d: Describable): string {
  const lines = [
    `${d.name}: ${d.shortdesc}`, '',
    `usage: ${d.name} {${[...Object.keys(d.actions), 'validate-all', 'meta-data'].join('|')}}`,
    '', wrap(d.longdesc, ''), '', 'Parameters (environment OCF_RESKEY_<name>):',
  ];
  for (const [name, spec] of Object.entries(d.params)) {
    const flags = [spec.type === 'select' ? spec.choices.join('|') : spec.type];
    if (spec.required) flags.push('required');
    if (spec.default !== undefined) flags.push(`default ${String(spec.default)}`);
    lines.push(`  ${name} (${flags.join(', ')})`, wrap(`${spec.shortdesc}. ${paramLongdesc(spec)}`, '      '));
  }
  if (d.examples?.length) lines.push('', 'Examples:', ...d.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}
