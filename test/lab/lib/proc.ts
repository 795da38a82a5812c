// Processes the lab started, tracked by pid file. A pid file holds "pid starttime"; a pid is only
// ever signalled when /proc/<pid>/stat still shows that start time, so a recycled pid is never
// hit. Zombies count as gone: the machine's own pid 1 reaps orphans lazily, and kill -0 succeeds
// on a zombie.
import { readFileSync, rmSync } from 'node:fs';
import { sleep } from '../../../lib/deadline.ts';

export interface PidRecord { pid: number; start: string }

export function readPidFile(file: string): PidRecord | undefined {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return undefined; }
  const m = /^(\d+) (\d+)\s*$/.exec(text);
  return m ? { pid: Number(m[1]), start: m[2]! } : undefined;
}

/** State letter and start time of a pid, from /proc/<pid>/stat (the command may contain spaces). */
export function procStat(pid: number): { state: string; start: string } | undefined {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  const fields = text.slice(text.lastIndexOf(')') + 2).trim().split(' ');
  return { state: fields[0] ?? '?', start: fields[19] ?? '' };
}

export function isLive(rec: PidRecord | undefined): rec is PidRecord {
  if (!rec) return false;
  const s = procStat(rec.pid);
  return !!s && s.start === rec.start && s.state !== 'Z' && s.state !== 'X';
}

/** The live pid a pid file names, or undefined. */
export function livePid(file: string): number | undefined {
  const rec = readPidFile(file);
  return isLive(rec) ? rec.pid : undefined;
}

/** Signal the process of a pid file if it is still the one we started. True if signalled. */
export function signalPidFile(file: string, signal: NodeJS.Signals): boolean {
  const rec = readPidFile(file);
  if (!isLive(rec)) return false;
  try { process.kill(rec.pid, signal); return true; } catch { return false; }
}

/** SIGKILL the process of a pid file, wait until it is gone (bounded), remove the file. */
export async function killPidFile(file: string, waitMs = 5000): Promise<boolean> {
  const rec = readPidFile(file);
  if (isLive(rec)) {
    try { process.kill(rec.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    const until = Date.now() + waitMs;
    while (isLive(rec) && Date.now() < until) await sleep(20);
    if (isLive(rec)) return false;
  }
  rmSync(file, { force: true });
  return true;
}
