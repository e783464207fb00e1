/**
 * module_id extraction, spec tracking-logs.md §4 (parity rule list).
 *
 * The original is a chain of Python 2 regular expressions applied to the raw event. We reproduce
 * the *exact* results of those expressions (leftmost match, greedy / lazy choices, Python `$`,
 * Python `.`), including the documented quirks, in their order of precedence.
 *
 * Performance notes (this runs on every event):
 * - Several original patterns are unsafe for a backtracking engine on long hostile strings (runs
 *   of `[^+]+` that cross `/`, lazy `.+?` before a complex tail, nested `[^/]+;_` runs). Those are
 *   implemented below as hand-written scanners (`indexOf` / `lastIndexOf` over the forced parts)
 *   that give the same groups as the regex, in (near) linear time. Each scanner's comment states
 *   the pattern it replaces and why its result equals the regex's.
 * - Patterns whose variable parts are all "forced" (a maximal run of `[^x]` followed by `x`, or
 *   anchored at the start or end) are linear in V8 and stay as precompiled regexes.
 * - Each rule is guarded by a cheap substring test before any scan; nothing is allocated on the
 *   no-match paths, and the results with no module_id are shared frozen objects.
 * - `event` is JSON-decoded (rule A7) only when the decoded value could be an object with an `id`
 *   key, which is the only case in which the decoded value is used.
 * - "Key k present" (Python's `k in d`) is tested as `d[k] !== undefined`: parsed JSON never holds
 *   `undefined`, and none of the keys read here exists on Object.prototype.
 *
 * Known limits of the parity (only the seq_goto / seq_next suffix of rule B2a can differ):
 * JSON.parse does not keep the int / float distinction of the source text, so `"new": 2.0` prints
 * `2` here where Python 2 printed `2.0`; and Python 2's dict order in `str({...})` is not
 * reproducible (insertion order is used). Where the original raised an exception that nothing
 * caught, the result is `{ id: null, rule: 'error: …' }`.
 */
import type { Json, JsonObject } from './types.ts';
import { isObject } from './types.ts';

/** The module_id of an event, and the rule of spec §4 that produced it (or why none did). */
export interface ModuleIdResult {
  id: string | null;
  rule: string;
}

// ---------------------------------------------------------------------------------------------
// Results without a module_id (shared and frozen: callers must not mutate results).

function noId(rule: string): ModuleIdResult {
  return Object.freeze({ id: null, rule });
}
const NONE = noId('none'); // B19: no rule matched
const NONE_B0 = noId('B0');
const NONE_B1 = noId('B1');
const NONE_B16 = noId('B16');
const MISSING_EVENT = noId('missing event');
const MISSING_EVENT_TYPE = noId('missing event_type');
const MISSING_EVENT_SOURCE = noId('missing event_source');

function found(id: string, rule: string): ModuleIdResult {
  return { id, rule };
}

/** Where the original raised an exception that nothing caught: no module_id, reason "error: …". */
class OriginalError extends Error {}

// ---------------------------------------------------------------------------------------------
// Regexes that are safe as they are (all variable parts forced). Python's `$` (no MULTILINE)
// matches at the end or before a final "\n": written `(?=\n?$)` here.

/** cidre3 (B2a, B13, B15, B17): `i4x://A/B/C/D`, D greedy up to the next `/`. */
const CIDRE3 = /i4x:\/\/([^/]+\/[^/]+\/[^/]+\/[^/]+)/;
/** cidre3a (B13): the same followed by `/goto_position`. */
const CIDRE3A = /i4x:\/\/[^/]+\/[^/]+\/[^/]+\/[^/]+\/goto_position/;
/** cidre4 (B18): `i4x-ORG-COURSE-video-ID`, ID up to the first space. */
const CIDRE4 = /i4x-([^-]+)-([^-]+)-video-([^ ]+)/;
/** cidre5 (B2d, B2e): anchored at the start; ID greedy, `_comment`/`_dynamath` handled. */
const CIDRE5 = /^input_i4x-([^-]+)-([^-]+)-problem-([^ =]+)_([0-9]+)_([0-9]+)(|_comment|_dynamath)=/;
// cidre6, cidre7 and cidre8 (courseware URLs at the end of the text): see `coursewareAtEnd`.
/** cidre9 (B9): jump_to_id at the end, optional trailing slash. */
const CIDRE9 = /\/courses\/([^/]+\/[^/]+)\/[^/]+\/jump_to_id\/([^/]+)(?:\/|)(?=\n?$)/;
/** fidre5..8 (B3..B6): forum URLs, anchored at the start. */
const FIDRE5 = /^\/courses\/([^/]+\/[^/]+)\/[^/]+\/discussion\/threads\/([^/]+)/;
const FIDRE6 = /^\/courses\/([^/]+\/[^/]+)\/[^/]+\/discussion\/forum\/i4x[^/]+\/threads\/([^/]+)/;
const FIDRE7 = /^\/courses\/([^/]+\/[^/]+)\/[^/]+\/discussion\/i4x[^/]+\/threads\/create/;
const FIDRE8 = /^\/courses\/([^/]+\/[^/]+)\/[^/]+\/discussion\/forum\/[^/]+\/threads\/([^/]+)/;

const ASCII_ONLY = /^[\x00-\x7f]*$/;
const PY_JSON_CONSTANT = /NaN|Infinity/;

// Literals used by the scanners.
const CV1 = '/courses/course-v1:'; // 19 characters
const XBLOCK_V1 = '/xblock/block-v1:'; // 17
const BLOCK_V1 = 'block-v1:'; // 9
const COURSEWARE = '/courseware/'; // 12
const XBLOCK_I4X = '/xblock/i4x:;_;_'; // 16

