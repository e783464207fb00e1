/**
 * The native rewrite of `split` (native/rewrite.cc through src/events/nativeRewrite.ts) against
 * the JavaScript rewrite it replaces: for every line the native code takes, its row must be
 * byte for byte JSON.stringify(processLine(line).row) and its course processLine's course. The
 * reference is always the JavaScript path (line.ts, rephrase.ts, moduleId.ts), never the native
 * code: on generated logs, on the real fixture lines, on hand-made lines that vary one rule at a
 * time, on one line per schema field and value type, and on random edits of real-looking lines.
 * Each group also checks that the native code took the lines it is meant to take, so a rewrite
 * that gave up everywhere would fail.
 */
import { decodeFacts } from '../src/aggregate/factsFile.ts';
import { canonicalFacts } from './helpers/canonicalFacts.ts';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLogs } from '../scripts/generate-logs.ts';
import { processLine } from '../src/events/line.ts';
import { rewriteAndScanChunkNative, rewriteChunkNative, ROW_RECORD, RR_COURSE, RR_ROW_END, RR_ROW_START, setNativeRewriteEnabled } from '../src/events/nativeRewrite.ts';
import { scanChunkNative, STRIDE, type ChunkScan } from '../src/events/nativeScan.ts';
import { CONTEXT_SCHEMA, EVENT_STRUCT_SCHEMA, TRACKING_LOG_SCHEMA } from '../src/events/schema.ts';
import { splitChunk } from '../src/logs/chunkTasks.ts';
import { hasTrackingFixtures, TRACKING_FIXTURES } from './helpers/fixtures.ts';
import { tempDir } from './helpers/logtree.ts';
import { mutate, prng } from './helpers/mutate.ts';

const available = rewriteChunkNative(Buffer.from('{}')) !== null;

interface Rewritten {
  row: string;
  course: string | null;
}

/** The native rewrite of each line (null: left to JavaScript), the lines being one chunk. */
function nativeRows(lines: string[]): Array<Rewritten | null> {
  const rw = rewriteChunkNative(Buffer.from(lines.join('\n')))!;
  expect(rw.lines).toBe(lines.length);
  return lines.map((_, i) => {
    const r = ROW_RECORD * i;
    const end = rw.records[r + RR_ROW_END]!;
    if (end < 0) return null;
    const c = rw.records[r + RR_COURSE]!;
    expect(rw.text[end - 1]).toBe(10);
    return { row: rw.text.toString('utf8', rw.records[r + RR_ROW_START]!, end - 1), course: c < 0 ? null : rw.courses[c]! };
  });
}

/** The reference: the JavaScript rewrite (null: a reject), of the line as its UTF-8 bytes read. */
function jsRow(line: string): Rewritten | null {
  const out = processLine(Buffer.from(line).toString('utf8'));
  return out.ok ? { row: JSON.stringify(out.row), course: out.courseId } : null;
}

/** Every line the native code takes must agree with JavaScript; returns how many it took. */
function expectAgree(lines: string[]): number {
  const native = nativeRows(lines);
  let taken = 0;
  native.forEach((n, i) => {
    if (n === null) return;
    taken++;
    const want = jsRow(lines[i]!);
    if (want === null) expect.fail(`native row for a line JavaScript rejects: ${JSON.stringify(lines[i]!.slice(0, 300))}`);
    if (n.row !== want.row || n.course !== want.course) {
      expect.fail(`line ${JSON.stringify(lines[i])}\n  native ${n.row} (${n.course})\n  JS     ${want.row} (${want.course})`);
    }
  });
  return taken;
}

/** The lines must all be taken by the native code, and agree. */
function expectNative(lines: string[]): void {
  const taken = expectAgree(lines);
  const left = nativeRows(lines)
    .map((n, i) => (n === null ? lines[i] : null))
    .filter((l) => l !== null);
  expect(left, 'lines the native code should have taken').toEqual([]);
  expect(taken).toBe(lines.length);
}

