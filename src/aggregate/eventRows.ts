/**
 * Per-event extractors for the compact event tables (spec tracking-logs.md §7.2, §8.1, §8.2,
 * §8.3, §8.5, §9.4). Each function takes ONE rewritten row, as `processLine` produces it (see
 * `src/events/line.ts` and the header of `src/events/rephrase.ts`), and returns only the fields
 * specific to its table, or null when the event does not belong there. The caller attaches time,
 * username, course id and date, applies `time > last_date`, and any username filter except the
 * forum one (§8.1 "username not null" is part of the table's definition, so `forumRow` checks it).
 *
 * Reading the payload: `row.event` is the JSON TEXT of the decoded event (R5), and
 * `row.event_struct` is either the full decoded object (event types in KNOWN or containing
 * `problem_`, R6; schema-coerced by R19, unknown keys parked in `mongoid`) or only
 * `{GET, POST, query}` (every other type: pause_video, stop_video, forum, link_clicked, enrollment
 * types outside KNOWN, …). So a payload field is taken from `event_struct` when it is there (not
 * null), else from the JSON text of `event` (parsed at most once per call). Browser events, whose
 * raw `event` is a string holding JSON, were already decoded once by the rewrite (R4), so their
 * `event` text is the JSON object itself; a string is not decoded a second time.
 *
 * Robustness: nothing here throws. A value of the wrong type gives null (a number field takes a
 * finite number or a string holding a decimal number, as R19 coerces FLOAT fields; an integer
 * field takes an integral number; a text field takes a string).
 *
 * "event not null" (§7.2, §8.1) means the `event` column is not SQL NULL: `row.event` is a
 * string. The rewrite always writes one (R3/R5), so this only rejects rows built elsewhere. The
 * JSON text `"null"` is a non-null column value, as it was in the original.
 */
import { isObject, type Json, type JsonObject } from '../events/types.ts';

/** Bits of `eventKind`: which compact tables may want an event. */
export const EVENT_KIND = { video: 1, forum: 2, problemCheck: 4, showAnswer: 8, enrollment: 16, transcript: 32 } as const;

// ---------------------------------------------------------------------------------------------
// Event-type tests (eventKind and the extractors use the same ones, so eventKind is a superset
// by construction)

const VIDEO_TYPES: Readonly<Record<string, VideoRecord['type']>> = {
  play_video: 'play',
  pause_video: 'pause',
  stop_video: 'stop',
  seek_video: 'seek',
};

/** §8.1 selection: `edx.forum.*`, or one of these substrings. */
const FORUM_SUBSTRINGS = [
  '/discussion/forum',
  '/discussion/threads',
  '/discussion/comments',
  'list-forum-',
  'list_forum_',
  'add-forum-',
  'add_forum_',
  'remove-forum-',
  'remove_forum_',
  'update_forum_',
] as const;

function isForumType(t: string): boolean {
  if (t.startsWith('edx.forum.')) return true;
  // every substring holds 'forum' or '/discussion/': one cheap pre-test for the common case
  if (!t.includes('forum') && !t.includes('/discussion/')) return false;
  for (const s of FORUM_SUBSTRINGS) if (t.includes(s)) return true;
  return false;
}

function isProblemCheckType(t: string): boolean {
  return t === 'problem_check' || t === 'save_problem_check';
}

function isShowAnswerType(t: string): boolean {
  return t === 'show_answer' || t === 'showanswer';
}

const ENROLLMENT = 'edx.course.enrollment';
const LINK_CLICKED = 'edx.ui.lms.link_clicked';
const TRANSLATION = '/transcript/translation/';
const HANDLER_TRANSLATION = '/handler/transcript/translation/';
const TRANSCRIPT_DOWNLOAD = 'handler/transcript/download';

/**
 * The text the rewrite's schema step (R19) makes of a top-level STRING field, so that eventKind,
 * which sees the raw values, decides on the same text as the extractors, which see the row.
 */
function asText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'object') return JSON.stringify(v) ?? null;
  return null;
}

