/**
 * The side-loads of user_info_combo (spec sql-and-person-course.md §2.2 steps 4–5) and
 * person_course's grade override (§6.5 row 26), on a hand-made course dir:
 *
 *   sql/MITx-6.002x-2013_Spring/2013-06-30/             the dump (users, profiles, enrollment, certificates)
 *   sql/MITx-6.002x-2013_Spring/from_mongodb/           users.json.gz, profiles.json.gz, enrollment.json.gz
 *   sql/MITx-6.002x-2013_Spring/from_edxinstructordash/ grade_report.csv
 *
 * loaded twice: with the dump date pinned (`setup-sql --date 2013-06-30`) and as the latest.
 * Every expected value is worked out by hand in the comments.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSetupSql } from '../src/commands/setupSql.ts';
import { loadDump, type DumpLoadSummary } from '../src/dump/setupSql.ts';
import { csvRecords } from '../src/csv.ts';
import { microsText, mongoLine, writeRejectFile } from '../src/dump/sideloads.ts';
import { csvLine } from '../src/dump/tsv.ts';
import { buildPersonCourse } from '../src/products/personCourse.ts';
import { duckdbDialect } from '../src/warehouse/dialect.ts';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { renderSqlFile } from '../src/warehouse/sqlFile.ts';
import type { OutputValue } from '../src/warehouse/warehouse.ts';
import { gunzipLines, tempDir } from './helpers/logtree.ts';

const COURSE = 'MITx/6.002x/2013_Spring';
const S = 'MITx__6_002x__2013_Spring';
let root: string;
let sqlDir: string;
let dumpDir: string;
/** Pinned: through the command, `--date 2013-06-30`. Latest: loadDump without a pin. */
let pinned: { wh: DuckDBWarehouse; summary: DumpLoadSummary };
let latest: { wh: DuckDBWarehouse; summary: DumpLoadSummary };

function csv(dir: string, name: string, header: string[], rows: (string | null)[][]): void {
  fs.writeFileSync(path.join(dir, `${name}.csv.gz`), zlib.gzipSync([header, ...rows].map(csvLine).join('')));
}
const gzLines = (file: string, lines: string[]) => fs.writeFileSync(file, zlib.gzipSync(lines.join('\n') + '\n'));

async function rows(wh: DuckDBWarehouse, sql: string): Promise<Record<string, OutputValue>[]> {
  const r = await wh.query(sql);
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]!])));
}

const UIC_COLUMNS = `user_id, username, email, is_staff, strftime(last_login, '%Y-%m-%d %H:%M:%S') AS last_login, strftime(date_joined, '%Y-%m-%d %H:%M:%S') AS date_joined,
  profile_name, profile_gender, profile_year_of_birth, profile_level_of_education, profile_country, profile_city,
  enrollment_course_id, strftime(enrollment_created, '%Y-%m-%d %H:%M:%S') AS enrollment_created, enrollment_is_active, enrollment_mode,
  certificate_grade, edxinstructordash_Grade, edxinstructordash_Grade_timestamp, y1_anomalous`;

