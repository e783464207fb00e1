import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUCKDB_CSV_OPTIONS } from '../src/dump/tsv.ts';
import { chooseCourseSqlDir, courseDirCandidates, findCourseSqlDir, listDumpDates, SqlDirError, waldoCourseDirName } from '../src/dump/sqlDirs.ts';
import { classifyDumpFile, CourseMatcher, dumpDateOf, sqlShortName, unsafeMemberPath, waldofy, type WaldofyOptions, type WaldofySummary } from '../src/dump/waldofy.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../../shared/fixtures/edx-analytics-pipeline/research-dump');
const hasFixture = fs.existsSync(FIXTURE);
const COURSE = 'edX-DemoX-Demo_Course';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'waldofy-'));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

let seq = 0;
function scratch(): string {
  const d = path.join(root, `t${seq++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** A dump directory `<parent>/<name>` holding `files`. */
function makeDump(parent: string, name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [n, c] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), c);
  return dir;
}

function copyFixture(parent: string, name = 'edx-2015-01-01'): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const n of fs.readdirSync(FIXTURE)) fs.writeFileSync(path.join(dir, n), fs.readFileSync(path.join(FIXTURE, n)));
  return dir;
}

async function run(inputs: string[], sqlDir: string, courses: string[] = [], extra: Partial<WaldofyOptions> = {}): Promise<{ s: WaldofySummary; log: string[] }> {
  const log: string[] = [];
  const s = await waldofy(inputs, { sqlDir, courses, gzipLevel: 1, log: (l) => void log.push(l), ...extra });
  return { s, log };
}

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((p) => fs.statSync(path.join(dir, p)).isFile()).sort();
}

async function readCsv(file: string): Promise<{ columns: string[]; rows: unknown[][] }> {
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  try {
    const r = await c.runAndReadAll(`SELECT * FROM read_csv('${file.replace(/'/g, "''")}', ${DUCKDB_CSV_OPTIONS})`);
    return { columns: r.columnNames(), rows: r.getRowsJS() };
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

// ---- a tiny zip writer (yauzl only reads) -------------------------------------------------

function zipFile(entries: { name: string; data?: string | Buffer; deflate?: boolean; badCrc?: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    const body = e.deflate ? zlib.deflateRawSync(data) : data;
    const crc = (zlib.crc32(data) ^ (e.badCrc ? 1 : 0)) >>> 0;
    const method = e.deflate ? 8 : 0;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(0x800, 6); // UTF-8 names
    lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    locals.push(lh, name, body);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(0x800, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// ---- names ---------------------------------------------------------------------------------

describe('names', () => {
  it('dump date: -YYYY-MM-DD at the end, a real date', () => {
    expect(dumpDateOf('mitx-2015-01-01')).toBe('2015-01-01');
    expect(dumpDateOf('2015-01-01')).toBeNull();
    expect(dumpDateOf('mitx-2015-02-30')).toBeNull();
    expect(dumpDateOf('mitx-2015-01-01-x')).toBeNull();
    expect(dumpDateOf('mitx')).toBeNull();
  });

  it('file kinds and skips', () => {
    expect(classifyDumpFile('a-b-c-auth_user-prod-analytics.sql')).toEqual({ kind: 'sql' });
    expect(classifyDumpFile('a-b-c-course-prod-analytics.xml.tar.gz')).toEqual({ kind: 'xml.tar.gz' });
    expect(classifyDumpFile('a-b-c-prod.mongo')).toEqual({ kind: 'mongo' });
    expect(classifyDumpFile('a-b-c-course_structure-prod-analytics.json')).toEqual({ kind: 'json' });
    for (const n of ['x.sql.gpg', 'x.xml', 'mitx-email_opt_in-prod-analytics.csv', 'README', 'x.txt']) expect(classifyDumpFile(n)).toHaveProperty('skip');
  });

  it('rename table', () => {
    expect(sqlShortName('auth_user-prod-analytics.sql')).toBe('users');
    expect(sqlShortName('auth_userprofile-prod-analytics.sql')).toBe('profiles');
    expect(sqlShortName('student_courseenrollment-prod-analytics.sql')).toBe('enrollment');
    expect(sqlShortName('certificates_generatedcertificate-prod-analytics.sql')).toBe('certificates');
    expect(sqlShortName('courseware_studentmodule-prod-analytics.sql')).toBe('studentmodule');
    expect(sqlShortName('student_courseaccessrole-prod-analytics.sql')).toBe('rolecourse');
    expect(sqlShortName('django_comment_client_role_users-prod-analytics.sql')).toBe('roleforum');
    expect(sqlShortName('user_id_map-prod-analytics.sql')).toBe('user_id_map');
    expect(sqlShortName('auth_user.sql')).toBe('users');
  });

  it('longest known prefix wins; the prefix must end at a dash; opaque ids normalised', () => {
    const m = new CourseMatcher(['course-v1:MITx+6.00.1x+2T2017', 'MITx/6.00.1x/2T2017_2'], '2017-09-01');
    expect(m.match('MITx-6.00.1x-2T2017_2-auth_user-prod-analytics.sql', 'sql')).toEqual({ courseId: 'MITx/6.00.1x/2T2017_2', known: true, dataName: 'auth_user-prod-analytics.sql', how: 'asked' });
    expect(m.match('MITx-6.00.1x-2T2017-auth_user-prod-analytics.sql', 'sql')).toMatchObject({ courseId: 'MITx/6.00.1x/2T2017', known: true });
    expect(m.match('MITx-6.00.1x-2T2017-prod.mongo', 'mongo')).toMatchObject({ courseId: 'MITx/6.00.1x/2T2017', dataName: 'prod.mongo' });
    // only 2T2017 asked: 2T2017_2 is not it (no dash after the prefix) → fallback, unknown
    const one = new CourseMatcher(['MITx/6.00.1x/2T2017'], '2017-09-01');
    expect(one.match('MITx-6.00.1x-2T2017_2-auth_user-prod-analytics.sql', 'sql')).toMatchObject({ courseId: 'MITx/6.00.1x/2T2017_2', known: false, how: 'fallback' });
  });

  it('courses discovered in the dump keep a longer unknown course away from a shorter asked one', () => {
    const m = new CourseMatcher(['MITx/6.00.1x/2T2017'], '2017-09-01');
    const names = ['MITx-6.00.1x-2T2017-b-auth_user-prod-analytics.sql', 'MITx-6.00.1x-2T2017-b-prod.mongo', 'MITx-6.00.1x-2T2017-auth_user-prod-analytics.sql'];
    m.discover(names);
    expect(m.match(names[0] as string, 'sql')).toMatchObject({ courseId: 'MITx/6.00.1x-2T2017/b', known: false, how: 'discovered', dataName: 'auth_user-prod-analytics.sql' });
    expect(m.match(names[1] as string, 'mongo')).toMatchObject({ known: false, how: 'discovered', dataName: 'prod.mongo' });
    expect(m.match(names[2] as string, 'sql')).toMatchObject({ courseId: 'MITx/6.00.1x/2T2017', known: true, how: 'asked' });
    // a course number with dashes, found through its table names
    const d = new CourseMatcher([], '2017-09-01');
    d.discover(['HarvardX-PH-525-1x-1T2017-auth_user-prod-analytics.sql']);
    expect(d.match('HarvardX-PH-525-1x-1T2017-prod.mongo', 'mongo')).toMatchObject({ courseId: 'HarvardX/PH-525-1x/1T2017', known: true, how: 'discovered' });
  });

  it('fallbacks of §1.4 step 3', () => {
    const m = new CourseMatcher(['Other/X/Y'], '2015-01-01');
    // .sql: the first three dash-separated tokens
    expect(m.match('MITx-6.002x-2013_Spring-auth_user-prod-analytics.sql', 'sql')).toEqual({ courseId: 'MITx/6.002x/2013_Spring', known: false, dataName: 'auth_user-prod-analytics.sql', how: 'fallback' });
    // .mongo / .json / .xml.tar.gz: cut at the site or kind, then 2 dashes → slashes, more → the last two
    expect(m.match('MITx-6.002x-2013_Spring-prod.mongo', 'mongo')).toMatchObject({ courseId: 'MITx/6.002x/2013_Spring', dataName: 'prod.mongo' });
    expect(m.match('Org-A-6.002x-2013_Spring-edge.mongo', 'mongo')).toMatchObject({ courseId: 'Org-A/6.002x/2013_Spring' });
    expect(m.match('MITx-6.002x-2013_Spring-course_structure-prod-analytics.json', 'json')).toMatchObject({ courseId: 'MITx/6.002x/2013_Spring', dataName: 'course_structure-prod-analytics.json' });
    expect(m.match('MITx-6.002x-2013_Spring-course-prod-analytics.xml.tar.gz', 'xml.tar.gz')).toMatchObject({ courseId: 'MITx/6.002x/2013_Spring', dataName: 'course-prod-analytics.xml.tar.gz' });
    expect(m.match('MITx-6.002x-2013_Spring-acceptance.mongo', 'mongo')).toMatchObject({ courseId: 'MITx/6.002x/2013_Spring', dataName: 'acceptance.mongo' });
    expect(m.match('6.002x-prod.mongo', 'mongo')).toBeNull();
    // legacy 2-part ids: the run from the dump date
    const legacy = (date: string) => new CourseMatcher(['Other/X/Y'], date).match('MITx-6.002x-auth_user.sql', 'sql');
    expect(legacy('2012-11-01')).toMatchObject({ courseId: 'MITx/6.002x/2012_Fall', dataName: 'auth_user.sql' });
    expect(legacy('2013-01-15')).toMatchObject({ courseId: 'MITx/6.002x/2012_Fall' });
    expect(legacy('2013-05-15')).toMatchObject({ courseId: 'MITx/6.002x/2013_Spring' });
    expect(legacy('2013-09-15')).toMatchObject({ courseId: 'MITx/6.002x/2013_Fall' });
    expect(legacy('2015-01-01')).toBeNull();
    expect(m.match('nodash.sql', 'sql')).toBeNull();
  });

  it('unsafe zip member paths', () => {
    expect(unsafeMemberPath('dump-2015-01-01/a.sql')).toBeNull();
    expect(unsafeMemberPath('../a.sql')).not.toBeNull();
    expect(unsafeMemberPath('x/../../a.sql')).not.toBeNull();
    expect(unsafeMemberPath('/etc/a.sql')).not.toBeNull();
    expect(unsafeMemberPath('C:\\a.sql')).not.toBeNull();
    expect(unsafeMemberPath('..\\a.sql')).not.toBeNull();
    expect(unsafeMemberPath('a\u0000.sql')).not.toBeNull();
    expect(unsafeMemberPath('a\n.sql')).not.toBeNull();
  });
});

// ---- the real one-course package ---------------------------------------------------------------

describe.skipIf(!hasFixture)('waldofy on the edx-analytics-pipeline research dump', () => {
  it('files every table of the course, CSV readable exactly; re-run keeps the CSVs', async () => {
    const t = scratch();
    const dump = copyFixture(t);
    const sql = path.join(t, 'sql');
    const { s, log } = await run([dump], sql, ['course-v1:edX+DemoX+Demo_Course']);
    const dest = path.join(sql, COURSE, '2015-01-01');
    expect(tree(sql)).toEqual(
      [
        'certificates.csv.gz',
        'course-acceptance.xml.tar.gz',
        'course_structure-acceptance.json.gz',
        'enrollment.csv.gz',
        'forum.mongo.gz',
        'profiles.csv.gz',
        'student_languageproficiency.csv.gz',
        'studentmodule.csv.gz',
        'teams.csv.gz',
        'teams_membership.csv.gz',
        'user_api_usercoursetag.csv.gz',
        'users.csv.gz',
        'verify_student_verificationstatus.csv.gz',
        'wiki_article.csv.gz',
        'wiki_articlerevision.csv.gz',
      ].map((n) => path.join(COURSE, '2015-01-01', n)),
    );
    expect(s.files).toEqual({ total: 15, written: 15, kept: 0, skipped: 0, refused: 0, failed: 0 });
    expect(s.rejects).toBe(0);
    expect(s.rows).toBe(4 * 12 - 1);
    expect(s.coursesNotFound).toEqual([]);
    const c = s.inputs[0]?.courses[0];
    expect(c).toMatchObject({ courseId: 'edX/DemoX/Demo_Course', known: true, dir: path.join(COURSE, '2015-01-01') });
    expect(c?.missing).toEqual(['user_id_map.csv.gz', 'rolecourse.csv.gz', 'roleforum.csv.gz']);
    expect(log.some((l) => l.includes('users.csv.gz: 4 rows, 0 rejects'))).toBe(true);

    // copies are exact
    expect(zlib.gunzipSync(fs.readFileSync(path.join(dest, 'forum.mongo.gz')))).toEqual(fs.readFileSync(path.join(FIXTURE, 'edX-DemoX-Demo_Course-acceptance.mongo')));
    expect(fs.readFileSync(path.join(dest, 'course-acceptance.xml.tar.gz'))).toEqual(fs.readFileSync(path.join(FIXTURE, 'edX-DemoX-Demo_Course-course-acceptance.xml.tar.gz')));

    // NULL → null, '' → '', the exact values
    const profiles = await readCsv(path.join(dest, 'profiles.csv.gz'));
    expect(profiles.columns.slice(0, 8)).toEqual(['id', 'user_id', 'name', 'language', 'location', 'meta', 'courseware', 'gender']);
    expect(profiles.rows[0]?.slice(5, 8)).toEqual(['{"old_emails": [["honor@example.com"]]}', 'course.xml', 'm']);
    expect(profiles.rows[1]?.slice(5, 8)).toEqual(['', 'course.xml', null]);
    const users = await readCsv(path.join(dest, 'users.csv.gz'));
    expect(users.rows.map((r) => r[1])).toEqual(['honor', 'audit', 'verified', 'staff']);
    expect(users.rows[0]?.[12]).toBeNull(); // email_key NULL
    // studentmodule state: escapes undone, so the JSON parses without the backslash hack
    const sm = await readCsv(path.join(dest, 'studentmodule.csv.gz'));
    const state = JSON.parse(sm.rows[0]?.[4] as string) as { student_answers: Record<string, string> };
    const inner = JSON.parse(Object.values(state.student_answers)[0] as string) as { answer: string; state: string };
    expect(inner.answer).toBe('correct');
    expect(JSON.parse(inner.state)).toMatchObject({ answer: 'OC(O)C(Cl)(Cl)Cl' });
    // wiki text: \r\n escapes became CR LF
    const wiki = await readCsv(path.join(dest, 'wiki_articlerevision.csv.gz'));
    expect(wiki.rows[0]?.[12]).toBe('<h2Instructions:</h2>\r\nThis is the wiki for **edX**.');

    // re-run: CSVs kept (same bytes, not rewritten), copies rewritten identically
    const before = Object.fromEntries(tree(sql).map((p) => [p, fs.readFileSync(path.join(sql, p))]));
    const mtime = fs.statSync(path.join(dest, 'users.csv.gz')).mtimeMs;
    const again = await run([dump], sql, ['edX/DemoX/Demo_Course']);
    expect(again.s.files).toMatchObject({ written: 3, kept: 12, failed: 0 });
    expect(Object.fromEntries(tree(sql).map((p) => [p, fs.readFileSync(path.join(sql, p))]))).toEqual(before);
    expect(fs.statSync(path.join(dest, 'users.csv.gz')).mtimeMs).toBe(mtime);
  });

  it('no course given: every course found is filed; a course not asked for goes to UNKNOWN', async () => {
    const t = scratch();
    const dump = copyFixture(t);
    const all = await run([dump], path.join(t, 'all'));
    expect(all.s.files.written).toBe(15);
    expect(all.s.inputs[0]?.courses.map((c) => [c.courseId, c.known])).toEqual([['edX/DemoX/Demo_Course', true]]);
    expect(tree(path.join(t, 'all')).every((p) => p.startsWith(`${COURSE}/2015-01-01/`))).toBe(true);

    const other = await run([dump], path.join(t, 'other'), ['MITx/6.002x/2013_Spring']);
    expect(other.s.coursesNotFound).toEqual(['MITx/6.002x/2013_Spring']);
    expect(other.s.inputs[0]?.courses.map((c) => [c.courseId, c.known])).toEqual([['edX/DemoX/Demo_Course', false]]);
    const files = tree(path.join(t, 'other'));
    expect(files).toHaveLength(15);
    expect(files.every((p) => p.startsWith(`UNKNOWN/${COURSE}/2015-01-01/`))).toBe(true);
  });

  it('reads the same dump from a zip (one folder inside, stored and deflated members)', async () => {
    const t = scratch();
    const members = fs.readdirSync(FIXTURE).map((n, i) => ({ name: `edx-2015-01-01/${n}`, data: fs.readFileSync(path.join(FIXTURE, n)), deflate: i % 2 === 0 }));
    const zip = path.join(t, 'edx-2015-01-01.zip');
    fs.writeFileSync(
      zip,
      zipFile([
        { name: 'edx-2015-01-01/' },
        ...members,
        { name: 'edx-2015-01-01/ora/edX-DemoX-Demo_Course-assessment_assessment-prod-analytics.sql', data: 'id\n1\n' },
        { name: 'edx-2015-01-01/edX-DemoX-Demo_Course-auth_user-prod-analytics.sql.gpg', data: 'x' },
        { name: '../evil-2015-01-01/x-y-z-auth_user-prod-analytics.sql', data: 'id\n1\n' },
        { name: '/abs-x-y-z-auth_user-prod-analytics.sql', data: 'id\n1\n' },
      ]),
    );
    const fromZip = await run([zip], path.join(t, 'zip'), ['edX/DemoX/Demo_Course']);
    const fromDir = await run([copyFixture(t)], path.join(t, 'dir'), ['edX/DemoX/Demo_Course']);
    const zipTree = tree(path.join(t, 'zip'));
    expect(zipTree).toEqual(tree(path.join(t, 'dir')));
    for (const p of zipTree) expect(zlib.gunzipSync(fs.readFileSync(path.join(t, 'zip', p)))).toEqual(zlib.gunzipSync(fs.readFileSync(path.join(t, 'dir', p))));
    expect(fromZip.s.inputs[0]).toMatchObject({ kind: 'zip', date: '2015-01-01', status: 'done' });
    expect(fromZip.s.files).toMatchObject({ written: 15, refused: 2, failed: 0 });
    expect(fromZip.s.files.skipped).toBe(2); // ora/ and .gpg
    expect(fromDir.s.files.written).toBe(15);
    expect(fs.readdirSync(t).sort()).toEqual(['dir', 'edx-2015-01-01', 'edx-2015-01-01.zip', 'zip']);
  });
});

// ---- inputs, rejects, hostile names ---------------------------------------------------------

describe('waldofy inputs', () => {
  const users = 'id\tusername\temail\n1\tann\ta@x\n2\tbob\tNULL\n3\ttoo\tmany\tfields\n4\t\t\n';

  it('malformed rows go to _rejects/<short>.jsonl.gz and are counted; an empty .sql is skipped', async () => {
    const t = scratch();
    const dump = makeDump(t, 'mitx-2016-03-04', {
      'MITx-6.002x-2T2016-auth_user-prod-analytics.sql': users,
      'MITx-6.002x-2T2016-student_courseenrollment-prod-analytics.sql': '',
      'MITx-6.002x-2T2016-auth_userprofile-prod-analytics.sql': 'id\tuser_id\n1\t1',
      'mitx-email_opt_in-prod-analytics.csv': 'x',
      'notes.txt': 'x',
    });
    fs.mkdirSync(path.join(dump, 'ora'));
    const sql = path.join(t, 'sql');
    const { s } = await run([dump], sql, ['MITx/6.002x/2T2016']);
    const dest = path.join(sql, 'MITx-6.002x-2T2016', '2016-03-04');
    expect(tree(dest)).toEqual(['_rejects/users.jsonl.gz', 'profiles.csv.gz', 'users.csv.gz']);
    const rejects = zlib
      .gunzipSync(fs.readFileSync(path.join(dest, '_rejects', 'users.jsonl.gz')))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(rejects).toEqual([{ line: 4, reason: '4 field(s), the header has 3', raw: '3\ttoo\tmany\tfields' }]);
    expect(s.rejects).toBe(1);
    expect(s.rows).toBe(4);
    expect((await readCsv(path.join(dest, 'users.csv.gz'))).rows).toEqual([
      ['1', 'ann', 'a@x'],
      ['2', 'bob', null],
      ['4', '', ''],
    ]);
    expect((await readCsv(path.join(dest, 'profiles.csv.gz'))).rows).toEqual([['1', '1']]);
    const byName = Object.fromEntries(s.inputs[0]?.files.map((f) => [f.name, f]) ?? []);
    expect(byName['MITx-6.002x-2T2016-student_courseenrollment-prod-analytics.sql']).toMatchObject({ status: 'skipped', reason: 'empty file (no header line)' });
    expect(byName['MITx-6.002x-2T2016-auth_user-prod-analytics.sql']).toMatchObject({ status: 'written', rows: 3, rejects: 1, output: path.join('MITx-6.002x-2T2016', '2016-03-04', 'users.csv.gz') });
    expect(byName['ora/']).toMatchObject({ status: 'skipped' });
    expect(byName['notes.txt']).toMatchObject({ status: 'skipped' });
    expect(s.inputs[0]?.courses[0]?.missing).toContain('enrollment.csv.gz');
  });

  it('refuses a dump whose name has no date, a missing input and a corrupt zip; a bad zip member fails alone', async () => {
    const t = scratch();
    const nodate = makeDump(t, 'mitx-latest', { 'a-b-c-auth_user-prod-analytics.sql': users });
    fs.writeFileSync(path.join(t, 'broken-2015-01-01.zip'), 'this is not a zip file at all, not even close.');
    fs.writeFileSync(
      path.join(t, 'crc-2015-01-01.zip'),
      zipFile([
        { name: 'a-b-c-auth_user-prod-analytics.sql', data: users, badCrc: true },
        { name: 'a-b-c-auth_userprofile-prod-analytics.sql', data: 'id\n1\n', deflate: true },
      ]),
    );
    const sql = path.join(t, 'sql');
    const { s } = await run([nodate, path.join(t, 'missing-2015-01-01'), path.join(t, 'broken-2015-01-01.zip'), path.join(t, 'crc-2015-01-01.zip')], sql);
    expect(s.inputs.map((i) => i.status)).toEqual(['failed', 'failed', 'failed', 'done']);
    expect(s.inputs[0]?.error).toMatch(/must end with -YYYY-MM-DD/);
    expect(s.inputs[1]?.error).toMatch(/no such file or directory/);
    expect(s.inputs[2]?.error).toMatch(/not a readable zip file/);
    expect(s.inputs[3]?.files.map((f) => [f.name, f.status])).toEqual([
      ['a-b-c-auth_user-prod-analytics.sql', 'failed'],
      ['a-b-c-auth_userprofile-prod-analytics.sql', 'written'],
    ]);
    // the failed member left no file behind (no truncated CSV a re-run would keep)
    expect(tree(sql)).toEqual([path.join('a-b-c', '2015-01-01', 'profiles.csv.gz')]);
  });

  it('hostile names never write outside the SQL dir', async () => {
    const t = scratch();
    const sql = path.join(t, 'out', 'sql');
    const dump = makeDump(t, 'x-2015-01-01', {
      '..-..-evil-auth_user-prod-analytics.sql': users,
      'a-b-c-..%2F..%2Fx.json': '{}',
      'a-b-c-\u0001\nctl-prod.mongo': '{}\n',
      'UNKNOWN-auth_user-prod-analytics.sql': users,
      '.hidden-x-y-auth_user-prod-analytics.sql': users,
      'a-b-c-.sql': users,
    });
    const { s } = await run([dump], sql, ['../../evil', 'UNKNOWN', 'a/b/c', '.hidden/x/y']);
    expect(s.files.failed).toBe(0);
    const files = tree(sql);
    expect(files.sort()).toEqual(
      [
        '%2E.-..-evil/2015-01-01/_rejects/users.jsonl.gz',
        '%2E.-..-evil/2015-01-01/users.csv.gz',
        '%2Ehidden-x-y/2015-01-01/_rejects/users.jsonl.gz',
        '%2Ehidden-x-y/2015-01-01/users.csv.gz',
        '%55NKNOWN/2015-01-01/_rejects/users.jsonl.gz',
        '%55NKNOWN/2015-01-01/users.csv.gz',
        'a-b-c/2015-01-01/%2E.%252F..%252Fx.json.gz',
        'a-b-c/2015-01-01/forum.mongo.gz',
      ].sort(),
    );
    // nothing anywhere else in the scratch tree but the input and the SQL dir
    expect(fs.readdirSync(t).sort()).toEqual(['out', 'x-2015-01-01']);
    expect(fs.readdirSync(path.join(t, 'out'))).toEqual(['sql']);
    expect(s.inputs[0]?.files.find((f) => f.name === 'a-b-c-.sql')).toMatchObject({ status: 'skipped' });
  });

  it('removes temporary files a killed run left, not those of live processes', async () => {
    const t = scratch();
    const dump = makeDump(t, 'mitx-2016-03-04', { 'MITx-6.002x-2T2016-auth_user-prod-analytics.sql': users });
    const dest = path.join(t, 'sql', 'MITx-6.002x-2T2016', '2016-03-04');
    fs.mkdirSync(dest, { recursive: true });
    // pid 2^22+1 is above Linux's pid_max: never a live process
    const dead = `.users.csv.gz.tmp-${2 ** 22 + 1}-deadbeef`;
    const live = `.users.csv.gz.tmp-${process.ppid}-0badf00d`;
    fs.writeFileSync(path.join(dest, dead), 'partial');
    fs.writeFileSync(path.join(dest, live), 'partial');
    await run([dump], path.join(t, 'sql'), ['MITx/6.002x/2T2016']);
    expect(fs.readdirSync(dest).sort()).toEqual([live, '_rejects', 'users.csv.gz'].sort());
  });
});

// ---- course SQL dirs -----------------------------------------------------------------------------

describe('course SQL dirs', () => {
  function touch(p: string): void {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, '');
  }

  it('candidate names in order, UNKNOWN never one of them', () => {
    expect(courseDirCandidates('course-v1:MITx+6.00x+1T2017')).toEqual(['MITx__6.00x__1T2017', 'MITx-6.00x-1T2017', '6.00x-1T2017']);
    expect(waldoCourseDirName('UNKNOWN')).toBe('%55NKNOWN');
    expect(waldoCourseDirName('../x/y')).toBe('%2E.-x-y');
  });

  it('finds the course dir, picks the latest date holding users and enrollment, or the pinned date', async () => {
    const sql = scratch();
    const c = path.join(sql, 'MITx-6.00x-1T2017');
    for (const d of ['2017-01-01', '2017-02-01']) for (const f of ['users.csv.gz', 'enrollment.csv.gz']) touch(path.join(c, d, f));
    touch(path.join(c, '2017-03-01', 'users.csv.gz')); // half-copied newer dump
    touch(path.join(c, '2017-02-30', 'users.csv.gz')); // not a date
    touch(path.join(c, '2017-1-5', 'users.csv.gz'));
    touch(path.join(c, 'from_mongodb', 'users.json.gz'));
    touch(path.join(sql, 'UNKNOWN', 'MITx-6.00x-1T2017', '2018-01-01', 'users.csv.gz'));
    expect(await findCourseSqlDir(sql, 'MITx/6.00x/1T2017')).toBe(c);
    expect((await listDumpDates(c)).map((d) => [d.date, d.missing])).toEqual([
      ['2017-01-01', []],
      ['2017-02-01', []],
      ['2017-03-01', ['enrollment']],
    ]);
    expect(await chooseCourseSqlDir(sql, 'course-v1:MITx+6.00x+1T2017')).toEqual({ courseId: 'MITx/6.00x/1T2017', courseDir: c, date: '2017-02-01', dir: path.join(c, '2017-02-01'), pinned: false });
    expect(await chooseCourseSqlDir(sql, 'MITx/6.00x/1T2017', { date: '2017-01-01' })).toMatchObject({ date: '2017-01-01', pinned: true });
    await expect(chooseCourseSqlDir(sql, 'MITx/6.00x/1T2017', { date: '2016-01-01' })).rejects.toThrow(/no dump dated 2016-01-01.*2017-01-01, 2017-02-01, 2017-03-01/);
    await expect(chooseCourseSqlDir(sql, 'MITx/6.00x/1T2017', { date: '2016-13-01' })).rejects.toThrow(SqlDirError);
    await expect(findCourseSqlDir(sql, 'MITx/9.99x/1T2017')).rejects.toThrow(/tried MITx__9.99x__1T2017, MITx-9.99x-1T2017, 9.99x-1T2017/);

    // ORG__NUM__RUN is tried first, NUM-RUN last
    touch(path.join(sql, 'HarvardX__PH525x__1T2017', '2017-01-01', 'users.csv.gz'));
    touch(path.join(sql, 'HarvardX__PH525x__1T2017', '2017-01-01', 'enrollment.csv'));
    touch(path.join(sql, 'HarvardX-PH525x-1T2017', '2017-05-01', 'users.csv.gz'));
    expect(await chooseCourseSqlDir(sql, 'HarvardX/PH525x/1T2017')).toMatchObject({ date: '2017-01-01', courseDir: path.join(sql, 'HarvardX__PH525x__1T2017') });
    touch(path.join(sql, 'CS50-2015', '2015-06-01', 'users.csv.gz'));
    await expect(chooseCourseSqlDir(sql, 'HarvardX/CS50/2015')).rejects.toThrow(/no dump date in .*CS50-2015 holds users and enrollment: 2015-06-01 \(no enrollment\)/);
    touch(path.join(sql, 'Empty-A-B', 'notes.txt'));
    await expect(chooseCourseSqlDir(sql, 'Empty/A/B')).rejects.toThrow(/no dump date directory/);
  });
});
