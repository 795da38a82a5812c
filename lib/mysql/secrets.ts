// Passwords from a root-only file, the alternative to storing them in the CIB (which every node
// and every `pcs config` shows). The file holds the password on its first line.
import { readFileSync, statSync } from 'node:fs';

export interface FileFacts { exists: boolean; isFile: boolean; uid: number; mode: number }

/**
 * Why a password file exposes its password although it can be read: not owned by root, or readable
 * by others. Only start and validate-all refuse such a file; the actions of a running server warn
 * (a configuration tool's chmod 640 must not stop a healthy primary). Pure.
 */
export function passwordFileExposure(path: string, f: FileFacts, requiredUid = 0): string | undefined {
  if (f.uid !== requiredUid) return `password file ${path} must be owned by root (uid ${requiredUid}), not uid ${f.uid}`;
  if ((f.mode & 0o077) !== 0) return `password file ${path} is readable by others (mode ${(f.mode & 0o777).toString(8)}); use chmod 600 or 400`;
  return undefined;
}

/** Why a password file must not be used, or undefined when it is fine. Pure. */
export function passwordFileProblem(path: string, f: FileFacts, requiredUid = 0): string | undefined {
  if (!f.exists) return `password file ${path} does not exist`;
  if (!f.isFile) return `password file ${path} is not a regular file`;
  return passwordFileExposure(path, f, requiredUid);
}

export function fileFacts(path: string): FileFacts {
  try {
    const s = statSync(path);
    return { exists: true, isFile: s.isFile(), uid: s.uid, mode: s.mode };
  } catch {
    return { exists: false, isFile: false, uid: -1, mode: 0 };
  }
}

const ownUid = (): number => process.getuid?.() ?? 0;

/**
 * The password from the file, and the exposure problem if there is one (passwordFileExposure).
 * Throws Error(reason) only when there is no password to read: no file, not a regular file.
 */
export function readPasswordFileChecked(path: string, requiredUid = ownUid()): { password: string; exposure?: string } {
  const f = fileFacts(path);
  if (!f.exists) throw new Error(`password file ${path} does not exist`);
  if (!f.isFile) throw new Error(`password file ${path} is not a regular file`);
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new Error(`password file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const password = (text.split('\n')[0] ?? '').replace(/\r$/, '');
  const exposure = passwordFileExposure(path, f, requiredUid);
  return exposure ? { password, exposure } : { password };
}

/** The password from the file, after every check; throws Error(reason) otherwise. */
export function readPasswordFile(path: string, requiredUid = ownUid()): string {
  const r = readPasswordFileChecked(path, requiredUid);
  if (r.exposure) throw new Error(r.exposure);
  return r.password;
}
