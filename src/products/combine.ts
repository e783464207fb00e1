/**
 * combinepc and report (spec sql-and-person-course.md §8, REC): the combined person_course of
 * several courses in the shared schema, a dated archive copy, exported as gzipped CSV and Parquet;
 * and the per-course summary statistics computed from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exportTable, type ExportFileResult } from '../warehouse/export.ts';
import { courseSchema, SHARED_SCHEMA } from '../warehouse/naming.ts';
import { renderSqlFile } from '../warehouse/sqlFile.ts';
import type { QueryResult, Warehouse } from '../warehouse/warehouse.ts';

export const COMBINED_TABLE = 'person_course';

/** `person_course_YYYY_MM_DD` for a date (UTC). */
export function archiveTableName(date: Date): string {
  return `person_course_${date.toISOString().slice(0, 10).replace(/-/g, '_')}`;
}

export interface CombineSummary {
  courses: string[];
  missing: string[];
  rows: number;
  archive: string;
  files: ExportFileResult[];
}

/**
 * `UNION ALL BY NAME` of the courses' person_course tables in the order given (REC: a fixed order,
 * columns aligned by name), as `courses.person_course` and `courses.person_course_YYYY_MM_DD`,
 * exported to `<out>/courses/`.
 */
export async function combinePersonCourse(wh: Warehouse, courses: readonly string[], o: { out: string; date?: Date; command?: string }): Promise<CombineSummary> {
  const command = o.command ?? 'combinepc';
  const present: string[] = [];
  const missing: string[] = [];
  for (const c of courses) ((await wh.tableExists({ schema: courseSchema(c), table: 'person_course' })) ? present : missing).push(c);
  if (present.length === 0) throw new Error(`none of the ${courses.length} course(s) has a person_course table: run person-course first`);
  const union = present.map((c) => `SELECT * FROM ${wh.dialect.tableRef(courseSchema(c), 'person_course')}`).join('\nUNION ALL BY NAME\n');
  const archive = archiveTableName(o.date ?? new Date());
  const inputs = present.map((c) => `${courseSchema(c)}.person_course`);
  const [combined] = await wh.createTablesAs([
    { table: { schema: SHARED_SCHEMA, table: COMBINED_TABLE }, selectSql: union, provenance: { command, step: 'UNION ALL BY NAME of the courses\' person_course', inputs } },
    { table: { schema: SHARED_SCHEMA, table: archive }, selectSql: `SELECT * FROM ${wh.dialect.tableRef(SHARED_SCHEMA, COMBINED_TABLE)}`, provenance: { command, step: 'dated archive copy', inputs: [`${SHARED_SCHEMA}.${COMBINED_TABLE}`] } },
  ]);
  const dir = path.join(o.out, SHARED_SCHEMA);
  await fs.promises.mkdir(dir, { recursive: true });
  const files = [
    await exportTable(wh, { schema: SHARED_SCHEMA, table: archive }, 'csv', path.join(dir, `${archive}.csv.gz`)),
    await exportTable(wh, { schema: SHARED_SCHEMA, table: archive }, 'parquet', path.join(dir, `${archive}.parquet`)),
  ];
  return { courses: present, missing, rows: combined!.rowsWritten, archive, files };
}

export interface ReportSummary {
  /** The headline table (broad_stats_by_course) and its headline columns. */
  table: string;
  result: QueryResult;
  file: ExportFileResult;
  /** Every report table written, with its CSV. */
  files: ExportFileResult[];
}

/** The report tables of spec §8.2 built so far, in order (each may read the ones before it). */
export const REPORT_TABLES = ['broad_stats_by_course', 'populations_stats_by_course', 'geographic_distributions', 'multi_registrations', 'overall_stats'] as const;

/** The median tables (§8.2 step 5): population → its condition on the combined person_course (learners only, REC). */
const MEDIAN_POPULATIONS: Readonly<Record<string, string>> = {
  viewed_median_stats_by_course: 'viewed',
  explored_median_stats_by_course: 'explored AND viewed',
  certified_median_stats_by_course: 'certified AND viewed',
  verified_median_stats_by_course: "mode = 'verified' AND viewed",
};

/** The report tables in the shared schema from the combined person_course, each exported as CSV. */
export async function buildReport(wh: Warehouse, o: { out: string; command?: string }): Promise<ReportSummary> {
  if (!(await wh.tableExists({ schema: SHARED_SCHEMA, table: COMBINED_TABLE }))) throw new Error('no combined person_course (courses.person_course): run combinepc first');
  const tables = { person_course_all: wh.dialect.tableRef(SHARED_SCHEMA, COMBINED_TABLE) };
  const inputs = [`${SHARED_SCHEMA}.${COMBINED_TABLE}`];
  const medians = Object.entries(MEDIAN_POPULATIONS).map(([table, condition]) => ({
    table: { schema: SHARED_SCHEMA, table },
    selectSql: renderSqlFile('median_stats_by_course', wh.dialect, SHARED_SCHEMA, {}, {
      population: `(SELECT * FROM ${tables.person_course_all} WHERE (roles IS NULL OR roles = 'Student') AND ${condition})`,
    }),
    provenance: { command: o.command ?? 'report', step: `sql/median_stats_by_course.sql (${condition})`, inputs },
  }));
  await wh.createTablesAs([
    ...REPORT_TABLES.map((table) => ({
      table: { schema: SHARED_SCHEMA, table },
      selectSql: renderSqlFile(table, wh.dialect, SHARED_SCHEMA, {}, tables),
      provenance: { command: o.command ?? 'report', step: `sql/${table}.sql`, inputs },
    })),
    ...medians,
  ]);
  const dir = path.join(o.out, SHARED_SCHEMA);
  await fs.promises.mkdir(dir, { recursive: true });
  const files: ExportFileResult[] = [];
  for (const table of [...REPORT_TABLES, ...Object.keys(MEDIAN_POPULATIONS)]) files.push(await exportTable(wh, { schema: SHARED_SCHEMA, table }, 'csv', path.join(dir, `${table}.csv.gz`)));
  const table = 'broad_stats_by_course';
  const result = await wh.query(`SELECT course_id, registered_sum AS registered, viewed_sum AS viewed, explored_sum AS explored, certified_sum AS certified,
    n_verified_id AS verified, verified_certified AS certified_and_verified, n_have_ip, n_missing_cc FROM ${wh.dialect.tableRef(SHARED_SCHEMA, table)} ORDER BY course_id`);
  return { table, result, file: files[0]!, files };
}
