/**
 * Line sink: accumulates lines in a string, hands ~256 KB chunks to a gzip (level 1) stream that
 * writes the file, and honours backpressure. Never holds more than one chunk plus the stream buffers.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createGzip, type Gzip } from 'node:zlib';

export const CHUNK_CHARS = 256 * 1024;

export class GzLineWriter {
  /** Pending text (already newline-terminated lines). */
  buf = '';
  /** Uncompressed bytes handed to gzip so far. */
  bytes = 0;
  private readonly gz: Gzip;
  private readonly done: Promise<void>;
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.gz = createGzip({ level: 1, chunkSize: 256 * 1024 });
    const out = createWriteStream(path, { highWaterMark: 1 << 20 });
    this.done = pipeline(this.gz, out);
    // Keep an early pipeline failure from becoming an unhandled rejection; it is re-thrown in close().
    this.done.catch(() => undefined);
  }

  /** True when the caller should `await flush()`. */
  get full(): boolean {
    return this.buf.length >= CHUNK_CHARS;
  }

  /** Write pending text; resolves once gzip can take more. */
  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const b = Buffer.from(this.buf, 'utf8');
    this.buf = '';
    this.bytes += b.length;
    if (!this.gz.write(b)) await once(this.gz, 'drain');
  }

  /** Write raw bytes (used for lines that must contain invalid UTF-8), keeping line order. */
  writeRaw(b: Buffer): void {
    if (this.buf.length > 0) {
      const t = Buffer.from(this.buf, 'utf8');
      this.buf = '';
      this.bytes += t.length;
      this.gz.write(t);
    }
    this.bytes += b.length;
    this.gz.write(b);
  }

  /** Flush, end the gzip stream and wait until the file is complete. */
  async close(): Promise<void> {
    await this.flush();
    this.gz.end();
    try {
      await this.done;
    } catch (e) {
      throw new Error(`writing ${this.path}: ${(e as Error).message}`);
    }
  }
}
