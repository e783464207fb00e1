import fs from 'node:fs';
import { loadConfig } from '../config.ts';
import { chooseCourseSqlDir, UNKNOWN_SQL_DIR } from '../dump/sqlDirs.ts';
import { loadDump, type DumpLoadSummary } from '../dump/setupSql.ts';
import { waldofy } from '../dump/waldofy.ts';
import { localDumpInputs } from './waldofy.ts';
import { slashCourseId } from '../ids.ts';
import { fmtInt } from '../logs/progress.ts';
import { openDuckDBWarehouse } from '../warehouse/duckdb.ts';

export interface SetupSqlCliOptions {
  sqlDir?: string;
  warehouse?: string;
  date?: string;
  /** A weekly dump (dir, .zip or s3:// URL) to waldofy into the SQL directory first. */
  dump?: string;
  json?: boolean;
  config?: string;
}

/**
 * The course ids of the course directories under sqlDir, when none are given: `ORG-NUM-RUN` with
 * exactly two dashes, or `ORG__NUM__RUN`. Other names are ambiguous (a course number may hold a
 * dash) and are reported: name those courses explicitly.
 */
async function discoverCourses(sqlDir: string): Promise<{ courses: string[]; ambiguous: string[] }> {
  const names = (await fs.promises.readdir(sqlDir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && e.name !== UNKNOWN_SQL_DIR && !e.name.startsWith('.')).map((e) => e.name).sort();
  const courses: string[] = [];
  const ambiguous: string[] = [];
  for (const n of names) {
    const parts = n.includes('__') ? n.split('__') : n.split('-');
    if (parts.length === 3 && parts.every((p) => p !== '')) courses.push(parts.join('/'));
    else ambiguous.push(n);
  }
  return { courses, ambiguous };
}

function formatSummary(s: DumpLoadSummary & { date: string }): string {
  const t = (n: string) => fmtInt(s.rows[n] ?? 0);
  const lines = [
    `  ${s.course} (dump ${s.date}) → schema ${s.schema} in ${s.seconds.toFixed(1)} s: user_info_combo ${t('user_info_combo')}, users ${t('users')}, enrollment ${t('enrollment')}, certificates ${t('certificates')}, studentmodule ${t('studentmodule')}, roles ${t('roles')}, forum ${t('forum')}`,
  ];
  for (const m of s.missing) lines.push(`    missing: ${m}`);
  if (s.forumRejects > 0) lines.push(`    forum: ${s.forumRejects} unreadable line(s), in ${s.dumpDir}/_rejects/forum.jsonl.gz`);
  for (const f of s.sideloads) lines.push(`    side-load ${f.file}: ${fmtInt(f.rows)} row(s)${f.rejects > 0 ? `, ${fmtInt(f.rejects)} unreadable line(s), in ${f.rejectFile}` : ''}`);
  for (const n of s.sideloadNotes) lines.push(`    side-load: ${n}`);
  if (s.sideloadEffect) lines.push(`    user_info_combo: ${fmtInt(s.sideloadEffect.y1Anomalous)} profile(s) from from_mongodb (y1_anomalous), ${fmtInt(s.sideloadEffect.dashboardGrades)} instructor-dashboard grade(s)`);
  const unknown = Object.keys(s.forumUnknownKeys);
  if (unknown.length > 0) lines.push(`    forum fields outside the schema (not loaded): ${unknown.join(', ')}`);
  return lines.join('\n');
}

/** Runs `edx2bq setup-sql`; returns the exit code (1 when a course failed). */
export async function runSetupSql(courseArgs: string[], o: SetupSqlCliOptions): Promise<number> {
  const cfg = loadConfig({ sqlDir: o.sqlDir, warehouse: o.warehouse, config: o.config });
  let courses = courseArgs.map((c) => slashCourseId(c));
  if (o.dump !== undefined) {
    const w = await waldofy(await localDumpInputs([o.dump], cfg.s3CacheDir), { sqlDir: cfg.sqlDir, courses, gzipLevel: cfg.gzipLevel });
    if (w.inputs.some((i) => i.status === 'failed')) throw new Error(`the dump ${o.dump} could not be read: ${w.inputs.map((i) => i.error ?? '').filter(Boolean).join('; ')}`);
    process.stderr.write(`setup-sql: waldofied ${o.dump}: ${w.files.written} file(s) written, ${w.files.kept} kept, ${w.rejects} rejected row(s)\n`);
  }
  if (courses.length === 0) {
    const found = await discoverCourses(cfg.sqlDir);
    for (const a of found.ambiguous) process.stderr.write(`setup-sql: skipped ${cfg.sqlDir}/${a}: cannot tell its course id from the name; name the course explicitly\n`);
    courses = found.courses;
    if (courses.length === 0) throw new Error(`no course directories in ${cfg.sqlDir}; run waldofy first, or name the courses`);
  }
  const wh = await openDuckDBWarehouse(cfg.warehouse);
  const done: Array<DumpLoadSummary & { date: string }> = [];
  const failed: Array<{ course: string; error: string }> = [];
  try {
    for (const course of courses) {
      try {
        const dir = await chooseCourseSqlDir(cfg.sqlDir, course, { date: o.date ?? cfg.dumpDates[course] });
        if (!o.json) process.stderr.write(`setup-sql: ${course}: loading ${dir.dir}\n`);
        done.push({ ...(await loadDump(wh, course, dir.dir, 'setup-sql', { pinned: dir.pinned })), date: dir.date });
      } catch (e) {
        failed.push({ course, error: (e as Error).message });
      }
    }
  } finally {
    await wh.close();
  }
  if (o.json) process.stdout.write(JSON.stringify({ warehouse: cfg.warehouse, courses: done, failed }, null, 2) + '\n');
  else {
    process.stdout.write(`setup-sql: ${done.length} course(s) loaded into ${cfg.warehouse}, ${failed.length} failed\n`);
    for (const s of done) process.stdout.write(formatSummary(s) + '\n');
    for (const f of failed) process.stdout.write(`  FAILED ${f.course}: ${f.error}\n`);
  }
  return failed.length > 0 ? 1 : 0;
}
