/**
 * Loads the facts kept by the log pass into the warehouse: per course, every date touched by an
 * input that changed since the last load is recomputed from ALL inputs holding events of that
 * date (so prod + edge logs of one day merge exactly), replaced in the per-date tables, and the
 * derived tables are rebuilt in SQL.
 *
 * What was loaded is recorded per (course, input) in `main._edx2bq_loaded` with the input's
 * marker time, so a re-run loads nothing new, a re-split input refreshes the dates it had before
 * and has now, a fresh warehouse file gets everything, and a run killed half way is redone.
 */
import path from 'node:path';
import { MICROS_PER_DAY } from '../events/time.ts';
import { partsDir } from '../logs/finalize.ts';
import { loadMarkers, markerOutputs, type InputMarker } from '../logs/markers.ts';
import { courseSchema } from '../warehouse/naming.ts';
import { renderSqlFile } from '../warehouse/sqlFile.ts';
import type { RowsLoad, TableFromSql, Warehouse } from '../warehouse/warehouse.ts';
import type { CourseFacts } from './facts.ts';
import { decodeRecord, FACTS_FILE, readFactsRecords, type FactsRecord } from './factsFile.ts';
import { loadedTables } from './tables.ts';

/** Tables rebuilt from the per-date tables after every load, in this order. */
export const DERIVED_TABLES = ['person_course_day', 'pcday_trlang_counts', 'person_enrollment_verified'] as const;
/** Rebuilt after them, in this order (the totals read time_on_task). */
export const TIME_ON_TASK_TABLES = ['time_on_task', 'time_on_task_totals'] as const;

/** The tables each derived table is made from (for its provenance). */
const DERIVED_INPUTS: Record<(typeof DERIVED_TABLES)[number] | (typeof TIME_ON_TASK_TABLES)[number], string[]> = {
  person_course_day: ['pcday_intraday', 'video_stats_day', 'forum_events'],
  pcday_trlang_counts: ['transcript_events'],
  person_enrollment_verified: ['enrollment_events'],
  time_on_task: ['time_on_task_intraday'],
  time_on_task_totals: ['time_on_task'],
};

/** Dates recomputed together: inputs read once per window, so memory stays bounded on a full reload. */
const WINDOW_DAYS = 7;
/**
 * Rows held before they are written: a window's tables go to the warehouse in as few transactions
 * as this allows (a commit costs more than a small table's rows), but a 4M-event day is not held
 * whole (measured: that alone took the load's peak RSS past 2 GB). Every transaction replaces
 * whole (course, date) sets, and the load record is written after all of them, so a run killed
 * between two transactions is redone by the next one.
 */
const ROWS_PER_TRANSACTION = 150_000;
const rowCount = (rows: RowsLoad['rows']): number => (Array.isArray(rows) ? rows.length : ((rows as { columns: ArrayLike<unknown>[] }).columns[0]?.length ?? 0));

export interface LoadFactsOptions {
  logsDir: string;
  warehouse: Warehouse;
  /** Slash-form course ids to load; all when empty. */
  courses?: readonly string[];
  command: string;
  onProgress?: (message: string) => void;
}

export interface CourseLoadSummary {
  course: string;
  schema: string;
  dates: string[];
  /** Rows written per table (per-date tables for the dates, derived tables in all). */
  rows: Record<string, number>;
}

export interface LoadFactsSummary {
  courses: CourseLoadSummary[];
  rowsLoaded: number;
  /** All of it: reading facts, computing rows, loading, the derived tables, the bookkeeping. */
  seconds: number;
  /** Computing the per-date rows from the facts. */
  computeSeconds: number;
  /** Appending them to the warehouse (the bulk load). */
  loadSeconds: number;
  /** The SQL of the derived tables. */
  derivedSeconds: number;
}

interface LoadedRecord {
  course: string;
  stem: string;
  finishedAt: string;
  dates: string[];
}

const LOADED_TABLE = 'main._edx2bq_loaded';

