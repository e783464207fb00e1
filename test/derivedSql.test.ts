/**
 * The SQL steps of sql/*.sql on hand-made per-date rows (DuckDB, real). Expected values are
 * worked out by hand from spec tracking-logs.md §5.2–§5.4, §8.5 and §9.4 (REC).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENROLLMENT_EVENTS_COLUMNS, FORUM_EVENTS_COLUMNS, PCDAY_INTRADAY_COLUMNS, TRANSCRIPT_EVENTS_COLUMNS, VIDEO_STATS_DAY_COLUMNS } from '../src/aggregate/tables.ts';
import { DERIVED_TABLES } from '../src/aggregate/loadFacts.ts';
import { parseTimeMicros } from '../src/events/time.ts';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { renderSqlFile } from '../src/warehouse/sqlFile.ts';
import type { Cell, ColumnDef, OutputValue } from '../src/warehouse/warehouse.ts';
import { tempDir } from './helpers/logtree.ts';

const S = 'A__B__C';
const C = 'A/B/C';
const t = (s: string) => parseTimeMicros(`2015-03-${s}Z`);
let dir: string;
let wh: DuckDBWarehouse;

async function load(table: string, columns: ColumnDef[], rows: Cell[][]): Promise<void> {
  await wh.replaceTable({ schema: S, table }, columns, rows, { command: 'test', step: 'hand-made rows' });
}

async function rows(sql: string): Promise<Record<string, OutputValue>[]> {
  const r = await wh.query(sql);
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]!])));
}

const counters = (o: Partial<Record<string, number>> = {}) =>
  ['nprogcheck', 'nshow_answer', 'nvideo', 'nproblem_check', 'nforum', 'ntranscript', 'nseq_goto', 'nseek_video', 'npause_video'].map((n) => o[n] ?? 0);

beforeAll(async () => {
  dir = tempDir('derived');
  wh = await openDuckDBWarehouse(path.join(dir, 'w.duckdb'));
  // pcday_intraday: gap statistics within each day only (what loadFacts writes)
  await load('pcday_intraday', PCDAY_INTRADAY_COLUMNS, [
    // alice 03-01: 23:50:00 … 23:59:00, intra-day gaps 60 and 480 (dropped) → n 1, Σ 60, Σ² 3600
    ['alice', C, '2015-03-01', 3, ...counters({ nvideo: 2 }), t('01T23:50:00'), t('01T23:59:00'), 1, 60, 3600, 60],
    // alice 03-02: first event 00:03:00 (240 s after 23:59:00: added here), then gaps 20, 40
    ['alice', C, '2015-03-02', 3, ...counters(), t('02T00:03:00'), t('02T00:04:00'), 2, 60, 2000, 40],
    // alice 03-04: 03-03 has no row, so the previous active day is 03-02; its gap (> 300 s) is not added
    ['alice', C, '2015-03-04', 1, ...counters(), t('04T00:00:10'), t('04T00:00:10'), 0, null, null, null],
    // bob 03-02: first event 00:00:01, but bob has no earlier day
    ['bob', C, '2015-03-02', 2, ...counters({ nforum: 2 }), t('02T00:00:01'), t('02T00:05:01'), 1, 300, 90000, 300],
  ]);
  await load('video_stats_day', VIDEO_STATS_DAY_COLUMNS, [
    ['2015-03-01', 'alice', 'v1', 30.5, 1, 1, 0, 1.5, C],
    ['2015-03-01', 'alice', 'v2', null, 1, 0, 0, null, C], // null position counts 0
    ['2015-03-01', 'alice', null, 10, 1, 0, 0, null, C], // null id: not a distinct video
    ['2015-03-02', 'carol', 'v1', 99, 1, 0, 0, null, C], // no base events that day: no pcday row
  ]);
  const forum = (time: string, user: string, action: string, thread: string | null): Cell[] => [time.slice(0, 10), parseTimeMicros(`${time}Z`), user, C, action, thread, null, null, null, null];
  await load('forum_events', FORUM_EVENTS_COLUMNS, [
    forum('2015-03-02T00:00:01', 'bob', 'read', 't1'),
    forum('2015-03-02T00:01:00', 'bob', 'read_inline', 't1'),
    forum('2015-03-02T00:02:00', 'bob', 'reply', 't2'),
    forum('2015-03-02T00:03:00', 'bob', 'created_thread', null),
    forum('2015-03-02T00:04:00', 'bob', 'upvote', 't3'), // neither a read nor a post
  ]);
  const tr = (time: string, user: string, type: string, lang: string | null): Cell[] => [time.slice(0, 10), parseTimeMicros(`${time}Z`), user, C, type, lang];
  await load('transcript_events', TRANSCRIPT_EVENTS_COLUMNS, [
    tr('2015-03-01T10:00:00', 'alice', 'transcript_download', null), // nothing before: en
    tr('2015-03-01T10:05:00', 'alice', 'transcript_language', 'es'),
    tr('2015-03-01T10:06:00', 'alice', 'transcript_download', null), // after a translation: es
    tr('2015-03-01T10:06:00', 'alice', 'transcript_download', null), // identical: collapsed with the one above, so its previous row is still es
    tr('2015-03-02T09:00:00', 'alice', 'transcript_download', null), // previous row (03-01 10:06) was a download: en
    tr('2015-03-01T11:00:00', '', 'transcript_download', null), // empty username: left out
  ]);
  const en = (time: string, user: number, mode: string, a: boolean, d: boolean, mc: boolean): Cell[] => [time.slice(0, 10), C, parseTimeMicros(`${time}Z`), user, mode, a, d, mc, false, 'edx.course.enrollment.x'];
  await load('enrollment_events', ENROLLMENT_EVENTS_COLUMNS, [
    en('2015-03-01T10:00:00', 1, 'honor', true, false, false),
    en('2015-03-02T10:00:00', 1, 'verified', false, false, true), // upgraded: enroll
    en('2015-03-05T10:00:00', 1, 'verified', false, true, false), // verified unenroll
    en('2015-03-01T08:00:00', 2, 'verified', true, false, false), // activated as verified (REC: counts)
    en('2015-03-01T07:00:00', 3, 'verified', false, true, false), // only an unenroll: no row (REC)
  ]);
  await wh.createTablesAs(DERIVED_TABLES.map((table) => ({ table: { schema: S, table }, selectSql: renderSqlFile(table, wh.dialect, S), provenance: { command: 'test', step: table } })));
});
afterAll(async () => {
  await wh.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('sql/person_course_day.sql', () => {
  it('adds the gap from the previous active day (≤ 300 s) and pools the statistics exactly', async () => {
    const r = await rows(`SELECT username, strftime(date, '%m-%d') AS d, n_dt, sum_dt, max_dt, avg_dt, sdv_dt, sumsq_dt FROM ${S}.person_course_day ORDER BY username, date`);
    expect(r[0]).toEqual({ username: 'alice', d: '03-01', n_dt: 1, sum_dt: 60, max_dt: 60, avg_dt: 60, sdv_dt: null, sumsq_dt: 3600 });
    // 03-02: gaps 240 (across midnight), 20, 40 → n 3, Σ 300, Σ² 57600 + 400 + 1600 = 59600, max 240,
    // mean 100, sample variance (59600 − 300²/3) / 2 = (59600 − 30000) / 2 = 14800
    expect(r[1]).toMatchObject({ username: 'alice', d: '03-02', n_dt: 3, sum_dt: 300, max_dt: 240, avg_dt: 100, sumsq_dt: 59600 });
    expect(r[1]!.sdv_dt as number).toBeCloseTo(Math.sqrt(14800), 9);
    expect(r[2]).toEqual({ username: 'alice', d: '03-04', n_dt: 0, sum_dt: null, max_dt: null, avg_dt: null, sdv_dt: null, sumsq_dt: null });
    expect(r[3]).toMatchObject({ username: 'bob', d: '03-02', n_dt: 1, sum_dt: 300, max_dt: 300, sdv_dt: null });
  });

  it('counts videos and forum actions of the learner-day; no row without base events', async () => {
    const r = await rows(`SELECT username, strftime(date, '%m-%d') AS d, nvideo, nforum, nvideos_viewed, nvideos_watched_sec, nforum_reads, nforum_posts, nforum_threads, nproblems_answered FROM ${S}.person_course_day ORDER BY username, date`);
    expect(r.map((x) => x.username)).toEqual(['alice', 'alice', 'alice', 'bob']);
    // v1 and v2 (the null id is not a video); positions 30.5 + 0 + 10
    expect(r[0]).toMatchObject({ nvideo: 2, nvideos_viewed: 2, nvideos_watched_sec: 40.5, nforum_reads: 0 });
    // reads: read + read_inline; posts: reply + created_thread; threads: t1, t2 (upvote's t3 is neither)
    expect(r[3]).toMatchObject({ nforum: 2, nforum_reads: 2, nforum_posts: 2, nforum_threads: 2, nvideos_viewed: 0, nproblems_answered: 0 });
  });
});

describe('sql/pcday_trlang_counts.sql', () => {
  it('gives a download the language of the previous translation, else en; collapses identical events', async () => {
    const r = await rows(`SELECT username, strftime(date, '%m-%d') AS d, resource, resource_event_data AS lang, resource_event_type AS type, langcount, strftime(last_time, '%H:%M') AS last FROM ${S}.pcday_trlang_counts ORDER BY d, lang, type`);
    expect(r).toEqual([
      { username: 'alice', d: '03-01', resource: 'video', lang: 'en', type: 'transcript_download', langcount: 1, last: '10:00' },
      { username: 'alice', d: '03-01', resource: 'video', lang: 'es', type: 'transcript_download', langcount: 2, last: '10:06' },
      { username: 'alice', d: '03-01', resource: 'video', lang: 'es', type: 'transcript_language', langcount: 1, last: '10:05' },
      { username: 'alice', d: '03-02', resource: 'video', lang: 'en', type: 'transcript_download', langcount: 1, last: '09:00' },
    ]);
  });
});

describe('sql/person_enrollment_verified.sql', () => {
  it('enroll = first activated-or-upgraded as verified, unenroll = last verified deactivation after it (REC)', async () => {
    const r = await rows(`SELECT user_id, strftime(verified_enroll_time, '%m-%d') AS enroll, strftime(verified_unenroll_time, '%m-%d') AS unenroll FROM ${S}.person_enrollment_verified ORDER BY user_id`);
    expect(r).toEqual([
      { user_id: 1, enroll: '03-02', unenroll: '03-05' },
      { user_id: 2, enroll: '03-01', unenroll: null },
    ]);
  });
});
