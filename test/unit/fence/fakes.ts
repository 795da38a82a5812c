// Test doubles for the fence engine: a device whose power follows scripted rules, and a clock
// whose sleep advances time instantly.
import type { Clock, DeviceCall, FenceDevice, PlugEntry, PowerState } from '../../../lib/fence/engine.ts';
import { FenceError } from '../../../lib/fence/errors.ts';

export class FakeClock implements Clock {
  t = 1_000_000;
  sleeps: number[] = [];
  now(): number { return this.t; }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.sleeps.push(ms);
    this.t += Math.max(0, ms);
  }
}

export interface FakeDeviceOptions {
  power?: PowerState;
  /** A set takes effect after this many ms of (fake) time; Infinity = never. */
  settleMs?: Partial<Record<PowerState, number>>;
  /** Ignore the first N set commands for a state (the BMC "forgets" them). */
  ignoreSets?: Partial<Record<PowerState, number>>;
  /** getPower throws for these call numbers (1-based). */
  failGets?: number[];
  /** setPower throws for these call numbers (1-based). */
  failSets?: number[];
  /** Each call costs this much fake time. */
  callMs?: number;
  withCycle?: boolean;
  plugs?: PlugEntry[];
}

export class FakeDevice implements FenceDevice {
  power: PowerState;
  /** Every call in order, with the fake time: "get:on", "set:off", "cycle". */
  journal: string[] = [];
  private pending?: { state: PowerState; at: number };
  private gets = 0;
  private sets = 0;
  private ignored: Partial<Record<PowerState, number>> = {};
  cycle?: (c: DeviceCall) => Promise<void>;
  list?: (c: DeviceCall) => Promise<readonly PlugEntry[]>;

  constructor(private readonly clock: FakeClock, private readonly o: FakeDeviceOptions = {}) {
    this.power = o.power ?? 'on';
    if (o.withCycle) {
      this.cycle = async () => {
        this.journal.push('cycle');
        this.clock.t += o.callMs ?? 0;
        this.power = 'on';
      };
    }
    if (o.plugs) this.list = async () => o.plugs!;
  }

  private settle(): void {
    if (this.pending && this.clock.now() >= this.pending.at) { this.power = this.pending.state; this.pending = undefined; }
  }

  async getPower(): Promise<PowerState> {
    this.gets++;
    this.clock.t += this.o.callMs ?? 0;
    this.settle();
    if (this.o.failGets?.includes(this.gets)) { this.journal.push('get:error'); throw new FenceError('no-answer', `no answer (get ${this.gets})`); }
    this.journal.push(`get:${this.power}`);
    return this.power;
  }

  async setPower(_c: DeviceCall, state: PowerState): Promise<void> {
    this.sets++;
    this.clock.t += this.o.callMs ?? 0;
    if (this.o.failSets?.includes(this.sets)) { this.journal.push(`set:${state}:error`); throw new FenceError('device', `set ${this.sets} failed`); }
    this.journal.push(`set:${state}`);
    const ignore = this.o.ignoreSets?.[state] ?? 0;
    if ((this.ignored[state] ?? 0) < ignore) { this.ignored[state] = (this.ignored[state] ?? 0) + 1; return; }
    const settle = this.o.settleMs?.[state] ?? 0;
    if (settle === 0) this.power = state;
    else if (Number.isFinite(settle)) this.pending = { state, at: this.clock.now() + settle };
  }
}
