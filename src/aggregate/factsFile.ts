/**
 * One input's facts on disk: `_parts/<stem>/facts.v8`, next to its per-course parts, so it is
 * swapped in and out with them (atomically, marker last). The file is written as the workers'
 * batches arrive, so the pass holds no more than a few MB of them, whatever the input's size:
 * an 8-byte magic, then records of [u32 length][V8-serialized CourseFacts]. The V8 serializer
 * keeps typed arrays as raw bytes, so writing and reading cost little more than a copy.
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import { MICROS_PER_DAY, utcDateOfMicros } from '../events/time.ts';
import type { CourseFacts } from './facts.ts';

export const FACTS_FILE = 'facts.v8';
/**
 * The format version, in the magic and in the input's marker (`factsVersion`): 3 added the
 * time_on_task categories to the base events' flags. Inputs whose facts are of another version
 * are redone by the next pass that wants facts, and ignored by the load until then.
 */
export const FACTS_VERSION = 3;
const MAGIC = Buffer.from(`EDX2BQF${FACTS_VERSION}`);
/** Serialized batches are written in blocks of about this size. */
const BLOCK_BYTES = 4 << 20;

export class FactsFileError extends Error {}

/**
 * A chunk's batches as facts-file records ([u32 length][V8 bytes] each), with the days each
 * course's batch covers. Workers return this instead of the objects: one buffer moves to the main
 * thread without a copy, and the main thread appends it to the file without decoding it.
 */
export interface EncodedFacts {
  bytes: Uint8Array;
  days: Array<[course: string, days: number[]]>;
}

export function encodeFacts(batches: readonly CourseFacts[]): EncodedFacts {
  const parts: Buffer[] = [];
  let total = 0;
  for (const b of batches) {
    const body = v8.serialize(b);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(body.length);
    parts.push(head, body);
    total += 4 + body.length;
  }
  // allocUnsafeSlow: its own ArrayBuffer, never the shared pool, so it can be transferred
  const bytes = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const p of parts) {
    p.copy(bytes, at);
    at += p.length;
  }
  return { bytes, days: batches.map((b) => [b.course, b.days]) };
}

/** The batches of a run of records (what `encodeFacts` makes; a facts file after its magic). */
export function decodeFacts(buf: Uint8Array, where = 'facts'): CourseFacts[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string) => new FactsFileError(`${where}: ${why}; re-run with --force to rebuild it`);
  const out: CourseFacts[] = [];
  let at = 0;
  while (at < b.length) {
    if (at + 4 > b.length) throw bad('truncated facts');
    const len = b.readUInt32LE(at);
    at += 4;
    if (at + len > b.length) throw bad('truncated facts');
    try {
      out.push(v8.deserialize(b.subarray(at, at + len)) as CourseFacts);
    } catch (e) {
      throw bad(`unreadable batch at byte ${at} (${(e as Error).message})`);
    }
    at += len;
  }
  return out;
}

/** Appends batches to a facts file and keeps, per course, the days they cover. */
export class FactsWriter {
  private readonly file: string;
  private handle: fs.promises.FileHandle | null = null;
  private pending: Buffer[] = [MAGIC];
  private pendingBytes = MAGIC.length;
  private readonly days = new Map<string, Set<number>>();

  constructor(file: string) {
    this.file = file;
  }

  async add(f: EncodedFacts): Promise<void> {
    for (const [course, ds] of f.days) {
      let days = this.days.get(course);
      if (days === undefined) this.days.set(course, (days = new Set()));
      for (const d of ds) days.add(d);
    }
    const bytes = Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= BLOCK_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    this.handle ??= await fs.promises.open(this.file, 'w');
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.write(data);
  }

  /** Writes what is left and closes; returns per course the sorted UTC dates its facts cover. */
  async close(): Promise<Record<string, string[]>> {
    await this.flush();
    await this.handle?.close();
    this.handle = null;
    const out: Record<string, string[]> = {};
    for (const course of [...this.days.keys()].sort()) {
      const days = this.days.get(course)!;
      if (days.size > 0) out[course] = [...days].sort((a, b) => a - b).map((d) => utcDateOfMicros(d * MICROS_PER_DAY));
    }
    return out;
  }
}

/** Every batch of a facts file, in the order written. */
export async function readFactsFile(file: string): Promise<CourseFacts[]> {
  const buf = await fs.promises.readFile(file);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new FactsFileError(`${file}: not a facts file of this version; re-run with --force to rebuild it`);
  }
  return decodeFacts(buf.subarray(MAGIC.length), file);
}
