/**
 * The optional side-loads of user_info_combo (spec sql-and-person-course.md §1.5, §2.2 steps 4–5),
 * next to the dated dump directories of a course:
 *
 *   <course dir>/from_mongodb/users.json.gz        → mongo_users       (id, username, email, is_staff, last_login, date_joined)
 *   <course dir>/from_mongodb/profiles.json.gz     → mongo_profiles    (user_id and the 13 profile fields)
 *   <course dir>/from_mongodb/enrollment.json.gz   → mongo_enrollment  (user_id, course_id, created, is_active, mode)
 *   <course dir>/from_edxinstructordash/grade_report.csv → edxinstructordash_grade_report (student_id, grade, grade_timestamp)
 *
 * Each becomes a raw table like the dump's (every value VARCHAR, plus `_row`: the line in the file);
 * sql/user_info_combo.sql merges them with the spec's precedence. The files are data only: they are
 * parsed here and loaded through the warehouse's load API, never put into SQL text.
 *
 * Mongo files: one JSON document per line (mongoexport's shape, extended JSON accepted:
 * `{"$date": …}`, `{"$numberLong": …}`, `{"$oid": …}`). Only the fields above are kept (a users
 * export may hold a password hash: it is never read). Booleans become `1`/`0`, dates
 * (`last_login`, `date_joined`, `created`) UTC text `YYYY-MM-DD HH:MM:SS[.ffffff]`, nested values
 * JSON text, the text `NULL` null (spec §2.2 step 9). A `.json` file without gzip is read too.
 *
 * grade_report.csv: RFC 4180 CSV with a header (any number of columns; `Student ID`, `Grade` and
 * `Grade_timestamp` are read, names matched without case, with `_` as a space). `.csv.gz` is read too.
 *
 * Lines that cannot be used — not JSON, not an object, no integer user id, a CSV record with the
 * wrong number of fields or an unterminated quote — are rejects: written with their line number,
 * reason and raw text to `<dump dir>/_rejects/<table>.jsonl.gz` and counted. Nothing is dropped
 * silently; blank lines are not records.
 */
import { csvRecords } from '../csv.ts';
import { isJsonObject as isObj, parseObjectLine, type JsonObject as Obj } from './jsonLine.ts';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { exists, writeFileAtomic } from '../fsutil.ts';
import type { Cell, ColumnDef } from '../warehouse/warehouse.ts';
import { mongoDateMicros } from './forum.ts';

/** One unusable input line, as written to `_rejects/<name>.jsonl.gz`. */
export interface LineReject {
  line: number;
  reason: string;
  raw: string;
}

/**
 * Writes the rejects of one input to `file` (gzipped JSON lines: file, line, reason, raw), or
 * removes a reject file of an earlier run when there are none now.
 */
export async function writeRejectFile(file: string, input: string, rejects: readonly LineReject[]): Promise<void> {
  if (rejects.length === 0) {
    await fs.promises.rm(file, { force: true });
    return;
  }
  const text = rejects.map((r) => JSON.stringify({ file: input, ...r })).join('\n') + '\n';
  await writeFileAtomic(file, zlib.gzipSync(text));
}

interface MongoSpec {
  /** The document fields the user id is read from, in order of preference. */
  idFields: readonly string[];
  /** The table's id column. */
  idColumn: string;
  fields: readonly string[];
}

const PROFILE_FIELDS = ['name', 'language', 'location', 'meta', 'courseware', 'gender', 'mailing_address', 'year_of_birth', 'level_of_education', 'goals', 'allow_certificate', 'country', 'city'] as const;

/** The from_mongodb files, by the table each becomes. */
export const MONGO_SIDELOADS: Readonly<Record<string, MongoSpec & { file: string }>> = {
  mongo_users: { file: 'users', idFields: ['_id', 'id'], idColumn: 'id', fields: ['username', 'email', 'is_staff', 'last_login', 'date_joined'] },
  mongo_profiles: { file: 'profiles', idFields: ['user_id'], idColumn: 'user_id', fields: PROFILE_FIELDS },
  mongo_enrollment: { file: 'enrollment', idFields: ['user_id'], idColumn: 'user_id', fields: ['course_id', 'created', 'is_active', 'mode'] },
};

export const GRADE_REPORT_TABLE = 'edxinstructordash_grade_report';
export const GRADE_REPORT_COLUMNS = ['student_id', 'grade', 'grade_timestamp'] as const;

/** Fields holding a time: Mongo dates are written as UTC text the SQL casts. */
const TIME_FIELDS = new Set(['last_login', 'date_joined', 'created']);

