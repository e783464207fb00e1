import fs from 'node:fs';
import path from 'node:path';

/** Whether a process with this id exists (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<dir>/.lock` so two runs never write the same logs directory at once. A lock left by a
 * process that is gone (killed) is taken over. Returns the release function.
 */
export async function acquireDirLock(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, '.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.promises.writeFile(file, String(process.pid), { flag: 'wx' });
      return async () => {
        await fs.promises.rm(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await fs.promises.readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new Error(`another edx2bq run (pid ${pid}) is writing ${dir}; wait for it, or remove ${file} if that process is not edx2bq`);
      }
      await fs.promises.rm(file, { force: true });
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
