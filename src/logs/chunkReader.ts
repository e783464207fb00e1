import type { ChunkRing } from './chunkRing.ts';
import { openByteSource, type ByteSource, type ReadProgress } from './byteSources.ts';
import { MAX_LINE_BYTES } from './lines.ts';
import { copyInto } from '../bufferCopy.ts';

export type { ReadProgress } from './byteSources.ts';

/** Raised when an input cannot be read to its end (corrupt or truncated gzip, I/O error). */
export class InputReadError extends Error {
  /** Bytes after the last complete line when the fault struck: an incomplete line. */
  readonly tail: Uint8Array;
  constructor(message: string, tail: Uint8Array) {
    super(message);
    this.tail = tail;
  }
}

/**
 * Whole lines of a log file. `slot` is the index of the ring buffer `bytes` lies in (the
 * consumer releases it when done with the chunk), or -1 when `bytes` has its own ArrayBuffer:
 * a line longer than a ring buffer, which the consumer may transfer.
 */
export interface LineChunk {
  slot: number;
  bytes: Uint8Array;
}

function faultMessage(e: Error, gzip: boolean): string {
  const code = (e as NodeJS.ErrnoException).code;
  return `${gzip ? 'corrupt or truncated gzip' : 'read error'}: ${e.message}${code ? ` (${code})` : ''}`;
}

function concat(parts: Uint8Array[]): Uint8Array {
  // allocUnsafeSlow: its own ArrayBuffer, never the shared pool, so it can be transferred
  const out = Buffer.allocUnsafeSlow(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    copyInto(out, at, p);
    at += p.length;
  }
  return out;
}

/**
 * Reads a (gzipped) log file as chunks of whole lines, each filling most of a ring buffer; the
 * last chunk may end without a newline. A line longer than a ring buffer comes as a chunk of its
 * own (pieces of at most MAX_LINE_BYTES, which the worker rejects). Memory: the ring, whatever
 * the file size. On a read or gunzip fault it first yields every complete line read, then
 * throws InputReadError carrying the incomplete rest.
 */
export async function* readLineChunks(file: string, gzip: boolean, ring: ChunkRing, progress: ReadProgress, nativeGunzip = true): AsyncGenerator<LineChunk> {
  let source: ByteSource;
  try {
    source = await openByteSource(file, gzip, progress, nativeGunzip);
  } catch (e) {
    throw new InputReadError(faultMessage(e as Error, gzip), new Uint8Array(0));
  }
  let slot = -1;
  try {
    slot = await ring.acquire();
    let view = ring.view(slot);
    let fill = 0;
    for (;;) {
      fill += await source.read(view.subarray(fill));
      if (fill < view.length) {
        // the end of the file, or a fault
        if (source.error !== null) {
          const cut = fill > 0 ? view.lastIndexOf(10, fill - 1) : -1;
          const tail = concat([view.subarray(cut + 1, fill)]);
          if (cut >= 0) {
            yield { slot, bytes: view.subarray(0, cut + 1) };
            slot = -1;
          }
          throw new InputReadError(faultMessage(source.error, gzip), tail);
        }
        if (fill > 0) {
          yield { slot, bytes: view.subarray(0, fill) };
          slot = -1;
        }
        return;
      }
      const cut = view.lastIndexOf(10);
      if (cut >= 0) {
        yield { slot, bytes: view.subarray(0, cut + 1) };
        // the consumer owns that buffer now; only this reader acquires buffers, so its rest is
        // still there to copy (if `next` is that same buffer, memmove and set() handle the overlap)
        slot = -1;
        const next = await ring.acquire();
        const nextView = ring.view(next);
        copyInto(nextView, 0, view.subarray(cut + 1, fill));
        fill -= cut + 1;
        slot = next;
        view = nextView;
        continue;
      }
      // a line longer than a ring buffer: gathered in pieces read through the same buffer
      const parts: Uint8Array[] = [concat([view])];
      let gathered = view.length;
      fill = 0;
      for (;;) {
        const n = await source.read(view);
        const newline = view.subarray(0, n).indexOf(10);
        const take = newline >= 0 ? newline + 1 : n;
        parts.push(concat([view.subarray(0, take)]));
        gathered += take;
        if (newline >= 0) {
          view.copyWithin(0, take, n);
          fill = n - take;
          yield { slot: -1, bytes: concat(parts) };
          break;
        }
        if (n < view.length) {
          if (source.error !== null) throw new InputReadError(faultMessage(source.error, gzip), concat(parts));
          yield { slot: -1, bytes: concat(parts) };
          return;
        }
        if (gathered > MAX_LINE_BYTES) {
          // far beyond any real event: handed on as it is (the worker rejects it, raw text kept)
          // instead of holding ever more of it in memory
          yield { slot: -1, bytes: concat(parts) };
          parts.length = 0;
          gathered = 0;
        }
      }
    }
  } finally {
    if (slot >= 0) ring.release(slot);
    await source.close();
  }
}
