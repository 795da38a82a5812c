// Remember what we last told the cluster, so a steady monitor runs no cluster tool at all. Every
// crm_attribute/attrd_updater call is a fork plus a round trip to a daemon (and a CIB write for
// non-private attributes); a healthy replica's grade, lag and score rarely change. The cache
// lives in the resource-agent state directory (tmpfs, emptied at boot) and is refreshed anyway
// after `refreshMs`, in case the cluster lost its copy (a Pacemaker restart clears transient
// attributes while /run survives).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ToolResult } from './tools.ts';

/** null means "deleted". */
export interface CachedValue { value: string | null; at: number }

export const DEFAULT_REFRESH_MS = 300_000;

/** Pure: must `value` be written, given what was last written? */
export function shouldWrite(prev: CachedValue | undefined, value: string | null, now: number, refreshMs: number): boolean {
  if (!prev) return true;
  if (prev.value !== value) return true;
  return now - prev.at >= refreshMs || now < prev.at;
}

export type PublishOutcome = 'unchanged' | 'written' | 'failed';

export class AttributeCache {
  private entries: Record<string, CachedValue> = {};
  private dirty = false;

  constructor(readonly file: string, readonly refreshMs = DEFAULT_REFRESH_MS, private readonly now: () => number = Date.now) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object') this.entries = parsed as Record<string, CachedValue>;
    } catch { /* first run, or a damaged file: start empty (everything is written once) */ }
  }

  get(key: string): CachedValue | undefined { return this.entries[key]; }

  /**
   * Run `write` only when `value` differs from the cached one (or the entry is stale); record it
   * only when the write succeeded, so a failed write is retried by the next monitor.
   */
  async publish(key: string, value: string | null, write: () => Promise<ToolResult<unknown>>): Promise<{ outcome: PublishOutcome; reason?: string }> {
    const now = this.now();
    if (!shouldWrite(this.entries[key], value, now, this.refreshMs)) return { outcome: 'unchanged' };
    const r = await write();
    if (!r.ok) {
      delete this.entries[key];
      this.dirty = true;
      return { outcome: 'failed', reason: r.reason };
    }
    this.entries[key] = { value, at: now };
    this.dirty = true;
    return { outcome: 'written' };
  }

  /** Forget one key (its value was changed behind the cache's back): the next publish writes it. */
  forget(key: string): void {
    if (key in this.entries) { delete this.entries[key]; this.dirty = true; }
  }

  /** Forget everything: the next publish of each key writes. */
  clear(): void { this.entries = {}; this.dirty = true; }

  save(): void {
    if (!this.dirty) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.entries), { mode: 0o600 });
      renameSync(tmp, this.file);
      this.dirty = false;
    } catch { /* an unwritable cache only costs extra writes next time */ }
  }

  remove(): void {
    try { rmSync(this.file, { force: true }); } catch { /* ignore */ }
    this.entries = {};
    this.dirty = false;
  }
}
