import fs from 'node:fs';
import path from 'node:path';
import type { Piscina } from 'piscina';
import { courseOutputName } from '../ids.ts';
import type { CompressResult, CompressTask } from './chunkTasks.ts';

/**
 * Uncompressed bytes per gzip member of a course output. Members are cut at the first line end at
 * or after this many bytes of that course's stream, so the compressed bytes depend only on the
 * course's lines — never on chunk size, worker count or timing.
 */
export const MEMBER_BYTES = 256 * 1024;

interface CourseStream {
  file: string;
  pending: Buffer[];
  pendingLen: number;
}

interface Block {
  stream: CourseStream;
  bytes: Buffer;
}

/** Part-file name of a course inside an input's parts directory. */
export function partFileName(courseId: string): string {
  return `${courseOutputName(courseId)}.json.gz`;
}

/**
 * The per-course outputs of one input: collects each course's rewritten lines in input order,
 * cuts them into members, has the pool gzip them and appends the members to `<dir>/<course>.json.gz`
 * strictly in order.
 */
export class CourseOutputs {
  private readonly streams = new Map<string, CourseStream>();
  private writeChain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  /** Compress tasks dispatched and not yet written: bounds the memory held by output blocks. */
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly maxInFlight: number;
  private readonly dir: string;
  private readonly pool: Piscina;
  private readonly level: number;

  constructor(dir: string, pool: Piscina, level: number, maxInFlight: number) {
    this.dir = dir;
    this.pool = pool;
    this.level = level;
    this.maxInFlight = maxInFlight;
  }

  /** Courses that received at least one line. */
  courseIds(): string[] {
    return [...this.streams.keys()];
  }

  /**
   * Appends courses' complete lines. The members this completes are compressed and written in
   * the background, in order; returns once fewer than `maxInFlight` batches are outstanding.
   */
  async add(parts: Array<{ courseId: string; bytes: Buffer }>): Promise<void> {
    const ready: Block[] = [];
    for (const { courseId, bytes } of parts) {
      let s = this.streams.get(courseId);
      if (s === undefined) {
        s = { file: path.join(this.dir, partFileName(courseId)), pending: [], pendingLen: 0 };
        this.streams.set(courseId, s);
      }
      s.pending.push(bytes);
      s.pendingLen += bytes.length;
      if (s.pendingLen >= MEMBER_BYTES) this.cut(s, ready, false);
    }
    void this.write(ready);
    while (this.inFlight >= this.maxInFlight) await new Promise<void>((r) => this.waiting.push(r));
  }

  /** Writes every course's remaining lines as a last member and waits for all writes. */
  async finish(): Promise<void> {
    const ready: Block[] = [];
    for (const s of this.streams.values()) this.cut(s, ready, true);
    await this.write(ready);
    await this.writeChain;
    if (this.failure) throw this.failure;
  }

  private cut(s: CourseStream, ready: Block[], all: boolean): void {
    if (s.pendingLen === 0) return;
    let buf = s.pending.length === 1 ? s.pending[0]! : Buffer.concat(s.pending, s.pendingLen);
    while (buf.length >= MEMBER_BYTES) {
      const nl = buf.indexOf(10, MEMBER_BYTES - 1);
      if (nl < 0) break;
      ready.push({ stream: s, bytes: buf.subarray(0, nl + 1) });
      buf = buf.subarray(nl + 1);
    }
    if (all && buf.length > 0) {
      ready.push({ stream: s, bytes: buf });
      buf = buf.subarray(buf.length);
    }
    s.pending = buf.length ? [buf] : [];
    s.pendingLen = buf.length;
  }

  private write(blocks: Block[]): Promise<void> {
    if (blocks.length === 0) return this.writeChain;
    let total = 0;
    for (const b of blocks) total += b.bytes.length;
    const data = new Uint8Array(total);
    const offsets = [0];
    let off = 0;
    for (const b of blocks) {
      data.set(b.bytes, off);
      off += b.bytes.length;
      offsets.push(off);
    }
    const task: CompressTask = { data, offsets, level: this.level };
    const compressed = this.pool.run(task, { name: 'compress', transferList: [data.buffer] }) as Promise<CompressResult>;
    this.inFlight++;
    compressed.catch(() => undefined); // surfaced through the chain below
    this.writeChain = this.writeChain.then(async () => {
      if (this.failure) return;
      try {
        const r = await compressed;
        const out = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
        for (let i = 0; i < blocks.length; i++) {
          await fs.promises.appendFile(blocks[i]!.stream.file, out.subarray(r.offsets[i], r.offsets[i + 1]));
        }
      } catch (e) {
        this.failure = e as Error;
      } finally {
        this.inFlight--;
        this.waiting.shift()?.();
      }
    });
    return this.writeChain;
  }
}
