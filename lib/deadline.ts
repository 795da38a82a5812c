// Every action has a budget. A Deadline turns it into an AbortSignal that everything the action
// waits on receives, and answers "how long may I still wait?" so a step never outlives its action.
import { setTimeout as sleepTimer } from 'node:timers/promises';

export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  readonly at: number;

  constructor(readonly budgetMs: number, readonly started = Date.now()) {
    this.at = started + budgetMs;
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => this.controller.abort(new Error('deadline reached')), Math.max(0, budgetMs));
    this.timer.unref();
  }

  remaining(): number { return Math.max(0, this.at - Date.now()); }
  elapsed(): number { return Date.now() - this.started; }
  expired(): boolean { return this.remaining() <= 0; }
  /** The smaller of `ms` and what is left; what a single step may use. */
  cap(ms: number): number { return Math.max(0, Math.min(ms, this.remaining())); }
  dispose(): void { clearTimeout(this.timer); }
}

/** Sleep that ends early (without throwing) when the signal aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return;
  try { await sleepTimer(ms, undefined, { signal }); } catch { /* aborted */ }
}

/**
 * Poll `check` every `everyMs` until it returns a value other than undefined or the deadline
 * passes; returns undefined on timeout. The last attempt runs at the deadline, not after it.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>, everyMs: number, deadline: Deadline,
): Promise<T | undefined> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (deadline.expired()) return undefined;
    await sleep(deadline.cap(everyMs), deadline.signal);
    if (deadline.expired()) return await check();
  }
}
