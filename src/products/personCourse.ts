/**
 * person_course of one course, built in the warehouse by the SQL in `sql/` (spec
 * sql-and-person-course.md §6, REC: an explicit DAG; every column rebuilt from the latest inputs):
 *
 *   user_info_combo, dump_info, roles, studentmodule, forum (setup-sql)
 *   course_axis, grading_policy                           (axis)
 *   person_course_day, pcday_ip_counts, pcday_trlang_counts, video_stats_day,
 *   person_enrollment_verified                            (person-day)
 *     → course_modal_ip, pc_modal_ip, pc_ip_geo, pc_geoip  (modal IP, geolocated once per IP)
 *     → pc_day_totals, pc_nchapters, pc_forum, course_modal_language, person_course_video_watched
 *     → person_course
 *
 * Only user_info_combo is required. A missing input stands for "nothing of that kind": its columns
 * are NULL in person_course (an empty subquery takes its place; nothing is written for it).
 */
import { createCourseModalIp } from '../geo/modalIp.ts';
import { geolocateTable, type GeolocateResult } from '../geo/geolocate.ts';
import type { GeoLookup } from '../geo/lookup.ts';
import { courseSchema, SHARED_SCHEMA } from '../warehouse/naming.ts';
import { renderSqlFile } from '../warehouse/sqlFile.ts';
import type { TableFromSql, Warehouse } from '../warehouse/warehouse.ts';

/** Empty stand-ins for optional inputs: the columns the SQL reads, with their types, no rows. */
const EMPTY_INPUTS: Readonly<Record<string, string>> = {
  studentmodule: 'SELECT NULL::VARCHAR AS module_type, NULL::VARCHAR AS module_id, NULL::BIGINT AS student_id WHERE false',
  forum: "SELECT NULL::BIGINT AS author_id, NULL::BIGINT AS votes_count, NULL::BOOLEAN AS pinned, NULL::BOOLEAN AS endorsed, NULL::VARCHAR AS _type WHERE false",
  person_course_day:
    'SELECT NULL::VARCHAR AS username, NULL::DATE AS date, ' +
    ['nevents', 'nprogcheck', 'nshow_answer', 'nvideo', 'nproblem_check', 'nforum', 'ntranscript', 'nseq_goto', 'nseek_video', 'npause_video', 'n_dt'].map((c) => `NULL::BIGINT AS ${c}`).join(', ') +
    ', NULL::DOUBLE AS sum_dt, NULL::DOUBLE AS sumsq_dt, NULL::DOUBLE AS max_dt, NULL::TIMESTAMP AS first_event, NULL::TIMESTAMP AS last_event WHERE false',
  pcday_trlang_counts: 'SELECT NULL::VARCHAR AS username, NULL::VARCHAR AS resource_event_data, NULL::VARCHAR AS resource_event_type, NULL::BIGINT AS langcount, NULL::TIMESTAMP AS last_time WHERE false',
  video_stats_day: 'SELECT NULL::VARCHAR AS username, NULL::VARCHAR AS video_id WHERE false',
  course_axis: 'SELECT NULL::VARCHAR AS category WHERE false',
  person_enrollment_verified: 'SELECT NULL::BIGINT AS user_id, NULL::TIMESTAMP AS verified_enroll_time, NULL::TIMESTAMP AS verified_unenroll_time WHERE false',
  // setup-sql's dump date (grade override, §6.5 row 26); absent in warehouses loaded before it existed
  dump_info: 'SELECT NULL::DATE AS sql_dir_date WHERE false',
  roles: 'SELECT NULL::BIGINT AS user_id, NULL::VARCHAR AS roles' +
    ['roles_isBetaTester', 'roles_isInstructor', 'roles_isStaff', 'roles_isCCX', 'roles_isFinance', 'roles_isLibrary', 'roles_isSales', 'forumRoles_isAdmin', 'forumRoles_isCommunityTA', 'forumRoles_isModerator', 'forumRoles_isStudent'].map((c) => `, NULL::INTEGER AS ${c}`).join('') +
    ' WHERE false',
};

const EMPTY_GEOIP =
  'SELECT NULL::VARCHAR AS username, NULL::VARCHAR AS ip, ' +
  ['cc_by_ip', 'countryLabel', 'continent', 'city', 'region', 'subdivision', 'postalCode'].map((c) => `NULL::VARCHAR AS ${c}`).join(', ') +
  ', NULL::DOUBLE AS latitude, NULL::DOUBLE AS longitude, ' +
  ['un_major_region', 'un_economic_group', 'un_developing_nation', 'un_special_region'].map((c) => `NULL::VARCHAR AS ${c}`).join(', ') +
  ' WHERE false';

const EMPTY_MODAL_IP = 'SELECT NULL::VARCHAR AS username, NULL::VARCHAR AS modal_ip, NULL::BIGINT AS ip_count WHERE false';

/** The person_course steps after the modal IP, in order (one transaction). */
export const PERSON_COURSE_STEPS = ['pc_day_totals', 'pc_nchapters', 'pc_forum', 'course_modal_language', 'person_course_video_watched', 'person_course'] as const;

export interface PersonCourseOptions {
  command?: string;
  /** Geolocation: the lookup to use (tests pass their own); `false` skips it (geo columns NULL). */
  geo?: GeoLookup | false;
}

export interface PersonCourseSummary {
  course: string;
  schema: string;
  rows: number;
  /** Inputs that were missing (their columns are NULL). */
  missing: string[];
  passingGrade: number | null;
  chapters: number | null;
  geo: GeolocateResult | null;
  seconds: number;
  /** Seconds per phase: modal IP, geolocation, the SQL steps. */
  phases: Record<string, number>;
}

