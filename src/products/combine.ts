/**
 * combinepc and report (spec sql-and-person-course.md §8, REC): the combined person_course of
 * several courses in the shared schema, a dated archive copy, exported as gzipped CSV and Parquet;
 * and the report tables: per-course summary statistics computed from it, and the cross-course
 * tables over the same courses' own tables (unions, email addresses, modal language).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { escapeChars } from '../ids.ts';
import { exportTable, type ExportFileResult } from '../warehouse/export.ts';
import { courseSchema, NamingError, SHARED_SCHEMA } from '../warehouse/naming.ts';
import { renderSqlFile } from '../warehouse/sqlFile.ts';
import type { QueryResult, TableFromSql, Warehouse } from '../warehouse/warehouse.ts';

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
 * columns aligned by name) as the dated archive `courses.person_course_YYYY_MM_DD`, and
 * `courses.person_course`, a view of it (the latest), exported to `<out>/courses/`.
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
  // the dated archive holds the rows; the latest is a view of the newest archive (copying 1M × 82
  // columns a second time cost ~5 s of the combine step, measured)
  const [combined] = await wh.createTablesAs([
    { table: { schema: SHARED_SCHEMA, table: archive }, selectSql: union, provenance: { command, step: 'UNION ALL BY NAME of the courses\' person_course (dated archive)', inputs } },
    { table: { schema: SHARED_SCHEMA, table: COMBINED_TABLE }, selectSql: `SELECT * FROM ${wh.dialect.tableRef(SHARED_SCHEMA, archive)}`, provenance: { command, step: 'the latest combined person_course: a view of the newest dated archive', inputs: [`${SHARED_SCHEMA}.${archive}`] }, view: true },
  ]);
  const dir = path.join(o.out, SHARED_SCHEMA);
  await fs.promises.mkdir(dir, { recursive: true });
  // both at once: the engine writes the Parquet file while Node gzips the CSV (the warehouse runs
  // one statement at a time, the gzip is outside it; measured ~2 s less for 1M learners)
  const files = await Promise.all([
    exportTable(wh, { schema: SHARED_SCHEMA, table: archive }, 'csv', path.join(dir, `${archive}.csv.gz`)),
    exportTable(wh, { schema: SHARED_SCHEMA, table: archive }, 'parquet', path.join(dir, `${archive}.parquet`)),
  ]);
  return { courses: present, missing, rows: combined!.rowsWritten, archive, files };
}

export interface ReportSummary {
  /** The headline table (broad_stats_by_course) and its headline columns. */
  table: string;
  result: QueryResult;
  file: ExportFileResult;
  /** Every report table written, with its CSV. */
  files: ExportFileResult[];
  /** The courses of the combined person_course, sorted: the cross-course tables read their tables. */
  courses: string[];
  /** Per cross-course table: the courses whose input table went in, and those lacking it. */
  sources: ReportSource[];
  /** Report tables not written, each with the reason. */
  skipped: string[];
}

export interface ReportSource {
  table: string;
  /** The per-course table read. */
  input: string;
  used: string[];
  missing: string[];
}

/** The report tables of spec §8.2 computed from the combined person_course, in order (each may read the ones before it). */
export const REPORT_TABLES = ['broad_stats_by_course', 'populations_stats_by_course', 'geographic_distributions', 'multi_registrations', 'overall_stats', 'enrollday_sql'] as const;

/** The median tables (§8.2 step 5): population → its condition on the combined person_course (learners only, REC). */
const MEDIAN_POPULATIONS: Readonly<Record<string, string>> = {
  viewed_median_stats_by_course: 'viewed',
  explored_median_stats_by_course: 'explored AND viewed',
  certified_median_stats_by_course: 'certified AND viewed',
  verified_median_stats_by_course: "mode = 'verified' AND viewed",
};

/** The union tables (§8.2 steps 3–4): report table → the per-course table it unites. */
const UNION_TABLES: Readonly<Record<string, string>> = {
  course_axis: 'course_axis',
  person_course_day_allcourses: 'person_course_day',
};

export const EMAIL_TABLE = 'email_addresses';
/** §8.2 step 10: hours on task from the total (parallel) and the serial per-category times. */
export const TIME_ON_TASK_STATS = ['time_on_task_stats_by_course', 'time_on_task_serial_stats_by_course'] as const;
/** The columns of sql/time_on_task_stats_by_course.sql after course_id. */
const TIME_ON_TASK_STATS_COLUMNS = ['sum', 'median'].flatMap((agg) =>
  ['', '_viewed', '_certified', '_verified'].flatMap((pop) => ['total', 'problem', 'video', 'forum'].map((x) => `${agg}_${x}_hours${pop}`)));
