/**
 * The per-course tables loaded from the facts, one row set per UTC date (the replace key), and
 * the functions that compute their rows for a set of dates from the merged facts of every input
 * holding events of those dates. Column names follow edx2bigquery; `date` is added to the event
 * tables as the replace key (docs/deviations.md).
 */
import { MICROS_PER_DAY, utcDateOfMicros } from '../events/time.ts';
import type { Cell, ColumnDef, ColumnValues, RowData } from '../warehouse/warehouse.ts';
import { NULL_STRING, VIDEO_TYPES, type CourseFacts } from './facts.ts';
import { PCDAY_COUNTERS } from './pcdayEvent.ts';
import { computePersonDay, timeOrder } from './personDay.ts';
import { TIME_ON_TASK_INTRADAY_COLUMNS, timeOnTaskIntradayRows } from './timeOnTask.ts';

export interface LoadedTable {
  name: string;
  columns: ColumnDef[];
  rows: RowData;
}

const col = (name: string, type: ColumnDef['type']): ColumnDef => ({ name, type });

export const PCDAY_INTRADAY_COLUMNS: ColumnDef[] = [
  col('username', 'VARCHAR'), col('course_id', 'VARCHAR'), col('date', 'DATE'), col('nevents', 'BIGINT'),
  ...PCDAY_COUNTERS.map(([name]) => col(name, 'BIGINT')),
  col('first_event', 'TIMESTAMP'), col('last_event', 'TIMESTAMP'),
  col('n_dt', 'BIGINT'), col('sum_dt', 'DOUBLE'), col('sumsq_dt', 'DOUBLE'), col('max_dt', 'DOUBLE'),
];

export const IP_COUNTS_COLUMNS: ColumnDef[] = [col('username', 'VARCHAR'), col('ip', 'VARCHAR'), col('date', 'DATE'), col('ipcount', 'BIGINT'), col('course_id', 'VARCHAR')];

export const VIDEO_STATS_DAY_COLUMNS: ColumnDef[] = [
  col('date', 'DATE'), col('username', 'VARCHAR'), col('video_id', 'VARCHAR'), col('position', 'DOUBLE'),
  col('nplay', 'BIGINT'), col('npause', 'BIGINT'), col('nstop', 'BIGINT'), col('max_speed', 'DOUBLE'), col('course_id', 'VARCHAR'),
];

export const FORUM_EVENTS_COLUMNS: ColumnDef[] = [
  col('date', 'DATE'), col('time', 'TIMESTAMP'), col('username', 'VARCHAR'), col('course_id', 'VARCHAR'), col('forum_action', 'VARCHAR'),
  col('thread_id', 'VARCHAR'), col('subject', 'VARCHAR'), col('target_user_id', 'VARCHAR'), col('search_query', 'VARCHAR'), col('event_GET', 'VARCHAR'),
];

export const PROBLEM_CHECK_COLUMNS: ColumnDef[] = [
  col('date', 'DATE'), col('time', 'TIMESTAMP'), col('username', 'VARCHAR'), col('course_id', 'VARCHAR'), col('module_id', 'VARCHAR'),
  col('student_answers', 'VARCHAR'), col('attempts', 'BIGINT'), col('success', 'VARCHAR'), col('grade', 'DOUBLE'), col('max_grade', 'DOUBLE'),
];

export const SHOW_ANSWER_COLUMNS: ColumnDef[] = [col('date', 'DATE'), col('time', 'TIMESTAMP'), col('username', 'VARCHAR'), col('course_id', 'VARCHAR'), col('module_id', 'VARCHAR')];

export const ENROLLMENT_EVENTS_COLUMNS: ColumnDef[] = [
  col('date', 'DATE'), col('course_id', 'VARCHAR'), col('time', 'TIMESTAMP'), col('user_id', 'BIGINT'), col('mode', 'VARCHAR'),
  col('activated', 'BOOLEAN'), col('deactivated', 'BOOLEAN'), col('mode_changed', 'BOOLEAN'), col('upgraded', 'BOOLEAN'), col('event_type', 'VARCHAR'),
];

/** The candidates of spec §9.4, one row per event; pcday_trlang_counts is derived from them in SQL. */
export const TRANSCRIPT_EVENTS_COLUMNS: ColumnDef[] = [
  col('date', 'DATE'), col('time', 'TIMESTAMP'), col('username', 'VARCHAR'), col('course_id', 'VARCHAR'), col('resource_event_type', 'VARCHAR'), col('language', 'VARCHAR'),
];

/** Merged facts of one course, restricted to some dates. */
export interface DayFacts {
  course: string;
  /** Days since the epoch being (re)computed. */
  days: ReadonlySet<number>;
  facts: readonly CourseFacts[];
}

const dayOf = (us: number) => Math.floor(us / MICROS_PER_DAY);
const dateOfDay = (d: number) => utcDateOfMicros(d * MICROS_PER_DAY);
const orNull = (v: number) => (Number.isNaN(v) ? null : v);

