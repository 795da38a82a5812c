// Text helpers shared by --help output and man pages of both runtimes.

/** Fill words into lines of at most `width` columns, each starting with `indent`. */
export function wrapLines(text: string, indent: string, width = 80): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + w.length > width) { out.push(indent + line); line = w; }
    else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(indent + line);
  return out;
}

/** Escape text for troff: backslashes, hyphens, and a leading dot or quote that would start a request. */
export function troff(s: string): string {
  return s.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
}
