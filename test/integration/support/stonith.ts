// What Pacemaker's fencer sees of a fence agent bundle, without installing it: the bundle is
// overlaid on /usr/sbin inside a private mount namespace (the host's /usr/sbin is never written)
// and `stonith_admin --metadata` is asked for it there.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { run, type RunResult } from '../../../lib/exec.ts';

export async function stonithAdminMetadata(bundle: string): Promise<RunResult> {
  const name = basename(bundle);
  const dir = mkdtempSync(join(tmpdir(), `${name}-sbin-`));
  try {
    writeFileSync(join(dir, name), readFileSync(bundle));
    chmodSync(join(dir, name), 0o755);
    const script = 'mount -t overlay overlay -o "lowerdir=$1:/usr/sbin" /usr/sbin && exec stonith_admin --metadata --agent "$2"';
    return await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', dir, name], { timeoutMs: 30_000 });
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
