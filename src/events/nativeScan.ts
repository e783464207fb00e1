/**
 * The native form of the fast path's field scanner (native/fastscan.cc): one call scans every
 * line of a chunk, and `coreAt` turns a line's result into the same `CoreFields` that
 * `scanCoreBytes` (src/events/fastCore.ts) gives; `lazyCoreAt`, used by the pass, adds what only
 * the native scanner reads (the parsed time, video payload fields, module_id's other inputs).
 * It is optional: built by `npm ci` when a C++ compiler is there (scripts/build-native.mjs);
 * without it, or with EDX2BQ_NATIVE=0, `scanChunkNative` returns null and the caller scans in
 * JavaScript. The two are tested equal line for line (test/fastCore.test.ts).
 */
import { createRequire } from 'node:module';
import { OTHER_TYPE, plainInteger, type CoreFields, type ModuleIdInputs } from './fastCore.ts';
import type { Json, JsonObject } from './types.ts';
import { latin1, utf8 } from '../bufferText.ts';

export interface FastscanAddon {
  scanChunk(chunk: Uint8Array, out: Int32Array, side: Uint8Array, table: Int32Array, buildFacts?: boolean): number;
  /** native/rewrite.cc RewriteChunk (src/events/nativeRewrite.ts reads its result). */
  rewriteChunk?(chunk: Uint8Array, out: Int32Array, text: Uint8Array, scan?: Int32Array, side?: Uint8Array, table?: Int32Array, buildFacts?: boolean): number;
  /** native/chunkFacts.cc TakeFacts (takeNativeFacts reads its result). */
  takeFacts?(out: Uint8Array): number;
  /** native/gunzip.cc: a streaming gunzip into buffers the caller gives (src/logs/byteSources.ts). */
  gunzipNew?(): unknown;
  /** native/gunzip.cc CopyBytes: memmove between byte arrays (src/bufferCopy.ts). */
  copyBytes?(target: Uint8Array, targetStart: number, source: Uint8Array): void;
  /** native/gzipMembers.cc: split's output compressor (libdeflate). */
  gzipMembers?(src: Uint8Array, offsets: Int32Array, level: number, out: Uint8Array, outOffsets: Int32Array): number;
  gunzipIntoAsync?(handle: unknown, input: Uint8Array, out: Uint8Array): Promise<[number, number, number, string?]>;
  groupRows?(records: Int32Array, text: Uint8Array, extra: Uint8Array, groups: Int32Array, data: Uint8Array): number;
  stride: number;
  /** The strings a V_CONST value's index names (common event sources and types). */
  constants: string[];
}

// value kinds of the result records (native/fastscan.cc `Kind`)
const V_NULL = 1;
const V_ASCII = 2;
const V_UTF8 = 3;
const V_ESCAPED = 4;
const V_NUMBER = 5;
const V_TEXT = 6;
const V_OTHER = 7;
const V_CONST = 8;
/** Record layout: line start, line end, scanned, then kind/start/end of each field in this order. */
const F_TIME = 3;
const F_USERNAME = 6;
const F_EVENT_TYPE = 9;
const F_EVENT_SOURCE = 12;
const F_PAGE = 15;
const F_IP = 18;
const F_COURSE_ID = 21;
const F_CTX_COURSE = 24;
const F_CTX_USER = 27;
const F_EVENT = 30;
const F_CTX_PATH = 33;
/** 1 when the native code parsed the time (an ASCII string without escapes), then its value. */
const TIME_STATE = 36;
/** Int32 index of the time's microseconds, a float64 (records are 8-byte aligned). */
export const TIME_VALUE = 38;
/** 1 when the native code read a video event's payload; then the kind, span and value of each key. */
const VIDEO_STATE = 40;
const VIDEO_KINDS = 41;
const VIDEO_SPANS = 46;
const VIDEO_VALUES = 54;
const VIDEO_KEYS = ['id', 'currentTime', 'new_time', 'speed'] as const;
/** Whether the line has `_id` / `module_id` keys; `context` absent (0), an object (1) or not (2). */
const HAS_ID = 62;
const HAS_MODULE_ID = 63;
const CONTEXT_KIND = 64;
/**
 * 1 when the native code computed the line's facts itself (native/fastscan.cc lineFacts); 2 when
 * it also built them, compact-table row included, into the chunk's native batches
 * (native/chunkFacts.cc; see takeNativeFacts), so that JavaScript adds nothing for the line. Then
 * the course (the raw context.course_id, or the id guessed from page or event_type; -1: no course),
 * username and ip as string-table indices (-1: not a string), whether
 * the username is a non-empty string, the base-event flags (-1: not a base event), the video type
 * (-1: not a video event), the parsed video id, and position and speed (float64, NaN: none).
 */
