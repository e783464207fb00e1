/** Options and the truth.json shape of the sample-data generator. */

export interface GenerateOptions {
  /** Output directory (created if missing). */
  out: string;
  /** Number of courses (default 4); even indices use slash ids, odd ones opaque course-v1 ids. */
  courses?: number;
  /** Number of learners (default 200). */
  learners?: number;
  /** Number of daily files (default 2). */
  days?: number;
  /** First date, YYYY-MM-DD (default 2015-03-01). */
  start?: string;
  /** Valid events per daily file, exact (default 9 × learners). Malformed lines come on top. */
  eventsPerDay?: number;
  /** Seed (default 1). Same options and seed → byte-identical files. */
  seed?: number;
  /** Probability, per valid event, that a malformed line is inserted before it (default 0.001). */
  malformedRate?: number;
  /** Org used in file names (`<org>-edx-events-…`) and, capitalised, in course ids (default mitx). */
  org?: string;
  /** Progress callback, called after each file. */
  onFile?: (name: string, file: FileTruth) => void;
}

export const MALFORMED_KINDS = ['truncated', 'garbage', 'array', 'number', 'badTime', 'missingTime', 'empty', 'invalidUtf8'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export interface FileTruth {
  date: string;
  /** Newline-terminated lines written (valid events + malformed lines). */
  lines: number;
  /** Valid events (parseable JSON objects with a parseable time). */
  events: number;
  /** Malformed lines by kind (every kind listed, zeros included). */
  malformed: Record<string, number>;
  /** Total malformed lines. */
  rejects: number;
  /** Valid events with no course (after the guessing rules). */
  unknown: number;
  /** Valid events per course, keyed by slash-form course id. Courses with no events are listed with 0. */
  perCourse: Record<string, number>;
  /** Per course: valid events with username != "" and event_type not containing "/xblock/" (spec §5.1). */
  baseEvents: Record<string, number>;
  /** Per course: valid events with username != "" (all event types: the rows of pcday_ip_counts sum to this, spec §9.1). */
  namedEvents: Record<string, number>;
  /** Per course: learners with at least one base event on this file's date (all of a file's events are on its date). */
  learnerDays: Record<string, number>;
  /** Valid events whose course had to be guessed (context.course_id empty, missing or null). */
  guessed: number;
  /** Valid events with username "". */
  anonymous: number;
  /** Valid lines written with a syslog prefix (spec §1.2). */
  syslogLines: number;
  /** Valid events by time-string form. */
  timeForms: Record<string, number>;
  /** Valid events by generator kind (`source:event_type-or-url-pattern`). */
  kinds: Record<string, number>;
  /** Uncompressed bytes of the file. */
  bytes: number;
}

export interface CourseTruth {
  id: string;
  slashId: string;
  form: 'slash' | 'opaque';
  org: string;
  number: string;
  run: string;
  chapters: number;
  sequentials: number;
  problems: string[];
  videos: string[];
  /** Browser video events carry a `speed` field. */
  videoSpeedField: boolean;
  /** Browser video `id` is a full block-v1 key (else a hex id or an i4x-… html id). */
  videoIdIsKey: boolean;
}

export interface Truth {
  seed: number;
  options: { courses: number; learners: number; days: number; start: string; eventsPerDay: number; malformedRate: number; org: string };
  files: Record<string, FileTruth>;
  courses: CourseTruth[];
  learners: number;
  staff: number;
}
