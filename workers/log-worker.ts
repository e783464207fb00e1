/** Piscina worker entry point: thin wrappers that move result buffers instead of copying. */
import { threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { aggregateChunk, compressBlocks, parseChunk, splitChunk, type CompressTask, type ResultBuffer } from '../src/logs/chunkTasks.ts';
import type { LogWorkerData } from '../src/logs/pool.ts';

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

function ringBuffer(ring: keyof LogWorkerData, slot: number): SharedArrayBuffer {
  const buffer = (Piscina.workerData as LogWorkerData | undefined)?.[ring][slot];
  if (buffer === undefined) throw new Error(`no ${ring} ring buffer ${slot} in this worker`);
  return buffer;
}

/** A chunk of lines: its own bytes, or `length` bytes of a chunk ring buffer (src/logs/chunkRing.ts). */
export interface ChunkTask {
  chunk?: Uint8Array;
  slot?: number;
  length?: number;
}

function chunkOf(task: ChunkTask): Uint8Array {
  return task.chunk ?? new Uint8Array(ringBuffer('chunks', task.slot ?? -1), 0, task.length);
}

/** Result bytes in `ring` (a result or compress ring buffer) when they fit, else in a buffer of their own. */
function resultIn(ring: SharedArrayBuffer | null): ResultBuffer {
  return (bytes) => (ring !== null && bytes <= ring.byteLength ? Buffer.from(ring, 0, bytes) : Buffer.allocUnsafeSlow(bytes));
}

/** A result for the main thread: its bytes named by length when they lie in `ring`, else moved with it. */
function wire<T extends { data: Uint8Array }>(r: T, ring: SharedArrayBuffer | null): unknown {
  if (r.data.buffer === ring) return { ...r, data: null, resultBytes: r.data.length };
  return moveWith({ ...r, resultBytes: r.data.length }, r.data.buffer);
}

/** Returns a SplitWireResult. */
export function split(task: ChunkTask & { facts?: boolean; resultSlot?: number }) {
  const ring = task.resultSlot !== undefined ? ringBuffer('results', task.resultSlot) : null;
  return wire(splitChunk(chunkOf(task), task.facts === true, resultIn(ring)), ring);
}

/**
 * A compress task whose `data` is its own, or `length` bytes of a compress ring buffer, in which
 * its members then come back when they fit. Returns a CompressWireResult.
 */
export function compress(task: Omit<CompressTask, 'data'> & { data?: Uint8Array; slot?: number; length?: number }) {
  const ring = task.slot !== undefined ? ringBuffer('compress', task.slot) : null;
  const data = task.data ?? new Uint8Array(ring!, 0, task.length);
  return wire(compressBlocks({ data, offsets: task.offsets, level: task.level }, resultIn(ring)), ring);
}

/** `--no-split`: counts, rejects and the encoded facts only, in the task's result ring buffer when they fit. Returns an AggregateWireResult. */
export function aggregate(task: ChunkTask & { resultSlot?: number }) {
  const ring = task.resultSlot !== undefined ? ringBuffer('results', task.resultSlot) : null;
  const { facts, ...rest } = aggregateChunk(chunkOf(task), resultIn(ring));
  return wire({ ...rest, data: facts }, ring);
}

export function parse(task: ChunkTask) {
  return parseChunk(chunkOf(task));
}

/** This worker's thread id: it has loaded this module (src/logs/pool.ts destroyLogPool). */
export function rollCall(): number {
  return threadId;
}

export default split;
