/**
 * The splice path of `split`: for lines of the common shape, the rewritten line of spec §3 is
 * assembled from byte spans of the raw line, byte for byte what `processLine` + JSON.stringify
 * write, without building the event or serialising the row.
 *
 * Why: parsing a whole ~1 KB line into objects and serialising the rewritten row again cost more
 * than the rules themselves, while most bytes — agent, page, session, referer, the `event` text —
 * go through the rewrite unchanged.
 *
 * The common shape (anything else is declined, and the caller takes the full path):
 * - the top level holds only "pass" fields (STRING / TIMESTAMP fields of the schema that no rule
 *   changes: time, username, ip, event_source, event_type, page, agent, host, session, name,
 *   vname, datafn) as strings without escapes or null, R13's top-level fields (referer,
 *   accept_language, …) as strings without escapes, `event`, and `context`; no key twice, no
 *   escape in any key; `time` a string the time parser reads;
 * - `context` is an object of the fields the schema gives it, as strings without escapes or null
 *   (user_id an integer written in plain digits), `course_user_tags` of any value, and `module`
 *   holding `display_name` only; so R11, R12 (no agent, nothing to move), R15, R17 and R19 leave
 *   it as it is except for two things written here: `course_user_tags` becomes JSON text, and
 *   `agent` (`{"oldagent":""}`) is appended;
 * - `event` is a string or an object (or absent).
 *
 * What is computed rather than copied uses the real code on small objects:
 * - the course: `resolveCourseId` on the fields it reads;
 * - module_id: `extractModuleId` on the fields it reads (event, event_type, event_source, page,
 *   context.path);
 * - event, event_struct and the mongoid container: the real rules (`rephraseOrThrow`) on a mini
 *   event of event_type and event alone. In the common shape no other field parks anything
 *   except R13's top-level fields, which R13 puts first, right after `old_mongoid`, in R13's
 *   order: they are written into the mini event's mongoid text at that place.
 *
 * Output key order is the full path's: the line's keys in order without R13's, then course_id,
 * module_id, event (when absent from the line), event_struct, mongoid. A string without escapes
 * is exactly JSON.stringify's text of itself (valid UTF-8 holds no lone surrogate, and JSON holds
 * no raw control character); an `event` string is copied when its escapes are JSON.stringify's
 * own. test/spliceLine.test.ts compares both paths on every generated and fixture line and on
 * hand-made edge cases, and checks that the common lines do take this path.
 */
import { resolveCourseId } from './courseId.ts';
import { lastStringHadEscape, lineBytes, lineU8, loadLineBytes, scanString, skipValue, skipWhitespace } from './fastCore.ts';
import type { LineSink } from './lineSink.ts';
import { extractModuleId } from './moduleId.ts';
import { R13_TOP, rephraseOrThrow } from './rephrase.ts';
import { parseTimeMicros } from './time.ts';
import type { Json, JsonObject } from './types.ts';

// ------------------------------------------------------------------ key tables

/** A matcher of escape-free key bytes against a list of names: 1-based index, 0 for none. */
function keyMatcher(names: readonly string[]): (b: Uint8Array, a: number, e: number) => number {
  const byShape = new Map<number, number[]>();
  names.forEach((n, i) => {
    const slot = n.length * 256 + n.charCodeAt(0);
    byShape.set(slot, [...(byShape.get(slot) ?? []), i + 1]);
  });
  return (b, a, e) => {
    const len = e - a;
    if (len === 0) return 0;
    const ids = byShape.get(len * 256 + b[a]!);
    if (ids === undefined) return 0;
    for (const id of ids) {
      const n = names[id - 1]!;
      let k = 1;
      while (k < len && b[a + k] === n.charCodeAt(k)) k++;
      if (k === len) return id;
    }
    return 0;
  };
}

