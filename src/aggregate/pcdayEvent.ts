/**
 * Which person_course_day counters one base event feeds (spec tracking-logs.md §5.1–§5.2, REC:
 * `nprogcheck` and `nforum` match the course's URLs in both id forms, so they are no longer
 * always 0 for `course-v1:` courses).
 */
export const PCDAY_FLAG = {
  progcheck: 1 << 0,
  showAnswer: 1 << 1,
  video: 1 << 2,
  problemCheck: 1 << 3,
  forum: 1 << 4,
  transcript: 1 << 5,
  seqGoto: 1 << 6,
  seekVideo: 1 << 7,
  pauseVideo: 1 << 8,
} as const;

/** The flags of the person_course_day counters (the bits below the time_on_task categories). */
export const PCDAY_COUNTER_BITS = (1 << 9) - 1;

/**
 * The time_on_task categories of an event (spec §6.1; they can overlap), stored in the spare bits
 * of the same flags, above the counters. `TASK_SHIFT` turns them into the 4-bit mask of the
 * `time_on_task_intraday` table (1 video, 2 problem, 4 forum, 8 text).
 */
export const TASK_SHIFT = 9;
export const TASK_FLAG = {
  video: 1 << TASK_SHIFT,
  problem: 2 << TASK_SHIFT,
  forum: 4 << TASK_SHIFT,
  text: 8 << TASK_SHIFT,
} as const;
/** The categories in table order (time_on_task's column groups). */
export const TASK_CATEGORIES = ['video', 'problem', 'forum', 'text'] as const;

// the original's REGEXP_MATCH is a search (not anchored) and RE2's \w is ASCII, as JS's without /u
const VIDEO_RE = /\w_(?:video|transcript)/;
const PROBLEM_RE = /problem_\w/;
/** Whether a URL-shaped event_type can have a category at all (the `edx.forum.` and `textbook.` prefixes cannot start with `/`). */
const URL_CATEGORY_RE = /\w_(?:video|transcript)|problem_\w|\/discussion\/(?:forum|threads|comments)|\/wiki\//;

/** The time_on_task category flags of an event_type, computed (`taskFlags` is the cached lookup). */
export function computeTaskFlags(eventType: string): number {
  let f = 0;
  if (VIDEO_RE.test(eventType)) f |= TASK_FLAG.video;
  if (PROBLEM_RE.test(eventType)) f |= TASK_FLAG.problem;
  if (eventType.startsWith('edx.forum.') || eventType.includes('/discussion/forum') || eventType.includes('/discussion/threads') || eventType.includes('/discussion/comments')) f |= TASK_FLAG.forum;
  if (eventType.startsWith('textbook.') || eventType.includes('/wiki/')) f |= TASK_FLAG.text;
  return f;
}

/**
 * event_type → its category flags, per worker, computed once per distinct string. The cache is
 * bounded (it starts over when full). Keys are copied on insert: the scanner's strings are slices
 * of the whole chunk's text, which a cached slice would keep alive.
 */
const taskCache = new Map<string, number>();
const TASK_CACHE_MAX = 20_000;

export function taskFlags(eventType: unknown): number {
  if (typeof eventType !== 'string') return 0;
  let f = taskCache.get(eventType);
  if (f === undefined) {
    f = computeTaskFlags(eventType);
    if (taskCache.size >= TASK_CACHE_MAX) taskCache.clear();
    taskCache.set(JSON.parse(JSON.stringify(eventType)) as string, f); // a copy, exact to the code unit
  }
  return f;
}

/** The counter columns in table order, each with its flag. */
export const PCDAY_COUNTERS = [
  ['nprogcheck', PCDAY_FLAG.progcheck],
  ['nshow_answer', PCDAY_FLAG.showAnswer],
  ['nvideo', PCDAY_FLAG.video],
  ['nproblem_check', PCDAY_FLAG.problemCheck],
  ['nforum', PCDAY_FLAG.forum],
  ['ntranscript', PCDAY_FLAG.transcript],
  ['nseq_goto', PCDAY_FLAG.seqGoto],
  ['nseek_video', PCDAY_FLAG.seekVideo],
  ['npause_video', PCDAY_FLAG.pauseVideo],
] as const;

