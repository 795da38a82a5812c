// start: bring the server up read-only with replication stopped, wait until it answers, then
// replicate from the cluster's primary if there is one. Never promotes. Idempotent.
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OCF, OcfError, type OcfCode } from '../../../lib/ocf/codes.ts';
import { run } from '../../../lib/exec.ts';
import { sleep } from '../../../lib/deadline.ts';
import { isAlive, spawnDetached } from '../../../lib/daemon.ts';
import { SqlError } from '../../../lib/mysql/client.ts';
import { flavourFromBinaryVersion, type FlavourName } from '../../../lib/mysql/flavour.ts';
import { findServer, serverArgs, stopProcess } from '../../../lib/mysql/server.ts';
import { liveSettingProblems, settingsError } from '../prerequisites.ts';
import {
  attributeCache, clearState, localNode, openLocal, publish, resolveBinary, saveState, serverConfig, withLocal, type Ctx,
} from '../context.ts';
import { applySemisync, assess, errantReason, followPrimary, readState, readStatus } from '../replication.ts';
import { readLineage } from '../lineage.ts';

async function binaryFlavour(ctx: Ctx, binary: string): Promise<FlavourName> {
  const r = await run(binary, ['--version'], { timeoutMs: ctx.deadline.cap(10_000), signal: ctx.signal });
  const v = flavourFromBinaryVersion(`${r.stdout}\n${r.stderr}`);
  if (typeof v === 'string') throw new OcfError(OCF.ERR_INSTALLED, `${binary}: ${v}`);
  return v.flavour;
}

async function ids(ctx: Ctx, user: string): Promise<{ uid: number; gid: number }> {
  const [u, g] = await Promise.all([
    run('id', ['-u', user], { timeoutMs: ctx.deadline.cap(5000), signal: ctx.signal }),
    run('id', ['-g', user], { timeoutMs: ctx.deadline.cap(5000), signal: ctx.signal }),
  ]);
  if (u.code !== 0 || g.code !== 0) throw new OcfError(OCF.ERR_ARGS, `system user ${user} does not exist on this node`);
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Directories of the socket and pid file live on tmpfs (/run): create them, owned by the server's user. */
function prepareDir(dir: string, owner: { uid: number; gid: number }): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  try { chownSync(dir, owner.uid, owner.gid); } catch { /* not root: the server runs as us anyway */ }
}

function tail(file: string | undefined, lines = 4): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch { return ''; }
}

/** Does the record of the last promotion name this node? (Then its crash recovery keeps all.) */
async function wasLastPrimary(ctx: Ctx): Promise<boolean> {
  if (!ctx.params.semisync) return false;
  const [self, l] = await Promise.all([localNode(ctx), readLineage(ctx)]);
  const yes = !!self && l.record?.primary === self;
  if (yes) ctx.log.info(`${self} was the last primary (epoch ${l.record!.epoch}): crash recovery keeps every transaction in its binary log`);
  return yes;
}