/** Top-level keys: pass fields (the first six decoded, for the code that reads them), R13's, event, context. */
const TOP_NAMES = [
  'time', 'username', 'ip', 'event_source', 'event_type', 'page',
  'agent', 'host', 'vname', 'datafn', 'name', 'session',
  ...R13_TOP,
  'event', 'context',
] as const;
const T_TIME = 1;
const T_USERNAME = 2;
const T_IP = 3;
const T_EVENT_SOURCE = 4;
const T_EVENT_TYPE = 5;
const T_PAGE = 6;
const T_LAST_DECODED = 6;
const T_LAST_PASS = 12;
const T_FIRST_R13 = 13;
const T_LAST_R13 = T_LAST_PASS + R13_TOP.length;
const T_EVENT = T_LAST_R13 + 1;
const T_CONTEXT = T_LAST_R13 + 2;
const topKey = keyMatcher(TOP_NAMES);

/** Context keys: STRING fields, then user_id, course_user_tags, module. */
const CTX_NAMES = ['course_id', 'org_id', 'username', 'ip', 'host', 'session', 'path', 'user_id', 'course_user_tags', 'module'] as const;
const C_COURSE_ID = 1;
const C_PATH = 7;
const C_LAST_STRING = 7;
const C_USER_ID = 8;
const C_USER_TAGS = 9;
const C_MODULE = 10;
const ctxKey = keyMatcher(CTX_NAMES);

const utf8 = (s: string) => Buffer.from(s);
/** `"name":` of each top-level key, and of each context key. */
const TOP_PREFIX = ['', ...TOP_NAMES].map((n) => utf8(`${JSON.stringify(n)}:`));
const CTX_PREFIX = ['', ...CTX_NAMES].map((n) => utf8(`${JSON.stringify(n)}:`));
const CTX_AGENT = utf8(`${JSON.stringify('agent')}:${JSON.stringify(JSON.stringify({ oldagent: '' }))}}`);
const EMPTY_TAGS = utf8(JSON.stringify('{}'));
const ABSENT_EVENT = utf8(`,"event":${JSON.stringify(JSON.stringify(''))}`);
const MONGOID_KEY = utf8(',"mongoid":');
/** The mongoid text with no old mongoid, as JSON.stringify writes it inside the row. */
const MONGOID_HEAD = JSON.stringify('{"old_mongoid":null').slice(0, -1);
const R13_KEY_TEXT = R13_TOP.map((k) => utf8(`,\\"${k}\\":\\"`));
const ESCAPED_QUOTE = utf8('\\"');

// ------------------------------------------------------------------ lexical checks

/**
 * Whether the escapes of the JSON string body b[a, e) are exactly those JSON.stringify writes
 * (`\"`, `\\`, `\b \f \n \r \t`, and `\u00xx` in lower case for the other control characters).
 */
function escapesAreCanonical(b: Uint8Array, a: number, e: number): boolean {
  for (let i = a; i < e; i++) {
    if (b[i] !== 92) continue;
    const c = b[++i]!;
    if (c === 34 || c === 92 || c === 98 || c === 102 || c === 110 || c === 114 || c === 116) continue;
    if (c !== 117 || b[i + 1] !== 48 || b[i + 2] !== 48) return false;
    const h = b[i + 3]!;
    const l = b[i + 4]!;
    if (h !== 48 && h !== 49) return false;
    const lo = l >= 48 && l <= 57 ? l - 48 : l >= 97 && l <= 102 ? l - 87 : -1;
    if (lo < 0) return false;
    const code = (h - 48) * 16 + lo;
    if (code === 8 || code === 9 || code === 10 || code === 12 || code === 13) return false;
    i += 4;
  }
  return true;
}