beforeAll(async () => {
  root = tempDir('sideloads');
  sqlDir = path.join(root, 'sql');
  const courseDir = path.join(sqlDir, 'MITx-6.002x-2013_Spring');
  dumpDir = path.join(courseDir, '2013-06-30');
  fs.mkdirSync(dumpDir, { recursive: true });
  csv(dumpDir, 'users', ['id', 'username', 'email', 'is_staff', 'last_login', 'date_joined'], [
    ['1', 'alice', 'a@x.org', '0', null, '2013-01-05 00:00:00'],
    ['2', 'bob', 'b@x.org', '0', null, '2013-01-06 00:00:00'],
    ['3', 'carol', 'c@x.org', '0', null, '2013-01-07 00:00:00'], // no profile, no enrollment in the dump
    ['4', 'dave', 'd@x.org', '0', null, '2013-01-08 00:00:00'], // no profile, no enrollment in the dump
    ['5', 'erin', 'e@x.org', '0', null, '2013-01-09 00:00:00'], // a named profile, no enrollment in the dump
  ]);
  csv(dumpDir, 'profiles', ['id', 'user_id', 'name', 'gender', 'year_of_birth', 'level_of_education', 'country', 'city'], [
    ['10', '1', 'Alice', 'f', '1990', 'm', 'US', null],
    ['11', '2', '', 'm', null, null, 'US', null], // a blank name: the mongo profile replaces this one
    ['12', '5', 'Erin', 'f', null, null, null, null],
  ]);
  csv(dumpDir, 'enrollment', ['id', 'user_id', 'course_id', 'created', 'is_active', 'mode'], [
    ['100', '1', COURSE, '2013-02-01 00:00:00', '1', 'honor'],
    ['101', '2', COURSE, '2013-02-02 00:00:00', '1', 'verified'],
  ]);
  csv(dumpDir, 'certificates', ['id', 'user_id', 'grade', 'course_id', 'status', 'created_date', 'modified_date', 'mode'], [
    ['500', '1', '0.84', COURSE, 'downloadable', '2013-06-01 00:00:00', '2013-06-01 00:00:00', 'honor'],
    ['501', '2', '0.7', COURSE, 'notpassing', '2013-06-01 00:00:00', '2013-06-01 00:00:00', 'verified'],
    ['502', '5', '0.4', COURSE, 'notpassing', '2013-06-01 00:00:00', '2013-06-01 00:00:00', 'honor'],
  ]);

  const mongo = path.join(courseDir, 'from_mongodb');
  fs.mkdirSync(mongo);
  gzLines(path.join(mongo, 'users.json.gz'), [
    '{"_id": 1, "username": "alice_mongo", "password": "sha1$x"}', // 1: alice is in the dump: not added
    // 2: frank, only in mongo: added; 1356998400000 ms = 2013-01-01 00:00:00 UTC
    '{"_id": {"$numberLong": "6"}, "username": "frank", "email": "f@x.org", "is_staff": false, "last_login": {"$date": "2013-05-01T12:00:00+02:00"}, "date_joined": {"$date": 1356998400000}}',
    'not json {', // 3: reject
    '{"_id": 6, "username": "frank_later"}', // 4: frank again: the first line wins
    '{"username": "noid"}', // 5: reject (no id)
    '', // 6: blank, not a record
    '{"_id": "1.5", "username": "half"}', // 7: reject (not an integer)
  ]);
  gzLines(path.join(mongo, 'profiles.json.gz'), [
    '{"user_id": 1, "name": "Alice Mongo", "gender": "m"}', // alice has a dump profile with a name: ignored
    // bob's dump name is '': all 13 fields from here (gender null, although the dump had 'm')
    '{"user_id": 2, "name": "Bob M", "gender": null, "year_of_birth": {"$numberInt": "1985"}, "country": "CA"}',
    '{"user_id": 3, "name": "", "city": "Paris"}', // carol: no name yet…
    '{"user_id": 3, "name": "Carol", "city": "Lyon"}', // …the first line with a name wins
    '{"user_id": 3, "name": "Carol Later", "city": "Nice"}',
    '{"user_id": 4, "name": "Dave", "level_of_education": "b"}',
    '{"user_id": 6, "name": "Frank", "gender": "m"}',
  ]);
  gzLines(path.join(mongo, 'enrollment.json.gz'), [
    '{"user_id": 2, "course_id": "MITx/6.002x/2013_Spring", "created": "2013-07-01 00:00:00", "is_active": true, "mode": "honor"}', // bob is enrolled in the dump: ignored
    // carol: created after the dump date's midnight and her profile came from mongo: dropped when the date is pinned
    '{"user_id": 3, "course_id": "course-v1:MITx+6.002x+2013_Spring", "created": {"$date": "2013-07-15T12:00:00Z"}, "is_active": true, "mode": "audit"}',
    '{"user_id": 4, "course_id": "MITx/6.002x/2013_Spring", "created": "2013-06-01T08:00:00Z", "is_active": 0, "mode": "honor"}', // before: kept
    '{"user_id": 5, "course_id": "MITx/6.002x/2013_Spring", "created": "2013-08-01 00:00:00", "is_active": 1, "mode": "honor"}', // after, but erin's profile is the dump's: kept
    '{"user_id": 6, "course_id": "MITx/6.002x/2013_Spring", "created": "2013-06-30 00:00:00", "is_active": 1, "mode": "honor"}', // at midnight: not after, kept
    '{"user_id": "x7", "course_id": "MITx/6.002x/2013_Spring"}', // 6: reject
  ]);

  const dash = path.join(courseDir, 'from_edxinstructordash');
  fs.mkdirSync(dash);
  // BOM, CRLF, quoted fields (a comma; a line break: bob's record spans lines 3-4), an extra column
  fs.writeFileSync(path.join(dash, 'grade_report.csv'), '\ufeff' + [
    'course_id,Student ID,Email,Username,Grade,Homework 1,Grade_timestamp', // 1
    `${COURSE},1,a@x.org,alice,0.9,1.0,2013-07-05`, // 2: alice, newer than the dump
    `${COURSE},2,"b@x.org, bob@y.org","bob\nB",0.75,0.5,2013-06-29`, // 3-4: bob, older
    `${COURSE},3,c@x.org,carol,0.65,0.5,2013-06-01`, // 5: carol, older (no certificate grade)
    `${COURSE},4,d@x.org,dave,n/a,0,2013-07-02`, // 6: dave: not a number → NULL
    `${COURSE},5,e@x.org,erin,0.55,0.5,2013-06-30T02:00:00+05:00`, // 7: erin: 2013-06-29 21:00 UTC, older
    `${COURSE},6,f@x.org,frank,0.8,0.5,2013-07-01`, // 8: frank (no certificate grade)
    `${COURSE},abc,x@x.org,x,0.1,0,2013-07-01`, // 9: reject
    `${COURSE},7,short`, // 10: reject
  ].join('\r\n') + '\r\n');

  // pinned, through the command (`--date`)
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    expect(await runSetupSql([COURSE], { sqlDir, warehouse: path.join(root, 'pinned.duckdb'), date: '2013-06-30', json: true })).toBe(0);
  } finally {
    process.stdout.write = write;
  }
  const summary = (JSON.parse(out) as { courses: DumpLoadSummary[] }).courses[0]!;
  pinned = { wh: await openDuckDBWarehouse(path.join(root, 'pinned.duckdb')), summary };
  const wh = await openDuckDBWarehouse(path.join(root, 'latest.duckdb'));
  latest = { wh, summary: await loadDump(wh, COURSE, dumpDir, 'test') };
  // passing grade 0.8 (completed), no geolocation
  for (const { wh } of [pinned, latest]) {
    await wh.replaceTable({ schema: S, table: 'grading_policy' }, [{ name: 'assignment_type', type: 'VARCHAR' }, { name: 'overall_cutoff_for_pass', type: 'DOUBLE' }], [['Homework', 0.8]], { command: 'test', step: 'hand-made' });
    await buildPersonCourse(wh, COURSE, { command: 'test', geo: false });
  }
});
afterAll(async () => {
  await pinned?.wh.close();
  await latest?.wh.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('side-loads: the raw tables, rejects and the summary', () => {
  it('loads the side-loads as text tables with _row (the line), keeping only their fields', async () => {
    const u = await rows(pinned.wh, `SELECT * FROM ${S}.mongo_users ORDER BY _row`);
    expect(u).toEqual([
      { id: '1', username: 'alice_mongo', email: null, is_staff: null, last_login: null, date_joined: null, _row: 1 },
      { id: '6', username: 'frank', email: 'f@x.org', is_staff: '0', last_login: '2013-05-01 10:00:00', date_joined: '2013-01-01 00:00:00', _row: 2 },
      { id: '6', username: 'frank_later', email: null, is_staff: null, last_login: null, date_joined: null, _row: 4 },
    ]);
    const g = await rows(pinned.wh, `SELECT * FROM ${S}.edxinstructordash_grade_report ORDER BY _row`);
    expect(g.map((r) => [r.student_id, r.grade, r.grade_timestamp, r._row])).toEqual([
      ['1', '0.9', '2013-07-05', 2], ['2', '0.75', '2013-06-29', 3], ['3', '0.65', '2013-06-01', 5], ['4', 'n/a', '2013-07-02', 6],
      ['5', '0.55', '2013-06-30T02:00:00+05:00', 7], ['6', '0.8', '2013-07-01', 8],
    ]);
    expect((await rows(pinned.wh, `SELECT count(*) AS n FROM ${S}.mongo_profiles`))[0]).toEqual({ n: 7 });
  });

  it('writes bad lines to <dump dir>/_rejects/<table>.jsonl.gz and counts them', () => {
    const s = pinned.summary;
    expect(s.sqlDirDate).toBe('2013-06-30');
    expect(s.pinned).toBe(true);
    expect(latest.summary.pinned).toBe(false);
    expect(s.sideloads.map((f) => [f.table, path.relative(sqlDir, f.file), f.rows, f.rejects])).toEqual([
      ['mongo_users', 'MITx-6.002x-2013_Spring/from_mongodb/users.json.gz', 3, 3],
      ['mongo_profiles', 'MITx-6.002x-2013_Spring/from_mongodb/profiles.json.gz', 7, 0],
      ['mongo_enrollment', 'MITx-6.002x-2013_Spring/from_mongodb/enrollment.json.gz', 5, 1],
      ['edxinstructordash_grade_report', 'MITx-6.002x-2013_Spring/from_edxinstructordash/grade_report.csv', 6, 2],
    ]);
    expect(s.sideloads.map((f) => f.rejectFile)).toEqual([
      path.join(dumpDir, '_rejects', 'mongo_users.jsonl.gz'), null,
      path.join(dumpDir, '_rejects', 'mongo_enrollment.jsonl.gz'), path.join(dumpDir, '_rejects', 'edxinstructordash_grade_report.jsonl.gz'),
    ]);
    const users = gunzipLines(path.join(dumpDir, '_rejects', 'mongo_users.jsonl.gz')).map((l) => JSON.parse(l));
    expect(users).toEqual([
      { file: path.join(sqlDir, 'MITx-6.002x-2013_Spring', 'from_mongodb', 'users.json.gz'), line: 3, reason: expect.stringContaining('bad JSON'), raw: 'not json {' },
      expect.objectContaining({ line: 5, reason: 'no user id (_id or id)', raw: '{"username": "noid"}' }),
      expect.objectContaining({ line: 7, reason: 'the user id (_id) is not an integer: "1.5"' }),
    ]);
    const grades = gunzipLines(path.join(dumpDir, '_rejects', 'edxinstructordash_grade_report.jsonl.gz')).map((l) => JSON.parse(l));
    expect(grades).toEqual([
      expect.objectContaining({ line: 9, reason: 'Student ID is not an integer: "abc"', raw: `${COURSE},abc,x@x.org,x,0.1,0,2013-07-01` }),
      expect.objectContaining({ line: 10, reason: '3 fields, the header has 7', raw: `${COURSE},7,short` }),
    ]);
    // the absent side-loads are not "missing" dump files
    expect(s.missing.map((m) => m.split(' ')[0])).toEqual(['user_id_map.csv.gz', 'rolecourse.csv.gz', 'roleforum.csv.gz', 'studentmodule.csv.gz', 'forum.mongo.gz']);
    expect(s.sideloadNotes).toEqual([]);
    // pinned: bob, dave, frank have a mongo profile (carol is dropped); grades: alice, bob, erin, frank
    expect(s.sideloadEffect).toEqual({ y1Anomalous: 3, dashboardGrades: 4 });
    expect(latest.summary.sideloadEffect).toEqual({ y1Anomalous: 4, dashboardGrades: 5 });
  });
});

describe('user_info_combo with the side-loads (§2.2 steps 4-5)', () => {
  it('merges them with the spec precedence; a pinned dump date drops mongo-only late enrollers', async () => {
    const r = await rows(pinned.wh, `SELECT ${UIC_COLUMNS} FROM ${S}.user_info_combo ORDER BY user_id`);
    expect(r.map((x) => x.user_id)).toEqual([1, 2, 4, 5, 6]); // carol (3) dropped
    // alice: the dump's user and named profile win over mongo's
    expect(r[0]).toMatchObject({ username: 'alice', profile_name: 'Alice', profile_gender: 'f', y1_anomalous: null, enrollment_mode: 'honor',
      certificate_grade: 0.84, edxinstructordash_Grade: 0.9, edxinstructordash_Grade_timestamp: '2013-07-05' });
    // bob: the mongo profile replaces the one with a blank name (gender NULL too), y1_anomalous 1; the dump's enrollment stays
    expect(r[1]).toMatchObject({ username: 'bob', profile_name: 'Bob M', profile_gender: null, profile_year_of_birth: 1985, profile_country: 'CA', y1_anomalous: 1,
      enrollment_mode: 'verified', enrollment_created: '2013-02-02 00:00:00', edxinstructordash_Grade: 0.75 });
    // dave: mongo profile and enrollment (created before the dump date); a grade that is not a number is NULL
    expect(r[2]).toMatchObject({ username: 'dave', profile_name: 'Dave', profile_level_of_education: 'b', y1_anomalous: 1,
      enrollment_course_id: COURSE, enrollment_created: '2013-06-01 08:00:00', enrollment_is_active: 0, enrollment_mode: 'honor',
      certificate_grade: null, edxinstructordash_Grade: null, edxinstructordash_Grade_timestamp: '2013-07-02' });
    // erin: enrolled by mongo after the dump date, but her profile is the dump's: kept
    expect(r[3]).toMatchObject({ username: 'erin', profile_name: 'Erin', y1_anomalous: null, enrollment_created: '2013-08-01 00:00:00', enrollment_mode: 'honor', enrollment_is_active: 1 });
    // frank: only in mongo: user (first line; dates as UTC), profile and enrollment (created at midnight: not after)
    expect(r[4]).toEqual({
      user_id: 6, username: 'frank', email: 'f@x.org', is_staff: 0, last_login: '2013-05-01 10:00:00', date_joined: '2013-01-01 00:00:00',
      profile_name: 'Frank', profile_gender: 'm', profile_year_of_birth: null, profile_level_of_education: null, profile_country: null, profile_city: null,
      enrollment_course_id: COURSE, enrollment_created: '2013-06-30 00:00:00', enrollment_is_active: 1, enrollment_mode: 'honor',
      certificate_grade: null, edxinstructordash_Grade: 0.8, edxinstructordash_Grade_timestamp: '2013-07-01', y1_anomalous: 1,
    });
    expect((await rows(pinned.wh, `SELECT sql_dir_date::VARCHAR AS d, pinned FROM ${S}.dump_info`))[0]).toEqual({ d: '2013-06-30', pinned: true });
  });

  it('without a pinned date the late mongo enrollment fills the record (opaque course id normalised)', async () => {
    const r = await rows(latest.wh, `SELECT ${UIC_COLUMNS} FROM ${S}.user_info_combo ORDER BY user_id`);
    expect(r.map((x) => x.user_id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r[2]).toMatchObject({ username: 'carol', profile_name: 'Carol', profile_city: 'Lyon', y1_anomalous: 1, enrollment_course_id: COURSE,
      enrollment_created: '2013-07-15 12:00:00', enrollment_is_active: 1, enrollment_mode: 'audit', edxinstructordash_Grade: 0.65 });
    expect((await rows(latest.wh, `SELECT sql_dir_date::VARCHAR AS d, pinned FROM ${S}.dump_info`))[0]).toEqual({ d: '2013-06-30', pinned: false });
  });
});

describe('person_course: the grade override (§6.5 row 26)', () => {
  it('takes the dashboard grade when there is no certificate grade or it is newer than the dump date', async () => {
    const grades = async (wh: DuckDBWarehouse) => (await rows(wh, `SELECT username, grade, completed FROM ${S}.person_course ORDER BY user_id`)).map((x) => [x.username, x.grade, x.completed]);
    expect(await grades(pinned.wh)).toEqual([
      ['alice', 0.9, true], // certificate 0.84, dashboard of 2013-07-05 > 2013-06-30: 0.9 (certified anyway)
      ['bob', 0.7, false], // dashboard of 2013-06-29: older, the certificate's 0.7 < 0.8
      ['dave', null, false], // no certificate, the dashboard's grade is not a number
      ['erin', 0.4, false], // 2013-06-30T02:00+05:00 is 2013-06-29 21:00 UTC: older, the certificate's 0.4
      ['frank', 0.8, true], // no certificate: the dashboard's 0.8 ≥ passing 0.8 → completed
    ]);
    // carol, without a pin: no certificate, so the dashboard's 0.65 although it is older than the dump
    expect((await grades(latest.wh))[2]).toEqual(['carol', 0.65, false]);
  });
});

describe('side-load readers', () => {
  it('CSV records: quotes, doubled quotes, CR, CRLF, a BOM and an unterminated quote', () => {
    const text = '\ufeffa,"b,1","say ""hi"""\r\n"x\ny",2,3\r4,,\n"open,5';
    expect([...csvRecords(text)]).toEqual([
      { line: 1, fields: ['a', 'b,1', 'say "hi"'], raw: 'a,"b,1","say ""hi"""' },
      { line: 2, fields: ['x\ny', '2', '3'], raw: '"x\ny",2,3' },
      { line: 4, fields: ['4', '', ''], raw: '4,,' },
      { line: 5, fields: ['open,5'], raw: '"open,5', error: 'unterminated quoted field' },
    ]);
  });

  it('mongo lines: extended JSON values as text', () => {
    expect(mongoLine('mongo_enrollment', '{"user_id": {"$numberLong": "12"}, "course_id": "c", "created": {"$date": {"$numberLong": "1372550400123"}}, "is_active": false, "mode": "NULL"}'))
      .toEqual({ ok: true, row: ['12', 'c', '2013-06-30 00:00:00.123000', '0', null] });
    expect(mongoLine('mongo_profiles', '[1]')).toEqual({ ok: false, reason: 'not a JSON object' });
    expect(microsText(1_372_550_400_000_001)).toBe('2013-06-30 00:00:00.000001');
  });

  it('sql/user_info_combo.sql reads a side-load only when the caller passes it (else its empty stand-in)', () => {
    const alone = renderSqlFile('user_info_combo', duckdbDialect, S, { course_id: COURSE });
    expect(alone).not.toContain('"mongo_users"');
    expect(alone).toContain('FROM no_mongo_users');
    const given = renderSqlFile('user_info_combo', duckdbDialect, S, { course_id: COURSE }, { mongo_users: duckdbDialect.tableRef(S, 'mongo_users') });
    expect(given).toContain(`FROM "${S}"."mongo_users"`);
    expect(given).toContain('FROM no_mongo_profiles');
  });

  it('a reject file of an earlier run goes when a run has no rejects', async () => {
    const f = path.join(root, 'r', 'x.jsonl.gz');
    await writeRejectFile(f, 'in', [{ line: 1, reason: 'r', raw: 'z' }]);
    expect(gunzipLines(f).map((l) => JSON.parse(l))).toEqual([{ file: 'in', line: 1, reason: 'r', raw: 'z' }]);
    await writeRejectFile(f, 'in', []);
    expect(fs.existsSync(f)).toBe(false);
  });
});