// ---------------------------------------------------------------------------------------------
// Scanners for the course-v1 / block-v1 patterns.
//
// Shared reasoning: in `…:(?P<org>[^+]+)\+(?P<course>[^+]+)\+…` a `[^+]+` run followed by `\+`
// can only end at the first `+` after its start, so ORG and COURSE are forced. For one candidate
// start (an occurrence of the leading literal), everything after the first `+` (i1) depends on i1
// only; a later candidate whose first `+` is the same i1 therefore fails the same way and is
// skipped (`lastI1`). A candidate whose scan finds no further `+` (or no further required literal)
// proves that no later candidate can match either, so the scanner stops.

/** Result slots of `orgCourseAt`: module-level so the per-event path allocates nothing. */
let ocI1 = -1;
let ocI2 = -1;
const OC_STOP = -1;
const OC_NEXT = 0;
const OC_FOUND = 1;

/**
 * The `ORG+COURSE+` part of an opaque key whose ORG starts at `p`, shared by the candidate loops
 * below: ORG ends at the first `+` (ocI1), COURSE at the next one (ocI2), both non-empty.
 * `lastI1` is the ORG end of the previous candidate; a candidate ending at the same `+` fails the
 * same way. Returns OC_FOUND, OC_NEXT (try the next candidate; ocI1 is the ORG end to remember),
 * or OC_STOP (no `+` left, so no later candidate can match either).
 */
function orgCourseAt(t: string, p: number, lastI1: number): number {
  if (lastI1 >= p) {
    ocI1 = lastI1;
    return OC_NEXT;
  }
  const i1 = t.indexOf('+', p);
  if (i1 < 0) return OC_STOP;
  ocI1 = i1;
  if (i1 === p) return OC_NEXT; // empty ORG
  const i2 = t.indexOf('+', i1 + 1);
  if (i2 < 0) return OC_STOP;
  if (i2 === i1 + 1) return OC_NEXT; // empty COURSE
  ocI2 = i2;
  return OC_FOUND;
}

/** The okre3 result (A5 / A6) found by the last call of `scanXblockV1`. */
let xblockAnyResult: string | null = null;

/**
 * okre1 (A1, A2) and okre3 (A5, A6), in one pass:
 * `/courses/course-v1:ORG+COURSE+RUN/xblock/block-v1:X+X+X+type@TYPE+block@ID[/handler]`
 * → `ORG/COURSE/TYPE/ID`. RUN (`[^+]+`, may contain `/`) must be followed by the literal
 * `/xblock/block-v1:` within the same `+`-free run; whichever occurrence the regex picks, the
 * first block-key part then ends at the same `+` (i3), so the captured groups do not depend on it.
 * ID is `[^/]+`, the run up to the next `/`: okre1 needs that `/` to start `/handler`, okre3 does
 * not. Returns the okre1 result and leaves the okre3 result (the first candidate that matches
 * without the `/handler` condition) in `xblockAnyResult`.
 */
function scanXblockV1(t: string, c: number): string | null {
  xblockAnyResult = null;
  let lastI1 = -1;
  let q = -2; // memo: first XBLOCK_V1 at or after the last search start (-1: none); -2: not searched
  for (; c >= 0; c = t.indexOf(CV1, c + 1)) {
    const p = c + 19;
    const found = orgCourseAt(t, p, lastI1);
    if (found === OC_STOP) return null;
    lastI1 = ocI1;
    if (found === OC_NEXT) continue;
    const i1 = ocI1;
    const i2 = ocI2;
    const i3 = t.indexOf('+', i2 + 1);
    if (i3 < 0) return null;
    const from = i2 + 2; // RUN is not empty
    // `from` grows from one examined candidate to the next, so the memo stays valid.
    if (q === -2 || (q >= 0 && q < from)) q = t.indexOf(XBLOCK_V1, from);
    if (q < 0) return null;
    if (q + 17 >= i3) continue; // no `/xblock/block-v1:X` inside this RUN
    const i4 = t.indexOf('+', i3 + 1);
    if (i4 < 0) return null;
    if (i4 === i3 + 1) continue;
    const i5 = t.indexOf('+', i4 + 1);
    if (i5 < 0) return null;
    if (i5 === i4 + 1 || !t.startsWith('+type@', i5)) continue;
    const i6 = t.indexOf('+', i5 + 6);
    if (i6 < 0) return null;
    if (i6 === i5 + 6 || !t.startsWith('+block@', i6)) continue;
    const j = i6 + 7;
    const k = t.indexOf('/', j);
    const end = k < 0 ? t.length : k;
    if (end === j) continue; // empty ID
    const handler = k >= 0 && t.startsWith('/handler', k);
    if (xblockAnyResult !== null && !handler) continue;
    const id = `${t.slice(p, i1)}/${t.slice(i1 + 1, i2)}/${t.slice(i5 + 6, i6)}/${t.slice(j, end)}`;
    if (xblockAnyResult === null) xblockAnyResult = id;
    if (handler) return id;
    if (k < 0) return null; // no `/` left for a later `/handler`
  }
  return null;
}

/**
 * okre2 (A3, A4 on `page`): `/courses/course-v1:ORG+COURSE+RUN/[bc]`, RUN a non-empty `+`-free
 * run followed by `/b` or `/c` (the regex picks the last such `/`, which changes nothing captured).
 * Returns `ORG/COURSE/` or null.
 */
