import { isUtf8 } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { EVENT_KIND } from '../aggregate/eventRows.ts';
import { addEventFacts, coreOfRow, eventKind, FactsByCourse, NULL_STRING, type FactsBuilder } from '../aggregate/facts.ts';
import { encodeFacts } from '../aggregate/factsFile.ts';
import { isObject, type Json, type JsonObject } from '../events/types.ts';
import { resolveCourseId } from '../events/courseId.ts';
import { slashCourseId } from '../ids.ts';
import { OTHER_TYPE, scanCore, scanCoreBytes, type CoreFields, type ModuleIdInputs } from '../events/fastCore.ts';
import { extractModuleId } from '../events/moduleId.ts';
import { isFullStructType, keyTouchedByR17, rewrittenEventText } from '../events/rephrase.ts';
import {
  FACTS_COURSE, FACTS_FLAGS, FACTS_IP, FACTS_NAMED, FACTS_POSITION, FACTS_SPEED, FACTS_STATE, FACTS_USER, FACTS_VIDEO_ID, FACTS_VIDEO_TYPE,
  lazyCoreAt, takeNativeFacts, type NativeChunkFacts, PAYLOAD_ENROLLMENT, PAYLOAD_FORUM, PAYLOAD_NUMBERS, PAYLOAD_PROBLEM_CHECK, PAYLOAD_SHOW_ANSWER, PAYLOAD_STRINGS, PAYLOAD_TRANSCRIPT_DOWNLOAD,
  PAYLOAD_TRANSCRIPT_LANGUAGE, PROBLEM_STATE, loadAddon, type FastscanAddon, scanChunkNative, STRIDE, TIME_VALUE, tableSize, tableString, type ChunkScan,
} from '../events/nativeScan.ts';
import { preprocessLine, processLine, type LineOutcome } from '../events/line.ts';
import { groupRows, rewriteAndScanChunkNative, rewriteChunkNative, ROW_RECORD, RR_COURSE, RR_LINE_END, RR_LINE_START, RR_ROW_END, RR_ROW_START, RR_SOURCE, type ChunkRewrite, type RowGroup } from '../events/nativeRewrite.ts';
import { MICROS_PER_DAY, parseTimeMicros } from '../events/time.ts';
import { asBuffer, forEachLine, MAX_LINE_BYTES } from './lines.ts';
import { utf8Write } from '../bufferText.ts';
import { copyInto } from '../bufferCopy.ts';

/** One rejected input line: its position in the chunk, why, and its raw text. */
export interface ChunkReject {
  line: number;
  reason: string;
  raw: string;
  /** The raw bytes, base64, when they are not valid UTF-8 (so nothing is lost). */
  rawBase64?: string;
}

/**
 * What a worker returns for a chunk: per-course rewritten lines as one byte buffer (course i's
 * bytes are data[offsets[i] .. offsets[i+1]]), per-course counts and the rejects. Never event
 * objects: only bytes, numbers and a few strings cross the thread boundary.
 */
export interface SplitChunkResult {
  lines: number;
  /** Slash-form course ids; '' is the unknown-course bucket. */
  courses: string[];
  counts: number[];
  offsets: number[];
  data: Uint8Array;
  rejects: ChunkReject[];
  /**
   * With facts: data[factsStart ..] holds the chunk's per-course fact batches as facts-file
   * records, and factDays the days each course's batch covers (the unknown bucket has none).
   */
  factsStart?: number;
  factDays?: Array<[string, number[]]>;
}

/**
 * A split result as it crosses to the main thread (workers/log-worker.ts): `data` moved with it,
 * or null when it lies in the task's result ring buffer, its first `resultBytes` bytes.
 */
export type SplitWireResult = Omit<SplitChunkResult, 'data'> & { data: Uint8Array | null; resultBytes: number };

/** An aggregate result as it crosses to the main thread: its facts as a SplitWireResult's `data`. */
export type AggregateWireResult = Omit<AggregateChunkResult, 'facts'> & { data: Uint8Array | null; resultBytes: number };

/**
 * Lines no step can read — longer than MAX_LINE_BYTES, or not UTF-8 — become rejects with their
 * bytes kept (base64). True when the line was rejected.
 */
function rejectUnreadable(buf: Buffer, start: number, end: number, index: number, checkUtf8: boolean, rejects: ChunkReject[]): boolean {
  let reason: string | null = null;
  if (end - start > MAX_LINE_BYTES) reason = `line longer than ${MAX_LINE_BYTES / 1024 / 1024} MB`;
  else if (checkUtf8 && !isUtf8(buf.subarray(start, end))) reason = 'invalid UTF-8';
  if (reason === null) return false;
  rejects.push({ line: index, reason, raw: buf.toString('utf8', start, end), rawBase64: buf.toString('base64', start, end) });
  return true;
}

/** A growable byte buffer for one course's output lines. */
class LineSink {
  buf: Buffer;
  len = 0;
  count = 0;
  constructor(initial: number) {
    this.buf = Buffer.allocUnsafeSlow(initial);
  }
  push(line: string): void {
    // a UTF-16 code unit never takes more than 3 UTF-8 bytes
    const need = this.len + line.length * 3 + 1;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.len += utf8Write(this.buf, line, this.len);
    this.buf[this.len++] = 10;
    this.count++;
  }
}