const TIME = '"time": "2015-03-01T10:00:00.123456+00:00"';
const CTX = '{"user_id": 7, "org_id": "MITx", "course_id": "MITx/6.00x/2015_Spring", "path": "/event"}';

/** A browser event with a string payload, fields overridable as JSON texts. */
function browser(over: Record<string, string | null> = {}): string {
  const fields: Record<string, string | null> = {
    username: '"alice"', event_type: '"play_video"', ip: '"1.2.3.4"', agent: '"Mozilla"', host: '"courses.edx.org"', session: '"s1"',
    event: JSON.stringify(JSON.stringify({ id: 'i4x-MITx-6_00x-video-v1', currentTime: 12.5, code: 'abc' })), event_source: '"browser"',
    context: CTX, page: '"https://courses.edx.org/courses/MITx/6.00x/2015_Spring/courseware/w1/s1/"', ...over,
  };
  const parts = Object.entries(fields).filter(([, v]) => v !== null).map(([k, v]) => `"${k}": ${v}`);
  return `{${parts.join(', ')}, ${TIME}}`;
}

/** A server event with an object payload. */
function server(over: Record<string, string | null> = {}): string {
  return browser({ event_type: '"/courses/MITx/6.00x/2015_Spring/courseware/w1/s1/"', event: '{"GET": {}, "POST": {}}', event_source: '"server"', page: 'null', ...over });
}

