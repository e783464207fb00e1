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
  /**
   * Also write a weekly research dump consistent with the logs under `<out>/dump/<org>-<dumpDate>/`
   * (default false; the CLI's --dump turns it on) and describe it in `truth.dump`.
   */
  dump?: boolean;
  /** Date of the dump, YYYY-MM-DD (default: the day after the last log day; never earlier). Implies nothing unless `dump`. */
  dumpDate?: string;
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
  /** Per course: base events by person_course_day counter (nvideo, npause_video, nseek_video, nseq_goto, ntranscript, nproblem_check, nshow_answer, nprogcheck, nforum; both course-id URL forms). */
  baseCounters: Record<string, Record<string, number>>;
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
  /** Present only when the dump was written. */
  dump?: DumpTruth;
}

/** The forum export of one course. */
export interface ForumTruth {
  /** Lines (CommentThread + Comment documents). */
  documents: number;
  threads: number;
  /** Comments without parent_id. */
  responses: number;
  /** Comments with a parent_id. */
  comments: number;
  /** Documents created by edx.forum.*.created events of the logs (same ids and authors). */
  fromLogs: number;
  /** Vote events of the logs whose target is a document (voter added to votes.up). */
  logVotes: number;
  /** Log-created responses/comments whose thread or parent is not in the export (0 by construction). */
  danglingReferences: number;
  /** Distinct author_id. */
  authors: number;
  pinned: number;
  endorsed: number;
  /** Sum of votes.count. */
  votes: number;
}

/** One course of the research dump. All user counts are distinct user ids of the course's files. */
export interface DumpCourseTruth {
  /** `{org}-{course}-{run}`, the prefix of every file name of the course. */
  prefix: string;
  /** File names written for this course, sorted. */
  files: string[];
  /** Data rows per .sql table (header excluded), documents in the .mongo file under `forum`. */
  rows: Record<string, number>;
  /** Columns left out of a table's file (older / newer export variants), table → columns. */
  omittedColumns: Record<string, string[]>;
  /** Tables whose file ends without a final newline. */
  unterminated: string[];
  /** auth_user rows: everyone of the course (enrolled, unenrolled, certificate only, staff). What user_info_combo holds. */
  registered: number;
  /** auth_user rows with is_active 0. */
  inactiveAccounts: number;
  /** auth_user rows without an auth_userprofile row. */
  withoutProfile: number;
  /** student_courseenrollment rows (one per user). */
  enrolled: number;
  /** Enrollment rows with is_active 1 / 0. */
  active: number;
  unenrolled: number;
  /** Enrollment rows by mode (all rows / active rows). */
  modes: Record<string, number>;
  activeModes: Record<string, number>;
  /** Enrollment rows with mode verified. */
  verified: number;
  /** Enrollment rows of (user, course) pairs the logs have enrollment events for. */
  withLogEnrollmentEvents: number;
  /** Enrollment rows created during the logs (created = the first edx.course.enrollment.activated). */
  createdDuringLogs: number;
  /** Enrollment events of the logs for this course (activated, deactivated, mode_changed). */
  logEnrollmentEvents: Record<string, number>;
  /** certificates_generatedcertificate rows. */
  certificates: number;
  certificateStatus: Record<string, number>;
  /** status downloadable. */
  certified: number;
  /** Certificate rows whose user has no enrollment row. */
  certificateWithoutEnrollment: number;
  /** Certificates with grade '' (not parseable). */
  certificateGradeEmpty: number;
  /** GRADE_CUTOFFS of grading_policy.json, its `Pass` cutoff (null when none) and its minimum. */
  gradeCutoffs: Record<string, number>;
  passingGrade: number | null;
  minCutoff: number;
  /** Certificates with a grade ≥ minCutoff. */
  gradeAtLeastMinCutoff: number;
  /** Users with a student_courseaccessrole row (staff, instructor, beta_testers). */
  courseRoleUsers: number;
  courseRoles: Record<string, number>;
  forumRoles: Record<string, number>;
  /** Users labelled Staff by spec §3 with the REC role-name normalisation (Community TA, Group Moderator count). */
  rolesStaff: number;
  /** … and as the original labels them (only course roles, Administrator and Moderator count). */
  rolesStaffOriginal: number;
  /** Registered users with ≥1 base event in this course in the logs. */
  withLogActivity: number;
  /** Registered users with no base event in this course. */
  noLogActivity: number;
  /** Registered users whose username is on no valid log line at all. */
  neverInLogs: number;
  /** Usernames with base events in this course that are not registered (0 by construction). */
  activeNotRegistered: number;
  /** Chapters in the course structure (the `explored` denominator), users with chapter rows, users with ≥ floor(chapters/2). */
  chapters: number;
  viewed: number;
  explored: number;
  /** Users with chapter rows but no log activity in the course. */
  viewedWithoutLogs: number;
  /** studentmodule rows by module_type; rows whose state is ≥ 100 KB. */
  studentmoduleTypes: Record<string, number>;
  largeStates: number;
  /** Problem rows that come from problem_check events of the logs (grade = the last check's). */
  problemRowsFromLogs: number;
  /** Graded sequentials by format in the OLX. */
  gradedSequentials: Record<string, number>;
  forum: ForumTruth;
}

export interface DumpTruth {
  date: string;
  /** Directory relative to `out`: `dump/<org>-<date>`. */
  dir: string;
  /** Distinct users over all courses. */
  users: number;
  /** Per course, keyed by slash-form course id. */
  courses: Record<string, DumpCourseTruth>;
}