/** A result buffer of at least `bytes` bytes: by default its own, which can be transferred. */
export type ResultBuffer = (bytes: number) => Buffer;
const ownBuffer: ResultBuffer = (bytes) => Buffer.allocUnsafeSlow(bytes);

/** Rewrites every line of a chunk and groups the output by course, in input order. */
export function splitChunk(chunk: Uint8Array, collectFacts = false, resultBuffer: ResultBuffer = ownBuffer): SplitChunkResult {
  const buf = asBuffer(chunk);
  const allUtf8 = isUtf8(buf);
  const facts = collectFacts ? new FactsByCourse() : null;
  // with facts, the native scanner's facts of plain lines (the same as the rewritten row's,
  // tested in test/personDay-generated.test.ts) cost less than reading them from the row; the
  // native rewrite makes them in the same pass, and builds the facts of the lines it rewrote
  // (only of a UTF-8 chunk: a line that is not UTF-8 is a reject, which the native code does not know)
  let rewritten: ChunkRewrite | null;
  let scan: ChunkScan | null;
  if (facts !== null) {
    const both = rewriteAndScanChunkNative(buf, allUtf8);
    rewritten = both?.rewrite ?? null;
    scan = both !== null ? both.scan : scanChunkNative(buf);
  } else {
    rewritten = rewriteChunkNative(buf);
    scan = null;
  }
  const native = scan !== null ? new NativeFacts(scan, buf, facts!) : null;
  return rewritten !== null ? splitRewritten(buf, !allUtf8, rewritten, facts, native, resultBuffer) : splitInJs(buf, !allUtf8, facts, native, resultBuffer);
}

/**
 * The rows of a chunk and its facts encoded into one result (the facts after the rows): `fill`
 * writes the rows into a buffer of at least `maxRowBytes` and returns how many it wrote.
 */
function chunkResult(lines: number, courses: string[], counts: number[], offsets: number[], maxRowBytes: number, rejects: ChunkReject[],
  facts: FactsByCourse | null, native: NativeFacts | null, resultBuffer: ResultBuffer, fill: (data: Buffer) => number): SplitChunkResult {
  // the facts ride in the same buffer, after the logs: one buffer moves to the main thread
  const encoded = facts ? encodeFacts(facts.build()) : null;
  const built = native?.built() ?? null;
  const nativeBytes = built?.bytes.length ?? 0;
  const factBytes = nativeBytes + (encoded?.bytes.length ?? 0);
  const whole = resultBuffer(maxRowBytes + factBytes);
  const rowBytes = fill(whole);
  const data = rowBytes + factBytes < whole.length ? whole.subarray(0, rowBytes + factBytes) : whole;
  if (built) copyInto(data, rowBytes, built.bytes);
  if (encoded) copyInto(data, rowBytes + nativeBytes, encoded.bytes);
  return { lines, courses, counts, offsets, data, rejects, ...(encoded ? { factsStart: rowBytes, factDays: factDaysOf(encoded.days, built) } : {}) };
}

/** Per course, the days of its JavaScript batch and of its native one (each course once, ascending, in course order). */
function factDaysOf(js: Array<[string, number[]]>, built: NativeChunkFacts | null): Array<[string, number[]]> {
  if (built === null || built.courses.length === 0) return js;
  const byCourse = new Map<string, Set<number>>();
  for (const [course, days] of js) byCourse.set(course, new Set(days));
  for (const c of built.courses) {
    const days = byCourse.get(c.course);
    if (days === undefined) byCourse.set(c.course, new Set(c.days));
    else for (const d of c.days) days.add(d);
  }
  return [...byCourse.keys()].sort().map((course) => [course, [...byCourse.get(course)!].sort((a, b) => a - b)]);
}

/**
 * splitChunk over a chunk the native code rewrote (native/rewrite.cc): only the lines it left
 * take the JavaScript path, and the native code groups all rows by course.
 */