/** Strings of several facts tables, re-interned into one table (for grouping by value). */
class StringUnion {
  readonly values: (string | null)[] = [];
  private readonly index = new Map<string | null, number>();
  id(s: string | null): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(s);
      this.index.set(s, i);
    }
    return i;
  }
  mapper(f: CourseFacts): (i: number) => number {
    const map = f.strings.map((s) => this.id(s));
    const nullId = this.id(null);
    return (i) => (i === NULL_STRING ? nullId : map[i]!);
  }
}

/** One string union for all of a DayFacts' tables: each batch's strings are mapped once. */
interface Interned {
  strings: StringUnion;
  maps: ((i: number) => number)[];
}

function intern(d: DayFacts): Interned {
  const strings = new StringUnion();
  return { strings, maps: d.facts.map((f) => strings.mapper(f)) };
}

/** The base events of the asked dates, gathered from every batch, and their (learner, time) order. */
interface BaseEvents {
  names: (string | null)[];
  columns: { user: number[]; timeUs: number[]; flags: number[] };
  order: Uint32Array;
}

function baseEvents(d: DayFacts, interned: Interned): BaseEvents {
  const user: number[] = [];
  const timeUs: number[] = [];
  const flags: number[] = [];
  d.facts.forEach((f, fi) => {
    const re = interned.maps[fi]!;
    const b = f.base;
    for (let i = 0; i < b.user.length; i++) {
      if (!d.days.has(dayOf(b.time[i]!))) continue;
      user.push(re(b.user[i]!));
      timeUs.push(b.time[i]!);
      flags.push(b.flags[i]!);
    }
  });
  const columns = { user, timeUs, flags };
  return { names: interned.strings.values, columns, order: timeOrder(columns) };
}

export function pcdayIntradayRows(d: DayFacts, interned: Interned = intern(d), base: BaseEvents = baseEvents(d, interned)): Cell[][] {
  const rows = computePersonDay(d.course, base.names as string[], base.columns, undefined, { resetAtMidnight: true, order: base.order });
  return rows.map((r) => [
    r.username, r.course_id, r.date, r.nevents, ...PCDAY_COUNTERS.map(([name]) => r.counts[name]),
    r.firstEventUs, r.lastEventUs, r.n_dt, r.sum_dt, r.n_dt > 0 ? r.sumsq_dt : null, r.max_dt,
  ]);
}

/** time_on_task_intraday (timeOnTask.ts): per learner-day, the sums within the day and the ends the SQL chains. */
export function timeOnTaskIntraday(d: DayFacts, interned: Interned = intern(d), base: BaseEvents = baseEvents(d, interned)): { columns: ColumnValues[] } {
  return timeOnTaskIntradayRows(d.course, base.names, base.columns, base.order);
}

/** (a, b) → one number: both are string ids below 2^26, so the key stays an exact integer. */
const pairKey = (a: number, b: number) => a * 2 ** 26 + b;
const pairOf = (key: number): [number, number] => {
  const b = key % 2 ** 26;
  return [(key - b) / 2 ** 26, b];
};

/** day → pair key → value, for grouping without string keys. */
function dayMaps<V>(): { get(day: number, key: number): V | undefined; set(day: number, key: number, v: V): void; entries(): Generator<[number, number, V]> } {
  const byDay = new Map<number, Map<number, V>>();
  return {
    get: (day, key) => byDay.get(day)?.get(key),
    set(day, key, v) {
      let m = byDay.get(day);
      if (m === undefined) byDay.set(day, (m = new Map()));
      m.set(key, v);
    },
    *entries() {
      for (const [day, m] of byDay) for (const [key, v] of m) yield [day, key, v];
    },
  };
}

function checkStringCount(u: StringUnion): void {
  if (u.values.length >= 2 ** 26) throw new Error('more than 2^26 distinct strings in one load window');
}

export function ipCountRows(d: DayFacts, interned: Interned = intern(d)): Cell[][] {
  const strings = interned.strings;
  const counts = dayMaps<number>();
  d.facts.forEach((f, fi) => {
    const re = interned.maps[fi]!;
    const ip = f.ip;
    for (let i = 0; i < ip.user.length; i++) {
      const day = ip.day[i]!;
      if (!d.days.has(day)) continue;
      const key = pairKey(re(ip.user[i]!), re(ip.ip[i]!));
      counts.set(day, key, (counts.get(day, key) ?? 0) + ip.count[i]!);
    }
  });
  checkStringCount(strings);
  const rows: Cell[][] = [];
  for (const [day, key, n] of counts.entries()) {
    const [u, ip] = pairOf(key);
    rows.push([strings.values[u]!, strings.values[ip]!, dateOfDay(day), n, d.course]);
  }
  return rows;
}

/**
 * video_stats_day (spec §7.2, REC): per (learner, video, day) of play / pause / stop events, the
 * highest `currentTime` (no speed multiplication), the count of each type and the highest speed.
 * Empty usernames are kept, as in the original; seek events make no rows.
 */