async function readLoaded(wh: Warehouse): Promise<LoadedRecord[]> {
  await wh.query(`CREATE TABLE IF NOT EXISTS ${LOADED_TABLE} (course_id VARCHAR, stem VARCHAR, finished_at VARCHAR, dates VARCHAR)`);
  const r = await wh.query(`SELECT course_id, stem, finished_at, dates FROM ${LOADED_TABLE}`);
  return r.rows.map(([course, stem, finishedAt, dates]) => ({ course: String(course), stem: String(stem), finishedAt: String(finishedAt), dates: JSON.parse(String(dates)) as string[] }));
}

async function recordLoaded(wh: Warehouse, course: string, current: InputMarker[]): Promise<void> {
  const lit = (s: string) => wh.dialect.stringLiteral(s);
  const values = current.map((m) => `(${lit(course)}, ${lit(m.stem)}, ${lit(m.finishedAt)}, ${lit(JSON.stringify(m.factDates![course]))})`);
  await wh.query(
    `BEGIN TRANSACTION; DELETE FROM ${LOADED_TABLE} WHERE course_id = ${lit(course)};` +
      (values.length ? ` INSERT INTO ${LOADED_TABLE} VALUES ${values.join(', ')};` : '') +
      ' COMMIT',
  );
}

const dayOfDate = (d: string) => Math.round((Date.parse(`${d}T00:00:00Z`) * 1000) / MICROS_PER_DAY);

/** What must be recomputed for one course: the dates, and the inputs holding facts on them. */
function planCourse(course: string, markers: InputMarker[], loaded: LoadedRecord[]): { dates: string[]; current: InputMarker[] } {
  const current = markers.filter((m) => m.factDates?.[course] !== undefined);
  const before = new Map(loaded.filter((r) => r.course === course).map((r) => [r.stem, r]));
  const dates = new Set<string>();
  for (const m of current) {
    const old = before.get(m.stem);
    if (old?.finishedAt === m.finishedAt) continue;
    for (const d of m.factDates![course]!) dates.add(d);
    for (const d of old?.dates ?? []) dates.add(d);
  }
  const currentStems = new Set(current.map((m) => m.stem));
  for (const [stem, old] of before) if (!currentStems.has(stem)) for (const d of old.dates) dates.add(d);
  return { dates: [...dates].sort(), current };
}

