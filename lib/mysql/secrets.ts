// Passwords from a root-only file, the alternative to storing them in the CIB (which every node
// and every `pcs config` shows). The file holds the password on its first line.
import { readFileSync, statSync } from 'node:fs';

export interface FileFacts { exists: boolean; isFile: boolean; uid: number; mode: number }

/** Why a password file must not be used, or undefined when it is fine. Pure. */
export function passwordFileProblem(path: string, f: FileFacts, requiredUid = 0): string | undefined {
  if (!f.exists) return `password file ${path} does not exist`;
  if (!f.isFile) return `password file ${path} is not a regular file`;
  if (f.uid !== requiredUid) return `password file ${path} must be owned by root (uid ${requiredUid}), not uid ${f.uid}`;
  if ((f.mode & 0o077) !== 0) return `password file ${path} is readable by others (mode ${(f.mode & 0o777).toString(8)}); use chmod 600 or 400`;
  return undefined;
}

export function fileFacts(path: string): FileFacts {
  try {
    const s = statSync(path);
    return { exists: true, isFile: s.isFile(), uid: s.uid, mode: s.mode };
  } catch {
    return { exists: false, isFile: false, uid: -1, mode: 0 };
  }
}

/** The password from the file, after the checks; throws Error(reason) otherwise. */
export function readPasswordFile(path: string, requiredUid = process.getuid?.() === 0 ? 0 : (process.getuid?.() ?? 0)): string {
  const why = passwordFileProblem(path, fileFacts(path), requiredUid);
  if (why) throw new Error(why);
  const first = readFileSync(path, 'utf8').split('\n')[0] ?? '';
  return first.replace(/\r$/, '');
}
