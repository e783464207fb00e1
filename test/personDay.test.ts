import { describe, expect, it } from 'vitest';
import { computePersonDay, type PersonDayRow } from '../src/aggregate/personDay.ts';
import { courseUrlPrefixes, isBaseEvent, pcdayFlags, PCDAY_FLAG } from '../src/aggregate/pcdayEvent.ts';
import { parseTimeMicros } from '../src/events/time.ts';

// All expected values below are worked out by hand from spec tracking-logs.md §5.2 / §5.4 / §12.
const T0 = parseTimeMicros('2015-03-01T10:00:00Z');
const sec = (s: number) => T0 + s * 1e6;

function run(events: Array<[user: number, timeUs: number, flags?: number]>, previous?: Map<number, number>): PersonDayRow[] {
  return computePersonDay('A/B/C', ['alice', 'bob'], { user: events.map((e) => e[0]), timeUs: events.map((e) => e[1]), flags: events.map((e) => e[2] ?? 0) }, previous);
}

describe('person_course_day gap statistics (spec §5.4, invariant 9)', () => {
  it('events at 0, 100, 400, 700, 1000 s: gaps 100, 300, 300, 300 all kept', () => {
    const [r] = run([0, 100, 400, 700, 1000].map((s) => [0, sec(s)]));
    expect(r).toMatchObject({ username: 'alice', date: '2015-03-01', nevents: 5, n_dt: 4, sum_dt: 1000, max_dt: 300, avg_dt: 250 });
    // sample SD of [100, 300, 300, 300]: mean 250, squared deviations 22500 + 3 × 2500 = 30000, / 3 → √10000
    expect(r!.sdv_dt).toBeCloseTo(100, 9);
    expect(r!.firstEventUs).toBe(sec(0));
    expect(r!.lastEventUs).toBe(sec(1000));
  });

  it('a gap of 301 s is dropped, not capped', () => {
    const [r] = run([0, 100, 400, 700, 1000, 1301].map((s) => [0, sec(s)]));
    expect(r).toMatchObject({ nevents: 6, n_dt: 4, sum_dt: 1000, max_dt: 300 });
  });

  it('no kept gap: the statistics are null, not 0; one gap: no standard deviation', () => {
    const [a] = run([[0, sec(0)], [0, sec(1000)]]);
    expect(a).toMatchObject({ nevents: 2, n_dt: 0, sum_dt: null, avg_dt: null, max_dt: null, sdv_dt: null });
    const [b] = run([[0, sec(0)], [0, sec(42)]]);
    expect(b).toMatchObject({ n_dt: 1, sum_dt: 42, avg_dt: 42, max_dt: 42, sdv_dt: null });
  });

  it('simultaneous and duplicate events make gaps of 0 that count', () => {
    const [r] = run([[0, sec(10)], [0, sec(10)], [0, sec(10)], [0, sec(70)]]);
    expect(r).toMatchObject({ nevents: 4, n_dt: 3, sum_dt: 60, max_dt: 60, avg_dt: 20 });
    // sample SD of [0, 0, 60]: mean 20, squared deviations 400 + 400 + 1600 = 2400, / 2 → √1200
    expect(r!.sdv_dt).toBeCloseTo(Math.sqrt(1200), 9);
  });

  it('is the same whatever the order of the lines', () => {
    const evs: Array<[number, number]> = [[0, sec(0)], [1, sec(5)], [0, sec(100)], [1, sec(50)], [0, sec(350)], [1, sec(500)]];
    const sorted = run(evs);
    const shuffled = run([evs[4]!, evs[1]!, evs[5]!, evs[0]!, evs[3]!, evs[2]!]);
    const byUser = (rows: PersonDayRow[]) => [...rows].sort((a, b) => a.username.localeCompare(b.username));
    expect(byUser(shuffled)).toEqual(byUser(sorted));
    const alice = sorted.find((r) => r.username === 'alice')!;
    expect(alice).toMatchObject({ n_dt: 2, sum_dt: 350, max_dt: 250 }); // gaps 100, 250
    const bob = sorted.find((r) => r.username === 'bob')!;
    expect(bob).toMatchObject({ n_dt: 1, sum_dt: 45, max_dt: 45 }); // gaps 45 (kept), 450 (dropped)
  });

  it('a gap across midnight belongs to the later day, and days chain through previousLastUs', () => {
    const late = parseTimeMicros('2015-03-01T23:59:00Z');
    const early = parseTimeMicros('2015-03-02T00:01:00Z');
    const later = parseTimeMicros('2015-03-02T00:02:30Z');
    const both = run([[0, early], [0, late], [0, later]]);
    expect(both.map((r) => r.date).sort()).toEqual(['2015-03-01', '2015-03-02']);
    const d1 = both.find((r) => r.date === '2015-03-01')!;
    const d2 = both.find((r) => r.date === '2015-03-02')!;
    expect(d1).toMatchObject({ nevents: 1, n_dt: 0, sum_dt: null });
    expect(d2).toMatchObject({ nevents: 2, n_dt: 2, sum_dt: 210, max_dt: 120, firstEventUs: early, lastEventUs: later }); // 120 s over midnight + 90 s
    // day 2 alone, told where day 1 ended, gives the same row
    const alone = run([[0, early], [0, later]], new Map([[0, late]]));
    expect(alone).toEqual([d2]);
    // and without that, the first gap is missing (what the original did at every batch start)
    expect(run([[0, early], [0, later]])[0]).toMatchObject({ n_dt: 1, sum_dt: 90 });
  });

  it('puts …T23:30:00-05:00 on the next UTC day (invariant 10)', () => {
    const [r] = run([[0, parseTimeMicros('2015-03-01T23:30:00-05:00')]]);
    expect(r!.date).toBe('2015-03-02');
  });
});

