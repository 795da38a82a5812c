// The plug (a VM or outlet name on the controller, or the node name Pacemaker passes) is the one
// value that reaches a remote shell inside an operator's command template. It is checked against
// a short list of harmless characters before anything is sent, and substituted single-quoted.
// Pure; tested exhaustively.

/** Letters, digits, dot, underscore, colon, hyphen: names of VMs, outlets, hosts, IPv6 addresses. */
export const PLUG_CHARS = /^[A-Za-z0-9._:-]+$/;

/** A reason if the plug may not be used; undefined when it is fine. */
export function plugProblem(plug: string): string | undefined {
  if (plug === '') return 'is empty';
  if (plug.length > 255) return 'is longer than 255 characters';
  if (!PLUG_CHARS.test(plug)) {
    const bad = [...new Set([...plug].filter((c) => !/[A-Za-z0-9._:-]/.test(c)))]
      .map((c) => (c === ' ' ? 'space' : /[\x00-\x1f\x7f]/.test(c) ? `0x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : JSON.stringify(c)))
      .join(', ');
    return `may only hold letters, digits and . _ : - (found ${bad}); it is refused before anything is sent`;
  }
  // A leading "-" would be read as an option by the command it is handed to (virsh destroy --all).
  if (plug.startsWith('-')) return 'must not start with "-" (the remote command would read it as an option)';
  return undefined;
}

/** The placeholder in command templates. */
export const PLUG_PLACEHOLDER = '{plug}';

/**
 * Put the plug into a command template. The value is single-quoted: with the characters allowed
 * it needs no quoting at all, so this is a second wall, not the first. A placeholder the operator
 * already quoted ('{plug}' or "{plug}") is replaced with its quotes, so quoting it is harmless.
 * A template without the placeholder is returned unchanged (a controller with one outlet).
 */
export function fillTemplate(template: string, plug: string | undefined): string {
  if (!template.includes(PLUG_PLACEHOLDER)) return template;
  if (plug === undefined) throw new Error('this command needs a plug');
  const why = plugProblem(plug);
  if (why) throw new Error(`plug ${why}`);
  const quoted = `'${plug}'`;
  return template.replace(/'\{plug\}'|"\{plug\}"|\{plug\}/g, () => quoted);
}