let lines: string[] = [];
let root = '';
beforeAll(async () => {
  root = tempDir('nativerw');
  await generateLogs({ out: root, courses: 4, learners: 80, days: 2, seed: 23, malformedRate: 0.03 });
  for (const f of fs.readdirSync(root).sort()) {
    if (f.endsWith('.log.gz')) lines.push(...zlib.gunzipSync(fs.readFileSync(path.join(root, f))).toString('utf8').split('\n').filter((l) => l !== ''));
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe.skipIf(!available)('the native rewrite gives the JavaScript rewrite, byte for byte', () => {
  it('on every generated line (malformed ones included), taking nearly all of them', () => {
    const taken = expectAgree(lines);
    const accepted = lines.filter((l) => jsRow(l) !== null).length;
    expect(taken / accepted).toBeGreaterThan(0.98);
  });

  it.skipIf(!hasTrackingFixtures)('on every real fixture line', () => {
    let taken = 0;
    for (const f of fs.readdirSync(TRACKING_FIXTURES)) {
      taken += expectAgree(fs.readFileSync(path.join(TRACKING_FIXTURES, f), 'utf8').split('\n').filter((l) => l.trim() !== ''));
    }
    expect(taken).toBeGreaterThan(50);
  });

  it('on the top-level fields: R13 parks, unknown keys, coercions, key order, syslog prefix', () => {
    expectNative([
      browser(),
      browser({ referer: '"https://x/"', accept_language: '"en"', nonInteraction: '1', label: '{"a": [1, 2.5]}', roles: '[]', environment: 'null', minion_id: '"m"' }),
      browser({ minion_id: '"m"', referer: '"r"' }), // parked in R13's order, not the line's
      browser({ extra: '"x"', another: '{"b": {"c": null}}', old_mongoid: '5', numbers: '[1e21, 1e-7, -0, 0.1, 123456789012345678, 1.5e300]' }),
      browser({ username: '42', ip: 'true', host: 'null', session: '{"k": "v"}', agent: '-0.0', page: '3.25e2' }),
      browser({ name: '"play_video"', vname: '"v"', datafn: '"d"' }),
      browser({ username: '"\\u00e5sa \\ud83d\\ude00 \\/ \\" \\\\ \\t \\u0001 \\u001F"', agent: '"é 中 😀"' }),
      '{"event": "x", "time": "2015-03-01T10:00:00Z", "event_type": "t"}',
      `Mar  1 00:00:01 localhost {"username": "a", "event_type": "x", "event": "", ${TIME}}`,
      '  \t{"username": "a", "event_type": "x", "event": "{}", "time": "2015-03-01T10:00:00Z"}  \r',
    ]);
  });

  it('on numbers in every form, kept, parked and coerced', () => {
    const numbers = ['0', '-0', '0.0', '-0.0', '1', '10', '100.5', '1.10', '0.1', '0.000001', '0.0000001', '0.00000123', '123456789012345', '1234567890123456',
      '123456789012345.6', '12345678901234.56', '1e2', '1E+2', '1.5e-7', '2e21', '999999999999999999999', '1e21', '0.30000000000000004', '9.000000000000001', '-12.5', '5e-324', '1.7976931348623157e308'];
    const all: string[] = [];
    for (const v of numbers) {
      all.push(browser({ event: JSON.stringify(`{"id": "v", "currentTime": ${v}, "new": ${v}, "extra": [${v}]}`), event_type: '"seek_video"' }));
      all.push(server({ event: `{"GET": {"n": ${v}}, "POST": [${v}]}`, other: v }));
      all.push(browser({ context: `{"course_id": "x/y/z", "user_id": ${v}, "tags": ${v}}` }));
    }
    expectNative(all);
  });

  it('on the context: R11, R12, R13 label, R15, R19 and unknown keys', () => {
    const ctx = (body: string) => browser({ context: `{${body}}` });
    expectNative([
      ctx('"course_user_tags": {"a": 1}, "user_id": 1, "course_id": "course-v1:MITx+6.002x+3T2014", "path": "/event"'),
      ctx('"user_id": "", "course_id": "MITx/6.00x/2015_Spring"'),
      ctx('"user_id": " 12 ", "org_id": 5, "course_id": "x/y/z"'),
      ctx('"user_id": "abc", "course_id": "x/y/z"'),
      ctx('"user_id": 1.5, "course_id": "x/y/z"'),
      ctx('"user_id": true, "username": null, "course_id": "x/y/z"'),
      ctx('"user_id": {"a": 1}, "course_id": "x/y/z", "label": "l", "foo": [1, {"b": 2}]'),
      ctx('"agent": "old", "application": {"name": "app"}, "client": null, "received_at": "t", "component": 1, "open_in_browser_url": "u", "asides": {}, "course_id": "x/y/z"'),
      ctx('"course_id": "x/y/z", "agent": null'),
      ctx('"course_id": "x/y/z", "agent": {"x": [1]}, "user_id": 99999999999999999999'),
      ctx('"module": {"display_name": "D", "usage_key": "k", "original_usage_key": "o", "original_usage_version": 3, "other": {"z": 1}}, "course_id": "x/y/z"'),
      ctx('"module": null, "course_id": "x/y/z"'),
      ctx('"module": {}, "course_id": "x/y/z", "label": {"a": null}'),
      ctx('"course_id": ""'), // no course: guessed from the page
      ctx(''),
    ]);
  });

  it('on event payloads: partial and full structs, string events of every kind', () => {
    const payloads = [
      '{"GET": {"a": ["1"]}, "POST": {"b": 2.50}, "query": "q"}', '{"GET": {}, "query": null}', '{"POST": [], "query": 5}', '{}', '{"query": true}',
      '"{\\"id\\": \\"x\\"}"', '"[1, 2]"', '"\\"text\\""', '"not json"', '""', '"12"', '"input_x=1"', '"  {\\"a\\": 1}  "', '"{\\"a\\": 1.0, \\"b\\": -0}"',
    ];
    const types = ['"pause_video"', '"seq_goto"', '"problem_check"', '"/courses/MITx/6.00x/2015_Spring/x"', '"harvardx.button"', '"video_embedded problem_x"'];
    const all: string[] = [];
    for (const event of payloads) for (const event_type of types) for (const src of ['"browser"', '"server"']) all.push(browser({ event, event_type, event_source: src }));
    const taken = expectAgree(all);
    expect(taken).toBeGreaterThan(all.length * 0.9);
  });

  it('on one line per event_struct, context and top-level schema field and value type', () => {
    const values = ['"7"', '7', '7.5', '-0', '1e25', 'true', 'false', '"x"', '" 3 "', '"+4"', '"1e3"', '"TRUE"', '"False"', '0', '1', '2', '{"a": 1}', '[1]', 'null', '"9223372036854775808"', '9223372036854775807', '"-12"'];
    const all: string[] = [];
    for (const field of Object.keys(EVENT_STRUCT_SCHEMA)) {
      for (const v of values) {
        const payload = `{"problem_id": "i4x://MITx/6.00x/problem/p1", "${field}": ${v}, "attempts": 1}`;
        all.push(server({ event_type: '"problem_check"', event: payload }));
        all.push(browser({ event_type: '"seek_video"', event: JSON.stringify(payload) }));
      }
    }
    for (const field of Object.keys(CONTEXT_SCHEMA)) for (const v of values) all.push(browser({ context: `{"course_id": "x/y/z", "${field}": ${v}}` }));
    for (const field of Object.keys(TRACKING_LOG_SCHEMA)) for (const v of values) all.push(browser({ [field]: v }));
    const taken = expectAgree(all);
    // left to JavaScript: the fields the native code gives up on (course_id, module_id, mongoid,
    // event_struct, event_js at the top; answer / rubric records; a context that is no object; …)
    expect(taken).toBeGreaterThan(all.length * 0.8);
  });

  it('on state, R9, R10, R13 and R16 of full structs', () => {
    const pc = (body: string) => server({ event_type: '"problem_check"', event: `{"problem_id": "i4x://MITx/6.00x/problem/p1", ${body}}` });
    expectNative([
      pc('"state": {"student_answers": {"a": "1"}, "seed": 1, "done": null, "correct_map": {}, "input_state": {"i": {}}, "has_saved_answers": true, "extra": [1]}'),
      pc('"state": null, "answers": {"x": ["c1", "c2"]}, "correct_map": {"x": {"correctness": "correct"}}, "submission": {}, "grade": 1, "max_grade": 2'),
      pc('"state": {"seed": "3", "done": "yes"}'),
      ...['"TRUE"', '"False"', '1', '0', '1.0', '2', 'false', '{}'].map((v) => pc(`"state": {"seed": 2.5, "done": ${v}}`)),
      pc('"old_state": {"a": 1}, "new_state": [], "permutation": null, "options_selected": {}, "corrections": "c"'),
      pc('"requested_skip_interval": 1, "submitted_answer": "a", "num_attempts": 2, "task_id": "t", "content": {}, "widget_placement": "w", "tab_count": 3, "current_tab": 1, "target_tab": 2, "duration": 5.5, "play_medium": "m"'),
      pc('"success": "correct", "attempts": "3", "grade": "0.5", "max_grade": true'),
      browser({ event_type: '"speed_change_video"', event: JSON.stringify(JSON.stringify({ id: 'v', new_speed: '1.50', old_speed: 1, current_time: 3 })) }),
      browser({ event_type: '"speed_change_video"', event: JSON.stringify(JSON.stringify({ id: 'v', new_speed: 'fast' })) }),
      browser({ event_type: '"speed_change_video"', event: JSON.stringify(JSON.stringify({ id: 'v', new_speed: null })) }),
      browser({ event_type: '"speed_change_video"', event: JSON.stringify(JSON.stringify({ id: 'v', new_speed: 2 })) }),
      browser({ event_type: '"load_video"', event: JSON.stringify(JSON.stringify({ id: 'v', speed: '1.0', code: 'c' })) }),
    ]);
  });

  it('on module_id rules of browser and string events (B2a with new, A8c, B2b, A9, B15)', () => {
    const cv1 = 'https://courses.edx.org/courses/course-v1:MITx+6.002x+3T2014/courseware/ch1/seq1/';
    const seq = (type: string, id: string, extra: Record<string, unknown> = {}) => browser({ event_type: `"${type}"`, event: JSON.stringify(JSON.stringify({ id, ...extra })) });
    expectNative([
      seq('seq_goto', 'i4x://MITx/6.00x/sequential/s1', { new: 3, old: 1 }),
      seq('seq_next', 'i4x://MITx/6.00x/sequential/s1', { new: '4' }),
      seq('seq_goto', 'i4x://MITx/6.00x/sequential/s1', {}),
      seq('seq_prev', 'i4x://MITx/6.00x/sequential/s1', { new: 3 }),
      seq('seq_goto', 'no-i4x-here', { new: 3 }),
      seq('play_video', 'hexid0123', { currentTime: 1 }),
      browser({ event_type: '"play_video"', event: JSON.stringify(JSON.stringify({ id: 'hexid0123' })), page: JSON.stringify(cv1) }),
      browser({ event_type: '"play_video"', event: JSON.stringify(JSON.stringify({ id: 'hexid0123' })), page: 'null' }),
      browser({ event_type: '"play_video"', event: JSON.stringify(JSON.stringify({ id: 'hexid0123' })), page: '{}' }),
      browser({ event_type: '"play_video"', event: JSON.stringify(JSON.stringify({ id: 'hexid0123' })), page: '5' }),
      browser({ event_type: '"page_close"', event: '""', page: '"https://courses.edx.org/courses/MITx/6.00x/2015_Spring/courseware/w1/s1/##"' }),
      browser({ event_type: '"page_close"', event: '""', page: '"https://courses.edx.org/courses/MITx/6.00x/2015_Spring/courseware/w1/"' }),
      browser({ event_type: '"page_close"', event: '""', page: null }),
      browser({ event_type: '"page_close"', event: '""', page: '7' }),
      browser({ event_type: '"x"', event: '"block-v1:MITx+6.002x+3T2014+type@problem+block@abc/junk"' }),
      browser({ event_type: '"x"', event: '"see i4x://MITx/6.00x/problem/p9 here"' }),
      browser({ event_type: '"x"', event: '"{\\"problem_id\\": \\"i4x://MITx/6.00x/problem/p2\\"}"' }),
      server({ event_type: '"/courses/course-v1:MITx+6.002x+3T2014/xblock/block-v1:MITx+6.002x+3T2014+type@video+block@v/handler/x"', context: null }),
      server({ event_type: '"add_resource"', event: '{"id": "i4x://a/b/c/d"}' }),
      server({ event_source: null }),
    ]);
  });

  it('on the module_id rules of "input_" answers (A3, B12)', () => {
    const cv1 = (tail: string) => JSON.stringify(`https://courses.edx.org/courses/course-v1:MITx+6.002x+3T2014/${tail}`);
    const answers = ['"input_i4x-MITx-6_00x-problem-p1_2_1=choice_0&input_i4x-MITx-6_00x-problem-p1_3_1=x"', '"input_p1_2_1_comment=x"', '"input_abc_2_1=x&input_i4x-a-b-problem-q_2_1=y"',
      '"input_i4x-MITx-6_00x-problem-p1_2_1="', '"input_nothing=x"', '"input_p1_2_=x"', '"input_p1_2_=x_3_1=y"', '"input_i4x-a-b-problem-c_2_=x"', '"input_i4x-a-b-problem-c_2_=x_3_1=y"', '"input_i4x-a--c-d_2_1=x"', '"input_i4x-MITx-6_00x-problem-p\\n1_2_1=x"', '"input_"'];
    const pages = [cv1('courseware/ch/seq/'), cv1('block/x'), cv1('x'), '"https://courses.edx.org/courses/MITx/6.00x/2015_Spring/courseware/"', 'null', '{}', '5', '"x"'];
    const all: string[] = [];
    for (const event of answers) {
      for (const page of pages) all.push(browser({ event_type: '"problem_check"', event, page }));
      all.push(server({ event_type: '"problem_graded"', event }), server({ event_type: '"save_state"', event }));
    }
    // browser answers that start "input_i4x-" and that A3 does not match reach B2d, left to JavaScript
    const b2d = (l: string) => l.includes('"browser"') && /"input_i4x-(a--c|a-b-problem-c_2_=x"|MITx-6_00x-problem-p\\n)/.test(l);
    expectNative(all.filter((l) => !b2d(l)));
    expectAgree(all.filter(b2d));
  });

  it('on courses: converted, guessed from the page or the event type, or none', () => {
    expectNative([
      browser({ context: '{"course_id": "course-v1:MITx+6.002x+3T2014"}' }),
      browser({ context: '{"course_id": "course-v1:bad"}' }),
      browser({ context: '{}', page: '"https://courses.edx.org/courses/course-v1:MITx+6.002x+3T2014/courseware/"' }),
      browser({ context: '{"course_id": null}', page: '"http://x/courses/A/B/C/"' }),
      browser({ context: '{"course_id": 5}', page: '"https://courses.edx.org/dashboard"' }),
      server({ context: '{"course_id": ""}', event_type: '"/courses/A/B/C/info"' }),
      server({ context: '{}', event_type: '"/dashboard"' }),
      browser({ context: null, event_source: null }),
    ]);
  });

  it('leaves to JavaScript what it does not vouch for', () => {
    const left = [
      browser({ course_id: '"x/y/z"' }), browser({ module_id: '"m"' }), browser({ _id: '{"$oid": "1"}' }), browser({ mongoid: '"m"' }), browser({ event_struct: '{}' }),
      browser({ event_js: 'true' }), browser({ 'child-id': '1' }), browser({ 'a.b': '1' }), browser({ '1st': '1' }), browser({ 'user\\u006eame': '"a"' }),
      browser({ context: '"ctx"' }), browser({ event: '5' }), browser({ event: '[1]' }), browser({ event: null }), browser({ time: '"yesterday"' }),
      browser({ event_type: '"x"', event: '"input_i4x-MITx-6_00x-problem-p1_2_1=x"' }), // B2d
      browser({ event: JSON.stringify(`{"a": ${'['.repeat(300)}${']'.repeat(300)}}`) }),
      browser({ event: '"{\\"id\\": NaN}"' }),
      browser({ event_type: '"seq_goto"', event: JSON.stringify(JSON.stringify({ id: 'i4x://MITx/6.00x/sequential/s1', new: 2.5 })) }),
    ];
    const native = nativeRows(left);
    left.forEach((l, i) => expect(native[i], l).toBeNull());
    expectAgree(left);
  });

  it('under mutation fuzz: every line it takes agrees, over thousands of random edits', () => {
    const rnd = prng(20261125);
    const pool = lines.filter((l) => jsRow(l) !== null);
    const bases = Array.from({ length: 200 }, () => pool[Math.floor(rnd() * pool.length)]!);
    const mutated = Array.from({ length: 20_000 }, (_, k) => mutate(bases[k % bases.length]!, rnd).replaceAll('\n', ' '));
    const taken = expectAgree(mutated);
    expect(taken).toBeGreaterThan(mutated.length * 0.05);
  });

  it('under value fuzz: random JSON values in the fields the rules read', () => {
    const rnd = prng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const keys = ['id', 'new', 'new_speed', 'speed', 'currentTime', 'attempts', 'done', 'seed', 'state', 'GET', 'POST', 'query', 'user_id', 'label', 'x-y', 'a.b', '0', 'i4x-k', 'code', 'grade', 'answers', 'problem_id'];
    const scalar = (): unknown => pick([0, -0, 1, 2.5, -1e-7, 1e21, 123456789012345680000, 'true', 'FALSE', ' 5 ', '+3', '1e400', 'x', '', 'é', '\u0000', '\ud83d\ude00', true, false, null, 'i4x://A/B/C/D', 'block-v1:A+B+C+type@t+block@b']);
    const value = (depth: number): unknown => {
      const r = rnd();
      if (depth > 2 || r < 0.6) return scalar();
      if (r < 0.8) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, () => [pick(keys), value(depth + 1)]));
    };
    const types = ['problem_check', 'seq_goto', 'seq_next', 'play_video', 'speed_change_video', 'pause_video', 'page_close', '/courses/A/B/C/x'];
    const all: string[] = [];
    for (let k = 0; k < 6000; k++) {
      const payload = Object.fromEntries(Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => [pick(keys), value(0)]));
      const ctx = Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, () => [pick(['user_id', 'course_id', 'path', 'agent', 'module', 'label', 'org_id', 'other']), value(1)]));
      const event = rnd() < 0.5 ? JSON.stringify(payload) : JSON.stringify(JSON.stringify(payload));
      all.push(browser({ event_type: JSON.stringify(pick(types)), event, context: JSON.stringify({ course_id: 'x/y/z', ...ctx }), event_source: pick(['"browser"', '"server"', 'null']) }));
    }
    const taken = expectAgree(all);
    expect(taken).toBeGreaterThan(all.length * 0.3);
  });
});