describe('person_course_day counters (spec §5.2, REC)', () => {
  const slash = courseUrlPrefixes('MITx/6.00x/2012_Fall');
  it.each([
    ['show_answer', PCDAY_FLAG.showAnswer],
    ['showanswer', PCDAY_FLAG.showAnswer],
    ['play_video', PCDAY_FLAG.video],
    ['pause_video', PCDAY_FLAG.pauseVideo],
    ['seek_video', PCDAY_FLAG.seekVideo],
    ['problem_check', PCDAY_FLAG.problemCheck],
    ['show_transcript', PCDAY_FLAG.transcript],
    ['seq_goto', PCDAY_FLAG.seqGoto],
    ['/courses/MITx/6.00x/2012_Fall/progress', PCDAY_FLAG.progcheck],
    ['/courses/MITx/6.00x/2012_Fall/progress/', PCDAY_FLAG.progcheck],
    ['/courses/MITx/6.00x/2012_Fall/discussion/threads/t1/reply', PCDAY_FLAG.forum],
    ['/courses/course-v1:MITx+6.00x+2012_Fall/progress', PCDAY_FLAG.progcheck], // REC: both forms
    ['/courses/course-v1:MITx+6.00x+2012_Fall/discussion/forum/x/threads/t', PCDAY_FLAG.forum],
    ['/courses/MITx/6.00x/2013_Spring/progress', 0], // another course
    ['/courses/MITx/6.00x/2012_Fall/courseware/ch/seq/', 0],
    ['stop_video', 0],
    ['hide_transcript', 0],
    ['seq_next', 0],
    ['edx.forum.thread.created', 0],
  ])('%s', (type, flag) => {
    expect(pcdayFlags(type, slash)).toBe(flag);
  });

  it('counts each counter per learner-day, from the flags', () => {
    const [r] = run([[0, sec(0), PCDAY_FLAG.video], [0, sec(1), PCDAY_FLAG.video], [0, sec(2), PCDAY_FLAG.problemCheck], [0, sec(3), 0]]);
    expect(r!.nevents).toBe(4);
    expect(r!.counts).toEqual({ nprogcheck: 0, nshow_answer: 0, nvideo: 2, nproblem_check: 1, nforum: 0, ntranscript: 0, nseq_goto: 0, nseek_video: 0, npause_video: 0 });
  });

  it('base events: a non-empty username and no /xblock/ in event_type (spec §5.1)', () => {
    expect(isBaseEvent('a', '/courses/A/B/C/courseware/')).toBe(true);
    expect(isBaseEvent('', 'play_video')).toBe(false);
    expect(isBaseEvent(null, 'play_video')).toBe(false);
    expect(isBaseEvent('a', '/courses/course-v1:A+B+C/xblock/block-v1:A+B+C+type@problem+block@p/handler/x')).toBe(false);
    expect(isBaseEvent('a', null)).toBe(true);
  });
});
