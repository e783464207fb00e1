import { resolveCourseId } from './courseId.ts';
import { rephrase } from './rephrase.ts';
import { parseTimeMicros } from './time.ts';
import { isObject, type JsonObject } from './types.ts';

/** One input line after parsing, course resolution and the rewrite; or why it is a reject. */
export type LineOutcome =
  | { ok: true; courseId: string | null; timeMicros: number; row: JsonObject }
  | { ok: false; reason: string };

/** Spec §1.2 steps 1–2: trim, and drop the 26-character syslog prefix of 2012 lines. */
export function preprocessLine(raw: string): string {
  const s = raw.trim();
  if (s.charCodeAt(0) === 123) return s;
  const at = s.indexOf('localhost {');
  return at >= 0 && at + 11 <= 27 ? s.slice(26) : s; // the whole text within the first 27 characters
}

function reject(reason: string): LineOutcome {
  return { ok: false, reason };
}

/** Parses one raw line into a parsed, validated raw event, or a reject reason. */
export function parseRawEvent(raw: string): { ev: JsonObject; timeMicros: number } | { reason: string } {
  const s = preprocessLine(raw);
  if (s === '') return { reason: 'empty line' };
  let ev: unknown;
  try {
    ev = JSON.parse(s);
  } catch (e) {
    return { reason: `bad JSON: ${(e as Error).message}` };
  }
  if (!isObject(ev)) return { reason: `not a JSON object (${Array.isArray(ev) ? 'array' : ev === null ? 'null' : typeof ev})` };
  const t = ev.time;
  if (t === undefined || t === null) return { reason: 'missing time' };
  if (typeof t !== 'string') return { reason: `unparseable time: ${JSON.stringify(t).slice(0, 60)}` };
  const us = parseTimeMicros(t);
  if (Number.isNaN(us)) return { reason: `unparseable time: ${JSON.stringify(t.slice(0, 60))}` };
  return { ev, timeMicros: us };
}

/**
 * The whole per-line step of `split` and `rephrase`: parse, time, course_id (spec §2, REC),
 * then the rewrite of §3. The row's top-level `course_id` is the slash-form id, also when it
 * was guessed (REC; flagged in `mongoid`).
 */
export function processLine(raw: string): LineOutcome {
  const parsed = parseRawEvent(raw);
  if ('reason' in parsed) return reject(parsed.reason);
  const { ev, timeMicros } = parsed;
  const course = resolveCourseId(ev);
  if (course.courseId !== null) ev.course_id = course.courseId;
  const row = rephrase(ev, { courseIdGuessed: course.guessed });
  return { ok: true, courseId: course.courseId, timeMicros, row };
}
