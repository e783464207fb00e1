/**
 * `setup-sql` for one course and dump date: the waldofied files of `<sqlDir>/<course>/<date>/`
 * into the course's warehouse schema (spec sql-and-person-course.md §1–§4, REC):
 *
 * - the dump's tables under their Waldo names (users, profiles, enrollment, certificates,
 *   user_id_map, rolecourse, roleforum): every column VARCHAR as written (NULL stays NULL, ''
 *   stays ''), the spec's columns always present (a column missing from an older dump is NULL),
 *   extra columns kept, plus `_row`, the record's position in its file;
 * - studentmodule with its types, and course and module ids normalised per value (§1.7 REC);
 * - forum (the rephrased mongo export, §4.2) and forum_posts;
 * - the side-loads of the course dir (`from_mongodb/`, `from_edxinstructordash/`, §2.2 steps 4–5;
 *   src/dump/sideloads.ts) as raw tables: empty when absent;
 * - dump_info: the course, the dump date (`sql_dir_date`, §1.6) and whether it was pinned, which
 *   user_info_combo's enrollment cutoff and person_course's grade override read;
 * - user_info_combo (§2) and roles (§3), by the SQL in `sql/`.
 *
 * The CSV files are read by DuckDB's own `read_csv` (the floor this step is measured against).
 * The forum and side-load tables are written first (they are built in Node); everything else of
 * the course is then written in one transaction, so the tables of a course always come from the same dump.
 * A missing table file skips only what needs it: an optional input is an empty table (its columns
 * NULL downstream), with a message saying so.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { exists } from '../fsutil.ts';
import { renderSqlFile } from '../warehouse/sqlFile.ts';
import { courseSchema } from '../warehouse/naming.ts';
import type { Cell, TableFromSql, Warehouse } from '../warehouse/warehouse.ts';
import { FORUM_COLUMNS, rephraseForumLine } from './forum.ts';
import { readSideloads, writeRejectFile } from './sideloads.ts';
import { isIsoDate } from './sqlDirs.ts';
import { DUCKDB_CSV_OPTIONS } from './tsv.ts';

/** The columns the later steps read, per Waldo table (spec §1.2); others in a file are kept too. */
export const DUMP_TABLE_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  users: ['id', 'username', 'first_name', 'last_name', 'email', 'is_staff', 'is_active', 'is_superuser', 'last_login', 'date_joined'],
  profiles: ['id', 'user_id', 'name', 'language', 'location', 'meta', 'courseware', 'gender', 'mailing_address', 'year_of_birth', 'level_of_education', 'goals', 'allow_certificate', 'country', 'city'],
  enrollment: ['id', 'user_id', 'course_id', 'created', 'is_active', 'mode'],
  certificates: ['id', 'user_id', 'download_url', 'grade', 'course_id', 'key', 'distinction', 'status', 'verify_uuid', 'download_uuid', 'name', 'created_date', 'modified_date', 'error_reason', 'mode'],
  user_id_map: ['hash_id', 'id', 'username'],
  rolecourse: ['user_id', 'course_id', 'role'],
  roleforum: ['user_id', 'course_id', 'name'],
};

/** Passwords never enter the warehouse, whatever the dump holds. */
const NEVER_LOADED = new Set(['password']);

export interface DumpLoadSummary {
  course: string;
  schema: string;
  dumpDir: string;
  /** Rows per table written. */
  rows: Record<string, number>;
  /** Inputs that were not there, and what that means. */
  missing: string[];
  /** forum lines that could not be read (also written to `_rejects/forum.jsonl.gz`). */
  forumRejects: number;
  /** forum fields outside the schema, counted by name. */
  forumUnknownKeys: Record<string, number>;
  /** The dump date (the dump dir's name when it is a date, else null) and whether it was pinned. */
  sqlDirDate: string | null;
  pinned: boolean;
  /** The side-load files that were there: rows loaded, lines rejected (and where they are). */
  sideloads: SideloadFileSummary[];
  /** What the side-loads' readers noticed (a from_mongodb file missing, a column missing, …). */
  sideloadNotes: string[];
  /** With side-loads: user_info_combo rows with a from_mongodb profile, and with a dashboard grade. */
  sideloadEffect: { y1Anomalous: number; dashboardGrades: number } | null;
  seconds: number;
}