function splitRewritten(buf: Buffer, checkUtf8PerLine: boolean, rw: ChunkRewrite, facts: FactsByCourse | null, native: NativeFacts | null, resultBuffer: ResultBuffer): SplitChunkResult {
  const rec = rw.records;
  const rejects: ChunkReject[] = [];
  const courses = rw.courses.slice();
  let courseIndex: Map<string, number> | null = null;
  const extra = new LineSink(4096);
  for (let k = 0; k < rw.lines; k++) {
    const r = k * ROW_RECORD;
    const c = rec[r + RR_COURSE]!;
    const rewritten = rec[r + RR_SOURCE] === 0;
    // a rewritten row whose facts (if any are wanted) the native scan has: nothing to do here
    const factsDone = facts === null || c < 0 || (native !== null && native.covers(k * STRIDE));
    if (rewritten && !checkUtf8PerLine && factsDone) {
      if (facts !== null && c >= 0) native!.add(k * STRIDE);
      continue;
    }
    const start = rec[r + RR_LINE_START]!;
    const end = rec[r + RR_LINE_END]!;
    if (rejectUnreadable(buf, start, end, k, checkUtf8PerLine, rejects)) {
      rec[r + RR_SOURCE] = -1;
      continue;
    }
    if (rewritten && factsDone) {
      if (facts !== null && c >= 0) native!.add(k * STRIDE);
      continue;
    }
    const raw = buf.toString('utf8', start, end);
    // a line that ends in the rejects never keeps a native row as well (the two paths agree that
    // no line takes both; this holds it even if they did not)
    rec[r + RR_SOURCE] = -1;
    try {
      const out = processLine(raw);
      if (!out.ok) {
        rejects.push({ line: k, reason: out.reason, raw });
        continue;
      }
      const key = out.courseId ?? '';
      if (facts !== null && key !== '') addRowFacts(facts.get(key), out);
      if (rewritten) {
        rec[r + RR_SOURCE] = 0; // the native row is this row (only the facts were wanted)
        continue;
      }
      const a = extra.len;
      extra.push(JSON.stringify(out.row));
      rec[r + RR_ROW_START] = a;
      rec[r + RR_ROW_END] = extra.len;
      rec[r + RR_SOURCE] = 1;
      if (key === '') {
        rec[r + RR_COURSE] = -1;
      } else {
        courseIndex ??= new Map(courses.map((id, i) => [id, i]));
        let i = courseIndex.get(key);
        if (i === undefined) {
          i = courses.length;
          courses.push(key);
          courseIndex.set(key, i);
        }
        rec[r + RR_COURSE] = i;
      }
    } catch (e) {
      // a bug must not lose the line: it becomes a reject that says so
      rejects.push({ line: k, reason: `internal error: ${(e as Error).message}`, raw });
    }
  }
  // the groups: each course, and '' (no course), in the order of their first rows
  const groups = courses.length + 1;
  let grouped: RowGroup[] = [];
  // (rows of lines found unreadable afterwards are left out: the rows can take less than that)
  const result = chunkResult(rw.lines, [], [], [0], rw.rowBytes + extra.len, rejects, facts, native, resultBuffer, (data) => {
    grouped = groupRows(rw, extra.buf, groups, data);
    return grouped.length > 0 ? grouped[grouped.length - 1]!.end : 0;
  });
  for (const g of grouped) {
    result.courses.push(g.group < courses.length ? courses[g.group]! : '');
    result.counts.push(g.count);
    result.offsets.push(g.end);
  }
  return result;
}

/** splitChunk in JavaScript alone (the addon is not built, or is switched off). */
function splitInJs(buf: Buffer, checkUtf8PerLine: boolean, facts: FactsByCourse | null, native: NativeFacts | null, resultBuffer: ResultBuffer): SplitChunkResult {
  const byCourse = new Map<string, LineSink>();
  const rejects: ChunkReject[] = [];
  const initial = 64 * 1024;
  const lines = forEachLine(buf, (start, end, index) => {
    if (rejectUnreadable(buf, start, end, index, checkUtf8PerLine, rejects)) return;
    const raw = buf.toString('utf8', start, end);
    let text: string;
    let key: string;
    try {
      const out = processLine(raw);
      if (!out.ok) {
        rejects.push({ line: index, reason: out.reason, raw });
        return;
      }
      text = JSON.stringify(out.row);
      key = out.courseId ?? '';
      if (facts !== null && key !== '') {
        if (native !== null && native.covers(index * STRIDE)) native.add(index * STRIDE);
        else addRowFacts(facts.get(key), out);
      }
    } catch (e) {
      // a bug must not lose the line: it becomes a reject that says so
      rejects.push({ line: index, reason: `internal error: ${(e as Error).message}`, raw });
      return;
    }
    let sink = byCourse.get(key);
    if (sink === undefined) byCourse.set(key, (sink = new LineSink(initial)));
    sink.push(text);
  });
  const courses: string[] = [];
  const counts: number[] = [];
  const offsets = [0];
  let total = 0;
  for (const [course, sink] of byCourse) {
    courses.push(course);
    counts.push(sink.count);
    total += sink.len;
    offsets.push(total);
  }
  return chunkResult(lines, courses, counts, offsets, total, rejects, facts, native, resultBuffer, (data) => {
    let i = 0;
    for (const sink of byCourse.values()) copyInto(data, offsets[i++]!, sink.buf.subarray(0, sink.len));
    return total;
  });
}

function addRowFacts(b: FactsBuilder, out: Extract<LineOutcome, { ok: true }>): void {
  const core = coreOfRow(out.row);
  const kind = eventKind(core.eventType, core.eventSource);
  addEventFacts(b, core, out.timeMicros, kind, kind !== 0 ? out.row : null);
}

/** What the aggregate-only task returns: counts, rejects and facts; no log bytes. */
export interface AggregateChunkResult {
  lines: number;
  courses: string[];
  counts: number[];
  rejects: ChunkReject[];
  /** The chunk's per-course fact batches as facts-file records (see SplitChunkResult). */
  facts: Uint8Array;
  factDays: Array<[string, number[]]>;
  /** Lines that took the full parse + rewrite (rare events, or lines the scanner could not vouch for). */
  slowLines: number;
  /** Lines whose facts the native code computed (native/fastscan.cc lineFacts). */
  nativeLines: number;
}

/**
 * `--no-split`: the facts of every line without writing logs. Lines whose facts need only the
 * core fields are read by the validating scanner (src/events/fastCore.ts) without building the
 * event; everything else — events the compact tables read, and any line the scanner cannot
 * vouch for — takes exactly the path of `splitChunk`, so both give the same facts and rejects.
 */
