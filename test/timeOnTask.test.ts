/**
 * time_on_task and time_on_task_totals (spec tracking-logs.md §6.1, REC): categories, the per
 * learner-day sums, the gaps from the previous active day added in SQL, and independence from how
 * the inputs are cut and the order they arrive in. Every expected value is worked out by hand in
 * the comments.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addEventFacts, FactsBuilder } from '../src/aggregate/facts.ts';
import { FactsFileError, readFactsFile } from '../src/aggregate/factsFile.ts';
import { loadFacts } from '../src/aggregate/loadFacts.ts';
import { baseEventFlags, computeTaskFlags, courseUrlPrefixes, pcdayFlags, PCDAY_FLAG, TASK_FLAG, taskFlags } from '../src/aggregate/pcdayEvent.ts';
import { timeOnTaskIntraday } from '../src/aggregate/tables.ts';
import { TIME_ON_TASK_INTRADAY_COLUMNS } from '../src/aggregate/timeOnTask.ts';
import { MICROS_PER_DAY, parseTimeMicros } from '../src/events/time.ts';
import { loadMarkers, markerOutputs, markerPath } from '../src/logs/markers.ts';
import { splitLogs } from '../src/logs/split.ts';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import type { OutputValue } from '../src/warehouse/warehouse.ts';
import { rawEvent, tempDir, writeGz } from './helpers/logtree.ts';

const { video: V, problem: P, forum: F, text: T } = TASK_FLAG;

describe('time_on_task categories of an event_type (spec §6.1)', () => {
  it.each([
    // video: a word character, then _video or _transcript, anywhere
    ['play_video', V], ['pause_video', V], ['seek_video', V], ['stop_video', V], ['load_video', V], ['speed_change_video', V],
    ['show_transcript', V], ['hide_transcript', V], ['edx.video.played', 0], ['_video', 0], ['x._video', 0], ['a_videos', V],
    // problem: problem_ then a word character
    ['problem_check', P], ['problem_show', P], ['problem_graded', P], ['save_problem_success', P], ['reset_problem_fail', P],
    ['/courses/A/B/C/modx/i4x://A/B/problem/p1/problem_check', P], ['problem_', 0], ['problem_.', 0], ['show_answer', 0],
    // forum: edx.forum. prefix, or /discussion/forum, /discussion/threads, /discussion/comments anywhere
    ['edx.forum.thread.created', F], ['xedx.forum.thread.created', 0],
    ['/courses/A/B/C/discussion/forum/general/threads/t1', F], ['/courses/A/B/C/discussion/threads/t1/reply', F],
    ['/courses/A/B/C/discussion/comments/c1/upvote', F], ['/courses/A/B/C/discussion/upload', 0],
    // text: textbook. prefix, or /wiki/ anywhere
    ['textbook.pdf.page.navigated', T], ['book.textbook.x', 0], ['/courses/A/B/C/wiki/page/', T], ['/courses/A/B/C/wiki', 0],
    // they overlap
    ['/courses/A/B/C/wiki/problem_sets/', T | P], ['textbook.pdf.show_video', T | V], ['problem_video', P | V],
    ['seq_goto', 0], ['page_close', 0], ['/courses/A/B/C/courseware/ch/seq/', 0],
  ])('%s', (type, flags) => {
    expect(computeTaskFlags(type)).toBe(flags);
    expect(taskFlags(type)).toBe(flags);
    expect(taskFlags(type)).toBe(flags); // from the cache
  });

  it('non-strings have no category; the cache keeps lone surrogates apart', () => {
    expect(taskFlags(null)).toBe(0);
    expect(taskFlags(42)).toBe(0);
    expect(taskFlags('\ud800x_video')).toBe(V);
    expect(taskFlags('\ud800x_vide')).toBe(0);
  });

  it('a base event keeps its pcday counters and its categories in one set of flags', () => {
    const c = courseUrlPrefixes('A/B/C');
    expect(baseEventFlags('play_video', c)).toBe(PCDAY_FLAG.video | V);
    expect(baseEventFlags('problem_check', c)).toBe(PCDAY_FLAG.problemCheck | P);
    expect(baseEventFlags('/courses/A/B/C/discussion/threads/t1/reply', c)).toBe(PCDAY_FLAG.forum | F);
    expect(baseEventFlags('seq_goto', c)).toBe(PCDAY_FLAG.seqGoto);
    expect(baseEventFlags('/courses/course-v1:A+B+C/progress', c)).toBe(PCDAY_FLAG.progcheck);
    expect(baseEventFlags('/courses/A/B/C/wiki/x_video/', c)).toBe(T | V);
    // the shortcuts of baseEventFlags give what the two parts give, on every kind of event_type
    const types = [
      'play_video', 'pause_video', 'problem_check', 'load_video', 'seq_next', 'seq_goto', 'seek_video', 'page_close', 'seq_prev',
      'speed_change_video', 'stop_video', 'show_transcript', 'hide_transcript', 'problem_graded', 'problem_show', 'problem_save',
      'show_answer', 'showanswer', 'edx.forum.thread.created', 'textbook.pdf.page.navigated', 'edx.video.played', 'save_problem_fail',
      '/courses/A/B/C/progress', '/courses/A/B/C/discussion/forum/x/threads/t1', '/courses/A/B/C/discussion/threads/create',
      '/courses/A/B/C/modx/i4x://A/B/problem/p/problem_check', '/courses/A/B/C/courseware/', '/courses/X/Y/Z/discussion/comments/c',
      '/wiki/x', '/', '', 'x',
    ];
    for (const t of types) expect(baseEventFlags(t, c), t).toBe(pcdayFlags(t, c) | computeTaskFlags(t));
    const b = new FactsBuilder('A/B/C');
    addEventFacts(b, { username: 'a', eventType: 'hide_transcript', eventSource: 'browser', ip: null }, 0, 0, null);
    expect([...b.build().base.flags]).toEqual([V]);
  });
});

const C = 'A/B/C';
const at = (s: string) => parseTimeMicros(`2015-03-${s}Z`);
const dayNo = (d: string) => Math.floor(at(`${d}T00:00:00`) / MICROS_PER_DAY);

describe('time_on_task_intraday rows', () => {
  const col = (name: string) => TIME_ON_TASK_INTRADAY_COLUMNS.findIndex((c) => c.name === name);
  const events: Array<[string, string, string]> = [
    ['ann', '02T00:00:30', 'problem_check'],
    ['ann', '02T00:00:30', 'play_video'],
    ['ann', '02T00:00:30', 'play_video'],
    ['ann', '01T23:59:00', 'textbook.pdf.page.navigated'],
    ['ann', '02T00:01:00', 'seq_goto'],
  ];
  const rows = (evs: typeof events) => {
    const b = new FactsBuilder(C);
    for (const [user, time, type] of evs) addEventFacts(b, { username: user, eventType: type, eventSource: 'browser', ip: null }, at(time), 0, null);
    const { columns } = timeOnTaskIntraday({ course: C, days: new Set([dayNo('01'), dayNo('02')]), facts: [b.build()] });
    // row-major, NaN in the Float64 columns read as NULL (as the warehouse does)
    return Array.from({ length: columns[0]!.length }, (_, r) => columns.map((c) => {
      const v = c[r]!;
      return typeof v === 'number' && Number.isNaN(v) ? null : v;
    }));
  };

  it('per learner-day: sums within the day, first / last per category, the first xevent and the categories at that instant', () => {
    const [d1, d2] = rows(events).sort((a, b) => String(a[2]).localeCompare(String(b[2])));
    // 03-01: one text event, no gap within the day
    expect(d1!.slice(0, 6)).toEqual(['ann', C, '2015-03-01', 1, at('01T23:59:00'), at('01T23:59:00')]);
    expect(d1![col('total_time_5_us')]).toBeNull();
    expect(d1![col('first_text')]).toBe(at('01T23:59:00'));
    expect(d1![col('first_xevent_mask')]).toBe(8);
    // 03-02: 00:00:30 ×3 (problem, video, video), 00:01:00 → gaps 0, 0, 30 → Σ 30 s under both timeouts;
    // video: one gap of 0 (the duplicate); problem: none; serial: nothing before the group that day,
    // so only the duplicate video's 0
    expect(d2!.slice(0, 6)).toEqual(['ann', C, '2015-03-02', 4, at('02T00:00:30'), at('02T00:01:00')]);
    expect(d2![col('total_time_5_us')]).toBe(30e6);
    expect(d2![col('total_time_30_us')]).toBe(30e6);
    expect(d2![col('total_video_time_5_us')]).toBe(0);
    expect(d2![col('serial_video_time_30_us')]).toBe(0);
    expect(d2![col('total_problem_time_5_us')]).toBeNull();
    expect(d2![col('serial_problem_time_30_us')]).toBeNull();
    expect(d2![col('first_xevent')]).toBe(at('02T00:00:30'));
    expect(d2![col('first_xevent_mask')]).toBe(1 | 2);
    expect(d2![col('last_xevent')]).toBe(at('02T00:00:30'));
    expect(d2![col('first_video')]).toBe(at('02T00:00:30'));
    expect(d2![col('first_text')]).toBeNull();
  });

  it('does not depend on the order of the events, ties included', () => {
    const byDate = (r: ReturnType<typeof rows>) => [...r].sort((a, b) => String(a[2]).localeCompare(String(b[2])));
    const forward = byDate(rows(events));
    for (const perm of [[4, 3, 2, 1, 0], [1, 0, 4, 2, 3], [2, 4, 0, 3, 1]]) expect(byDate(rows(perm.map((i) => events[i]!)))).toEqual(forward);
  });
});

// ------------------------------------------------------------------------------------------
// end to end: hand-made logs → split or --no-split → facts → warehouse

const MIT = 'MITx/6.00x/2015';
const S = 'MITx__6_00x__2015';
const ev = (user: string, time: string, type: string) => rawEvent({ user, time: `2015-03-0${time}+00:00`, type, course: MIT });

/**
 * Three inputs (prod and edge logs of 03-01, and 03-02 with a late event of 03-01):
 * - vic (03-01 only): every category, gaps just under / at / over 300 s and 1800 s, a tie, an
 *   event in two categories;
 * - sim (03-01): a problem and two videos at the same instant (one from the edge file);
 * - mid: events on both sides of midnight, in two files;
 * - mix: a text event on 03-01, then a problem and a video at the same instant on 03-02;
 * - one: one event on 03-01, one on 03-02; solo: a single event ever.
 */
