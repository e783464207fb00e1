/**
 * The per-event extractors of the compact event tables (src/aggregate/eventRows.ts; spec
 * tracking-logs.md §7.2, §8.1, §8.2, §8.3, §8.5, §9.4). Every event is written as a raw JSON line
 * and run through `processLine`, so the extractors see exactly what the pipeline produces. All
 * expected values are worked out by hand from the spec (module_ids from the rules of §4 where a
 * test depends on them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateLogs } from '../scripts/generate-logs.ts';
import {
  EVENT_KIND,
  enrollmentRow,
  eventKind,
  forumRow,
  parseVideoId,
  problemCheckRow,
  showAnswerRow,
  transcriptRow,
  videoRecord,
} from '../src/aggregate/eventRows.ts';
import { preprocessLine, processLine } from '../src/events/line.ts';
import type { JsonObject } from '../src/events/types.ts';

type Obj = Record<string, unknown>;

const SLASH = 'MITx/6.00x/2013_Spring';
const OPAQUE = 'course-v1:MITx+6.00x+2013_Spring';
/** Both URL prefixes of the course. */
const FORMS = [
  ['slash', `/courses/${SLASH}`],
  ['opaque', `/courses/${OPAQUE}`],
] as const;

/** Every event built by the tests, for the eventKind superset check at the end. */
const seen: Array<{ raw: Obj; row: JsonObject }> = [];

/** Raw event (defaults: user alice, course in context, a fixed time) → the pipeline's row. */
function row(ev: Obj, opts: { course?: string } = {}): JsonObject {
  const raw: Obj = {
    username: 'alice',
    time: '2015-03-01T10:00:00.000000+00:00',
    context: { course_id: opts.course ?? SLASH, user_id: 17, path: '/event' },
    ...ev,
  };
  const line = JSON.stringify(raw);
  const out = processLine(line);
  if (!out.ok) throw new Error(`rejected: ${out.reason}`);
  seen.push({ raw: JSON.parse(line) as Obj, row: out.row });
  return out.row;
}

const server = (eventType: string, event: unknown, extra: Obj = {}, course?: string): JsonObject =>
  row({ event_type: eventType, event_source: 'server', event, page: null, ...extra }, course === undefined ? {} : { course });
/** Browser event: the payload is a string holding JSON text, as edX writes it. */
const browser = (eventType: string, payload: unknown, extra: Obj = {}, course?: string): JsonObject =>
  row({ event_type: eventType, event_source: 'browser', event: typeof payload === 'string' ? payload : JSON.stringify(payload), page: 'https://courses.edx.org/courses/x/courseware/', ...extra }, course === undefined ? {} : { course });

const GETPOST = { POST: {}, GET: {} };