export function aggregateChunk(chunk: Uint8Array, resultBuffer: ResultBuffer = ownBuffer): AggregateChunkResult {
  const buf = asBuffer(chunk);
  const checkUtf8PerLine = !isUtf8(buf);
  // the builders count their course's events too: one lookup per line, not a second map
  const facts = new FactsByCourse();
  const rejects: ChunkReject[] = [];
  let slowLines = 0;
  let nativeLines = 0;
  // the native scanner reads every line of the chunk in one call, when it is built, and builds
  // the facts of the lines it can (of a UTF-8 chunk: see splitChunk)
  const scan = scanChunkNative(buf, !checkUtf8PerLine);
  const eachLine = (start: number, end: number, index: number): void => {
    if (rejectUnreadable(buf, start, end, index, checkUtf8PerLine, rejects)) return;
    let raw: string | null = null;
    try {
      // the scanner on the line's bytes: most lines are never decoded to a string at all
      const fast = fastFields(scan !== null ? lazyCoreAt(scan, index, buf) : scanCoreBytes(buf, start, end), facts);
      if (fast === FAST_DONE) return;
      raw = buf.toString('utf8', start, end);
      // the scanner could not read the bytes as they are (a syslog prefix, odd whitespace, …);
      // after the native scanner, whose refusals are rarer, the full path reads such lines
      // (it gives the same facts, and the JavaScript scanner is then never hot enough to be
      // worth V8's optimising compiler in every worker)
      if (fast === FAST_UNSCANNED && scan === null && fastLine(raw, facts)) return;
      slowLines++;
      const out = processLine(raw);
      if (!out.ok) {
        rejects.push({ line: index, reason: out.reason, raw });
        return;
      }
      if (out.courseId === null) facts.unknownEvents++;
      else addRowFacts(facts.counted(out.courseId), out);
    } catch (e) {
      rejects.push({ line: index, reason: `internal error: ${(e as Error).message}`, raw: raw ?? buf.toString('utf8', start, end) });
    }
  };
  let lines: number;
  let native: NativeFacts | null = null;
  if (scan !== null) {
    native = new NativeFacts(scan, buf, facts);
    const rec = scan.records;
    for (let i = 0; i < scan.lines; i++) {
      const r = i * STRIDE;
      const start = rec[r]!;
      const end = rec[r + 1]!;
      if (rec[r + FACTS_STATE]! >= 1) {
        // the native code computed this line's facts; only the unreadable-line check is left
        if (!rejectUnreadable(buf, start, end, i, checkUtf8PerLine, rejects)) {
          native.add(r);
          nativeLines++;
        }
      } else {
        eachLine(start, end, i);
      }
    }
    lines = scan.lines;
  } else {
    lines = forEachLine(buf, eachLine);
  }
  const built = native?.built() ?? null;
  const perCourse = new Map<string, number>();
  for (const [course, b] of facts.byCourse) perCourse.set(course, b.eventCount);
  for (const c of built?.courses ?? []) perCourse.set(c.course, (perCourse.get(c.course) ?? 0) + c.events);
  const courses = [...perCourse.keys()];
  const counts = [...perCourse.values()];
  if (facts.unknownEvents > 0) {
    courses.push('');
    counts.push(facts.unknownEvents);
  }
  const encoded = encodeFacts(facts.build());
  const nativeBytes = built?.bytes.length ?? 0;
  const bytes = resultBuffer(nativeBytes + encoded.bytes.length).subarray(0, nativeBytes + encoded.bytes.length);
  if (built !== null) copyInto(bytes, 0, built.bytes);
  copyInto(bytes, nativeBytes, encoded.bytes);
  return { lines, courses, counts, rejects, facts: bytes, factDays: factDaysOf(encoded.days, built), slowLines, nativeLines };
}

let internedBy = new Int32Array(0);
let internedAs = new Int32Array(0);

/**
 * The facts the native code computed for plain lines (native/fastscan.cc lineFacts), added to the
 * course builders exactly as `addEventFacts` adds them, in line order: the strings are the
 * chunk's string table, each made and interned once per course.
 */
class NativeFacts {
  private readonly scan: ChunkScan;
  private readonly buf: Buffer;
  private readonly facts: FactsByCourse;
  /** Per string-table index: the string, once made. */
  private readonly strings: Array<string | undefined> = [];
  /** Per course's string-table index: its builder and its number in this chunk. */
  private readonly courses: Array<{ b: FactsBuilder; id: number } | undefined> = [];
  private courseCount = 0;

  constructor(scan: ChunkScan, buf: Buffer, facts: FactsByCourse) {
    this.scan = scan;
    this.buf = buf;
    this.facts = facts;
    // per string-table index: the course that last interned it, and its index there (a string
    // is nearly always used by one course of a chunk); reused across chunks, so no allocation
    const n = tableSize(scan);
    if (internedBy.length < n) {
      internedBy = new Int32Array(Math.max(n, 2 * internedBy.length));
      internedAs = new Int32Array(internedBy.length);
    }
    internedBy.fill(-1, 0, n);
  }

  private string(k: number): string {
    return (this.strings[k] ??= tableString(this.scan, k, this.buf));
  }