export const FACTS_STATE = 66;
export const FACTS_COURSE = 67;
export const FACTS_USER = 68;
export const FACTS_NAMED = 69;
export const FACTS_IP = 70;
export const FACTS_FLAGS = 71;
export const FACTS_VIDEO_TYPE = 72;
export const FACTS_VIDEO_ID = 73;
export const FACTS_POSITION = 74;
export const FACTS_SPEED = 76;
/**
 * Server problem_check events: 1 when the native code read the payload's members that
 * chunkTasks.ts problemCheckPayloadRow and module_id read (no key R17 touches, none escaped);
 * then each one's value span in the chunk (-1: absent), in PROBLEM_KEYS order.
 */
export const PROBLEM_STATE = 78;
const PROBLEM_SPANS = 79;
/**
 * With FACTS_STATE 1, a PROBLEM_STATE of 3 or more says the native code also computed the row a
 * compact table gets from the line (native/fastscan.cc PayloadFacts): up to 6 strings at
 * PAYLOAD_STRINGS (string-table indices, -1: null) and up to 3 numbers at PAYLOAD_NUMBERS
 * (float64, NaN: null), in the order given for each state.
 */
/** module_id, student_answers, success; attempts, grade, max_grade (eventRows.ts problemCheckRow). */
export const PAYLOAD_PROBLEM_CHECK = 3;
/** module_id (showAnswerRow). */
export const PAYLOAD_SHOW_ANSWER = 4;
/** A transcript download (no value), or a language (transcriptRow). */
export const PAYLOAD_TRANSCRIPT_DOWNLOAD = 5;
export const PAYLOAD_TRANSCRIPT_LANGUAGE = 6;
/** forum_action, thread_id, subject, target_user_id, search_query, event_GET (forumRow). */
export const PAYLOAD_FORUM = 7;
/** mode, event_type; user_id (enrollmentRow; the flags come from event_type). */
export const PAYLOAD_ENROLLMENT = 8;
export const PAYLOAD_STRINGS = 79;
export const PAYLOAD_NUMBERS = 86;
const PROBLEM_KEYS = ['answers', 'attempts', 'success', 'grade', 'max_grade', 'id', 'problem_id', 'new', 'POST'] as const;
/** Forum events: PROBLEM_STATE 2, and the spans of these members (forumPayloadRow's and module_id's). */
const FORUM_KEYS = ['GET', 'POST', 'query', 'id', 'problem_id', 'new'] as const;
export const STRIDE = 98;
/** The string table's int32 per line it may need (9 strings of 4 int32 each). */
const TABLE_PER_LINE = 36;

let addon: FastscanAddon | null | undefined;
let constants: string[] = [];

/**
 * The addon, or null when it is not built or is switched off (EDX2BQ_NATIVE=0).
 * EDX2BQ_NATIVE_ADDON names another build of it (scripts/check-native-asan.sh runs the tests
 * with one built with AddressSanitizer).
 */
export function loadAddon(): FastscanAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.EDX2BQ_NATIVE === '0') return addon;
  try {
    const file = process.env.EDX2BQ_NATIVE_ADDON || '../../build/native/fastscan.node';
    const loaded = createRequire(import.meta.url)(file) as FastscanAddon;
    // a stale build with another record layout is not used
    if (loaded.stride === STRIDE && Array.isArray(loaded.constants)) {
      addon = loaded;
      constants = loaded.constants;
    }
  } catch {
    // not built: the JavaScript scanner is used
  }
  return addon;
}

let enabled = true;

/** Whether the native scanner is built, loadable and not switched off (EDX2BQ_NATIVE=0). */
export function nativeScanAvailable(): boolean {
  return loadAddon() !== null;
}

/** Turns the native scanner off or on again in this thread (tests compare the two paths). */
export function setNativeScanEnabled(on: boolean): void {
  enabled = on;
}

/** Whether the native scanner is switched on in this thread (it may still be unavailable). */
export function nativeScanEnabled(): boolean {
  return enabled;
}

let factsEnabled = process.env.EDX2BQ_NATIVE_FACTS !== '0';

