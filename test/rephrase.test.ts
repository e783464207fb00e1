import { TRACKING_FIXTURES } from './helpers/fixtures.ts';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { extractModuleId } from '../src/events/moduleId.ts';
import { rephrase, type RephraseOptions } from '../src/events/rephrase.ts';
import { CONTEXT_SCHEMA, EVENT_STRUCT_SCHEMA, TRACKING_LOG_SCHEMA, type RecordSchema } from '../src/events/schema.ts';
import type { Json, JsonObject } from '../src/events/types.ts';
import { prng } from './helpers/mutate.ts';

// extractModuleId (spec §4) belongs to another module. It is wrapped in a spy so that the R1–R19
// tests below do not depend on it (they make it return "no module_id"), while the R2 tests can
// make it return ids or throw, and the one test marked [depends on moduleId.ts] uses the real one.
vi.mock('../src/events/moduleId.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/events/moduleId.ts')>();
  return { ...real, extractModuleId: vi.fn(real.extractModuleId) };
});
const realModuleId = (await vi.importActual<typeof import('../src/events/moduleId.ts')>('../src/events/moduleId.ts')).extractModuleId;
const moduleIdSpy = vi.mocked(extractModuleId);
function noModuleId(): void {
  moduleIdSpy.mockImplementation(() => ({ id: null, rule: 'none' }));
}

// ---------------------------------------------------------------------------------------------
// helpers

type Obj = Record<string, unknown>;

/** The pipeline hands rephrase a freshly JSON.parse'd line: do the same. */
function run(raw: unknown, opts?: RephraseOptions): JsonObject {
  return rephrase(JSON.parse(JSON.stringify(raw)) as JsonObject, opts);
}

/** Asymmetric matcher: a string holding JSON text whose value deep-equals `value`. */
function jsonText(value: unknown) {
  return {
    asymmetricMatch: (s: unknown) => {
      if (typeof s !== 'string') return false;
      try {
        return isDeepStrictEqual(JSON.parse(s), value);
      } catch {
        return false;
      }
    },
    toString: () => `jsonText(${JSON.stringify(value)})`,
    toAsymmetricMatcher: () => `jsonText(${JSON.stringify(value)})`,
  };
}

function mongo(row: JsonObject): Obj {
  expect(typeof row.mongoid).toBe('string');
  return JSON.parse(row.mongoid as string) as Obj;
}
function es(row: JsonObject): Obj {
  return row.event_struct as Obj;
}
function ctx(row: JsonObject): Obj {
  return row.context as Obj;
}
/** The mongoid container when nothing was moved (spec R13). */
const EMPTY_MONGOID = { old_mongoid: null, event_struct: { state: {} }, context: {} };

const TIME = '2015-02-10T05:17:08.011728+00:00';

function browser(eventType: string, event: unknown, extra: Obj = {}): Obj {
  return {
    username: 'u1',
    event_source: 'browser',
    event_type: eventType,
    time: TIME,
    ip: '10.0.0.1',
    agent: 'Mozilla/5.0',
    host: 'courses.edx.org',
    session: 's1',
    page: 'https://courses.edx.org/courses/MITx/6.00x/2012_Fall/courseware/ch1/seq1/',
    context: { course_id: 'MITx/6.00x/2012_Fall', user_id: 7, org_id: 'MITx', path: '/event' },
    event: typeof event === 'string' ? event : JSON.stringify(event),
    ...extra,
  };
}