export async function loadFacts(opts: LoadFactsOptions): Promise<LoadFactsSummary> {
  const started = performance.now();
  const wh = opts.warehouse;
  const markers = [...(await loadMarkers(opts.logsDir)).values()].filter((m) => markerOutputs(m).facts && m.factDates !== undefined);
  const loaded = await readLoaded(wh);
  const allCourses = new Set<string>();
  for (const m of markers) for (const c of Object.keys(m.factDates!)) allCourses.add(c);
  for (const r of loaded) allCourses.add(r.course);
  const wanted = opts.courses?.length ? [...allCourses].filter((c) => opts.courses!.includes(c)) : [...allCourses];
  wanted.sort();

  const plans = new Map(wanted.map((c) => [c, planCourse(c, markers, loaded)]));
  const summaries = new Map<string, CourseLoadSummary>();
  for (const [course, p] of plans) if (p.dates.length > 0) summaries.set(course, { course, schema: courseSchema(course), dates: p.dates, rows: {} });
  // the loads and SQL steps name their schema: find the course's summary by it
  const bySchema = new Map([...summaries.values()].map((x) => [x.schema, x]));

  // windows of dates over all courses: each input's facts file is read once per window
  const allDates = [...new Set([...plans.values()].flatMap((p) => p.dates))].sort();
  let loadMs = 0;
  let computeMs = 0;
  let rowsLoaded = 0;
  for (let w = 0; w < allDates.length; w += WINDOW_DAYS) {
    const window = new Set(allDates.slice(w, w + WINDOW_DAYS));
    opts.onProgress?.(`loading ${[...window][0]}${window.size > 1 ? ` … ${[...window].at(-1)}` : ''}`);
    const stems = new Set<string>();
    for (const [course, p] of plans) for (const m of p.current) if (m.factDates![course]!.some((d) => window.has(d))) stems.add(m.stem);
    // stem → course → the workers' batches, still serialized: each course's are decoded when
    // its turn comes, and dropped after
    const byStem = new Map<string, Map<string, FactsRecord[]>>();
    for (const stem of [...stems].sort()) {
      const byCourse = new Map<string, FactsRecord[]>();
      for (const r of await readFactsRecords(path.join(partsDir(opts.logsDir, stem), FACTS_FILE))) {
        let list = byCourse.get(r.course);
        if (list === undefined) byCourse.set(r.course, (list = []));
        list.push(r);
      }
      byStem.set(stem, byCourse);
    }
    // the courses' tables of this window, in transactions of about ROWS_PER_TRANSACTION rows
    let loads: RowsLoad[] = [];
    let pendingRows = 0;
    const flush = async () => {
      const t1 = performance.now();
      const results = await wh.replaceRowsMany(loads);
      loadMs += performance.now() - t1;
      results.forEach((r, i) => {
        const l = loads[i]!;
        const summary = bySchema.get(l.table.schema)!;
        summary.rows[l.table.table] = (summary.rows[l.table.table] ?? 0) + r.rowsWritten;
        rowsLoaded += r.rowsWritten;
      });
      loads = [];
      pendingRows = 0;
    };
    for (const [course, p] of plans) {
      const t0 = performance.now();
      const dates = p.dates.filter((d) => window.has(d));
      if (dates.length === 0) continue;
      const facts: CourseFacts[] = [];
      const inputs: string[] = [];
      for (const m of p.current) {
        for (const r of byStem.get(m.stem)?.get(course) ?? []) facts.push(decodeRecord(r));
        if (m.factDates![course]!.some((d) => window.has(d))) inputs.push(m.input);
      }
      const schema = summaries.get(course)!.schema;
      for (const table of loadedTables({ course, days: new Set(dates.map(dayOfDate)), facts })) {
        loads.push({ table: { schema, table: table.name }, keys: { keyColumn: 'date', keys: dates }, columns: table.columns, rows: table.rows, provenance: { command: opts.command, step: `load ${table.name} from the log facts`, inputs } });
        pendingRows += rowCount(table.rows);
      }
      // this course's facts are done with: let them go before the next course's are used
      for (const byCourse of byStem.values()) byCourse.delete(course);
      computeMs += performance.now() - t0;
      if (pendingRows >= ROWS_PER_TRANSACTION) await flush();
    }
    if (loads.length > 0) await flush();
  }

  const derivedTables = [...DERIVED_TABLES, ...TIME_ON_TASK_TABLES];
  if (summaries.size > 0) opts.onProgress?.(`building ${derivedTables.join(', ')} of ${summaries.size} course(s)`);
  const t2 = performance.now();
  const steps: TableFromSql[] = [];
  for (const summary of summaries.values()) {
    for (const table of derivedTables) {
      const inputs = DERIVED_INPUTS[table].map((t) => `${summary.schema}.${t}`);
      steps.push({ table: { schema: summary.schema, table }, selectSql: renderSqlFile(table, wh.dialect, summary.schema), provenance: { command: opts.command, step: `sql/${table}.sql`, inputs } });
    }
  }
  // forum_person joins the dump's forum_posts (setup-sql) with forum_events: when both exist
  for (const summary of summaries.values()) {
    if (await wh.tableExists({ schema: summary.schema, table: 'forum_posts' })) {
      steps.push({ table: { schema: summary.schema, table: 'forum_person' }, selectSql: renderSqlFile('forum_person', wh.dialect, summary.schema), provenance: { command: opts.command, step: 'sql/forum_person.sql', inputs: [`${summary.schema}.forum_posts`, `${summary.schema}.forum_events`] } });
    }
  }
  const derived = await wh.createTablesAs(steps);
  derived.forEach((r, i) => {
    const s = steps[i]!;
    bySchema.get(s.table.schema)!.rows[s.table.table] = r.rowsWritten;
  });
  const derivedMs = performance.now() - t2;
  // last: a run killed before this point loads the same dates again next time
  for (const [course, p] of plans) if (summaries.has(course) || p.current.length > 0) await recordLoaded(wh, course, p.current);
  return { courses: [...summaries.values()], rowsLoaded, seconds: (performance.now() - started) / 1000, computeSeconds: computeMs / 1000, loadSeconds: loadMs / 1000, derivedSeconds: derivedMs / 1000 };
}
