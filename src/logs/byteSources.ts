/**
 * The bytes of a log file, gunzipped if need be, read into buffers the caller gives: the chunk
 * reader (src/logs/chunkReader.ts) fills its reused chunk buffers straight from them.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { loadAddon } from '../events/nativeScan.ts';

export interface ReadProgress {
  /** Bytes of the file (compressed, for gzip) read so far. */
  bytesRead: number;
  /** Bytes of log text (after gunzip) read so far. */
  textBytes: number;
}

export interface ByteSource {
  /**
   * Fills `dest` and returns how many bytes it wrote: fewer than `dest.length` only at the end of
   * the file or at a fault (then `error` is set; the bytes before the fault are written).
   */
  read(dest: Uint8Array): Promise<number>;
  readonly error: Error | null;
  close(): Promise<void>;
}

const INPUT_BUFFER_BYTES = 1 << 20;

function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A file as it is. */
class PlainFile implements ByteSource {
  error: Error | null = null;
  private readonly fh: fs.promises.FileHandle;
  private readonly progress: ReadProgress;

  constructor(fh: fs.promises.FileHandle, progress: ReadProgress) {
    this.fh = fh;
    this.progress = progress;
  }

  async read(dest: Uint8Array): Promise<number> {
    let written = 0;
    while (written < dest.length && this.error === null) {
      try {
        const { bytesRead } = await this.fh.read(dest, written, dest.length - written, null);
        if (bytesRead === 0) break;
        written += bytesRead;
      } catch (e) {
        this.error = e as Error;
      }
    }
    this.progress.bytesRead += written;
    this.progress.textBytes += written;
    return written;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

type GunzipInto = (handle: unknown, input: Uint8Array, out: Uint8Array) => Promise<[number, number, number, string?]>;

/**
 * A gzip file through native/gunzip.cc: Node's zlib on a thread of libuv's pool (as node:zlib's
 * stream), writing straight into `dest`.
 */
class NativeGunzip implements ByteSource {
  error: Error | null = null;
  private readonly input = Buffer.allocUnsafeSlow(INPUT_BUFFER_BYTES);
  private inStart = 0;
  private inEnd = 0;
  private eof = false;
  /** 1 when the last member ended with all the input read so far used (gunzip.cc). */
  private status = 0;

  private readonly fh: fs.promises.FileHandle;
  private readonly progress: ReadProgress;
  private readonly handle: unknown;
  private readonly gunzipInto: GunzipInto;

  constructor(fh: fs.promises.FileHandle, progress: ReadProgress, handle: unknown, gunzipInto: GunzipInto) {
    this.fh = fh;
    this.progress = progress;
    this.handle = handle;
    this.gunzipInto = gunzipInto;
  }

  async read(dest: Uint8Array): Promise<number> {
    let written = 0;
    while (written < dest.length && this.error === null) {
      if (this.inStart === this.inEnd) {
        if (this.eof) break;
        try {
          const { bytesRead } = await this.fh.read(this.input, 0, this.input.length, null);
          this.progress.bytesRead += bytesRead;
          this.inStart = 0;
          this.inEnd = bytesRead;
          if (bytesRead === 0) {
            this.eof = true;
            if (this.status !== 1) this.error = codedError('unexpected end of file', 'Z_BUF_ERROR');
            break;
          }
        } catch (e) {
          this.error = e as Error;
          break;
        }
      }
      const [status, used, made, message] = await this.gunzipInto(this.handle, this.input.subarray(this.inStart, this.inEnd), dest.subarray(written));
      this.inStart += used;
      written += made;
      this.status = status;
      if (status < 0) this.error = codedError(message ?? 'corrupt data', 'Z_DATA_ERROR');
    }
    this.progress.textBytes += written;
    return written;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** A gzip file through a node:zlib stream, its pieces copied (without the native addon). */
class StreamGunzip implements ByteSource {
  error: Error | null = null;
  private readonly pieces: AsyncIterator<Buffer>;
  private piece: Buffer = Buffer.alloc(0);
  private at = 0;
  private ended = false;
  private readonly stream: fs.ReadStream;
  private readonly progress: ReadProgress;

  constructor(stream: fs.ReadStream, progress: ReadProgress) {
    this.stream = stream;
    this.progress = progress;
    stream.on('data', (b) => {
      progress.bytesRead += b.length;
    });
    const gunzip = zlib.createGunzip({ chunkSize: INPUT_BUFFER_BYTES });
    stream.on('error', (e) => gunzip.destroy(e));
    stream.pipe(gunzip);
    this.pieces = (gunzip as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  async read(dest: Uint8Array): Promise<number> {
    let written = 0;
    while (written < dest.length && this.error === null) {
      if (this.at === this.piece.length) {
        if (this.ended) break;
        try {
          const r = await this.pieces.next();
          if (r.done) {
            this.ended = true;
            break;
          }
          this.piece = r.value;
          this.at = 0;
        } catch (e) {
          this.error = e as Error;
          break;
        }
      }
      const n = Math.min(dest.length - written, this.piece.length - this.at);
      dest.set(this.piece.subarray(this.at, this.at + n), written);
      this.at += n;
      written += n;
    }
    this.progress.textBytes += written;
    return written;
  }

  async close(): Promise<void> {
    this.stream.destroy();
  }
}

/**
 * Opens a log file for reading. Gzip files go through native/gunzip.cc when the native addon
 * is built (unless `native` is false), else through node:zlib. Both give the same bytes and the
 * same error messages (test/chunkReader.test.ts), except that the native one keeps what it read
 * before a fault (node:zlib may drop its last piece) and reads a member after zero padding
 * (node:zlib stops at the padding).
 */
export async function openByteSource(file: string, gzip: boolean, progress: ReadProgress, native = true): Promise<ByteSource> {
  if (!gzip) return new PlainFile(await fs.promises.open(file, 'r'), progress);
  const addon = native ? loadAddon() : null;
  if (addon?.gunzipNew && addon.gunzipIntoAsync) return new NativeGunzip(await fs.promises.open(file, 'r'), progress, addon.gunzipNew(), addon.gunzipIntoAsync);
  return new StreamGunzip(fs.createReadStream(file, { highWaterMark: INPUT_BUFFER_BYTES }), progress);
}
