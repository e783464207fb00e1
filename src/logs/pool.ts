import os from 'node:os';
import { Piscina } from 'piscina';

const WORKER_FILE = new URL('../../workers/log-worker.ts', import.meta.url).href;

export function defaultWorkerCount(): number {
  return Math.max(1, os.availableParallelism());
}

/** The worker pool of the log engine: exactly `workers` threads, started up front. */
export function createLogPool(workers: number): Piscina {
  return new Piscina({
    filename: WORKER_FILE,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: 1,
  });
}
