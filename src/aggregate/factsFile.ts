/**
 * One input's facts on disk: `_parts/<stem>/facts.v8`, next to its per-course parts, so it is
 * swapped in and out with them (atomically, marker last). The file is written as the workers'
 * batches arrive, so the pass holds no more than a few MB of them, whatever the input's size:
 * an 8-byte magic, then records of [u32 length][u16 course length][course, UTF-8][body] (the
 * length counts what follows it). A body is [u32 meta length][meta, JSON text in UTF-8: the batch
 * without its typed-array columns, plus their lengths][the columns' raw bytes, in COLUMNS order].
 * The columns are written as bytes by hand: the V8 serializer handles each typed array through a
 * JavaScript callback, which cost ~0.4 µs per event in split with aggregates (13 columns per
 * course per chunk). The course in each record's head lets the load deserialize one course's
 * batches at a time (`readFactsRecords`).
 */
import fs from 'node:fs';
import { MICROS_PER_DAY, utcDateOfMicros } from '../events/time.ts';
import type { CourseFacts } from './facts.ts';
import { utf8Write } from '../bufferText.ts';
import { copyInto } from '../bufferCopy.ts';

export const FACTS_FILE = 'facts.v8';
/**
 * The format version, in the magic and in the input's marker (`factsVersion`): 3 added the
 * time_on_task categories to the base events' flags, 4 the course in each record's head, 5 the
 * columns as raw bytes after the V8-serialized rest, 6 that rest as JSON text. Inputs
 * whose facts are of another version are redone by the next pass that wants facts, and ignored
 * by the load until then.
 */
export const FACTS_VERSION = 6;
const MAGIC = Buffer.from(`EDX2BQF${FACTS_VERSION}`);
/** Serialized batches are written in blocks of at most this size (a larger batch on its own). */
const BLOCK_BYTES = 4 << 20;

export class FactsFileError extends Error {}

/**
 * A chunk's batches as facts-file records ([u32 length][body] each), with the days each
 * course's batch covers. Workers return this instead of the objects: one buffer moves to the main
 * thread without a copy, and the main thread appends it to the file without decoding it.
 */
export interface EncodedFacts {
  bytes: Uint8Array;
  days: Array<[course: string, days: number[]]>;
}

export function encodeFacts(batches: readonly CourseFacts[]): EncodedFacts {
  // sizes first, then one buffer written in place (plain indexed loops: these run once per
  // batch in every worker, where V8's optimising compiler pays for iterator protocol code)
  const courses: Buffer[] = [];
  const metas: Buffer[] = [];
  let total = 0;
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    const course = Buffer.from(b.course, 'utf8');
    if (course.length > 0xffff) throw new Error(`course id of ${course.length} bytes: too long for a facts record`);
    const meta = encodeMeta(b);
    courses.push(course);
    metas.push(meta);
    total += 6 + course.length + 4 + meta.length + columnsBytes(b);
  }
  // allocUnsafeSlow: its own ArrayBuffer, never the shared pool, so it can be transferred
  const bytes = Buffer.allocUnsafeSlow(total);
  let at = 0;
  const days: EncodedFacts['days'] = [];
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    const course = courses[i]!;
    const meta = metas[i]!;
    const bodyLength = 4 + meta.length + columnsBytes(b);
    bytes.writeUInt32LE(2 + course.length + bodyLength, at);
    bytes.writeUInt16LE(course.length, at + 4);
    course.copy(bytes, at + 6);
    at += 6 + course.length;
    bytes.writeUInt32LE(meta.length, at);
    meta.copy(bytes, at + 4);
    at += 4 + meta.length;
    at = writeColumns(b, bytes, at);
    days.push([b.course, b.days]);
  }
  return { bytes, days };
}
/** One record not yet deserialized: its course and where its body is. */
export interface FactsRecord {
  readonly course: string;
  readonly body: Uint8Array;
  /** For messages: the file and the byte offset of the body. */
  readonly where: string;
  readonly at: number;
}

const badFacts = (where: string, why: string) => new FactsFileError(`${where}: ${why}; re-run with --force to rebuild it`);