const INPUTS: Record<string, string[]> = {
  'prod-2015-03-01.log.gz': [
    ev('vic', '1T10:00:00', 'play_video'), // e1 V, the first event: no predecessor
    ev('vic', '1T10:01:40', 'problem_check'), // e2 P: 100 s after e1
    ev('vic', '1T10:06:39.999999', 'pause_video'), // e3 V: 299.999999 s
    ev('vic', '1T10:11:39.999999', 'problem_show'), // e4 P: 300 s
    ev('vic', '1T10:41:40', 'edx.forum.thread.created'), // e5 F: 1800.000001 s
    ev('vic', '1T11:11:39.999999', 'textbook.pdf.page.navigated'), // e6 T: 1799.999999 s
    ev('vic', `1T11:12:00`, `/courses/${MIT}/wiki/problem_sets/`), // e8 T and P: 20.000001 s after e7
    ev('vic', '1T11:12:30', `/courses/${MIT}/discussion/threads/t1/reply`), // e9 F: 30 s
    ev('sim', '1T12:00:00', 'play_video'),
    ev('sim', '1T12:01:00', 'problem_check'),
    ev('sim', '1T12:01:00', 'play_video'),
    ev('mid', '1T23:50:00', 'play_video'),
    ev('mid', '1T23:58:00', 'problem_check'),
    ev('mix', '1T23:59:00', 'textbook.pdf.page.navigated'),
    ev('one', '1T12:00:00', 'seq_goto'),
    ev('solo', '1T09:00:00', 'play_video'),
  ],
  'edge-2015-03-01.log.gz': [
    ev('vic', '1T11:11:39.999999', 'seq_goto'), // e7, no category: at the same instant as e6
    ev('sim', '1T12:01:00', 'play_video'), // the same instant again
  ],
  'prod-2015-03-02.log.gz': [
    ev('mid', '1T23:59:30', 'seq_goto'), // late arrival: belongs to 03-01
    ev('mid', '2T00:02:00', 'pause_video'),
    ev('mid', '2T00:40:00', 'problem_check'),
    ev('mix', '2T00:00:30', 'problem_check'),
    ev('mix', '2T00:00:30', 'play_video'),
    ev('one', '2T12:00:00', 'play_video'),
  ],
};

