// Logging the way cluster agents log: Pacemaker's executor captures an agent's stderr into its own
// log, HA_LOGFILE/HA_DEBUGLOG name files to append to, HA_DEBUG=1 turns debug on, and syslog gets
// a tag naming the resource instance. Every line passes through redaction, so a secret handed to
// the logger by mistake still never reaches a file.
import { appendFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { redact } from './exec.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const LABEL: Record<Level, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

export interface LogEntry { level: Level; tag: string; message: string; time: Date }
export type LogSink = (e: LogEntry) => void;

export interface LoggerOptions {
  tag: string;
  /** Lowest level written to stderr. */
  stderrLevel?: Level;
  /** Files to append every line at or above fileLevel to. */
  files?: readonly string[];
  fileLevel?: Level;
  /** syslog facility (HA_LOGFACILITY); undefined or 'none' disables syslog. */
  syslogFacility?: string;
  /** Replaces every output above; for tests. */
  sink?: LogSink;
}

export class Logger {
  private secrets: string[] = [];
  constructor(private readonly opts: LoggerOptions) {}

  /** Register a value that must never appear in any log line. */
  hide(secret: string | undefined): void {
    if (secret) this.secrets.push(secret);
  }
  get hidden(): readonly string[] { return this.secrets; }

  debug(msg: string): void { this.write('debug', msg); }
  info(msg: string): void { this.write('info', msg); }
  warn(msg: string): void { this.write('warn', msg); }
  error(msg: string): void { this.write('error', msg); }

  private write(level: Level, raw: string): void {
    const message = redact(raw, this.secrets);
    const entry: LogEntry = { level, tag: this.opts.tag, message, time: new Date() };
    if (this.opts.sink) { this.opts.sink(entry); return; }
    const line = `${entry.time.toISOString()} ${entry.tag}: ${LABEL[level]}: ${message}\n`;
    if (ORDER[level] >= ORDER[this.opts.stderrLevel ?? 'info']) process.stderr.write(`${LABEL[level]}: ${message}\n`);
    if (ORDER[level] >= ORDER[this.opts.fileLevel ?? 'info']) {
      for (const f of this.opts.files ?? []) {
        try { appendFileSync(f, line); } catch { /* an unwritable log file must not fail the action */ }
      }
    }
    const fac = this.opts.syslogFacility;
    // syslog only for info and above: spawning logger(1) costs a few ms, which a quiet monitor never pays.
    if (fac && fac !== 'none' && ORDER[level] >= ORDER.info) {
      try {
        const pri = `${fac}.${level === 'warn' ? 'warning' : level === 'error' ? 'err' : 'info'}`;
        const c = spawn('logger', ['-t', this.opts.tag, '-p', pri, '--', message], { stdio: 'ignore', detached: true });
        c.on('error', () => { /* no logger(1): stderr still has it */ });
        c.unref();
      } catch { /* ignore */ }
    }
  }
}

/** A logger that keeps entries in memory; for unit tests. */
export function memoryLogger(tag = 'test'): { log: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return { log: new Logger({ tag, sink: (e) => entries.push(e) }), entries };
}