export interface SideloadFileSummary {
  table: string;
  file: string;
  rows: number;
  rejects: number;
  /** `<dump dir>/_rejects/<table>.jsonl.gz` when there were rejects. */
  rejectFile: string | null;
}

export interface LoadDumpOptions {
  /**
   * The dump date was given explicitly (`--date` or the config's `dumpDates`), not chosen as the
   * latest: then from_mongodb users who enrolled after it are left out (spec §2.2 step 4).
   */
  pinned?: boolean;
}

/** The header of a gzipped CSV (its first record; Waldo headers hold plain names). */
async function csvHeader(file: string): Promise<string[]> {
  const rl = readline.createInterface({ input: fs.createReadStream(file).pipe(zlib.createGunzip()), crlfDelay: Infinity });
  try {
    for await (const line of rl) return line.split(',').map((h) => h.replace(/^"|"$/g, '').trim());
    return [];
  } finally {
    rl.close();
  }
}

/** A safe SQL identifier for a header name (names come from the dump: never trusted). */
const PLAIN_COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,100}$/;

/** The SELECT that reads one Waldo CSV with the spec's columns guaranteed. */
function rawTableSelect(wh: Warehouse, file: string, header: readonly string[], expected: readonly string[]): string {
  const q = (n: string) => wh.dialect.quoteIdentifier(n);
  const present = new Set(header);
  const cols = expected.map((c) => (present.has(c) ? q(c) : `NULL::VARCHAR AS ${q(c)}`));
  for (const h of header) if (!expected.includes(h) && PLAIN_COLUMN.test(h) && !NEVER_LOADED.has(h)) cols.push(q(h));
  // row_number() over the scan is the file order (DuckDB keeps insertion order); +1: the header
  return `SELECT ${cols.join(', ')}, row_number() OVER () + 1 AS _row FROM read_csv(${wh.dialect.stringLiteral(file)}, ${DUCKDB_CSV_OPTIONS})`;
}

function emptyTableSelect(wh: Warehouse, expected: readonly string[]): string {
  return `SELECT ${expected.map((c) => `NULL::VARCHAR AS ${wh.dialect.quoteIdentifier(c)}`).join(', ')}, NULL::BIGINT AS _row WHERE false`;
}

/** studentmodule with types; `course-v1:` and `block-v1:` ids normalised per value (§1.7 REC). */
function studentmoduleSelect(wh: Warehouse, file: string, header: readonly string[]): string {
  const present = new Set(header);
  const v = (c: string) => (present.has(c) ? wh.dialect.quoteIdentifier(c) : 'NULL::VARCHAR');
  return `SELECT
    TRY_CAST(${v('id')} AS BIGINT) AS id, ${v('module_type')} AS module_type,
    CASE WHEN regexp_full_match(${v('module_id')}, 'block-v1:[^+]+\\+[^+]+\\+[^+]+\\+type@[^+]+\\+block@.+')
         THEN regexp_replace(${v('module_id')}, '^block-v1:([^+]+)\\+([^+]+)\\+([^+]+)\\+type@([^+]+)\\+block@(.+)$', 'i4x://\\1/\\2/\\4/\\5')
         ELSE ${v('module_id')} END AS module_id,
    TRY_CAST(${v('student_id')} AS BIGINT) AS student_id, ${v('state')} AS state,
    TRY_CAST(${v('grade')} AS DOUBLE) AS grade, TRY_CAST(${v('created')} AS TIMESTAMP) AS created,
    TRY_CAST(${v('modified')} AS TIMESTAMP) AS modified, TRY_CAST(${v('max_grade')} AS DOUBLE) AS max_grade,
    ${v('done')} AS done,
    CASE WHEN regexp_full_match(${v('course_id')}, 'course-v1:[^+/]+\\+[^+/]+\\+[^+/]+') THEN replace(substr(${v('course_id')}, 11), '+', '/')
         ELSE ${v('course_id')} END AS course_id
  FROM read_csv(${wh.dialect.stringLiteral(file)}, ${DUCKDB_CSV_OPTIONS})`;
}

