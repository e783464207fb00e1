/**
 * The facts built in native code (native/chunkFacts.cc): hand-computed batches of small chunks,
 * the same facts as JavaScript's on lines of every shape that matters to the encoding (names
 * that need escapes, strings shared by courses, both course id forms, the compact-table rows),
 * and the chunks it must leave alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFacts } from '../src/aggregate/factsFile.ts';
import type { CourseFacts } from '../src/aggregate/facts.ts';
import { nativeScanAvailable, scanChunkNative, setNativeFactsEnabled, STRIDE, FACTS_STATE, takeNativeFacts } from '../src/events/nativeScan.ts';
import { MICROS_PER_DAY, parseTimeMicros } from '../src/events/time.ts';
import { aggregateChunk, splitChunk } from '../src/logs/chunkTasks.ts';
import { canonicalFacts } from './helpers/canonicalFacts.ts';

const available = nativeScanAvailable();
afterEach(() => setNativeFactsEnabled(true));

const T1 = '2015-03-01T10:00:00Z';
const T2 = '2015-03-01T10:00:30Z';
const T3 = '2015-03-02T00:00:10Z';
const us = (t: string) => parseTimeMicros(t);
const dayOf = (t: string) => Math.floor(us(t) / MICROS_PER_DAY);

function line(o: Record<string, unknown>): string {
  return JSON.stringify({ event_source: 'server', event: {}, ...o });
}

/** The facts of a chunk as splitChunk and aggregateChunk give them, with the native building on or off. */
function factsOf(text: string, nativeFacts: boolean): { split: CourseFacts[]; agg: CourseFacts[]; counts: Record<string, number> } {
  setNativeFactsEnabled(nativeFacts);
  const split = splitChunk(Buffer.from(text), true);
  const agg = aggregateChunk(Buffer.from(text));
  return {
    split: decodeFacts(split.data.subarray(split.factsStart)),
    agg: decodeFacts(agg.facts),
    counts: Object.fromEntries(agg.courses.map((c, i) => [c, agg.counts[i]!])),
  };
}

/** How many lines of the chunk the native code built the facts of. */
function builtLines(text: string): number {
  const scan = scanChunkNative(Buffer.from(text), true)!;
  takeNativeFacts();
  let n = 0;
  for (let i = 0; i < scan.lines; i++) if (scan.records[i * STRIDE + FACTS_STATE] === 2) n++;
  return n;
}