const SUMS = [
  'total_time_5', 'total_time_30', 'total_video_time_5', 'total_video_time_30', 'serial_video_time_30',
  'total_problem_time_5', 'total_problem_time_30', 'serial_problem_time_30', 'total_forum_time_5', 'total_forum_time_30',
  'serial_forum_time_30', 'total_text_time_5', 'total_text_time_30', 'serial_text_time_30',
];
type Sums = Array<number | null>;
const _ = null;

// vic 03-01. Gaps (s): e2 100, e3 299.999999, e4 300, e5 1800.000001, e6 1799.999999, e7 0, e8 20.000001, e9 30
//   total_5 = 100 + 299.999999 + 0 + 20.000001 + 30 = 450; total_30 adds 300 and 1799.999999 → 2549.999999
//   video e1, e3: 399.999999 (< 1800 only); serial e3 ← e2: 299.999999
//   problem e2, e4, e8: 599.999999 (< 1800 only), 3620.000001 (none); serial e2 ← e1 100, e4 ← e3 300, e8 ← e6 20.000001 → 420.000001
//   forum e5, e9: 1850 (none); serial e5 ← e4 1800.000001 (none), e9 ← e8 30 → 30
//   text e6, e8: 20.000001 under both; serial e6 ← e5 1799.999999, e8 ← e6 20.000001 → 1820
const VIC: Sums = [450, 2549.999999, _, 399.999999, 299.999999, _, 599.999999, 420.000001, _, _, 30, 20.000001, 20.000001, 1820];
// sim 03-01: 12:00:00 V, then P, V, V at 12:01:00 → gaps 60, 0, 0; video gaps 60, 0; no problem gap;
//   serial: the instant's problem and its first video step 60 s from the video at 12:00:00, the second video 0
const SIM: Sums = [60, 60, 60, 60, 60, _, _, 60, _, _, _, _, _, _];
// mid 03-01: 23:50:00 V, 23:58:00 P, 23:59:30 (late file) → gaps 480 (< 1800 only), 90; serial P ← V 480
const MID1: Sums = [90, 570, _, _, _, _, _, 480, _, _, _, _, _, _];
// mid 03-02: 00:02:00 V: 150 s after 23:59:30, 720 s after the video at 23:50:00 (< 1800 only), serial 240 s
//   after the problem at 23:58:00; 00:40:00 P: 2280 s after 00:02:00, 2520 s after the problem at 23:58:00: none
const MID2: Sums = [150, 150, _, 720, 240, _, _, _, _, _, _, _, _, _];
// mix 03-02: P and V at 00:00:30, 90 s after the text event at 23:59:00 → gaps 90, 0; no earlier video or
//   problem; serial: both categories of the first instant step 90 s from 23:59:00. mix 03-01: one event, the
//   learner's first: no row
const MIX2: Sums = [90, 90, _, _, 90, _, _, 90, _, _, _, _, _, _];
// one 03-02: a day after its only earlier event, no earlier xevent: a row of NULLs. one 03-01 and solo: no row
const ONE2: Sums = [_, _, _, _, _, _, _, _, _, _, _, _, _, _];

