/**
 * person-day on generated logs, checked against the generator's own truth, and the aggregate-only
 * fast path checked against the full parse + rewrite on every generated and fixture line.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLogs, type Truth } from '../scripts/generate-logs.ts';
import { decodeFacts } from '../src/aggregate/factsFile.ts';
import { loadFacts } from '../src/aggregate/loadFacts.ts';
import { setNativeRewriteEnabled } from '../src/events/nativeRewrite.ts';
import { nativeScanAvailable, nativeScanEnabled, setNativeFactsEnabled, setNativeScanEnabled } from '../src/events/nativeScan.ts';
import { aggregateChunk, splitChunk } from '../src/logs/chunkTasks.ts';
import { splitLogs } from '../src/logs/split.ts';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { courseSchema } from '../src/warehouse/naming.ts';
import { canonicalFacts } from './helpers/canonicalFacts.ts';
import { hasTrackingFixtures, TRACKING_FIXTURES } from './helpers/fixtures.ts';
import { tempDir } from './helpers/logtree.ts';

let root: string;
let truth: Truth;
const wh = () => path.join(root, 'wh.duckdb');

beforeAll(async () => {
  root = tempDir('pdgen');
  truth = await generateLogs({ out: path.join(root, 'raw'), courses: 4, learners: 400, days: 3, seed: 5, malformedRate: 0.01 });
  const logsDir = path.join(root, 'logs');
  await splitLogs([path.join(root, 'raw')], { logsDir, workers: 2, chunkSize: 150_000, gzipLevel: 1, force: false, writeLogs: false, collectFacts: true });
  const w = await openDuckDBWarehouse(wh());
  try {
    await loadFacts({ logsDir, warehouse: w, command: 'person-day' });
  } finally {
    await w.close();
  }
}, 120_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function truthSum(course: string, field: 'baseEvents' | 'namedEvents' | 'learnerDays'): number {
  return Object.values(truth.files).reduce((a, f) => a + (f[field][course] ?? 0), 0);
}

describe('person-day on generated logs (--no-split) against the generator truth', () => {
  it('person_course_day: one row per active learner-day, Σ nevents = base events; Σ ipcount = named events', async () => {
    const w = await openDuckDBWarehouse(wh(), { readOnly: true });
    try {
      for (const c of truth.courses) {
        const s = courseSchema(c.slashId);
        const [row] = (await w.query(`SELECT count(*), sum(nevents) FROM ${s}.person_course_day`)).rows;
        expect(row, c.slashId).toEqual([truthSum(c.slashId, 'learnerDays'), truthSum(c.slashId, 'baseEvents')]);
        const [ip] = (await w.query(`SELECT sum(ipcount) FROM ${s}.pcday_ip_counts`)).rows;
        expect(ip![0], c.slashId).toBe(truthSum(c.slashId, 'namedEvents'));
        // every learner-day's gap count is below its event count (the first event of a learner has no gap)
        const [bad] = (await w.query(`SELECT count(*) FROM ${s}.person_course_day WHERE n_dt > nevents OR (n_dt >= 2) <> (sdv_dt IS NOT NULL)`)).rows;
        expect(bad![0]).toBe(0);
      }
    } finally {
      await w.close();
    }
  });
});

/** Whole-line chunks of about `size` bytes. */
function chunksOf(text: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(10, Math.min(text.length - 1, start + size));
    end = end < 0 ? text.length : end + 1;
    out.push(text.subarray(start, end));
    start = end;
  }
  return out;
}

/** splitChunk with the native code off: every line rewritten in JavaScript, its facts read from the row. */
function fullPath(chunk: Buffer): ReturnType<typeof splitChunk> {
  const was = nativeScanEnabled();
  setNativeScanEnabled(false);
  setNativeRewriteEnabled(false);
  try {
    return splitChunk(Buffer.from(chunk), true);
  } finally {
    setNativeScanEnabled(was);
    setNativeRewriteEnabled(true);
  }
}

/** aggregateChunk and splitChunk of `chunk`, with the native building of facts on or off. */
function fastPaths(chunk: Buffer, nativeFacts: boolean): { fast: ReturnType<typeof aggregateChunk>; split: ReturnType<typeof splitChunk> } {
  setNativeFactsEnabled(nativeFacts);
  try {
    // split + aggregates takes the native scanner's facts of plain lines too
    return { fast: aggregateChunk(Buffer.from(chunk)), split: splitChunk(Buffer.from(chunk), true) };
  } finally {
    setNativeFactsEnabled(true);
  }
}

function expectSameAsFullPath(chunk: Buffer): { lines: number; slow: number; native: number } {
  const full = fullPath(chunk);
  const fullFacts = decodeFacts(full.data.subarray(full.factsStart));
  const counts = (courses: string[], n: number[]) => Object.fromEntries(courses.map((c, i) => [c, n[i]]));
  const days = (d: Array<[string, number[]]>) => Object.fromEntries(d);
  let result = { lines: 0, slow: 0, native: 0 };
  for (const nativeFacts of [false, true]) {
    const { fast, split } = fastPaths(chunk, nativeFacts);
    expect(Buffer.from(split.data.subarray(0, split.factsStart)).equals(Buffer.from(full.data.subarray(0, full.factsStart)))).toBe(true);
    expect(fast.lines).toBe(full.lines);
    expect(fast.rejects).toEqual(full.rejects);
    expect(counts(fast.courses, fast.counts)).toEqual(counts(full.courses, full.counts));
    const splitFacts = decodeFacts(split.data.subarray(split.factsStart));
    const fastFacts = decodeFacts(fast.facts);
    if (!nativeFacts) {
      // the facts computed in JavaScript (from the native scan's fields): the very batches of the full path
      expect(splitFacts).toEqual(fullFacts);
      expect(fastFacts).toEqual(fullFacts);
    }
    // built in native code (native/chunkFacts.cc), the lines JavaScript reads go to a second
    // batch of their course: the same facts, in another order (which no consumer reads)
    expect(canonicalFacts(splitFacts)).toEqual(canonicalFacts(fullFacts));
    expect(canonicalFacts(fastFacts)).toEqual(canonicalFacts(fullFacts));
    expect(days(split.factDays!)).toEqual(days(full.factDays!));
    expect(days(fast.factDays)).toEqual(days(full.factDays!));
    result = { lines: fast.lines, slow: fast.slowLines, native: fast.nativeLines };
  }
  return result;
}