function matchCourseV1Bc(t: string): string | null {
  let lastI1 = -1;
  for (let c = t.indexOf(CV1); c >= 0; c = t.indexOf(CV1, c + 1)) {
    const p = c + 19;
    const found = orgCourseAt(t, p, lastI1);
    if (found === OC_STOP) return null;
    lastI1 = ocI1;
    if (found === OC_NEXT) continue;
    const i1 = ocI1;
    const i2 = ocI2;
    let runEnd = t.indexOf('+', i2 + 1);
    if (runEnd < 0) runEnd = t.length;
    for (let s = t.indexOf('/', i2 + 2); s >= 0 && s + 1 < runEnd; s = t.indexOf('/', s + 1)) {
      const ch = t.charCodeAt(s + 1);
      if (ch === 0x62 /* b */ || ch === 0x63 /* c */) return `${t.slice(p, i1)}/${t.slice(i1 + 1, i2)}/`;
    }
  }
  return null;
}

/**
 * okre5 (A8c on `page`): `/courses/course-v1:ORG+COURSE+RUN/courseware/CH/ID/`, RUN a non-empty
 * `+`-free run, CH and ID non-empty `/`-free segments. Returns `ORG/COURSE/` or null.
 */
function matchCourseV1Courseware(t: string): string | null {
  let lastI1 = -1;
  for (let c = t.indexOf(CV1); c >= 0; c = t.indexOf(CV1, c + 1)) {
    const p = c + 19;
    const found = orgCourseAt(t, p, lastI1);
    if (found === OC_STOP) return null;
    lastI1 = ocI1;
    if (found === OC_NEXT) continue;
    const i1 = ocI1;
    const i2 = ocI2;
    let runEnd = t.indexOf('+', i2 + 1);
    if (runEnd < 0) runEnd = t.length;
    for (let q = t.indexOf(COURSEWARE, i2 + 2); q >= 0 && q < runEnd; q = t.indexOf(COURSEWARE, q + 1)) {
      const k1 = t.indexOf('/', q + 12);
      if (k1 < 0) return null;
      if (k1 === q + 12) continue;
      const k2 = t.indexOf('/', k1 + 1);
      if (k2 < 0) return null;
      if (k2 > k1 + 1) return `${t.slice(p, i1)}/${t.slice(i1 + 1, i2)}/`;
    }
  }
  return null;
}

/**
 * okre4 (A8a on `event.id`, A9 on the raw event string):
 * `block-v1:ORG+COURSE+RUN+type@TYPE+block@ID` → `ORG/COURSE/TYPE/ID`. Every part up to TYPE is
 * forced; ID is `[^/]+`, the maximal run up to the next `/` (hence the junk suffixes of A9).
 */
function matchBlockV1(t: string): string | null {
  let lastI1 = -1;
  for (let c = t.indexOf(BLOCK_V1); c >= 0; c = t.indexOf(BLOCK_V1, c + 1)) {
    const p = c + 9;
    const found = orgCourseAt(t, p, lastI1);
    if (found === OC_STOP) return null;
    lastI1 = ocI1;
    if (found === OC_NEXT) continue;
    const i1 = ocI1;
    const i2 = ocI2;
    const i3 = t.indexOf('+', i2 + 1);
    if (i3 < 0) return null;
    if (i3 === i2 + 1 || !t.startsWith('+type@', i3)) continue;
    const i4 = t.indexOf('+', i3 + 6);
    if (i4 < 0) return null;
    if (i4 === i3 + 6 || !t.startsWith('+block@', i4)) continue;
    const j = i4 + 7;
    let k = t.indexOf('/', j);
    if (k < 0) k = t.length;
    if (k === j) continue;
    return `${t.slice(p, i1)}/${t.slice(i1 + 1, i2)}/${t.slice(i3 + 6, i4)}/${t.slice(j, k)}`;
  }
  return null;
}

/**
 * okre5a (A8b on `event.id`): `i4x-(ORG[^-]+)-(COURSE[^+]+)-(TYPE[^-]+)-(ID[^-]+)`.
 * ORG ends at the first `-` (d1). COURSE is greedy inside the `+`-free run after d1, so the regex
 * tries the dashes c of that run from the last one down: TYPE is then forced to end at the next
 * dash after c, and ID is the maximal dash-free run after that (at least one character). Whether a
 * dash c works does not depend on the start, so a later start whose d1 falls inside an already
 * examined run fails too and is skipped.
 */
function matchI4xDash(t: string): string | null {
  const n = t.length;
  let examinedTo = -1; // end (first `+` or n) of the last fully examined COURSE run
  for (let s = t.indexOf('i4x-'); s >= 0; s = t.indexOf('i4x-', s + 1)) {
    const p = s + 4;
    const d1 = t.indexOf('-', p);
    if (d1 < 0) return null;
    if (d1 === p || d1 < examinedTo) continue;
    let runEnd = t.indexOf('+', d1 + 1);
    if (runEnd < 0) runEnd = n;
    examinedTo = runEnd;
    let c = t.lastIndexOf('-', runEnd - 1);
    if (c < d1 + 2) continue;
    let next = t.indexOf('-', c + 1); // the dash that ends TYPE
    while (c >= d1 + 2) {
      if (next > c + 1 && next + 1 < n && t.charCodeAt(next + 1) !== 0x2d /* - */) {
        let idEnd = t.indexOf('-', next + 1);
        if (idEnd < 0) idEnd = n;
        return `${t.slice(p, d1)}/${t.slice(d1 + 1, c)}/${t.slice(c + 1, next)}/${t.slice(next + 1, idEnd)}`;
      }
      next = c;
      c = t.lastIndexOf('-', c - 1);
    }
  }
  return null;
}