const EXPECTED_DAYS: Array<[string, string, Sums]> = [
  ['2015-03-01', 'mid', MID1], ['2015-03-01', 'sim', SIM], ['2015-03-01', 'vic', VIC],
  ['2015-03-02', 'mid', MID2], ['2015-03-02', 'mix', MIX2], ['2015-03-02', 'one', ONE2],
];
// per learner, over dates (a sum of NULLs is NULL)
const EXPECTED_TOTALS: Array<[string, Sums]> = [
  ['mid', [240, 720, _, 720, 240, _, _, 480, _, _, _, _, _, _]],
  ['mix', MIX2], ['one', ONE2], ['sim', SIM], ['vic', VIC],
];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function scratch(): { inDir: string; logsDir: string; warehouse: string } {
  const root = tempDir('tot');
  dirs.push(root);
  return { inDir: path.join(root, 'in'), logsDir: path.join(root, 'logs'), warehouse: path.join(root, 'wh.duckdb') };
}
function writeInputs(dir: string, names: string[]): void {
  for (const name of names) writeGz(path.join(dir, name), INPUTS[name]!.join('\n') + '\n');
}

async function personDay(s: { logsDir: string; warehouse: string }, inputs: string[], o: { noSplit?: boolean; chunkSize?: number } = {}) {
  const split = await splitLogs(inputs, { logsDir: s.logsDir, workers: 2, chunkSize: o.chunkSize ?? 1 << 20, gzipLevel: 1, force: false, writeLogs: !o.noSplit, collectFacts: true });
  const wh = await openDuckDBWarehouse(s.warehouse);
  try {
    return { split, load: await loadFacts({ logsDir: s.logsDir, warehouse: wh, command: 'person-day' }) };
  } finally {
    await wh.close();
  }
}