describe.skipIf(!available)('the scan fused into the rewrite (split + aggregates)', () => {
  it('gives the very records, string table and decoded strings of scanChunk', () => {
    const extra = [browser({ username: '5' }), browser({ context: '{"course_id": "x/y/z", "user_id": "12", "path": 7}' }), browser({ context: '{"user_id": -3, "course_id": null}' }),
      browser({ page: '"\\u0068ttps://x/courses/a/b/c/"' }), browser({ event_type: '"problem_check"', event: '"input_i4x-a-b-problem-c_2_1=x"' }), '{"a": ' + '['.repeat(300) + ']'.repeat(300) + '}'];
    const chunk = Buffer.from([...lines.slice(0, 3000), ...extra].join('\n'));
    const copy = (s: ChunkScan) => ({ lines: s.lines, records: s.records.slice(0, s.lines * STRIDE), table: s.table.slice(0, 1 + 4 * s.table[0]!), side: Buffer.from(s.side.subarray(0, chunk.length)) });
    const fused = rewriteAndScanChunkNative(chunk)!;
    expect(fused.scan).not.toBeNull();
    const a = copy(fused.scan!);
    const b = copy(scanChunkNative(chunk)!);
    expect(a.lines).toBe(b.lines);
    expect(a.records).toEqual(b.records);
    expect(a.table).toEqual(b.table);
    // the decoded strings the records point at
    for (let k = 0; k < a.table[0]!; k++) {
      const e = 1 + 4 * k;
      if (a.table[e] === 1) expect(a.side.subarray(a.table[e + 1]!, a.table[e + 2]!)).toEqual(b.side.subarray(b.table[e + 1]!, b.table[e + 2]!));
    }
  });
});

