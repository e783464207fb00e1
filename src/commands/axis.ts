import { slashCourseId } from '../ids.ts';
import { loadConfig } from '../config.ts';
import { AxisInputError } from '../axis/errors.ts';
import { SqlDirError } from '../dump/sqlDirs.ts';
import { findAxisSource } from '../axis/sources.ts';
import { loadAxis, type AxisLoadSummary, type AxisSource } from '../axis/tables.ts';
import { openDuckDBWarehouse } from '../warehouse/duckdb.ts';
import { NamingError } from '../warehouse/naming.ts';

export interface AxisCliOptions {
  /** The course SQL base dir to find the tarball in (default: the configured one). */
  sqlDir?: string;
  warehouse?: string;
  config?: string;
  /** An OLX tarball given directly (used for every course named). */
  tarball?: string;
  /** A course_structure JSON file given directly (used when no tarball is given). */
  courseStructure?: string;
  /** The dump date directory (`YYYY-MM-DD`); default the latest. */
  date?: string;
}

/** Warnings printed per course; the rest are counted. */
const SHOWN_WARNINGS = 8;

export function formatAxisSummary(s: AxisLoadSummary): string {
  const cats = Object.entries(s.categories);
  const main = ['chapter', 'sequential', 'vertical', 'problem', 'video', 'html'];
  const parts = main.filter((c) => s.categories[c] !== undefined).map((c) => `${s.categories[c]} ${c}`);
  const other = cats.filter(([c]) => !main.includes(c) && c !== 'course').reduce((n, [, k]) => n + k, 0);
  if (other > 0) parts.push(`${other} other`);
  const from = s.source === 'olx' ? `${s.input} (run ${s.run ?? '?'})` : `${s.input} (course_structure fallback)`;
  const nWarn = s.warnings.length + s.warningsDropped;
  return (
    `axis: ${s.courseId} → schema ${s.schema}: course_axis ${s.courseAxisRows} rows (${parts.join(', ') || 'no content'}), ` +
    `grading_policy ${s.gradingPolicyRows} rows; from ${from}${nWarn > 0 ? `; ${nWarn} warning(s)` : ''}`
  );
}

async function resolveSource(course: string, o: AxisCliOptions, sqlDir: string, pinned: Readonly<Record<string, string>>): Promise<AxisSource> {
  if (o.tarball) return { tarball: o.tarball };
  if (o.courseStructure) return { structureJson: o.courseStructure };
  // --date, else the config's pinned date (spec §1.6: course_axis_pin_dates), else the latest
  return (await findAxisSource(sqlDir, course, o.date ?? pinned[slashCourseId(course)])).source;
}

/**
 * Runs `edx2bq axis <course>…`: course_axis and grading_policy per course. A course whose input
 * is missing or corrupt is reported and skipped; the others still load. Exit code 1 when any
 * course failed.
 */
export async function runAxis(courses: string[], opts: AxisCliOptions): Promise<number> {
  const cfg = loadConfig({ warehouse: opts.warehouse, sqlDir: opts.sqlDir, config: opts.config });
  if (courses.length === 0) {
    process.stderr.write('axis: name at least one course id\n');
    return 1;
  }
  const wh = await openDuckDBWarehouse(cfg.warehouse);
  let failed = 0;
  try {
    for (const course of courses) {
      try {
        const summary = await loadAxis(wh, course, await resolveSource(course, opts, cfg.sqlDir, cfg.dumpDates), 'axis');
        process.stdout.write(formatAxisSummary(summary) + '\n');
        for (const w of summary.warnings.slice(0, SHOWN_WARNINGS)) process.stderr.write(`axis: ${summary.courseId}: warning: ${w}\n`);
        const more = summary.warnings.length + summary.warningsDropped - SHOWN_WARNINGS;
        if (more > 0) process.stderr.write(`axis: ${summary.courseId}: … and ${more} more warning(s)\n`);
      } catch (e) {
        failed++;
        if (e instanceof AxisInputError || e instanceof NamingError || e instanceof SqlDirError) process.stderr.write(`axis: ${slashCourseId(course)}: error: ${e.message}\n`);
        else process.stderr.write(`axis: ${slashCourseId(course)}: error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      }
    }
  } finally {
    await wh.close();
  }
  if (failed > 0) process.stderr.write(`axis: ${failed} of ${courses.length} course(s) failed\n`);
  return failed > 0 ? 1 : 0;
}
