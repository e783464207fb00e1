/**
 * The log pool's end: destroyLogPool destroys the pool only once every worker has loaded its
 * module (terminating a worker mid-load can abort the whole process; src/logs/pool.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogPool, destroyLogPool } from '../src/logs/pool.ts';

describe('destroyLogPool', () => {
  it('returns promptly for a fresh pool, once every worker has answered (a missing one would hold it 10 s)', async () => {
    for (const workers of [1, 2, 3]) {
      const pool = createLogPool(workers);
      const ids = new Set(pool.threads.map((t) => t.threadId));
      expect(ids.size).toBe(workers);
      const answered = new Set<number>();
      const run = pool.run.bind(pool);
      // every roll-call answer destroyLogPool got, seen through the pool's own run()
      pool.run = (async (task: unknown, options: { name?: string }) => {
        const r = await run(task, options);
        if (options?.name === 'rollCall') answered.add(r as number);
        return r;
      }) as typeof pool.run;
      const started = performance.now();
      await destroyLogPool(pool);
      expect(performance.now() - started).toBeLessThan(8_000);
      expect(answered).toEqual(ids);
      expect(pool.threads.length).toBe(0);
    }
  });

  it("the workers load their sources through Node's compile cache (src/compileCache.ts)", () => {
    // in a process of its own, whose temporary directory (the cache's default place) is new
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edx2bq-compile-cache-'));
    try {
      const script = `import { createLogPool, destroyLogPool } from ${JSON.stringify(new URL('../src/logs/pool.ts', import.meta.url).href)};
        const pool = createLogPool(1);
        await pool.run({}, { name: 'rollCall' });
        await destroyLogPool(pool);
        console.log(process.env.NODE_COMPILE_CACHE);`;
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
      delete env.NODE_COMPILE_CACHE;
      delete env.NODE_DISABLE_COMPILE_CACHE;
      const dir = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' }).trim();
      expect(dir.startsWith(tmp)).toBe(true);
      // one cache entry per module compiled: the worker's sources (workers/log-worker.ts and what it imports) among them
      const entries = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(entries.length).toBeGreaterThan(20);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