/** The last `/` at or before i (-1 if none); a plain loop is faster than lastIndexOf on short segments. */
function prevSlash(t: string, i: number): number {
  for (; i >= 0; i--) if (t.charCodeAt(i) === 0x2f) return i;
  return -1;
}

/**
 * Python's `$` (the end, or just before a final "\n"), preceded by `#`s if `hashes`, preceded by
 * a `/`: the index of that slash, or -1.
 */
function finalSlash(t: string, hashes: boolean): number {
  let e = t.length;
  if (e > 0 && t.charCodeAt(e - 1) === 0x0a) e--;
  if (hashes) while (e > 0 && t.charCodeAt(e - 1) === 0x23 /* # */) e--;
  return e > 0 && t.charCodeAt(e - 1) === 0x2f ? e - 1 : -1;
}

/**
 * cidre6 (B7; `segments` 2), cidre8 (B8, B2b; `segments` 1) and cidre7 (B2b; 2, after `#`s):
 * `/courses/(A/B)/RUN/courseware/CH[/SEQ]/` ending at the final slash f (see `finalSlash`);
 * sLast is the slash before the last segment. Every part is a `/`-free segment, so a match can
 * only be made of the text's last slashes, read backwards. Returns
 * `A/B/<label>/<last segment><trail>` or null.
 */
function coursewareAtEnd(t: string, f: number, sLast: number, segments: 1 | 2, label: string, trail: string): string | null {
  let s = sLast;
  if (segments === 2) {
    const sCh = prevSlash(t, s - 1);
    if (sCh < 0 || sCh === s - 1) return null;
    s = sCh;
  }
  const sCw = s - 11;
  if (sCw < 0 || !t.startsWith('/courseware', sCw)) return null;
  const sRun = prevSlash(t, sCw - 1);
  if (sRun < 0 || sRun === sCw - 1) return null;
  const sB = prevSlash(t, sRun - 1);
  if (sB < 0 || sB === sRun - 1) return null;
  const sA = prevSlash(t, sB - 1);
  if (sA < 8 || sA === sB - 1 || !t.startsWith('/courses', sA - 8)) return null;
  return `${t.slice(sA + 1, sRun)}/${label}/${t.slice(sLast + 1, f)}${trail}`;
}