/**
 * Which compact tables may want this event, from event_type and event_source only (the raw
 * values, before the rewrite; a non-string is judged by the text the rewrite would make of it).
 * A superset: whenever an extractor below returns non-null for the rewritten row, its bit is set.
 * It is exact for forum, problem_check, show_answer and enrollment; the video bit does not look at
 * `event` being null, and the transcript bit is set for every `edx.ui.lms.link_clicked` (the
 * target_url test needs the payload).
 */
export function eventKind(eventType: unknown, eventSource: unknown): number {
  const t = asText(eventType);
  if (t === null) return 0;
  switch (t) {
    case 'play_video':
    case 'pause_video':
    case 'stop_video':
    case 'seek_video':
      return EVENT_KIND.video;
    case 'problem_check':
    case 'save_problem_check':
      return eventSource === 'server' ? EVENT_KIND.problemCheck : 0;
    case 'show_answer':
    case 'showanswer':
      return EVENT_KIND.showAnswer;
    case LINK_CLICKED:
      return EVENT_KIND.transcript;
  }
  let k = 0;
  if (isForumType(t)) k |= EVENT_KIND.forum;
  if (t.includes(ENROLLMENT)) k |= EVENT_KIND.enrollment;
  if (t.includes(TRANSLATION)) k |= EVENT_KIND.transcript;
  return k;
}

// ---------------------------------------------------------------------------------------------
// Payload access

const DECIMAL_RE = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function num(v: Json | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && DECIMAL_RE.test(v)) {
    const f = Number(v);
    return Number.isFinite(f) ? f : null;
  }
  return null;
}