function server(eventType: string, event: unknown, extra: Obj = {}): Obj {
  return {
    username: 'u1',
    event_source: 'server',
    event_type: eventType,
    time: TIME,
    ip: '10.0.0.1',
    agent: 'Mozilla/5.0',
    host: 'courses.edx.org',
    page: null,
    context: { course_id: 'MITx/6.00x/2012_Fall', user_id: 7, org_id: 'MITx', path: '/courses/MITx/6.00x/2012_Fall/x' },
    event,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------

describe('schema.ts (spec §3.3)', () => {
  it('has the fields of §3.3 with their types', () => {
    expect(Object.keys(TRACKING_LOG_SCHEMA)).toHaveLength(19);
    expect(Object.keys(CONTEXT_SCHEMA)).toHaveLength(11);
    expect(Object.keys(EVENT_STRUCT_SCHEMA)).toHaveLength(98); // 95 scalar fields + state, answer, rubric
    expect(TRACKING_LOG_SCHEMA.time).toBe('TS');
    expect(TRACKING_LOG_SCHEMA.event).toBe('S');
    expect(CONTEXT_SCHEMA.user_id).toBe('I');
    expect(CONTEXT_SCHEMA.module).toEqual({ display_name: 'S' });
    expect(EVENT_STRUCT_SCHEMA.state).toEqual({ student_answers: 'S', seed: 'I', done: 'B', correct_map: 'S', input_state: 'S' });
    expect(EVENT_STRUCT_SCHEMA.currentTime).toBe('F');
    expect(EVENT_STRUCT_SCHEMA.new).toBe('I');
    expect(EVENT_STRUCT_SCHEMA.answer).toEqual({ text: 'S' });
    expect(EVENT_STRUCT_SCHEMA.rubric).toEqual({ content_hash: 'S' });
    expect(EVENT_STRUCT_SCHEMA.category).toBe('I');
    expect(EVENT_STRUCT_SCHEMA.amount).toBe('F');
  });
});

describe('rephrase: worked examples (spec §3.2)', () => {
  beforeEach(noModuleId);

  it('server problem_check', () => {
    const event = {
      answers: { p1_2_1: 'choice_1' },
      attempts: '2',
      correct_map: { p1_2_1: { correctness: 'correct', npoints: null } },
      grade: 1,
      max_grade: 1,
      problem_id: 'i4x://MITx/6.00x/problem/p1',
      state: {
        student_answers: { p1_2_1: 'choice_0' },
        seed: 1,
        done: true,
        correct_map: { p1_2_1: { correctness: 'incorrect' } },
        input_state: { p1_2_1: {} },
        has_saved_answers: false,
      },
      submission: { p1_2_1: { question: 'Q', answer: 'choice_1', correct: true } },
      success: 'correct',
    };
    const raw = {
      username: 'student1',
      event_source: 'server',
      event_type: 'problem_check',
      time: TIME,
      ip: '10.0.0.1',
      agent: 'Mozilla/5.0',
      host: 'courses.edx.org',
      page: null,
      session: 'abc123',
      referer: 'https://courses.edx.org/courses/MITx/6.00x/2012_Fall/courseware/ch1/seq1/',
      accept_language: 'en-US,en;q=0.8',
      course_id: 'MITx/6.00x/2012_Fall',
      context: {
        course_id: 'MITx/6.00x/2012_Fall',
        course_user_tags: {},
        user_id: 42,
        org_id: 'MITx',
        path: '/courses/MITx/6.00x/2012_Fall/modx/i4x://MITx/6.00x/problem/p1/problem_check',
        module: { display_name: 'Problem 1' },
      },
      event,
    };
    expect(run(raw)).toStrictEqual({
      username: 'student1',
      event_source: 'server',
      event_type: 'problem_check',
      time: TIME,
      ip: '10.0.0.1',
      agent: 'Mozilla/5.0',
      host: 'courses.edx.org',
      page: null,
      session: 'abc123',
      course_id: 'MITx/6.00x/2012_Fall',
      context: {
        course_id: 'MITx/6.00x/2012_Fall',
        course_user_tags: jsonText({}),
        user_id: 42,
        org_id: 'MITx',
        path: '/courses/MITx/6.00x/2012_Fall/modx/i4x://MITx/6.00x/problem/p1/problem_check',
        module: { display_name: 'Problem 1' },
        agent: jsonText({ oldagent: '' }),
      },
      event: jsonText(event),
      event_struct: {
        answers: jsonText({ p1_2_1: 'choice_1' }),
        attempts: 2,
        correct_map: jsonText({ p1_2_1: { correctness: 'correct', npoints: null } }),
        grade: 1,
        max_grade: 1,
        problem_id: 'i4x://MITx/6.00x/problem/p1',
        state: {
          student_answers: jsonText({ p1_2_1: 'choice_0' }),
          seed: 1,
          done: true,
          correct_map: jsonText({ p1_2_1: { correctness: 'incorrect' } }),
          input_state: jsonText({ p1_2_1: {} }),
        },
        submission: jsonText({ p1_2_1: { question: 'Q', answer: 'choice_1', correct: true } }),
        success: 'correct',
      },
      mongoid: jsonText({
        old_mongoid: null,
        referer: 'https://courses.edx.org/courses/MITx/6.00x/2012_Fall/courseware/ch1/seq1/',
        accept_language: 'en-US,en;q=0.8',
        event_struct: { state: { has_saved_answers: false } },
        context: {},
      }),
    });
  });

  it('speed_change_video with new_speed "NaN"', () => {
    const row = run(
      browser('speed_change_video', { id: 'i4x-MITx-6_00x-video-v1', new_speed: 'NaN', old_speed: '1.0', current_time: '3', code: 'html5' }),
    );
    expect(row.event_struct).toStrictEqual({ id: 'i4x-MITx-6_00x-video-v1', old_speed: 1.0, current_time: 3.0, code: 'html5' });
    expect(JSON.parse(row.event as string)).toEqual({ id: 'i4x-MITx-6_00x-video-v1', new_speed: 'NaN', old_speed: '1.0', current_time: '3', code: 'html5' });
  });

  it('enrollment: user_id "42" → 42, opaque event_struct.course_id and context.course_id kept', () => {
    const raw = server(
      'edx.course.enrollment.activated',
      { course_id: 'course-v1:MITx+6.00x+2T2015', user_id: '42', mode: 'honor' },
      {
        course_id: 'MITx/6.00x/2T2015', // set by the splitter (§2, converted)
        context: { course_id: 'course-v1:MITx+6.00x+2T2015', org_id: 'MITx', path: '/change_enrollment' },
      },
    );
    const row = run(raw);
    expect(row.event_struct).toStrictEqual({ course_id: 'course-v1:MITx+6.00x+2T2015', user_id: 42, mode: 'honor' });
    expect(row.course_id).toBe('MITx/6.00x/2T2015');
    expect(ctx(row).course_id).toBe('course-v1:MITx+6.00x+2T2015');
  });

  it('"[1,2]" → event is the JSON text of [1, 2], no event_struct', () => {
    const row = run(browser('page_close', '[1,2]'));
    expect(JSON.parse(row.event as string)).toEqual([1, 2]);
    expect('event_struct' in row).toBe(false);
  });

  it('"5" does not crash (original: crash in R9) → event "5", no event_struct', () => {
    const row = run(browser('problem_check', '5'));
    expect(JSON.parse(row.event as string)).toBe(5);
    expect('event_struct' in row).toBe(false);
    expect(mongo(row)).toEqual(EMPTY_MONGOID);
  });
});

describe('rephrase: rules R1–R19 (spec §3.1)', () => {
  beforeEach(noModuleId);

  // R1
  it('R1: copies a non-empty context.course_id without conversion when course_id is absent', () => {
    const raw = browser('play_video', {}, { context: { course_id: 'course-v1:A+B+C', user_id: 1 } });
    expect(run(raw).course_id).toBe('course-v1:A+B+C');
  });
  it('R1: keeps an existing top-level course_id', () => {
    const raw = browser('play_video', {}, { course_id: 'A/B/C', context: { course_id: 'course-v1:X+Y+Z' } });
    expect(run(raw).course_id).toBe('A/B/C');
  });
  it('R1: empty or missing context.course_id leaves no course_id', () => {
    expect('course_id' in run(browser('play_video', {}, { context: { course_id: '' } }))).toBe(false);
    expect('course_id' in run(browser('play_video', {}, { context: { user_id: 3 } }))).toBe(false);
    expect('course_id' in run(browser('play_video', {}, { context: null }))).toBe(false);
  });

  // R2
  it('R2: sets module_id from §4, run on the raw event (event not yet decoded)', () => {
    let seenEvent: unknown;
    moduleIdSpy.mockImplementation((ev) => {
      seenEvent = ev.event;
      return { id: 'MITx/6.00x/video/v1', rule: 'test' };
    });
    const row = run(browser('play_video', { id: 'v1' }));
    expect(row.module_id).toBe('MITx/6.00x/video/v1');
    expect(seenEvent).toBe('{"id":"v1"}');
  });
  it('R2: no module_id when §4 gives null or "", or throws', () => {
    moduleIdSpy.mockImplementation(() => ({ id: '', rule: 'test' }));
    expect('module_id' in run(browser('play_video', {}))).toBe(false);
    moduleIdSpy.mockImplementation(() => ({ id: null, rule: 'none' }));
    expect('module_id' in run(browser('play_video', {}))).toBe(false);
    moduleIdSpy.mockImplementation(() => {
      throw new Error('boom');
    });
    expect('module_id' in run(browser('play_video', {}))).toBe(false);
  });
  it('R2: an existing module_id is kept and §4 is not run', () => {
    moduleIdSpy.mockClear();
    const row = run(browser('play_video', {}, { module_id: 'A/B/video/x' }));
    expect(row.module_id).toBe('A/B/video/x');
    expect(moduleIdSpy).not.toHaveBeenCalled();
  });
  it('R2 [depends on moduleId.ts]: A1 xblock URL → ORG/NUM/problem/abc', () => {
    moduleIdSpy.mockImplementation(realModuleId);
    const url = '/courses/course-v1:ORG+NUM+RUN/xblock/block-v1:ORG+NUM+RUN+type@problem+block@abc/handler/xmodule_handler/problem_check';
    const row = run(server(url, { GET: {}, POST: {} }, { context: { course_id: 'course-v1:ORG+NUM+RUN', path: url } }));
    expect(row.module_id).toBe('ORG/NUM/problem/abc');
  });

  // R3
  it('R3: a missing event becomes "" (JSON text "\\"\\"")', () => {
    const raw = browser('page_close', '');
    delete raw.event;
    const row = run(raw);
    expect(row.event).toBe('""');
    expect('event_struct' in row).toBe(false);
  });

  // R4 + R5
  it('R4/R5: a JSON string event is decoded; event is the JSON text of the decoded value', () => {
    const row = run(browser('seek_video', '{"id":"v1","old_time":14.2,"new_time":7,"type":"onSlideSeek"}'));
    expect(JSON.parse(row.event as string)).toEqual({ id: 'v1', old_time: 14.2, new_time: 7, type: 'onSlideSeek' });
    expect(row.event_struct).toStrictEqual({ id: 'v1', old_time: 14.2, new_time: 7, type: 'onSlideSeek' });
  });
  it('R4/R5: a JSON string literal ends up as a JSON string literal', () => {
    const row = run(browser('problem_check', '"input_p1_2_1=choice_1"'));
    expect(row.event).toBe('"input_p1_2_1=choice_1"');
    expect('event_struct' in row).toBe(false);
  });
  it('R4/R5: a non-JSON string (old query string, truncated forum POST, Python NaN) stays a string', () => {
    const q = 'input_i4x-MITx-6_00x-problem-p1_2_1=choice_1&input_i4x-MITx-6_00x-problem-p1_3_1=x';
    expect(JSON.parse(run(browser('problem_check', q)).event as string)).toBe(q);
    const trunc = '{"body": "a very long post that edX cut';
    expect(JSON.parse(run(server('/courses/A/B/C/discussion/threads/create', trunc)).event as string)).toBe(trunc);
    expect(JSON.parse(run(browser('play_video', 'NaN')).event as string)).toBe('NaN');
    expect(JSON.parse(run(browser('play_video', '')).event as string)).toBe('');
  });
  it('R4/R5: non-string, non-object events (array, number, bool, null) stay as they are', () => {
    const graded = run(server('problem_graded', ['input_p1_2_1=x', '<div>html</div>']));
    expect(JSON.parse(graded.event as string)).toEqual(['input_p1_2_1=x', '<div>html</div>']);
    expect('event_struct' in graded).toBe(false);
    expect(run(server('x', 5)).event).toBe('5');
    expect(run(server('x', true)).event).toBe('true');
    expect(run(server('x', null)).event).toBe('null');
  });
  it('R5: the event text is captured before later rules change the struct', () => {
    const event = { answers: { a: 1 }, duration: 3, state: { has_saved_answers: true }, 'child-id': 'c' };
    const row = run(server('problem_check', event));
    expect(JSON.parse(row.event as string)).toEqual(event);
  });

  // R6
  it('R6: KNOWN types and types containing problem_ keep the full decoded object', () => {
    expect(es(run(browser('play_video', { id: 'v', currentTime: 3, code: 'c' })))).toStrictEqual({ id: 'v', currentTime: 3, code: 'c' });
    expect(es(run(browser('seq_goto', { old: 1, new: 2, id: 's' })))).toStrictEqual({ old: 1, new: 2, id: 's' });
    expect(es(run(server('problem_rescore', { problem_id: 'p', success: 'correct' })))).toStrictEqual({ problem_id: 'p', success: 'correct' });
    expect(es(run(server('edx.course.enrollment.upgrade.succeeded', { mode: 'verified' })))).toStrictEqual({ mode: 'verified' });
  });
  it('R6: other types get {GET, POST, query}; missing GET/POST → "null", missing query → null', () => {
    expect(es(run(browser('pause_video', { id: 'v', currentTime: 3 })))).toStrictEqual({ GET: 'null', POST: 'null', query: null });
    const row = run(server('/courses/A/B/C/info', { GET: { page: ['2'] }, POST: {}, query: 'q' }));
    expect(es(row)).toStrictEqual({ GET: jsonText({ page: ['2'] }), POST: jsonText({}), query: 'q' });
    expect(es(run(browser('show_transcript', { id: 'v' })))).toStrictEqual({ GET: 'null', POST: 'null', query: null });
    expect(es(run(browser('showanswer', { problem_id: 'p' })))).toStrictEqual({ GET: 'null', POST: 'null', query: null });
  });
  it('R6: excluded substrings (video_embedded, harvardx.) win over problem_', () => {
    expect(es(run(browser('harvardx.problem_check', { a: 1 })))).toStrictEqual({ GET: 'null', POST: 'null', query: null });
    expect(es(run(browser('harvardx.button', { a: 1 })))).toStrictEqual({ GET: 'null', POST: 'null', query: null });
    expect(es(run(browser('x_problem_video_embedded', { a: 1 })))).toStrictEqual({ GET: 'null', POST: 'null', query: null });
  });
  it('R6: a non-string event_type does not crash and gets {GET, POST, query}', () => {
    const raw = browser('x', { GET: { a: 1 } });
    raw.event_type = null;
    expect(es(run(raw))).toStrictEqual({ GET: jsonText({ a: 1 }), POST: 'null', query: null });
  });
  it('R6: a stale event_struct in the input is dropped when the event is not an object', () => {
    const row = run(browser('play_video', '"x"', { event_struct: { id: 'old' } }));
    expect('event_struct' in row).toBe(false);
  });

  // R7
  it('R7: _id {$oid} → mongoid (old_mongoid), _id removed', () => {
    const row = run(browser('play_video', {}, { _id: { $oid: '5411a7f9e4b0e0a0f6a0b0c0' } }));
    expect('_id' in row).toBe(false);
    expect(mongo(row)).toEqual({ ...EMPTY_MONGOID, old_mongoid: '5411a7f9e4b0e0a0f6a0b0c0' });
  });
  it('R7: other _id shapes do not crash: string kept, null dropped, anything else as JSON text', () => {
    expect(mongo(run(browser('play_video', {}, { _id: 'abc' }))).old_mongoid).toBe('abc');
    expect(mongo(run(browser('play_video', {}, { _id: null }))).old_mongoid).toBe(null);
    expect(mongo(run(browser('play_video', {}, { _id: { foo: 1 } }))).old_mongoid).toBe('{"foo":1}');
    expect(mongo(run(browser('play_video', {}, { _id: { $oid: 5 } }))).old_mongoid).toBe('{"$oid":5}');
    expect(mongo(run(browser('play_video', {}, { _id: [1] }))).old_mongoid).toBe('[1]');
    for (const id of ['abc', null, { foo: 1 }, 7]) expect('_id' in run(browser('play_video', {}, { _id: id }))).toBe(false);
  });

  // R8
  it('R8: GET and POST of a full struct become JSON text', () => {
    const row = run(server('problem_check', { GET: {}, POST: { 'input_p1_2_1[]': ['choice_0', 'choice_1'] } }));
    expect(es(row)).toStrictEqual({ GET: jsonText({}), POST: jsonText({ 'input_p1_2_1[]': ['choice_0', 'choice_1'] }) });
  });
  it('R8: a string GET is JSON-encoded again (parity)', () => {
    expect(es(run(server('problem_check', { GET: 'a=1' })))).toStrictEqual({ GET: '"a=1"' });
  });

  // R9
  it('R9: state.input_state / correct_map / student_answers become JSON text', () => {
    const row = run(server('problem_save', { state: { input_state: { a: {} }, correct_map: {}, student_answers: { a: 'x' }, seed: 3 } }));
    expect(es(row).state).toStrictEqual({ input_state: jsonText({ a: {} }), correct_map: jsonText({}), student_answers: jsonText({ a: 'x' }), seed: 3 });
  });
  it('R9: the JSON text is taken of whatever value is there (a string is double-encoded, null → "null")', () => {
    const row = run(server('problem_check', { state: { input_state: 'abc', correct_map: null } }));
    expect(es(row).state).toStrictEqual({ input_state: '"abc"', correct_map: 'null' });
  });
  it('R9: a non-object state or a number/bool event does not crash', () => {
    const row = run(server('problem_save', { state: 'weird' }));
    expect('state' in es(row)).toBe(false);
    expect(mongo(row).event_struct).toEqual({ state: 'weird' });
    expect(() => run(server('problem_check', 3))).not.toThrow();
    expect(() => run(server('problem_check', false))).not.toThrow();
  });

  // R10
  it('R10: correct_map, answers, submission, old_state, new_state, permutation, options_selected, corrections → JSON text', () => {
    const event = {
      correct_map: { a: 1 },
      answers: 'already a string',
      submission: [1],
      old_state: { s: 1 },
      new_state: null,
      permutation: { p: [2, 1] },
      options_selected: { o: 'x' },
      corrections: { c: 'y' },
    };
    expect(es(run(server('problem_check', event)))).toStrictEqual({
      correct_map: '{"a":1}',
      answers: '"already a string"',
      submission: '[1]',
      old_state: '{"s":1}',
      new_state: 'null',
      permutation: '{"p":[2,1]}',
      options_selected: '{"o":"x"}',
      corrections: '{"c":"y"}',
    });
  });
  it('R10: not applied to the {GET, POST, query} struct', () => {
    expect(es(run(browser('pause_video', { answers: { a: 1 } })))).toStrictEqual({ GET: 'null', POST: 'null', query: null });
  });

  // R11
  it('R11: context.course_user_tags becomes JSON text', () => {
    const row = run(browser('play_video', {}, { context: { course_user_tags: { cohort: 'A' } } }));
    expect(ctx(row).course_user_tags).toBe('{"cohort":"A"}');
  });

  // R12
  it('R12: context.agent := {"oldagent", moved context and module keys} as JSON text', () => {
    const context = {
      course_id: 'course-v1:A+B+C',
      agent: 'edX/org.edx.mobile',
      application: { name: 'edx.mobileapp.android', version: '2.3' },
      client: { network: { wifi: true } },
      received_at: '2015-02-10T05:17:09Z',
      component: 'videoplayer',
      open_in_browser_url: 'https://x/y',
      asides: {},
      module: { display_name: 'Video 1', usage_key: 'block-v1:A+B+C+type@video+block@v1', original_usage_key: 'k0', original_usage_version: 'v0' },
      user_id: 3,
    };
    const row = run(browser('edx.video.played', {}, { context }));
    expect(ctx(row)).toStrictEqual({
      course_id: 'course-v1:A+B+C',
      agent: jsonText({
        oldagent: 'edX/org.edx.mobile',
        application: { name: 'edx.mobileapp.android', version: '2.3' },
        client: { network: { wifi: true } },
        received_at: '2015-02-10T05:17:09Z',
        component: 'videoplayer',
        open_in_browser_url: 'https://x/y',
        asides: {},
        'module.usage_key': 'block-v1:A+B+C+type@video+block@v1',
        'module.original_usage_version': 'v0',
        'module.original_usage_key': 'k0',
      }),
      module: { display_name: 'Video 1' },
      user_id: 3,
    });
  });
  it('R12: a context without agent gets {"oldagent": ""}; a null context stays null', () => {
    expect(ctx(run(browser('play_video', {}))).agent).toBe('{"oldagent":""}');
    expect(ctx(run(browser('play_video', {}, { context: { agent: null } }))).agent).toBe('{"oldagent":""}');
    expect(run(browser('play_video', {}, { context: null })).context).toBe(null);
  });

  // R13
  it('R13: moves the top-level, context and event_struct fields into mongoid, keeping their path', () => {
    const event = {
      id: 'v',
      requested_skip_interval: 5,
      submitted_answer: 'a',
      num_attempts: 2,
      task_id: 't',
      content: 'c',
      widget_placement: 'w',
      tab_count: 3,
      current_tab: 1,
      target_tab: 2,
      duration: 61.5,
      play_medium: 'youtube',
      state: { has_saved_answers: true, seed: 1 },
    };
    const raw = server('problem_check', event, {
      referer: 'r',
      accept_language: 'en',
      nonInteraction: 1,
      label: 'l',
      roles: ['x'],
      environment: 'prod',
      minion_id: 'm1',
      context: { course_id: 'A/B/C', label: 'cl' },
    });
    const row = run(raw);
    for (const k of ['referer', 'accept_language', 'nonInteraction', 'label', 'roles', 'environment', 'minion_id']) expect(k in row).toBe(false);
    expect('label' in ctx(row)).toBe(false);
    expect(es(row)).toStrictEqual({ id: 'v', state: { seed: 1 } });
    expect(mongo(row)).toEqual({
      old_mongoid: null,
      referer: 'r',
      accept_language: 'en',
      nonInteraction: 1,
      label: 'l',
      roles: ['x'],
      environment: 'prod',
      minion_id: 'm1',
      context: { label: 'cl' },
      event_struct: {
        requested_skip_interval: 5,
        submitted_answer: 'a',
        num_attempts: 2,
        task_id: 't',
        content: 'c',
        widget_placement: 'w',
        tab_count: 3,
        current_tab: 1,
        target_tab: 2,
        duration: 61.5,
        play_medium: 'youtube',
        state: { has_saved_answers: true },
      },
    });
  });
  it('R13: mongoid is always a JSON string with the placeholder levels', () => {
    expect(mongo(run(browser('pause_video', '"x"')))).toEqual(EMPTY_MONGOID);
    const raw = browser('pause_video', {});
    delete raw.context;
    expect(mongo(run(raw))).toEqual(EMPTY_MONGOID);
  });
  it('R13: an existing mongoid string becomes old_mongoid; an existing object is the container', () => {
    expect(mongo(run(browser('play_video', {}, { mongoid: 'abc' })))).toEqual({ ...EMPTY_MONGOID, old_mongoid: 'abc' });
    expect(mongo(run(browser('play_video', {}, { mongoid: { a: 1 }, referer: 'r' })))).toEqual({ a: 1, referer: 'r', event_struct: { state: {} }, context: {} });
  });
  it('R13 (REC §2): a guessed course_id is flagged in mongoid', () => {
    expect(mongo(run(browser('play_video', {}), { courseIdGuessed: true }))).toEqual({ ...EMPTY_MONGOID, course_id_guessed: true });
    expect(mongo(run(browser('play_video', {}), { courseIdGuessed: false }))).toEqual(EMPTY_MONGOID);
  });

  // R14
  it('R14: event_struct child-id → child_id', () => {
    expect(es(run(browser('seq_goto', { 'child-id': 'c1', id: 's' })))).toStrictEqual({ child_id: 'c1', id: 's' });
  });
  it('R14 + R17: when child_id already exists both are kept (child_id_2 is then parked as unknown)', () => {
    const row = run(browser('seq_goto', { 'child-id': 'c1', child_id: 'c0' }));
    expect(es(row)).toStrictEqual({ child_id: 'c0' });
    expect((mongo(row).event_struct as Obj).child_id_2).toBe('c1');
  });

  // R15
  it('R15: context.user_id "" is removed; other values stay (coerced by R19)', () => {
    expect('user_id' in ctx(run(browser('play_video', {}, { context: { user_id: '' } })))).toBe(false);
    expect(ctx(run(browser('play_video', {}, { context: { user_id: 0 } }))).user_id).toBe(0);
    expect(ctx(run(browser('play_video', {}, { context: { user_id: '42' } }))).user_id).toBe(42);
  });

  // R16
  it('R16 (REC): new_speed is removed unless it is finite', () => {
    const speed = (v: unknown) => es(run(browser('speed_change_video', { new_speed: v })));
    expect(speed('NaN')).toStrictEqual({});
    expect(speed('nan')).toStrictEqual({});
    expect(speed('inf')).toStrictEqual({});
    expect(speed('-Infinity')).toStrictEqual({});
    expect(speed('fast')).toStrictEqual({});
    expect(speed(null)).toStrictEqual({});
    expect(speed(true)).toStrictEqual({});
    expect(speed({ x: 1 })).toStrictEqual({});
    expect(speed('1.50')).toStrictEqual({ new_speed: 1.5 });
    expect(speed(2)).toStrictEqual({ new_speed: 2 });
    const huge = rephrase(JSON.parse(JSON.stringify(browser('speed_change_video', '{"new_speed": 1e400}'))) as JsonObject);
    expect(es(huge)).toStrictEqual({});
  });

  // R17
  it('R17(c): "-" → "_" and "." → "__", recursively (unknown keys then parked by R19)', () => {
    const raw = browser('play_video', {}, { 'x-y': 1, extra: { 'a.b': { 'c-d': 2 }, list: [{ 'e-f': 3 }] } });
    const m = mongo(run(raw));
    expect(m.x_y).toBe(1);
    expect(m.extra).toEqual({ a__b: { c_d: 2 }, list: [{ 'e-f': 3 }] }); // arrays are not entered
  });
  it('R17(c) REC: collisions keep both, the renamed key gets _2, _3…', () => {
    const event = { 'a-b': 1, a_b: 2, 'a.b': 3, a__b: 4, 'x-y': 5, x_y_2: 6, x_y: 7 };
    const m = mongo(run(browser('play_video', event)));
    expect(m.event_struct).toEqual({ a_b: 2, a_b_2: 1, a__b: 4, a__b_2: 3, x_y: 7, x_y_2: 6, x_y_3: 5, state: {} });
  });
  it('R17 REC: the empty key becomes _empty', () => {
    const m = mongo(run(browser('play_video', { '': 1, _empty: 2 }, { '': 'top' })));
    expect(m._empty).toBe('top');
    expect(m.event_struct).toEqual({ _empty: 2, _empty_2: 1, state: {} });
  });
  it('R17(a): an object with an i4x-, xblock. or digit key is replaced by its JSON text (original keys)', () => {
    const event = {
      answer: { 'i4x-MITx-6_00x-problem-p1': 'v', 'a-b': 1 },
      rubric: { 'xblock.thing': 1 },
      other: { ok: { '3x': 1, 'c.d': 2 } },
    };
    const row = run(server('openassessmentblock.problem_thing', event));
    const m = mongo(row);
    const mes = m.event_struct as Obj;
    expect(mes.answer).toBe('{"i4x-MITx-6_00x-problem-p1":"v","a-b":1}');
    expect(mes.rubric).toBe('{"xblock.thing":1}');
    expect(mes.other).toEqual({ ok: '{"3x":1,"c.d":2}' });
    expect(es(row)).toStrictEqual({});
  });
  it('R17(a) deviation: a funny key at the top level is skipped (parked raw), other keys still sanitised', () => {
    const raw = browser('play_video', {}, { 'i4x-weird': { 'a-b': 1 }, '7up': 2, 'z-z': 3 });
    const m = mongo(run(raw));
    expect(m['i4x-weird']).toEqual({ 'a-b': 1 });
    expect(m['7up']).toBe(2);
    expect(m.z_z).toBe(3);
  });
  it('R17: a "__proto__" key is kept as data and parked, never used as a prototype', () => {
    const text = JSON.stringify(browser('play_video', {})).slice(0, -1) + ',"__proto__":{"polluted":1},"context":{"__proto__":5}}';
    const row = rephrase(JSON.parse(text) as JsonObject);
    const m = mongo(row);
    expect(Object.hasOwn(m, '__proto__')).toBe(true);
    expect(Object.hasOwn(m.context as Obj, '__proto__')).toBe(true);
    expect(({} as Obj).polluted).toBe(undefined);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  // R18
  it('R18: event_js is dropped', () => {
    const row = run(browser('play_video', {}, { event_js: true }));
    expect('event_js' in row).toBe(false);
  });

  // R19
  it('R19: FLOAT fields: numeric strings parsed, unparseable/NaN/Inf → null, bool → 1/0', () => {
    const event = { currentTime: '12.5', old_time: ' 3 ', new_time: 'abc', speed: 'NaN', amount: 'inf', grade: true, max_grade: '1e3', old_speed: '' };
    expect(es(run(browser('play_video', event)))).toStrictEqual({
      currentTime: 12.5,
      old_time: 3,
      new_time: null,
      speed: null,
      amount: null,
      grade: 1,
      max_grade: 1000,
      old_speed: null,
    });
    const inf = rephrase(JSON.parse(JSON.stringify(browser('play_video', '{"currentTime": 1e400, "new_time": -1e400}'))) as JsonObject);
    expect(es(inf)).toStrictEqual({ currentTime: null, new_time: null });
  });
  it('R19: INTEGER fields: integer strings parsed, others → null; non-integral numbers parked', () => {
    const event = { attempts: '2', new: ' -7 ', old: '2.5', page: 'x', total_results: true, group_id: 3.5, partition_id: 1e20, upvotes: '99999999999999999999', downvotes: 4 };
    const row = run(server('problem_check', event));
    expect(es(row)).toStrictEqual({ attempts: 2, new: -7, old: null, page: null, total_results: 1, upvotes: null, downvotes: 4 });
    expect(mongo(row).event_struct).toEqual({ group_id: 3.5, partition_id: 1e20, state: {} });
  });
  it('R19: STRING fields: numbers and bools → their text, objects and arrays → JSON text', () => {
    const raw = browser('play_video', { id: 42, code: 1.5, type: true, problem: { a: 1 }, mode: [1, 'x'] }, { username: 12345, session: false });
    const row = run(raw);
    expect(es(row)).toStrictEqual({ id: '42', code: '1.5', type: 'true', problem: '{"a":1}', mode: '[1,"x"]' });
    expect(row.username).toBe('12345');
    expect(row.session).toBe('false');
  });
  it('R19: BOOLEAN fields: bools kept, "true"/"false" and 0/1 converted, others parked', () => {
    const done = (v: unknown) => run(server('problem_check', { state: { done: v } }));
    expect(es(done(true)).state).toStrictEqual({ done: true });
    expect(es(done('False')).state).toStrictEqual({ done: false });
    expect(es(done(1)).state).toStrictEqual({ done: true });
    const row = done('yes');
    expect(es(row).state).toStrictEqual({});
    expect(mongo(row).event_struct).toEqual({ state: { done: 'yes' } });
  });
  it('R19: time (TIMESTAMP) is kept as the original string; nulls are kept', () => {
    const row = run(browser('play_video', { id: null }, { time: '2012-09-09T00:00:48.123456', page: null }));
    expect(row.time).toBe('2012-09-09T00:00:48.123456');
    expect(row.page).toBe(null);
    expect(es(row)).toStrictEqual({ id: null });
  });
  it('R19 REC: unknown keys at every level are parked in mongoid at the same path', () => {
    const event = {
      id: 'v',
      zz: 1,
      state: { seed: 1, zs: 2 },
      answer: { text: 't', za: 3 },
      rubric: { content_hash: 'h', zr: null },
    };
    const raw = server('problem_check', event, {
      zz_top: 'T',
      nullish: null,
      context: { course_id: 'A/B/C', command: './manage.py', module: { display_name: 'd', block_type: 'problem' } },
    });
    const row = run(raw);
    expect(es(row)).toStrictEqual({ id: 'v', state: { seed: 1 }, answer: { text: 't' }, rubric: { content_hash: 'h' } });
    expect(ctx(row)).toStrictEqual({ course_id: 'A/B/C', module: { display_name: 'd' }, agent: '{"oldagent":""}' });
    expect('zz_top' in row).toBe(false);
    expect('nullish' in row).toBe(false);
    expect(mongo(row)).toEqual({
      old_mongoid: null,
      zz_top: 'T',
      nullish: null,
      context: { command: './manage.py', module: { block_type: 'problem' } },
      event_struct: { zz: 1, state: { zs: 2 }, answer: { za: 3 }, rubric: { zr: null } },
    });
  });
  it('R19 REC: a record field holding a non-object is parked', () => {
    const row = run(browser('play_video', {}, { context: 'not a context' }));
    expect('context' in row).toBe(false);
    expect(mongo(row)).toEqual({ old_mongoid: null, event_struct: { state: {} }, context: 'not a context' });
    const row2 = run(browser('play_video', { answer: 'text only' }, { context: { module: 5 } }));
    expect(ctx(row2)).toStrictEqual({ agent: '{"oldagent":""}' });
    expect(mongo(row2)).toEqual({ old_mongoid: null, event_struct: { answer: 'text only', state: {} }, context: { module: 5 } });
  });

  it('never throws, even on nesting deeper than the stack', () => {
    let deep = '1';
    for (let i = 0; i < 20000; i++) deep = `{"a":${deep}}`;
    const text = `{"time":"${TIME}","event_type":"play_video","username":"u","event":${deep}}`;
    const row = rephrase(JSON.parse(text) as JsonObject);
    expect(row.time).toBe(TIME);
    expect(row.username).toBe('u');
    expect(typeof row.event).toBe('string');
    expect(typeof mongo(row).rephrase_error).toBe('string');
  });
});

// ---------------------------------------------------------------------------------------------
// Invariants 4–6 of spec §12, checked independently of the implementation.

const KNOWN_TYPES = new Set([
  'play_video', 'seq_goto', 'seq_next', 'seq_prev', 'seek_video', 'load_video', 'save_problem_success', 'save_problem_fail',
  'reset_problem_success', 'reset_problem_fail', 'show_answer', 'edx.course.enrollment.activated', 'edx.course.enrollment.deactivated',
  'edx.course.enrollment.mode_changed', 'edx.course.enrollment.upgrade.succeeded', 'speed_change_video', 'problem_check', 'problem_save', 'problem_reset',
]);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFunnyKey = (k: string) => /^[0-9]/.test(k) || k.startsWith('i4x-') || k.startsWith('xblock.');
const R13_TOP = ['referer', 'accept_language', 'nonInteraction', 'label', 'roles', 'environment', 'minion_id'];
const R13_ES = ['requested_skip_interval', 'submitted_answer', 'num_attempts', 'task_id', 'content', 'widget_placement', 'tab_count', 'current_tab', 'target_tab', 'duration', 'play_medium'];

function decodedPayload(raw: Obj): unknown {
  if (!Object.hasOwn(raw, 'event')) return '';
  const e = raw.event;
  if (typeof e !== 'string') return e;
  try {
    return JSON.parse(e);
  } catch {
    return e;
  }
}

/** Every key of every record level is in the schema; records are objects (or null). */
function checkSchema(o: Obj, schema: RecordSchema, path: string): void {
  for (const k of Object.keys(o)) {
    const t = schema[k];
    if (t === undefined) throw new Error(`unknown key ${path}.${k}`);
    const v = o[k];
    if (v === undefined) throw new Error(`undefined value at ${path}.${k}`);
    if (v === null) continue;
    if (typeof t === 'object') {
      if (!isObj(v)) throw new Error(`record ${path}.${k} holds ${JSON.stringify(v)}`);
      checkSchema(v, t, `${path}.${k}`);
    } else if (t === 'S' || t === 'TS') {
      if (typeof v !== 'string') throw new Error(`${path}.${k} should be a string: ${JSON.stringify(v)}`);
    } else if (t === 'I') {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) && !(Number.isInteger(v) && Math.abs(v) < 2 ** 63)) throw new Error(`${path}.${k} not an int: ${v}`);
    } else if (t === 'F') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${path}.${k} not a finite float: ${v}`);
    } else if (t === 'B') {
      if (typeof v !== 'boolean') throw new Error(`${path}.${k} not a bool: ${v}`);
    }
  }
}

function checkInvariants(rawText: string, row: JsonObject, opts?: RephraseOptions): void {
  const raw = JSON.parse(rawText) as Obj;
  // 4: schema, strings, payload, key names, numbers
  checkSchema(row, TRACKING_LOG_SCHEMA, 'row');
  expect(typeof row.event).toBe('string');
  expect(typeof row.mongoid).toBe('string');
  if (isObj(row.context)) expect(typeof row.context.agent).toBe('string');
  const decoded = decodedPayload(raw);
  const reparsed = JSON.parse(row.event as string) as unknown;
  expect(JSON.stringify(reparsed)).toBe(JSON.stringify(decoded));
  expect(isDeepStrictEqual(reparsed, decoded)).toBe(true);
  const text = JSON.stringify(row);
  expect(JSON.parse(text)).toStrictEqual(row); // no undefined, no NaN/Infinity (they would not round-trip)
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObj(v)) for (const k of Object.keys(v)) {
      expect(k.includes('-') || k.includes('.')).toBe(false);
      walk(v[k]);
    } else if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
  };
  walk(row);

  // 5: event_struct rule
  const t = raw.event_type;
  const full = typeof t === 'string' && (KNOWN_TYPES.has(t) || t.includes('problem_')) && !t.includes('video_embedded') && !t.includes('harvardx.');
  const m = JSON.parse(row.mongoid as string) as Obj;
  if (!isObj(decoded)) expect('event_struct' in row).toBe(false);
  else if (!full) {
    expect(Object.keys(row.event_struct as Obj).sort()).toEqual(['GET', 'POST', 'query']);
    expect(typeof (row.event_struct as Obj).GET).toBe('string');
    expect(typeof (row.event_struct as Obj).POST).toBe('string');
    expect((row.event_struct as Obj).GET).toBe(decoded.GET === undefined ? 'null' : JSON.stringify(decoded.GET));
  } else if (Object.keys(decoded).some(isFunnyKey)) {
    // the struct itself is "funny" (R17a): its JSON text is parked in mongoid
    expect('event_struct' in row).toBe(false);
    expect(Object.keys(m).some((k) => /^event_struct(_\d+)?$/.test(k) && typeof m[k] === 'string')).toBe(true);
  } else expect(isObj(row.event_struct)).toBe(true);

  // 6: moved fields: gone from their origin, present in mongoid at the same path
  const container = isObj(raw.mongoid);
  if (!container) {
    for (const k of R13_TOP) {
      if (!Object.hasOwn(raw, k)) continue;
      expect(Object.hasOwn(row, k)).toBe(false);
      expect(m[k]).toStrictEqual(raw[k]);
    }
    if (isObj(raw.context) && Object.hasOwn(raw.context, 'label')) {
      if (isObj(row.context)) expect(Object.hasOwn(row.context, 'label')).toBe(false);
      expect((m.context as Obj).label).toStrictEqual(raw.context.label);
    }
    if (full && isObj(decoded)) {
      const mes = m.event_struct as Obj;
      for (const k of R13_ES) {
        if (!Object.hasOwn(decoded, k)) continue;
        if (isObj(row.event_struct)) expect(Object.hasOwn(row.event_struct, k)).toBe(false);
        expect(mes[k]).toStrictEqual(decoded[k]);
      }
      if (isObj(decoded.state) && Object.hasOwn(decoded.state, 'has_saved_answers')) {
        expect((mes.state as Obj).has_saved_answers).toStrictEqual(decoded.state.has_saved_answers);
      }
    }
    // unknown keys planted by the generator (scalar values, clean names)
    if (Object.hasOwn(raw, 'zz_top')) expect(m.zz_top).toStrictEqual(raw.zz_top);
    if (isObj(raw.context) && Object.hasOwn(raw.context, 'zz_ctx') && !Object.keys(raw.context).some(isFunnyKey)) expect((m.context as Obj).zz_ctx).toStrictEqual(raw.context.zz_ctx);
    if (full && isObj(decoded) && Object.hasOwn(decoded, 'zz_es') && !Object.keys(decoded).some(isFunnyKey)) {
      expect((m.event_struct as Obj).zz_es).toStrictEqual(decoded.zz_es);
    }
    expect(m.old_mongoid).toBeDefined();
    expect(isObj(m.event_struct) || Object.keys(m).some((k) => k.startsWith('event_struct'))).toBe(true);
  }
  if (opts?.courseIdGuessed) expect(m.course_id_guessed).toBe(true);
}

const FIXTURES = TRACKING_FIXTURES;

const seen = { fullStruct: 0, getPostStruct: 0, noStruct: 0, funnyStruct: 0, renamed: 0, parkedContext: 0, coercedNull: 0 };
function tally(text: string, row: JsonObject): void {
  const raw = JSON.parse(text) as Obj;
  const decoded = decodedPayload(raw);
  const st = row.event_struct;
  if (!isObj(decoded)) seen.noStruct++;
  else if (isObj(st) && Object.hasOwn(st, 'GET') && Object.hasOwn(st, 'POST') && Object.hasOwn(st, 'query') && Object.keys(st).length === 3) seen.getPostStruct++;
  else if (isObj(st)) seen.fullStruct++;
  else seen.funnyStruct++;
  if (/"[^"]*_(2|empty)"/.test(row.mongoid as string) || /"\w+__\w+"/.test(row.mongoid as string)) seen.renamed++;
  const m = JSON.parse(row.mongoid as string) as Obj;
  if (isObj(m.context) && Object.keys(m.context).length > 0) seen.parkedContext++;
  if (isObj(st) && Object.values(st).some((v) => v === null)) seen.coercedNull++;
}

describe('rephrase: invariants 4–6 (spec §12)', () => {
  beforeEach(() => moduleIdSpy.mockImplementation(realModuleId));

  it.skipIf(!existsSync(FIXTURES))('hold for every fixture line', () => {
    let n = 0;
    for (const f of readdirSync(FIXTURES)) {
      for (const line of readFileSync(join(FIXTURES, f), 'utf8').split('\n')) {
        const s = line.trim();
        if (!s.startsWith('{')) continue;
        let ev: unknown;
        try {
          ev = JSON.parse(s);
        } catch {
          continue;
        }
        if (!isObj(ev)) continue;
        const row = rephrase(ev as JsonObject);
        checkInvariants(s, row);
        n++;
      }
    }
    expect(n).toBeGreaterThan(50);
  });

  it('hold for 600 randomly built hostile events', () => {
    const rnd = prng(0x5eed);
    for (let i = 0; i < 600; i++) {
      const ev = hostileEvent(rnd);
      const text = JSON.stringify(ev);
      const opts = rnd() < 0.3 ? { courseIdGuessed: rnd() < 0.5 } : undefined;
      let row: JsonObject | undefined;
      expect(() => (row = rephrase(JSON.parse(text) as JsonObject, opts))).not.toThrow();
      tally(text, row!);
      try {
        checkInvariants(text, row!, opts);
      } catch (e) {
        throw new Error(`event #${i}: ${text}\n→ ${JSON.stringify(row)}\n${(e as Error).message}`);
      }
    }
    // the generator reaches the interesting cases
    expect(seen.fullStruct).toBeGreaterThan(30);
    expect(seen.getPostStruct).toBeGreaterThan(30);
    expect(seen.noStruct).toBeGreaterThan(100);
    expect(seen.funnyStruct).toBeGreaterThan(5);
    expect(seen.renamed).toBeGreaterThan(50);
    expect(seen.parkedContext).toBeGreaterThan(50);
    expect(seen.coercedNull).toBeGreaterThan(20);
  });
});