/** Reads forum.mongo(.gz): rows, rejects (line, reason, raw) and unknown-key counts. */
async function readForum(file: string): Promise<{ rows: Cell[][]; rejects: { line: number; reason: string; raw: string }[]; unknown: Record<string, number> }> {
  const input = fs.createReadStream(file);
  const rl = readline.createInterface({ input: file.endsWith('.gz') ? input.pipe(zlib.createGunzip()) : input, crlfDelay: Infinity });
  const rows: Cell[][] = [];
  const rejects: { line: number; reason: string; raw: string }[] = [];
  const unknown: Record<string, number> = {};
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    const r = rephraseForumLine(line);
    if (!r.ok) {
      rejects.push({ line: n, reason: r.reason, raw: line });
      continue;
    }
    rows.push(r.row);
    for (const k of r.unknownKeys) unknown[k] = (unknown[k] ?? 0) + 1;
  }
  return { rows, rejects, unknown };
}

/**
 * Loads one course's dump (one dump date) into its schema. `dumpDir` is `<course dir>/<date>`:
 * its name is the dump date, its parent holds the side-loads.
 */
export async function loadDump(wh: Warehouse, courseId: string, dumpDir: string, command = 'setup-sql', options: LoadDumpOptions = {}): Promise<DumpLoadSummary> {
  const started = performance.now();
  const schema = courseSchema(courseId);
  const missing: string[] = [];
  const steps: TableFromSql[] = [];
  const provenance = (step: string, inputs: string[]) => ({ command, step, inputs });

  for (const [table, expected] of Object.entries(DUMP_TABLE_COLUMNS)) {
    const file = path.join(dumpDir, `${table}.csv.gz`);
    if (await exists(file)) {
      steps.push({ table: { schema, table }, selectSql: rawTableSelect(wh, file, await csvHeader(file), expected), provenance: provenance(`read_csv ${table}.csv.gz`, [file]) });
    } else {
      missing.push(`${table}.csv.gz (an empty ${table} table: its columns are NULL downstream)`);
      steps.push({ table: { schema, table }, selectSql: emptyTableSelect(wh, expected), provenance: provenance(`${table}.csv.gz missing: empty table`, []) });
    }
  }
  const sm = path.join(dumpDir, 'studentmodule.csv.gz');
  if (await exists(sm)) steps.push({ table: { schema, table: 'studentmodule' }, selectSql: studentmoduleSelect(wh, sm, await csvHeader(sm)), provenance: provenance('read_csv studentmodule.csv.gz', [sm]) });
  else missing.push('studentmodule.csv.gz (no studentmodule table)');

  // the side-loads: raw tables written before the transaction (like forum), empty when absent
  const rows: Record<string, number> = {};
  const courseDir = path.dirname(dumpDir);
  const side = await readSideloads(courseDir);
  const sideloads: SideloadFileSummary[] = [];
  const sideInputs: Record<string, string> = {};
  for (const s of side.inputs) {
    const table = { schema, table: s.table };
    const r = await wh.replaceTable(table, s.columns, s.read?.rows ?? [], provenance(s.read ? `${path.relative(courseDir, s.read.file)} (spec §2.2)` : 'side-load absent: empty table', s.read ? [s.read.file] : []));
    rows[s.table] = r.rowsWritten;
    sideInputs[s.table] = wh.dialect.tableRef(schema, s.table);
    const rejectFile = path.join(dumpDir, '_rejects', `${s.table}.jsonl.gz`);
    await writeRejectFile(rejectFile, s.read?.file ?? '', s.read?.rejects ?? []); // none: an earlier run's file goes
    if (s.read !== null) {
      sideloads.push({ table: s.table, file: s.read.file, rows: r.rowsWritten, rejects: s.read.rejects.length, rejectFile: s.read.rejects.length > 0 ? rejectFile : null });
    }
  }

  const date = path.basename(dumpDir);
  const sqlDirDate = isIsoDate(date) ? date : null;
  const pinned = options.pinned === true;
  const lit = (v: string) => wh.dialect.stringLiteral(v);
  steps.push({
    table: { schema, table: 'dump_info' },
    selectSql: `SELECT ${lit(courseId)} AS course_id, ${sqlDirDate === null ? 'NULL::DATE' : `DATE ${lit(sqlDirDate)}`} AS sql_dir_date, ${pinned} AS pinned`,
    provenance: provenance(`dump date of ${dumpDir}`, [dumpDir]),
  });
  sideInputs.dump_info = wh.dialect.tableRef(schema, 'dump_info');

  const params = { course_id: courseId };
  const uicInputs = [dumpDir, ...sideloads.map((s) => s.file)];
  steps.push({ table: { schema, table: 'user_info_combo' }, selectSql: renderSqlFile('user_info_combo', wh.dialect, schema, params, sideInputs), provenance: provenance('sql/user_info_combo.sql', uicInputs) });
  steps.push({ table: { schema, table: 'roles' }, selectSql: renderSqlFile('roles', wh.dialect, schema, params), provenance: provenance('sql/roles.sql', [dumpDir]) });

  let forumRejects = 0;
  let forumUnknownKeys: Record<string, number> = {};
  const forumFile = ['forum.mongo.gz', 'forum.mongo'].map((n) => path.join(dumpDir, n)).find((f) => fs.existsSync(f));
  if (forumFile !== undefined) {
    const forum = await readForum(forumFile);
    forumRejects = forum.rejects.length;
    forumUnknownKeys = forum.unknown;
    await writeRejectFile(path.join(dumpDir, '_rejects', 'forum.jsonl.gz'), forumFile, forum.rejects);
    const r = await wh.replaceTable({ schema, table: 'forum' }, FORUM_COLUMNS, forum.rows, provenance('forum.mongo rephrased (spec §4.2)', [forumFile]));
    rows.forum = r.rowsWritten;
    steps.push({ table: { schema, table: 'forum_posts' }, selectSql: renderSqlFile('forum_posts', wh.dialect, schema), provenance: provenance('sql/forum_posts.sql', [forumFile]) });
    // forum_person also needs the log side (person-day's forum_events); person-day rebuilds it too
    if (await wh.tableExists({ schema, table: 'forum_events' })) {
      steps.push({ table: { schema, table: 'forum_person' }, selectSql: renderSqlFile('forum_person', wh.dialect, schema), provenance: provenance('sql/forum_person.sql', [`${schema}.forum_posts`, `${schema}.forum_events`]) });
    } else {
      missing.push('forum_events (forum_person is built when person-day has loaded the logs)');
    }
  } else {
    missing.push('forum.mongo.gz (no forum tables)');
  }

  const results = await wh.createTablesAs(steps);
  results.forEach((r, i) => (rows[steps[i]!.table.table] = r.rowsWritten));
  let sideloadEffect: DumpLoadSummary['sideloadEffect'] = null;
  if (sideloads.length > 0) {
    const uic = wh.dialect.tableRef(schema, 'user_info_combo');
    const r = await wh.query(`SELECT count(*) FILTER (WHERE y1_anomalous = 1), count(*) FILTER (WHERE edxinstructordash_Grade IS NOT NULL) FROM ${uic}`);
    sideloadEffect = { y1Anomalous: Number(r.rows[0]?.[0] ?? 0), dashboardGrades: Number(r.rows[0]?.[1] ?? 0) };
  }
  return {
    course: courseId, schema, dumpDir, rows, missing, forumRejects, forumUnknownKeys,
    sqlDirDate, pinned, sideloads, sideloadNotes: side.notes, sideloadEffect,
    seconds: (performance.now() - started) / 1000,
  };
}