/**
 * passing_grade, REC of §6.8: the lowest cutoff of the course's GRADE_CUTOFFS (edX passes a learner
 * at the lowest cutoff), from grading_policy's `overall_cutoff_for_*` columns; null without any.
 */
async function passingGrade(wh: Warehouse, schema: string): Promise<number | null> {
  if (!(await wh.tableExists({ schema, table: 'grading_policy' }))) return null;
  const cols = (await wh.query(`SELECT * FROM ${wh.dialect.tableRef(schema, 'grading_policy')} LIMIT 1`)).columns
    .map((c) => c.name)
    .filter((n) => n.startsWith('overall_cutoff_for_'));
  if (cols.length === 0) return null;
  const r = await wh.query(`SELECT least(${cols.map((c) => `TRY_CAST(${wh.dialect.quoteIdentifier(c)} AS DOUBLE)`).join(', ')}) FROM ${wh.dialect.tableRef(schema, 'grading_policy')} LIMIT 1`);
  const v = r.rows[0]?.[0];
  return typeof v === 'number' ? v : null;
}

async function chapterCount(wh: Warehouse, schema: string): Promise<number | null> {
  if (!(await wh.tableExists({ schema, table: 'course_axis' }))) return null;
  const n = Number((await wh.query(`SELECT count(*) FROM ${wh.dialect.tableRef(schema, 'course_axis')} WHERE category = 'chapter'`)).rows[0]?.[0] ?? 0);
  return n > 0 ? n : null;
}

export async function buildPersonCourse(wh: Warehouse, courseId: string, options: PersonCourseOptions = {}): Promise<PersonCourseSummary> {
  const started = performance.now();
  const command = options.command ?? 'person-course';
  const schema = courseSchema(courseId);
  const exists = (table: string) => wh.tableExists({ schema, table });
  if (!(await exists('user_info_combo'))) throw new Error(`no user_info_combo for ${courseId} (schema ${schema}): run setup-sql first`);

  const tables: Record<string, string> = {};
  const missing: string[] = [];
  for (const [table, empty] of Object.entries(EMPTY_INPUTS)) {
    if (!(await exists(table))) {
      tables[table] = `(${empty})`;
      missing.push(table);
    }
  }
  const provenance = (step: string) => ({ command, step, inputs: [] as string[] });

  // modal IP (course, else global) and its place, looked up once per distinct IP
  let geo: GeolocateResult | null = null;
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = (now - mark) / 1000;
    mark = now;
  };
  if (options.geo !== false && (await exists('pcday_ip_counts'))) {
    await createCourseModalIp(wh, schema, { command });
    const global = (await wh.tableExists({ schema: SHARED_SCHEMA, table: 'global_modal_ip' })) ? wh.dialect.tableRef(SHARED_SCHEMA, 'global_modal_ip') : `(${EMPTY_MODAL_IP})`;
    await wh.createTableAs({ schema, table: 'pc_modal_ip' }, renderSqlFile('pc_modal_ip', wh.dialect, schema, {}, { global_modal_ip: global }), provenance('sql/pc_modal_ip.sql'));
    phase('modal IP');
    geo = await geolocateTable(wh, { schema, table: 'pc_modal_ip' }, { schema, table: 'pc_ip_geo' }, { ipColumn: 'modal_ip', command, ...(options.geo ? { lookup: options.geo } : {}) });
    // a view, like the other intermediates: person_course reads it once
    await wh.createTablesAs([{ table: { schema, table: 'pc_geoip' }, selectSql: renderSqlFile('pc_geoip', wh.dialect, schema), provenance: provenance('sql/pc_geoip.sql'), view: true }]);
    phase('geolocation');
  } else {
    tables.pc_geoip = `(${EMPTY_GEOIP})`;
    if (options.geo !== false) missing.push('pcday_ip_counts');
  }

  const pg = await passingGrade(wh, schema);
  const chapters = await chapterCount(wh, schema);
  const params = { course_id: courseId, passing_grade: pg === null ? '' : String(pg), course_chapters: chapters === null ? '' : String(chapters) };
  const steps: TableFromSql[] = PERSON_COURSE_STEPS.map((table) => ({
    table: { schema, table },
    selectSql: renderSqlFile(table, wh.dialect, schema, params, tables),
    provenance: { command, step: `sql/${table}.sql`, inputs: missing.length ? [`missing: ${missing.join(', ')}`] : [] },
    // the intermediates are views: person_course reads each once, so storing them only cost
    // time (measured: the SQL phase ~17% faster); they stay queryable and always current
    view: table !== 'person_course',
  }));
  const results = await wh.createTablesAs(steps);
  phase('person_course SQL');
  return { course: courseId, schema, rows: results.at(-1)!.rowsWritten, missing, passingGrade: pg, chapters, geo, seconds: (performance.now() - started) / 1000, phases };
}

/**
 * buildPersonCourse for several courses, two at a time: the warehouse runs one statement at a
 * time, so while one course's SQL runs in the engine the other's geolocation runs in JavaScript
 * (measured: the lookups were ~15% of the step with the engine idle meanwhile). Results in the
 * order given; a course that fails gives its Error and the others go on.
 */
export async function buildPersonCourses(wh: Warehouse, courses: readonly string[], options: PersonCourseOptions = {}, concurrency = 2): Promise<Array<PersonCourseSummary | Error>> {
  const out = new Array<PersonCourseSummary | Error>(courses.length);
  let next = 0;
  const worker = async () => {
    while (next < courses.length) {
      const i = next++;
      try {
        out[i] = await buildPersonCourse(wh, courses[i]!, options);
      } catch (e) {
        out[i] = e instanceof Error ? e : new Error(String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, courses.length)) }, worker));
  return out;
}