// ---------------------------------------------------------------------------------------------
// hostile event generator (seeded)

function put(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

const KEY_POOL = [
  'a', 'a-b', 'a_b', 'a.b', 'a__b', 'a_b_2', '', '_empty', 'i4x-MITx-x', 'xblock.y', '0', '9z', '__proto__', 'constructor', 'toString',
  'GET', 'POST', 'query', 'state', 'answers', 'answer', 'rubric', 'new_speed', 'old_speed', 'currentTime', 'user_id', 'attempts', 'child-id',
  'child_id', 'duration', 'id', 'done', 'seed', 'text', 'content_hash', 'has_saved_answers', 'correct_map', 'zz',
];
const TYPE_POOL: unknown[] = [
  'play_video', 'pause_video', 'seq_goto', 'problem_check', 'problem_graded', 'speed_change_video', 'edx.course.enrollment.activated',
  'harvardx.button', 'harvardx.problem_x', 'x_problem_video_embedded', 'show_answer', 'showanswer', 'edx.forum.thread.created',
  '/courses/course-v1:O+N+R/xblock/block-v1:O+N+R+type@problem+block@b1/handler/xmodule_handler/problem_check',
  '/courses/MITx/6.00x/2012_Fall/modx/i4x://MITx/6.00x/problem/p1/problem_check', '', null, 7, ['play_video'],
];

function hostileValue(rnd: () => number, depth: number): unknown {
  const r = rnd();
  if (depth > 0 && r < 0.15) return hostileObject(rnd, depth - 1);
  if (depth > 0 && r < 0.22) return Array.from({ length: Math.floor(rnd() * 3) }, () => hostileValue(rnd, depth - 1));
  const pool: unknown[] = [null, true, false, 0, 1, -1, 3.5, 1e20, 2 ** 53 + 2, 'NaN', 'inf', '-Infinity', '42', ' 7 ', '2.5', '', 'x', 'true', 'nan'];
  return pool[Math.floor(rnd() * pool.length)];
}

function hostileObject(rnd: () => number, depth: number): Obj {
  const o: Obj = {};
  const n = Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) put(o, KEY_POOL[Math.floor(rnd() * KEY_POOL.length)]!, hostileValue(rnd, depth));
  return o;
}

