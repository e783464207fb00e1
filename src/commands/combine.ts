import path from 'node:path';
import { loadConfig } from '../config.ts';
import { slashCourseId } from '../ids.ts';
import { buildReport, combinePersonCourse } from '../products/combine.ts';
import { openDuckDBWarehouse } from '../warehouse/duckdb.ts';
import { formatTable, DEFAULT_MAX_WIDTH } from './resultFormat.ts';
import { DEFAULT_EXPORT_DIR } from './export.ts';
import { loadedCourseSchemas } from './personCourse.ts';

export interface CombineCliOptions {
  warehouse?: string;
  out?: string;
  json?: boolean;
  config?: string;
  /** report: also write person_course_day_allcourses. */
  pcdayAllcourses?: boolean;
}

/** The courses to combine: those given, else every course with a person_course (by course id). */
async function coursesOf(wh: Awaited<ReturnType<typeof openDuckDBWarehouse>>, given: string[]): Promise<string[]> {
  if (given.length > 0) return given.map((c) => slashCourseId(c));
  const out: string[] = [];
  for (const s of await loadedCourseSchemas(wh)) {
    if (!(await wh.tableExists({ schema: s, table: 'person_course' }))) continue;
    const r = await wh.query(`SELECT course_id FROM ${wh.dialect.tableRef(s, 'person_course')} WHERE course_id IS NOT NULL LIMIT 1`);
    if (typeof r.rows[0]?.[0] === 'string') out.push(r.rows[0][0]);
  }
  return out;
}

export async function runCombinePc(courses: string[], o: CombineCliOptions): Promise<number> {
  const cfg = loadConfig({ warehouse: o.warehouse, config: o.config });
  const wh = await openDuckDBWarehouse(cfg.warehouse);
  try {
    const s = await combinePersonCourse(wh, await coursesOf(wh, courses), { out: o.out ?? DEFAULT_EXPORT_DIR });
    if (o.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    else {
      process.stdout.write(`combinepc: courses.person_course and courses.${s.archive}: ${s.rows.toLocaleString('en-US')} rows from ${s.courses.length} course(s)\n`);
      for (const f of s.files) process.stdout.write(`  ${f.file} (${f.bytes.toLocaleString('en-US')} bytes)\n`);
      for (const m of s.missing) process.stdout.write(`  skipped ${m}: no person_course\n`);
    }
    return s.missing.length > 0 ? 1 : 0;
  } finally {
    await wh.close();
  }
}

export async function runReport(courses: string[], o: CombineCliOptions): Promise<number> {
  const cfg = loadConfig({ warehouse: o.warehouse, config: o.config });
  const wh = await openDuckDBWarehouse(cfg.warehouse);
  try {
    const r = await buildReport(wh, { out: o.out ?? DEFAULT_EXPORT_DIR, pcdayAllcourses: o.pcdayAllcourses === true, courses: courses.map((c) => slashCourseId(c)) });
    if (o.json) {
      const tables = r.files.map((f) => ({ table: `courses.${f.table}`, file: f.file, rows: f.rows }));
      process.stdout.write(JSON.stringify({ table: `courses.${r.table}`, file: r.file.file, rows: r.result.rows, tables, sources: r.sources, skipped: r.skipped }, null, 2) + '\n');
    } else {
      process.stdout.write(formatTable(r.result.columns, r.result.rows, { maxWidth: DEFAULT_MAX_WIDTH }));
      process.stdout.write(`report: ${r.files.map((f) => `courses.${f.table}`).join(', ')} → ${path.dirname(r.file.file)}/\n`);
      for (const s of r.sources) if (s.used.length > 0 && s.missing.length > 0) process.stdout.write(`  courses.${s.table}: ${s.used.length} of ${r.courses.length} course(s); no ${s.input} in ${s.missing.join(', ')}\n`);
      for (const s of r.skipped) process.stdout.write(`  not written: ${s}\n`);
    }
    return 0;
  } finally {
    await wh.close();
  }
}
