// password_script: fence-agents hands the string to a shell (os.popen). We do not: the string is
// split into words here and run as an argument array, so a value coming from the CIB can never
// smuggle in `; rm -rf /`. Quotes group words; nothing else is special, and the characters a
// shell would act on are refused with a message instead of being silently passed as arguments.
import { describeResult, type Runner } from '../exec.ts';
import { FenceError } from './errors.ts';

/** Split a command line into words: whitespace separates, '...' and "..." group, \ escapes. */
export function splitCommandLine(line: string): { words?: string[]; error?: string } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && /["\\]/.test(line[i + 1]!)) word += line[++i];
      else word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) { words.push(word); word = ''; inWord = false; }
      continue;
    }
    inWord = true;
    if (c === '"' || c === "'") quote = c;
    else if (c === '\\' && i + 1 < line.length) word += line[++i];
    else if ('|;&$`<>(){}*?~'.includes(c) && !(c === '~' && word !== '')) {
      return { error: `"${c}" would need a shell; password_script is run without one (write a script file instead)` };
    } else word += c;
  }
  if (quote) return { error: `unterminated ${quote} quote` };
  if (inWord) words.push(word);
  if (words.length === 0) return { error: 'it is empty' };
  return { words };
}

/** Run password_script and return its output without the trailing newline (like fence-agents' rstrip). */
export async function runPasswordScript(
  script: string, runner: Runner, opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<string> {
  const split = splitCommandLine(script);
  if (!split.words) throw new FenceError('config', `password_script: ${split.error}`);
  const [cmd, ...args] = split.words;
  const r = await runner(cmd!, args, { timeoutMs: opts.timeoutMs, signal: opts.signal });
  // The script's output is the secret: never include stdout in a message.
  const failed = r.spawnError || r.timedOut || r.signal || r.code !== 0;
  if (failed) throw new FenceError('config', `password_script failed: ${describeResult({ ...r, stdout: '' })}`);
  const pw = r.stdout.replace(/\s+$/, '');
  if (pw === '') throw new FenceError('config', `password_script ${cmd} printed nothing`);
  return pw;
}
