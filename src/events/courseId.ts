import { slashCourseId } from '../ids.ts';
import { isObject, type JsonObject } from './types.ts';

/** Where an event's course came from (spec tracking-logs.md §2). */
export interface CourseResolution {
  /** Slash-form course id, or null when the event belongs to no course. */
  courseId: string | null;
  /** True when the id was guessed from `page` / `event_type` (legacy logs). */
  guessed: boolean;
}

const NO_COURSE: CourseResolution = { courseId: null, guessed: false };

// REC of §2 step 4: understand `course-v1:` URLs as well as the three-segment slash form.
// At each `/courses/` the opaque form is tried first, so `course-v1:X+Y+Z/courseware/ch` is never
// mistaken for a three-segment slash id.
const COURSE_IN_URL = /\/courses\/(?:course-v1:([^/+]+)\+([^/+]+)\+([^/+]+)\/|([^/]+)\/([^/]+)\/([^/]+)\/)/;
const COURSE_IN_PAGE = /^https*:\/\/[^/]+\/courses\/(?:course-v1:([^/+]+)\+([^/+]+)\+([^/+]+)\/|([^/]+)\/([^/]+)\/([^/]+)\/)/;

function fromMatch(m: RegExpExecArray | null): string | null {
  if (!m) return null;
  return m[1] !== undefined ? `${m[1]}/${m[2]}/${m[3]}` : `${m[4]}/${m[5]}/${m[6]}`;
}

/** The course id named in a URL or URL-shaped event_type (`/courses/<id>/…`), in slash form. */
export function courseIdInUrl(url: string): string | null {
  return url.includes('/courses/') ? fromMatch(COURSE_IN_URL.exec(url)) : null;
}

/**
 * The course of a raw event, REC semantics: an existing top-level `course_id` (re-processing
 * rewritten logs), else `context.course_id` with opaque keys converted; null, missing and
 * non-string ids count as empty, and empty ids are guessed from `page` (browser events) or
 * `event_type` (any other source), understanding `course-v1:` URLs.
 */
export function resolveCourseId(ev: JsonObject): CourseResolution {
  const top = ev.course_id;
  if (typeof top === 'string' && top !== '') return { courseId: slashCourseId(top), guessed: false };
  const ctx = ev.context;
  if (isObject(ctx)) {
    const cid = ctx.course_id;
    if (typeof cid === 'string' && cid !== '') return { courseId: slashCourseId(cid), guessed: false };
  }
  const source = ev.event_source;
  if (source === undefined) return NO_COURSE;
  if (source === 'browser') {
    const page = ev.page;
    if (typeof page !== 'string' || !page.includes('/courses/')) return NO_COURSE;
    const id = fromMatch(COURSE_IN_PAGE.exec(page));
    return id === null ? NO_COURSE : { courseId: id, guessed: true };
  }
  const et = ev.event_type;
  if (typeof et !== 'string') return NO_COURSE;
  const id = courseIdInUrl(et);
  return id === null ? NO_COURSE : { courseId: id, guessed: true };
}
