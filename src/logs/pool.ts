import os from 'node:os';
import { Piscina } from 'piscina';
import { ChunkRing } from './chunkRing.ts';
import { enableCompileCache } from '../compileCache.ts';

const WORKER_OLD_GENERATION_MB = 128;
/**
 * Without a cap V8 keeps growing a busy worker's young generation (its semi-spaces doubled from
 * 8 to 32 MB over a 4M-event split: committed heap 26 → 74 MB a worker), which made the peak RSS
 * grow with the length of the run. Measured (split of 1M / 4M events, 2 workers): no cap 375 /
 * 536–548 MB (1.39–1.46×); 24 MB 350 / 367 (1.05×); 48 MB 395 / 401 (1.02×), same speed; 12 MB 30% slower.
 */
const WORKER_YOUNG_GENERATION_MB = 48;

/**
 * Tasks Piscina hands a worker before it has finished the first: the worker starts the next as
 * soon as one ends, instead of waiting for the main thread to see that one end and post another
 * (measured, split of a 1M-event day: each worker idle 0.93–1.08 s of ~5 with 1 task, 0.3–0.5 s
 * with 3; split 5.07–5.23 s against 4.77–4.86 s).
 */
const TASKS_PER_WORKER = 3;

const WORKER_FILE = new URL('../../workers/log-worker.ts', import.meta.url).href;

export function defaultWorkerCount(): number {
  return Math.max(1, os.availableParallelism());
}

/** The reused buffers of a pool's tasks (src/logs/chunkRing.ts); a task names one by its index. */
export interface LogRings {
  /** Chunks of log lines, to the split / aggregate / parse tasks. */
  chunks: ChunkRing;
  /** The split and aggregate tasks' results, back to the main thread. */
  results: ChunkRing;
  /** Blocks to gzip, to the compress tasks. */
  compress: ChunkRing;
}

/** What every worker receives when it starts (workers/log-worker.ts): the rings' buffers. */
export type LogWorkerData = { [K in keyof LogRings]: SharedArrayBuffer[] };

/** Rings for `workers` workers and chunks of `chunkSize` bytes, as split uses them. */
export function createLogRings(workers: number, chunkSize: number, memberBytes: number): LogRings {
  // a chunk in flight holds a result buffer (their number bounds the chunks in flight) and a chunk
  // buffer; the reader holds one more chunk buffer, and a chunk it has yielded but not yet
  // submitted one more: the reader never waits for a chunk buffer. A result is ~1.4× its chunk; a
  // compress batch about one chunk's rows. What does not fit takes its own buffer.
  const inFlight = workers * TASKS_PER_WORKER;
  return {
    chunks: new ChunkRing(inFlight + 2, chunkSize),
    results: new ChunkRing(inFlight, 2 * chunkSize + 65536),
    compress: new ChunkRing(workers * 2, 2 * chunkSize + memberBytes),
  };
}

/**
 * The worker pool of the log engine: exactly `workers` threads, started up front. Tasks that
 * name a ring buffer need the pool made with those `rings`.
 */
export function createLogPool(workers: number, rings?: LogRings): Piscina {
  enableCompileCache(); // the workers then load their sources from the cache
  const workerData: LogWorkerData = { chunks: rings?.chunks.buffers ?? [], results: rings?.results.buffers ?? [], compress: rings?.compress.buffers ?? [] };
  return new Piscina({
    workerData,
    filename: WORKER_FILE,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: TASKS_PER_WORKER,
    // A worker only ever holds a chunk (~1 MB) or a line of at most MAX_LINE_BYTES: capping its
    // generations keeps V8 from growing the heap with the length of the run (measured: old
    // generation cap, peak RSS of a 4M-event day 1.11× that of 1M with it, 1.23× without, same
    // speed; young generation, see WORKER_YOUNG_GENERATION_MB).
    resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_GENERATION_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
}

/**
 * Destroys the pool once every worker has finished loading its module. Terminating a worker
 * while Piscina's require() is still instantiating the worker's ES module makes Node abort the
 * whole process (an assertion in ModuleWrap::CreateRequiredModuleFacade): seen once in a full
 * test run, where a small input was done before the second worker had started. Loading the
 * module through a CommonJS entry with import() instead was tried: a worker terminated during
 * that import never exited, and the process hung (1 run in 15). So: rounds of roll-call tasks
 * (one per worker a round: Piscina gives each idle worker one) until every worker has answered
 * one, which it does only once its module is loaded; at most `timeoutMs`, so a lost worker
 * cannot hang the pool's end. Then destroy.
 */
export async function destroyLogPool(pool: Piscina, timeoutMs = 10_000): Promise<void> {
  const missing = new Set(pool.threads.map((t) => t.threadId));
  const deadline = performance.now() + timeoutMs;
  while (missing.size > 0 && performance.now() < deadline) {
    const answers = await Promise.allSettled(Array.from({ length: pool.threads.length }, () => pool.run(null, { name: 'rollCall' }) as Promise<number>));
    for (const a of answers) if (a.status === 'fulfilled') missing.delete(a.value);
    if (missing.size > 0) await new Promise((r) => setTimeout(r, 10));
  }
  await pool.destroy();
}