function hostileEvent(rnd: () => number): Obj {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const ev: Obj = {};
  const maybe = (p: number, k: string, v: () => unknown) => {
    if (rnd() < p) put(ev, k, v());
  };
  maybe(0.95, 'time', () => pick([TIME, '2012-09-09T00:00:48.123456', 'garbage', 5]));
  maybe(0.9, 'username', () => pick(['u', '', null, 5, true]));
  maybe(0.9, 'event_type', () => pick(TYPE_POOL));
  maybe(0.8, 'event_source', () => pick(['server', 'browser', 'mobile', null, 3]));
  maybe(0.5, 'page', () => pick([null, 'https://x/courses/A/B/C/courseware/ch/seq/', 7]));
  maybe(0.3, 'session', () => pick(['s', null, {}]));
  maybe(0.9, 'event', () => {
    const r = rnd();
    if (r < 0.35) return hostileObject(rnd, 3);
    if (r < 0.6) return JSON.stringify(hostileObject(rnd, 3));
    return pick([
      '"input_p1_2_1=choice_1"', 'input_i4x-A-B-problem-p1_2_1=x&y=z', '{"trunc', '[1,2]', '5', 'NaN', 'null', 'true', '', '   ', ' {"a-b": 1} ',
      5, true, null, ['input_x=1', '<p>'], [], 1.5,
    ]);
  });
  maybe(0.85, 'context', () => {
    const r = rnd();
    if (r < 0.1) return pick([null, 'str', 5, [1]]);
    const c = hostileObject(rnd, 2);
    if (rnd() < 0.5) put(c, 'course_id', pick(['course-v1:A+B+C', 'A/B/C', '', null, 5]));
    if (rnd() < 0.4) put(c, 'user_id', pick(['', '42', 'x', 3.5, 7, null]));
    if (rnd() < 0.3) put(c, 'agent', pick(['UA', null, { a: 1 }]));
    if (rnd() < 0.3) put(c, 'label', pick(['l', null, { 'a-b': 1 }]));
    if (rnd() < 0.3) put(c, 'module', pick([{ display_name: 'd', usage_key: 'k', 'x-y': 1 }, 'm', null, { original_usage_key: 1 }]));
    if (rnd() < 0.3) put(c, 'application', { name: 'app' });
    if (rnd() < 0.3) put(c, 'course_user_tags', pick([{}, null, 'x']));
    if (rnd() < 0.3) put(c, 'zz_ctx', pick([1, 'z', null, true]));
    return c;
  });
  maybe(0.15, '_id', () => pick([{ $oid: 'abc' }, 'abc', null, { x: 1 }, 5, { $oid: null }]));
  maybe(0.1, 'mongoid', () => pick(['m', null, 3, { prior: 1 }, []]));
  maybe(0.1, 'event_struct', () => pick([{ id: 'stale' }, 'stale']));
  maybe(0.05, 'event_js', () => true);
  maybe(0.05, 'module_id', () => pick(['A/B/C/D', null, 5]));
  maybe(0.05, 'course_id', () => pick(['A/B/C', null, 5]));
  for (const k of R13_TOP) maybe(0.1, k, () => hostileValue(rnd, 2));
  maybe(0.2, 'zz_top', () => pick([1, 'z', null, false]));
  for (let i = Math.floor(rnd() * 3); i > 0; i--) put(ev, pick(KEY_POOL), hostileValue(rnd, 3));
  if (isObj(ev.event) && rnd() < 0.3) {
    const e = ev.event;
    for (const k of R13_ES) if (rnd() < 0.1) put(e, k, hostileValue(rnd, 1));
    if (rnd() < 0.3) put(e, 'zz_es', pick([1, 'z', null]));
    if (rnd() < 0.3) put(e, 'state', { has_saved_answers: pick([true, null, 'x']), seed: pick(['3', 3, 'x']), done: pick(['true', 1, 'no']) });
  }
  return ev;
}

