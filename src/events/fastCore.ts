/**
 * A validating single-pass scanner for the aggregate-only fast path: it reads the handful of
 * fields an aggregate needs (top-level `time`, `username`, `event_type`, `event_source`, `page`,
 * `ip`, `course_id`, and `context.course_id` / `context.user_id`) out of one tracking-log line
 * without building the object tree, while checking the WHOLE line against the JSON grammar.
 *
 * Contract: when `scanCore` returns non-null, `JSON.parse(line)` succeeds, is a plain object,
 * and gives exactly the same values for those fields (the last of duplicate keys wins, escapes
 * decoded as JSON.parse does). When the scanner cannot vouch for that (invalid JSON, a needed
 * field of another type, nesting deeper than MAX_DEPTH, a line over MAX_CHARS) it returns null
 * and the caller falls back to `JSON.parse`.
 *
 * How: the line is first encoded as UTF-8 into a reused scratch buffer (one native call), and
 * the grammar is walked over those bytes — typed-array reads are much cheaper in V8 than
 * `charCodeAt` on a string of unknown representation. The JSON grammar is all ASCII: a byte
 * >= 0x80 can only be part of a string's content, where it is accepted as JSON.parse accepts
 * any character >= U+0020 (a lone surrogate, legal for JSON.parse, is encoded as EF BF BD and
 * accepted the same way). Values are sliced from the original string: for an all-ASCII line
 * byte and string offsets coincide; otherwise offsets are converted by counting UTF-8 lead
 * bytes, lazily and in one forward pass.
 *
 * A NUL byte is written just after the line's bytes. Every loop stops on it and every check
 * rejects it (a raw U+0000 is illegal anywhere in JSON text), so no read goes past the line and
 * no explicit bounds check is needed.
 */

import type { JsonObject } from './types.ts';

export interface CoreFields {
  // each: the field's value when it is a JSON string or null; undefined when the key is absent
  time: string | null | undefined;
  username: string | null | undefined;
  event_type: string | null | undefined;
  event_source: string | null | undefined;
  page: string | null | undefined;
  ip: string | null | undefined;
  /** TOP-LEVEL course_id. */
  course_id: string | null | undefined;
  /** context.course_id (only when `context` is an object). */
  context_course_id: string | null | undefined;
  /** context.user_id: a number or string as found. */
  context_user_id: number | string | null | undefined;
  /** The JSON text of the top-level `event` value (any type), undefined when absent. */
  event_text: string | undefined;
  /**
   * `parseTimeMicros(time)` (NaN when it refuses the text), when the scanner already computed
   * it (the native scanner does for plain ASCII times); undefined otherwise.
   */
  timeUs?: number | undefined;
  /**
   * For video events, the payload fields the video facts read (`id`, `currentTime`, `new_time`,
   * `speed`), as an object holding those present, when the scanner already read them (the
   * native scanner does): exactly what `videoPayloadRow` would find; undefined otherwise.
   */
  videoPayload?: JsonObject | undefined;
  /**
   * For problem_check events whose payload is an object none of whose keys R17 touches, the
   * members the pass reads (answers, attempts, success, grade, max_grade, id, problem_id, new,
   * POST) as JSON.parse gives them, when the scanner read them (the native scanner does).
   */
  problemCheckPayload?: JsonObject | undefined;
  /**
   * For forum events whose payload is an object, the members the pass reads (GET, POST, query,
   * id, problem_id, new) as JSON.parse gives them, when the scanner read them (the native one does).
   */
  forumPayload?: JsonObject | undefined;
  /** What module_id's rules read besides event, event_type, event_source and page, when the scanner read it (the native one does). */
  moduleIdInputs?: ModuleIdInputs | undefined;
}

/** A value of a type other than string or null. */
export const OTHER_TYPE = Symbol('another type');

/**
 * The rest of what `extractModuleId` (spec §4) and rule R2 read of a raw event: whether it has
 * `_id` and `module_id` keys, whether `context` is absent, an object or something else, and
 * `context.path` (a string, null, undefined when absent, OTHER_TYPE for any other type).
 */
export interface ModuleIdInputs {
  hasId: boolean;
  hasModuleId: boolean;
  context: 'absent' | 'object' | 'other';
  path: string | null | undefined | typeof OTHER_TYPE;
}