// with the native scanner (native/fastscan.cc, when built) and with the JavaScript one
describe.each([
  ['native', true],
  ['JavaScript', false],
] as const)('the aggregate-only fast path (%s scanner) gives the facts of the full parse + rewrite', (_name, native) => {
  beforeAll(() => setNativeScanEnabled(native));
  afterAll(() => setNativeScanEnabled(true));

  it('on every generated line (malformed lines included)', () => {
    let lines = 0;
    let slow = 0;
    for (const name of Object.keys(truth.files)) {
      const text = zlib.gunzipSync(fs.readFileSync(path.join(root, 'raw', name)));
      for (const chunk of chunksOf(text, 256 * 1024)) {
        const r = expectSameAsFullPath(chunk);
        lines += r.lines;
        slow += r.slow;
      }
    }
    expect(lines).toBe(Object.values(truth.files).reduce((a, f) => a + f.lines, 0));
    // the point of the fast path: most lines never build the event
    expect(slow / lines).toBeLessThan(0.5);
  });

  it('on forum events of every shape (the forum fast path, or the full path where it must)', () => {
    const courses = ['MITx/6.00x/2013_Spring', 'course-v1:MITx+6.002x+2T2014'];
    const types = (c: string) => {
      const p = `/courses/${c}`;
      return [`${p}/discussion/threads/T1/reply`, `${p}/discussion/forum/General/threads/T2`, `${p}/discussion/comments/C9/upvote`, `${p}/discussion/forum/users/42`,
        `${p}/discussion/forum/search`, `${p}/discussion/forum`, `${p}/instructor/api/list_forum_members`, `${p}/discussion/forum/i4x-MITx-problem_set/threads/T3`,
        'edx.forum.thread.created', 'edx.forum.searched', `${p}/discussion/threads/T5`];
    };
    const events = ['{"POST": {}, "GET": {}}', '{"POST": {"body": ["hi"]}, "GET": {"ajax": ["1"]}, "query": "deadline"}', '{"GET": {"a.b": [1]}, "query": null}',
      '{"query": 7}', '{"query": {"text": "x"}}', '{"query": ["x"]}', '{"\\u0047ET": {"x": 1}, "GET": "dup"}', '{}', '{"id": "56aa", "commentable_id": "General", "body": "é"}',
      '"{\\"GET\\": {}}"', '"text"', 'null', '[1]'];
    const extras = ['', ', "_id": {"$oid": "5"}', ', "module_id": "MITx/6.00x/forum/TM"', ', "module_id": null', ', "page": null', ', "page": "https://x/courses/y/"',
      ', "event_source": "browser"', ', "event_source": null', ', "username": null'];
    const contexts = (c: string) => [`{"course_id": "${c}", "user_id": 7, "path": "/courses/${c}/discussion/forum"}`, `{"course_id": "${c}"}`, `{"course_id": "${c}", "path": null}`,
      `{"course_id": "${c}", "path": 5}`, `{"course_id": "${c}", "pa\\u0074h": "/x"}`];
    const lines: string[] = [];
    let k = 0;
    for (const c of courses) {
      for (const t of types(c)) {
        for (const ev of events) {
          // every event with the plain extras, and a rotation of the others, to keep the chunk small
          const extra = extras[k % extras.length]!;
          const ctx = contexts(c)[k % 5]!;
          k++;
          lines.push(`{"username": "alice", "event_type": "${t}", "event_source": "server", "event": ${ev}, "context": ${ctx}, "time": "2015-03-01T10:00:00+00:00"${extra}}`);
          lines.push(`{"username": "bob", "event_type": "${t}", "event_source": "server", "event": ${ev}, "context": {"course_id": "${c}", "path": "/p"}, "time": "2015-03-01T10:00:0${k % 10}Z"}`);
        }
      }
      lines.push(`{"username": "carol", "event_type": "${types(c)[0]}", "event_source": "server", "event": {"GET": {}}, "context": 5, "course_id": "${c}", "time": "2015-03-01T11:00:00Z"}`);
    }
    const r = expectSameAsFullPath(Buffer.from(lines.join('\n')));
    expect(r.lines).toBe(lines.length);
    // with the native scanner the plain forum events are not sent down the full path: at least
    // bob's lines with an object event and a string or null query (6 events) and a type without
    // 'problem_' (10 types), in both courses
    if (native && nativeScanAvailable()) expect(lines.length - r.slow).toBeGreaterThanOrEqual(2 * 10 * 6);
  });

  it('on forum rows the native code computes (every module_id rule a forum line reaches, the URL columns)', () => {
    const c = 'MITx/6.00x/2013_Spring';
    const p = `/courses/${c}`;
    const v1 = '/courses/course-v1:A+B+C';
    // B3 … B6 need "/discussion/" right after the course: not here, so the later rules decide
    const t9 = `${p}/x/discussion/threads/T9/x`;
    const actions = ['reply', 'upvote', 'unvote', 'update', 'delete', 'close', 'follow', 'unfollow', 'pin', 'unpin', 'downvote', 'replyx', 'flag'];
    const types = [
      ...actions.map((a) => `${p}/discussion/threads/T1/${a}`), ...['reply', 'upvote', 'update', 'unvote', 'delete', 'endorse'].map((a) => `${p}/discussion/comments/C1/${a}`),
      `${p}/discussion/forum/users/42`, `${p}/discussion/forum/users/42/followed`, `${p}/discussion/forum/users/`, `${p}/discussion/forum/users/42/x`,
      `${p}/discussion/forum/General/threads/T2`, `${p}/discussion/forum/General/threads/`, `${p}/discussion/forum/General/threads//x`, `${p}/discussion/forum/General/inline`,
      `${p}/discussion/forum/search`, `${p}/discussion/forum/searchx`, `${p}/discussion/forum`, `${p}/discussion/forum/`, `${p}/discussion/forum//`, `${p}/discussion/threads/T5`,
      `${p}/discussion/threads/`, `${p}/discussion/comments/C2`, `${p}/discussion/forum/i4x-x/threads/T3`, `${p}/discussion/forum/i4x/threads/T3`, `${p}/discussion/i4xabc/threads/create`,
      `${p}/discussion/i4x/threads/create`, '/courses/a//c/discussion/threads/x/reply', '/courses/a/b//discussion/threads/x', `${v1}/discussion/threads/T/reply`,
      `${v1}/discussion/forum/F/threads/T`, `${p}/instructor/api/list_forum_members`, `${p}/instructor/api/`, `${p}/instructor/api/a/instructor/api/update_forum_role`,
      `/instructor/api/list_forum_members${p}/x`, `/discussion/threads/T/reply${p}/discussion/forum`, `${p}/discussion/threads/T/reply/courses/d/e/f/discussion/threads/U/upvote`,
      `${p}/discussion/forum/F/threads/T/discussion/forum/G/threads/U`, `${p}/discussion/threads/T/x/discussion/threads/U`, `${p}/discussion/comments/C/x/discussion/comments/D/`,
      `${p}/forum/S/forum/users/U/forum/V`, `/forum/S/${p}/discussion/forum`,
      // the later rules (B7 … B13): a module_id found means no thread id from the URL
      `${t9}/courses/d/e/f/courseware/ch/seq/`, `${t9}/courses/d/e/f/courseware/ch/`, `${t9}/courses/d/e/f/courseware/ch/seq/#`, `${t9}/courses/d/e/f/jump_to_id/abc`,
      `${t9}/courses/d/e/f/jump_to_id/abc/`, `${t9}/courses/d/e/f/jump_to_id/`, `${t9}/courses/d/e/f/jump_to_id//`, `${t9}/xblock/i4x:;_;_a;_b;_t;_p/handler/h`,
      `${t9}/i4x://a/b/c/d`, `${t9}/i4x://a/b/c/d/goto_position`, `${t9}/i4x://a//c/d`, `${p}/discussion/i4xabc/threads/create/discussion/forum`,
      `${p}/discussion/i4Xabc/threads/create/discussion/forum`, `${p}/discussion/i4x/threads/create/discussion/forum`,
      `${v1}/xblock/block-v1:A+B+C+type@discussion+block@d1/handler/x/discussion/forum`, `${v1}/xblock/block-v1:A+B+C+type@discussion+block@d1/discussion/forum`,
      `${p}/discussion/forum\nx`, `${p}/discussion/forum/a\u2028b/threads/T`, '/courses/a\u2028b/c/d/discussion/threads/T/reply', '/courses/a\u2029b/c/d/discussion/threads/T/reply',
      `${v1}/xblock/block-v1:A+B+C+type@discussion+block@d1/x/discussion/threads/T/y`, `${v1}/xblock/block-v1:A+B+C+type@discussion+block@d1/handler/discussion/threads/T/y`, `${p}/discussion/forum/é/threads/ü`, 'list_forum_members', 'edx.forum.thread.created',
      'edx.forum.response.created', 'edx.forum.comment.created', 'edx.forum.searched', 'edx.forum.thread.voted', 'edx.forum.problem_x',
    ];
    const base = { GET: '{"ajax": ["1"]}', POST: '{"body": ["hi"]}', query: '"deadline"', id: '"5600000000000000000f4242"', problem_id: null as string | null };
    const members: Array<Partial<Record<keyof typeof base, string | null>>> = [
      {}, { GET: null }, { GET: '{}' }, { GET: '{"a": {"b": [1, -2, "\\u00e9\\n"]}, "c": true}' }, { GET: '{"a": 1.5}' }, { GET: '{"a": 1, "a": 2}' }, { GET: '"x"' }, { GET: 'null' },
      { query: null }, { query: 'null' }, { query: '"\\u00e9"' }, { query: '7' }, { query: '{"q": 1}' },
      { id: null }, { id: '5' }, { id: 'null' }, { id: '""' }, { id: '"block-v1:a+b+c+type@t+block@i"' }, { id: '"i4x-MITx-6_00x-video-abc-def"' }, { id: '"i4x-a-b+c-video-x y"' },
      { id: '"\\u0062lock-v1:a+b+c+type@t+block@i"' }, { id: '"i4x-a-b+c-video-x"', problem_id: '"i4x://a/b/c/d"' }, { id: '"i4x-a-b+c-video-x"', problem_id: '0' },
      { id: '"i4x-a-b+c-video-x"', problem_id: '1' }, { id: '"i4x-a-b+c-video-x"', problem_id: '[]' }, { id: '"i4x-a-b+c-video-x"', problem_id: '"x"' }, { problem_id: '"i4x://a/b/c/d"' },
      { id: '"i4x-x/-forum/y-t-i"' }, { id: '"i4x-a-b-c-d"' }, { id: '"i4x-a--video-x"' }, { id: '"i4x-a-b/forum/t-video-x"' }, { problem_id: '"i4x://a/b/forum/t"' },
    ];
    const paths = [
      undefined, null, '/courses/course-v1:A+B+C/xblock/block-v1:A+B+C+type@problem+block@p/handler/h', '/courses/course-v1:A+B+C/xblock/block-v1:A+B+C+type@problem+block@p',
      `${p}/xblock/i4x:;_;_a;_b;_t;_p/handler/h`, `${p}/discussion/forum`,
    ];
    const lines: string[] = [];
    let k = 0;
    const line = (type: string, m: Record<string, string | null>, path: string | null | undefined, tail: string) => {
      const ev = `{${Object.entries(m).filter(([, v]) => v !== null).map(([n, v]) => `"${n}": ${v}`).join(', ')}}`;
      const ctx = path === undefined ? `{"course_id": "${c}"}` : `{"course_id": "${c}", "path": ${path === null ? 'null' : JSON.stringify(path)}}`;
      k++;
      lines.push(`{"username": "u${k % 4}", "ip": "10.0.0.${k % 3}", "event_type": ${JSON.stringify(type)}, "event": ${ev}, "context": ${ctx}, "time": "2015-03-01T10:${String(k % 60).padStart(2, '0')}:00Z"${tail}}`);
    };
    const server = ', "event_source": "server"';
    // every type with the base members, its own path, and with a path of each form
    for (const t of types) {
      line(t, { ...base, id: null }, t, server);
      line(t, base, undefined, server);
    }
    // a comments URL (whose thread id comes from the URL unless a module_id was found), a URL
    // that B8 gives a module_id (unless a rule before it decides), and a name
    for (const t of [`${p}/discussion/comments/C7/upvote`, `${t9}/courses/d/e/f/courseware/ch/`, 'edx.forum.searched']) {
      for (const path of paths) line(t, base, path, server);
      for (const m of members) line(t, { ...base, ...m }, t, server);
      // sources and names (a repeated key: the last one counts, as in JSON.parse)
      for (const tail of ['', ', "event_source": null', ', "event_source": "browser"', ', "event_source": "\\u0073erver"', `${server}, "username": null`, `${server}, "username": ""`,
        `${server}, "username": "\\u00e9"`, `${server}, "_id": "x"`, `${server}, "module_id": "m"`]) {
        line(t, { ...base, id: null }, t, tail);
        line(t, base, undefined, tail);
      }
    }
    const r = expectSameAsFullPath(Buffer.from(lines.join('\n')));
    expect(r.lines).toBe(lines.length);
    // most are computed natively; JavaScript decides for escaped values, numbers it does not
    // vouch for, the rules that read page / new / POST.position, line breaks, an escaped source
    if (native && nativeScanAvailable()) expect(r.native).toBeGreaterThanOrEqual(lines.length * 0.85);
  });

  it('on problem_check and show_answer events of every shape (their fast path, or the full path where it must)', () => {
    const c = 'MITx/6.00x/2013_Spring';
    const pid = 'i4x://MITx/6.00x/problem/p1';
    const full = { answers: { 'i4x-MITx-6_00x-problem-p1_2_1': 'choice_1' }, attempts: 2, success: 'correct', grade: 1, max_grade: 2, problem_id: pid, state: { seed: 1, 'i4x-x': 1 }, correct_map: { a: { correctness: 'correct' } } };
    const variants: unknown[] = [
      full, { ...full, attempts: '3' }, { ...full, attempts: 2.5 }, { ...full, attempts: true }, { ...full, attempts: null }, { ...full, attempts: 9007199254740993 },
      { ...full, success: true }, { ...full, success: 5 }, { ...full, success: null }, { ...full, grade: '0.5' }, { ...full, grade: null }, { ...full, max_grade: false },
      { ...full, answers: null }, { ...full, answers: 'a' }, { ...full, answers: [1, { 'x.y': 2 }] }, { problem_id: pid }, {}, { ...full, '1funny': 1 },
      { ...full, 'i4x-MITx': 1 }, { ...full, 'xblock.x': 1 }, { ...full, 'max-grade': 3 }, { answers: {}, 'max-grade': 3 }, { ...full, num_attempts: 4 },
      { ...full, 'child-id': 'c' }, { ...full, new_speed: 'x' },
    ];
    const events = [...variants.map((v) => JSON.stringify(v)), JSON.stringify(JSON.stringify(full)), '"text"', 'null', '[1]', '{"problem_id": "p\\u0031", "attempts": 1}', '{"attempts": 1, "attempts": "x"}',
      '{"problem_id": "i4x://MITx/6.00x/problem/p9", "problem_id": "i4x://MITx/6.00x/problem/p1", "attempts": 1}', '{"id": 5, "attempts": 1}',
      '{"id": "block-v1:MITx+6.00x+2013_Spring+type@problem+block@p7", "attempts": 1}', '{"POST": {"position": ["3"]}, "new": 4, "answers": {"a": "\\u00e9"}}'];
    const lines: string[] = [];
    let k = 0;
    for (const [type, source] of [['problem_check', 'server'], ['save_problem_check', 'server'], ['problem_check', 'browser'], ['show_answer', 'server'], ['showanswer', 'browser']] as const) {
      for (const ev of events) {
        const extra = ['', ', "_id": "x"', ', "module_id": "m"', ', "page": "https://x/courses/MITx/6.00x/2013_Spring/courseware/a/b/"', ', "context": 3'][k++ % 5]!;
        lines.push(`{"username": "alice", "event_type": "${type}", "event_source": "${source}", "event": ${ev}, "context": {"course_id": "${c}", "path": "/courses/${c}/xblock/${pid}/handler/xmodule_handler/problem_check"}, "time": "2015-03-01T10:00:00Z"${extra}}`);
        lines.push(`{"username": "bob", "event_type": "${type}", "event_source": "${source}", "event": ${ev}, "context": {"course_id": "${c}"}, "time": "2015-03-01T10:00:01Z"}`);
      }
      lines.push(`{"username": "carol", "event_type": "${type}", "event_source": "${source}", "context": {"course_id": "${c}"}, "time": "2015-03-01T10:00:02Z"}`);
    }
    const r = expectSameAsFullPath(Buffer.from(lines.join('\n')));
    expect(r.lines).toBe(lines.length);
    // bob's plain problem_check events (full, attempts null, success null, grade null, answers
    // null / string / array, problem_id only, {}, num_attempts: 9 shapes × 2 server types) and all
    // of his show_answer ones with a JSON event (31 × 2) take the fast path, and carol's 2
    if (native && nativeScanAvailable()) expect(lines.length - r.slow).toBeGreaterThanOrEqual(9 * 2 + 31 * 2 + 2);
  });

  it('on problem_check and show_answer rows the native code computes (module_id rules, answers text, numbers)', () => {
    const c = 'MITx/6.00x/2013_Spring';
    const cv1 = 'course-v1:MITx+6.002x+2T2014';
    const xb = (org: string, run: string, id: string) => `block-v1:${org}+${run}+type@problem+block@${id}`;
    // one member (or the path) varied at a time, the others plain
    const plain: Record<string, string> = {
      answers: '{"i4x-MITx-6_00x-problem-p1_2_1": "choice_1"}', attempts: '1', success: '"correct"', grade: '1', max_grade: '2', problem_id: '"i4x://MITx/6.00x/problem/p1"',
    };
    const variants: Record<string, string[]> = {
      answers: [
        '{ "a" : [ "x" , "y" ] , "b" : { } , "c" : [ ] }', '{"a": "\\u00e9\\u4e2d\\ud83d\\ude00"}', '{"a": "q\\"b\\\\c\\/d"}', '{"a": "\\n\\t\\r\\b\\f\\u001b\\u0000\\u007f"}',
        '{"a": "lone \\ud800 x \\udc00 \\udbff"}', '{"a": "\\udc00\\udc01\\ud800\\ud801\\udbff\\udfff"}', '{"a": "\\u001f\\u000b"}', '{"a": "\\u2028\\u2029"}', '{"a": "\\u0022\\u005c\\u002f"}', '{"a": 1, "b": -2, "c": 0}', '{"a": 1.5}',
        '{"a": -0}', '{"a": 1e2}', '{"a": 12345678901234567}', '{"a": "y", "10": "x"}', '{"a": "y", "01": "x"}', '{"a": 1, "a": 2}', '{"a": 1, "b": {"a": 2}}',
        '{"a": true, "b": false, "c": null}', '{"é": "ü"}', '[["choice_0", "choice_2"]]', '"text"', '"\\u00e9"', 'null', '7', '{}', '{"a": {"b": {"c": [1, [2, [3]]]}}}',
      ],
      attempts: ['0', '-0', '-3', '2.5', '1e2', '1E400', 'null', '"1"', '123456789012345', '1234567890123456', '1234567890123456789012', 'true', '[1]'],
      success: ['"\\u00e9\\n"', '"lone\\ud800"', 'null', '5', '""', '{"a": 1}'],
      grade: ['0', '-0', '2.5', '1e2', '1E400', '-1e-7', 'null', '"1"', '12345678901234567', 'false'],
      max_grade: ['0.5', '-0', '1E400', 'null', '"2"'],
      problem_id: ['"i4x://a/b/c/d/e"', '"x i4x://a//c/d i4x://e/f/g/h"', '"i4x://a/b/c/"', '""', '0', '1', 'true', '[]', '[1]', '{}', 'null', '"\\u00694x://a/b/c/d"', '"i4x://é/b/c/ü"'],
      path: [
        `/courses/${cv1}/xblock/${xb('MITx', '6.002x+2T2014', 'abc')}/handler/xmodule_handler/problem_check`, `/courses/${cv1}/xblock/${xb('MITx', '6.002x+2T2014', 'abc')}`,
        `/courses/${cv1}/xblock/${xb('MITx', '6.002x+2T2014', 'abc')}/x/handler`, `/courses/${cv1}/courses/course-v1:A+B+C/xblock/${xb('a', 'b+c', 'i')}/handler/`,
        `/courses/course-v1:A+B+C/xblock/${xb('a', 'b+c', 'i1')}/x/courses/course-v1:D+E+F/xblock/${xb('d', 'e+f', 'i2')}/handler/`,
        `/courses/course-v1:A+B+C/xblock/${xb('a', 'b+c', 'i1')}/x/courses/course-v1:D+E+F/xblock/${xb('d', 'e+f', 'i2')}`,
        `/courses/course-v1:A++C/xblock/${xb('a', 'b+c', 'i')}/handler/`, `/courses/course-v1:A+B+C/xblock/block-v1:a+b+c+type@+block@i/handler/`,
        `/courses/${c}/xblock/i4x:;_;_a;_b;_problem;_p;_q/handler/x`, `/courses/${c}/xblock/i4x:;_;_a;_problem;_p/handler/x`, `/courses/${c}/xblock/i4x:;_;_a;_b;_problem;_p/handler`,
        `/courses/${c}+x/xblock/i4x:;_;_a;_b;_t;_p/handler/`, `/courses/${c}/xblock/i4x:;_;_a;_b;_t;_p/handler/y/xblock/i4x:;_;_c;_d;_u;_q/handler/z`,
        `/courses/${c}/xblock/i4x:;_;_a;_b;_t;_;_p/handler/`, `/courses/${c}/xblock/i4x:;_;_abcdef;_problem;_p/handler/x`,
        `/courses/course-v1:A+B+C+D/xblock/${xb('a', 'b+c', 'i')}/handler/`, '/courses/course-v1:A+B+C+D+E+type@t+block@i/handler/x/xblock/block-v1:z', `/courses//b/c/xblock/i4x:;_;_a;_b;_t;_p/handler/`, `/courses/${c}/courseware/a/b/`, '', 'problem_check', 'show_answer',
        '/courses/é/ü/x/xblock/i4x:;_;_é;_ü;_problem;_ö/handler/z', null as unknown as string, undefined as unknown as string,
      ],
    };
    const lines: string[] = [];
    let k = 0;
    const types = [['problem_check', 'server'], ['save_problem_check', 'server'], ['show_answer', 'server'], ['showanswer', 'browser'], ['show_answer', null]] as const;
    const basePath = `/courses/${c}/xblock/i4x:;_;_MITx;_6.00x;_problem;_p1/handler/xmodule_handler/problem_check`;
    for (const [field, values] of Object.entries(variants)) {
      for (const value of values) {
        for (const [type, source] of types) {
          const members = { ...plain, ...(field === 'path' ? {} : { [field]: value }) };
          // the path rules first, then problem_id (B17): the varied problem_ids go without a path
          const path = field === 'path' ? value : field === 'problem_id' ? undefined : basePath;
          const context = path === undefined ? `{"course_id": "${c}"}` : `{"course_id": "${c}", "path": ${path === null ? 'null' : `"${path}"`}}`;
          const ev = `{${Object.entries(members).map(([m, v]) => `"${m}": ${v}`).join(', ')}}`;
          const src = source === null ? '' : `"event_source": "${source}", `;
          k++;
          lines.push(`{"username": "u${k % 5}", "ip": "10.0.0.${k % 3}", "event_type": "${type}", ${src}"event": ${ev}, "context": ${context}, "time": "2015-03-01T10:${String(k % 60).padStart(2, '0')}:00Z"}`);
        }
      }
    }
    const r = expectSameAsFullPath(Buffer.from(lines.join('\n')));
    expect(r.lines).toBe(lines.length);
    // every show_answer line (3 of the 5 types), and the problem_check lines whose answers and
    // numbers the native code vouches for: most of the rest
    if (native && nativeScanAvailable()) expect(r.native).toBeGreaterThanOrEqual(lines.length * 0.8);
  });

  it('on enrollment events of every shape (the native rows, or the full path where it must)', () => {
    const c = 'course-v1:MITx+6.002x+2T2014';
    const types = ['edx.course.enrollment.activated', 'edx.course.enrollment.deactivated', 'edx.course.enrollment.mode_changed', 'edx.course.enrollment.upgrade.succeeded',
      'edx.course.enrollment.upgrade.clicked', 'edx.course.enrollment.activatedx', 'x.edx.course.enrollment.activated'];
    const userIds = ['42', '-0', '0', '"42"', 'null', undefined, '1.5', '1e2', '123456789012345', '1234567890123456789012', 'true', '[1]'];
    const modes = ['"honor"', '"v\\u00e9rified"', '"lone\\ud800"', 'null', undefined, '5', '{"m": 1}', '""'];
    const ctxUsers = ['7', '"7"', 'null', undefined, '7.5', '""', '-3'];
    const extras = ['', ', "child-id": 1', ', "1x": 2', ', "a.b": 3', ', "us\\u0065r_id": 9', ', "user_id": 5', ', "modx": "other", "user_ids": 3'];
    const lines: string[] = [];
    let k = 0;
    const push = (type: string, ev: string, ctxUser: string | undefined, tail = '') => {
      k++;
      const ctx = ctxUser === undefined ? `{"course_id": "${c}"}` : `{"course_id": "${c}", "user_id": ${ctxUser}}`;
      lines.push(`{"username": "u${k % 3}", "event_type": "${type}", "event_source": "server", "event": ${ev}, "context": ${ctx}, "time": "2015-03-01T10:${String(k % 60).padStart(2, '0')}:00Z"${tail}}`);
    };
    const payload = (u: string | undefined, m: string | undefined, extra = '') =>
      `{"course_id": "${c}"${u === undefined ? '' : `, "user_id": ${u}`}${m === undefined ? '' : `, "mode": ${m}`}${extra}}`;
    for (const t of types) {
      for (const u of userIds) push(t, payload(u, '"honor"'), '7');
      for (const m of modes) push(t, payload('42', m), '7');
      for (const cu of ctxUsers) push(t, payload(undefined, '"audit"'), cu);
      for (const e of extras) push(t, payload('42', '"honor"', e), '7');
      push(t, JSON.stringify(payload('42', '"honor"')), '7');
      push(t, '"text"', '7');
      push(t, payload('42', '"honor"'), '7', ', "_id": "x"');
      push(t, payload('42', '"honor"'), '7', ', "username": null');
    }
    const r = expectSameAsFullPath(Buffer.from(lines.join('\n')));
    expect(r.lines).toBe(lines.length);
    // natively: the four types R6 gives the full event_struct, with an object payload whose keys
    // R17 leaves alone and whose user_id (else context.user_id) is a short integer or null and
    // mode a string or null: 6 user ids + 5 modes + 4 context ids + 3 extras + _id + no username
    if (native && nativeScanAvailable()) expect(r.native).toBe(4 * 20);
  });

  it('on video events of every shape (the native facts, or JavaScript where it must)', () => {
    const ids = [
      'block-v1:MITx+6.002x+2T2014+type@video+block@0b9e39477cf34507a7a48f74be381fdd', 'block-v1:MITx+6.002x+2T2014+type@video', 'block-v1:a+b+c+type@video+block@',
      'block-v1:a+block@x+type@video+block@y.z', 'i4x://MITx/6.00x/video/Lecture_1', 'i4x://MITx/6.00x/video', 'i4x://MITx/6.00x/video/a/b', 'i4x://a//b/c.d',
      'i4x-MITx-6_00x-video-Welcome', 'i4x-MITx-6_00x-videoalpha-a-b', 'i4x-MITx-6_00x-videoalphax-c', 'i4x-MITx-6_00x-vid-x', 'i4x-MITx', 'i4x-', 'i4x-a--video-x',
      'i4x-MITx-video-video-y', 'i4x-M-6-video-', 'abc.def.g', 'plain_hex_0123', '', ' spaced ', '\u00a0x', '\t', 'é.x', 'x é', 'a\\b', '.',
    ];
    const payloads: string[] = [];
    for (const id of ids) payloads.push(`{"id": "${id}", "currentTime": 12.5, "speed": "1.50"}`);
    payloads.push(
      '{"id": 5, "currentTime": 1}', '{"id": null, "currentTime": 1}', '{"currentTime": 1}', '{"id": "v", "currentTime": "abc"}', '{"id": "v", "currentTime": 1e400}',
      '{"id": "v", "currentTime": -0, "new_time": "7", "old_time": 3, "speed": null}', '{"id": "v", "new_time": 1.0000000000000002, "speed": 2}', '{"id": "v", "currentTime": "12.5e1"}',
      '{"id": "v", "id": "w"}', '{"id": "v", "currentTime": 1, "currentTime": null}', '{}', '[1]', '7', 'null',
    );
    const lines: string[] = [];
    let k = 0;
    const users = ['"alice"', '""', 'null'];
    for (const type of ['play_video', 'pause_video', 'stop_video', 'seek_video']) {
      for (const p of payloads) {
        for (const form of [p, JSON.stringify(p)]) {
          const user = users[k % 3]!;
          const ip = ['"10.0.0.1"', 'null', '"10.0.0.2"'][k % 3]!;
          const c = ['MITx/6.00x/2013_Spring', 'course-v1:MITx+6.002x+2T2014'][k % 2]!;
          k++;
          lines.push(`{"username": ${user}, "ip": ${ip}, "event_type": "${type}", "event_source": "browser", "event": ${form}, "context": {"course_id": "${c}"}, "time": "2015-03-01T10:00:${String(k % 60).padStart(2, '0')}Z"}`);
        }
      }
      lines.push(`{"username": "bob", "event_type": "${type}", "event_source": "mobile", "context": {"course_id": "MITx/6.00x/2013_Spring"}, "time": "2015-03-01T11:00:00Z"}`);
    }
    const r = expectSameAsFullPath(Buffer.from(lines.join('\n')));
    expect(r.lines).toBe(lines.length);
    // every payload whose id is a plain string without white space or non-ASCII text at its ends
    // (23 ids), or null / absent, with numbers or decimal text: in both forms, of all four types
    if (native && nativeScanAvailable()) expect(r.native).toBeGreaterThanOrEqual((23 + 2) * 2 * 4);
  });

  it('on base events of every type and course form (the counters, the time_on_task categories)', () => {
    const courses = ['MITx/6.00x/2013_Spring', 'course-v1:MITx+6.002x+2T2014', 'ccx-v1:MITx+6.002x+2T2014+ccx@3', 'course-v1:a+b', 'a/b', 'course-v1:é+x+y', 'x/y/z/w'];
    const types = (c: string, slash: string) => [
      `/courses/${slash}/progress`, `/courses/${c}/progress`, `/courses/${slash}/progress/7`, `/courses/${slash}/discussion/forum`, `/courses/${c}/discussion/threads/t`,
      `/courses/${slash}/discussio`, `/courses/${slash}/courseware/a/b/`, `/courses/${slash}/xblock/i4x:;_;_a/handler/problem_check`, `/courses/${slash}/wiki/x/`,
      `/courses/${slash}/jump_to/a_video`, `/courses/${slash}/x/_transcript`, '/courses/other/progress', 'problem_x', 'problem_', 'xproblem_check', 'a_video', '_video',
      'edx.forum.x', 'textbook.pdf.page.navigated', 'textbook', 'play_video', 'load_video', 'seq_goto', 'seq_next', 'page_close', 'show_transcript', 'hide_transcript',
      'problem_graded', 'problem_show', 'problem_check', 'save_problem_check', 'edx.video.played', 'é_video', 'x/xblock/y', '/wiki/', 'speed_change_video',
    ];
    const slashOf = (c: string) => /^course-v1:([^+/]+)\+([^+/]+)\+([^+/]+)$/.exec(c)?.slice(1).join('/') ?? c;
    const lines: string[] = [];
    let k = 0;
    for (const c of courses) {
      for (const t of types(c, slashOf(c))) {
        for (const source of ['browser', 'server']) {
          const top = ['', ', "course_id": null', ', "course_id": ""'][k++ % 3]!;
          lines.push(`{"username": "u${k % 7}", "ip": "10.0.0.${k % 3}", "event_type": "${t}", "event_source": "${source}", "event": "{}", "context": {"course_id": "${c}"}, "time": "2015-03-0${1 + (k % 2)}T23:59:${String(k % 60).padStart(2, '0')}Z"${top}}`);
        }
      }
    }
    lines.push('{"username": "u1", "event_type": null, "context": {"course_id": "MITx/6.00x/2013_Spring"}, "time": "2015-03-01T10:00:00Z"}');
    lines.push('{"username": "u1", "context": {"course_id": "MITx/6.00x/2013_Spring"}, "time": "2015-03-01T10:00:00Z"}');
    lines.push('{"username": "u1", "event_type": "problem_check", "event_source": null, "context": {"course_id": "MITx/6.00x/2013_Spring"}, "time": "2015-03-01T10:00:00Z"}');
    lines.push('{"username": "u1", "event_type": "problem_check", "event_source": "\u0073erver", "context": {"course_id": "MITx/6.00x/2013_Spring"}, "time": "2015-03-01T10:00:00Z"}');
    const r = expectSameAsFullPath(Buffer.from(lines.join('\n')));
    expect(r.lines).toBe(lines.length);
    // all but the forum types (3, from both sources) and the server problem_check events (2) of
    // each course, and the escaped source, have their facts computed natively
    if (native && nativeScanAvailable()) expect(r.native).toBeGreaterThanOrEqual(lines.length - 8 * courses.length - 1);
  });

  it('on events whose course is guessed or missing, and escaped names and addresses', () => {
    const pages = [
      'https://courses.edx.org/courses/MITx/6.00x/2013_Spring/courseware/a/', 'http://x/courses/course-v1:MITx+6.002x+2T2014/progress', 'httpss://h/courses/a/b/c/',
      'https://courses/courses/a/b/c/', 'https:///courses/a/b/c/', 'ftps://h/courses/a/b/c/', 'htps://h/courses/a/b/c/', 'https://h/courses/course-v1:A+B/c/d/', 'https://h/courses/course-v1:A+B+C',
      'https://h/courses/a/b/c', 'https://h/x/courses/a/b/c/', 'https://h/courses/é/ü/c/d', 'HTTPS://h/courses/a/b/c/', '/courses/a/b/c/', '',
    ];
    const types = [
      '/courses/MITx/6.00x/2013_Spring/progress', '/courses/course-v1:MITx+6.002x+2T2014/discussion/forum', '/courses/x/courses/a/b/c/', '/courses/course-v1:A+B/c/d/e',
      '/courses/a//b/c/', '/courses/course-v1:A+B+C', '/x/courses/a/b/c/progress', '/courses//courses/a/b/c/', '/dashboard', 'page_close', 'problem_check', 'play_video', '/courses/é/b/c/wiki/x',
    ];
    const contexts = ['{"course_id": ""}', '{"course_id": null}', '{}', '"ctx"', null, '{"course_id": "\\u0041/b/c"}', '{"course_id": "\\u0000"}'];
    const sources = ['"browser"', '"server"', 'null', null, '"mobile"', '"\\u0062rowser"'];
    const names = ['"alice"', '"\\u03a3\\u03c9\\u03ba"', '"\\u0000"', '"\\ud800x"', '"a\\"b"', '""', '"\\u0061"'];
    const ips = ['"10.0.0.1"', '"\\u0031.2.3.4"', 'null', '"\\udc00"'];
    const lines: string[] = [];
    let k = 0;
    for (const page of pages) {
      for (const type of types) for (const source of sources) {
        const ctx = contexts[k % contexts.length];
        const name = names[k % names.length]!;
        const ip = ips[k % ips.length]!;
        const pageField = k % 9 === 8 ? ', "page": "\\u0068ttps://h/courses/a/b/c/"' : `, "page": "${page}"`;
        k++;
        lines.push(`{"username": ${name}, "ip": ${ip}, "event_type": "${type}", "event": "{}"${source === null ? '' : `, "event_source": ${source}`}${ctx === null ? '' : `, "context": ${ctx}`}${pageField}, "time": "2015-03-01T10:00:${String(k % 60).padStart(2, '0')}Z"}`);
      }
    }
    const r = expectSameAsFullPath(Buffer.from(lines.join('\n')));
    expect(r.lines).toBe(lines.length);
    // the lines left to JavaScript: an escaped source, page or context.course_id, a lone
    // surrogate, an event a compact table reads — a minority here
    if (native && nativeScanAvailable()) expect(r.native).toBeGreaterThanOrEqual(lines.length / 2);
  });

  it('on transcript candidates of every shape (link_clicked payloads, translation URLs)', () => {
    const c = 'course-v1:MITx+6.002x+2T2014';
    const dl = 'https://courses.edx.org/courses/x/xblock/v/handler/transcript/download';
    const payloads = [
      JSON.stringify({ target_url: dl, current_url: 'x' }), JSON.stringify({ target_url: 'https://x/other' }), JSON.stringify({ target_url: 5 }), '{}', '[1]',
      JSON.stringify(JSON.stringify({ target_url: dl })), JSON.stringify(' ' + JSON.stringify({ target_url: dl })), JSON.stringify('\u00a0' + JSON.stringify({ target_url: dl })),
      JSON.stringify('{"target_url": '), JSON.stringify('not json'), JSON.stringify(''), 'null', '7', '"{\\"target_url\\": \\"' + dl + '\\", \\"target_url\\": \\"x\\"}"',
      // the native reading: objects in the line, escaped keys and values, repeats, JSON that is not, depth
      `{"target_url": "${dl}"}`, `{"target_url": "x", "target_url": "${dl}"}`, `{"target_url": "${dl}", "target_url": null}`, '{"target\\u005furl": "handler/transcript/download"}',
      JSON.stringify({ target_url: 'handler\/transcript\/download' }), JSON.stringify(JSON.stringify({ target_url: 'handler/transcript/download\u00e9' })),
      JSON.stringify('{"target_url": "handler/transcript/download"} x'), JSON.stringify('{"target_url": "handler/transcript/download"}\n '),
      JSON.stringify('{"target_url": "handler/transcript/download\ud800"}'), JSON.stringify('{"a": [[[[[[]]]]]], "target_url": "handler/transcript/download"}'),
      JSON.stringify(`{"a": ${'['.repeat(300)}${']'.repeat(300)}, "target_url": "handler/transcript/download"}`), JSON.stringify('{"target_url": "handler/transcript/downloa"}'),
      JSON.stringify('{"target_url": ["handler/transcript/download"]}'), JSON.stringify('\t{"target_url": "handler/transcript/download"}'), JSON.stringify('{"x": "\n"}'),
    ];
    const lines: string[] = [];
    for (const p of payloads) {
      lines.push(`{"username": "alice", "event_type": "edx.ui.lms.link_clicked", "event_source": "browser", "event": ${p}, "context": {"course_id": "${c}"}, "time": "2015-03-01T10:00:00Z"}`);
    }
    lines.push(`{"username": "alice", "event_type": "edx.ui.lms.link_clicked", "event_source": "browser", "context": {"course_id": "${c}"}, "time": "2015-03-01T10:00:01Z"}`);
    const translations = [
      '/handler/transcript/translation/es', '/handler/transcript/translation/zh_HANS?x=1', '/transcript/translation/fr', '/handler/transcript/translation/', '/handler/transcript/translation/pt#f',
      '/handler/transcript/translation/a/handler/transcript/translation/b', '/handler/transcript/translation/é', '/handler/transcript/translation/x?', '/handler/transcript/translation/#?',
      '/handler/transcript/translation/de/discussion/forum', '/handler/transcript/translation/edx.course.enrollment', '/handler/transcript/translationes',
    ];
    for (const t of translations) {
      lines.push(`{"username": "bob", "event_type": "/courses/${c}/xblock/block-v1:MITx+6.002x+2T2014+type@video+block@v1${t}", "event_source": "server", "event": {"GET": {}}, "context": {"course_id": "${c}"}, "time": "2015-03-01T10:00:02Z"}`);
    }
    lines.push(`{"username": null, "event_type": "/courses/${c}/handler/transcript/translation/it", "event_source": "server", "context": {"course_id": "${c}"}, "time": "2015-03-01T10:00:03Z"}`);
    const r = expectSameAsFullPath(Buffer.from(lines.join('\n')));
    expect(r.lines).toBe(lines.length);
    // only the two translation URLs of a second kind (forum, enrollment) need the full path
    expect(r.slow).toBe(2);
    // the native code reads all but 7: a lone surrogate, text it cannot vouch for as JSON (a cut
    // object, trailing text, 300 levels), the forum and enrollment URLs
    if (native && nativeScanAvailable()) expect(r.native).toBe(lines.length - 7);
  });

  it.skipIf(!hasTrackingFixtures)('on every real fixture line', () => {
    let files = 0;
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(log|json|jsonl)(\.gz)?$/.test(e.name)) {
          const raw = fs.readFileSync(p);
          const text = e.name.endsWith('.gz') ? zlib.gunzipSync(raw) : raw;
          expectSameAsFullPath(text);
          files++;
        }
      }
    };
    walk(TRACKING_FIXTURES);
    expect(files).toBeGreaterThan(0);
  });
});