/** The slash before the (non-empty) last segment ending at the final slash f, or -1. */
function lastSegmentStart(t: string, f: number): number {
  if (f <= 0) return -1;
  const s = prevSlash(t, f - 1);
  return s === f - 1 ? -1 : s;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * okre2a (A3, A4 with an opaque-key page): `input_(?P<id>[^=]+)_[0-9]+_[^=]+=`.
 * For a start `a`, everything before the first `=` after it (e) is `[^=]`, so the `=` is e. ID is
 * greedy: the largest u < e with `_`, a maximal digit run, `_` and at least one more character
 * before e. (For `input_p1_2_1_comment=x` that is `p1_2`, the documented bug.) Starts before e
 * share e and fail alike, so the next start is searched after e.
 */
function matchInputGreedyId(t: string): string | null {
  for (let a = t.indexOf('input_'); a >= 0; ) {
    const e = t.indexOf('=', a + 6);
    if (e < 0) return null;
    for (let u = t.lastIndexOf('_', e - 1); u >= a + 7; u = t.lastIndexOf('_', u - 1)) {
      let v = u + 1;
      while (v < e && isDigit(t.charCodeAt(v))) v++;
      if (v > u + 1 && v + 1 < e && t.charCodeAt(v) === 0x5f /* _ */) return t.slice(a + 6, u);
    }
    a = t.indexOf('input_', e + 1);
  }
  return null;
}

/**
 * cidre11a (A3, A4, B12):
 * `input_i4x-(?P<org>[^-]+?)-(?P<course>[^-]+?)-(?P<mtype>[^-]+?)-(?P<id>.+?)_[0-9]+_[^=]+=.*`
 * → `ORG/COURSE/TYPE/ID`. The three lazy `[^-]+?` parts each end at the next `-`. ID is lazy: the
 * smallest u (ID = t[d3+1, u), non-empty, no "\n" since Python's `.` excludes only "\n") with `_`,
 * a maximal digit run, `_` at v, then a non-`=` character and some `=` later on. Whether a u works
 * does not depend on the start, so ranges already scanned for an earlier start are not rescanned.
 */
function matchInputI4xLazy(t: string): string | null {
  const lastEq = t.lastIndexOf('=');
  if (lastEq < 0) return null;
  const n = t.length;
  let scannedTo = -1; // the u range of the last scanned start ended here (at a "\n" or at n)
  for (let s = t.indexOf('input_i4x-'); s >= 0; s = t.indexOf('input_i4x-', s + 1)) {
    const p = s + 10;
    const d1 = t.indexOf('-', p);
    if (d1 < 0) return null;
    const d2 = t.indexOf('-', d1 + 1);
    if (d2 < 0) return null;
    const d3 = t.indexOf('-', d2 + 1);
    if (d3 < 0) return null;
    if (d1 === p || d2 === d1 + 1 || d3 === d2 + 1) continue;
    if (d3 + 1 < scannedTo) continue; // same "\n"-free stretch as an earlier, failed start
    let hi = t.indexOf('\n', d3 + 1);
    if (hi < 0) hi = n;
    scannedTo = hi;
    for (let u = t.indexOf('_', d3 + 2); u >= 0 && u < hi; u = t.indexOf('_', u + 1)) {
      let v = u + 1;
      while (v < n && isDigit(t.charCodeAt(v))) v++;
      if (v > u + 1 && v + 1 < n && t.charCodeAt(v) === 0x5f && t.charCodeAt(v + 1) !== 0x3d /* = */ && lastEq > v + 1) {
        return `${t.slice(p, d1)}/${t.slice(d1 + 1, d2)}/${t.slice(d2 + 1, d3)}/${t.slice(d3 + 1, u)}`;
      }
    }
  }
  return null;
}

/**
 * cidre10 (B10, B11; Python `match`, so anchored at the start):
 * `/courses/ORG/COURSE/(RUN[^+]+)/xblock/i4x:;_;_[^/]+;_[^/]+;_(TYPE[^;]+);_(ID[^/]+)/handler/`
 * → `ORG/COURSE/TYPE/ID`. RUN is greedy, so the occurrences of `/xblock/i4x:;_;_` inside the
 * `+`-free run are tried from the last one down.
 */
function matchXblockI4x(t: string): string | null {
  if (!t.startsWith('/courses/') || !t.includes(XBLOCK_I4X)) return null;
  const s1 = t.indexOf('/', 9);
  if (s1 <= 9) return null;
  const s2 = t.indexOf('/', s1 + 1);
  if (s2 <= s1 + 1) return null;
  let runEnd = t.indexOf('+', s2 + 1);
  if (runEnd < 0) runEnd = t.length;
  if (runEnd - 16 < s2 + 2) return null;
  for (let q = t.lastIndexOf(XBLOCK_I4X, runEnd - 16); q >= s2 + 2; q = t.lastIndexOf(XBLOCK_I4X, q - 1)) {
    const tail = xblockI4xTail(t, q + 16);
    if (tail !== null) return `${t.slice(9, s1)}/${t.slice(s1 + 1, s2)}/${tail}`;
  }
  return null;
}

/**
 * The part of cidre10 after `i4x:;_;_` (at Q): `(P1[^/]+);_(P2[^/]+);_(TYPE[^;]+);_(ID[^/]+)/handler/`.
 * P1 and P2 lie in the `/`-free segment starting at Q. For a `;_` at b ending P2, TYPE runs to the
 * next `;` (m, followed by `_`) and ID to the next `/`, which must start `/handler/`: whether b works
 * depends on b only. The regex backtracks P1 (end a) first, then P2 (end b), both from the longest;
 * the first success is therefore the largest working b (B*), provided some `;_` a lies in
 * [Q+1, B*-3]; if none does, no smaller b has one either. Returns `TYPE/ID` or null.
 */
function xblockI4xTail(t: string, Q: number): string | null {
  const slash = t.indexOf('/', Q);
  const segEnd = slash < 0 ? t.length : slash;
  for (let b = t.lastIndexOf(';_', segEnd - 2); b >= Q + 4; b = t.lastIndexOf(';_', b - 1)) {
    const m = t.indexOf(';', b + 2);
    if (m <= b + 2 || t.charCodeAt(m + 1) !== 0x5f) continue;
    const k = m + 2 <= segEnd ? slash : t.indexOf('/', m + 2);
    if (k <= m + 2 || !t.startsWith('/handler/', k)) continue;
    return t.lastIndexOf(';_', b - 3) >= Q + 1 ? `${t.slice(b + 2, m)}/${t.slice(m + 2, k)}` : null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Python 2 value semantics needed by a few rules.

/** Python truthiness of a JSON value. */
function pyTruthy(v: Json | undefined): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') {
    for (const key in v) if (Object.hasOwn(v, key)) return true;
    return false;
  }
  return true;
}

/** `doc.get('page', '') or ''`: falsy values become "", a truthy non-string is a TypeError in the regex. */
function pageOrEmpty(doc: JsonObject): string {
  const page = doc['page'] ?? '';
  if (typeof page === 'string') return page;
  if (!pyTruthy(page)) return '';
  throw new OriginalError('page is not a string');
}

/**
 * Significant digits (trailing zeros removed) and decimal exponent of a finite x > 0: shortest
 * round-trip digits when `precision` is 0 (Python's repr), else rounded to `precision` digits
 * half-to-even on the exact binary value, as Python does (JS `toExponential` rounds exact ties up).
 */
function decimalDigits(x: number, precision: number): [string, number] {
  let s = precision === 0 ? x.toExponential() : x.toExponential(precision - 1);
  if (precision !== 0) {
    const exact = x.toExponential(100); // exact for any tie at 12 digits
    const e = exact.indexOf('e');
    const d = exact.slice(0, e).replace('.', '');
    if (d.charCodeAt(precision) === 0x35 /* 5 */ && /^0*$/.test(d.slice(precision + 1)) && (d.charCodeAt(precision - 1) & 1) === 0) {
      s = `${d[0]}.${d.slice(1, precision)}${exact.slice(e)}`; // tie, even last digit: truncate
    }
  }
  const ePos = s.indexOf('e');
  let digits = s.slice(0, ePos).replace('.', '');
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 0x30) end--;
  digits = digits.slice(0, end);
  return [digits, Number(s.slice(ePos + 1))];
}

/**
 * Python 2.7 `str(float)` (12 significant digits; exponent form when the exponent is < -4 or
 * >= 11) or `repr(float)` (shortest; exponent form when < -4 or >= 16), with Python's exponent
 * style (`1e-05`, `1e+16`) and `.0` added to integral fixed-point output.
 */
