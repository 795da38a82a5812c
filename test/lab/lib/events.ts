// The cluster's own timeline: lines that bin/alert (a Pacemaker alert agent configured in every
// lab CIB) appends to events/alerts.log, one per node, fencing and resource event, stamped by
// Pacemaker with sub-second precision. Scenarios time detection, fencing and takeover from it.
import { readFileSync, statSync } from 'node:fs';

export interface ClusterEvent {
  /** ms since the epoch. */
  t: number;
  /** The node whose controller reported the event. */
  reporter: string;
  kind: 'node' | 'fencing' | 'resource' | 'attribute' | string;
  /** Affected node (fencing: the target). */
  node: string;
  rsc: string;
  task: string;
  rc: string;
  targetRc: string;
  status: string;
  desc: string;
}

export function parseEvents(text: string): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length < 10) continue;
    out.push({
      t: Math.round(Number(f[0]) * 1000),
      reporter: f[1]!, kind: f[2]!, node: f[3]!, rsc: f[4]!, task: f[5]!, rc: f[6]!, targetRc: f[7]!,
      status: f[8]!, desc: f.slice(9).join(' '),
    });
  }
  return out.sort((a, b) => a.t - b.t);
}

/** What a growing file gained since the moment this was created (for logs the lab does not rotate). */
export class FileTail {
  private readonly offset: number;
  constructor(readonly file: string) {
    try { this.offset = statSync(file).size; } catch { this.offset = 0; }
  }

  read(): string {
    try { return readFileSync(this.file).subarray(this.offset).toString('utf8'); } catch { return ''; }
  }
}

/** Reads the events that arrive after the moment it was created. */
export class EventLog {
  private readonly tail: FileTail;
  constructor(readonly file: string) { this.tail = new FileTail(file); }
  read(): ClusterEvent[] { return parseEvents(this.tail.read()); }
}

/** A node was seen leaving the membership ("lost"), by any survivor. */
export const nodeLost = (node: string) => (e: ClusterEvent) => e.kind === 'node' && e.node === node && e.desc === 'lost';
/** A fencing operation against `node` completed successfully. */
export const fenced = (node: string) => (e: ClusterEvent) => e.kind === 'fencing' && e.node === node && e.rc === '0';
/** A fencing operation against `node` failed. */
export const fenceFailed = (node: string) => (e: ClusterEvent) => e.kind === 'fencing' && e.node === node && e.rc !== '0';
/** `rsc` started successfully on a node other than `except`. */
export const startedElsewhere = (rsc: string, except?: string) => (e: ClusterEvent) =>
  e.kind === 'resource' && e.rsc === rsc && e.task === 'start' && e.rc === '0' && e.node !== except;