describe('rephrase: the event decoded once for module_id and the rewrite', () => {
  const video = (id: string) => ({
    username: 'u', event_source: 'browser', event_type: 'play_video', time: '2015-03-01T00:00:00Z',
    page: 'https://x/courses/A/B/C/courseware/', event: `{"id":"${id}","currentTime":1.5,"code":"c"}`,
  });

  it('gives each event its own decoded value, also for the same text twice and after a module_id lookup alone', () => {
    const a = rephrase(video('i4x-A-B-video-v1'));
    const b = rephrase(video('i4x-A-B-video-v1'));
    expect(a.module_id).toBe('A/B/video/v1');
    expect(a.event_struct).toEqual({ id: 'i4x-A-B-video-v1', currentTime: 1.5, code: 'c' });
    expect(b.event_struct).toEqual(a.event_struct);
    expect(b.event_struct).not.toBe(a.event_struct);
    (a.event_struct as JsonObject).id = 'changed';
    expect((b.event_struct as JsonObject).id).toBe('i4x-A-B-video-v1');

    // a module_id lookup on its own does not reach later events: one with other text, and one with
    // the same text whose module_id is given (so R2 decodes nothing), get their own decoding
    extractModuleId(video('i4x-A-B-video-v2'));
    expect(rephrase(video('i4x-A-B-video-v3')).event_struct).toEqual({ id: 'i4x-A-B-video-v3', currentTime: 1.5, code: 'c' });
    extractModuleId(video('i4x-A-B-video-v4'));
    const d = rephrase({ ...video('i4x-A-B-video-v4'), module_id: 'given' });
    expect(d.module_id).toBe('given');
    expect(d.event_struct).toEqual({ id: 'i4x-A-B-video-v4', currentTime: 1.5, code: 'c' });
  });
});