  /** The string whose table index is in record slot `i` (-1: null). */
  private text(i: number): string | null {
    const k = this.scan.records[i]!;
    return k < 0 ? null : this.string(k);
  }

  /** The float64 at `values[i]` (NaN: null). */
  private number(i: number): number | null {
    const v = this.scan.values[i]!;
    return Number.isNaN(v) ? null : v;
  }

  private course(k: number): { b: FactsBuilder; id: number } {
    let c = this.courses[k];
    if (c === undefined) {
      // a raw context.course_id, or the slash id guessed from page or event_type (which
      // slashCourseId leaves as it is: it holds a '/'), as resolveCourseId gives them
      c = { b: this.facts.get(slashCourseId(this.string(k))), id: this.courseCount++ };
      this.courses[k] = c;
    }
    return c;
  }

  /** String `k`'s index in course `c`'s builder (interned there on first use). */
  private intern(c: { b: FactsBuilder; id: number }, k: number): number {
    if (internedBy[k] === c.id) return internedAs[k]!;
    const i = c.b.intern(this.string(k));
    internedBy[k] = c.id;
    internedAs[k] = i;
    return i;
  }

  /** Whether the native code computed the facts of the line whose record starts at `r`, and it has a course. */
  covers(r: number): boolean {
    const rec = this.scan.records;
    return rec[r + FACTS_STATE]! >= 1 && rec[r + FACTS_COURSE]! >= 0;
  }

  /** The facts the native code built of the lines of FACTS_STATE 2 (taken once, after the last `add`). */
  built(): NativeChunkFacts | null {
    if (!this.scan.factsBuilt) return null;
    return (this.taken ??= takeNativeFacts());
  }
  private taken: NativeChunkFacts | undefined;

  /** The facts of the line whose record starts at `r`: addEventFacts's steps, in its order. */
  add(r: number): void {
    const rec = this.scan.records;
    const values = this.scan.values;
    const k = rec[r + FACTS_COURSE]!;
    if (k < 0) {
      // an event of no course: only counted
      this.facts.unknownEvents++;
      return;
    }
    if (rec[r + FACTS_STATE] === 2) return; // built in native code, all of it (native/chunkFacts.cc)
    const timeUs = values[(r + TIME_VALUE) / 2]!;
    const day = Math.floor(timeUs / MICROS_PER_DAY);
    const c = this.course(k);
    const b = c.b;
    b.eventCount++;
    b.addDay(day);
    let user = -1;
    if (rec[r + FACTS_NAMED] === 1) {
      user = this.intern(c, rec[r + FACTS_USER]!);
      const ip = rec[r + FACTS_IP]!;
      b.addIp(user, ip < 0 ? NULL_STRING : this.intern(c, ip), day);
      const flags = rec[r + FACTS_FLAGS]!;
      if (flags >= 0) b.addBase(user, timeUs, flags);
    }
    const videoType = rec[r + FACTS_VIDEO_TYPE]!;
    if (videoType >= 0) {
      const u = rec[r + FACTS_USER]!;
      const video = rec[r + FACTS_VIDEO_ID]!;
      b.addVideo(
        user >= 0 ? user : u < 0 ? NULL_STRING : this.intern(c, u),
        video < 0 ? NULL_STRING : this.intern(c, video),
        timeUs, videoType, values[(r + FACTS_POSITION) / 2]!, values[(r + FACTS_SPEED) / 2]!,
      );
    }
    const payload = rec[r + PROBLEM_STATE]!;
    if (payload >= PAYLOAD_PROBLEM_CHECK) this.addPayloadRow(r, b, payload, timeUs);
  }

  /** The compact-table row the native code computed (eventRows.ts problemCheckRow, showAnswerRow, transcriptRow, enrollmentRow, forumRow). */
  private addPayloadRow(r: number, b: FactsBuilder, payload: number, timeUs: number): void {
    // the row's string and number slots (see PAYLOAD_STRINGS, PAYLOAD_NUMBERS)
    const t = r + PAYLOAD_STRINGS;
    const n = (r + PAYLOAD_NUMBERS) / 2;
    const username = this.text(r + FACTS_USER);
    switch (payload) {
      case PAYLOAD_PROBLEM_CHECK:
        b.problemCheck.push({
          username, timeUs, module_id: this.text(t), student_answers: this.text(t + 1), attempts: this.number(n), success: this.text(t + 2), grade: this.number(n + 1),
          max_grade: this.number(n + 2),
        });
        break;
      case PAYLOAD_SHOW_ANSWER:
        b.showAnswer.push({ username, timeUs, module_id: this.text(t) });
        break;
      case PAYLOAD_TRANSCRIPT_DOWNLOAD:
        b.transcript.push({ username, timeUs, type: 'transcript_download', language: null });
        break;
      case PAYLOAD_TRANSCRIPT_LANGUAGE:
        b.transcript.push({ username, timeUs, type: 'transcript_language', language: this.text(t) });
        break;
      case PAYLOAD_ENROLLMENT: {
        const type = this.text(t + 1)!;
        b.enrollment.push({
          username, timeUs, user_id: this.number(n), mode: this.text(t), activated: type === 'edx.course.enrollment.activated',
          deactivated: type === 'edx.course.enrollment.deactivated', mode_changed: type === 'edx.course.enrollment.mode_changed',
          upgraded: type === 'edx.course.enrollment.upgrade.succeeded', event_type: type,
        });
        break;
      }
      case PAYLOAD_FORUM:
        b.forum.push({
          username, timeUs, forum_action: this.text(t)!, thread_id: this.text(t + 1), subject: this.text(t + 2), target_user_id: this.text(t + 3),
          search_query: this.text(t + 4), event_GET: this.text(t + 5),
        });
        break;
    }
  }
}