function pyFloat(x: number, repr: boolean): string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Number.isNaN(x)) return 'nan';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [digits, exp] = decimalDigits(Math.abs(x), repr ? 0 : 12);
  let out: string;
  if (exp < -4 || exp >= (repr ? 16 : 11)) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ax = Math.abs(exp);
    out = `${mant}e${exp < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  } else if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    out = `${intPart}.${digits.slice(exp + 1) || '0'}`;
  } else {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return x < 0 ? `-${out}` : out;
}

/**
 * A JSON number as Python 2 prints it. JSON.parse has lost the int/float distinction of the
 * source text, so we guess it the way the event's JSON text was most likely written (browsers'
 * JSON.stringify): an integral value below 1e21 was an int literal, printed as `3` (never `3.0`)
 * and with JavaScript's digits (repr of a Python 2 long, outside [-2^63, 2^63), adds `L`);
 * anything else was a float (`2.5`, `1e+21`).
 */
function pyNumber(x: number, repr: boolean): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e21) {
    return repr && (x >= 2 ** 63 || x < -(2 ** 63)) ? `${String(x)}L` : String(x);
  }
  return pyFloat(x, repr);
}

/** Python 2 `repr(unicode)`, wide build: `u'…'` with `\xNN`, `\uNNNN`, `\UNNNNNNNN` escapes. */
function pyUnicodeRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = `u${quote}`;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp < 0x100) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + quote;
}

/** Python 2 `repr` of a JSON value. Dicts keep insertion order (Python 2's hash order is not reproducible). */
function pyRepr(v: Json): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return pyNumber(v, true);
  if (typeof v === 'string') return pyUnicodeRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  const parts: string[] = [];
  for (const k of Object.keys(v)) parts.push(`${pyUnicodeRepr(k)}: ${pyRepr(v[k] as Json)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * Python 2 `str(value)` for the seq_goto / seq_next position suffix, or null where Python raises
 * (`str()` of a non-ASCII unicode string; recursion limit), which the original swallows.
 */
function pyStr(v: Json): string | null {
  if (typeof v === 'string') return ASCII_ONLY.test(v) ? v : null;
  if (typeof v === 'number') return pyNumber(v, false);
  try {
    return pyRepr(v);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Rule A7 helpers.

/**
 * Where rule A7 reports the event text it decoded with plain JSON.parse, and the value: the
 * rewrite decodes the same text right after (rule R4) and takes the value instead. Nothing in
 * module_id mutates it.
 */
export interface DecodedEvent {
  text?: string;
  value?: unknown;
}

/** Whether JSON text could decode to an object with an own `id` key (else decoding is pointless). */
function mayDecodeToObjectWithId(s: string): boolean {
  let i = 0;
  const n = s.length;
  while (i < n) {
    const ch = s.charCodeAt(i);
    if (ch !== 0x20 && ch !== 0x09 && ch !== 0x0a && ch !== 0x0d) break;
    i++;
  }
  if (i >= n || s.charCodeAt(i) !== 0x7b /* { */) return false;
  // The key must appear as `"id"`, or be spelled with an escape.
  return s.includes('"id"', i) || s.includes('\\', i);
}

/** Python's json.loads also accepts the bare constants NaN, Infinity and -Infinity. */
const PY_CONST_MARK = '\u0000edx2bq-pyjson:';
const PY_CONSTANTS = ['-Infinity', 'Infinity', 'NaN'] as const;
function parsePythonJson(s: string, decoded: DecodedEvent | undefined): unknown {
  try {
    const v: unknown = JSON.parse(s);
    if (decoded !== undefined) {
      decoded.text = s;
      decoded.value = v;
    }
    return v;
  } catch {
    if (!PY_JSON_CONSTANT.test(s)) return undefined;
  }
  // Rewrite the constants outside strings as marked strings, then revive them.
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
      continue;
    }
    if (ch === 0x22) {
      inString = true;
      continue;
    }
    if (ch !== 0x2d /* - */ && ch !== 0x49 /* I */ && ch !== 0x4e /* N */) continue;
    for (const token of PY_CONSTANTS) {
      if (s.startsWith(token, i)) {
        out += `${s.slice(last, i)}"\\u0000${PY_CONST_MARK.slice(1)}${token}"`;
        i += token.length - 1;
        last = i + 1;
        break;
      }
    }
  }
  out += s.slice(last);
  try {
    return JSON.parse(out, (key: string, value: unknown) => {
      if (key.startsWith(PY_CONST_MARK)) throw new SyntaxError('constant used as a key');
      if (typeof value === 'string' && value.startsWith(PY_CONST_MARK)) {
        const token = value.slice(PY_CONST_MARK.length);
        return token === 'NaN' ? NaN : token === 'Infinity' ? Infinity : -Infinity;
      }
      return value;
    });
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

/** Spec tracking-logs.md §4, on the raw event (before `event` is decoded). Never throws. */
export function extractModuleId(ev: JsonObject, decoded?: DecodedEvent): ModuleIdResult {
  try {
    return guessModuleId(ev, decoded);
  } catch (err) {
    let message: string;
    try {
      message = err instanceof Error ? err.message : String(err);
    } catch {
      message = 'unknown';
    }
    return Object.freeze({ id: null, rule: `error: ${message}` });
  }
}

function guessModuleId(doc: JsonObject, decodedEvent: DecodedEvent | undefined): ModuleIdResult {
  if (!isObject(doc)) throw new OriginalError('event document is not an object');
  // The original reads doc['event'], doc['event_type'], then doc.get('context', {}).get('path', '').
  if (doc['event'] === undefined) return MISSING_EVENT;
  let event = doc['event'] as Json;
  if (doc['event_type'] === undefined) return MISSING_EVENT_TYPE;
  const eventType = doc['event_type'] as Json;
  let path: Json = '';
  if (doc['context'] !== undefined) {
    const context = doc['context'];
    if (!isObject(context)) throw new OriginalError('context is not an object');
    if (context['path'] !== undefined) path = context['path'] as Json;
  }
  if (typeof eventType !== 'string') throw new OriginalError('event_type is not a string');

  // ---- Phase A: opaque keys.
  let r: string | null;
  let a5: string | null = null; // A5 / A6 results, found by the same scans as A1 / A2
  let a6: string | null = null;
  const etCv1 = eventType.indexOf(CV1);
  if (etCv1 >= 0) {
    if ((r = scanXblockV1(eventType, etCv1)) !== null) return found(r, 'A1');
    a5 = xblockAnyResult;
  }
  if (typeof path !== 'string') throw new OriginalError('context.path is not a string');
  // A server event's path is usually its event_type: the path rules (A2, A6, B11) would then
  // repeat the event_type rules (A1, A5, B10), which have failed.
  const samePath = path === eventType;
  const pathCv1 = samePath ? -1 : path.indexOf(CV1);
  if (pathCv1 >= 0) {
    if ((r = scanXblockV1(path, pathCv1)) !== null) return found(r, 'A2');
    a6 = xblockAnyResult;
  }

  if (typeof event === 'string' && event.startsWith('input_') && eventType.includes('problem')) {
    // A3. (If both sub-rules fail the original logs "parse failed" and carries on.)
    const orgCourse = matchCourseV1Bc(pageOrEmpty(doc));
    if (orgCourse !== null) {
      const amp = event.indexOf('&');
      const id = matchInputGreedyId(amp < 0 ? event : event.slice(0, amp));
      if (id !== null) return found(`${orgCourse}problem/${id}`, 'A3');
    }
    if ((r = matchInputI4xLazy(event)) !== null) return found(r, 'A3');
  }

  if (eventType === 'problem_graded' && Array.isArray(event) && event.length > 0) {
    // A4: the same on event[0], without the `&` split.
    const first = event[0];
    if (typeof first !== 'string') throw new OriginalError('event[0] is not a string');
    if (first.startsWith('input_')) {
      const orgCourse = matchCourseV1Bc(pageOrEmpty(doc));
      if (orgCourse !== null) {
        const id = matchInputGreedyId(first);
        if (id !== null) return found(`${orgCourse}problem/${id}`, 'A4');
      }
      if ((r = matchInputI4xLazy(first)) !== null) return found(r, 'A4');
    }
  }

  if (a5 !== null) return found(a5, 'A5');
  if (a6 !== null) return found(a6, 'A6');

  // A7: the decoded event replaces the raw one only if it is an object with an `id` key.
  if (typeof event === 'string' && mayDecodeToObjectWithId(event)) {
    const decoded = parsePythonJson(event, decodedEvent);
    if (isObject(decoded) && decoded['id'] !== undefined) event = decoded;
  }

  if (isObject(event)) {
    const eid = event['id'];
    if (typeof eid === 'string') {
      // A8
      if ((r = matchBlockV1(eid)) !== null) return found(r, 'A8a');
      if ((r = matchI4xDash(eid)) !== null) return found(r, 'A8b');
      if (eventType === 'play_video' && !eid.includes('/')) {
        const orgCourse = matchCourseV1Courseware(pageOrEmpty(doc));
        if (orgCourse !== null) return found(`${orgCourse}video/${eid}`, 'A8c');
      }
    } else if (eid !== undefined) {
      // Only B0 can come before B1 from here on.
      return eventType === 'add_resource' || eventType === 'delete_resource' || eventType === 'recommender_upvote'
        ? NONE_B0
        : NONE_B1;
    }
  } else if (typeof event === 'string') {
    // A9: on the raw text, so the ID may carry JSON punctuation.
    if ((r = matchBlockV1(event)) !== null) return found(r, 'A9');
  }

  // ---- Phase B: legacy keys.
  if (eventType === 'add_resource' || eventType === 'delete_resource' || eventType === 'recommender_upvote') {
    return NONE_B0;
  }
  // B1 (event.id present but not a string) was decided above.
  if (doc['event_source'] === undefined) return MISSING_EVENT_SOURCE;

  if (doc['event_source'] === 'browser') {
    const b2 = browserRules(doc, event, eventType);
    if (b2 !== null) return b2;
  }

  // B3..B10 all need a `/` in event_type (semantic names such as play_video have none).
  const etHasSlash = eventType.includes('/');
  if (etHasSlash) {
    let m: RegExpExecArray | null;
    if (eventType.startsWith('/courses/')) {
      // B3..B6 (anchored): the fourth path segment must be `discussion`.
      const s1 = eventType.indexOf('/', 9);
      const s2 = s1 < 0 ? -1 : eventType.indexOf('/', s1 + 1);
      const s3 = s2 < 0 ? -1 : eventType.indexOf('/', s2 + 1);
      if (s3 >= 0 && eventType.startsWith('/discussion/', s3)) {
        if ((m = FIDRE5.exec(eventType)) !== null) return found(`${m[1]}/forum/${m[2]}`, 'B3');
        if ((m = FIDRE6.exec(eventType)) !== null) return found(`${m[1]}/forum/${m[2]}`, 'B4');
        if ((m = FIDRE7.exec(eventType)) !== null) return found(`${m[1]}/forum/new`, 'B5');
        if ((m = FIDRE8.exec(eventType)) !== null) return found(`${m[1]}/forum/${m[2]}`, 'B6');
      }
    }
    const f = finalSlash(eventType, false);
    const sLast = lastSegmentStart(eventType, f);
    if (sLast >= 0) {
      if ((r = coursewareAtEnd(eventType, f, sLast, 2, 'sequential', '/')) !== null) return found(r, 'B7');
      if ((r = coursewareAtEnd(eventType, f, sLast, 1, 'chapter', '')) !== null) return found(r, 'B8');
    }
    if (eventType.includes('/jump_to_id/') && (m = CIDRE9.exec(eventType)) !== null) {
      return found(`${m[1]}/jump_to_id/${m[2]}`, 'B9');
    }
    if ((r = matchXblockI4x(eventType)) !== null) return found(r, 'B10');
  }
  if (!samePath && (r = matchXblockI4x(path)) !== null) return found(r, 'B11');

  if (typeof event === 'string' && event.startsWith('input_') && (r = matchInputI4xLazy(event)) !== null) {
    return found(r, 'B12');
  }

  if (etHasSlash && eventType.includes('i4x://')) {
    const m = CIDRE3.exec(eventType);
    if (m !== null) {
      const base = m[1] as string;
      if (eventType.includes('/goto_position') && CIDRE3A.test(eventType)) {
        const position = gotoPosition(event);
        if (position !== null) return found(`${base}/${position}`, 'B13');
        // The original's error message concatenates doc['_id'] to a string: a TypeError unless it is one.
        if (doc['_id'] !== undefined && typeof doc['_id'] !== 'string') {
          throw new OriginalError('goto_position fallback with a non-string _id');
        }
      }
      return found(base, 'B13');
    }
  }
  // B14 (cidre3b) is unreachable: whatever it matches, cidre3 (B13) matched first.

  if (typeof event === 'string') {
    if (event.includes('i4x://')) {
      const m = CIDRE3.exec(event);
      if (m !== null) return found(m[1] as string, 'B15');
    }
    return NONE_B16;
  }

  if (isObject(event)) {
    const problemId = event['problem_id'];
    if (pyTruthy(problemId)) {
      if (typeof problemId !== 'string') throw new OriginalError('event.problem_id is not a string');
      const m = CIDRE3.exec(problemId);
      if (m !== null) return found(m[1] as string, 'B17');
    }
    const eid = event['id'];
    if (typeof eid === 'string' && eid !== '') {
      const m = CIDRE4.exec(eid);
      if (m !== null) return found(`${m[1]}/${m[2]}/video/${m[3]}`, 'B18');
    }
  }
  return NONE;
}

/** B2 (event_source == "browser"). Null when no sub-rule produced a module_id. */
function browserRules(doc: JsonObject, event: Json, eventType: string): ModuleIdResult | null {
  // B2a: event.id (a string here, B1 has run) contains i4x://A/B/C/D.
  if (isObject(event) && event['id'] !== undefined) {
    const eid = event['id'] as string;
    const m = eid.includes('i4x://') ? CIDRE3.exec(eid) : null;
    if (m !== null) {
      const base = m[1] as string;
      if (eventType !== 'seq_goto' && eventType !== 'seq_next') return found(base, 'B2a');
      // `str(event['new'])`; a missing key or a failing str() is swallowed: the sub-rule is skipped.
      if (event['new'] !== undefined) {
        const position = pyStr(event['new'] as Json);
        if (position !== null) return found(`${base}/${position}`, 'B2a');
      }
    }
  }

  // B2b: page_close; a missing or non-string page is an uncaught error in the original.
  if (eventType === 'page_close') {
    if (doc['page'] === undefined) throw new OriginalError('page_close event without page');
    const page = doc['page'];
    if (typeof page !== 'string') throw new OriginalError('page is not a string');
    let f = finalSlash(page, true);
    let sLast = lastSegmentStart(page, f);
    let r = sLast < 0 ? null : coursewareAtEnd(page, f, sLast, 2, 'sequential', '/');
    if (r !== null) return found(r, 'B2b');
    f = finalSlash(page, false);
    sLast = lastSegmentStart(page, f);
    r = sLast < 0 ? null : coursewareAtEnd(page, f, sLast, 1, 'chapter', '/');
    if (r !== null) return found(r, 'B2b');
  }

  // B2c is dead in the original (attribute access on a dict always fails).

  // B2d: a string event. (B2e then sees only its first character, which cannot match.)
  if (typeof event === 'string') {
    if (event.startsWith('input_i4x-')) {
      const m = CIDRE5.exec(event);
      if (m !== null) return found(`${m[1]}/${m[2]}/problem/${m[3]}`, 'B2d');
    }
    return null;
  }
  // B2e: the first element of an array event.
  if (Array.isArray(event) && event.length > 0) {
    const first = event[0];
    if (typeof first === 'string' && first.startsWith('input_i4x-')) {
      const m = CIDRE5.exec(first);
      if (m !== null) return found(`${m[1]}/${m[2]}/problem/${m[3]}`, 'B2e');
    }
  }
  return null;
}

/**
 * `event['POST']['position'][0]` for B13, or null where Python raises (then the rule falls back to
 * the plain id). A string `position` is indexed, giving its first character (code point: wide build).
 */
function gotoPosition(event: Json): string | null {
  if (!isObject(event) || event['POST'] === undefined) return null;
  const post = event['POST'];
  if (!isObject(post) || post['position'] === undefined) return null;
  const position = post['position'];
  if (typeof position === 'string') {
    const cp = position.codePointAt(0);
    return cp === undefined ? null : String.fromCodePoint(cp);
  }
  if (Array.isArray(position) && position.length > 0 && typeof position[0] === 'string') return position[0];
  return null;
}