/** Turns the native building of facts (native/chunkFacts.cc) off or on in this thread (tests compare both). */
export function setNativeFactsEnabled(on: boolean): void {
  factsEnabled = on;
}

/**
 * Whether a scan asked to build facts does (the addon has takeFacts and it is not switched off
 * by EDX2BQ_NATIVE_FACTS=0 or setNativeFactsEnabled).
 */
export function nativeFactsWanted(addon: FastscanAddon, buildFacts: boolean): boolean {
  return buildFacts && factsEnabled && addon.takeFacts !== undefined;
}

/** The scan of one chunk: a record of STRIDE int32 per line. */
export interface ChunkScan {
  records: Int32Array;
  /** The same memory as float64 values. */
  values: Float64Array;
  /** Strings the native code decoded (video payload fields); spans in the records point here. */
  side: Buffer;
  /** The chunk's string table: [count, then source (0 chunk, 1 side), start, end, ascii (1/0) per string]. */
  table: Int32Array;
  lines: number;
  /** Whether the scan also built the facts of its lines of FACTS_STATE 2 (takeNativeFacts gives them). */
  factsBuilt?: boolean;
}

let records = new Int32Array(2048 * STRIDE);
let values = new Float64Array(records.buffer);
let side = Buffer.allocUnsafeSlow(1 << 20);
let table = new Int32Array(1 + 2048 * TABLE_PER_LINE);

/**
 * Scans every line of `chunk` (lines cut as `forEachLine` cuts them); null when the addon is not
 * available. The records are reused by the next call. With `buildFacts` (allowed only for a chunk
 * that is UTF-8), the native code also builds the facts of the lines it can (see FACTS_STATE).
 */
export function scanChunkNative(chunk: Uint8Array, buildFacts = false): ChunkScan | null {
  const a = enabled ? loadAddon() : null;
  if (a === null) return null;
  const facts = nativeFactsWanted(a, buildFacts);
  const scan = scanWith(chunk, (out, sideBuffer, stringTable) => a.scanChunk(chunk, out, sideBuffer, stringTable, facts));
  scan.factsBuilt = facts;
  return scan;
}

/** One course's facts built in native code for a chunk. */
export interface NativeCourseFacts {
  course: string;
  /** The chunk's events of the course whose facts these are. */
  events: number;
  /** UTC days (since the epoch), ascending. */
  days: number[];
}

/** The facts the last scan with `factsBuilt` built: facts-file records (factsFile.ts), one per course. */
export interface NativeChunkFacts {
  /** Reused by the next call in this thread: copy what is kept. */
  bytes: Buffer;
  courses: NativeCourseFacts[];
}

let factsScratch = Buffer.allocUnsafeSlow(1 << 20);

/** The facts built by this thread's last scan made with `factsBuilt` (native/chunkFacts.cc). */
export function takeNativeFacts(): NativeChunkFacts {
  const take = loadAddon()!.takeFacts!;
  let n = take(factsScratch);
  if (n < 0) {
    factsScratch = Buffer.allocUnsafeSlow(Math.max(-n, 2 * factsScratch.length));
    n = take(factsScratch);
  }
  // the index after the records: [courses, then per course its record's offset, events, days count, days]
  const bytes = factsScratch.subarray(0, n);
  const courses: NativeCourseFacts[] = [];
  let at = n;
  const count = factsScratch.readInt32LE(at);
  at += 4;
  for (let c = 0; c < count; c++) {
    const record = factsScratch.readInt32LE(at);
    const events = factsScratch.readInt32LE(at + 4);
    const dayCount = factsScratch.readInt32LE(at + 8);
    at += 12;
    const days: number[] = [];
    for (let d = 0; d < dayCount; d++, at += 4) days.push(factsScratch.readInt32LE(at));
    const idLength = factsScratch.readUInt16LE(record + 4);
    courses.push({ course: utf8(factsScratch, record + 6, record + 6 + idLength), events, days });
  }
  return { bytes, courses };
}

/**
 * A scan of `chunk` made by `scan`, a native call that fills this thread's scan buffers as
 * scanChunk does (the native rewrite's fused scan is the other one): the records are reused by
 * the next call. `scan` returns minus the number of lines when the records are too small.
 */