export function videoStatsDayRows(d: DayFacts, interned: Interned = intern(d)): Cell[][] {
  const strings = interned.strings;
  const SEEK = VIDEO_TYPES.indexOf('seek');
  const acc = dayMaps<{ position: number; n: [number, number, number]; speed: number }>();
  d.facts.forEach((f, fi) => {
    const re = interned.maps[fi]!;
    const v = f.video;
    for (let i = 0; i < v.user.length; i++) {
      const day = dayOf(v.time[i]!);
      const type = v.type[i]!;
      if (type === SEEK || !d.days.has(day)) continue;
      const key = pairKey(re(v.user[i]!), re(v.video[i]!));
      let a = acc.get(day, key);
      if (a === undefined) acc.set(day, key, (a = { position: NaN, n: [0, 0, 0], speed: NaN }));
      a.n[type as 0 | 1 | 2]++;
      const p = v.position[i]!;
      if (!Number.isNaN(p) && !(p <= a.position)) a.position = p;
      const s = v.speed[i]!;
      if (!Number.isNaN(s) && !(s <= a.speed)) a.speed = s;
    }
  });
  checkStringCount(strings);
  const rows: Cell[][] = [];
  for (const [day, key, a] of acc.entries()) {
    const [u, video] = pairOf(key);
    rows.push([dateOfDay(day), strings.values[u]!, strings.values[video]!, orNull(a.position), a.n[0], a.n[1], a.n[2], orNull(a.speed), d.course]);
  }
  return rows;
}

/**
 * The rows of one compact table, in time order, ties in the order of their values: the batches
 * hold them in an order that depends on the chunking (a chunk's lines whose facts were built in
 * native code come before those JavaScript read), and the table's must not.
 */
function eventRows<R extends { timeUs: number; username: string | null }>(d: DayFacts, pick: (f: CourseFacts) => readonly R[], cells: (r: R) => Cell[]): Cell[][] {
  const rows: Array<{ timeUs: number; cells: Cell[] }> = [];
  for (const f of d.facts) for (const r of pick(f)) if (d.days.has(dayOf(r.timeUs))) rows.push({ timeUs: r.timeUs, cells: [utcDateOfMicros(r.timeUs), ...cells(r)] });
  rows.sort((a, b) => a.timeUs - b.timeUs || compareCells(a.cells, b.cells));
  return rows.map((r) => r.cells);
}

/** A total order of rows of the same columns (null first, then by value; these cells are strings, numbers, booleans and nulls). */
function compareCells(a: readonly Cell[], b: readonly Cell[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === null || x === undefined) return -1;
    if (y === null || y === undefined) return 1;
    const c = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x < typeof y ? -1 : 1;
    if (c !== 0) return c;
  }
  return 0;
}

/** Every per-date table of one course for the given dates. */
export function loadedTables(d: DayFacts): LoadedTable[] {
  const c = d.course;
  const interned = intern(d);
  const base = baseEvents(d, interned);
  return [
    { name: 'pcday_intraday', columns: PCDAY_INTRADAY_COLUMNS, rows: pcdayIntradayRows(d, interned, base) },
    { name: 'time_on_task_intraday', columns: TIME_ON_TASK_INTRADAY_COLUMNS, rows: timeOnTaskIntraday(d, interned, base) },
    { name: 'pcday_ip_counts', columns: IP_COUNTS_COLUMNS, rows: ipCountRows(d, interned) },
    { name: 'video_stats_day', columns: VIDEO_STATS_DAY_COLUMNS, rows: videoStatsDayRows(d, interned) },
    {
      name: 'forum_events', columns: FORUM_EVENTS_COLUMNS,
      rows: eventRows(d, (f) => f.forum, (r) => [r.timeUs, r.username, c, r.forum_action, r.thread_id, r.subject, r.target_user_id, r.search_query, r.event_GET]),
    },
    {
      name: 'problem_check', columns: PROBLEM_CHECK_COLUMNS,
      rows: eventRows(d, (f) => f.problemCheck, (r) => [r.timeUs, r.username, c, r.module_id, r.student_answers, r.attempts, r.success, r.grade, r.max_grade]),
    },
    { name: 'show_answer', columns: SHOW_ANSWER_COLUMNS, rows: eventRows(d, (f) => f.showAnswer, (r) => [r.timeUs, r.username, c, r.module_id]) },
    {
      name: 'enrollment_events', columns: ENROLLMENT_EVENTS_COLUMNS,
      rows: eventRows(d, (f) => f.enrollment, (r) => [c, r.timeUs, r.user_id, r.mode, r.activated, r.deactivated, r.mode_changed, r.upgraded, r.event_type]),
    },
    { name: 'transcript_events', columns: TRANSCRIPT_EVENTS_COLUMNS, rows: eventRows(d, (f) => f.transcript, (r) => [r.timeUs, r.username, c, r.type, r.language]) },
  ];
}