export const GLOBAL_MODAL_LANG_TABLE = 'global_modal_lang';

/**
 * The institution of a course id: the part before the first `/` of the slash form
 * (`MITx/6.002x/2013_Spring` → `MITx`); for another key kind (`ccx-v1:MITx+6.002x+2T2014+ccx@3`)
 * the part between `:` and the first `+`; else the whole id.
 */
export function courseOrg(courseId: string): string {
  const slash = courseId.indexOf('/');
  if (slash >= 0) return courseId.slice(0, slash);
  const key = /^[^:/+]+:([^+]+)\+/.exec(courseId);
  return key ? key[1]! : courseId;
}

const MAX_ORG_CHARS = 64;
const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const hash8 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 8);

/**
 * `email_addresses_<ORG>` for each org (an org comes from data, so it is untrusted): letters and
 * digits are kept, every other character becomes `_` and two upper-case hex digits per UTF-8 byte
 * (`_` itself too, so distinct orgs give distinct names: `edX.org` → `edX_2Eorg`); a suffix over
 * 64 characters is cut to 54 and ends in `_h` and 8 hex digits of a hash of the org. Table names
 * are case-insensitive, so orgs whose names differ only in case (`MITx`, `mitx`) each get the
 * `_h` hash too. No escape makes `_h`, so a hashed name never equals another org's name.
 */
