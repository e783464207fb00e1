/**
 * The weekly-dump chain on the generator's dump — waldofy → setup-sql → axis — checked against
 * the generator's own truth (counts it decided on, never counts from the code under test).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLogs, type Truth } from '../scripts/generate-logs.ts';
import { findAxisSource } from '../src/axis/sources.ts';
import { loadAxis } from '../src/axis/tables.ts';
import { loadDump } from '../src/dump/setupSql.ts';
import { chooseCourseSqlDir } from '../src/dump/sqlDirs.ts';
import { waldofy, type WaldofySummary } from '../src/dump/waldofy.ts';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { courseSchema } from '../src/warehouse/naming.ts';
import { tempDir } from './helpers/logtree.ts';

let root: string;
let truth: Truth;
let wsum: WaldofySummary;
let wh: DuckDBWarehouse;

beforeAll(async () => {
  root = tempDir('dumpgen');
  truth = await generateLogs({ out: path.join(root, 'raw'), courses: 3, learners: 300, days: 2, seed: 21, malformedRate: 0, dump: true });
  const sqlDir = path.join(root, 'sql');
  wsum = await waldofy([path.join(root, 'raw', truth.dump!.dir)], { sqlDir, courses: [], gzipLevel: 1, log: () => undefined });
  wh = await openDuckDBWarehouse(path.join(root, 'w.duckdb'));
  for (const c of truth.courses) {
    const dir = await chooseCourseSqlDir(sqlDir, c.slashId);
    await loadDump(wh, c.slashId, dir.dir, 'test');
    await loadAxis(wh, c.slashId, (await findAxisSource(sqlDir, c.slashId)).source, 'test');
  }
}, 120_000);
afterAll(async () => {
  await wh?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const one = async (sql: string) => (await wh.query(sql)).rows[0]![0];

describe('waldofy → setup-sql → axis on the generated dump', () => {
  it('waldofy files every table of every course without rejects', () => {
    expect(wsum.rejects).toBe(0);
    expect(wsum.files.failed + wsum.files.refused).toBe(0);
    expect(wsum.coursesNotFound).toEqual([]);
  });

  it('user_info_combo, enrollment, certificates, roles and studentmodule match the truth', async () => {
    for (const c of truth.courses) {
      const t = truth.dump!.courses[c.slashId]!;
      const s = courseSchema(c.slashId);
      expect(await one(`SELECT count(*) FROM ${s}.user_info_combo`), c.slashId).toBe(t.registered);
      expect(await one(`SELECT count(*) FROM ${s}.user_info_combo WHERE enrollment_mode = 'verified'`)).toBe(t.verified);
      expect(await one(`SELECT count(*) FROM ${s}.user_info_combo WHERE enrollment_is_active = 0`)).toBe(t.unenrolled);
      expect(await one(`SELECT count(*) FROM ${s}.user_info_combo WHERE certificate_status = 'downloadable'`)).toBe(t.certified);
      expect(await one(`SELECT count(*) FROM ${s}.user_info_combo WHERE certificate_status IS NOT NULL AND enrollment_mode IS NULL`)).toBe(t.certificateWithoutEnrollment);
      expect(await one(`SELECT count(*) FROM ${s}.roles WHERE roles = 'Staff'`)).toBe(t.rolesStaff);
      expect(await one(`SELECT count(*) FROM ${s}.studentmodule`)).toBe(t.rows.courseware_studentmodule);
      // every module id in the i4x form after normalisation (REC §1.7)
      expect(await one(`SELECT count(*) FROM ${s}.studentmodule WHERE module_id LIKE 'block-v1:%'`)).toBe(0);
    }
  });

  it('forum and forum_posts match the truth', async () => {
    for (const c of truth.courses) {
      const f = truth.dump!.courses[c.slashId]!.forum;
      const s = courseSchema(c.slashId);
      expect(await one(`SELECT count(*) FROM ${s}.forum`)).toBe(f.documents);
      const posts = Object.fromEntries((await wh.query(`SELECT slug_type, count(*) FROM ${s}.forum_posts GROUP BY 1`)).rows.map(([k, n]) => [k, n]));
      expect(posts).toEqual({ initial_post: f.threads, response_post: f.responses, comment: f.comments });
    }
  });

  it("course_axis holds the course's chapters and the very videos and problems the logs use", async () => {
    for (const c of truth.courses) {
      const t = truth.dump!.courses[c.slashId]!;
      const s = courseSchema(c.slashId);
      expect(await one(`SELECT count(*) FROM ${s}.course_axis WHERE category = 'chapter'`)).toBe(t.chapters);
      const videos = (await wh.query(`SELECT url_name FROM ${s}.course_axis WHERE category = 'video' ORDER BY 1`)).rows.map((r) => r[0]);
      // the generator's ids are full keys (i4x://ORG/NUM/video/ID or block-v1:…+block@ID); the axis keys by url_name
      const idOf = (key: string) => key.replace(/^.*(?:\/|block@)/, '');
      expect(videos).toEqual(c.videos.map(idOf).sort());
      const problems = (await wh.query(`SELECT url_name FROM ${s}.course_axis WHERE category = 'problem' ORDER BY 1`)).rows.map((r) => r[0]);
      expect(problems).toEqual(c.problems.map(idOf).sort());
    }
  });
});

describe('person_course on the generated course, against the generator truth', () => {
  it('registered, viewed, explored, certified and log activity per course', async () => {
    const { splitLogs } = await import('../src/logs/split.ts');
    const { loadFacts } = await import('../src/aggregate/loadFacts.ts');
    const { buildPersonCourse } = await import('../src/products/personCourse.ts');
    const logsDir = path.join(root, 'logs');
    await splitLogs([path.join(root, 'raw')], { logsDir, workers: 2, chunkSize: 1 << 20, gzipLevel: 1, force: false, writeLogs: false, collectFacts: true });
    await loadFacts({ logsDir, warehouse: wh, command: 'test' });
    for (const c of truth.courses) {
      const t = truth.dump!.courses[c.slashId]!;
      const s = courseSchema(c.slashId);
      await buildPersonCourse(wh, c.slashId, { command: 'test', geo: false });
      const [row] = (await wh.query(`SELECT count(*), count(*) FILTER (WHERE viewed), count(*) FILTER (WHERE explored), count(*) FILTER (WHERE certified),
        count(*) FILTER (WHERE nevents IS NOT NULL), count(*) FILTER (WHERE roles = 'Staff') FROM ${s}.person_course`)).rows;
      expect(row, c.slashId).toEqual([t.registered, t.viewed, t.explored, t.certified, t.withLogActivity, t.rolesStaff]);
      // every activity column sums to what the generator wrote: base events, active days, and each counter
      const total = (get: (f: (typeof truth.files)[string]) => number) => Object.values(truth.files).reduce((a, f) => a + get(f), 0);
      const counter = (name: string) => total((f) => f.baseCounters[c.slashId]?.[name] ?? 0);
      const [sums] = (await wh.query(`SELECT sum(nevents), sum(ndays_act), sum(nplay_video), sum(nvideo), sum(npause_video), sum(nseek_video), sum(nseq_goto),
        sum(ntranscript), sum(nproblem_check), sum(nshow_answer), sum(nprogcheck), sum(nforum_events) FROM ${s}.person_course`)).rows;
      expect(sums, c.slashId).toEqual([
        total((f) => f.baseEvents[c.slashId] ?? 0), total((f) => f.learnerDays[c.slashId] ?? 0),
        counter('nvideo'), counter('nvideo'), counter('npause_video'), counter('nseek_video'), counter('nseq_goto'),
        counter('ntranscript'), counter('nproblem_check'), counter('nshow_answer'), counter('nprogcheck'), counter('nforum'),
      ]);
    }
  });
});

describe('setup-sql --dump', () => {
  it('waldofies the dump first, then loads the course', async () => {
    const { runSetupSql } = await import('../src/commands/setupSql.ts');
    const c = truth.courses[0]!;
    const sqlDir = path.join(root, 'sql2');
    const whFile = path.join(root, 'w2.duckdb');
    const write = process.stdout.write;
    const err = process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    let code: number;
    try {
      code = await runSetupSql([c.id], { dump: path.join(root, 'raw', truth.dump!.dir), sqlDir, warehouse: whFile });
    } finally {
      process.stdout.write = write;
      process.stderr.write = err;
    }
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(sqlDir, 'UNKNOWN'))).toBe(true); // the other courses, not asked for
    const w = await openDuckDBWarehouse(whFile, { readOnly: true });
    try {
      expect((await w.query(`SELECT count(*) FROM ${courseSchema(c.slashId)}.user_info_combo`)).rows[0]![0]).toBe(truth.dump!.courses[c.slashId]!.registered);
    } finally {
      await w.close();
    }
  });
});