/** The scanner path on a line's text; false when the line must take the full path. */
function fastLine(raw: string, facts: FactsByCourse): boolean {
  const s = preprocessLine(raw);
  if (s.charCodeAt(0) !== 123) return false;
  return fastFields(scanCore(s), facts) === FAST_DONE;
}

const FAST_DONE = 0;
/** Scanned, but the line needs the full path (an odd time, an event the compact tables read). */
const FAST_FULL = 1;
/** The scanner could not vouch for the line. */
const FAST_UNSCANNED = 2;

/** The facts of a scanned line, when its core fields are enough. */
function fastFields(f: CoreFields | null, facts: FactsByCourse): number {
  if (f === null) return FAST_UNSCANNED;
  // a time that is not a string, or that does not parse, takes the full path (which rejects it)
  const timeUs = f.timeUs ?? (typeof f.time === 'string' ? parseTimeMicros(f.time) : NaN);
  if (Number.isNaN(timeUs)) return FAST_FULL;
  const kind = eventKind(f.event_type, f.event_source);
  const course = courseOfScanned(f);
  let row: JsonObject | null = null;
  if (kind !== 0 && course !== null) {
    // an event the compact tables read: its row from the scanned fields, when its shape is plain
    row = payloadRow(kind, f);
    if (row === null) return FAST_FULL;
  }
  if (course === null) facts.unknownEvents++;
  else addEventFacts(facts.counted(course), { username: f.username, eventType: f.event_type, eventSource: f.event_source, ip: f.ip }, timeUs, kind, row);
  return FAST_DONE;
}

// The last context.course_id seen and its slash form (lines of a chunk mostly share a few courses).
let lastContextCourse: string | null = null;
let lastCourse = '';

/**
 * `resolveCourseId` of a scanned line; its most common case — no top-level course_id, a
 * non-empty context.course_id — remembers the last conversion, and builds no event object.
 */
function courseOfScanned(f: CoreFields): string | null {
  const top = f.course_id;
  const cid = f.context_course_id;
  if ((top === undefined || top === null || top === '') && typeof cid === 'string' && cid !== '') {
    if (cid !== lastContextCourse) {
      lastContextCourse = cid;
      lastCourse = slashCourseId(cid);
    }
    return lastCourse;
  }
  return resolveCourseId({
    course_id: top, event_source: f.event_source, page: f.page, event_type: f.event_type,
    ...(cid !== undefined ? { context: { course_id: cid } } : {}),
  } as never).courseId;
}

/**
 * Forum events (~5% of lines, each a large server event whose full rewrite costs ~11 µs):
 * `forumRow` reads event_type, username, module_id and event_struct's GET and query. For an
 * event whose `event` is an object (server events), that has no `_id` or `module_id` of its
 * own, a `context` that is absent or an object whose `path` is a string or null, and a type
 * that does not get the full event_struct (R6), the rewrite gives exactly:
 * - module_id (R2): `extractModuleId` of the event, and that reads only event, event_type,
 *   event_source, page, context.path and _id — given here with the line's own values;
 * - event_struct (R6; R13, R14, R16, R17 and R19 leave these three STRING fields as they are):
 *   GET and POST as the JSON text of the event's, query as the event's (a string or null here;
 *   any other query takes the full path).
 * test/personDay-generated.test.ts compares these facts with the full path's on every generated
 * and fixture line, and on hand-made forum events of every shape.
 */
export function forumPayloadRow(f: CoreFields): JsonObject | null {
  const eventType = f.event_type;
  const text = f.event_text;
  if (typeof eventType !== 'string' || isFullStructType(eventType) || text === undefined || text.charCodeAt(0) !== 123 /* { */) return null;
  const m = plainModuleIdInputs(f);
  if (m === null) return null;
  // the native scanner gives just the members read here and by module_id; else the payload is
  // parsed (the scanner has validated it: an object)
  const decoded = f.forumPayload ?? (JSON.parse(text) as JsonObject);
  const query = decoded.query;
  if (query !== undefined && query !== null && typeof query !== 'string') return null;
  const row: JsonObject = {
    event_type: eventType,
    username: f.username ?? null,
    event: text,
    event_struct: { GET: JSON.stringify(decoded.GET) ?? 'null', POST: JSON.stringify(decoded.POST) ?? 'null', query: query ?? null },
  };
  setModuleId(row, f, m, decoded);
  return row;
}

/**
 * Transcript candidates (§9.4; 1.7% of the benchmark day's lines): `transcriptRow` reads the
 * event type, and for `edx.ui.lms.link_clicked` the payload's target_url, which it finds in the
 * `event` text (these types never get the full event_struct, and the short one R6 gives holds
 * only GET, POST and query): so the row is the type and the text the rewrite gives `event`.
 */
