import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes a file through a temporary name and renames it into place. The temporary file goes in
 * `tmpDir` when given (a directory on the same file system that the caller wipes at start, so a
 * kill leaves nothing behind among the outputs), else next to the target.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, tmpDir?: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const name = `${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (tmpDir) await fs.promises.mkdir(tmpDir, { recursive: true });
  const tmp = tmpDir ? path.join(tmpDir, name) : path.join(path.dirname(file), name);
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, file);
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Removes a file if it is there. */
export async function unlinkIfExists(p: string): Promise<void> {
  await fs.promises.rm(p, { force: true });
}

/**
 * Asserts that `child` lies inside `parent` (after resolving `..`): the last line of defence
 * behind the name sanitising in ids.ts.
 */
export function assertInside(parent: string, child: string): string {
  const p = path.resolve(parent);
  const c = path.resolve(child);
  if (c !== p && !c.startsWith(p + path.sep)) throw new Error(`refusing to write outside ${p}: ${c}`);
  return c;
}
