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
  if (eventType.charCodeAt(0) !== 47 /* / */) return 0;
  // the original's regexes `^/courses/<id>/progress` and `^/courses/<id>/discussion/.*`
  if (underCourse(eventType, course, 'progress')) return PCDAY_FLAG.progcheck;
  if (underCourse(eventType, course, 'discussion/')) return PCDAY_FLAG.forum;
  return 0;
}