export function transcriptPayloadRow(f: CoreFields): JsonObject {
  const row: JsonObject = { event_type: f.event_type ?? null };
  if (f.event_type === LINK_CLICKED) row.event = rewrittenEventText(f.event_text === undefined ? undefined : (JSON.parse(f.event_text) as Json)); // validated by the scanner
  return row;
}
const LINK_CLICKED = 'edx.ui.lms.link_clicked';

/**
 * The row `addEventFacts` needs for an event of `kind` (eventKind), built from the scanned
 * fields; null when this line must take the full path (enrollment events, combined kinds, and
 * any shape these builders do not vouch for).
 */
function payloadRow(kind: number, f: CoreFields): JsonObject | null {
  switch (kind) {
    case EVENT_KIND.video: {
      const payload = f.videoPayload;
      return payload !== undefined ? { event_type: f.event_type ?? null, event: '', event_struct: payload } : videoPayloadRow(f.event_type, f.event_text);
    }
    case EVENT_KIND.transcript:
      return transcriptPayloadRow(f);
    case EVENT_KIND.forum:
      return forumPayloadRow(f);
    case EVENT_KIND.problemCheck:
      return problemCheckPayloadRow(f);
    case EVENT_KIND.showAnswer:
      return showAnswerPayloadRow(f);
    default:
      return null;
  }
}

/**
 * What R2 reads on this line besides the core fields, when that is only values the scanner gave
 * (no `_id` or `module_id` of its own, a plain context.path); else null.
 */
function plainModuleIdInputs(f: CoreFields): ModuleIdInputs | null {
  const m = f.moduleIdInputs;
  return m !== undefined && !m.hasId && !m.hasModuleId && m.context !== 'other' && m.path !== OTHER_TYPE ? m : null;
}

/**
 * R2 on a scanned line (`m` from plainModuleIdInputs): `extractModuleId` reads event, event_type,
 * event_source, page, context.path and _id, so it is given exactly the line's values of those.
 * `event` is the decoded `event` value (undefined when the line has none).
 */
function setModuleId(row: JsonObject, f: CoreFields, m: ModuleIdInputs, event: Json | undefined): void {
  const raw: JsonObject = {};
  if (event !== undefined) raw.event = event;
  if (f.event_type !== undefined) raw.event_type = f.event_type;
  if (f.event_source !== undefined) raw.event_source = f.event_source;
  if (f.page !== undefined) raw.page = f.page;
  if (m.context === 'object') raw.context = m.path === undefined ? {} : { path: m.path as string | null };
  const id = extractModuleId(raw).id;
  if (typeof id === 'string' && id !== '') row.module_id = id;
}

/**
 * show_answer events: `showAnswerRow` reads event_type and module_id only.
 */
export function showAnswerPayloadRow(f: CoreFields): JsonObject | null {
  const m = plainModuleIdInputs(f);
  if (m === null) return null;
  const text = f.event_text;
  const row: JsonObject = { event_type: f.event_type ?? null };
  setModuleId(row, f, m, text === undefined ? undefined : (JSON.parse(text) as Json)); // validated by the scanner
  return row;
}

/**
 * Server problem_check events (3.5% of lines, large): `problemCheckRow` reads event_source,
 * module_id and event_struct's answers, attempts, success, grade and max_grade. The type gets
 * the full event_struct (R6: the decoded object). When `event` is an object none of whose keys
 * R17 touches (a funny key turns the whole struct into text; a renamed one could take a read
 * name), and the read fields already have the types R19 keeps as they are (attempts a safe
 * integer, success a string, the grades finite numbers; each may also be null or absent), the
 * rewrite leaves them unchanged except answers, which R10 makes JSON text. Anything else takes
 * the full path.
 */
export function problemCheckPayloadRow(f: CoreFields): JsonObject | null {
  const text = f.event_text;
  if (text === undefined || text.charCodeAt(0) !== 123 /* { */) return null;
  const m = plainModuleIdInputs(f);
  if (m === null) return null;
  // the native scanner gives just the members read here and by module_id, having checked that
  // R17 touches none of the payload's keys; else the payload is parsed (validated: an object)
  const decoded = f.problemCheckPayload ?? (JSON.parse(text) as JsonObject);
  for (const k in decoded) if (keyTouchedByR17(k)) return null;
  const { answers, attempts, success, grade, max_grade: maxGrade } = decoded;
  if (attempts !== undefined && attempts !== null && !Number.isSafeInteger(attempts)) return null;
  if (success !== undefined && success !== null && typeof success !== 'string') return null;
  for (const g of [grade, maxGrade]) if (g !== undefined && g !== null && !(typeof g === 'number' && Number.isFinite(g))) return null;
  const es: JsonObject = {};
  if (answers !== undefined) es.answers = JSON.stringify(answers);
  if (attempts !== undefined) es.attempts = attempts;
  if (success !== undefined) es.success = success;
  if (grade !== undefined) es.grade = grade;
  if (maxGrade !== undefined) es.max_grade = maxGrade;
  const row: JsonObject = { event_type: f.event_type ?? null, event_source: f.event_source ?? null, event: text, event_struct: es };
  setModuleId(row, f, m, decoded); // module_id reads only id, problem_id, new and POST of an object event
  return row;
}