// ---------------------------------------------------------------------------------------------
describe('videoRecord (§7.2, REC video_id and position)', () => {
  it('block-v1 id (browser play_video: a JSON string event, full event_struct)', () => {
    const r = browser('play_video', { id: `block-v1:MITx+6.00x+2013_Spring+type@video+block@8f2a.b`, currentTime: 12.5, code: 'yt' }, {}, OPAQUE);
    expect(videoRecord(r)).toEqual({ videoId: '8f2a_b', type: 'play', position: 12.5, speed: null });
  });

  it('i4x:// id keeps the dashes of its last part; "." becomes "_" as in video_axis', () => {
    const r = browser('play_video', { id: 'i4x://MITx/6.00x/video/intro-part.1', currentTime: 3 });
    expect(videoRecord(r)).toEqual({ videoId: 'intro-part_1', type: 'play', position: 3, speed: null });
  });

  it('i4x- dashed ids: the text after "-video-" (dashes inside the id kept), else the last piece', () => {
    expect(videoRecord(browser('pause_video', { id: 'i4x-MITx-6_00x-video-abc123', currentTime: 8 }))).toEqual({ videoId: 'abc123', type: 'pause', position: 8, speed: null });
    expect(videoRecord(browser('pause_video', { id: 'i4x-MITx-6_00x-video-intro-part-2', currentTime: 8 }))?.videoId).toBe('intro-part-2');
    expect(parseVideoId('i4x-MITx-6_00x-videoalpha-xyz')).toBe('xyz');
    expect(parseVideoId('i4x-MITx-6_00x-problem-p1')).toBe('p1');
    expect(parseVideoId('i4x-MITx-CS-101-video-v9')).toBe('v9'); // a dash inside the course number
  });

  it('a plain hex id is kept; odd ids give null', () => {
    expect(videoRecord(browser('stop_video', { id: '9f1c3a', currentTime: 600 }, {}, OPAQUE))).toEqual({ videoId: '9f1c3a', type: 'stop', position: 600, speed: null });
    expect(parseVideoId('  9f1c3a ')).toBe('9f1c3a');
    expect(parseVideoId('')).toBeNull();
    expect(parseVideoId(42)).toBe('42');
    expect(parseVideoId(Number.NaN)).toBeNull();
    expect(parseVideoId({})).toBeNull();
    expect(parseVideoId(null)).toBeNull();
    expect(parseVideoId('block-v1:MITx+6.00x+R+type@video+block@')).toBeNull();
  });

  it('pause_video and stop_video (GET/POST event_struct): read from the event JSON text', () => {
    const r = browser('pause_video', { id: 'abc', currentTime: '33.25', speed: '1.50' });
    expect(r.event_struct).toEqual({ GET: 'null', POST: 'null', query: null }); // what the extractor has to look past
    expect(videoRecord(r)).toEqual({ videoId: 'abc', type: 'pause', position: 33.25, speed: 1.5 });
  });

  it('position is currentTime, not speed × currentTime (REC); speed is returned for the parity rule', () => {
    expect(videoRecord(browser('play_video', { id: 'abc', currentTime: 10, speed: '2.0' }))).toEqual({ videoId: 'abc', type: 'play', position: 10, speed: 2 });
  });

  it('mobile / server events with an object payload', () => {
    const r = row({ event_type: 'play_video', event_source: 'mobile', event: { id: `block-v1:MITx+6.00x+2013_Spring+type@video+block@m1`, currentTime: 7 } }, { course: OPAQUE });
    expect(videoRecord(r)).toEqual({ videoId: 'm1', type: 'play', position: 7, speed: null });
    expect(videoRecord(server('pause_video', { id: 'm1', currentTime: 9.5 }))).toEqual({ videoId: 'm1', type: 'pause', position: 9.5, speed: null });
  });

  it('missing or junk currentTime gives a null position; a missing id a null videoId (row kept)', () => {
    expect(videoRecord(browser('stop_video', { id: 'abc' }))).toEqual({ videoId: 'abc', type: 'stop', position: null, speed: null });
    expect(videoRecord(browser('play_video', { id: 'abc', currentTime: 'abc' }))?.position).toBeNull();
    expect(videoRecord(browser('pause_video', { id: 'abc', currentTime: 'abc' }))?.position).toBeNull();
    expect(videoRecord(browser('play_video', { currentTime: 4 }))).toEqual({ videoId: null, type: 'play', position: 4, speed: null });
    // a numeric id is read as its text, whether R19 made it text (full struct) or not (JSON text)
    expect(videoRecord(browser('play_video', { id: 12, currentTime: 4 }))?.videoId).toBe('12');
    expect(videoRecord(browser('pause_video', { id: 12, currentTime: 4 }))?.videoId).toBe('12');
    expect(videoRecord(browser('pause_video', { id: { a: 1 }, currentTime: 4 }))?.videoId).toBeNull();
    expect(videoRecord(browser('pause_video', { id: true, currentTime: 4 }))?.videoId).toBeNull();
    expect(videoRecord(browser('pause_video', '""'))).toEqual({ videoId: null, type: 'pause', position: null, speed: null });
  });

  it('seek_video: the position is new_time', () => {
    const r = browser('seek_video', { id: 'i4x-MITx-6_00x-video-abc', old_time: 10, new_time: 95.5, type: 'onSlideSeek' });
    expect(videoRecord(r)).toEqual({ videoId: 'abc', type: 'seek', position: 95.5, speed: null });
  });

  it('other video events and a null event give null', () => {
    expect(videoRecord(browser('load_video', { id: 'abc' }))).toBeNull();
    expect(videoRecord(browser('speed_change_video', { id: 'abc', current_time: 3, old_speed: '1.0', new_speed: '2.0' }))).toBeNull();
    expect(videoRecord(row({ event_type: 'edx.video.played', event_source: 'mobile', event: { id: 'abc', currentTime: 3 } }))).toBeNull();
    const r = browser('play_video', { id: 'abc', currentTime: 1 });
    expect(videoRecord({ ...r, event: null })).toBeNull();
    expect(videoRecord({ ...r, event_type: 5 })).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
describe('forumRow on random URL-shaped event types: the same as the §8.1 regexes run one by one', () => {
  // the reference: the §8.1 table exactly as written, every regex tried in order, no shortcuts
  const C = String.raw`/courses/.*/`;
  const ACTIONS: Array<[string, string]> = [
    ['discussion/threads/[^/]+/reply', 'reply'], ['discussion/threads/[^/]+/upvote', 'upvote'], ['discussion/threads/[^/]+/unvote', 'unvote'],
    ['discussion/threads/[^/]+/update', 'update'], ['discussion/threads/[^/]+/delete', 'delete'], ['discussion/threads/[^/]+/close', 'close'],
    ['discussion/threads/[^/]+/follow', 'follow_thread'], ['discussion/threads/[^/]+/unfollow', 'unfollow_thread'], ['discussion/threads/[^/]+/pin', 'pin'],
    ['discussion/threads/[^/]+/unpin', 'unpin'], ['discussion/threads/[^/]+/downvote', 'downvote'], ['discussion/comments/[^/]+/reply', 'comment_reply'],
    ['discussion/comments/[^/]+/upvote', 'comment_upvote'], ['discussion/comments/[^/]+/update', 'comment_update'],
    ['discussion/comments/[^/]+/unvote', 'comment_unvote'], ['discussion/comments/[^/]+/delete', 'comment_delete'],
    ['discussion/forum/users/[^/]+/followed', 'follow_user'], ['discussion/forum/users/[^/]+$', 'target_user'],
    ['discussion/forum/[^/]+/threads/[^/]+', 'read'], ['discussion/forum/[^/]+/inline', 'read_inline'], ['discussion/forum/search', 'search'],
    ['discussion/forum$', 'enter_forum'], ['discussion/forum/$', 'enter_forum'],
  ];
  const NAMES: Record<string, string> = { 'edx.forum.thread.created': 'created_thread', 'edx.forum.response.created': 'created_response', 'edx.forum.comment.created': 'created_comment', 'edx.forum.searched': 'searched' };
  const m1 = (re: string, t: string) => new RegExp(C + re).exec(t)?.[1] ?? null;
  function reference(t: string, moduleId: string | null) {
    let action: string | null = null;
    for (const [re, a] of ACTIONS) if (new RegExp(C + re).test(t)) { action = a; break; }
    action ??= m1('instructor/api/(.*)', t) ?? NAMES[t] ?? t;
    let thread: string | null;
    if (moduleId !== null) thread = /[^/]+\/[^/]+\/forum\/([^/]+)/.exec(moduleId)?.[1] ?? null;
    else thread = m1('discussion/forum/[^/]+/threads/([^/]+)', t) ?? (new RegExp(C + 'discussion/threads/[^/]+/').test(t) ? m1('discussion/threads/([^/]+)', t) : m1('discussion/comments/([^/]+)/', t));
    return { forum_action: action, thread_id: thread, subject: m1('forum/([^/]+)/', t), target_user_id: m1('forum/users/([^/]+)', t) };
  }

  it('10,000 event types built from forum URL pieces', () => {
    const pieces = ['/courses/', 'MITx/6.00x/2015', 'course-v1:MITx+6.00x+2015', '/discussion/', 'discussion/', 'forum', 'forum/', 'threads/', 'comments/', 'users/',
      '/', 'T1', 'u9', 'reply', 'follow', 'unfollow', 'inline', 'search', 'instructor/api/', 'list_forum_members', 'General', '/threads', 'edx.forum.searched', 'x'];
    let rnd = 12345;
    const next = () => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let checked = 0;
    for (let i = 0; i < 10_000; i++) {
      let t = '';
      const n = 1 + Math.floor(next() * 9);
      for (let k = 0; k < n; k++) t += pieces[Math.floor(next() * pieces.length)];
      const r = { event_type: t, username: 'u', event: '{}', event_struct: { GET: null, query: null }, module_id: next() < 0.2 ? 'MITx/6.00x/forum/TM' : null };
      const got = forumRow(r as unknown as JsonObject, SLASH);
      if (got === null) continue; // not a forum type (the selection has its own tests)
      checked++;
      const { search_query: _q, event_GET: _g, ...rest } = got;
      expect(rest, t).toEqual(reference(t, r.module_id));
    }
    expect(checked).toBeGreaterThan(2000);
  });
});

describe('forumRow (§8.1)', () => {
  const f = (eventType: string, event: unknown = GETPOST, extra: Obj = {}, course?: string) => forumRow(server(eventType, event, extra, course), SLASH);
  const none = { thread_id: null, subject: null, target_user_id: null, search_query: null };

  for (const [form, P] of FORMS) {
    const course = form === 'slash' ? SLASH : OPAQUE;
    const g = (url: string, event: unknown = GETPOST) => f(url, event, {}, course);

    it(`${form} form: thread URLs (thread_id from module_id in slash form, from the URL in opaque form)`, () => {
      const cases: Array<[string, string]> = [
        ['reply', 'reply'],
        ['upvote', 'upvote'],
        ['unvote', 'unvote'],
        ['update', 'update'],
        ['delete', 'delete'],
        ['close', 'close'],
        ['follow', 'follow_thread'],
        ['unfollow', 'unfollow_thread'],
        ['pin', 'pin'],
        ['unpin', 'unpin'],
        ['downvote', 'downvote'],
      ];
      for (const [verb, action] of cases) {
        const r = server(`${P}/discussion/threads/T1/${verb}`, GETPOST, {}, course);
        expect(r.module_id ?? null).toBe(form === 'slash' ? 'MITx/6.00x/forum/T1' : null); // §4 B3; none for opaque keys
        expect(forumRow(r, SLASH), verb).toEqual({ forum_action: action, ...none, thread_id: 'T1', event_GET: '{}' });
      }
    });

    it(`${form} form: comment URLs (thread_id is the comment id: the original's quirk)`, () => {
      const cases: Array<[string, string]> = [
        ['reply', 'comment_reply'],
        ['upvote', 'comment_upvote'],
        ['update', 'comment_update'],
        ['unvote', 'comment_unvote'],
        ['delete', 'comment_delete'],
      ];
      for (const [verb, action] of cases) expect(g(`${P}/discussion/comments/C9/${verb}`), verb).toEqual({ forum_action: action, ...none, thread_id: 'C9', event_GET: '{}' });
    });

    it(`${form} form: user, read, inline, search and enter URLs`, () => {
      expect(g(`${P}/discussion/forum/users/4051854/followed`)).toEqual({ forum_action: 'follow_user', ...none, subject: 'users', target_user_id: '4051854', event_GET: '{}' });
      expect(g(`${P}/discussion/forum/users/4051854`)).toEqual({ forum_action: 'target_user', ...none, subject: 'users', target_user_id: '4051854', event_GET: '{}' });
      expect(g(`${P}/discussion/forum/General/threads/T2`, { POST: {}, GET: { ajax: ['1'] } })).toEqual({ forum_action: 'read', ...none, thread_id: 'T2', subject: 'General', event_GET: '{"ajax":["1"]}' });
      expect(g(`${P}/discussion/forum/General/inline`)).toEqual({ forum_action: 'read_inline', ...none, subject: 'General', event_GET: '{}' });
      expect(g(`${P}/discussion/forum/search`, { POST: {}, GET: { text: ['deadline'] } })).toEqual({ forum_action: 'search', ...none, event_GET: '{"text":["deadline"]}' });
      expect(g(`${P}/discussion/forum`)).toEqual({ forum_action: 'enter_forum', ...none, event_GET: '{}' });
      expect(g(`${P}/discussion/forum/`)).toEqual({ forum_action: 'enter_forum', ...none, event_GET: '{}' });
    });

    it(`${form} form: /instructor/api/X gives X; other selected URLs keep the raw event_type`, () => {
      expect(g(`${P}/instructor/api/list_forum_members`)).toEqual({ forum_action: 'list_forum_members', ...none, event_GET: '{}' });
      expect(g(`${P}/instructor/api/update_forum_role_membership`)?.forum_action).toBe('update_forum_role_membership');
      // selected (contains /discussion/forum) but matching no test: "forum/users/U/x" is not "at the end"
      expect(g(`${P}/discussion/forum/users/U1/posts`)).toEqual({ forum_action: `${P}/discussion/forum/users/U1/posts`, ...none, subject: 'users', target_user_id: 'U1', event_GET: '{}' });
    });
  }

  it('"/discussion/threads/T" without a slash after T: no URL thread id (module_id in slash form gives one)', () => {
    expect(f(`/courses/${OPAQUE}/discussion/threads/T5`, GETPOST, {}, OPAQUE)).toEqual({ forum_action: `/courses/${OPAQUE}/discussion/threads/T5`, ...none, event_GET: '{}' });
    expect(f(`/courses/${SLASH}/discussion/threads/T5`)?.thread_id).toBe('T5'); // §4 B3 → MITx/6.00x/forum/T5
  });

  it('a module_id wins over the URL, and a non-forum module_id gives a null thread_id', () => {
    const url = `/courses/${SLASH}/discussion/forum/General/threads/T2`;
    expect(f(url, GETPOST, { module_id: 'MITx/6.00x/forum/TX' })?.thread_id).toBe('TX');
    expect(f(url, GETPOST, { module_id: 'MITx/6.00x/problem/p1' })?.thread_id).toBeNull();
  });

  it('subject is the segment after the LAST "/forum/X/"', () => {
    expect(f(`/courses/${OPAQUE}/discussion/forum/General/threads/T2/forum/Other/x`, GETPOST, {}, OPAQUE)?.subject).toBe('Other');
  });

  it('edx.forum.* names: created_* / searched, other names raw; thread_id null', () => {
    const created = { body: 'hi', id: '56aa', commentable_id: 'General', url: 'https://courses.edx.org/x' };
    expect(f('edx.forum.thread.created', created)).toEqual({ forum_action: 'created_thread', ...none, event_GET: 'null' });
    expect(f('edx.forum.response.created', { ...created, discussion: { id: 'T1' } })).toEqual({ forum_action: 'created_response', ...none, event_GET: 'null' });
    expect(f('edx.forum.comment.created', { ...created, response: { id: 'C1' } })).toEqual({ forum_action: 'created_comment', ...none, event_GET: 'null' });
    expect(f('edx.forum.searched', { query: 'deadline', page: 0, total_results: 3 })).toEqual({ forum_action: 'searched', ...none, search_query: 'deadline', event_GET: 'null' });
    expect(f('edx.forum.thread.voted', { vote_value: 'up', id: 'T1' })).toEqual({ forum_action: 'edx.forum.thread.voted', ...none, event_GET: 'null' });
  });

  it('a forum POST that was truncated (event kept as a string): no event_struct, row kept', () => {
    expect(f(`/courses/${SLASH}/discussion/threads/T1/reply`, '{"POST": {"body": ["Je ne compr')).toEqual({ forum_action: 'reply', ...none, thread_id: 'T1', event_GET: null });
  });

  it('conditions: username null, event null, not selected → null; username "" kept', () => {
    const url = `/courses/${SLASH}/discussion/forum/General/inline`;
    expect(forumRow(row({ event_type: url, event_source: 'server', event: GETPOST, username: null }), SLASH)).toBeNull();
    expect(forumRow(row({ event_type: url, event_source: 'server', event: GETPOST, username: '' }), SLASH)?.forum_action).toBe('read_inline');
    expect(forumRow({ ...server(url, GETPOST), event: null }, SLASH)).toBeNull();
    expect(f(`/courses/${SLASH}/discussion/i4x-MITx-6_00x-course-2013_Spring/threads/create`)).toBeNull();
    expect(f(`/courses/${SLASH}/instructor/api/get_students_features/csv`)).toBeNull();
    expect(f(`/courses/${SLASH}/courseware/ch/seq/`)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
describe('problemCheckRow (§8.2) and showAnswerRow (§8.3)', () => {
  const ev = {
    answers: { p1_2_1: 'choice_1' },
    attempts: '2',
    success: 'incorrect',
    grade: 0,
    max_grade: 1,
    problem_id: 'i4x://MITx/6.00x/problem/p1',
    state: { student_answers: {}, seed: 1, done: null, correct_map: {}, input_state: { p1_2_1: {} } },
  };

  it('server problem_check: module_id, answers as JSON text, typed fields', () => {
    const r = server('problem_check', ev);
    expect(problemCheckRow(r)).toEqual({ module_id: 'MITx/6.00x/problem/p1', student_answers: '{"p1_2_1":"choice_1"}', attempts: 2, success: 'incorrect', grade: 0, max_grade: 1 });
  });

  it('save_problem_check (server) qualifies too; missing fields are null', () => {
    expect(problemCheckRow(server('save_problem_check', { success: 'correct' }))).toEqual({ module_id: null, student_answers: null, attempts: null, success: 'correct', grade: null, max_grade: null });
  });

  it('browser and mobile problem_check, and other types, give null', () => {
    expect(problemCheckRow(browser('problem_check', JSON.stringify('input_i4x-MITx-6_00x-problem-p1_2_1=choice_1')))).toBeNull();
    expect(problemCheckRow(row({ event_type: 'problem_check', event_source: 'mobile', event: ev }))).toBeNull();
    expect(problemCheckRow(server('problem_graded', ev))).toBeNull();
  });

  it('show_answer / showanswer, any source', () => {
    const path = `/courses/${OPAQUE}/xblock/block-v1:MITx+6.00x+2013_Spring+type@problem+block@p3/handler/xmodule_handler/problem_show`;
    const ctx = { course_id: OPAQUE, user_id: 17, path };
    expect(showAnswerRow(server('showanswer', { problem_id: 'block-v1:MITx+6.00x+2013_Spring+type@problem+block@p3' }, { context: ctx }))).toEqual({ module_id: 'MITx/6.00x/problem/p3' }); // §4 A2
    expect(showAnswerRow(server('show_answer', { problem_id: 'i4x://MITx/6.00x/problem/p1' }))).toEqual({ module_id: 'MITx/6.00x/problem/p1' }); // §4 B17
    expect(showAnswerRow(browser('showanswer', '""'))).toEqual({ module_id: null });
    expect(showAnswerRow(server('problem_show', {}))).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
describe('enrollmentRow (§8.5)', () => {
  const flags = { activated: false, deactivated: false, mode_changed: false, upgraded: false };
  const enr = (type: string, event: unknown, ctxUser: unknown = 17) => enrollmentRow(server(type, event, { context: { course_id: OPAQUE, user_id: ctxUser, path: '/change_enrollment' } }, OPAQUE));

  it('the four flags (exact event types)', () => {
    expect(enr('edx.course.enrollment.activated', { course_id: OPAQUE, user_id: 42, mode: 'verified' }, 42)).toEqual({ user_id: 42, mode: 'verified', ...flags, activated: true, event_type: 'edx.course.enrollment.activated' });
    expect(enr('edx.course.enrollment.deactivated', { course_id: OPAQUE, user_id: 43, mode: 'audit' })).toEqual({ user_id: 43, mode: 'audit', ...flags, deactivated: true, event_type: 'edx.course.enrollment.deactivated' });
    expect(enr('edx.course.enrollment.mode_changed', { course_id: OPAQUE, user_id: 44, mode: 'honor' })).toEqual({ user_id: 44, mode: 'honor', ...flags, mode_changed: true, event_type: 'edx.course.enrollment.mode_changed' });
    expect(enr('edx.course.enrollment.upgrade.succeeded', { course_id: OPAQUE, user_id: 45, mode: 'verified' })).toEqual({ user_id: 45, mode: 'verified', ...flags, upgraded: true, event_type: 'edx.course.enrollment.upgrade.succeeded' });
  });

  it("user_id: the event's own (a string one made an integer by the rewrite), not the actor's", () => {
    expect(enr('edx.course.enrollment.activated', { course_id: OPAQUE, user_id: '43', mode: 'honor' }, 99)?.user_id).toBe(43);
  });

  it('user_id falls back to context.user_id when event_struct.user_id is null or absent', () => {
    expect(enr('edx.course.enrollment.activated', { course_id: OPAQUE, user_id: null, mode: 'honor' }, 11)?.user_id).toBe(11);
    expect(enr('edx.course.enrollment.activated', { course_id: OPAQUE, mode: 'honor' }, 12)?.user_id).toBe(12);
    expect(enr('edx.course.enrollment.activated', { course_id: OPAQUE, mode: 'honor' }, '')?.user_id).toBeNull(); // R15 removed ""
  });

  it('types outside KNOWN: mode from the event JSON, user_id from context, all flags false', () => {
    const r = server('edx.course.enrollment.upgrade.clicked', { course_id: OPAQUE, user_id: 7, mode: 'verified' }, { context: { course_id: OPAQUE, user_id: 5 } }, OPAQUE);
    expect(r.event_struct).toEqual({ GET: 'null', POST: 'null', query: null });
    expect(enrollmentRow(r)).toEqual({ user_id: 5, mode: 'verified', ...flags, event_type: 'edx.course.enrollment.upgrade.clicked' });
  });

  it('no mode anywhere, or not a string → null; other types → null', () => {
    expect(enr('edx.course.enrollment.activated', { course_id: OPAQUE, user_id: 1 })?.mode).toBeNull();
    expect(enr('edx.course.enrollment.upgrade.clicked', { course_id: OPAQUE, mode: 3 })?.mode).toBeNull();
    expect(enrollmentRow(server('/change_enrollment', { POST: { enrollment_action: ['enroll'] }, GET: {} }))).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
describe('transcriptRow (§9.4)', () => {
  const XB = `/courses/${OPAQUE}/xblock/block-v1:MITx+6.00x+2013_Spring+type@video+block@v1/handler/transcript`;

  it('download: link_clicked whose $.target_url holds handler/transcript/download; language null', () => {
    const r = browser('edx.ui.lms.link_clicked', { target_url: `https://courses.edx.org${XB}/download`, current_url: 'https://courses.edx.org/x' }, {}, OPAQUE);
    expect(transcriptRow(r)).toEqual({ type: 'transcript_download', language: null });
    expect(transcriptRow(browser('edx.ui.lms.link_clicked', { target_url: 'https://example.org/help', current_url: 'x' }))).toBeNull();
    expect(transcriptRow(browser('edx.ui.lms.link_clicked', { target_url: 5 }))).toBeNull();
    expect(transcriptRow(server(`${XB}/download`, GETPOST, {}, OPAQUE))).toBeNull(); // the server request is not a candidate
  });

  it('language: the text after the last /handler/transcript/translation/', () => {
    expect(transcriptRow(server(`${XB}/translation/es`, { POST: {}, GET: { videoId: ['yt'] } }, {}, OPAQUE))).toEqual({ type: 'transcript_language', language: 'es' });
    expect(transcriptRow(server(`/courses/${SLASH}/xblock/i4x:;_;_MITx;_6.00x;_video;_v1/handler/transcript/translation/zh_HANS`, GETPOST))).toEqual({ type: 'transcript_language', language: 'zh_HANS' });
    expect(transcriptRow(server(`${XB}/translation/es/`, GETPOST, {}, OPAQUE))?.language).toBe('es/'); // verbatim
    expect(transcriptRow(server(`${XB}/translation/fr?videoId=abc`, GETPOST, {}, OPAQUE))?.language).toBe('fr'); // a query is cut
    expect(transcriptRow(server(`${XB}/translation/`, GETPOST, {}, OPAQUE))?.language).toBe('');
    expect(transcriptRow(server('/foo/transcript/translation/de', GETPOST))).toEqual({ type: 'transcript_language', language: null });
    expect(transcriptRow(server(`${XB}/available_translations`, GETPOST, {}, OPAQUE))).toBeNull();
    expect(transcriptRow(browser('show_transcript', { id: 'v1', currentTime: 1 }))).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
const K = EVENT_KIND;

/** The extractors that return non-null for a row, as kind bits. */
function wanted(r: JsonObject): number {
  return (
    (videoRecord(r) ? K.video : 0) |
    (forumRow(r, SLASH) ? K.forum : 0) |
    (problemCheckRow(r) ? K.problemCheck : 0) |
    (showAnswerRow(r) ? K.showAnswer : 0) |
    (enrollmentRow(r) ? K.enrollment : 0) |
    (transcriptRow(r) ? K.transcript : 0)
  );
}

describe('eventKind', () => {
  it('hand-checked kinds', () => {
    const cases: Array<[unknown, unknown, number]> = [
      ['play_video', 'browser', K.video],
      ['pause_video', 'mobile', K.video],
      ['stop_video', undefined, K.video],
      ['seek_video', 'browser', K.video],
      ['load_video', 'browser', 0],
      ['edx.video.played', 'mobile', 0],
      [`/courses/${SLASH}/discussion/threads/T1/reply`, 'server', K.forum],
      [`/courses/${OPAQUE}/discussion/forum`, 'server', K.forum],
      ['edx.forum.thread.voted', 'server', K.forum],
      [`/courses/${SLASH}/instructor/api/list_forum_members`, 'server', K.forum],
      [`/courses/${SLASH}/instructor/api/get_students_features/csv`, 'server', 0],
      ['problem_check', 'server', K.problemCheck],
      ['save_problem_check', 'server', K.problemCheck],
      ['problem_check', 'browser', 0],
      ['show_answer', 'server', K.showAnswer],
      ['showanswer', 'browser', K.showAnswer],
      ['edx.course.enrollment.activated', 'server', K.enrollment],
      ['edx.course.enrollment.upgrade.clicked', 'browser', K.enrollment],
      ['edx.ui.lms.link_clicked', 'browser', K.transcript],
      [`/courses/${OPAQUE}/xblock/b/handler/transcript/translation/es`, 'server', K.transcript],
      [`/courses/${SLASH}/courseware/ch/seq/`, 'server', 0],
      [[`/courses/${SLASH}/discussion/forum`], 'server', K.forum], // the rewrite turns an array into its JSON text
      [null, 'server', 0],
      [undefined, undefined, 0],
      [5, 'server', 0],
    ];
    for (const [t, s, k] of cases) expect(eventKind(t, s), String(t)).toBe(k);
  });

  it('superset over a range of event types, sources and payloads', () => {
    const types: unknown[] = [
      'play_video', 'pause_video', 'stop_video', 'seek_video', 'load_video', 'speed_change_video', 'show_transcript',
      'problem_check', 'save_problem_check', 'problem_graded', 'problem_show', 'show_answer', 'showanswer', 'showanswer2',
      'edx.course.enrollment.activated', 'edx.course.enrollment.deactivated', 'edx.course.enrollment.mode_changed',
      'edx.course.enrollment.upgrade.succeeded', 'edx.course.enrollment.upgrade.clicked', 'xedx.course.enrollment',
      'edx.forum.thread.created', 'edx.forum.searched', 'edx.forum.comment.voted', 'edx.forumx', 'edx.ui.lms.link_clicked',
      'page_close', 'seq_goto', '/dashboard', '', null, 3, true, ['edx.forum.x'], { a: '/discussion/forum' },
    ];
    for (const [, P] of FORMS) {
      for (const tail of ['discussion/threads/T/reply', 'discussion/comments/C/delete', 'discussion/forum', 'discussion/forum/S/threads/T', 'discussion/forum/users/9', 'discussion/i4x-x/threads/create', 'instructor/api/add_forum_admin', 'instructor/api/remove-forum-x', 'xblock/b/handler/transcript/translation/pt', 'xblock/b/handler/transcript/download', 'xblock/b/handler/xmodule_handler/problem_check', 'progress']) {
        types.push(`${P}/${tail}`);
      }
    }
    const sources: unknown[] = ['server', 'browser', 'mobile', undefined, 7];
    const payloads: unknown[] = [
      { id: 'block-v1:MITx+6.00x+R+type@video+block@v', currentTime: 3, new_time: 4, mode: 'honor', user_id: 3, answers: { a: 1 }, attempts: 1, target_url: '/x/handler/transcript/download', query: 'q' },
      JSON.stringify({ id: 'i4x-MITx-6_00x-video-v', currentTime: '5', target_url: 'https://h/x/handler/transcript/download' }),
      '',
      null,
      [1, 2],
    ];
    let n = 0;
    for (const t of types) {
      for (const s of sources) {
        for (const ev of payloads) {
          const raw: Obj = { event_type: t, event: ev };
          if (s !== undefined) raw.event_source = s;
          const r = row(raw);
          const w = wanted(r);
          expect(eventKind(t, s) & w, JSON.stringify([t, s, ev])).toBe(w);
          n += w === 0 ? 0 : 1;
        }
      }
    }
    expect(n).toBeGreaterThan(200);
  });

  it('superset for every event built by the tests above', () => {
    expect(seen.length).toBeGreaterThan(100);
    for (const { raw, row: r } of seen) {
      const w = wanted(r);
      expect(eventKind(raw.event_type, raw.event_source) & w, String(raw.event_type)).toBe(w);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('the extractors over generated logs (scripts/generate-logs.ts)', () => {
  let root = '';
  const events: Array<{ raw: Obj; row: JsonObject; course: string }> = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'edx2bq-evrows-'));
    // 5 courses, slash and course-v1 ids alternating; course 3 writes full block-v1 keys as the id
    // of browser video events (the others i4x- dashed ids or bare block ids); courses 1 and 4 add
    // a `speed` field to browser video events.
    await generateLogs({ out: root, courses: 5, learners: 80, days: 1, start: '2015-06-30', eventsPerDay: 8000, seed: 11, malformedRate: 0, org: 'mitx' });
    for (const name of (await readdir(root)).filter((n) => n.endsWith('.log.gz'))) {
      for (const line of gunzipSync(await readFile(join(root, name))).toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        const out = processLine(line);
        if (!out.ok) throw new Error(`generated line rejected: ${out.reason}`);
        events.push({ raw: JSON.parse(preprocessLine(line)) as Obj, row: out.row, course: out.courseId ?? '' });
      }
    }
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  const typeOf = (e: { raw: Obj }) => (typeof e.raw.event_type === 'string' ? e.raw.event_type : '');
  const payloadOf = (e: { raw: Obj }): Obj => {
    const ev = e.raw.event;
    const v: unknown = typeof ev === 'string' ? JSON.parse(ev) : ev;
    return v as Obj;
  };

  it('eventKind is a superset on every generated event', () => {
    expect(events.length).toBe(8000);
    for (const e of events) {
      const w = wanted(e.row);
      if ((eventKind(e.raw.event_type, e.raw.event_source) & w) !== w) expect.fail(`kind misses ${w} for ${typeOf(e)}`);
    }
  });

  it('video: every play/pause/stop/seek has a video id (the generator\'s block id) and a position', () => {
    const video = events.filter((e) => ['play_video', 'pause_video', 'stop_video', 'seek_video'].includes(typeOf(e)));
    expect(video.length).toBeGreaterThan(500);
    const ids = new Set<string>();
    let withSpeed = 0;
    let joined = 0;
    for (const e of video) {
      const v = videoRecord(e.row)!;
      expect(v).not.toBeNull();
      expect(v.videoId).toMatch(/^(?:[0-9a-f]{32}|Video_\d+)$/); // bids: 32 hex digits, or readable names
      ids.add(v.videoId!);
      const p = payloadOf(e);
      expect(v.position).toBe(Number(typeOf(e) === 'seek_video' ? p.new_time : p.currentTime));
      expect(v.position).toBeGreaterThanOrEqual(0);
      if (v.speed !== null) {
        withSpeed++;
        expect([0.75, 1, 1.25, 1.5, 2]).toContain(v.speed);
      }
      // agrees with the module_id of §4 (independent code), whose last part is what video_axis uses
      const m = e.row.module_id;
      if (typeof m === 'string' && m.includes('/video/')) {
        joined++;
        expect(v.videoId).toBe(m.slice(m.lastIndexOf('/') + 1).replaceAll('.', '_'));
      }
    }
    expect(withSpeed).toBeGreaterThan(0);
    expect(joined).toBeGreaterThan(video.length / 2);
    expect(ids.size).toBeGreaterThan(20);
    // the course whose browser events carry full block-v1 keys (index 3) is covered
    expect(video.some((e) => String(payloadOf(e).id).startsWith('block-v1:'))).toBe(true);
    expect(video.some((e) => String(payloadOf(e).id).startsWith('i4x-'))).toBe(true);
  });

  it('forum: every selected event gets a classified action and the ids of its URL', () => {
    const rows = events.map((e) => ({ e, f: forumRow(e.row, e.course) })).filter((x) => x.f !== null);
    expect(rows.length).toBeGreaterThan(200);
    const actions = new Set<string>();
    for (const { e, f } of rows) {
      const t = typeOf(e);
      actions.add(f!.forum_action);
      expect(f!.forum_action.startsWith('/'), t).toBe(false); // every generated URL shape is classified
      const seg = t.split('/');
      const after = (name: string) => seg[seg.indexOf(name) + 1];
      if (t.includes('/discussion/threads/')) expect(f!.thread_id).toBe(after('threads'));
      else if (t.includes('/discussion/comments/')) expect(f!.thread_id).toBe(after('comments'));
      else if (/\/discussion\/forum\/[^/]+\/threads\//.test(t)) {
        expect(f!.forum_action).toBe('read');
        expect(f!.thread_id).toBe(after('threads'));
        expect(f!.subject).toBe(seg[seg.indexOf('threads') - 1]);
      } else expect(f!.thread_id).toBeNull();
      if (t.includes('/forum/users/')) expect([f!.subject, f!.target_user_id]).toEqual(['users', after('users')]);
      if (t.startsWith('edx.forum.')) expect(f!.thread_id).toBeNull();
      if (t === 'edx.forum.searched') expect(f!.search_query).toBe(payloadOf(e).query);
    }
    for (const a of ['read', 'read_inline', 'enter_forum', 'search', 'reply', 'comment_reply', 'upvote', 'created_thread', 'created_response', 'created_comment', 'searched']) expect(actions).toContain(a);
    // thread creation URLs (/discussion/<commentable>/threads/create) are not forum_events rows
    const creates = events.filter((e) => typeOf(e).endsWith('/threads/create'));
    expect(creates.length).toBeGreaterThan(0);
    for (const e of creates) expect(forumRow(e.row, e.course)).toBeNull();
  });

  it('problem_check: every server problem_check, no browser one', () => {
    let n = 0;
    for (const e of events) {
      const p = problemCheckRow(e.row);
      const isServer = typeOf(e) === 'problem_check' && e.raw.event_source === 'server';
      expect(p !== null).toBe(isServer);
      if (!p) continue;
      n++;
      const ev = payloadOf(e);
      expect(p.module_id).toMatch(/^MITx\/[^/]+\/problem\/[^/]+$/);
      expect(p.attempts).toBe(ev.attempts);
      expect(['correct', 'incorrect']).toContain(p.success);
      expect(p.grade).toBe(ev.grade);
      expect(p.max_grade).toBe(ev.max_grade);
      expect(p.grade!).toBeLessThanOrEqual(p.max_grade!);
      expect(JSON.parse(p.student_answers!)).toEqual(ev.answers);
    }
    expect(n).toBeGreaterThan(50);
    expect(events.some((e) => typeOf(e) === 'problem_check' && e.raw.event_source === 'browser')).toBe(true);
  });

  it('show_answer: every show_answer / showanswer, with a module_id', () => {
    const sa = events.filter((e) => typeOf(e) === 'showanswer' || typeOf(e) === 'show_answer');
    expect(sa.length).toBeGreaterThan(5);
    for (const e of sa) expect(showAnswerRow(e.row)?.module_id).toMatch(/^MITx\/[^/]+\/problem\/[^/]+$/);
    expect(events.filter((e) => showAnswerRow(e.row) !== null).length).toBe(sa.length);
  });

  it('enrollment: user_id and mode of the event, one flag per type', () => {
    const en = events.filter((e) => typeOf(e).startsWith('edx.course.enrollment.'));
    expect(en.length).toBeGreaterThan(5);
    for (const e of en) {
      const r = enrollmentRow(e.row)!;
      const ev = payloadOf(e);
      expect(r.user_id).toBe(Number(ev.user_id)); // some generated user_ids are strings
      expect(r.mode).toBe(ev.mode);
      expect(['honor', 'audit', 'verified']).toContain(r.mode);
      const suffix = typeOf(e).slice('edx.course.enrollment.'.length);
      expect([r.activated, r.deactivated, r.mode_changed, r.upgraded]).toEqual([suffix === 'activated', suffix === 'deactivated', suffix === 'mode_changed', suffix === 'upgrade.succeeded']);
    }
    expect(events.filter((e) => enrollmentRow(e.row) !== null).length).toBe(en.length);
  });

  it('transcripts: every download link click, and the language of every translation request', () => {
    let downloads = 0;
    let languages = 0;
    for (const e of events) {
      const t = transcriptRow(e.row);
      const type = typeOf(e);
      if (type === 'edx.ui.lms.link_clicked') {
        expect(t).toEqual({ type: 'transcript_download', language: null });
        downloads++;
      } else if (type.includes('/handler/transcript/translation/')) {
        expect(t).toEqual({ type: 'transcript_language', language: type.slice(type.lastIndexOf('/') + 1) });
        expect(t!.language).toMatch(/^[a-z]{2}$/);
        languages++;
      } else expect(t).toBeNull();
    }
    expect(downloads).toBeGreaterThan(10);
    expect(languages).toBeGreaterThan(10);
  });
});
