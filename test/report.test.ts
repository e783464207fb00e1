/**
 * The cross-course report tables of spec sql-and-person-course.md §8.2 (steps 3, 4, 6, 8, 9) on a
 * small hand-made warehouse: three courses, each with hand-written person_course, user_info_combo,
 * pcday_trlang_counts and (not all of them) course_axis and person_course_day tables. Every
 * expected row is worked out by hand in the comments.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimeMicros } from '../src/events/time.ts';
import { buildReport, combinePersonCourse, courseOrg, emailTableNames, type ReportSummary } from '../src/products/combine.ts';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { courseSchema, SHARED_SCHEMA } from '../src/warehouse/naming.ts';
import type { Cell, ColumnDef, OutputValue } from '../src/warehouse/warehouse.ts';
import { tempDir } from './helpers/logtree.ts';

const C1 = 'MITx/6.002x/2013_Spring';
const C2 = 'MITx/8.01x/2014';
// a hostile org: quotes, a statement, a comment and a non-ASCII letter
const EVIL_ORG = 'Éx"; DROP TABLE y; --';
const C3 = `${EVIL_ORG}/c/r`;
// É = UTF-8 C3 89; " 22; ; 3B; space 20; - 2D — letters and digits stay
const EVIL_TABLE = 'email_addresses__C3_89x_22_3B_20DROP_20TABLE_20y_3B_20_2D_2D';

let root: string;
let out: string;
let wh: DuckDBWarehouse;
let first: ReportSummary;
let second: ReportSummary;

const col = (name: string, type: ColumnDef['type']): ColumnDef => ({ name, type });
const t = (s: string) => parseTimeMicros(`${s}Z`);
const q = async (sql: string): Promise<OutputValue[][]> => (await wh.query(sql)).rows;

/** Every column the report's SQL reads from person_course; the ones a row leaves out are NULL. */
const PC_COLUMNS: ColumnDef[] = [
  col('course_id', 'VARCHAR'), col('user_id', 'BIGINT'), col('username', 'VARCHAR'), col('registered', 'BOOLEAN'), col('viewed', 'BOOLEAN'),
  col('explored', 'BOOLEAN'), col('certified', 'BOOLEAN'), col('ip', 'VARCHAR'), col('cc_by_ip', 'VARCHAR'), col('countryLabel', 'VARCHAR'),
  col('LoE', 'VARCHAR'), col('YoB', 'BIGINT'), col('gender', 'VARCHAR'), col('grade', 'DOUBLE'), col('start_time', 'TIMESTAMP'),
  col('last_event', 'TIMESTAMP'), col('nevents', 'BIGINT'), col('ndays_act', 'BIGINT'), col('nplay_video', 'BIGINT'), col('nchapters', 'BIGINT'),
  col('nforum_posts', 'BIGINT'), col('nforum_votes', 'BIGINT'), col('nforum_endorsed', 'BIGINT'), col('nforum_threads', 'BIGINT'),
  col('nforum_comments', 'BIGINT'), col('nforum_pinned', 'BIGINT'), col('roles', 'VARCHAR'), col('nprogcheck', 'BIGINT'), col('mode', 'VARCHAR'),
  col('is_active', 'BIGINT'), col('nshow_answer', 'BIGINT'), col('nseq_goto', 'BIGINT'), col('npause_video', 'BIGINT'), col('avg_dt', 'DOUBLE'),
  col('sum_dt', 'DOUBLE'), col('forumRoles_isStudent', 'BIGINT'),
];

interface Learner {
  user_id: number;
  username: string;
  mode?: string;
  is_active?: number;
  start?: string;
  last?: string;
  roles?: string;
  viewed?: boolean;
  certified?: boolean;
}

async function put(course: string, table: string, columns: ColumnDef[], rows: Cell[][]): Promise<void> {
  await wh.replaceTable({ schema: courseSchema(course), table }, columns, rows, { command: 'test', step: 'hand-made' });
}

async function personCourse(course: string, learners: Learner[]): Promise<void> {
  await put(course, 'person_course', PC_COLUMNS, learners.map((l) => PC_COLUMNS.map((c): Cell => {
    switch (c.name) {
      case 'course_id': return course;
      case 'user_id': return l.user_id;
      case 'username': return l.username;
      case 'registered': return true;
      case 'viewed': return l.viewed ?? false;
      case 'certified': return l.certified ?? false;
      case 'explored': return false;
      case 'mode': return l.mode ?? null;
      case 'is_active': return l.is_active ?? null;
      case 'start_time': return l.start ? t(l.start) : null;
      case 'last_event': return l.last ? t(l.last) : null;
      case 'roles': return l.roles ?? null;
      default: return null;
    }
  })));
}