describe.skipIf(!available)('facts built in native code', () => {
  it('gives the hand-computed batch of a small chunk', () => {
    const ctx = { course_id: 'course-v1:MITx+6.00x+2015' };
    const text = [
      line({ username: 'alice', ip: '10.0.0.1', event_type: '/courses/course-v1:MITx+6.00x+2015/progress', time: T1, context: ctx }),
      line({ username: 'alice', ip: '10.0.0.1', event_type: 'seq_goto', event_source: 'browser', event: '{}', time: T2, context: ctx }),
      // the slash form of the same course: the same batch
      line({ username: 'bob', ip: null, event_type: 'play_video', event_source: 'browser', event: '{"id":"v1","currentTime":12.5,"code":"x"}', time: T3, context: { course_id: 'MITx/6.00x/2015' } }),
      // no name: counted, and its day, but no base event and no IP count
      line({ username: '', ip: '10.0.0.2', event_type: 'page_close', time: T1, context: ctx }),
    ].join('\n');
    expect(builtLines(text)).toBe(4);
    const { split, agg, counts } = factsOf(text, true);
    for (const batches of [split, agg]) {
      expect(batches.map((b) => b.course)).toEqual(['MITx/6.00x/2015']);
      const [b] = batches;
      const name = (i: number) => (i === 0xffffffff ? null : b!.strings[i]);
      expect(b!.days).toEqual([dayOf(T1), dayOf(T3)]);
      expect([...b!.base.user].map(name)).toEqual(['alice', 'alice', 'bob']);
      expect([...b!.base.time]).toEqual([us(T1), us(T2), us(T3)]);
      // the progress page (nprogcheck), seq_goto (its counter), a played video (nvideo) with the video time-on-task category
      expect([...b!.base.flags]).toEqual([1 << 0, 1 << 6, (1 << 2) | (1 << 9)]);
      const ips = [...b!.ip.user].map((u, i) => [name(u), name(b!.ip.ip[i]!), b!.ip.day[i], b!.ip.count[i]]);
      expect(ips.sort()).toEqual([['alice', '10.0.0.1', dayOf(T1), 2], ['bob', null, dayOf(T3), 1]].sort());
      expect([...b!.video.user].map(name)).toEqual(['bob']);
      expect([...b!.video.video].map(name)).toEqual(['v1']);
      expect([...b!.video.position]).toEqual([12.5]);
      expect([...b!.video.type]).toEqual([0]);
      expect(b!.video.speed[0]).toBeNaN();
    }
    expect(counts).toEqual({ 'MITx/6.00x/2015': 4 });
    // and what JavaScript makes of the same lines
    expect(canonicalFacts(split)).toEqual(canonicalFacts(factsOf(text, false).split));
  });

  it('writes names, addresses and rows that need JSON escapes, and strings several courses share', () => {
    const names = ['a"b', 'back\\slash', 'tab\there', 'nl\nx', 'ctl\u0001', 'é ü 日本', '\u2028', 'emoji 😀', ''];
    const courses = ['A/B/C', 'course-v1:D+E+F', 'A/B/C2'];
    const lines: string[] = [];
    let k = 0;
    for (const n of names) {
      for (const c of courses) {
        k++;
        lines.push(line({ username: n, ip: `ip ${n}`, event_type: 'problem_graded', time: T1, context: { course_id: c } }));
        lines.push(line({ username: n, event_type: 'play_video', event_source: 'browser', event: JSON.stringify({ id: `vid ${n}`, currentTime: k }), time: T2, context: { course_id: c } }));
        lines.push(line({ username: n, event_type: 'problem_check', event: { answers: { q: n }, attempts: 1, success: 'correct', grade: 1, max_grade: 2, problem_id: `i4x://A/B/problem/${k}` }, time: T2, context: { course_id: c } }));
        lines.push(line({ username: n, event_type: 'edx.forum.searched', event: { query: n, GET: { q: [n] } }, time: T3, context: { course_id: c } }));
        lines.push(line({ username: n, event_type: 'edx.course.enrollment.activated', event: { mode: 'verified', user_id: k, course_id: c }, time: T3, context: { course_id: c } }));
        lines.push(line({ username: n, event_type: 'show_answer', event: { problem_id: `i4x://A/B/problem/${k}` }, time: T3, context: { course_id: c } }));
      }
    }
    const text = lines.join('\n');
    // nearly all of them (the escaped ones whose decoding the native code leaves alone are the rest)
    expect(builtLines(text)).toBeGreaterThan(lines.length * 0.8);
    const js = factsOf(text, false);
    const native = factsOf(text, true);
    for (const batches of [native.split, native.agg]) expect(canonicalFacts(batches)).toEqual(canonicalFacts(js.split));
    expect(native.counts).toEqual(js.counts);
    // the compact-table rows are all there
    const rows = (b: CourseFacts[]) => b.reduce((a, f) => a + f.problemCheck.length + f.forum.length + f.enrollment.length + f.showAnswer.length, 0);
    expect(rows(native.split)).toBe(4 * names.length * courses.length);
  });

  it('leaves a chunk that is not UTF-8 to JavaScript (its bad line is a reject, whose facts must not count)', () => {
    const good = line({ username: 'alice', event_type: 'problem_graded', time: T1, context: { course_id: 'A/B/C' } });
    const chunk = Buffer.concat([Buffer.from(good + '\n'), Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), Buffer.from(good)]);
    setNativeFactsEnabled(true);
    const split = splitChunk(chunk, true);
    expect(split.rejects.map((r) => r.reason)).toEqual(['invalid UTF-8']);
    const facts = decodeFacts(split.data.subarray(split.factsStart));
    expect(facts.map((f) => f.base.user.length)).toEqual([2]);
    expect(canonicalFacts(facts)).toEqual(canonicalFacts(factsOf(`${good}\n${good}`, false).split));
  });

  it('is switched off by setNativeFactsEnabled(false): every batch is JavaScript\'s', () => {
    const text = line({ username: 'alice', event_type: 'problem_graded', time: T1, context: { course_id: 'A/B/C' } });
    setNativeFactsEnabled(false);
    const scan = scanChunkNative(Buffer.from(text), true)!;
    expect(scan.factsBuilt).toBe(false);
    expect(scan.records[FACTS_STATE]).toBe(1);
  });
});