/** The records of a run of records (what `encodeFacts` makes; a facts file after its magic), in order. */
export function factsRecords(buf: Uint8Array, where = 'facts'): FactsRecord[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: FactsRecord[] = [];
  let at = 0;
  while (at < b.length) {
    if (at + 6 > b.length) throw badFacts(where, 'truncated facts');
    const len = b.readUInt32LE(at);
    const courseLen = b.readUInt16LE(at + 4);
    const end = at + 4 + len;
    if (len < 2 + courseLen || end > b.length) throw badFacts(where, 'truncated facts');
    const course = b.toString('utf8', at + 6, at + 6 + courseLen);
    out.push({ course, body: b.subarray(at + 6 + courseLen, end), where, at: at + 6 + courseLen });
    at = end;
  }
  return out;
}

/** One record's batch. */
export function decodeRecord(r: FactsRecord): CourseFacts {
  let f: CourseFacts;
  try {
    f = decodeBody(r.body);
  } catch (e) {
    throw badFacts(r.where, `unreadable batch at byte ${r.at} (${(e as Error).message})`);
  }
  if (f?.course !== r.course) throw badFacts(r.where, `the batch at byte ${r.at} is not of the course its head names`);
  return f;
}

type TypedColumn = Uint32Array | Float64Array | Uint16Array | Uint8Array | Int32Array;
type ColumnMaker = { new (n: number): TypedColumn; readonly BYTES_PER_ELEMENT: number };

/** The typed-array columns of a batch, in body order: [group, name, element type, which count]. */
const COLUMNS: ReadonlyArray<readonly ['base' | 'ip' | 'video', string, ColumnMaker, 0 | 1 | 2]> = [
  ['base', 'user', Uint32Array, 0], ['base', 'time', Float64Array, 0], ['base', 'flags', Uint16Array, 0],
  ['ip', 'user', Uint32Array, 1], ['ip', 'ip', Uint32Array, 1], ['ip', 'day', Int32Array, 1], ['ip', 'count', Uint32Array, 1],
  ['video', 'user', Uint32Array, 2], ['video', 'video', Uint32Array, 2], ['video', 'time', Float64Array, 2], ['video', 'type', Uint8Array, 2],
  ['video', 'position', Float64Array, 2], ['video', 'speed', Float64Array, 2],
];

function columnOf(f: CourseFacts, group: 'base' | 'ip' | 'video', name: string): TypedColumn {
  return (f[group] as unknown as Record<string, TypedColumn>)[name]!;
}

/**
 * The rest of a batch — everything but its typed columns, plus their lengths — as JSON text in
 * UTF-8 (a copy: `metaScratch` is reused). JSON, not V8's serializer: it costs half as much to
 * write and to read (measured: 6 against 11 µs for a course's batch of a chunk, ~4 µs of which was
 * the serializer's fixed cost per call). The values are strings, finite numbers and nulls; JSON
 * keeps them exactly (a lone surrogate is escaped and read back as it was), except that a -0
 * (a problem_check grade or attempts of "-0") is read back as 0.
 */
function encodeMeta(f: CourseFacts): Buffer {
  const counts = [f.base.user.length, f.ip.user.length, f.video.user.length];
  const text = JSON.stringify({
    course: f.course, days: f.days, strings: f.strings, forum: f.forum, problemCheck: f.problemCheck, showAnswer: f.showAnswer,
    enrollment: f.enrollment, transcript: f.transcript, counts,
  } satisfies Omit<CourseFacts, 'base' | 'ip' | 'video'> & { counts: number[] });
  // a UTF-16 code unit never takes more than 3 UTF-8 bytes
  if (metaScratch.length < 3 * text.length) metaScratch = Buffer.allocUnsafeSlow(Math.max(3 * text.length, 2 * metaScratch.length));
  const n = utf8Write(metaScratch, text, 0);
  return Buffer.from(metaScratch.subarray(0, n));
}
let metaScratch = Buffer.allocUnsafeSlow(1 << 16);

/** The byte length of a batch's typed columns (checking each has its group's length). */
function columnsBytes(f: CourseFacts): number {
  const counts = [f.base.user.length, f.ip.user.length, f.video.user.length];
  let total = 0;
  for (let i = 0; i < COLUMNS.length; i++) {
    const c = COLUMNS[i]!;
    const col = columnOf(f, c[0], c[1]);
    if (col.length !== counts[c[3]]) throw new Error(`facts column ${c[0]}.${c[1]} has ${col.length} values, not ${counts[c[3]]}`);
    total += col.byteLength;
  }
  return total;
}

