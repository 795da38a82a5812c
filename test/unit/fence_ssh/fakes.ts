// A scripted machine behind a fake SSH connector, on the fence engine's fake clock: what a node
// looks like from the network over time (logged in with a boot id, refusing, silent, refusing
// the login), and what its commands do to that timeline.
import { SshError, type DropOutcome, type ExecResult, type SshSession } from '../../../lib/ssh/client.ts';
import type { Connector, ConnectCall } from '../../../fence/ssh/connector.ts';
import { FakeClock } from '../fence/fakes.ts';

export type Look =
  | { kind: 'up'; bootId: string }
  | { kind: 'refusing' }
  | { kind: 'silent' }
  | { kind: 'no-login' }
  /** Our own side fails (no route, no DNS): nothing is learnt about the machine. */
  | { kind: 'local-failure' };

export interface ExecReply { code: number | null; stdout?: string; stderr?: string; ms?: number; timedOut?: boolean }

export class FakeMachine implements Connector {
  readonly where = 'root@192.0.2.10:22';
  readonly clock = new FakeClock();
  look: Look;
  private changes: Array<{ at: number; look: Look }> = [];
  /** Every connect attempt: [fake time, outcome]. */
  connects: Array<[number, string]> = [];
  commands: string[] = [];
  /** What a command that should take the machine down does: outcome plus its effect on the timeline. */
  onDropCommand: (cmd: string, m: FakeMachine) => DropOutcome = () => ({ kind: 'stayed', afterMs: 3000 });
  /** Replies to ordinary commands by command text; the boot id command answers from the timeline. */
  replies = new Map<string, ExecReply>();
  bootIdCommand = 'cat /proc/sys/kernel/random/boot_id';
  closed = 0;

  constructor(look: Look = { kind: 'up', bootId: 'boot-1' }) { this.look = look; }

  /** From `afterMs` from now on, the machine looks like this. */
  then(afterMs: number, look: Look): this {
    this.changes.push({ at: this.clock.now() + afterMs, look });
    this.changes.sort((a, b) => a.at - b.at);
    return this;
  }

  private settle(): void {
    while (this.changes.length && this.changes[0]!.at <= this.clock.now()) this.look = this.changes.shift()!.look;
  }

  async connect(c: ConnectCall): Promise<SshSession> {
    this.settle();
    const start = this.clock.now();
    if (this.look.kind === 'silent') {
      // A pending connect catches the machine when it comes back before the timeout (SYN retransmit).
      const next = this.changes.find((x) => x.look.kind !== 'silent');
      if (next && next.at < start + c.timeoutMs) {
        this.clock.t = next.at;
        return this.connect({ ...c, timeoutMs: c.timeoutMs - (next.at - start) });
      }
      this.clock.t += c.timeoutMs;
      this.connects.push([start, 'silent']);
      throw new SshError('silent', `no answer from 192.0.2.10:22 within ${c.timeoutMs / 1000} s (TCP connect)`);
    }
    if (this.look.kind === 'refusing') {
      this.clock.t += 1;
      this.connects.push([start, 'refused']);
      throw new SshError('refused', '192.0.2.10:22 refused the connection');
    }
    if (this.look.kind === 'local-failure') {
      this.clock.t += 1;
      this.connects.push([start, 'local-failure']);
      throw new SshError('no-route', 'cannot reach 192.0.2.10:22 from here (ENETUNREACH: no route or our interface is down)');
    }
    if (this.look.kind === 'no-login') {
      this.clock.t += 20;
      this.connects.push([start, 'no-login']);
      throw new SshError('auth', 'root@192.0.2.10:22 refused the login (tried publickey)', true);
    }
    this.clock.t += 30;
    this.connects.push([start, `up ${this.look.bootId}`]);
    return new FakeSession(this, this.look.bootId);
  }
}

class FakeSession implements SshSession {
  readonly where = '192.0.2.10:22';
  readonly hostKey = { fingerprint: 'SHA256:x', keyType: 'ssh-ed25519', how: 'test' };
  alive = true;
  constructor(private readonly m: FakeMachine, private readonly bootId: string) {}

  async exec(command: string, o: { timeoutMs: number }): Promise<ExecResult> {
    this.m.commands.push(command);
    if (!this.alive) throw new SshError('closed', 'closed');
    const r: ExecReply = command === this.m.bootIdCommand ? { code: 0, stdout: `${this.bootId}\n` }
      : this.m.replies.get(command) ?? { code: 127, stderr: `sh: ${command}: not found` };
    const ms = Math.min(r.ms ?? 5, o.timeoutMs);
    this.m.clock.t += ms;
    if (r.timedOut || (r.ms ?? 0) > o.timeoutMs) return { code: null, stdout: '', stderr: '', timedOut: true, ms };
    return { code: r.code, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: false, ms };
  }

  async execExpectingDrop(command: string, o: { timeoutMs: number }): Promise<DropOutcome> {
    this.m.commands.push(command);
    const r = this.m.onDropCommand(command, this.m);
    if (r.kind === 'dropped') { this.alive = false; this.m.clock.t += r.afterMs; }
    else if (r.kind === 'stayed') this.m.clock.t += o.timeoutMs;
    else if (r.kind === 'failed') this.m.clock.t += r.afterMs;
    return r;
  }

  close(): void { if (this.alive) this.m.closed++; this.alive = false; }
}

export const dropped = (afterMs = 10): DropOutcome => ({ kind: 'dropped', how: 'connection closed', accepted: true, afterMs });
