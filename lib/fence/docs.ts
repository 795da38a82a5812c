// --help text and the man page (troff, printed by the `manpage` action), derived from the same
// option table and description as the metadata.
import { defaultText, type FenceDescription } from './metadata.ts';
import { getoptText, type OptionSpec } from './options.ts';
import { troff, wrapLines } from '../text.ts';

export const ACTION_HELP: Readonly<Record<string, string>> = {
  on: 'Power on the machine and verify it is on.',
  off: 'Power off the machine and verify it is off.',
  reboot: 'Power off, verify off, power on (or one power cycle with method=cycle).',
  status: 'Print the power state; exit 0 when on, 2 when off, 1 when it cannot be read.',
  list: 'List the machines the device controls (nothing for a device that controls one machine).',
  'list-status': 'List the machines with their power state.',
  monitor: 'Check that the device answers.',
  metadata: 'Print the XML metadata (meta-data is accepted too).',
  manpage: 'Print this manual page in troff format.',
  'validate-all': 'Check the options and the local prerequisites without contacting the device.',
};

const wrap = wrapLines;

function optionText(spec: OptionSpec): string {
  const parts = [spec.shortdesc.replace(/\.?$/, '.')];
  if (spec.longdesc) parts.push(spec.longdesc);
  if (spec.type === 'select') parts.push(`One of: ${spec.choices.join(', ')}.`);
  const def = defaultText(spec);
  if (def !== undefined && spec.type !== 'boolean') parts.push(`(Default: ${def})`);
  return parts.join(' ');
}

export function helpText(d: FenceDescription): string {
  const lines = [`${d.name}: ${d.shortdesc}`, '', 'Usage:', `\t${d.name} [options]`,
    `\t${d.name} < file-of-key=value-lines`, '', 'Options:'];
  for (const [key, spec] of Object.entries(d.options)) {
    const opt = getoptText(key, spec);
    const text = wrap(optionText(spec), ' '.repeat(36));
    const first = text[0]?.trimStart() ?? '';
    lines.push(opt.length < 32 ? `   ${opt.padEnd(33)}${first}` : `   ${opt}\n${' '.repeat(36)}${first}`, ...text.slice(1));
  }
  lines.push('', 'Actions:', ...d.actions.map((a) => `   ${a.padEnd(14)}${ACTION_HELP[a] ?? ''}`));
  const old = Object.entries(d.options).filter(([, s]) => s.aliases?.length)
    .map(([k, s]) => `${s.aliases!.join('/')} = ${k}`);
  lines.push('', ...wrap('With no command-line options, the agent reads one name=value per line from stdin, '
    + 'as Pacemaker passes them: the names are the long option names with - or _, lines starting with # are '
    + `comments, surrounding quotes are removed, the last value wins. Old names are accepted: ${old.join(', ')}.`, ''));
  return `${lines.join('\n')}\n`;
}

export { troff };

export function manPage(d: FenceDescription, version: string, extra: { examples?: string[]; notes?: string[] } = {}): string {
  const out: string[] = [
    `.TH ${d.name.toUpperCase()} 8 "" "vigil ${troff(version)}" "System Manager's Manual"`,
    '.SH NAME', `${troff(d.name)} \\- ${troff(d.shortdesc)}`,
    '.SH SYNOPSIS', `.B ${troff(d.name)}`, '[\\fIOPTION\\fR]...',
    '.SH DESCRIPTION', troff(d.longdesc.trim()),
    '.SH OPTIONS',
  ];
  for (const [key, spec] of Object.entries(d.options)) {
    out.push('.TP', `\\fB${troff(getoptText(key, spec))}\\fR`, troff(optionText(spec)));
    if (spec.required) out.push('This parameter is always required.');
  }
  out.push('.SH ACTIONS');
  for (const a of d.actions) out.push('.TP', `\\fB${troff(a)}\\fR`, troff(ACTION_HELP[a] ?? ''));
  out.push('.SH "STDIN PARAMETERS"', troff('With no command-line options, one name=value per line is read from '
    + 'standard input: # starts a comment, quotes around a value are removed, the last value wins, - and _ are '
    + 'interchangeable, unknown names are reported and ignored.'));
  for (const [key, spec] of Object.entries(d.options)) {
    const def = defaultText(spec);
    out.push('.TP', `\\fB${troff(key)}\\fR`, troff(`${spec.shortdesc}.${def !== undefined ? ` (Default: ${def})` : ''}`));
    if (spec.aliases?.length) out.push(troff(`Obsoletes: ${spec.aliases.join(', ')}`));
  }
  out.push('.SH "EXIT STATUS"', '0 success; 1 failure; 2 for \\fBstatus\\fR when the machine is off.');
  if (extra.notes?.length) {
    out.push('.SH NOTES');
    for (const n of extra.notes) out.push('.PP', troff(n));
  }
  if (extra.examples?.length) {
    out.push('.SH EXAMPLES');
    for (const e of extra.examples) out.push('.PP', '.nf', troff(e), '.fi');
  }
  return `${out.join('\n')}\n`;
}