export async function start(ctx: Ctx): Promise<OcfCode> {
  const binary = resolveBinary(ctx);
  if (!binary) throw new OcfError(OCF.ERR_INSTALLED, 'no database server binary found (set binary=)');
  const p = ctx.params;
  let proc = findServer(p.pid, binary, p.datadir);
  const wasRunning = proc !== undefined;
  if (proc?.frozen) throw new OcfError(OCF.ERR_GENERIC, `server pid ${proc.pid} is frozen (stopped by a signal); not starting a second one`);
  if (!proc) {
    const flavour = await binaryFlavour(ctx, binary);
    const asRoot = process.getuid?.() === 0;
    const owner = asRoot ? await ids(ctx, p.user) : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    prepareDir(dirname(p.socket), owner);
    prepareDir(dirname(p.pid), owner);
    const cfg = { ...serverConfig(ctx, binary, flavour), lastPrimary: await wasLastPrimary(ctx) };
    const args = serverArgs(cfg, asRoot);
    const out = join(p.datadir, 'vigil-mysqld.out');
    const logFile = p.log || out;
    ctx.log.info(`starting ${binary} read-only with replication stopped`);
    ctx.log.debug(`${binary} ${args.join(' ')}`);
    let pid: number;
    try {
      pid = await spawnDetached(binary, args, { outputFile: out, cwd: p.datadir });
    } catch (e) {
      throw new OcfError(OCF.ERR_GENERIC, `cannot run ${binary}: ${(e as Error).message}`);
    }
    // Ready = accepts our login on the socket. Crash recovery of a big datadir can take a while:
    // keep trying until the deadline, but stop early if the process died.
    let last = '';
    for (;;) {
      if (!isAlive(pid)) {
        throw new OcfError(OCF.ERR_GENERIC, `the server exited during start-up${tail(logFile) ? `: ${tail(logFile)}` : ` (see ${logFile})`}`);
      }
      try {
        const s = await openLocal(ctx, 1000);
        await s.db.close();
        break;
      } catch (e) {
        if (e instanceof OcfError) throw e;
        last = (e as Error).message;
        if (e instanceof SqlError && e.errno === 1045) {
          throw new OcfError(OCF.ERR_ARGS, `the server started but refused ${p.replication_user}: ${last}`);
        }
      }
      if (ctx.deadline.remaining() < 300) {
        throw new OcfError(OCF.ERR_GENERIC, `the server (pid ${pid}) did not accept connections within the start timeout: ${last}`);
      }
      await sleep(Math.min(100, ctx.deadline.remaining() - 250), ctx.signal);
    }
    proc = { pid, frozen: false };
    ctx.log.info(`server pid ${pid} accepts connections after ${ctx.deadline.elapsed()} ms`);
  }

  // On the live server (what it really runs with, whatever the option files say), before it
  // replicates or tells the cluster anything.
  const wrong = await withLocal(ctx, liveSettingProblems);
  if (wrong.length) {
    if (wasRunning) {
      ctx.log.warn(`server pid ${proc.pid} was running before this start: left to the stop that follows`);
    } else {
      ctx.log.info(`stopping server pid ${proc.pid}: it runs without settings the agent relies on`);
      if (await stopProcess(proc.pid, ctx.deadline, ctx.log) === 'killed') rmSync(p.pid, { force: true });
    }
    throw settingsError(ctx, wrong);
  }

  // A new life: forget what the previous one told the cluster.
  clearState(ctx);
  const cache = attributeCache(ctx);
  cache.clear();

  const result = await withLocal(ctx, async (s) => {
    const state = await readState(s);
    if (!state.readOnly || (s.sql.name !== 'mariadb' && !state.superReadOnly)) {
      // Only possible for a server that was already running (ours start read-only): it was not
      // ours to promote, so it must not take writes as an unpromoted instance.
      ctx.log.warn('the running server was writable; making it read-only (an unpromoted instance never takes writes)');
      for (const q of s.sql.readOnly) await s.db.exec(q, ctx.deadline.remaining()); // waits for statements in flight, see demote
    }
    await applySemisync(ctx, s, s.sql.semisyncReplica(p.semisync), p.semisync);
    const f = await followPrimary(ctx, s);
    // A former primary with transactions the current one lacks must not join it: fail the start,
    // having changed nothing on either server, and say which transactions.
    if (f.join?.outcome === 'errant') throw new OcfError(OCF.ERR_GENERIC, errantReason(await localNode(ctx), f.node!, f.join.errant));
    const status = await readStatus(s);
    return assess(ctx, status, undefined);
  });
  saveState(ctx, { promoted: false, pendingSince: result.pendingSince });
  await publish(ctx, { score: result.score, grade: result.a.grade, lag: result.a.lag === null ? null : String(result.a.lag) }, undefined, cache);
  return OCF.SUCCESS;
}
