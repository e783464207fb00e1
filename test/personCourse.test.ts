/**
 * person_course on a small hand-made course: a dump loaded by setup-sql, hand-made log tables,
 * course axis and grading policy. Every expected value is worked out by hand from spec
 * sql-and-person-course.md §6 (REC) in the comments; the schema is checked against
 * ../shared/schemas/person_course.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDump } from '../src/dump/setupSql.ts';
import { csvLine } from '../src/dump/tsv.ts';
import { parseTimeMicros } from '../src/events/time.ts';
import { buildPersonCourse, buildPersonCourses, type PersonCourseSummary } from '../src/products/personCourse.ts';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import type { Cell, ColumnDef, OutputValue } from '../src/warehouse/warehouse.ts';
import { tempDir } from './helpers/logtree.ts';

const COURSE = 'MITx/6.002x/2013_Spring';
const S = 'MITx__6_002x__2013_Spring';
const SCHEMA_FILE = path.resolve(import.meta.dirname, '../../shared/schemas/person_course.json');
let root: string;
let wh: DuckDBWarehouse;
let summary: PersonCourseSummary;
let rows: Record<string, Record<string, OutputValue>>;

function csv(dir: string, name: string, header: string[], data: (string | null)[][]): void {
  fs.writeFileSync(path.join(dir, `${name}.csv.gz`), zlib.gzipSync([header, ...data].map(csvLine).join('')));
}
const col = (name: string, type: ColumnDef['type']): ColumnDef => ({ name, type });
const t = (s: string) => parseTimeMicros(`${s}Z`);

beforeAll(async () => {
  root = tempDir('pc');
  const dump = path.join(root, 'dump');
  fs.mkdirSync(dump, { recursive: true });
  csv(dump, 'users', ['id', 'username', 'email', 'is_staff', 'last_login', 'date_joined'], [
    ['1', 'alice', 'alice@Example.org', '0', null, '2013-01-01 00:00:00'],
    ['2', 'bob', 'bob@mit.edu', '0', null, '2013-01-01 00:00:00'], // never in the logs
    ['4', 'dave', 'dave@a@b.org', '0', null, '2013-01-01 00:00:00'], // un-enrolled staff; two @
    ['5', 'eve', 'no-at-sign', '0', null, '2013-01-01 00:00:00'],
  ]);
  csv(dump, 'profiles', ['id', 'user_id', 'name', 'gender', 'year_of_birth', 'level_of_education', 'country'], [
    ['1', '1', 'Alice', 'f', '1990', 'b', 'US'],
    ['2', '2', 'Bob', '', null, 'hs', null],
  ]);
  csv(dump, 'enrollment', ['id', 'user_id', 'course_id', 'created', 'is_active', 'mode'], [
    ['1', '1', COURSE, '2013-02-01 10:00:00', '1', 'verified'],
    ['2', '2', COURSE, '2013-02-01 11:00:00', '1', 'honor'],
    ['4', '4', COURSE, '2013-02-01 12:00:00', '0', 'honor'],
    ['5', '5', COURSE, '2013-02-01 13:00:00', '1', 'audit'],
  ]);
  csv(dump, 'certificates', ['id', 'user_id', 'grade', 'course_id', 'status', 'created_date', 'modified_date', 'mode'], [
    ['1', '1', '0.84', COURSE, 'downloadable', '2013-06-01 00:00:00', '2013-06-02 00:00:00', 'verified'],
    ['3', '3', '0.55', COURSE, 'notpassing', '2013-06-01 00:00:00', '2013-06-01 00:00:00', 'honor'], // carol: certificate only
  ]);
  csv(dump, 'rolecourse', ['user_id', 'course_id', 'role'], [['4', COURSE, 'staff']]);
  csv(dump, 'roleforum', ['user_id', 'course_id', 'name'], [['1', COURSE, 'Student']]);
  csv(dump, 'studentmodule', ['id', 'module_type', 'module_id', 'student_id', 'state', 'grade', 'created', 'modified', 'max_grade', 'done', 'course_id'], [
    ['1', 'chapter', 'i4x://MITx/6.002x/chapter/c1', '1', '{}', null, null, null, null, 'na', COURSE],
    ['2', 'chapter', 'i4x://MITx/6.002x/chapter/c2', '1', '{}', null, null, null, null, 'na', COURSE],
    ['3', 'chapter', 'i4x://MITx/6.002x/chapter/c2', '1', '{}', null, null, null, null, 'na', COURSE], // same chapter again
    ['4', 'chapter', 'i4x://MITx/6.002x/chapter/c1', '2', '{}', null, null, null, null, 'na', COURSE],
    ['5', 'problem', 'i4x://MITx/6.002x/problem/p1', '2', '{}', '1', null, null, '1', 'na', COURSE],
  ]);
  fs.writeFileSync(path.join(dump, 'forum.mongo.gz'), zlib.gzipSync('{"_id":{"$oid":"t1"},"_type":"CommentThread","course_id":"MITx/6.002x/2013_Spring","title":"Q","body":"b","author_id":"1","author_username":"alice","pinned":true,"votes":{"count":2,"point":2,"up":[],"down":[],"up_count":2,"down_count":0},"created_at":{"$date":1362132000000}}\n'));
  wh = await openDuckDBWarehouse(path.join(root, 'w.duckdb'));
  await loadDump(wh, COURSE, dump, 'test');
  const put = (table: string, columns: ColumnDef[], data: Cell[][]) => wh.replaceTable({ schema: S, table }, columns, data, { command: 'test', step: 'hand-made' });
  // 4 chapters (explored needs floor(4/2) = 2), 2 videos
  await put('course_axis', [col('category', 'VARCHAR'), col('url_name', 'VARCHAR')], [['chapter', 'c1'], ['chapter', 'c2'], ['chapter', 'c3'], ['chapter', 'c4'], ['video', 'v1'], ['video', 'v2']]);
  // cutoffs Pass 0.5 and A 0.9: REC passing_grade = the lowest, 0.5
  await put('grading_policy', [col('assignment_type', 'VARCHAR'), col('overall_cutoff_for_a', 'DOUBLE'), col('overall_cutoff_for_pass', 'DOUBLE')], [['Homework', 0.9, 0.5]]);
  const pcdCols = [col('username', 'VARCHAR'), col('date', 'DATE'), ...['nevents', 'nprogcheck', 'nshow_answer', 'nvideo', 'nproblem_check', 'nforum', 'ntranscript', 'nseq_goto', 'nseek_video', 'npause_video', 'n_dt'].map((n) => col(n, 'BIGINT')),
    col('sum_dt', 'DOUBLE'), col('sumsq_dt', 'DOUBLE'), col('max_dt', 'DOUBLE'), col('first_event', 'TIMESTAMP'), col('last_event', 'TIMESTAMP')];
  await put('person_course_day', pcdCols, [
    // alice: 2 days; gaps day 1: n 3, Σ 90, Σ² 3000, max 40; day 2: n 2, Σ 50, Σ² 1300, max 30
    ['alice', '2013-03-01', 10, 1, 1, 4, 2, 1, 1, 2, 1, 1, 3, 90, 3000, 40, t('2013-03-01T10:00:00'), t('2013-03-01T11:00:00')],
    ['alice', '2013-03-02', 5, 0, 0, 1, 0, 0, 0, 1, 0, 0, 2, 50, 1300, 30, t('2013-03-02T09:00:00'), t('2013-03-02T09:30:00')],
    ['dave', '2013-03-01', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, null, null, t('2013-03-01T08:00:00'), t('2013-03-01T08:20:00')],
  ]);
  await put('pcday_ip_counts', [col('username', 'VARCHAR'), col('ip', 'VARCHAR'), col('date', 'DATE'), col('ipcount', 'BIGINT'), col('course_id', 'VARCHAR')], [
    ['alice', '8.8.8.8', '2013-03-01', 7, COURSE], ['alice', '8.8.8.8', '2013-03-02', 5, COURSE], ['alice', '1.1.1.1', '2013-03-01', 3, COURSE], // modal 8.8.8.8 (12)
    ['dave', '', '2013-03-01', 3, COURSE], // empty IPs are not an IP: no modal IP
  ]);
  await put('pcday_trlang_counts', [col('username', 'VARCHAR'), col('resource_event_data', 'VARCHAR'), col('resource_event_type', 'VARCHAR'), col('langcount', 'BIGINT'), col('last_time', 'TIMESTAMP')], [
    ['alice', 'es', 'transcript_language', 3, t('2013-03-01T10:10:00')],
    ['alice', 'en', 'transcript_download', 1, t('2013-03-01T10:20:00')],
  ]);
  await put('video_stats_day', [col('date', 'DATE'), col('username', 'VARCHAR'), col('video_id', 'VARCHAR')], [['2013-03-01', 'alice', 'v1'], ['2013-03-02', 'alice', 'v2'], ['2013-03-02', 'alice', 'v1']]);
  await put('person_enrollment_verified', [col('user_id', 'BIGINT'), col('verified_enroll_time', 'TIMESTAMP'), col('verified_unenroll_time', 'TIMESTAMP')], [[1, t('2013-02-02T00:00:00'), null]]);
  summary = await buildPersonCourse(wh, COURSE, { command: 'test' });
  const r = await wh.query(`SELECT * FROM ${S}.person_course`);
  rows = Object.fromEntries(r.rows.map((row) => {
    const o = Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]!]));
    return [String(o.username), o];
  }));
});
afterAll(async () => {
  await wh?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('person_course (spec §6, REC)', () => {
  it.skipIf(!fs.existsSync(SCHEMA_FILE))('has the 82 columns of schemas/person_course.json, in order, with their types', async () => {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as { name: string; type: string }[];
    const types: Record<string, string> = { STRING: 'VARCHAR', INTEGER: 'BIGINT', FLOAT: 'DOUBLE', BOOLEAN: 'BOOLEAN', TIMESTAMP: 'TIMESTAMP' };
    const cols = (await wh.query(`SELECT * FROM ${S}.person_course LIMIT 0`)).columns;
    expect(cols.map((c) => `${c.name} ${c.type}`)).toEqual(schema.map((f) => `${f.name} ${types[f.type]}`));
  });

  it('one row per user of user_info_combo: un-enrolled, certificate-only, never-in-logs included', () => {
    expect(Object.keys(rows).sort()).toEqual(['alice', 'bob', 'dave', 'eve']); // carol (certificate only) has no username: no row (§6.2)
    expect(summary.rows).toBe(4);
    expect(summary.passingGrade).toBe(0.5);
    expect(summary.chapters).toBe(4);
  });

  it('alice: every kind of column', () => {
    expect(rows.alice).toMatchObject({
      course_id: COURSE, user_id: 1, registered: true,
      viewed: true, explored: true, nchapters: 2, // c1, c2 of 4: ≥ floor(4/2)
      certified: true, completed: true, grade: 0.84, passing_grade: 0.5,
      ip: '8.8.8.8', cc_by_ip: 'US', LoE: 'b', YoB: 1990, gender: 'f', profile_country: 'US',
      start_time: '2013-02-01T10:00:00.000Z', mode: 'verified', is_active: 1,
      cert_status: 'downloadable', cert_created_date: '2013-06-01 00:00:00', cert_modified_date: '2013-06-02 00:00:00',
      verified_enroll_time: '2013-02-02T00:00:00.000Z', verified_unenroll_time: null,
      email_domain: 'Example.org',
      nevents: 15, ndays_act: 2, nplay_video: 5, nvideo: 5, nprogcheck: 1, nshow_answer: 1, nproblem_check: 2, nforum_events: 1,
      ntranscript: 1, nseq_goto: 3, nseek_video: 1, npause_video: 1,
      first_event: '2013-03-01T10:00:00.000Z', last_event: '2013-03-02T09:30:00.000Z',
      n_dt: 5, sum_dt: 140, max_dt: 40, avg_dt: 28, // Σ 140 / n 5
      nforum_posts: 1, nforum_votes: 2, nforum_pinned: 1, nforum_threads: 1, nforum_comments: 0, nforum_endorsed: 0,
      language: 'es', language_nevents: 3, language_download: 0, language_ndiff: 2,
      nvideos_unique_viewed: 2, nvideos_total_watched: 1, // v1, v2 of 2 videos
      roles: 'Student', forumRoles_isStudent: 1, roles_isStaff: null,
    });
    // exact pooled SD of the 5 gaps: (Σ² − Σ²/n) / (n − 1) = (4300 − 140²/5) / 4 = 95
    expect(rows.alice!.sdv_dt as number).toBeCloseTo(Math.sqrt(95), 9);
    expect(typeof rows.alice!.latitude).toBe('number');
  });

  it('alice and bob, all 82 columns written out by hand', () => {
    const { sdv_dt, latitude, longitude, city, subdivision, postalCode, region, ...alice } = rows.alice!;
    // the place of 8.8.8.8 in the installed database: US for sure; the finer facts vary by release
    for (const v of [city, subdivision, postalCode, region]) expect(v === null || typeof v === 'string').toBe(true);
    expect([typeof latitude, typeof longitude]).toEqual(['number', 'number']);
    expect(sdv_dt as number).toBeCloseTo(Math.sqrt(95), 9);
    expect(alice).toEqual({
      course_id: COURSE, user_id: 1, username: 'alice', registered: true, viewed: true, explored: true, certified: true, completed: true,
      ip: '8.8.8.8', cc_by_ip: 'US', countryLabel: 'United States', continent: 'Americas', // data/geographic_regions_by_country.csv: US,840,United States,Northern America,Americas,Developed regions
      un_major_region: 'Northern America', un_economic_group: 'Developed regions', un_developing_nation: null, un_special_region: null,
      LoE: 'b', YoB: 1990, gender: 'f', grade: 0.84, passing_grade: 0.5, start_time: '2013-02-01T10:00:00.000Z',
      first_event: '2013-03-01T10:00:00.000Z', last_event: '2013-03-02T09:30:00.000Z', nevents: 15, ndays_act: 2, nplay_video: 5, nchapters: 2,
      nforum_posts: 1, nforum_votes: 2, nforum_endorsed: 0, nforum_threads: 1, nforum_comments: 0, nforum_pinned: 1,
      roles: 'Student', nprogcheck: 1, nproblem_check: 2, nforum_events: 1, mode: 'verified', is_active: 1,
      cert_created_date: '2013-06-01 00:00:00', cert_modified_date: '2013-06-02 00:00:00', cert_status: 'downloadable',
      verified_enroll_time: '2013-02-02T00:00:00.000Z', verified_unenroll_time: null, profile_country: 'US', y1_anomalous: null,
      email_domain: 'Example.org', language: 'es', language_download: 0, language_nevents: 3, language_ndiff: 2,
      ntranscript: 1, nshow_answer: 1, nvideo: 5, nvideos_unique_viewed: 2, nvideos_total_watched: 1, nseq_goto: 3, nseek_video: 1, npause_video: 1,
      avg_dt: 28, max_dt: 40, n_dt: 5, sum_dt: 140,
      roles_isBetaTester: null, roles_isInstructor: null, roles_isStaff: null, roles_isCCX: null, roles_isFinance: null, roles_isLibrary: null, roles_isSales: null,
      forumRoles_isAdmin: null, forumRoles_isCommunityTA: null, forumRoles_isModerator: null, forumRoles_isStudent: 1,
    });
    const nulls = (...names: string[]) => Object.fromEntries(names.map((n) => [n, null]));
    expect(rows.bob).toEqual({
      course_id: COURSE, user_id: 2, username: 'bob', registered: true, viewed: true, explored: false, certified: false, completed: false,
      ...nulls('ip', 'cc_by_ip', 'countryLabel', 'continent', 'city', 'region', 'subdivision', 'postalCode', 'un_major_region', 'un_economic_group',
        'un_developing_nation', 'un_special_region', 'latitude', 'longitude'),
      LoE: 'hs', YoB: null, gender: '', grade: null, passing_grade: 0.5, start_time: '2013-02-01T11:00:00.000Z',
      ...nulls('first_event', 'last_event', 'nevents', 'ndays_act', 'nplay_video'), nchapters: 1,
      ...nulls('nforum_posts', 'nforum_votes', 'nforum_endorsed', 'nforum_threads', 'nforum_comments', 'nforum_pinned', 'roles', 'nprogcheck', 'nproblem_check', 'nforum_events'),
      mode: 'honor', is_active: 1, ...nulls('cert_created_date', 'cert_modified_date', 'cert_status', 'verified_enroll_time', 'verified_unenroll_time', 'profile_country', 'y1_anomalous'),
      email_domain: 'mit.edu',
      ...nulls('language', 'language_download', 'language_nevents', 'language_ndiff', 'ntranscript', 'nshow_answer', 'nvideo', 'nvideos_unique_viewed', 'nvideos_total_watched',
        'nseq_goto', 'nseek_video', 'npause_video', 'avg_dt', 'sdv_dt', 'max_dt', 'n_dt', 'sum_dt',
        'roles_isBetaTester', 'roles_isInstructor', 'roles_isStaff', 'roles_isCCX', 'roles_isFinance', 'roles_isLibrary', 'roles_isSales',
        'forumRoles_isAdmin', 'forumRoles_isCommunityTA', 'forumRoles_isModerator', 'forumRoles_isStudent'),
    });
  });

  it('bob, never in the logs: log columns NULL (not 0), courseware still makes him a viewer', () => {
    expect(rows.bob).toMatchObject({
      viewed: true, explored: false, nchapters: 1, certified: false, completed: false, grade: null,
      nevents: null, ndays_act: null, first_event: null, n_dt: null, avg_dt: null, ip: null, cc_by_ip: null, language: null,
      nvideos_unique_viewed: null, nforum_posts: null, gender: '', YoB: null, LoE: 'hs', roles: null, email_domain: 'mit.edu',
    });
  });

  it('dave, un-enrolled staff with an empty IP: registered, Staff, no modal IP; email domain after the last @', () => {
    expect(rows.dave).toMatchObject({
      registered: true, is_active: 0, viewed: false, explored: null, roles: 'Staff', roles_isStaff: 1,
      nevents: 3, ndays_act: 1, n_dt: 0, sum_dt: null, avg_dt: null, sdv_dt: null, ip: null, email_domain: 'b.org',
    });
    expect(rows.eve).toMatchObject({ email_domain: null, nevents: null, mode: 'audit' });
  });
});

describe('several courses at once', () => {
  it('buildPersonCourses: two at a time, results in the order given, a failing course does not stop the others', async () => {
    const before = (await wh.query(`SELECT * FROM ${S}.person_course ORDER BY username`)).rows;
    const results = await buildPersonCourses(wh, [COURSE, 'MITx/nothing/here', COURSE], { command: 'test' });
    expect(results.map((r) => (r instanceof Error ? 'error' : r.course))).toEqual([COURSE, 'error', COURSE]);
    expect((results[1] as Error).message).toMatch(/no user_info_combo for MITx\/nothing\/here/);
    // rebuilt twice, interleaved with the failing one: the same rows as the single build
    expect((await wh.query(`SELECT * FROM ${S}.person_course ORDER BY username`)).rows).toEqual(before);
  });
});

describe('combinepc and report (§8, REC)', () => {
  it('combines into courses.person_course and a dated copy, exported; the report counts learners only', async () => {
    const { combinePersonCourse, buildReport } = await import('../src/products/combine.ts');
    const out = path.join(root, 'export');
    const c = await combinePersonCourse(wh, [COURSE, 'MITx/none/x'], { out, date: new Date('2013-07-01T12:00:00Z'), command: 'test' });
    expect(c).toMatchObject({ courses: [COURSE], missing: ['MITx/none/x'], rows: 4, archive: 'person_course_2013_07_01' });
    expect((await wh.query('SELECT count(*) FROM courses.person_course_2013_07_01')).rows[0]![0]).toBe(4);
    const csvRows = zlib.gunzipSync(fs.readFileSync(path.join(out, 'courses', 'person_course_2013_07_01.csv.gz'))).toString().trim().split('\n');
    expect(csvRows).toHaveLength(5); // header + 4
    expect(fs.existsSync(path.join(out, 'courses', 'person_course_2013_07_01.parquet'))).toBe(true);
    const r = await buildReport(wh, { out, command: 'test' });
    // learners: alice (Student), bob and eve (no role); dave is Staff. viewed: alice, bob; explored,
    // certified, verified, certified-and-verified: alice; an IP: alice (located)
    expect(r.result.rows).toEqual([[COURSE, 3, 2, 1, 1, 1, 1, 1, 0]]);
    expect(fs.existsSync(path.join(out, 'courses', 'broad_stats_by_course.csv.gz'))).toBe(true);
  });
});

describe('the other report tables (§8.2 steps 11–14)', () => {
  it('populations, geography, multiple registrations and overall totals, by hand', async () => {
    // (combinepc and the first report ran in the test above: the report tables exist)
    const q = async (sql: string) => (await wh.query(sql)).rows;
    // learners: alice (US, viewed, explored, certified, verified), bob (viewed), eve; dave is Staff
    expect(await q('SELECT course_id, registered_sum, viewed_sum, explored_sum, certified_sum, n_have_ip, n_missing_cc FROM courses.populations_stats_by_course')).toEqual([[COURSE, 3, 2, 1, 1, 1, 0]]);
    expect(await q('SELECT cc, nregistered, nviewed, nexplored, ncertified, nverified, ncert_verified FROM courses.geographic_distributions ORDER BY cc NULLS LAST')).toEqual([
      ['US', 1, 1, 1, 1, 1, 1],
      [null, 2, 1, 0, 0, 0, 0],
    ]);
    // no role filter: dave counts
    expect(await q('SELECT user_id, n_courses_registered FROM courses.multi_registrations ORDER BY user_id')).toEqual([[1, 1], [2, 1], [4, 1], [5, 1]]);
    expect(await q('SELECT registered, viewed, explored, certified, verified_id, verified_certified, verified_certification_pct, n_unique_registrants, course_registrations FROM courses.overall_stats')).toEqual([[3, 2, 1, 1, 1, 1, 100, 4, 4]]);
  });
});

describe('the median tables (§8.2 step 5)', () => {
  it('discrete medians per population, learners only', async () => {
    const q = async (sql: string) => (await wh.query(sql)).rows;
    // viewed learners: alice (nevents 15, YoB 1990) and bob (nevents NULL, YoB NULL): medians over non-NULL values
    expect(await q('SELECT n_records, nevents_median, nchapters_median, age_in_2014_median, sum_n_nonzero_play_video, frac_nonzero_play_video FROM courses.viewed_median_stats_by_course'))
      .toEqual([[2, 15, 1, 24, 1, 0.5]]); // nchapters 2 and 1: the lower middle is 1; 2014 − 1990 = 24
    expect(await q('SELECT n_records, grade_median FROM courses.certified_median_stats_by_course')).toEqual([[1, 0.84]]);
    expect(await q('SELECT n_records FROM courses.verified_median_stats_by_course')).toEqual([[1]]);
    expect(await q('SELECT n_records FROM courses.explored_median_stats_by_course')).toEqual([[1]]);
  });
});