describe.skipIf(!available)('splitChunk with the native rewrite', () => {
  it('gives the result of splitChunk in JavaScript: rows, courses, counts, rejects, facts', () => {
    const text = Buffer.from(lines.join('\n') + '\n\u00ff\ufffd bad\n{"username": "x"}\n' + browser());
    // and a chunk holding bytes that are not UTF-8, which sends every line through the per-line check
    const invalid = Buffer.concat([Buffer.from(browser() + '\n'), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from(server())]);
    for (const chunk of [text, invalid]) {
      for (const facts of [false, true]) {
        const native = splitChunk(Buffer.from(chunk), facts);
        setNativeRewriteEnabled(false);
        let js: ReturnType<typeof splitChunk>;
        try {
          js = splitChunk(Buffer.from(chunk), facts);
        } finally {
          setNativeRewriteEnabled(true);
        }
        expect(native.courses).toEqual(js.courses);
        expect(native.counts).toEqual(js.counts);
        expect(native.offsets).toEqual(js.offsets);
        expect(native.rejects).toEqual(js.rejects);
        expect(native.factsStart).toEqual(js.factsStart);
        const rows = (r: typeof js) => Buffer.from(r.data.subarray(0, r.factsStart ?? r.data.length));
        expect(rows(native).equals(rows(js))).toBe(true);
        // the facts: the same, though built in native code for the lines it rewrote (see nativeFacts.test.ts)
        if (facts) expect(canonicalFacts(decodeFacts(native.data.subarray(native.factsStart)))).toEqual(canonicalFacts(decodeFacts(js.data.subarray(js.factsStart))));
        expect(native.factDays).toEqual(js.factDays);
      }
    }
  });
});
