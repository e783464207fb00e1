/**
 * The edX weekly dump's `.sql` files (tab-separated text, spec §1.3) and the gzipped CSV we turn
 * them into.
 *
 * Reading (spec §1.3 REC):
 * - the first line is the header (column names); a UTF-8 byte order mark before it is dropped;
 * - one record per line, fields separated by a raw tab;
 * - inside a value the two-character escapes `\t` `\n` `\r` `\\` become tab, LF, CR and a
 *   backslash; any other backslash (`\0`, `\N`, `\x`, a lone trailing `\`) is kept as it is;
 * - the exact token `NULL` is SQL NULL (→ `null`); an empty cell is the empty string `''`;
 *   `\N`, `null` or ` NULL` are ordinary text;
 * - a final line without a newline is a whole record (the original lost its last character);
 * - CRLF: a raw CR right before the LF (or at the very end of the input) is taken as part of
 *   the line end and dropped. The exporter writes a CR inside a value as `\r`, so a raw CR
 *   there can only come from a CRLF conversion of the file. A raw CR anywhere else is data;
 * - a line whose field count differs from the header's is never dropped silently: it goes to
 *   the rejects (file, 1-based line number, reason, raw text), as does a line that is not valid
 *   UTF-8 (raw bytes in `rawBase64`) or that is longer than `maxLineBytes`. An empty line is a
 *   record only when the header has exactly one column, else a reject.
 *
 * Speed: complete lines of each chunk are checked for UTF-8 (`buffer.isUtf8`, SIMD) and decoded
 * in one call, then split with native string searches; only a line that crosses chunks is
 * concatenated, once, from its pieces, so a field of many MB costs linear time.
 *
 * Writing: see `csvField` and `DUCKDB_CSV_OPTIONS` below.
 */
import { randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** One record: a value per header column; `null` is SQL NULL. */
export type TsvRow = (string | null)[];

export interface TsvReject {
  /** The input's name as given in the options. */
  file: string;
  /** 1-based physical line number in the input (the header is line 1). */
  line: number;
  reason: string;
  /** The line as read, before un-escaping (cut to `RAW_SHOWN_MAX` characters for over-long lines). */
  raw: string;
  /** The exact bytes, when they are not valid UTF-8. */
  rawBase64?: string;
}

export interface TsvOptions {
  /** Name used in rejects and errors. */
  file?: string;
  /**
   * Called for each rejected line, in input order (awaited). Without it, rejects are collected
   * in `TsvReader.rejects`.
   */
  onReject?: (r: TsvReject) => void | Promise<void>;
  /** Lines longer than this (bytes) are rejected without being held in memory. Default 256 MiB. */
  maxLineBytes?: number;
}

/** Rows parsed from one or more chunks, with the 1-based input line number of each. */
export interface TsvBatch {
  rows: TsvRow[];
  lines: number[];
}

export const DEFAULT_MAX_TSV_LINE_BYTES = 256 * 1024 * 1024;
/** How much of an over-long line a reject keeps. */
const RAW_SHOWN_MAX = 4096;

const BACKSLASH = 92;

/** Undoes the four escapes of spec §1.3 (`\t` `\n` `\r` `\\`); other backslashes stay. */
export function unescapeTsv(v: string): string {
  let i = v.indexOf('\\');
  if (i === -1) return v;
  let out = '';
  let last = 0;
  while (i !== -1) {
    const c = v.charCodeAt(i + 1);
    let rep: string;
    if (c === 116) rep = '\t';
    else if (c === 110) rep = '\n';
    else if (c === 114) rep = '\r';
    else if (c === BACKSLASH) rep = '\\';
    else {
      i = v.indexOf('\\', i + 1);
      continue;
    }
    out += v.slice(last, i) + rep;
    last = i + 2;
    i = v.indexOf('\\', last);
  }
  return out + v.slice(last);
}

/**
 * Synchronous push parser: feed it chunks (`push`), then `end()`. Parsed rows and their line
 * numbers are appended to the batch passed in; rejects to the array passed in.
 */
export class TsvParser {
  header: string[] | null = null;
  /** Physical lines consumed so far (header included). */
  lines = 0;
  readonly file: string;
  private readonly maxLineBytes: number;
  /** Pieces of the line that is not complete yet. */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Inside an over-long line: its bytes are skipped up to the next newline. */
  private skipping: TsvReject | null = null;
  private sawBom = false;

  constructor(opts: { file?: string; maxLineBytes?: number } = {}) {
    this.file = opts.file ?? '<input>';
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_TSV_LINE_BYTES;
  }

  push(chunk: Buffer, batch: TsvBatch, rejects: TsvReject[]): void {
    const n = chunk.length;
    let start = 0;
    if (this.skipping !== null) {
      const nl = chunk.indexOf(10);
      if (nl === -1) return;
      this.lines++;
      rejects.push(this.skipping);
      this.skipping = null;
      start = nl + 1;
    } else if (this.pendingLen > 0) {
      const nl = chunk.indexOf(10);
      if (nl === -1) {
        this.addPending(chunk);
        return;
      }
      this.pending.push(chunk.subarray(0, nl));
      const line = Buffer.concat(this.pending, this.pendingLen + nl);
      this.pending = [];
      this.pendingLen = 0;
      this.lineBytes(line, batch, rejects);
      start = nl + 1;
    }
    if (start >= n) return;
    const last = chunk.lastIndexOf(10);
    if (last >= start) {
      this.region(chunk, start, last, batch, rejects);
      start = last + 1;
    }
    if (start < n) this.addPending(chunk.subarray(start));
  }

  /** Flushes a last line that has no newline. */
  end(batch: TsvBatch, rejects: TsvReject[]): void {
    if (this.skipping !== null) {
      this.lines++;
      rejects.push(this.skipping);
      this.skipping = null;
      return;
    }
    if (this.pendingLen === 0) return;
    const line = Buffer.concat(this.pending, this.pendingLen);
    this.pending = [];
    this.pendingLen = 0;
    this.lineBytes(line, batch, rejects);
  }

  private addPending(piece: Buffer): void {
    this.pending.push(piece);
    this.pendingLen += piece.length;
    if (this.pendingLen > this.maxLineBytes) {
      // keep the start for the reject, drop the rest
      const head = Buffer.concat(this.pending, Math.min(this.pendingLen, RAW_SHOWN_MAX));
      this.skipping = {
        file: this.file,
        line: this.lines + 1,
        reason: `line longer than ${this.maxLineBytes} bytes`,
        raw: head.toString('utf8'),
      };
      this.pending = [];
      this.pendingLen = 0;
    }
  }

  /** Complete lines in `buf[start, last)`, `last` being the index of the final LF. */
  private region(buf: Buffer, start: number, last: number, batch: TsvBatch, rejects: TsvReject[]): void {
    const bytes = buf.subarray(start, last);
    if (!isUtf8(bytes)) {
      // slow path: line by line, so only the bad lines are rejected
      let s = start;
      while (s <= last) {
        const nl = buf.indexOf(10, s);
        this.lineBytes(buf.subarray(s, nl), batch, rejects);
        s = nl + 1;
      }
      return;
    }
    const text = bytes.toString('utf8');
    let s = 0;
    for (;;) {
      const nl = text.indexOf('\n', s);
      if (nl === -1) {
        this.lineText(text.slice(s), batch, rejects);
        return;
      }
      this.lineText(text.slice(s, nl), batch, rejects);
      s = nl + 1;
    }
  }

  private lineBytes(line: Buffer, batch: TsvBatch, rejects: TsvReject[]): void {
    if (!isUtf8(line)) {
      this.lines++;
      rejects.push({ file: this.file, line: this.lines, reason: 'not valid UTF-8', raw: line.toString('utf8'), rawBase64: line.toString('base64') });
      return;
    }
    this.lineText(line.toString('utf8'), batch, rejects);
  }

  private lineText(raw: string, batch: TsvBatch, rejects: TsvReject[]): void {
    const lineNo = ++this.lines;
    // a UTF-16 code unit is at most 3 UTF-8 bytes: measure only lines that may be too long
    if (raw.length * 3 > this.maxLineBytes) {
      const bytes = Buffer.byteLength(raw, 'utf8');
      if (bytes > this.maxLineBytes) {
        rejects.push({ file: this.file, line: lineNo, reason: `line of ${bytes} bytes is longer than ${this.maxLineBytes} bytes`, raw: raw.slice(0, RAW_SHOWN_MAX) });
        return;
      }
    }
    const text = raw.length > 0 && raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    const header = this.header;
    if (header === null) {
      let h = text;
      if (!this.sawBom && h.charCodeAt(0) === 0xfeff) h = h.slice(1);
      this.sawBom = true;
      this.header = h.split('\t').map(unescapeTsv);
      return;
    }
    const f: TsvRow = text.split('\t');
    if (f.length !== header.length) {
      const reason = text === '' ? 'empty line' : `${f.length} field(s), the header has ${header.length}`;
      rejects.push({ file: this.file, line: lineNo, reason, raw });
      return;
    }
    for (let i = 0; i < f.length; i++) {
      const v = f[i] as string;
      if (v === 'NULL') f[i] = null;
      else if (v.indexOf('\\') !== -1) f[i] = unescapeTsv(v);
    }
    batch.rows.push(f);
    batch.lines.push(lineNo);
  }
}

function syncToAsync<T>(it: Iterator<T>): AsyncIterator<T> {
  return { next: async () => it.next() };
}

function toBuffer(c: Buffer | Uint8Array | string): Buffer {
  if (typeof c === 'string') return Buffer.from(c, 'utf8');
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/**
 * Streaming reader of one `.sql` TSV file. `TsvReader.open` reads until the header is known;
 * then iterate rows (`for await (const row of reader)`) or, faster, batches (`reader.batches()`),
 * once. `header` is `[]` for an empty input.
 */
export class TsvReader implements AsyncIterable<TsvRow> {
  readonly file: string;
  header: string[] = [];
  /** True when the input held no header line at all (0 bytes). */
  empty = false;
  /** Rows handed out so far. */
  rows = 0;
  rejectCount = 0;
  /** Input bytes read so far. */
  bytes = 0;
  /** Rejects, when no `onReject` was given. */
  readonly rejects: TsvReject[] = [];
  private readonly parser: TsvParser;
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;
  private readonly onReject: ((r: TsvReject) => void | Promise<void>) | undefined;
  private first: TsvBatch = { rows: [], lines: [] };
  private done = false;
  private started = false;

  private constructor(it: AsyncIterator<Buffer | Uint8Array | string>, opts: TsvOptions) {
    this.file = opts.file ?? '<input>';
    this.parser = new TsvParser({ file: this.file, ...(opts.maxLineBytes !== undefined ? { maxLineBytes: opts.maxLineBytes } : {}) });
    this.it = it;
    this.onReject = opts.onReject;
  }

  static async open(input: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>, opts: TsvOptions = {}): Promise<TsvReader> {
    const it = Symbol.asyncIterator in input ? input[Symbol.asyncIterator]() : syncToAsync(input[Symbol.iterator]());
    const r = new TsvReader(it, opts);
    while (r.parser.header === null && !r.done) await r.step(r.first);
    r.header = r.parser.header ?? [];
    r.empty = r.parser.header === null;
    return r;
  }

  /** Reads one chunk into `batch` (or ends the input). */
  private async step(batch: TsvBatch): Promise<void> {
    const rejects: TsvReject[] = [];
    const next = await this.it.next();
    if (next.done) {
      this.parser.end(batch, rejects);
      this.done = true;
    } else {
      const buf = toBuffer(next.value);
      this.bytes += buf.length;
      this.parser.push(buf, batch, rejects);
    }
    for (const rj of rejects) {
      this.rejectCount++;
      if (this.onReject) await this.onReject(rj);
      else this.rejects.push(rj);
    }
  }

  /** Rows in batches (one per input chunk that completed a line), with their line numbers. */
  async *batches(): AsyncGenerator<TsvBatch> {
    if (this.started) throw new Error(`${this.file}: the TSV rows can be read only once`);
    this.started = true;
    if (this.first.rows.length > 0) {
      this.rows += this.first.rows.length;
      yield this.first;
    }
    this.first = { rows: [], lines: [] };
    while (!this.done) {
      const batch: TsvBatch = { rows: [], lines: [] };
      await this.step(batch);
      if (batch.rows.length > 0) {
        this.rows += batch.rows.length;
        yield batch;
      }
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TsvRow> {
    for await (const b of this.batches()) yield* b.rows;
  }

  /** Physical lines read (header included). */
  get lines(): number {
    return this.parser.lines;
  }
}

/** Reads a whole TSV text (tests, small files). */
export async function parseTsvText(text: string | Buffer, file = '<text>'): Promise<{ header: string[]; rows: TsvRow[]; rejects: TsvReject[] }> {
  const r = await TsvReader.open([typeof text === 'string' ? Buffer.from(text, 'utf8') : text], { file });
  const rows: TsvRow[] = [];
  for await (const row of r) rows.push(row);
  return { header: r.header, rows, rejects: r.rejects };
}

// ------------------------------------------------------------------------------------------
// CSV

/**
 * The CSV convention (RFC 4180 with one addition):
 * - `,` between fields, `\n` after every record, a header record first;
 * - SQL NULL is an empty, unquoted field; the empty string is `""`;
 * - a field containing `,` `"` CR or LF is quoted, with `"` doubled; everything else (tabs,
 *   backslashes, leading/trailing spaces, the text `NULL`, any Unicode) is written as it is;
 * - UTF-8, gzip.
 * Read it back exactly with `read_csv(<file>, ${DUCKDB_CSV_OPTIONS})` (compression from the
 * `.gz` name): all columns VARCHAR, null stays null, '' stays ''. `max_line_size` is 64 MiB
 * (the original allowed 12.5 MiB fields); `buffer_size` is set to the same value because
 * DuckDB's default (16 × max_line_size) would ask for a 1 GiB block per file.
 */
export const DUCKDB_CSV_OPTIONS =
  "header=true, all_varchar=true, delim=',', quote='\"', escape='\"', new_line='\\n', allow_quoted_nulls=false, nullstr='', strict_mode=true, max_line_size=67108864, buffer_size=67108864";

/** The longest record (bytes, line end included) DuckDB reads with `DUCKDB_CSV_OPTIONS`. */
export const CSV_MAX_LINE_BYTES = 64 * 1024 * 1024;

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE_G = /"/g;

export function csvField(v: string | null): string {
  if (v === null) return '';
  if (v === '') return '""';
  if (NEEDS_QUOTES.test(v)) return '"' + v.replace(QUOTE_G, '""') + '"';
  return v;
}

/** One CSV record with its `\n`. */
export function csvLine(row: readonly (string | null)[]): string {
  let s = '';
  for (let i = 0; i < row.length; i++) {
    if (i > 0) s += ',';
    s += csvField(row[i] ?? null);
  }
  return s + '\n';
}

/** A record that `CsvGzWriter` refused because DuckDB could not read it back. */
export interface CsvTooLong {
  /** Index in the batch passed to `writeRows`. */
  index: number;
  bytes: number;
  csv: string;
}

/**
 * Writes one gzipped CSV file through a hidden temporary file in the same directory
 * (`.<name>.tmp-<pid>-<random>`), renamed into place by `close()`: the final name only ever
 * holds a complete file. `abort()` removes the temporary file.
 */
export class CsvGzWriter {
  readonly file: string;
  readonly tmp: string;
  rows = 0;
  private readonly gz: zlib.Gzip;
  private readonly out: fs.WriteStream;
  private readonly closed: Promise<void>;
  private failure: Error | null = null;
  private readonly maxLineBytes: number;

  /** `level`: gzip level (default 1); `maxLineBytes`: longest record written (default `CSV_MAX_LINE_BYTES`). */
  constructor(file: string, opts: { level?: number; maxLineBytes?: number } = {}) {
    this.file = file;
    this.maxLineBytes = opts.maxLineBytes ?? CSV_MAX_LINE_BYTES;
    this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    // big output chunks: fewer round trips between zlib on the thread pool and the main thread
    this.gz = zlib.createGzip({ level: opts.level ?? 1, chunkSize: 1 << 20 });
    this.out = fs.createWriteStream(this.tmp, { flush: true });
    this.gz.pipe(this.out);
    const fail = (e: Error) => {
      this.failure ??= e;
    };
    this.gz.on('error', fail);
    this.out.on('error', fail);
    // 'close' comes after the data were flushed (`flush: true`) and the descriptor closed, or
    // after an error
    this.closed = new Promise((resolve) => this.out.once('close', () => resolve()));
  }

  private async put(s: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.gz.write(s)) await Promise.race([once(this.gz, 'drain'), this.closed]);
    if (this.failure) throw this.failure;
  }

  async writeHeader(columns: readonly string[]): Promise<void> {
    await this.put(csvLine(columns));
  }

  /**
   * Writes the rows; returns those not written because their record would exceed
   * `maxLineBytes` (DuckDB could not read the file back otherwise).
   */
  async writeRows(rows: readonly TsvRow[]): Promise<CsvTooLong[]> {
    let s = '';
    let tooLong: CsvTooLong[] | null = null;
    for (let i = 0; i < rows.length; i++) {
      const line = csvLine(rows[i] as TsvRow);
      // a UTF-16 code unit is at most 3 UTF-8 bytes: measure only lines that may be too long
      if (line.length * 3 > this.maxLineBytes) {
        const bytes = Buffer.byteLength(line, 'utf8');
        if (bytes > this.maxLineBytes) {
          (tooLong ??= []).push({ index: i, bytes, csv: line });
          continue;
        }
      }
      s += line;
      this.rows++;
      if (s.length > 1 << 20) {
        await this.put(s);
        s = '';
      }
    }
    if (s !== '') await this.put(s);
    return tooLong ?? [];
  }

  /** Finishes the gzip stream, flushes the file and renames it to its final name. */
  async close(): Promise<void> {
    if (this.failure) {
      await this.abort();
      throw this.failure;
    }
    this.gz.end();
    await this.closed;
    if (this.failure) {
      await this.abort();
      throw this.failure;
    }
    await fs.promises.rename(this.tmp, this.file);
  }

  async abort(): Promise<void> {
    if (!this.gz.destroyed) this.gz.destroy();
    if (!this.out.destroyed) this.out.destroy();
    await this.closed.catch(() => undefined);
    await fs.promises.rm(this.tmp, { force: true });
  }
}