/**
 * Video events are a quarter of all lines; the video facts read only `id`, `currentTime`,
 * `new_time` and `speed` of the decoded payload. When those are plain (a string id, numeric
 * times), the rewrite would leave them as they are, so a row holding just the decoded payload as
 * its event_struct gives `videoRecord` the same answer as the rewritten row, at a third of the
 * cost. Anything else (odd types, a payload that is not an object) takes the full path.
 */
const PLAIN_DECIMAL = /^-?\d{1,15}(\.\d{1,15})?$/;

export function videoPayloadRow(eventType: string | null | undefined, eventText: string | undefined): JsonObject | null {
  if (eventText === undefined) return null;
  let payload: unknown = JSON.parse(eventText); // the scanner has validated it
  if (typeof payload === 'string') {
    try {
      payload = JSON.parse(payload);
    } catch {
      return null;
    }
  }
  if (!isObject(payload)) return null;
  const id = payload.id;
  if (id !== undefined && id !== null && typeof id !== 'string') return null;
  for (const k of ['currentTime', 'new_time', 'speed']) {
    // browser events carry `"speed": "1.0"`: plain decimal text means the same number to the
    // rewrite (which coerces it) and to videoRecord (which reads it)
    const v = payload[k];
    if (v !== undefined && v !== null && typeof v !== 'number' && !(typeof v === 'string' && PLAIN_DECIMAL.test(v))) return null;
    // a -0 of an object payload stays -0 in the full struct of play/seek, but pause/stop read it
    // back from the rewritten `event` text, where JSON.stringify made it 0: the full path decides
    if (Object.is(v, -0)) return null;
  }
  return { event_type: eventType ?? null, event: '', event_struct: payload };
}

/**
 * A batch of independent blocks to gzip: block i is data[offsets[i] .. offsets[i+1]]. The
 * worker wrapper (workers/log-worker.ts) takes `data` from a compress ring buffer when the task names one.
 */
export interface CompressTask {
  data: Uint8Array;
  offsets: number[];
  level: number;
}
export interface CompressResult {
  data: Uint8Array;
  offsets: number[];
}

/**
 * A compress result as it crosses to the main thread (workers/log-worker.ts): `data` moved with
 * it, or null when the members lie in the task's compress ring buffer, its first `resultBytes` bytes.
 */
export type CompressWireResult = Omit<CompressResult, 'data'> & { data: Uint8Array | null; resultBytes: number };

const NATIVE_GZIP_MAX_BYTES = 1 << 30;

/**
 * Gzips each block as its own member (header mtime 0, so the bytes depend only on the input and
 * the compressor): with libdeflate through the native addon when it is built (~1.27× zlib's
 * speed at level 1, and smaller), else with node:zlib. Both are valid gzip; their bytes differ.
 */
export function compressBlocks(task: CompressTask, resultBuffer: ResultBuffer = ownBuffer): CompressResult {
  const gzipMembers = loadAddon()?.gzipMembers;
  // (the native compressor's offsets are int32: a batch that large, from chunks of hundreds of
  // MB, takes node:zlib)
  if (gzipMembers !== undefined && task.data.length < NATIVE_GZIP_MAX_BYTES) return compressNative(task, gzipMembers, resultBuffer);
  const src = asBuffer(task.data);
  const members: Buffer[] = [];
  const offsets = [0];
  let total = 0;
  for (let i = 0; i + 1 < task.offsets.length; i++) {
    const m = gzipSync(src.subarray(task.offsets[i], task.offsets[i + 1]), { level: task.level, memLevel: 9 }); // memLevel 9: ~9% faster at level 1, same size
    members.push(m);
    total += m.length;
    offsets.push(total);
  }
  // (the members are made: `data` may be the block's own buffer)
  const data = resultBuffer(total);
  let off = 0;
  for (const m of members) {
    copyInto(data, off, m);
    off += m.length;
  }
  return { data, offsets };
}

/** This thread's room for compressed members, grown to the largest batch's bound. */
let gzipScratch = Buffer.allocUnsafeSlow(1 << 20);

function compressNative(task: CompressTask, gzipMembers: NonNullable<FastscanAddon['gzipMembers']>, resultBuffer: ResultBuffer): CompressResult {
  const offsets = Int32Array.from(task.offsets);
  const outOffsets = new Int32Array(offsets.length);
  let n = gzipMembers(task.data, offsets, task.level, gzipScratch, outOffsets);
  if (n < 0) {
    gzipScratch = Buffer.allocUnsafeSlow(Math.max(-n, 2 * gzipScratch.length));
    n = gzipMembers(task.data, offsets, task.level, gzipScratch, outOffsets);
  }
  // the members are made: `data` may be the block's own buffer
  const data = resultBuffer(n);
  copyInto(data, 0, gzipScratch.subarray(0, n));
  return { data, offsets: Array.from(outOffsets) };
}

/** The benchmark floor: decode and JSON.parse every line, nothing else. */
export function parseChunk(chunk: Uint8Array): { lines: number; objects: number } {
  const buf = asBuffer(chunk);
  let objects = 0;
  const lines = forEachLine(buf, (start, end) => {
    try {
      if (JSON.parse(buf.toString('utf8', start, end)) !== null) objects++;
    } catch {
      // counted as a non-object
    }
  });
  return { lines, objects };
}