/** Nesting deeper than this is valid JSON but not vouched for (null → slow path). */
const MAX_DEPTH = 256;
/** Longer lines are left to JSON.parse (keeps the scratch buffer bounded: 3 bytes a char). */
const MAX_CHARS = 1 << 20;

// Top-level keys that are read.
const K_NONE = 0;
const K_TIME = 1;
const K_USERNAME = 2;
const K_EVENT_TYPE = 3;
const K_EVENT_SOURCE = 4;
const K_PAGE = 5;
const K_IP = 6;
const K_COURSE_ID = 7;
const K_CONTEXT = 8;
const K_EVENT = 9;
// Keys read inside `context`.
const C_COURSE_ID = 1;
const C_USER_ID = 2;

// ------------------------------------------------------------------ per-line state

/** Scratch buffer the line is UTF-8 encoded into (grown on demand, at most 3 × MAX_CHARS + 8). */
let scratch = Buffer.allocUnsafeSlow(1 << 16);
/** A plain Uint8Array view of `scratch`, for the reads. */
let u8 = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);
/** A DataView of `scratch`, for 4-byte reads. */
let view = new DataView(scratch.buffer, scratch.byteOffset, scratch.length);

/** The line being scanned. */
let src = '';
/** Whether the line is all ASCII (byte offsets = string offsets). */
let ascii = true;
// Cursor of the byte → string offset conversion for non-ASCII lines.
let curByte = 0;
let curChar = 0;
/** Set by every string scan: whether that string held an escape. */
let hadEscape = false;

/** String offset of byte offset `p` (a character boundary) of the current line. */
function charAt(p: number): number {
  if (ascii) return p;
  let bi = curByte;
  let ci = curChar;
  if (p < bi) {
    bi = 0;
    ci = 0;
  }
  const b = u8;
  const dv = view;
  while (bi < p) {
    // four ASCII bytes at a time; else count lead bytes (not 10xxxxxx), a 4-byte sequence
    // being a surrogate pair: two code units
    if (bi + 4 <= p && (dv.getInt32(bi, true) & 0x80808080) === 0) {
      bi += 4;
      ci += 4;
      continue;
    }
    const c = b[bi++]!;
    if ((c & 0xc0) !== 0x80) ci += c >= 0xf0 ? 2 : 1;
  }
  curByte = bi;
  curChar = ci;
  return ci;
}

/** Set while `scanCoreBytes` runs: values are decoded from the scratch bytes (no line string). */
let bytesMode = false;

/** The line's text between byte offsets `a` and `e`. */
function sliceOf(a: number, e: number): string {
  if (bytesMode) return scratch.toString('utf8', a, e);
  const sa = charAt(a);
  return src.slice(sa, charAt(e));
}

// ------------------------------------------------------------------ lexical pieces

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/**
 * A string; `i` is just after its opening quote. Validates it (no raw U+0000–U+001F, valid
 * escapes) and returns the index just after the closing quote, or -1. Sets `hadEscape`.
 *
 * Plain bytes are skipped four at a time (unaligned little-endian loads): a word x holds a
 * byte < 0x20, a `"` or a `\` iff M = ((x - 0x20202020) & ~x) | the same "has a zero byte" test
 * on x ^ 0x22222222 and x ^ 0x5c5c5c5c, masked with 0x80808080, is non-zero; and the lowest
 * byte flagged in M is a true one (the false alarms of these tests only come after a true one),
 * so the stop is found with a count of trailing zeros. The final NUL always stops the walk.
 */
