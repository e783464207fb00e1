/**
 * The log pool's end: destroyLogPool destroys the pool only once every worker has loaded its
 * module (terminating a worker mid-load can abort the whole process; src/logs/pool.ts).
 */
import { describe, expect, it } from 'vitest';
import { createLogPool, destroyLogPool } from '../src/logs/pool.ts';
import { barrier } from '../workers/log-worker.ts';

describe('destroyLogPool', () => {
  it('returns promptly for a fresh pool: every worker reached the barrier (a missing one would hold it 10 s)', async () => {
    for (const workers of [1, 2, 3]) {
      const pool = createLogPool(workers);
      const started = performance.now();
      await destroyLogPool(pool);
      expect(performance.now() - started).toBeLessThan(8_000);
      expect(pool.threads.length).toBe(0);
    }
  });

  it('the barrier holds a task until all have arrived, and gives up after its deadline', () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(counter, 0, 1); // one other worker already waiting
    barrier({ counter, workers: 2 }); // the last to arrive: returns at once
    expect(Atomics.load(counter, 0)).toBe(2);
    const lonely = new Int32Array(new SharedArrayBuffer(4));
    const t = performance.now();
    barrier({ counter: lonely, workers: 2, timeoutMs: 300 }); // nobody else comes: returns at the deadline
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
  });
});
