/** Piscina worker entry point: thin wrappers that move result buffers instead of copying. */
import { Piscina } from 'piscina';
import { aggregateChunk, compressBlocks, parseChunk, splitChunk, type CompressTask } from '../src/logs/chunkTasks.ts';

function moveWith<T extends object>(value: T, buffer: ArrayBufferLike): unknown {
  return Piscina.move({
    get [Piscina.transferableSymbol]() {
      return buffer;
    },
    get [Piscina.valueSymbol]() {
      return value;
    },
  } as never);
}

export function split(task: { chunk: Uint8Array; facts?: boolean }) {
  const r = splitChunk(task.chunk, task.facts === true);
  return moveWith(r, r.data.buffer);
}

export function compress(task: CompressTask) {
  const r = compressBlocks(task);
  return moveWith(r, r.data.buffer);
}

/** `--no-split`: counts, rejects and the encoded facts only (their buffer is moved, not copied). */
export function aggregate(task: { chunk: Uint8Array }) {
  const r = aggregateChunk(task.chunk);
  return moveWith(r, r.facts.buffer);
}

export function parse(task: { chunk: Uint8Array }) {
  return parseChunk(task.chunk);
}

/**
 * Waits until `workers` barrier tasks have arrived, one per worker (src/logs/pool.ts
 * destroyLogPool); at most 10 s (`timeoutMs`), so a lost worker cannot hang the pool's end.
 */
export function barrier(task: { counter: Int32Array; workers: number; timeoutMs?: number }): void {
  const { counter, workers } = task;
  if (Atomics.add(counter, 0, 1) + 1 >= workers) {
    Atomics.notify(counter, 0);
    return;
  }
  const deadline = Date.now() + (task.timeoutMs ?? 10_000);
  for (;;) {
    const arrived = Atomics.load(counter, 0);
    if (arrived >= workers || Date.now() > deadline) return;
    Atomics.wait(counter, 0, arrived, 100);
  }
}

export default split;