/** Whether b[a, e) (a valid JSON number) is an integer JSON.stringify writes the same way. */
function isPlainInteger(b: Uint8Array, a: number, e: number): boolean {
  const len = e - a;
  if (len === 0 || len > 15) return false;
  if (b[a] === 48) return len === 1;
  for (let i = a; i < e; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function isNull(b: Uint8Array, a: number, e: number): boolean {
  return e - a === 4 && b[a] === 110;
}

// ------------------------------------------------------------------ per-line state

const MAX_KEYS = 48;
// top-level spans: key body [ks, ke), value [vs, ve)
const keyStart = new Int32Array(MAX_KEYS);
const keyEnd = new Int32Array(MAX_KEYS);
const valStart = new Int32Array(MAX_KEYS);
const valEnd = new Int32Array(MAX_KEYS);
const valEscaped = new Uint8Array(MAX_KEYS);
const topIds = new Uint8Array(MAX_KEYS);
let nTop = 0;
/** Key index of each top-level id present, else -1. */
const topSlot = new Int32Array(TOP_NAMES.length + 1);
// context spans
const ctxKeyEnd = new Int32Array(MAX_KEYS);
const ctxValStart = new Int32Array(MAX_KEYS);
const ctxValEnd = new Int32Array(MAX_KEYS);
const ctxIds = new Uint8Array(MAX_KEYS);
let nCtx = 0;

/** Decoded values of the pass fields the code reads (null, or undefined when absent). */
const decoded: Array<string | null | undefined> = new Array<string | null | undefined>(T_LAST_DECODED + 1).fill(undefined);
let courseId: string | null = null;
let moduleId: string | null = null;
/** The rules' row of the mini event: event, event_struct, mongoid. */
let miniRow: JsonObject = {};
/** The `event` string, when its raw bytes are JSON.stringify's text of it. */
let eventRawText: string | undefined = undefined;

const GUESSED = { courseIdGuessed: true };
const NOT_GUESSED = { courseIdGuessed: false };

/** What `spliceLine` read: valid until the next call. */
export interface SplicedLine {
  courseId: string | null;
  timeMicros: number;
}
const result: SplicedLine = { courseId: null, timeMicros: 0 };

// ------------------------------------------------------------------ scanning

/** Walks the top level of the line in the scratch buffer; false when it is not the common shape. */
function scanTopLevel(b: Uint8Array, nb: number): boolean {
  topSlot.fill(-1);
  let i = skipWhitespace(b, 0);
  if (b[i] !== 123) return false;
  i = skipWhitespace(b, i + 1);
  let n = 0;
  for (;;) {
    if (b[i] !== 34 || n === MAX_KEYS) return false;
    const ks = i + 1;
    i = scanString(b, ks);
    if (i < 0 || lastStringHadEscape()) return false;
    const id = topKey(b, ks, i - 1);
    if (id === 0 || topSlot[id] !== -1) return false; // an other key, or a key twice
    topSlot[id] = n;
    topIds[n] = id;
    keyStart[n] = ks;
    keyEnd[n] = i - 1;
    i = skipWhitespace(b, i);
    if (b[i] !== 58) return false;
    i = skipWhitespace(b, i + 1);
    valStart[n] = i;
    const c = b[i];
    if (id === T_CONTEXT) {
      if (c !== 123 || !scanContext(b, i + 1)) return false;
      i = ctxEnd;
    } else {
      i = skipValue(b, i, 1);
      if (i < 0) return false;
      const escaped = c === 34 && lastStringHadEscape();
      valEscaped[n] = escaped ? 1 : 0;
      if (id <= T_LAST_R13) {
        // pass and R13 fields: strings without escapes (pass fields also null)
        if (c === 34 ? escaped : !(id <= T_LAST_PASS && isNull(b, valStart[n]!, i))) return false;
      } else if (c !== 34 && c !== 123) {
        return false; // an event that is neither a string nor an object
      }
    }
    valEnd[n] = i;
    n++;
    i = skipWhitespace(b, i);
    if (b[i] === 44) {
      i = skipWhitespace(b, i + 1);
      continue;
    }
    if (b[i] !== 125) return false;
    nTop = n;
    return skipWhitespace(b, i + 1) === nb;
  }
}

let ctxEnd = 0;

/** The context object, `i` just after its `{`: records its keys; false when not the common shape. */
function scanContext(b: Uint8Array, i: number): boolean {
  let seen = 0;
  let n = 0;
  i = skipWhitespace(b, i);
  if (b[i] === 125) {
    nCtx = 0;
    ctxEnd = i + 1;
    return true;
  }
  for (;;) {
    if (b[i] !== 34 || n === MAX_KEYS) return false;
    const ks = i + 1;
    i = scanString(b, ks);
    if (i < 0 || lastStringHadEscape()) return false;
    const id = ctxKey(b, ks, i - 1);
    if (id === 0 || (seen & (1 << id)) !== 0) return false;
    seen |= 1 << id;
    ctxIds[n] = id;
    ctxKeyEnd[n] = i - 1;
    i = skipWhitespace(b, i);
    if (b[i] !== 58) return false;
    i = skipWhitespace(b, i + 1);
    const vs = i;
    const c = b[i];
    i = skipValue(b, i, 2);
    if (i < 0) return false;
    if (id <= C_LAST_STRING) {
      if (c === 34 ? lastStringHadEscape() : !isNull(b, vs, i)) return false;
    } else if (id === C_USER_ID) {
      if (!(isNull(b, vs, i) || isPlainInteger(b, vs, i))) return false;
    } else if (id === C_MODULE && !moduleIsDisplayNameOnly(b, vs, i)) {
      return false;
    }
    ctxValStart[n] = vs;
    ctxValEnd[n] = i;
    n++;
    i = skipWhitespace(b, i);
    if (b[i] === 44) {
      i = skipWhitespace(b, i + 1);
      continue;
    }
    if (b[i] !== 125) return false;
    nCtx = n;
    ctxEnd = i + 1;
    return true;
  }
}

/** `{"display_name": <string without escapes>}`, with any whitespace. */
function moduleIsDisplayNameOnly(b: Uint8Array, a: number, e: number): boolean {
  if (b[a] !== 123) return false;
  let i = skipWhitespace(b, a + 1);
  if (b[i] !== 34) return false;
  const ks = i + 1;
  i = scanString(b, ks);
  if (i - 1 - ks !== 12 || lineBytes().toString('latin1', ks, i - 1) !== 'display_name') return false;
  i = skipWhitespace(b, i);
  if (b[i] !== 58) return false;
  i = skipWhitespace(b, i + 1);
  if (b[i] !== 34) return false;
  i = scanString(b, i + 1);
  if (i < 0 || lastStringHadEscape()) return false;
  return skipWhitespace(b, i) === e - 1 && b[e - 1] === 125;
}

// ------------------------------------------------------------------ the line

/** The decoded JSON value of the top-level key at index k (a string without escapes, or any value). */
function topValue(text: Buffer, k: number): Json {
  const vs = valStart[k]!;
  const ve = valEnd[k]!;
  if (text[vs] === 34 && valEscaped[k] === 0) return text.toString('utf8', vs + 1, ve - 1);
  return JSON.parse(text.toString('utf8', vs, ve)) as Json;
}

/**
 * Reads and rewrites the line buf[start, end) (valid UTF-8) by the splice path; null when the
 * line is not of the common shape or cannot be vouched for (the caller then takes the full path,
 * which also finds the rejects). On success `emitSpliced` writes the row.
 */
export function spliceLine(buf: Uint8Array, start: number, end: number): SplicedLine | null {
  const nb = loadLineBytes(buf, start, end);
  if (nb < 0) return null;
  const b = lineU8();
  if (!scanTopLevel(b, nb)) return null;
  const text = lineBytes();

  for (let id = 1; id <= T_LAST_DECODED; id++) {
    const k = topSlot[id]!;
    decoded[id] = k === -1 ? undefined : b[valStart[k]!] === 34 ? text.toString('utf8', valStart[k]! + 1, valEnd[k]! - 1) : null;
  }
  const time = decoded[T_TIME];
  if (typeof time !== 'string') return null;
  const timeMicros = parseTimeMicros(time);
  if (Number.isNaN(timeMicros)) return null;

  // context.course_id and context.path, as the course and module_id rules read them
  let context: JsonObject | undefined = undefined;
  const kc = topSlot[T_CONTEXT]!;
  if (kc !== -1) {
    context = {};
    for (let j = 0; j < nCtx; j++) {
      const id = ctxIds[j]!;
      if (id !== C_COURSE_ID && id !== C_PATH) continue;
      const vs = ctxValStart[j]!;
      context[CTX_NAMES[id - 1]!] = b[vs] === 34 ? text.toString('utf8', vs + 1, ctxValEnd[j]! - 1) : null;
    }
  }
  const ke = topSlot[T_EVENT]!;
  const event = ke === -1 ? undefined : topValue(text, ke);
  eventRawText = undefined;
  if (typeof event === 'string' && (valEscaped[ke] === 0 || escapesAreCanonical(b, valStart[ke]! + 1, valEnd[ke]! - 1))) eventRawText = event;

  const doc = {
    event, event_type: decoded[T_EVENT_TYPE], event_source: decoded[T_EVENT_SOURCE], page: decoded[T_PAGE], context,
  } as unknown as JsonObject;
  const course = resolveCourseId(doc);
  courseId = course.courseId;
  // rule R2 on the raw event: before the rules below change `event`
  const mid = extractModuleId(doc).id;
  moduleId = typeof mid === 'string' && mid !== '' ? mid : null;
  const mini: JsonObject = { event_type: doc.event_type as Json, module_id: '' };
  if (event !== undefined) mini.event = event;
  try {
    miniRow = rephraseOrThrow(mini, course.guessed ? GUESSED : NOT_GUESSED);
  } catch {
    return null;
  }
  if (typeof miniRow.mongoid !== 'string' || typeof miniRow.event !== 'string') return null;
  result.courseId = courseId;
  result.timeMicros = timeMicros;
  return result;
}

/**
 * The rewritten row of the last successful `spliceLine` as the facts read it: its core fields,
 * event, event_struct, module_id and context (the line's context object, which differs from the
 * row's only in `agent` and the text of `course_user_tags`, which no fact reads), parsed only
 * when `withContext` is set: only the compact tables read it.
 */
export function splicedFactsRow(withContext: boolean): JsonObject {
  const text = lineBytes();
  const kc = topSlot[T_CONTEXT]!;
  const row: JsonObject = {
    username: decoded[T_USERNAME] as Json, event_type: decoded[T_EVENT_TYPE] as Json, event_source: decoded[T_EVENT_SOURCE] as Json, ip: decoded[T_IP] as Json,
    event: miniRow.event!, module_id: moduleId,
  };
  if (miniRow.event_struct !== undefined) row.event_struct = miniRow.event_struct;
  if (withContext && kc !== -1) row.context = JSON.parse(text.toString('utf8', valStart[kc]!, valEnd[kc]!)) as Json;
  return row;
}

/**
 * Writes the row of the last successful `spliceLine` and its newline into `sink`. False, with
 * nothing written, when a check on the way fails: the caller then takes the full path.
 */
export function emitSpliced(sink: LineSink): boolean {
  const mongoid = JSON.stringify(miniRow.mongoid);
  if (!mongoid.startsWith(MONGOID_HEAD)) return false;
  const text = lineBytes();
  const start = sink.len;
  sink.reserve(1);
  sink.buf[sink.len++] = 123; // {
  let first = true;
  for (let k = 0; k < nTop; k++) {
    const id = topIds[k]!;
    if (id >= T_FIRST_R13 && id <= T_LAST_R13) continue; // in mongoid
    if (!first) comma(sink);
    first = false;
    copy(sink, TOP_PREFIX[id]!, 0, TOP_PREFIX[id]!.length);
    if (id === T_CONTEXT) writeContext(sink, text);
    else if (id !== T_EVENT || miniRow.event === eventRawText) sink.copy(text, valStart[k]!, valEnd[k]!);
    else sink.write(JSON.stringify(miniRow.event));
  }
  if (first) {
    sink.len = start; // no field before the appended ones: cannot happen with a time, but stay exact
    return false;
  }
  if (courseId !== null) sink.write(`,"course_id":${JSON.stringify(courseId)}`);
  if (moduleId !== null) sink.write(`,"module_id":${JSON.stringify(moduleId)}`);
  if (topSlot[T_EVENT] === -1) copy(sink, ABSENT_EVENT, 0, ABSENT_EVENT.length);
  if (miniRow.event_struct !== undefined) sink.write(`,"event_struct":${JSON.stringify(miniRow.event_struct)}`);
  copy(sink, MONGOID_KEY, 0, MONGOID_KEY.length);
  sink.write(MONGOID_HEAD);
  // R13's fields, in R13's order, right after old_mongoid: raw bytes between escaped quotes
  for (let id = T_FIRST_R13; id <= T_LAST_R13; id++) {
    const k = topSlot[id]!;
    if (k === -1) continue;
    const key = R13_KEY_TEXT[id - T_FIRST_R13]!;
    copy(sink, key, 0, key.length);
    sink.copy(text, valStart[k]! + 1, valEnd[k]! - 1);
    copy(sink, ESCAPED_QUOTE, 0, 2);
  }
  sink.write(mongoid.slice(MONGOID_HEAD.length));
  sink.reserve(2);
  sink.buf[sink.len++] = 125; // }
  sink.buf[sink.len++] = 10;
  sink.count++;
  return true;
}

/** The context as R11, R12 and R19 leave it (see the module comment). */
function writeContext(sink: LineSink, text: Buffer): void {
  sink.reserve(1);
  sink.buf[sink.len++] = 123; // {
  for (let j = 0; j < nCtx; j++) {
    const id = ctxIds[j]!;
    copy(sink, CTX_PREFIX[id]!, 0, CTX_PREFIX[id]!.length);
    const vs = ctxValStart[j]!;
    const ve = ctxValEnd[j]!;
    if (id !== C_USER_TAGS && id !== C_MODULE) {
      sink.copy(text, vs, ve);
    } else if (id === C_USER_TAGS) {
      // R11: the JSON text of the value
      if (ve - vs === 2 && text[vs] === 123) copy(sink, EMPTY_TAGS, 0, EMPTY_TAGS.length);
      else sink.write(JSON.stringify(JSON.stringify(JSON.parse(text.toString('utf8', vs, ve)))));
    } else {
      sink.write(JSON.stringify(JSON.parse(text.toString('utf8', vs, ve))));
    }
    comma(sink);
  }
  copy(sink, CTX_AGENT, 0, CTX_AGENT.length); // R12, closing the object
}

function comma(sink: LineSink): void {
  sink.reserve(1);
  sink.buf[sink.len++] = 44;
}

/** Appends src[a, e): a loop, cheaper than a native copy for these few bytes. */
function copy(sink: LineSink, src: Buffer, a: number, e: number): void {
  sink.reserve(e - a);
  const out = sink.buf;
  let o = sink.len;
  for (let i = a; i < e; i++) out[o++] = src[i]!;
  sink.len = o;
}

/** For tests: the splice path's output line for `raw` (without its newline), or null when it declines. */
export function spliceLineText(raw: string, sink: LineSink): string | null {
  const bytes = Buffer.from(raw);
  if (spliceLine(bytes, 0, bytes.length) === null) return null;
  const start = sink.len;
  if (!emitSpliced(sink)) return null;
  return sink.buf.toString('utf8', start, sink.len - 1);
}