async function q(warehouse: string, sql: string): Promise<{ columns: string[]; rows: OutputValue[][] }> {
  const wh = await openDuckDBWarehouse(warehouse, { readOnly: true });
  try {
    const r = await wh.query(sql);
    return { columns: r.columns.map((c) => c.name), rows: r.rows };
  } finally {
    await wh.close();
  }
}

async function expectTables(warehouse: string): Promise<void> {
  const days = await q(warehouse, `SELECT * REPLACE (strftime(date, '%Y-%m-%d') AS date) FROM ${S}.time_on_task ORDER BY date, username`);
  expect(days.columns).toEqual(['course_id', 'date', 'username', ...SUMS]);
  expect(days.rows).toEqual(EXPECTED_DAYS.map(([date, user, sums]) => [MIT, date, user, ...sums]));
  const totals = await q(warehouse, `SELECT * FROM ${S}.time_on_task_totals ORDER BY username`);
  expect(totals.columns).toEqual(['course_id', 'username', ...SUMS]);
  expect(totals.rows).toEqual(EXPECTED_TOTALS.map(([user, sums]) => [MIT, user, ...sums]));
}

describe('time_on_task and time_on_task_totals from hand-made logs', () => {
  it('every column by hand: cutoffs strict, categories, serial times, ties, midnight, the first event; the totals', async () => {
    const s = scratch();
    writeInputs(s.inDir, Object.keys(INPUTS));
    const { load } = await personDay(s, [s.inDir]);
    expect(load.courses.map((c) => c.course)).toEqual([MIT]);
    await expectTables(s.warehouse);
    // one time_on_task_intraday row per learner-day with base events: vic, sim, mid ×2, mix ×2, one ×2, solo
    const n = await q(s.warehouse, `SELECT count(*) FROM ${S}.time_on_task_intraday`);
    expect(n.rows).toEqual([[9]]);
  });

  it('the same whatever the order the inputs arrive in, and on the --no-split path with one-line chunks', async () => {
    const orders = [
      ['prod-2015-03-02.log.gz', 'edge-2015-03-01.log.gz', 'prod-2015-03-01.log.gz'],
      ['prod-2015-03-01.log.gz', 'prod-2015-03-02.log.gz', 'edge-2015-03-01.log.gz'],
    ];
    for (const [k, order] of orders.entries()) {
      const s = scratch();
      for (const name of order) {
        writeInputs(s.inDir, [name]);
        await personDay(s, [s.inDir], { noSplit: k === 1, chunkSize: k === 1 ? 1 : undefined });
      }
      await expectTables(s.warehouse);
    }
  });

  it('facts of an older format are redone by the next pass, never read', async () => {
    const s = scratch();
    writeInputs(s.inDir, Object.keys(INPUTS));
    await personDay(s, [s.inDir], { noSplit: true });
    // make one input look like it was processed by a version before the categories (format 2)
    const stem = 'prod-2015-03-02';
    const markerFile = markerPath(s.logsDir, stem);
    const marker = JSON.parse(fs.readFileSync(markerFile, 'utf8'));
    delete marker.factsVersion;
    fs.writeFileSync(markerFile, JSON.stringify(marker));
    const factsFile = path.join(s.logsDir, '_parts', stem, 'facts.v8');
    const bytes = fs.readFileSync(factsFile);
    bytes.write('EDX2BQF2', 0, 'latin1');
    fs.writeFileSync(factsFile, bytes);
    await expect(readFactsFile(factsFile)).rejects.toBeInstanceOf(FactsFileError);
    expect(markerOutputs((await loadMarkers(s.logsDir)).get(stem)!).facts).toBe(false);
    const again = await personDay(s, [s.inDir], { noSplit: true });
    expect(again.split.files.done).toBe(1);
    expect(again.split.files.skipped).toBe(2);
    expect(markerOutputs((await loadMarkers(s.logsDir)).get(stem)!).facts).toBe(true);
    await expectTables(s.warehouse);
  });
});
