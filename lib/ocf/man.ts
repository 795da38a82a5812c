// The man page of an OCF agent (section 7, as ocf_<provider>_<agent>), from the same tables as the
// meta-data; printed by the agent's `manpage` action and installed by the packages.
import { troff } from '../text.ts';
import { paramLongdesc, type AgentDescription } from './metadata.ts';

const EXIT_CODES: Array<[number, string, string]> = [
  [0, 'OCF_SUCCESS', 'the action succeeded; for monitor, the resource runs (unpromoted)'],
  [1, 'OCF_ERR_GENERIC', 'the action failed; the cluster recovers the resource (restart or move)'],
  [2, 'OCF_ERR_ARGS', 'the configuration cannot work on this node; the cluster avoids the node'],
  [3, 'OCF_ERR_UNIMPLEMENTED', 'unknown action'],
  [5, 'OCF_ERR_INSTALLED', 'a program the agent needs is missing on this node'],
  [6, 'OCF_ERR_CONFIGURED', 'the configuration is wrong everywhere; the cluster stops the resource'],
  [7, 'OCF_NOT_RUNNING', 'monitor: the resource is cleanly stopped'],
  [8, 'OCF_RUNNING_PROMOTED', 'monitor: the resource runs in the promoted role'],
  [9, 'OCF_FAILED_PROMOTED', 'monitor: the promoted instance has failed'],
];

export function ocfManPage(d: AgentDescription, provider: string, examples: readonly string[] = []): string {
  const page = `ocf_${provider}_${d.name}`;
  const actions = [...new Set(d.actions.map(([n]) => n))];
  const out = [
    `.TH ${page.toUpperCase()} 7 "" "vigil ${troff(d.version)}" "OCF resource agents"`,
    '.SH NAME', `${troff(page)} \\- ${troff(d.shortdesc)}`,
    '.SH SYNOPSIS',
    `[\\fBOCF_RESKEY_\\fIparameter\\fB=\\fIvalue\\fR]... \\fB/usr/lib/ocf/resource.d/${provider}/${d.name}\\fR {${actions.map(troff).join('|')}}`,
    '.SH DESCRIPTION', troff(d.longdesc.trim()),
    '.SH PARAMETERS',
  ];
  for (const [name, spec] of Object.entries(d.params)) {
    const bits = [spec.type === 'select' ? spec.choices.join('|') : spec.type];
    if (spec.default !== undefined) bits.push(`default \\fI${troff(String(spec.default))}\\fR`);
    if (spec.required) bits.push('required');
    out.push('.TP', `\\fB${troff(name)}\\fR (${bits.join(', ')})`, `${troff(spec.shortdesc)}. ${troff(paramLongdesc(spec))}`);
  }
  out.push('.SH ACTIONS');
  for (const [name, a] of d.actions) {
    const bits = [`timeout ${a.timeout}s`];
    if (a.interval !== undefined) bits.push(`interval ${a.interval}s`);
    if (a.depth !== undefined) bits.push(`depth ${a.depth}`);
    if (a.role) bits.push(`role ${a.role}`);
    out.push('.TP', `\\fB${troff(name)}\\fR`, `Suggested ${bits.join(', ')}.`);
  }
  out.push('.SH "EXIT STATUS"');
  for (const [code, name, what] of EXIT_CODES) out.push('.TP', `\\fB${code}\\fR (${name})`, troff(what));
  out.push('Every failure also prints a line starting with \\fBocf-exit-reason:\\fR on standard error, which \\fBcrm_mon\\fR(8) and \\fBpcs status\\fR show.');
  if (examples.length) {
    out.push('.SH EXAMPLES');
    for (const e of examples) out.push('.PP', '.nf', troff(e), '.fi');
  }
  out.push('.SH DEBUGGING', troff(`Run one action of a configured resource on this node with its log on the terminal: crm_resource --force-check -r <resource> -V (monitor), --force-start, --force-stop, --force-promote, --force-demote. Without a cluster: OCF_RESKEY_<name>=<value> ... /usr/lib/ocf/resource.d/${provider}/${d.name} monitor; echo $?. HA_DEBUG=1 adds debug lines.`));
  out.push('.SH "SEE ALSO"', '\\fBpcs\\fR(8), \\fBcrm_resource\\fR(8), \\fBcrm_mon\\fR(8), \\fBocf-tester\\fR(8)');
  return `${out.join('\n')}\n`;
}
