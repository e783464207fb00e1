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

export default split;
