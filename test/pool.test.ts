/**
 * The log pool's end: destroyLogPool destroys the pool only once every worker has loaded its
 * module (terminating a worker mid-load can abort the whole process; src/logs/pool.ts).
 */
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

});