/** Spec §5.1: a base event has a non-empty username and an event_type without `/xblock/`. */
export function isBaseEvent(username: unknown, eventType: unknown): boolean {
  return typeof username === 'string' && username !== '' && !(typeof eventType === 'string' && eventType.includes('/xblock/'));
}

/** URL prefixes of one course in both id forms: `/courses/ORG/NUM/RUN/` and `/courses/course-v1:ORG+NUM+RUN/`. */
export interface CourseUrlPrefixes {
  slash: string;
  opaque: string | null;
}

export function courseUrlPrefixes(slashCourseId: string): CourseUrlPrefixes {
  const parts = slashCourseId.split('/');
  return {
    slash: `/courses/${slashCourseId}/`,
    opaque: parts.length === 3 ? `/courses/course-v1:${parts.join('+')}/` : null,
  };
}

function underCourse(t: string, course: CourseUrlPrefixes, rest: string): boolean {
  return (t.startsWith(course.slash) && t.startsWith(rest, course.slash.length)) || (course.opaque !== null && t.startsWith(course.opaque) && t.startsWith(rest, course.opaque.length));
}

// the flags of the commonest event types, worked out once
const known = (t: string) => pcdayFlags(t, { slash: '/', opaque: null }) | computeTaskFlags(t);
const KNOWN_FLAGS = new Map(
  [
    'play_video', 'pause_video', 'problem_check', 'load_video', 'seq_next', 'seq_goto', 'seek_video', 'page_close', 'seq_prev', 'speed_change_video',
    'stop_video', 'show_transcript', 'hide_transcript', 'problem_graded', 'problem_show', 'problem_save', 'show_answer', 'showanswer',
  ].map((t) => [t, known(t)]),
);

/**
 * The flags of one base event of `course`: its pcday counters and its time_on_task categories;
 * always `pcdayFlags | computeTaskFlags`. URL-shaped types (a third of the events, mostly
 * distinct strings) by one regex that rules out nearly all of them; the commonest named types
 * from a table (a Map, not a switch: a long string switch is costly for V8's optimising compiler,
 * in every worker); the rest through the cache (their counters are 0: every named type with a
 * counter is in the table).
 */
export function baseEventFlags(eventType: unknown, course: CourseUrlPrefixes): number {
  if (typeof eventType !== 'string') return 0;
  if (eventType.charCodeAt(0) === 47 /* / */) return urlCounterFlags(eventType, course) | (URL_CATEGORY_RE.test(eventType) ? computeTaskFlags(eventType) : 0);
  return KNOWN_FLAGS.get(eventType) ?? taskFlags(eventType);
}

/** The counter flags of one base event of `course`. */
export function pcdayFlags(eventType: unknown, course: CourseUrlPrefixes): number {
  if (typeof eventType !== 'string') return 0;
  switch (eventType) {
    case 'show_answer':
    case 'showanswer':
      return PCDAY_FLAG.showAnswer;
    case 'play_video':
      return PCDAY_FLAG.video;
    case 'problem_check':
      return PCDAY_FLAG.problemCheck;
    case 'show_transcript':
      return PCDAY_FLAG.transcript;
    case 'seq_goto':
      return PCDAY_FLAG.seqGoto;
    case 'seek_video':
      return PCDAY_FLAG.seekVideo;
    case 'pause_video':
      return PCDAY_FLAG.pauseVideo;
  }
  return eventType.charCodeAt(0) === 47 /* / */ ? urlCounterFlags(eventType, course) : 0;
}

/** The counters of a URL-shaped event_type: the original's regexes `^/courses/<id>/progress` and `^/courses/<id>/discussion/.*`. */
function urlCounterFlags(eventType: string, course: CourseUrlPrefixes): number {
  if (underCourse(eventType, course, 'progress')) return PCDAY_FLAG.progcheck;
  if (underCourse(eventType, course, 'discussion/')) return PCDAY_FLAG.forum;
  return 0;
}