function int(v: Json | undefined): number | null {
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

function str(v: Json | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

function eventStruct(row: JsonObject): JsonObject | null {
  const es = row.event_struct;
  return isObject(es) ? es : null;
}

/** Reads payload fields: event_struct first, then the parsed `event` text (parsed once, lazily). */
class Payload {
  private readonly row: JsonObject;
  private readonly es: JsonObject | null;
  private parsed: JsonObject | null | undefined = undefined;

  constructor(row: JsonObject) {
    this.row = row;
    this.es = eventStruct(row);
  }

  /** The `event` JSON text parsed, when it is an object; else null. */
  eventObject(): JsonObject | null {
    if (this.parsed === undefined) {
      this.parsed = null;
      const text = this.row.event;
      if (typeof text === 'string' && text.trimStart().charCodeAt(0) === 123 /* { */) {
        try {
          const v: unknown = JSON.parse(text);
          if (isObject(v)) this.parsed = v;
        } catch {
          // not JSON (a rewritten row always holds JSON text; a hand-made one might not)
        }
      }
    }
    return this.parsed;
  }

  /** `event_struct[name]` when present and not null, else `$.name` of the event JSON. */
  get(name: string): Json | undefined {
    const es = this.es;
    if (es !== null && Object.hasOwn(es, name)) {
      const v = es[name];
      if (v !== null && v !== undefined) return v;
    }
    const ev = this.eventObject();
    return ev !== null && Object.hasOwn(ev, name) ? ev[name] : undefined;
  }
}

function moduleIdOf(row: JsonObject): string | null {
  return str(row.module_id);
}

// ---------------------------------------------------------------------------------------------
// §7.2 video

export interface VideoRecord {
  videoId: string | null;
  type: 'play' | 'pause' | 'stop' | 'seek';
  position: number | null;
  speed: number | null;
}

/**
 * The video id of an event's `id` value (REC of §7.2: block-v1 and i4x ids parsed properly; the
 * original's text replacements are not reproduced):
 * - `block-v1:ORG+NUM+RUN+type@video+block@ID` → `ID` (the text after the last `+block@`);
 * - `i4x://ORG/NUM/TYPE/ID` → `ID` (the fourth `/`-segment; dashes inside ID are kept);
 * - `i4x-ORG-NUM-video-ID` (also `-videoalpha-`) → `ID`, the text after the first `-video-`
 *   following ORG, so an ID holding dashes is kept whole (the original kept only its last
 *   piece). Without such a marker, the last dash-separated piece (the original's result);
 * - anything else (the bare hex block id of course-v1 browser events, …) is kept as it is.
 * Then every `.` becomes `_`, as in video_axis.video_id (§7.1: the module_id's last part with
 * `.`→`_`), so both join. Surrounding white space is trimmed. A number is read as its decimal
 * text (the original used the JSON text of the id, and R19 makes a number in a full event_struct
 * text too, so all video types agree); an empty id, or any other type, gives null.
 */
export function parseVideoId(raw: unknown): string | null {
  let s: string;
  if (typeof raw === 'string') s = raw.trim();
  else if (typeof raw === 'number' && Number.isFinite(raw)) s = String(raw);
  else return null;
  let id: string;
  if (s.startsWith('block-v1:')) {
    const at = s.lastIndexOf('+block@');
    id = at >= 0 ? s.slice(at + 7) : s;
  } else if (s.startsWith('i4x://')) {
    const parts = s.slice(6).split('/');
    id = parts.length >= 4 ? parts[3]! : s;
  } else if (s.startsWith('i4x-')) {
    const numAt = s.indexOf('-', 4) + 1; // start of NUM (0: no dash after ORG)
    const m = numAt === 0 ? null : /-video(?:alpha)?-/.exec(s.slice(numAt + 1)); // NUM is not empty
    if (m !== null) id = s.slice(numAt + 1 + m.index + m[0].length);
    else id = s.slice(s.lastIndexOf('-') + 1);
  } else {
    id = s;
  }
  if (id === '') return null;
  return id.includes('.') ? id.replaceAll('.', '_') : id;
}

/**
 * §7.2 events: `play_video`, `pause_video`, `stop_video` with `event` not null, plus
 * `seek_video` (same condition), from any source (browser events hold the payload as JSON text
 * that the rewrite decoded; mobile/server ones an object). Mobile `edx.video.*` types are not
 * §7.2 events and give null.
 * - `videoId`: `parseVideoId` of the payload's `id` (REC; see there).
 * - `position`: the payload's `currentTime` (REC: no multiplication by speed; the caller can
 *   apply the parity rule `speed × currentTime` with `speed` below); for `seek_video` the
 *   `new_time` (where the seek lands). A number or a string holding a decimal number; else null.
 * - `speed`: the payload's `speed`, read the same way, or null.
 * Rows with a null videoId are returned (§7.2 keeps them).
 */
export function videoRecord(row: JsonObject): VideoRecord | null {
  const t = row.event_type;
  if (typeof t !== 'string') return null;
  const type = Object.hasOwn(VIDEO_TYPES, t) ? VIDEO_TYPES[t] : undefined;
  if (type === undefined || typeof row.event !== 'string') return null;
  const p = new Payload(row);
  return {
    videoId: parseVideoId(p.get('id')),
    type,
    position: num(p.get(type === 'seek' ? 'new_time' : 'currentTime')),
    speed: num(p.get('speed')),
  };
}

// ---------------------------------------------------------------------------------------------
// §8.1 forum_events

export interface ForumRow {
  forum_action: string;
  thread_id: string | null;
  subject: string | null;
  target_user_id: string | null;
  search_query: string | null;
  event_GET: string | null;
}

// The original's regular expressions, anchored only where §8.1 says "at the end". `/courses/.*`
// accepts any course part, so both `/courses/ORG/NUM/RUN/` and `/courses/course-v1:ORG+NUM+RUN/`
// match. JS and RE2 (BigQuery) agree on these patterns: leftmost match, greedy `.*` (so an
// extraction through `/courses/.*/` takes the LAST occurrence of what follows).
const C = String.raw`/courses/.*/`;
/** [pattern, action, the literal text a match needs (literalHead)] */
const FORUM_ACTIONS: ReadonlyArray<readonly [RegExp, string, string]> = (
  [
    [String.raw`discussion/threads/[^/]+/reply`, 'reply'],
    [String.raw`discussion/threads/[^/]+/upvote`, 'upvote'],
    [String.raw`discussion/threads/[^/]+/unvote`, 'unvote'],
    [String.raw`discussion/threads/[^/]+/update`, 'update'],
    [String.raw`discussion/threads/[^/]+/delete`, 'delete'],
    [String.raw`discussion/threads/[^/]+/close`, 'close'],
    [String.raw`discussion/threads/[^/]+/follow`, 'follow_thread'],
    [String.raw`discussion/threads/[^/]+/unfollow`, 'unfollow_thread'],
    [String.raw`discussion/threads/[^/]+/pin`, 'pin'],
    [String.raw`discussion/threads/[^/]+/unpin`, 'unpin'],
    [String.raw`discussion/threads/[^/]+/downvote`, 'downvote'],
    [String.raw`discussion/comments/[^/]+/reply`, 'comment_reply'],
    [String.raw`discussion/comments/[^/]+/upvote`, 'comment_upvote'],
    [String.raw`discussion/comments/[^/]+/update`, 'comment_update'],
    [String.raw`discussion/comments/[^/]+/unvote`, 'comment_unvote'],
    [String.raw`discussion/comments/[^/]+/delete`, 'comment_delete'],
    [String.raw`discussion/forum/users/[^/]+/followed`, 'follow_user'],
    [String.raw`discussion/forum/users/[^/]+$`, 'target_user'],
    [String.raw`discussion/forum/[^/]+/threads/[^/]+`, 'read'],
    [String.raw`discussion/forum/[^/]+/inline`, 'read_inline'],
    [String.raw`discussion/forum/search`, 'search'],
    [String.raw`discussion/forum$`, 'enter_forum'],
    [String.raw`discussion/forum/$`, 'enter_forum'],
  ] as const
).map(([re, action]) => [new RegExp(C + re), action, literalHead(re)] as const);

/**
 * The literal text a pattern body starts with (up to its first metacharacter): a match needs it
 * in the subject, so a subject without it is not run through the regex (same first match, a
 * fraction of the regex runs: forum events went from ~3.5 µs to a fraction of that).
 */
function literalHead(body: string): string {
  const at = body.search(/[[\\^$.|?*+(){}]/);
  return at < 0 ? body : body.slice(0, at);
}
const INSTRUCTOR_API = new RegExp(C + 'instructor/api/(.*)');
const FORUM_NAMES: Readonly<Record<string, string>> = {
  'edx.forum.thread.created': 'created_thread',
  'edx.forum.response.created': 'created_response',
  'edx.forum.comment.created': 'created_comment',
  'edx.forum.searched': 'searched',
};
const MODULE_THREAD = /[^/]+\/[^/]+\/forum\/([^/]+)/;
const URL_READ_THREAD = new RegExp(C + 'discussion/forum/[^/]+/threads/([^/]+)');
const URL_THREAD_SLASH = new RegExp(C + 'discussion/threads/[^/]+/');
const URL_THREAD = new RegExp(C + 'discussion/threads/([^/]+)');
const URL_COMMENT = new RegExp(C + 'discussion/comments/([^/]+)/');
const URL_SUBJECT = new RegExp(C + 'forum/([^/]+)/');
const URL_TARGET_USER = new RegExp(C + 'forum/users/([^/]+)');

function forumAction(t: string): string {
  if (t.includes('/courses/')) {
    for (const [re, action, head] of FORUM_ACTIONS) if (t.includes(head) && re.test(t)) return action;
    const m = t.includes('instructor/api/') ? INSTRUCTOR_API.exec(t) : null;
    if (m !== null) return m[1]!;
  }
  return Object.hasOwn(FORUM_NAMES, t) ? FORUM_NAMES[t]! : t;
}

function forumThreadId(t: string, moduleId: string | null): string | null {
  if (moduleId !== null) return MODULE_THREAD.exec(moduleId)?.[1] ?? null;
  // every URL pattern needs '/courses/' and its own literal text (see literalHead)
  if (!t.includes('/courses/')) return null;
  const read = t.includes('discussion/forum/') ? URL_READ_THREAD.exec(t) : null;
  if (read !== null) return read[1]!;
  if (t.includes('discussion/threads/')) {
    if (URL_THREAD_SLASH.test(t)) return URL_THREAD.exec(t)?.[1] ?? null;
  }
  return t.includes('discussion/comments/') ? (URL_COMMENT.exec(t)?.[1] ?? null) : null;
}

/**
 * §8.1, as the original computes it:
 * - selection: event_type starts with `edx.forum.` or contains one of `/discussion/forum`,
 *   `/discussion/threads`, `/discussion/comments`, `list-forum-`, `list_forum_`, `add-forum-`,
 *   `add_forum_`, `remove-forum-`, `remove_forum_`, `update_forum_`; username not null (a
 *   string; `""` is kept, as in the original: the REC of §11.2 to drop `""` is the caller's
 *   username filter, as for every other table); event not null.
 * - `forum_action`: the first matching URL test of the §8.1 table, then `/instructor/api/X` → X
 *   (the text after the last `/instructor/api/`), then the four exact `edx.forum.*` names, else
 *   the raw event_type. Every URL test needs `/courses/<anything>/` before it, which accepts both
 *   course-key forms.
 * - `thread_id`: from a non-null module_id of shape `{org}/{course}/forum/{id}` (null for any
 *   other module_id); else from the event_type: `/discussion/forum/S/threads/T` → T, else (when
 *   `/discussion/threads/T/` with a slash after T occurs) the segment after the last
 *   `/discussion/threads/`, else `/discussion/comments/C/` → C (a comment id: the original's quirk).
 * - `subject`: the segment after the last `/forum/` that is followed by `/` (`users` for user URLs).
 * - `target_user_id`: the segment after the last `/forum/users/`.
 * - `search_query` = event_struct.query, `event_GET` = event_struct.GET (strings, else null).
 *
 * `courseId` (the processed course, slash form) is not used for matching: the original's tests
 * accept a forum URL under any `/courses/…/` prefix, and the table's course_id column is the
 * caller's. It is part of the signature so a strict "this course only" variant can be added
 * without changing callers.
 */
export function forumRow(row: JsonObject, courseId: string): ForumRow | null {
  const t = row.event_type;
  if (typeof t !== 'string' || !isForumType(t)) return null;
  if (typeof row.username !== 'string' || typeof row.event !== 'string') return null;
  const es = eventStruct(row);
  return {
    forum_action: forumAction(t),
    thread_id: forumThreadId(t, moduleIdOf(row)),
    subject: t.includes('/courses/') && t.includes('forum/') ? (URL_SUBJECT.exec(t)?.[1] ?? null) : null,
    target_user_id: t.includes('/courses/') && t.includes('forum/users/') ? (URL_TARGET_USER.exec(t)?.[1] ?? null) : null,
    search_query: str(es?.query),
    event_GET: str(es?.GET),
  };
}

// ---------------------------------------------------------------------------------------------
// §8.2 problem_check, §8.3 show_answer

export interface ProblemCheckRow {
  module_id: string | null;
  student_answers: string | null;
  attempts: number | null;
  success: string | null;
  grade: number | null;
  max_grade: number | null;
}

/**
 * §8.2: event_type `problem_check` or `save_problem_check` AND event_source `server` (browser
 * problem_check events are excluded). Both types get the full event_struct (R6: `problem_`), so
 * the columns are its typed fields: `student_answers` = event_struct.answers (JSON text, R10),
 * `attempts` (integer), `success` (text), `grade`, `max_grade` (numbers). A field that is
 * missing or of the wrong type is null; the row is still returned.
 */
export function problemCheckRow(row: JsonObject): ProblemCheckRow | null {
  const t = row.event_type;
  if (typeof t !== 'string' || !isProblemCheckType(t) || row.event_source !== 'server') return null;
  const es = eventStruct(row);
  return {
    module_id: moduleIdOf(row),
    student_answers: str(es?.answers),
    attempts: int(es?.attempts),
    success: str(es?.success),
    grade: num(es?.grade),
    max_grade: num(es?.max_grade),
  };
}

/** §8.3: event_type `show_answer` or `showanswer`, any source; the row's module_id. */
export function showAnswerRow(row: JsonObject): { module_id: string | null } | null {
  const t = row.event_type;
  if (typeof t !== 'string' || !isShowAnswerType(t)) return null;
  return { module_id: moduleIdOf(row) };
}

// ---------------------------------------------------------------------------------------------
// §8.5 enrollment_events

export interface EnrollmentRow {
  user_id: number | null;
  mode: string | null;
  activated: boolean;
  deactivated: boolean;
  mode_changed: boolean;
  upgraded: boolean;
  event_type: string;
}

/**
 * §8.5: event_type contains `edx.course.enrollment`.
 * - `user_id` = event_struct.user_id when it is not null (an integer; R19 already turned `"42"`
 *   into 42), else context.user_id (the actor). Types outside KNOWN have only GET/POST/query in
 *   event_struct, so theirs comes from context, as the spec says.
 * - `mode` = event_struct.mode, else the string at `$.mode` of the event JSON (its scalar value,
 *   without quotes); null when neither is a string.
 * - the four flags compare the event_type exactly with `edx.course.enrollment.activated`,
 *   `….deactivated`, `….mode_changed`, `….upgrade.succeeded` (as the original's SQL does; a
 *   substring test would flag `deactivated` as `activated`). Other enrollment types get all false.
 */
export function enrollmentRow(row: JsonObject): EnrollmentRow | null {
  const t = row.event_type;
  if (typeof t !== 'string' || !t.includes(ENROLLMENT)) return null;
  const es = eventStruct(row);
  let userId = int(es?.user_id);
  if (userId === null) {
    const ctx = row.context;
    userId = isObject(ctx) ? int(ctx.user_id) : null;
  }
  let mode = str(es?.mode);
  if (mode === null) mode = str(new Payload(row).eventObject()?.mode);
  return {
    user_id: userId,
    mode,
    activated: t === 'edx.course.enrollment.activated',
    deactivated: t === 'edx.course.enrollment.deactivated',
    mode_changed: t === 'edx.course.enrollment.mode_changed',
    upgraded: t === 'edx.course.enrollment.upgrade.succeeded',
    event_type: t,
  };
}

// ---------------------------------------------------------------------------------------------
// §9.4 transcript candidates

export interface TranscriptRow {
  type: 'transcript_download' | 'transcript_language';
  language: string | null;
}

/**
 * §9.4 candidate events (the username and time filters are the caller's):
 * - download: event_type `edx.ui.lms.link_clicked` (which never contains `/xblock/`) whose event
 *   JSON `$.target_url` is a string containing `handler/transcript/download`. `language` is null:
 *   the caller takes it from the user's previous row (or `en`), §9.4 step 3.
 * - language: event_type contains `/transcript/translation/`. `language` is the text after the
 *   LAST `/handler/transcript/translation/`, verbatim as the original takes it (so `es`, `zh_HANS`;
 *   a trailing `/` would be kept and an empty tail gives `""`), except that anything from a `?`
 *   or `#` on is cut: event_type is a request path, which never holds a query string or fragment,
 *   so this changes nothing on real logs but keeps a stray query out of the language code. Null
 *   when the event_type holds `/transcript/translation/` but not the `/handler/` form.
 */
export function transcriptRow(row: JsonObject): TranscriptRow | null {
  const t = row.event_type;
  if (typeof t !== 'string') return null;
  if (t === LINK_CLICKED) {
    const url = new Payload(row).get('target_url');
    return typeof url === 'string' && url.includes(TRANSCRIPT_DOWNLOAD) ? { type: 'transcript_download', language: null } : null;
  }
  if (!t.includes(TRANSLATION)) return null;
  const at = t.lastIndexOf(HANDLER_TRANSLATION);
  if (at < 0) return { type: 'transcript_language', language: null };
  let lang = t.slice(at + HANDLER_TRANSLATION.length);
  const cut = lang.search(/[?#]/);
  if (cut >= 0) lang = lang.slice(0, cut);
  return { type: 'transcript_language', language: lang };
}
