// What fence_ssh runs on the far side, per mode, and how it reads the answers. Pure.
import type { PowerState } from '../../lib/fence/engine.ts';

/**
 * mode=self defaults. sysrq stops the kernel at once, without a clean shutdown (a node being
 * fenced must not run its stop scripts or flush a disk it may no longer own); sysrq is enabled
 * first because distributions restrict it. If sysrq is missing or refused, a forced
 * poweroff/reboot follows (-ff: systemd skips the service manager; other inits take -f).
 * POSIX sh only: the login shell of the account runs this.
 */
export const SELF_DEFAULTS = {
  off_command: 'echo 1 > /proc/sys/kernel/sysrq; if echo o > /proc/sysrq-trigger; then sleep 10; fi; poweroff -ff || poweroff -f',
  reboot_command: 'echo 1 > /proc/sys/kernel/sysrq; if echo b > /proc/sysrq-trigger; then sleep 10; fi; reboot -ff || reboot -f',
  boot_id_command: 'cat /proc/sys/kernel/random/boot_id',
} as const;

/** mode=host: what the status output must match to mean on or off (case-insensitive, per line). */
export const HOST_PATTERN_DEFAULTS = {
  status_on_pattern: '^\\s*(on|running|powered on|idle|paused|blocked|in shutdown|pmsuspended)\\s*$',
  status_off_pattern: '^\\s*(off|shut off|shutoff|powered off|stopped|crashed)\\s*$',
} as const;

/** A reason when a pattern is not a valid JavaScript regular expression. */
export function patternProblem(p: string): string | undefined {
  try { new RegExp(p, 'im'); return undefined; } catch (e) { return `not a valid regular expression: ${(e as Error).message}`; }
}

export type StatusReading = { state: PowerState } | { problem: string };

/**
 * Read on/off from a status command's output: the off pattern is tried first (a line saying
 * "shut off" must not count as on because it also contains "on"-like words), then the on pattern.
 * Output that matches neither, or both, is garbage: the power state is never guessed.
 */
export function readStatus(output: string, onPattern: string, offPattern: string): StatusReading {
  const on = new RegExp(onPattern, 'im');
  const off = new RegExp(offPattern, 'im');
  const isOff = off.test(output);
  const isOn = on.test(output);
  if (isOff && !isOn) return { state: 'off' };
  if (isOn && !isOff) return { state: 'on' };
  const shown = JSON.stringify(output.trim().slice(0, 120));
  if (isOn && isOff) return { problem: `status output matches both status_on_pattern and status_off_pattern: ${shown}` };
  return { problem: `status output matches neither status_on_pattern nor status_off_pattern: ${shown}` };
}

/** A boot id is one line of printable text (the kernel's is a UUID). */
export function readBootId(output: string): string | undefined {
  const line = output.trim();
  if (line === '' || line.includes('\n') || line.length > 200 || !/^[\x21-\x7e]+$/.test(line)) return undefined;
  return line;
}

export interface PlugLine { id: string; alias?: string }

/** list_command output: one plug per line, its name first, anything after the name is an alias. */
export function readList(output: string): PlugLine[] {
  const out: PlugLine[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const [id, ...rest] = line.split(/\s+/);
    out.push({ id: id!, ...(rest.length ? { alias: rest.join(' ') } : {}) });
  }
  return out;
}

/** The last non-empty line of stderr (or stdout), for messages. */
export function lastLine(...texts: string[]): string {
  for (const t of texts) {
    const lines = t.split('\n').map((l) => l.trim()).filter(Boolean);
    if (lines.length) return lines[lines.length - 1]!.slice(0, 200);
  }
  return '';
}