export function scanWith(chunk: Uint8Array, scan: (out: Int32Array, side: Buffer, table: Int32Array) => number): ChunkScan {
  // the decoded strings are never longer than the chunk
  if (side.length < chunk.length) side = Buffer.allocUnsafeSlow(chunk.length);
  let n = scan(records, side, table);
  if (n < 0) {
    const lines = Math.max(-n, 2 * (records.length / STRIDE));
    records = new Int32Array(lines * STRIDE);
    values = new Float64Array(records.buffer);
    table = new Int32Array(1 + lines * TABLE_PER_LINE);
    n = scan(records, side, table);
  }
  return { records, values, side, table, lines: n };
}

/** How many strings the chunk's string table holds. */
export function tableSize(scan: ChunkScan): number {
  return scan.table[0]!;
}

/** String `k` of the chunk's string table (`chunk` is the scanned chunk). */
export function tableString(scan: ChunkScan, k: number, chunk: Buffer): string {
  const t = scan.table;
  const e = 1 + 4 * k;
  const from = t[e] === 0 ? chunk : scan.side;
  return t[e + 3] === 1 ? latin1(from, t[e + 1]!, t[e + 2]!) : utf8(from, t[e + 1]!, t[e + 2]!);
}

/** Line `index`'s start and end in the chunk. */
export function lineBounds(scan: ChunkScan, index: number): [number, number] {
  const r = index * STRIDE;
  return [scan.records[r]!, scan.records[r + 1]!];
}

/** A string (or null) field of the record at `r`, decoded as JSON.parse decodes it. */
function stringField(rec: Int32Array, r: number, buf: Buffer): string | null | undefined {
  switch (rec[r]) {
    case V_ASCII:
      return latin1(buf, rec[r + 1]!, rec[r + 2]!);
    case V_UTF8:
      return utf8(buf, rec[r + 1]!, rec[r + 2]!);
    case V_ESCAPED:
      return JSON.parse(utf8(buf, rec[r + 1]!, rec[r + 2]!)) as string;
    case V_CONST:
      return constants[rec[r + 1]!];
    case V_NULL:
      return null;
    default:
      return undefined;
  }
}

/** context.user_id: a number as JSON.parse reads it, or a string / null. */
function userField(rec: Int32Array, r: number, buf: Buffer): number | string | null | undefined {
  if (rec[r] !== V_NUMBER) return stringField(rec, r, buf);
  const a = rec[r + 1]!;
  const e = rec[r + 2]!;
  const v = plainInteger(buf, a, e);
  return v >= 0 ? v : Number(latin1(buf, a, e)); // the same conversion as JSON.parse for a valid JSON number
}

/**
 * The four fields the video facts read from a video event's payload (src/logs/chunkTasks.ts
 * videoPayloadRow), when the native code read them: a payload object holding just those that are
 * present, with JSON.parse's values; undefined when JavaScript must read the payload.
 */
function videoPayloadAt(scan: ChunkScan, r: number): JsonObject | undefined {
  const rec = scan.records;
  if (rec[r + VIDEO_STATE] !== 1) return undefined;
  const p: JsonObject = {};
  for (let k = 0; k < VIDEO_KEYS.length; k++) {
    const kind = rec[r + VIDEO_KINDS + k];
    const a = rec[r + VIDEO_SPANS + 2 * k]!;
    const e = rec[r + VIDEO_SPANS + 2 * k + 1]!;
    const name = VIDEO_KEYS[k]!;
    if (kind === V_NULL) p[name] = null;
    else if (kind === V_ASCII) p[name] = latin1(scan.side, a, e);
    else if (kind === V_UTF8) p[name] = utf8(scan.side, a, e);
    else if (kind === V_NUMBER) p[name] = scan.values[(r + VIDEO_VALUES + 2 * k) / 2]!;
  }
  return p;
}

/** The fields `scanCoreBytes` gives, in its order. */
const CORE_KEYS = ['time', 'username', 'event_type', 'event_source', 'page', 'ip', 'course_id', 'context_course_id', 'context_user_id', 'event_text'] as const;

/** Line `index`'s core fields as a plain object, exactly as `scanCoreBytes` gives them; null when it was not scanned. */
export function coreAt(scan: ChunkScan, index: number, buf: Buffer): CoreFields | null {
  const lazy = lazyCoreAt(scan, index, buf);
  if (lazy === null) return null;
  const plain: Record<string, unknown> = {};
  for (const k of CORE_KEYS) plain[k] = lazy[k];
  return plain as unknown as CoreFields;
}