function scanString(b: Uint8Array, i: number): number {
  const dv = view;
  let esc = false;
  let c = 0;
  for (;;) {
    for (;;) {
      const x = dv.getInt32(i, true);
      const y = x ^ 0x22222222;
      const z = x ^ 0x5c5c5c5c;
      const m = (((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y) | ((z - 0x01010101) & ~z)) & 0x80808080;
      if (m !== 0) {
        i += (31 - Math.clz32(m & -m)) >> 3;
        break;
      }
      i += 4;
    }
    c = b[i]!;
    if (c === 34) break;
    if (c !== 92) return -1; // control character, or the end of the line
    c = b[i + 1]!;
    if (c === 117) {
      // \uXXXX (stops at the first non-hex byte, at the latest on the final NUL)
      if (!(isHex(b[i + 2]!) && isHex(b[i + 3]!) && isHex(b[i + 4]!) && isHex(b[i + 5]!))) return -1;
      i += 6;
    } else if (c === 34 || c === 92 || c === 47 || c === 98 || c === 102 || c === 110 || c === 114 || c === 116) {
      i += 2;
    } else {
      return -1;
    }
    esc = true;
  }
  hadEscape = esc;
  return i + 1;
}

/** A JSON number starting at `i`; returns the index after it, or -1. */
function scanNumber(b: Uint8Array, i: number): number {
  let c = b[i]!;
  if (c === 45) c = b[++i]!;
  if (c === 48) {
    c = b[++i]!;
  } else if (c >= 49 && c <= 57) {
    do c = b[++i]!;
    while (c >= 48 && c <= 57);
  } else {
    return -1;
  }
  if (c === 46) {
    c = b[++i]!;
    if (!(c >= 48 && c <= 57)) return -1;
    do c = b[++i]!;
    while (c >= 48 && c <= 57);
  }
  if (c === 101 || c === 69) {
    c = b[++i]!;
    if (c === 43 || c === 45) c = b[++i]!;
    if (!(c >= 48 && c <= 57)) return -1;
    do c = b[++i]!;
    while (c >= 48 && c <= 57);
  }
  return i;
}

/** Skips JSON whitespace. */
function ws(b: Uint8Array, i: number): number {
  let c = b[i]!;
  while (c === 32 || c === 9 || c === 10 || c === 13) c = b[++i]!;
  return i;
}

// ------------------------------------------------------------------ skipping values

/** Validates and skips the JSON value at `i` (no leading whitespace); the index after it or -1. */
function skipValue(b: Uint8Array, i: number, depth: number): number {
  const c = b[i]!;
  if (c === 34) return scanString(b, i + 1);
  if (c === 123) return skipObject(b, i + 1, depth + 1);
  if (c === 45 || (c >= 48 && c <= 57)) return scanNumber(b, i);
  if (c === 91) return skipArray(b, i + 1, depth + 1);
  if (c === 110) return b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108 ? i + 4 : -1; // null
  if (c === 116) return b[i + 1] === 114 && b[i + 2] === 117 && b[i + 3] === 101 ? i + 4 : -1; // true
  if (c === 102) return b[i + 1] === 97 && b[i + 2] === 108 && b[i + 3] === 115 && b[i + 4] === 101 ? i + 5 : -1; // false
  return -1;
}

/** An object; `i` is just after its `{`. */
function skipObject(b: Uint8Array, i: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  let c = b[i]!;
  if (c <= 32) c = b[(i = ws(b, i))]!;
  if (c === 125) return i + 1;
  for (;;) {
    if (c !== 34) return -1;
    i = scanString(b, i + 1);
    if (i < 0) return -1;
    if (b[i] !== 58) {
      i = ws(b, i);
      if (b[i] !== 58) return -1;
    }
    c = b[++i]!;
    if (c <= 32) i = ws(b, i);
    i = skipValue(b, i, depth);
    if (i < 0) return -1;
    c = b[i]!;
    if (c <= 32) c = b[(i = ws(b, i))]!;
    if (c === 44) {
      c = b[++i]!;
      if (c <= 32) c = b[(i = ws(b, i))]!;
    } else if (c === 125) {
      return i + 1;
    } else {
      return -1;
    }
  }
}

/** An array; `i` is just after its `[`. */
function skipArray(b: Uint8Array, i: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  let c = b[i]!;
  if (c <= 32) c = b[(i = ws(b, i))]!;
  if (c === 93) return i + 1;
  for (;;) {
    i = skipValue(b, i, depth);
    if (i < 0) return -1;
    c = b[i]!;
    if (c <= 32) c = b[(i = ws(b, i))]!;
    if (c === 44) {
      c = b[++i]!;
      if (c <= 32) i = ws(b, i);
    } else if (c === 93) {
      return i + 1;
    } else {
      return -1;
    }
  }
}

// ------------------------------------------------------------------ key names

// Escape-free key names are compared byte by byte, unrolled (the comment names the key).

/** Which top-level key the escape-free key bytes b[a, a + len) are. */
function topKeyRaw(b: Uint8Array, a: number, len: number): number {
  const c = b[a];
  switch (len) {
    case 2:
      return c === 105 && b[a + 1] === 112 ? K_IP : K_NONE; // ip
    case 5:
      return c === 101 && /* event */ b[a + 1] === 118 && b[a + 2] === 101 && b[a + 3] === 110 && b[a + 4] === 116 ? K_EVENT : K_NONE;
    case 4:
      if (c === 116) return /* time */ b[a + 1] === 105 && b[a + 2] === 109 && b[a + 3] === 101 ? K_TIME : K_NONE;
      if (c === 112) return /* page */ b[a + 1] === 97 && b[a + 2] === 103 && b[a + 3] === 101 ? K_PAGE : K_NONE;
      return K_NONE;
    case 7:
      return c === 99 && /* context */ b[a + 1] === 111 && b[a + 2] === 110 && b[a + 3] === 116 && b[a + 4] === 101 && b[a + 5] === 120 && b[a + 6] === 116
        ? K_CONTEXT
        : K_NONE;
    case 8:
      return c === 117 &&
        /* username */ b[a + 1] === 115 &&
        b[a + 2] === 101 &&
        b[a + 3] === 114 &&
        b[a + 4] === 110 &&
        b[a + 5] === 97 &&
        b[a + 6] === 109 &&
        b[a + 7] === 101
        ? K_USERNAME
        : K_NONE;
    case 9:
      return c === 99 && isCourseId(b, a) ? K_COURSE_ID : K_NONE;
    case 10:
      return c === 101 && isEvent_(b, a) && /* type */ b[a + 6] === 116 && b[a + 7] === 121 && b[a + 8] === 112 && b[a + 9] === 101
        ? K_EVENT_TYPE
        : K_NONE;
    case 12:
      return c === 101 &&
        isEvent_(b, a) &&
        /* source */ b[a + 6] === 115 &&
        b[a + 7] === 111 &&
        b[a + 8] === 117 &&
        b[a + 9] === 114 &&
        b[a + 10] === 99 &&
        b[a + 11] === 101
        ? K_EVENT_SOURCE
        : K_NONE;
    default:
      return K_NONE;
  }
}

/** b[a + 1, a + 6) is "vent_" (the "e" already checked). */
function isEvent_(b: Uint8Array, a: number): boolean {
  return b[a + 1] === 118 && b[a + 2] === 101 && b[a + 3] === 110 && b[a + 4] === 116 && b[a + 5] === 95;
}

/** b[a + 1, a + 9) is "ourse_id" (the "c" already checked). */
function isCourseId(b: Uint8Array, a: number): boolean {
  return b[a + 1] === 111 && b[a + 2] === 117 && b[a + 3] === 114 && b[a + 4] === 115 && b[a + 5] === 101 && b[a + 6] === 95 && b[a + 7] === 105 && b[a + 8] === 100;
}

function ctxKeyRaw(b: Uint8Array, a: number, len: number): number {
  const c = b[a];
  if (len === 9) return c === 99 && isCourseId(b, a) ? C_COURSE_ID : K_NONE;
  if (len === 7) {
    return c === 117 && /* user_id */ b[a + 1] === 115 && b[a + 2] === 101 && b[a + 3] === 114 && b[a + 4] === 95 && b[a + 5] === 105 && b[a + 6] === 100
      ? C_USER_ID
      : K_NONE;
  }
  return K_NONE;
}

function topKeyDecoded(k: string): number {
  switch (k) {
    case 'time':
      return K_TIME;
    case 'username':
      return K_USERNAME;
    case 'event_type':
      return K_EVENT_TYPE;
    case 'event_source':
      return K_EVENT_SOURCE;
    case 'page':
      return K_PAGE;
    case 'ip':
      return K_IP;
    case 'course_id':
      return K_COURSE_ID;
    case 'context':
      return K_CONTEXT;
    case 'event':
      return K_EVENT;
    default:
      return K_NONE;
  }
}

function ctxKeyDecoded(k: string): number {
  return k === 'course_id' ? C_COURSE_ID : k === 'user_id' ? C_USER_ID : K_NONE;
}

/** A key with escapes, decoded; `a` is its opening quote, `e` just after its closing one. */
function decodeKey(a: number, e: number): string {
  return JSON.parse(sliceOf(a, e)) as string;
}

// ------------------------------------------------------------------ reading needed values

// Results of the last readStringOrNull / scanContext call (module state keeps the hot path
// free of small result objects).
let valEnd = -1;
let ctxCourse: string | null | undefined = undefined;
let ctxUser: number | string | null | undefined = undefined;

/**
 * A needed value at `i` that must be a JSON string or null: returns it and sets valEnd; returns
 * undefined when it is of another type or invalid.
 */
function readStringOrNull(b: Uint8Array, i: number): string | null | undefined {
  const c = b[i];
  if (c === 34) {
    const e = scanString(b, i + 1);
    if (e < 0) return undefined;
    valEnd = e;
    // JSON.parse of the quoted text decodes escapes exactly as JSON.parse(line) does
    return hadEscape ? (JSON.parse(sliceOf(i, e)) as string) : sliceOf(i + 1, e - 1);
  }
  if (c === 110 && b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108) {
    valEnd = i + 4;
    return null;
  }
  return undefined;
}

/** The value of the JSON number b[i, e) (valid per scanNumber), as JSON.parse reads it. */
function numberAt(b: Uint8Array, i: number, e: number): number {
  const v = plainInteger(b, i, e);
  return v >= 0 ? v : Number(sliceOf(i, e)); // same conversion as JSON.parse for a valid JSON number
}

/**
 * The value of b[i, e) when it is plain digits, at most 15 (exact as an integer: no sign,
 * fraction or exponent, < 2^53); else -1.
 */
export function plainInteger(b: Uint8Array, i: number, e: number): number {
  if (e - i > 15) return -1;
  let v = 0;
  for (let k = i; k < e; k++) {
    const c = b[k]!;
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/**
 * The `context` object; `i` is just after its `{`. Sets ctxCourse / ctxUser (the last of
 * duplicate keys wins) and valEnd; false when invalid or when a needed value has another type.
 */
function scanContext(b: Uint8Array, i: number): boolean {
  let course: string | null | undefined = undefined;
  let user: number | string | null | undefined = undefined;
  let c = b[i]!;
  if (c <= 32) c = b[(i = ws(b, i))]!;
  if (c !== 125) {
    for (;;) {
      if (c !== 34) return false;
      const kStart = i;
      i = scanString(b, i + 1);
      if (i < 0) return false;
      const key = hadEscape ? ctxKeyDecoded(decodeKey(kStart, i)) : ctxKeyRaw(b, kStart + 1, i - kStart - 2);
      if (b[i] !== 58) {
        i = ws(b, i);
        if (b[i] !== 58) return false;
      }
      c = b[++i]!;
      if (c <= 32) c = b[(i = ws(b, i))]!;
      if (key === K_NONE) {
        i = skipValue(b, i, 2);
        if (i < 0) return false;
      } else if (key === C_COURSE_ID) {
        course = readStringOrNull(b, i);
        if (course === undefined) return false;
        i = valEnd;
      } else if (c === 45 || (c >= 48 && c <= 57)) {
        const e = scanNumber(b, i);
        if (e < 0) return false;
        user = numberAt(b, i, e);
        i = e;
      } else {
        user = readStringOrNull(b, i);
        if (user === undefined) return false;
        i = valEnd;
      }
      c = b[i]!;
      if (c <= 32) c = b[(i = ws(b, i))]!;
      if (c === 44) {
        c = b[++i]!;
        if (c <= 32) c = b[(i = ws(b, i))]!;
      } else if (c === 125) {
        break;
      } else {
        return false;
      }
    }
  }
  ctxCourse = course;
  ctxUser = user;
  valEnd = i + 1;
  return true;
}

// ------------------------------------------------------------------ the line

/** UTF-8 encodes `s` into the scratch buffer followed by a NUL; its byte length, or -1. */
function encode(s: string): number {
  const n = s.length;
  if (n > MAX_CHARS) return -1;
  // room for 3 bytes a UTF-16 code unit, the NUL, and a 4-byte read starting on it
  if (3 * n + 8 > scratch.length) {
    scratch = Buffer.allocUnsafeSlow(Math.min(Math.max(3 * n + 8, 2 * scratch.length), 3 * MAX_CHARS + 8));
    u8 = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);
    view = new DataView(scratch.buffer, scratch.byteOffset, scratch.length);
  }
  const nb = scratch.write(s); // utf8; always fits (at most 3 bytes a UTF-16 code unit)
  u8[nb] = 0;
  return nb;
}

/**
 * Scans one JSON line (already trimmed; starts with '{'). Returns the fields, or null when it
 * cannot vouch for the result — the caller then falls back to JSON.parse.
 */
export function scanCore(line: string): CoreFields | null {
  const nb = encode(line);
  if (nb < 0) return null;
  src = line;
  ascii = nb === line.length;
  curByte = 0;
  curChar = 0;
  return scanScratch(nb);
}

/**
 * The same scan on a line's UTF-8 bytes, `buf[start, end)`, without the line ever being a JS
 * string: the bytes are copied into the scratch buffer (a memcpy, where decoding the line and
 * encoding it again would cost ~1 µs), and only the values read are decoded. The bytes must be
 * valid UTF-8 (the caller checks); the same contract as `scanCore` holds for their text.
 */
export function scanCoreBytes(buf: Uint8Array, start: number, end: number): CoreFields | null {
  const nb = end - start;
  if (nb > MAX_CHARS) return null;
  if (nb + 8 > scratch.length) {
    scratch = Buffer.allocUnsafeSlow(Math.min(Math.max(nb + 8, 2 * scratch.length), 3 * MAX_CHARS + 8));
    u8 = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);
    view = new DataView(scratch.buffer, scratch.byteOffset, scratch.length);
  }
  u8.set(buf.subarray(start, end), 0);
  u8[nb] = 0;
  bytesMode = true;
  try {
    return scanScratch(nb);
  } finally {
    bytesMode = false;
  }
}

/** The scan of the line in the scratch buffer (nb bytes, NUL after them). */
function scanScratch(nb: number): CoreFields | null {
  const b = u8;

  let time: string | null | undefined = undefined;
  let username: string | null | undefined = undefined;
  let eventType: string | null | undefined = undefined;
  let eventSource: string | null | undefined = undefined;
  let page: string | null | undefined = undefined;
  let ip: string | null | undefined = undefined;
  let courseId: string | null | undefined = undefined;
  let cCourse: string | null | undefined = undefined;
  let cUser: number | string | null | undefined = undefined;
  let eventText: string | undefined = undefined;

  let i = ws(b, 0);
  if (b[i] !== 123) return null;
  let c = b[++i]!;
  if (c <= 32) c = b[(i = ws(b, i))]!;
  if (c !== 125) {
    for (;;) {
      if (c !== 34) return null;
      const kStart = i;
      i = scanString(b, i + 1);
      if (i < 0) return null;
      const key = hadEscape ? topKeyDecoded(decodeKey(kStart, i)) : topKeyRaw(b, kStart + 1, i - kStart - 2);
      if (b[i] !== 58) {
        i = ws(b, i);
        if (b[i] !== 58) return null;
      }
      c = b[++i]!;
      if (c <= 32) c = b[(i = ws(b, i))]!;
      if (key === K_NONE) {
        i = skipValue(b, i, 1);
        if (i < 0) return null;
      } else if (key === K_EVENT) {
        const start = i;
        i = skipValue(b, i, 1);
        if (i < 0) return null;
        eventText = sliceOf(start, i); // offsets only move forward, as sliceOf needs
      } else if (key === K_CONTEXT) {
        if (c === 123) {
          if (!scanContext(b, i + 1)) return null;
          cCourse = ctxCourse;
          cUser = ctxUser;
          i = valEnd;
        } else {
          // not an object: context.course_id / user_id read as undefined (the last `context` wins)
          cCourse = undefined;
          cUser = undefined;
          i = skipValue(b, i, 1);
          if (i < 0) return null;
        }
      } else {
        const v = readStringOrNull(b, i);
        if (v === undefined) return null;
        i = valEnd;
        switch (key) {
          case K_TIME:
            time = v;
            break;
          case K_USERNAME:
            username = v;
            break;
          case K_EVENT_TYPE:
            eventType = v;
            break;
          case K_EVENT_SOURCE:
            eventSource = v;
            break;
          case K_PAGE:
            page = v;
            break;
          case K_IP:
            ip = v;
            break;
          default:
            courseId = v;
        }
      }
      c = b[i]!;
      if (c <= 32) c = b[(i = ws(b, i))]!;
      if (c === 44) {
        c = b[++i]!;
        if (c <= 32) c = b[(i = ws(b, i))]!;
      } else if (c === 125) {
        break;
      } else {
        return null;
      }
    }
  }
  // nothing but whitespace after the closing `}` (the NUL at nb ends the line)
  if (ws(b, i + 1) !== nb) return null;
  return {
    time,
    username,
    event_type: eventType,
    event_source: eventSource,
    page,
    ip,
    course_id: courseId,
    context_course_id: cCourse,
    context_user_id: cUser,
    event_text: eventText,
  };
}
