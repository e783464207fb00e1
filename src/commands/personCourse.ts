import { createGlobalModalIp } from '../geo/modalIp.ts';
import { openGeoLookup, type GeoLookup } from '../geo/lookup.ts';
import { loadConfig } from '../config.ts';
import { slashCourseId } from '../ids.ts';
import { fmtInt } from '../logs/progress.ts';
import { buildPersonCourses, type PersonCourseSummary } from '../products/personCourse.ts';
import { openDuckDBWarehouse } from '../warehouse/duckdb.ts';
import { courseSchema } from '../warehouse/naming.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';

export interface PersonCourseCliOptions {
  warehouse?: string;
  geo?: boolean;
  mmdb?: string;
  json?: boolean;
  config?: string;
}

/** Schemas holding a user_info_combo: the courses setup-sql has loaded. */
export async function loadedCourseSchemas(wh: Warehouse): Promise<string[]> {
  const r = await wh.query(`SELECT DISTINCT schema_name FROM duckdb_tables() WHERE table_name = 'user_info_combo' ORDER BY 1`);
  return r.rows.map((x) => String(x[0]));
}

/** The course ids of schemas (from what their user_info_combo says). */
async function courseIdOf(wh: Warehouse, schema: string): Promise<string | null> {
  const r = await wh.query(`SELECT enrollment_course_id FROM ${wh.dialect.tableRef(schema, 'user_info_combo')} WHERE enrollment_course_id IS NOT NULL LIMIT 1`);
  const v = r.rows[0]?.[0];
  return typeof v === 'string' ? v : null;
}

/** Runs `edx2bq person-course`; returns the exit code (1 when a course failed). */
export async function runPersonCourse(courseArgs: string[], o: PersonCourseCliOptions): Promise<number> {
  const cfg = loadConfig({ warehouse: o.warehouse, mmdb: o.mmdb, config: o.config });
  const wh = await openDuckDBWarehouse(cfg.warehouse);
  const done: PersonCourseSummary[] = [];
  const failed: Array<{ course: string; error: string }> = [];
  try {
    const schemas = await loadedCourseSchemas(wh);
    let courses = courseArgs.map((c) => slashCourseId(c));
    if (courses.length === 0) {
      for (const s of schemas) {
        const id = await courseIdOf(wh, s);
        if (id !== null) courses.push(id);
      }
      if (courses.length === 0) throw new Error(`no course in ${cfg.warehouse} has a user_info_combo: run setup-sql first`);
    }
    let geo: GeoLookup | false = false;
    if (o.geo !== false) {
      geo = await openGeoLookup(cfg.mmdb ? { mmdbPaths: [cfg.mmdb] } : {});
      // the global modal IP spans every course of the warehouse (spec §9.3), not just those asked for
      const withIps = [];
      for (const s of schemas) if (await wh.tableExists({ schema: s, table: 'pcday_ip_counts' })) withIps.push(s);
      if (withIps.length > 0) await createGlobalModalIp(wh, withIps, { command: 'person-course' });
    }
    const valid: string[] = [];
    for (const course of courses) {
      try {
        courseSchema(course);
        valid.push(course);
      } catch (e) {
        failed.push({ course, error: (e as Error).message });
      }
    }
    const results = await buildPersonCourses(wh, valid, { command: 'person-course', geo });
    results.forEach((r, i) => (r instanceof Error ? failed.push({ course: valid[i]!, error: r.message }) : done.push(r)));
  } finally {
    await wh.close();
  }
  if (o.json) process.stdout.write(JSON.stringify({ warehouse: cfg.warehouse, courses: done, failed }, null, 2) + '\n');
  else {
    process.stdout.write(`person-course: ${done.length} course(s) built in ${cfg.warehouse}, ${failed.length} failed\n`);
    for (const s of done) {
      const geo = s.geo ? `, ${fmtInt(s.geo.distinctIps)} IPs located at ${fmtInt(Math.round(s.geo.lookupsPerSecond))}/s` : '';
      process.stdout.write(`  ${s.course} → ${s.schema}.person_course: ${fmtInt(s.rows)} rows in ${s.seconds.toFixed(1)} s${geo}${s.missing.length ? `; missing inputs (their columns are NULL): ${s.missing.join(', ')}` : ''}\n`);
    }
    for (const f of failed) process.stdout.write(`  FAILED ${f.course}: ${f.error}\n`);
  }
  return failed.length > 0 ? 1 : 0;
}