function eventText(rec: Int32Array, r: number, buf: Buffer): string | undefined {
  return rec[r + F_EVENT] === V_TEXT ? utf8(buf, rec[r + F_EVENT + 1]!, rec[r + F_EVENT + 2]!) : undefined;
}

/**
 * A line's fields for the pass. The ones the pass reads on every line are made at once; the
 * others (`time`, `page`, `event_text`, `context_user_id`, `moduleIdInputs`: long, or read only
 * for some events) only when read. Plus `timeUs` when the native code parsed the time and
 * `videoPayload` when it read a video event's payload. Must be used before the next
 * `scanChunkNative` call, which reuses the records.
 */
class LazyCore implements CoreFields {
  readonly timeUs: number | undefined;
  readonly videoPayload: JsonObject | undefined;
  readonly username: string | null | undefined;
  readonly event_type: string | null | undefined;
  readonly event_source: string | null | undefined;
  readonly ip: string | null | undefined;
  readonly course_id: string | null | undefined;
  readonly context_course_id: string | null | undefined;
  private readonly rec: Int32Array;
  private readonly r: number;
  private readonly buf: Buffer;
  constructor(scan: ChunkScan, r: number, buf: Buffer) {
    const rec = scan.records;
    this.rec = rec;
    this.r = r;
    this.buf = buf;
    this.timeUs = rec[r + TIME_STATE] === 1 ? scan.values[(r + TIME_VALUE) / 2] : undefined;
    this.videoPayload = videoPayloadAt(scan, r);
    this.username = stringField(rec, r + F_USERNAME, buf);
    this.event_type = stringField(rec, r + F_EVENT_TYPE, buf);
    this.event_source = stringField(rec, r + F_EVENT_SOURCE, buf);
    this.ip = stringField(rec, r + F_IP, buf);
    this.course_id = stringField(rec, r + F_COURSE_ID, buf);
    this.context_course_id = stringField(rec, r + F_CTX_COURSE, buf);
  }
  get context_user_id(): number | string | null | undefined {
    return userField(this.rec, this.r + F_CTX_USER, this.buf);
  }
  get moduleIdInputs(): ModuleIdInputs {
    const { rec, r } = this;
    const ctx = rec[r + CONTEXT_KIND];
    return {
      hasId: rec[r + HAS_ID] === 1,
      hasModuleId: rec[r + HAS_MODULE_ID] === 1,
      context: ctx === 1 ? 'object' : ctx === 2 ? 'other' : 'absent',
      path: rec[r + F_CTX_PATH] === V_OTHER ? OTHER_TYPE : stringField(rec, r + F_CTX_PATH, this.buf),
    };
  }
  get time(): string | null | undefined {
    return stringField(this.rec, this.r + F_TIME, this.buf);
  }
  /**
   * A problem_check payload's members that the pass reads (answers, attempts, success, grade,
   * max_grade, and id, problem_id, new, POST for module_id), each as JSON.parse gives it, when
   * the native code read them; its other keys, none of which R17 touches, are left out.
   */
  get problemCheckPayload(): JsonObject | undefined {
    return this.payloadMembers(1, PROBLEM_KEYS);
  }
  /**
   * A forum event's payload members that the pass reads (GET, POST, query, and id, problem_id and
   * new for module_id), as JSON.parse gives them, when the native code read them.
   */
  get forumPayload(): JsonObject | undefined {
    return this.payloadMembers(2, FORUM_KEYS);
  }
  private payloadMembers(state: number, keys: readonly string[]): JsonObject | undefined {
    const { rec, r, buf } = this;
    if (rec[r + PROBLEM_STATE] !== state) return undefined;
    const p: JsonObject = {};
    for (let k = 0; k < keys.length; k++) {
      const a = rec[r + PROBLEM_SPANS + 2 * k]!;
      if (a >= 0) p[keys[k]!] = JSON.parse(utf8(buf, a, rec[r + PROBLEM_SPANS + 2 * k + 1]!)) as Json;
    }
    return p;
  }
  get page(): string | null | undefined {
    return stringField(this.rec, this.r + F_PAGE, this.buf);
  }
  get event_text(): string | undefined {
    return eventText(this.rec, this.r, this.buf);
  }
}

/** Line `index`'s fields for the pass (see LazyCore); null when it was not scanned. */
export function lazyCoreAt(scan: ChunkScan, index: number, buf: Buffer): CoreFields | null {
  const r = index * STRIDE;
  return scan.records[r + 2] === 1 ? new LazyCore(scan, r, buf) : null;
}
