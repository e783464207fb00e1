import fs from 'node:fs';
import zlib from 'node:zlib';
import { MAX_LINE_BYTES } from './lines.ts';

/** Raised when an input cannot be read to its end (corrupt or truncated gzip, I/O error). */
export class InputReadError extends Error {
  /** Bytes after the last complete line when the fault struck: an incomplete line. */
  readonly tail: Uint8Array;
  constructor(message: string, tail: Uint8Array) {
    super(message);
    this.tail = tail;
  }
}

export interface ReadProgress {
  /** Bytes of the file (compressed, for gzip) read so far. */
  bytesRead: number;
  /** Bytes of log text (after gunzip) read so far. */
  textBytes: number;
}

/**
 * Reads a (gzipped) log file as chunks of whole lines of about `chunkSize` bytes; the last
 * chunk may end without a newline. The reader keeps no reference to a chunk it has yielded, so
 * the caller may transfer its ArrayBuffer to another thread. Memory: about two chunks, whatever the file size.
 * On a read or gunzip fault it first yields every complete line read, then throws
 * InputReadError carrying the incomplete rest.
 */
export async function* readLineChunks(file: string, gzip: boolean, chunkSize: number, progress: ReadProgress): AsyncGenerator<Uint8Array> {
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  raw.on('data', (b) => {
    progress.bytesRead += b.length;
  });
  let source: NodeJS.ReadableStream = raw;
  if (gzip) {
    const gunzip = zlib.createGunzip({ chunkSize: Math.min(1 << 20, Math.max(1 << 16, chunkSize)) });
    raw.on('error', (e) => gunzip.destroy(e));
    raw.pipe(gunzip);
    source = gunzip;
  }
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const take = (): Uint8Array | null => {
    const all = Buffer.concat(pending, pendingLen);
    let cut = all.lastIndexOf(10);
    if (cut < 0) {
      if (all.length <= MAX_LINE_BYTES) {
        pending = [all];
        return null;
      }
      // a line far beyond any real event: hand it on as it is (the worker rejects it, raw text
      // kept) instead of holding ever more of it in memory
      cut = all.length - 1;
    }
    const rest = all.subarray(cut + 1);
    pending = rest.length ? [Buffer.from(rest)] : [];
    pendingLen = rest.length;
    return all.subarray(0, cut + 1);
  };
  try {
    for await (const piece of source as AsyncIterable<Buffer>) {
      pending.push(piece);
      pendingLen += piece.length;
      progress.textBytes += piece.length;
      if (pendingLen >= chunkSize) {
        const chunk = take();
        if (chunk) yield chunk;
      }
    }
  } catch (e) {
    if (pendingLen > 0) {
      const chunk = take();
      if (chunk) yield chunk;
    }
    const code = (e as NodeJS.ErrnoException).code;
    const what = gzip ? 'corrupt or truncated gzip' : 'read error';
    throw new InputReadError(`${what}: ${(e as Error).message}${code ? ` (${code})` : ''}`, Buffer.concat(pending, pendingLen));
  }
  if (pendingLen > 0) yield Buffer.concat(pending, pendingLen);
}