/** The columns of a side-load table: its text columns, then `_row`. */
export function sideloadColumns(names: readonly string[]): ColumnDef[] {
  return [...names.map((name) => ({ name, type: 'VARCHAR' as const })), { name: '_row', type: 'BIGINT' as const }];
}

export function mongoTableColumns(table: string): string[] {
  const spec = MONGO_SIDELOADS[table];
  if (spec === undefined) throw new Error(`not a from_mongodb table: ${table}`);
  return [spec.idColumn, ...spec.fields];
}


const MIN_MICROS = -62_135_596_800_000_000; // 0001-01-01 00:00:00
const MAX_MICROS = 253_402_300_799_999_999; // 9999-12-31 23:59:59.999999

/** µs since the epoch → `YYYY-MM-DD HH:MM:SS` plus `.ffffff` when there are µs; null out of range. */
export function microsText(us: number): string | null {
  if (!Number.isSafeInteger(us) || us < MIN_MICROS || us > MAX_MICROS) return null;
  const seconds = Math.floor(us / 1_000_000);
  const frac = us - seconds * 1_000_000;
  const iso = new Date(seconds * 1000).toISOString();
  if (!/^\d{4}-/.test(iso)) return null;
  return iso.slice(0, 19).replace('T', ' ') + (frac > 0 ? `.${String(frac).padStart(6, '0')}` : '');
}

/** A user id: an integer (number, digits, `$numberLong`/`$numberInt`) → its decimal text; else null. */
export function mongoUserId(v: unknown): string | null {
  if (isObj(v)) v = typeof v.$numberLong === 'string' ? v.$numberLong : typeof v.$numberInt === 'string' ? v.$numberInt : v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : null;
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^[+-]?\d{1,18}$/.test(t)) return BigInt(t).toString();
  }
  return null;
}

/** One field value → the text stored in the raw table (null for null, absent and `NULL`). */
export function mongoText(v: unknown, time: boolean): string | null {
  if (v === null || v === undefined) return null;
  if (time) {
    const us = mongoDateMicros(v);
    const text = us === null ? null : microsText(us);
    if (text !== null) return text;
  }
  if (typeof v === 'string') return v === 'NULL' ? null : v;
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'bigint') return v.toString();
  if (isObj(v)) {
    for (const k of ['$numberLong', '$numberInt', '$numberDouble', '$numberDecimal', '$oid']) {
      const x = v[k];
      if (typeof x === 'string') return x;
    }
    if ('$date' in v) {
      const us = mongoDateMicros(v);
      const text = us === null ? null : microsText(us);
      if (text !== null) return text;
    }
  }
  return JSON.stringify(v);
}

export type LineOutcome = { ok: true; row: (string | null)[] } | { ok: false; reason: string };

/** One from_mongodb line → a row (id column, then the fields), or why it is a reject. */
export function mongoLine(table: string, line: string): LineOutcome {
  const spec = MONGO_SIDELOADS[table];
  if (spec === undefined) throw new Error(`not a from_mongodb table: ${table}`);
  const parsed = parseObjectLine(line);
  if (!parsed.ok) return parsed;
  const doc = parsed.doc;
  const idField = spec.idFields.find((f) => doc[f] !== undefined && doc[f] !== null);
  if (idField === undefined) return { ok: false, reason: `no user id (${spec.idFields.join(' or ')})` };
  const id = mongoUserId(doc[idField]);
  if (id === null) return { ok: false, reason: `the user id (${idField}) is not an integer: ${JSON.stringify(doc[idField])}` };
  return { ok: true, row: [id, ...spec.fields.map((f) => mongoText(doc[f], TIME_FIELDS.has(f)))] };
}

export interface SideloadRead {
  /** The file read. */
  file: string;
  rows: Cell[][];
  rejects: LineReject[];
  /** What the reader noticed about the file as a whole (a missing column, …). */
  notes: string[];
}

function openText(file: string): NodeJS.ReadableStream {
  const input = fs.createReadStream(file);
  return file.endsWith('.gz') ? input.pipe(zlib.createGunzip()) : input;
}

/** Reads one from_mongodb file: rows (with `_row` = line number) and rejects. */
export async function readMongoFile(table: string, file: string): Promise<SideloadRead> {
  const rl = readline.createInterface({ input: openText(file), crlfDelay: Infinity });
  const rows: Cell[][] = [];
  const rejects: LineReject[] = [];
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    const r = mongoLine(table, line);
    if (r.ok) rows.push([...r.row, n]);
    else rejects.push({ line: n, reason: r.reason, raw: line });
  }
  return { file, rows, rejects, notes: [] };
}