/** Writes a batch's typed columns at `at`, in body order; returns the offset after them. */
function writeColumns(f: CourseFacts, out: Buffer, at: number): number {
  for (let i = 0; i < COLUMNS.length; i++) {
    const c = COLUMNS[i]!;
    const col = columnOf(f, c[0], c[1]);
    out.set(new Uint8Array(col.buffer, col.byteOffset, col.byteLength), at);
    at += col.byteLength;
  }
  return at;
}

function decodeBody(body: Uint8Array): CourseFacts {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (b.length < 4) throw new Error('no meta length');
  const metaLen = b.readUInt32LE(0);
  if (4 + metaLen > b.length) throw new Error('meta cut short');
  const { counts, ...rest } = JSON.parse(b.toString('utf8', 4, 4 + metaLen)) as Omit<CourseFacts, 'base' | 'ip' | 'video'> & { counts: number[] };
  const groups: Record<string, Record<string, TypedColumn>> = { base: {}, ip: {}, video: {} };
  let at = 4 + metaLen;
  for (const [group, name, Make, which] of COLUMNS) {
    const n = counts[which]!;
    const bytes = n * Make.BYTES_PER_ELEMENT;
    if (!Number.isSafeInteger(n) || n < 0 || at + bytes > b.length) throw new Error(`column ${group}.${name} cut short`);
    // copied out: the body's offset in the file need not be aligned for the element type
    const col = new Make(n);
    new Uint8Array(col.buffer).set(b.subarray(at, at + bytes));
    groups[group]![name] = col;
    at += bytes;
  }
  if (at !== b.length) throw new Error(`${b.length - at} bytes after the columns`);
  return { ...rest, base: groups.base, ip: groups.ip, video: groups.video } as unknown as CourseFacts;
}

/** The batches of a run of records, deserialized. */
export function decodeFacts(buf: Uint8Array, where = 'facts'): CourseFacts[] {
  return factsRecords(buf, where).map(decodeRecord);
}

/** Appends batches to a facts file and keeps, per course, the days they cover. */
export class FactsWriter {
  private readonly file: string;
  private handle: fs.promises.FileHandle | null = null;
  /**
   * The bytes not yet written, copied out of the workers' results: a view would keep each
   * result's whole buffer (its logs too, ~15× the facts) alive until the block is written.
   */
  private block = Buffer.allocUnsafeSlow(BLOCK_BYTES);
  private pendingBytes = 0;
  private readonly days = new Map<string, Set<number>>();

  constructor(file: string) {
    this.file = file;
    this.append(MAGIC);
  }

  async add(f: EncodedFacts): Promise<void> {
    for (const [course, ds] of f.days) {
      let days = this.days.get(course);
      if (days === undefined) this.days.set(course, (days = new Set()));
      for (const d of ds) days.add(d);
    }
    if (this.pendingBytes + f.bytes.length > this.block.length) await this.flush();
    if (f.bytes.length > this.block.length) await this.write(f.bytes);
    else this.append(f.bytes);
  }

  private append(bytes: Uint8Array): void {
    copyInto(this.block, this.pendingBytes, bytes);
    this.pendingBytes += bytes.length;
  }

  private async write(bytes: Uint8Array): Promise<void> {
    this.handle ??= await fs.promises.open(this.file, 'w');
    await this.handle.write(bytes);
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    // a new block: the full one is not reused while it is being written
    const full = this.block.subarray(0, this.pendingBytes);
    this.block = Buffer.allocUnsafeSlow(BLOCK_BYTES);
    this.pendingBytes = 0;
    await this.write(full);
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
  return (await readFactsRecords(file)).map(decodeRecord);
}

/**
 * The records of a facts file, in the order written, not yet deserialized: the load decodes one
 * course's batches at a time (measured: decoding a 4M-event day's batches all at once held
 * ~500 MB of heap through the whole load).
 */
export async function readFactsRecords(file: string): Promise<FactsRecord[]> {
  const buf = await fs.promises.readFile(file);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new FactsFileError(`${file}: not a facts file of this version; re-run with --force to rebuild it`);
  }
  return factsRecords(buf.subarray(MAGIC.length), file);
}