export function emailTableNames(orgs: readonly string[]): Map<string, string> {
  const base = new Map<string, string>();
  for (const org of new Set(orgs)) {
    let s = escapeChars(org, isAlnum, '_');
    if (s.length > MAX_ORG_CHARS) s = `${s.slice(0, MAX_ORG_CHARS - 10)}_h${hash8(org)}`;
    base.set(org, `${EMAIL_TABLE}_${s}`);
  }
  const byFolded = new Map<string, number>();
  for (const name of base.values()) byFolded.set(name.toLowerCase(), (byFolded.get(name.toLowerCase()) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const [org, name] of base) out.set(org, (byFolded.get(name.toLowerCase()) ?? 0) > 1 ? `${name}_h${hash8(org)}` : name);
  return out;
}

/** The course ids of the combined person_course, sorted, each with its schema (ids without one are left out). */
async function combinedCourses(wh: Warehouse, source: string): Promise<Array<{ course: string; schema: string }>> {
  const r = await wh.query(`SELECT DISTINCT course_id FROM ${source} WHERE course_id IS NOT NULL ORDER BY course_id`);
  const out: Array<{ course: string; schema: string }> = [];
  const seen = new Set<string>();
  for (const [id] of r.rows) {
    let schema: string;
    try {
      schema = courseSchema(String(id));
    } catch (e) {
      if (e instanceof NamingError) continue;
      throw e;
    }
    if (seen.has(schema)) continue;
    seen.add(schema);
    out.push({ course: String(id), schema });
  }
  return out;
}

export interface ReportOptions {
  out: string;
  command?: string;
  /** Only these courses (slash-form ids) of the combined person_course; default all of them. */
  courses?: readonly string[];
  /**
   * Also export person_course_day_allcourses (§8.2 step 4) as CSV. The table itself is a view of
   * the courses' person_course_day (always made, costs nothing); its CSV holds every person-day,
   * which costs far more than the rest of the report (measured: ~10 s for 3M person-days), so it
   * is asked for.
   */
  pcdayAllcourses?: boolean;
}

/** The report tables in the shared schema from the combined person_course and the courses' own tables, each exported as CSV. */
export async function buildReport(wh: Warehouse, o: ReportOptions): Promise<ReportSummary> {
  if (!(await wh.tableExists({ schema: SHARED_SCHEMA, table: COMBINED_TABLE }))) throw new Error('no combined person_course (courses.person_course): run combinepc first');
  const command = o.command ?? 'report';
  const d = wh.dialect;
  const tables = { person_course_all: d.tableRef(SHARED_SCHEMA, COMBINED_TABLE) };
  if (o.courses !== undefined && o.courses.length > 0) {
    // only these courses of the combined person_course (slash-form ids, as the table holds them)
    const wanted = [...new Set(o.courses)];
    const present = new Set((await wh.query(`SELECT DISTINCT course_id FROM ${tables.person_course_all}`)).rows.map((r) => String(r[0])));
    const absent = wanted.filter((c) => !present.has(c));
    if (absent.length > 0) throw new Error(`not in the combined person_course (courses.person_course): ${absent.join(', ')}; run combinepc with them first`);
    tables.person_course_all = `(SELECT * FROM ${tables.person_course_all} WHERE course_id IN (${wanted.map((c) => d.stringLiteral(c)).join(', ')}))`;
  }
  const inputs = [`${SHARED_SCHEMA}.${COMBINED_TABLE}`];
  const medians = Object.entries(MEDIAN_POPULATIONS).map(([table, condition]) => ({
    table: { schema: SHARED_SCHEMA, table },
    selectSql: renderSqlFile('median_stats_by_course', d, SHARED_SCHEMA, {}, {
      population: `(SELECT * FROM ${tables.person_course_all} WHERE (roles IS NULL OR roles = 'Student') AND ${condition})`,
    }),
    provenance: { command, step: `sql/median_stats_by_course.sql (${condition})`, inputs },
  }));
  const steps: TableFromSql[] = [
    ...REPORT_TABLES.map((table) => ({
      table: { schema: SHARED_SCHEMA, table },
      selectSql: renderSqlFile(table, d, SHARED_SCHEMA, {}, tables),
      provenance: { command, step: `sql/${table}.sql`, inputs },
    })),
    ...medians,
  ];

  // the cross-course tables read the courses' own tables, in sorted course order
  const courses = await combinedCourses(wh, tables.person_course_all);
  const sources: ReportSource[] = [];
  const skipped: string[] = [];
  const having = async (table: string, input: string): Promise<Array<{ course: string; schema: string }>> => {
    const used: Array<{ course: string; schema: string }> = [];
    const missing: string[] = [];
    for (const c of courses) {
      if (await wh.tableExists({ schema: c.schema, table: input })) used.push(c);
      else missing.push(c.course);
    }
    sources.push({ table, input, used: used.map((c) => c.course), missing });
    if (used.length === 0) skipped.push(`${table}: no course has a ${input} table`);
    return used;
  };
  const refs = (cs: Array<{ schema: string }>, input: string) => cs.map((c) => `${c.schema}.${input}`);
  /** `(SELECT <columns> FROM <course>.<input> UNION ALL …)` over the courses given. */
  const unionOf = (cs: Array<{ schema: string }>, input: string, columns: string) =>
    `(\n  ${cs.map((c) => `SELECT ${columns} FROM ${d.tableRef(c.schema, input)}`).join('\n  UNION ALL\n  ')}\n)`;

  // unions are views: nothing copied, always what the courses' tables hold now (as of this
  // report's list of courses)
  const notExported = new Set<string>();
  for (const [table, input] of Object.entries(UNION_TABLES)) {
    const used = await having(table, input);
    if (used.length === 0) continue;
    steps.push({
      table: { schema: SHARED_SCHEMA, table },
      selectSql: used.map((c) => `SELECT * FROM ${d.tableRef(c.schema, input)}`).join('\nUNION ALL BY NAME\n'),
      provenance: { command, step: `UNION ALL BY NAME of the courses' ${input} (a view)`, inputs: refs(used, input) },
      view: true,
    });
    if (table === 'person_course_day_allcourses' && !o.pcdayAllcourses) {
      notExported.add(table);
      skipped.push(`${table}: made (a view) but not exported as CSV (--pcday-allcourses exports it)`);
    }
  }

  const uic = await having(EMAIL_TABLE, 'user_info_combo');
  if (uic.length > 0) {
    const emails = (cs: Array<{ schema: string }>) =>
      renderSqlFile(EMAIL_TABLE, d, SHARED_SCHEMA, {}, {
        user_info_combo: unionOf(cs, 'user_info_combo', 'username, email'),
      });
    steps.push({ table: { schema: SHARED_SCHEMA, table: EMAIL_TABLE }, selectSql: emails(uic), provenance: { command, step: `sql/${EMAIL_TABLE}.sql`, inputs: refs(uic, 'user_info_combo') } });
    const byOrg = new Map<string, Array<{ course: string; schema: string }>>();
    for (const c of uic) byOrg.set(courseOrg(c.course), [...(byOrg.get(courseOrg(c.course)) ?? []), c]);
    const names = emailTableNames([...byOrg.keys()]);
    for (const [org, cs] of [...byOrg].sort(([a], [b]) => (names.get(a)! < names.get(b)! ? -1 : 1))) {
      const table = names.get(org)!;
      // one org with every course: the same rows as email_addresses, so a view of it, not a copy
      const whole = byOrg.size === 1;
      steps.push({
        table: { schema: SHARED_SCHEMA, table },
        selectSql: whole ? `SELECT * FROM ${d.tableRef(SHARED_SCHEMA, EMAIL_TABLE)}` : emails(cs),
        provenance: { command, step: whole ? `${SHARED_SCHEMA}.${EMAIL_TABLE} (a view: org ${JSON.stringify(org)} has every course)` : `sql/${EMAIL_TABLE}.sql (org ${JSON.stringify(org)})`, inputs: refs(cs, 'user_info_combo') },
        view: whole,
      });
    }
  }

  const trlang = await having(GLOBAL_MODAL_LANG_TABLE, 'pcday_trlang_counts');
  if (trlang.length > 0) {
    const union = unionOf(trlang, 'pcday_trlang_counts', 'username, resource_event_data, resource_event_type, langcount, last_time');
    const modal = renderSqlFile('course_modal_language', d, SHARED_SCHEMA, {}, { pcday_trlang_counts: union });
    steps.push({
      table: { schema: SHARED_SCHEMA, table: GLOBAL_MODAL_LANG_TABLE },
      selectSql: renderSqlFile(GLOBAL_MODAL_LANG_TABLE, d, SHARED_SCHEMA, {}, { course_modal_language: `(\n${modal}\n)` }),
      provenance: { command, step: `sql/course_modal_language.sql over the union of the courses' pcday_trlang_counts, then sql/${GLOBAL_MODAL_LANG_TABLE}.sql`, inputs: refs(trlang, 'pcday_trlang_counts') },
    });
  }

  // time on task (step 10): total and serial hours from the courses' time_on_task_totals, by one
  // SQL file; the serial table takes the serial category times and its columns' serial names
  const tot = await having(TIME_ON_TASK_STATS[0], 'time_on_task_totals');
  if (tot.length > 0) {
    for (const [table, prefix] of [[TIME_ON_TASK_STATS[0], 'total'], [TIME_ON_TASK_STATS[1], 'serial']] as const) {
      const hours = unionOf(tot, 'time_on_task_totals', `course_id, username, total_time_30 / 3600.0 AS total_hours, ${['video', 'problem', 'forum'].map((x) => `${prefix}_${x}_time_30 / 3600.0 AS ${x}_hours`).join(', ')}`);
      const stats = renderSqlFile(TIME_ON_TASK_STATS[0], d, SHARED_SCHEMA, {}, { ...tables, tot_hours: hours });
      steps.push({
        table: { schema: SHARED_SCHEMA, table },
        selectSql: prefix === 'total' ? stats : `SELECT * RENAME (${TIME_ON_TASK_STATS_COLUMNS.map((c) => `${c} AS ${c.replace('_hours', '_serial_hours')}`).join(', ')})\nFROM (\n${stats}\n)`,
        provenance: { command, step: `sql/${TIME_ON_TASK_STATS[0]}.sql${prefix === 'total' ? '' : ' on the serial times'}`, inputs: [...refs(tot, 'time_on_task_totals'), ...inputs] },
      });
    }
  }

  await wh.createTablesAs(steps);
  const dir = path.join(o.out, SHARED_SCHEMA);
  await fs.promises.mkdir(dir, { recursive: true });
  // the engine writes one CSV at a time; Node gzips the previous ones meanwhile
  const files: ExportFileResult[] = await Promise.all(
    steps.filter((s) => !notExported.has(s.table.table)).map((s) => exportTable(wh, s.table, 'csv', path.join(dir, `${s.table.table}.csv.gz`))),
  );
  const table = 'broad_stats_by_course';
  const result = await wh.query(`SELECT course_id, registered_sum AS registered, viewed_sum AS viewed, explored_sum AS explored, certified_sum AS certified,
    n_verified_id AS verified, verified_certified AS certified_and_verified, n_have_ip, n_missing_cc FROM ${d.tableRef(SHARED_SCHEMA, table)} ORDER BY course_id`);
  return { table, result, file: files[0]!, files, courses: courses.map((c) => c.course), sources, skipped };
}