/** A header name as matched: no case, `_` and runs of spaces as one space, trimmed. */
const headerKey = (h: string) => h.trim().toLowerCase().replace(/[\s_]+/g, ' ');

/** Reads from_edxinstructordash/grade_report.csv: (student_id, grade, grade_timestamp, _row) rows and rejects. */
export async function readGradeReport(file: string): Promise<SideloadRead> {
  const buf = await fs.promises.readFile(file);
  const text = (file.endsWith('.gz') ? zlib.gunzipSync(buf) : buf).toString('utf8');
  const rows: Cell[][] = [];
  const rejects: LineReject[] = [];
  const notes: string[] = [];
  let header: string[] | null = null;
  let col: Record<'id' | 'grade' | 'ts', number> = { id: -1, grade: -1, ts: -1 };
  let headerProblem: string | null = null;
  for (const r of csvRecords(text)) {
    if (r.raw === '' && r.fields.length === 1) continue; // a blank line
    if (header === null) {
      header = r.fields;
      const keys = header.map(headerKey);
      col = { id: keys.indexOf('student id'), grade: keys.indexOf('grade'), ts: keys.indexOf('grade timestamp') };
      const lacking = [col.id < 0 ? '"Student ID"' : null, col.grade < 0 ? '"Grade"' : null].filter((x) => x !== null);
      if (r.error !== undefined) headerProblem = `the header is malformed (${r.error})`;
      else if (lacking.length > 0) headerProblem = `the header has no ${lacking.join(' and no ')} column`;
      if (headerProblem !== null) notes.push(`${path.basename(file)}: ${headerProblem}: no grade is loaded`);
      else if (col.ts < 0) notes.push(`${path.basename(file)} has no Grade_timestamp column: its grades never replace a certificate grade, nor fill a missing one`);
      continue;
    }
    const reject = (reason: string) => rejects.push({ line: r.line, reason, raw: r.raw });
    if (headerProblem !== null) reject(headerProblem);
    else if (r.error !== undefined) reject(r.error);
    else if (r.fields.length !== header.length) reject(`${r.fields.length} fields, the header has ${header.length}`);
    else {
      const id = mongoUserId(r.fields[col.id]);
      if (id === null) reject(`Student ID is not an integer: ${JSON.stringify(r.fields[col.id])}`);
      else {
        const text = (k: number) => {
          const v = k < 0 ? undefined : r.fields[k];
          return v === undefined || v === 'NULL' ? null : v;
        };
        rows.push([id, text(col.grade), text(col.ts), r.line]);
      }
    }
  }
  return { file, rows, rejects, notes };
}

/** The first of `names` that is a file in `dir`, or null. */
async function firstFile(dir: string, names: readonly string[]): Promise<string | null> {
  for (const n of names) {
    const p = path.join(dir, n);
    if (await exists(p)) return p;
  }
  return null;
}

export interface SideloadInput {
  table: string;
  columns: ColumnDef[];
  /** null: the input is not there (the table is loaded empty). */
  read: SideloadRead | null;
}

/**
 * Reads the side-loads of the course dir `courseDir` (the parent of the dump date dirs). Absent
 * directories or files give empty tables; a from_mongodb dir lacking one of its files says so.
 */
export async function readSideloads(courseDir: string): Promise<{ inputs: SideloadInput[]; notes: string[] }> {
  const notes: string[] = [];
  const inputs: SideloadInput[] = [];
  const mongoDir = path.join(courseDir, 'from_mongodb');
  const haveMongo = await exists(mongoDir);
  for (const [table, spec] of Object.entries(MONGO_SIDELOADS)) {
    const file = haveMongo ? await firstFile(mongoDir, [`${spec.file}.json.gz`, `${spec.file}.json`]) : null;
    if (haveMongo && file === null) notes.push(`from_mongodb/ has no ${spec.file}.json.gz (${table} is empty)`);
    inputs.push({ table, columns: sideloadColumns(mongoTableColumns(table)), read: file === null ? null : await readMongoFile(table, file) });
  }
  const dashDir = path.join(courseDir, 'from_edxinstructordash');
  const haveDash = await exists(dashDir);
  const grades = haveDash ? await firstFile(dashDir, ['grade_report.csv', 'grade_report.csv.gz']) : null;
  if (haveDash && grades === null) notes.push(`from_edxinstructordash/ has no grade_report.csv (${GRADE_REPORT_TABLE} is empty)`);
  const read = grades === null ? null : await readGradeReport(grades);
  if (read !== null) notes.push(...read.notes);
  inputs.push({ table: GRADE_REPORT_TABLE, columns: sideloadColumns(GRADE_REPORT_COLUMNS), read });
  return { inputs, notes };
}