const TOT: ColumnDef[] = [col('course_id', 'VARCHAR'), col('username', 'VARCHAR'), col('total_time_30', 'DOUBLE'), col('total_video_time_30', 'DOUBLE'),
  col('total_problem_time_30', 'DOUBLE'), col('total_forum_time_30', 'DOUBLE'), col('serial_video_time_30', 'DOUBLE'), col('serial_problem_time_30', 'DOUBLE'),
  col('serial_forum_time_30', 'DOUBLE')];
const UIC: ColumnDef[] = [col('user_id', 'BIGINT'), col('username', 'VARCHAR'), col('email', 'VARCHAR')];
const TRLANG: ColumnDef[] = [col('username', 'VARCHAR'), col('course_id', 'VARCHAR'), col('date', 'DATE'), col('last_time', 'TIMESTAMP'),
  col('resource', 'VARCHAR'), col('resource_event_data', 'VARCHAR'), col('resource_event_type', 'VARCHAR'), col('langcount', 'BIGINT')];
const tr = (username: string, course: string, lang: string, type: 'transcript_language' | 'transcript_download', n: number, last: string): Cell[] =>
  [username, course, last.slice(0, 10), t(last), 'video', lang, type, n];

beforeAll(async () => {
  root = tempDir('report');
  out = path.join(root, 'export');
  wh = await openDuckDBWarehouse(path.join(root, 'w.duckdb'));

  // C1: alice verified, active; bob un-enrolled (last event late on 02-04); carol verified and
  // un-enrolled; dave Staff (left out); erin has no enrollment row (no start_time); frank
  // un-enrolled but never in the logs (no last_event)
  await personCourse(C1, [
    { user_id: 1, username: 'alice', mode: 'verified', is_active: 1, start: '2013-02-01T10:00:00', last: '2013-03-02T09:30:00', viewed: true, certified: true },
    { user_id: 2, username: 'bob', mode: 'honor', is_active: 0, start: '2013-02-01T23:00:00', last: '2013-02-04T23:59:59', viewed: true },
    { user_id: 3, username: 'carol', mode: 'verified', is_active: 0, start: '2013-02-02T00:00:00', last: '2013-02-03T08:00:00' },
    { user_id: 4, username: 'dave', mode: 'verified', is_active: 0, start: '2013-02-01T12:00:00', last: '2013-02-03T08:00:00', roles: 'Staff' },
    { user_id: 5, username: 'erin' },
    { user_id: 6, username: 'frank', mode: 'honor', is_active: 0, start: '2013-02-03T05:00:00' },
  ]);
  await personCourse(C2, [
    { user_id: 1, username: 'alice', mode: 'honor', is_active: 1, start: '2014-01-05T10:00:00', last: '2014-02-01T10:00:00' },
    { user_id: 7, username: 'gina', mode: 'verified', is_active: 1, start: '2014-01-05T11:00:00', last: '2014-02-02T12:00:00' },
    { user_id: 2, username: 'bob', mode: 'honor', is_active: 1, start: '2014-01-06T09:00:00' },
  ]);
  await personCourse(C3, [
    { user_id: 1, username: 'alice', mode: 'honor', is_active: 1, start: '2015-06-01T10:00:00' },
    { user_id: 8, username: 'henry', mode: 'honor', is_active: 1, start: '2015-06-02T10:00:00', last: '2015-06-03T10:00:00' },
  ]);

  await put(C1, 'user_info_combo', UIC, [
    [1, 'alice', 'alice@x.org'], [2, 'bob', 'bob@x.org'], [3, 'carol', 'carol@x.org'], [4, 'dave', 'dave@mit.edu'],
    [5, 'erin', null], [6, 'frank', 'frank@x.org'], [9, null, 'ghost@x.org'], // no username: left out
  ]);
  await put(C2, 'user_info_combo', UIC, [[1, 'alice', 'alice@x.org'], [7, 'gina', 'gina@y.org'], [2, 'bob', 'bob@new.org']]); // bob changed his email
  await put(C3, 'user_info_combo', UIC, [[1, 'alice', 'alice@x.org'], [8, 'henry', 'henry@z.org']]);

  await put(C1, 'pcday_trlang_counts', TRLANG, [
    tr('alice', C1, 'es', 'transcript_language', 3, '2013-03-01T10:10:00'),
    tr('alice', C1, 'en', 'transcript_download', 1, '2013-03-01T10:20:00'),
    tr('bob', C1, 'en', 'transcript_language', 1, '2013-02-02T10:00:00'),
    tr('', C1, 'fr', 'transcript_language', 9, '2013-02-02T10:00:00'), // no username: left out
  ]);
  await put(C2, 'pcday_trlang_counts', TRLANG, [
    tr('alice', C2, 'en', 'transcript_language', 2, '2014-02-01T10:00:00'),
    tr('gina', C2, 'fr', 'transcript_language', 2, '2014-02-02T12:00:00'),
  ]);
  await put(C3, 'pcday_trlang_counts', TRLANG, [
    tr('gina', C3, 'de', 'transcript_language', 2, '2014-02-02T12:00:00'),
    tr('henry', C3, 'zh', 'transcript_language', 1, '2015-06-03T10:00:00'),
    tr('henry', C3, 'zh', 'transcript_download', 2, '2015-06-03T10:05:00'),
    tr('henry', C3, 'en', 'transcript_language', 2, '2015-06-03T10:10:00'),
  ]);

  // course_axis and person_course_day: C3 has neither; C2's have other columns than C1's
  await put(C1, 'course_axis', [col('category', 'VARCHAR'), col('url_name', 'VARCHAR'), col('name', 'VARCHAR'), col('course_id', 'VARCHAR')],
    [['chapter', 'ch1', 'Week 1', C1], ['video', 'v1', 'Intro', C1]]);
  await put(C2, 'course_axis', [col('course_id', 'VARCHAR'), col('category', 'VARCHAR'), col('url_name', 'VARCHAR')], [[C2, 'chapter', 'w1']]);
  await put(C1, 'person_course_day', [col('username', 'VARCHAR'), col('course_id', 'VARCHAR'), col('date', 'DATE'), col('nevents', 'BIGINT')],
    [['alice', C1, '2013-03-01', 10]]);
  await put(C2, 'person_course_day', [col('username', 'VARCHAR'), col('course_id', 'VARCHAR'), col('date', 'DATE'), col('nevents', 'BIGINT'), col('nvideo', 'BIGINT')],
    [['alice', C2, '2014-02-01', 4, 2]]);

  // time_on_task_totals (seconds) of C1 only: dave is Staff (left out), zed is not in person_course
  await put(C1, 'time_on_task_totals', TOT, [
    ['alice', 7200, 3600, 1800, null, 1800, 900, 900],
    ['bob', 3600, 1800, null, 720, 3600, null, 1800],
    ['carol', 10800, 7200, 3600, null, 5400, 1800, null],
    ['dave', 36000, 36000, 36000, 36000, 36000, 36000, 36000],
    ['frank', null, null, null, null, null, null, null],
    ['zed', 3600, 3600, 3600, 3600, 3600, 3600, 3600],
  ].map(([u, ...v]) => [C1, u!, ...v] as Cell[]));

  await combinePersonCourse(wh, [C1, C2, C3], { out, date: new Date('2015-07-01T00:00:00Z'), command: 'test' });
  first = await buildReport(wh, { out, command: 'test' });
  second = await buildReport(wh, { out, command: 'test', pcdayAllcourses: true });
});
afterAll(async () => {
  await wh?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('report: which courses and tables', () => {
  it('reads the courses of the combined person_course in sorted order, and says which lack a table', () => {
    // byte order: "M" (4D) sorts before "É" (C3 89)
    expect(second.courses).toEqual([C1, C2, C3]);
    expect(second.sources).toEqual([
      { table: 'course_axis', input: 'course_axis', used: [C1, C2], missing: [C3] },
      { table: 'person_course_day_allcourses', input: 'person_course_day', used: [C1, C2], missing: [C3] },
      { table: 'email_addresses', input: 'user_info_combo', used: [C1, C2, C3], missing: [] },
      { table: 'global_modal_lang', input: 'pcday_trlang_counts', used: [C1, C2, C3], missing: [] },
      { table: 'time_on_task_stats_by_course', input: 'time_on_task_totals', used: [C1], missing: [C2, C3] },
    ]);
    expect(second.skipped).toEqual([]);
    expect(first.skipped).toEqual(['person_course_day_allcourses: made (a view) but not exported as CSV (--pcday-allcourses exports it)']);
    expect(first.files.map((f) => f.table)).not.toContain('person_course_day_allcourses');
  });

  it('makes the unions and the latest combined person_course views, listed as such with their rows', async () => {
    const listed = new Map((await wh.listTables(SHARED_SCHEMA)).map((t) => [t.table, t]));
    expect(listed.get('person_course')?.view).toBe(true);
    expect(listed.get('person_course_2015_07_01')?.view).toBeUndefined();
    expect(listed.get('person_course')?.rows).toBe(listed.get('person_course_2015_07_01')?.rows);
    expect(listed.get('person_course_day_allcourses')).toMatchObject({ view: true, rows: 2 });
    expect(listed.get('course_axis')?.view).toBe(true);
  });

  it('exports every new table as CSV.gz', () => {
    const tables = second.files.map((f) => f.table);
    for (const tbl of ['enrollday_sql', 'course_axis', 'person_course_day_allcourses', 'email_addresses', 'email_addresses_MITx', EVIL_TABLE, 'global_modal_lang']) {
      expect(tables).toContain(tbl);
      expect(fs.existsSync(path.join(out, 'courses', `${tbl}.csv.gz`))).toBe(true);
    }
    // the header names the original's columns
    const csv = zlib.gunzipSync(fs.readFileSync(path.join(out, 'courses', 'enrollday_sql.csv.gz'))).toString().split('\r\n');
    expect(csv[0]).toBe('course_id,date,nregistered_ever,n_unregistered,nregistered_net,nregistered_ever_cum,nregistered_net_cum,'
      + 'nverified_ever,nverified_un_registered,nverified_net,nverified_ever_cum,nverified_net_cum');
    expect(csv[1]).toBe(`${C1},2013-02-01,2,0,2,2,2,1,0,1,1,1`);
  });
});

describe('course_axis and person_course_day_allcourses (§8.2 steps 3–4)', () => {
  it('unites the courses that have the table, columns aligned by name', async () => {
    // C2's course_axis has no name: NULL there
    expect(await q('SELECT category, url_name, name, course_id FROM courses.course_axis')).toEqual([
      ['chapter', 'ch1', 'Week 1', C1],
      ['video', 'v1', 'Intro', C1],
      ['chapter', 'w1', null, C2],
    ]);
    // C1's person_course_day has no nvideo
    expect(await q('SELECT username, course_id, CAST(date AS VARCHAR), nevents, nvideo FROM courses.person_course_day_allcourses')).toEqual([
      ['alice', C1, '2013-03-01', 10, null],
      ['alice', C2, '2014-02-01', 4, 2],
    ]);
  });
});

describe('email_addresses (§8.2 step 6)', () => {
  it('one row per (username, email) with the number of courses', async () => {
    // alice is in all three courses; bob has another email in C2; erin has none; the user
    // without a username is left out
    expect(await q('SELECT username, email, ncourses FROM courses.email_addresses')).toEqual([
      ['alice', 'alice@x.org', 3],
      ['bob', 'bob@new.org', 1],
      ['bob', 'bob@x.org', 1],
      ['carol', 'carol@x.org', 1],
      ['dave', 'dave@mit.edu', 1],
      ['erin', null, 1],
      ['frank', 'frank@x.org', 1],
      ['gina', 'gina@y.org', 1],
      ['henry', 'henry@z.org', 1],
    ]);
  });

  it('per institution: MITx (C1, C2) and the hostile org (C3), whose name stays a plain table name', async () => {
    expect(await q('SELECT username, email, ncourses FROM courses.email_addresses_MITx')).toEqual([
      ['alice', 'alice@x.org', 2],
      ['bob', 'bob@new.org', 1],
      ['bob', 'bob@x.org', 1],
      ['carol', 'carol@x.org', 1],
      ['dave', 'dave@mit.edu', 1],
      ['erin', null, 1],
      ['frank', 'frank@x.org', 1],
      ['gina', 'gina@y.org', 1],
    ]);
    expect(await q(`SELECT username, email, ncourses FROM courses.${EVIL_TABLE}`)).toEqual([
      ['alice', 'alice@x.org', 1],
      ['henry', 'henry@z.org', 1],
    ]);
    // nothing was dropped; the shared schema holds the expected email tables only
    expect(await q(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'courses' AND table_name LIKE 'email%' ORDER BY table_name`))
      .toEqual([['email_addresses'], ['email_addresses_MITx'], [EVIL_TABLE]]);
  });

  it('the org of a course id, and table names from untrusted orgs', () => {
    expect(courseOrg('MITx/6.002x/2013_Spring')).toBe('MITx');
    expect(courseOrg('ccx-v1:HarvardX+CS50+2T2016+ccx@3')).toBe('HarvardX');
    expect(courseOrg('plain-id')).toBe('plain-id');
    expect(courseOrg(C3)).toBe(EVIL_ORG);
    const sha8 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 8);
    const long = 'A'.repeat(70);
    const names = emailTableNames(['edX.org', 'my_org', long, 'MITx', 'mitx', EVIL_ORG, '']);
    expect(Object.fromEntries(names)).toEqual({
      'edX.org': 'email_addresses_edX_2Eorg',
      my_org: 'email_addresses_my_5Forg', // "_" is escaped too, so "my.org" could not take the same name
      [long]: `email_addresses_${'A'.repeat(54)}_h${sha8(long)}`, // 64 characters after the prefix
      MITx: `email_addresses_MITx_h${sha8('MITx')}`, // the same table name but for case: both get a hash
      mitx: `email_addresses_mitx_h${sha8('mitx')}`,
      [EVIL_ORG]: EVIL_TABLE,
      '': 'email_addresses_',
    });
  });
});

describe('global_modal_lang (§8.2 step 8)', () => {
  it('the modal transcript language over all courses, with the per-course tie-break', async () => {
    // alice: es 3 (C1, last 2013-03-01) vs en 1 download (C1) + 2 (C2) = 3, last 2014-02-01:
    //   a tie, the more recent en wins; 2 languages; 1 download in en
    // bob: en 1
    // gina: fr 2 (C2) and de 2 (C3), both last used 2014-02-02 12:00: the smaller code, de
    // henry: zh 1 + 2 downloads = 3 beats en 2; 2 downloads
    // the row without a username is left out
    expect(await q('SELECT username, modal_language, langcount, n_different_lang, language_download FROM courses.global_modal_lang')).toEqual([
      ['alice', 'en', 3, 2, 1],
      ['bob', 'en', 1, 1, 0],
      ['gina', 'de', 2, 2, 0],
      ['henry', 'zh', 3, 2, 2],
    ]);
  });
});

describe('enrollday_sql (§8.2 step 9)', () => {
  it('registrations by start_time, de-registrations by last_event, net and running sums, all and verified', async () => {
    // C1 learners (dave is Staff): registrations 02-01 alice (verified) + bob, 02-02 carol
    // (verified), 02-03 frank; erin has no start_time. De-registrations: carol on 02-03
    // (verified), bob on 02-04 (23:59:59 is still that day); frank has no last_event.
    //   date        reg unreg net ever_cum net_cum | v  vunreg vnet v_cum vnet_cum
    //   2013-02-01   2    0    2     2       2     | 1    0     1    1      1
    //   2013-02-02   1    0    1     3       3     | 1    0     1    2      2
    //   2013-02-03   1    1    0     4       3     | 0    1    -1    2      1
    //   2013-02-04   0    1   -1     4       2     | 0    0     0    2      1
    // C2: 2014-01-05 alice + gina (verified), 2014-01-06 bob. C3: 2015-06-01 alice, 06-02 henry.
    expect(await q('SELECT course_id, CAST(date AS VARCHAR), * EXCLUDE (course_id, date) FROM courses.enrollday_sql')).toEqual([
      [C1, '2013-02-01', 2, 0, 2, 2, 2, 1, 0, 1, 1, 1],
      [C1, '2013-02-02', 1, 0, 1, 3, 3, 1, 0, 1, 2, 2],
      [C1, '2013-02-03', 1, 1, 0, 4, 3, 0, 1, -1, 2, 1],
      [C1, '2013-02-04', 0, 1, -1, 4, 2, 0, 0, 0, 2, 1],
      [C2, '2014-01-05', 2, 0, 2, 2, 2, 1, 0, 1, 1, 1],
      [C2, '2014-01-06', 1, 0, 1, 3, 3, 0, 0, 0, 1, 1],
      [C3, '2015-06-01', 1, 0, 1, 1, 1, 0, 0, 0, 0, 0],
      [C3, '2015-06-02', 1, 0, 1, 2, 2, 0, 0, 0, 0, 0],
    ]);
    const types = (await wh.query('SELECT * FROM courses.enrollday_sql LIMIT 0')).columns.map((c) => c.type);
    expect(types).toEqual(['VARCHAR', 'DATE', ...Array(10).fill('BIGINT')]);
  });
});

describe('time_on_task_stats_by_course and time_on_task_serial_stats_by_course (§8.2 step 10)', () => {
  // C1's learners with a time_on_task_totals row (hours): alice (viewed, certified, verified):
  // total 2, video 1, problem 0.5, forum NULL, serial video 0.5 / problem 0.25 / forum 0.25;
  // bob (viewed, honor): 1, 0.5, NULL, 0.2, serial 1 / NULL / 0.5; carol (verified, not viewed):
  // 3, 2, 1, NULL, serial 1.5 / 0.5 / NULL; frank: all NULL. Medians are the lower middle value.
  const row = async (table: string): Promise<Record<string, OutputValue>> => {
    const r = await wh.query(`SELECT * FROM courses.${table}`);
    expect(r.rows).toHaveLength(1);
    return Object.fromEntries(r.columns.map((c, k) => [c.name, r.rows[0]![k]!]));
  };
  const expectRow = (got: Record<string, OutputValue>, want: Record<string, number | null>) => {
    expect(Object.keys(got)).toEqual(['course_id', ...Object.keys(want)]);
    expect(got.course_id).toBe(C1);
    for (const [k, v] of Object.entries(want)) {
      if (v === null) expect(got[k], k).toBeNull();
      else expect(got[k] as number, k).toBeCloseTo(v, 12);
    }
  };
  const block = (h: string, pops: Record<string, [number | null, number | null, number | null, number | null]>) =>
    Object.fromEntries(Object.entries(pops).flatMap(([suffix, v]) => ['total', 'problem', 'video', 'forum'].map((x, i) => [`${suffix.startsWith('median') ? 'median' : 'sum'}_${x}_${h}${suffix.replace(/^(sum|median)/, '')}`, v[i]!])));

  it('sums and medians of the total (parallel) hours per population', async () => {
    expectRow(await row('time_on_task_stats_by_course'), block('hours', {
      sum: [6, 1.5, 3.5, 0.2], sum_viewed: [3, 0.5, 1.5, 0.2], sum_certified: [2, 0.5, 1, null], sum_verified: [5, 1.5, 3, null],
      median: [2, 0.5, 1, 0.2], median_viewed: [1, 0.5, 0.5, 0.2], median_certified: [2, 0.5, 1, null], median_verified: [2, 0.5, 1, null],
    }));
  });

  it('the serial variant: total hours as before, the categories from the serial times', async () => {
    expectRow(await row('time_on_task_serial_stats_by_course'), block('serial_hours', {
      sum: [6, 0.75, 3, 0.75], sum_viewed: [3, 0.25, 1.5, 0.75], sum_certified: [2, 0.25, 0.5, 0.25], sum_verified: [5, 0.75, 2, 0.25],
      median: [2, 0.25, 1, 0.25], median_viewed: [1, 0.25, 0.5, 0.25], median_certified: [2, 0.25, 0.5, 0.25], median_verified: [2, 0.25, 0.5, 0.25],
    }));
  });
});

// last in the file: it rewrites the report tables for a subset of the courses
describe('report of some courses only', () => {
  it('reads only the courses asked for, and refuses a course the combined person_course lacks', async () => {
    const r = await buildReport(wh, { out, command: 'test', courses: [C2] });
    expect(r.courses).toEqual([C2]);
    expect(r.result.rows.map((row) => row[0])).toEqual([C2]);
    // C2's learners: alice, gina, bob, all with (username, email) rows in C2's user_info_combo only
    expect(await q('SELECT username, email, ncourses FROM courses.email_addresses ORDER BY username')).toEqual([
      ['alice', 'alice@x.org', 1], ['bob', 'bob@new.org', 1], ['gina', 'gina@y.org', 1],
    ]);
    expect(await q('SELECT DISTINCT course_id FROM courses.enrollday_sql')).toEqual([[C2]]);
    await expect(buildReport(wh, { out, command: 'test', courses: [C2, 'MITx/none/x'] })).rejects.toThrow(/not in the combined person_course.*MITx\/none\/x/);
  });
});
