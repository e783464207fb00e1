/**
 * Schema (dataset) and table names in the warehouse.
 *
 * Course ids come from log lines and dump file names, so they are untrusted. A course schema name
 * is the spec's dataset name (tracking-logs.md §0: course id with `/`→`__`, `.`→`_`, `-`→`_`),
 * with every remaining character outside `[A-Za-z0-9_]` hex-escaped. The result is a valid
 * BigQuery dataset id and contains nothing that could end a quoted identifier; the dialect quotes
 * it as well, so a hostile id is defused twice.
 */
import { createHash } from 'node:crypto';
import { escapeChars, slashCourseId } from '../ids.ts';

/** Cross-course tables (combined person_course, the course list, reports). */
export const SHARED_SCHEMA = 'courses';
/** The provenance table lives here, next to DuckDB's own default schema. */
export const META_SCHEMA = 'main';
export const META_TABLE = '_edx2bq';

/** Schema names a course may never take: ours, and the engine's own. */
const RESERVED_SCHEMAS = new Set([SHARED_SCHEMA, META_SCHEMA, 'information_schema', 'pg_catalog', 'temp', 'system']);

/** BigQuery allows 1024 characters in a dataset id; keep well below, like ids.ts does for paths. */
const MAX_SCHEMA_CHARS = 200;

export class NamingError extends Error {}

function isPlainChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // 0-9 A-Z a-z _
}

function shortHash(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 8);
}

/**
 * The dataset name of a course id in either form: `course-v1:MITx+6.002x+2T2014` and
 * `MITx/6.002x/2T2014` both give `MITx__6_002x__2T2014`. Characters the spec's rule leaves
 * outside `[A-Za-z0-9_]` become `_XX` per UTF-8 byte (`:` → `_3A`).
 */
export function datasetName(courseId: string): string {
  const spec = slashCourseId(courseId).replace(/\//g, '__').replace(/[.-]/g, '_');
  let out = escapeChars(spec, isPlainChar, '_');
  if (out.length > MAX_SCHEMA_CHARS) out = `${out.slice(0, MAX_SCHEMA_CHARS - 9)}_${shortHash(courseId)}`;
  return out;
}

/** The per-course schema; refuses ids that would map onto a shared or engine schema. */
export function courseSchema(courseId: string): string {
  if (courseId.trim() === '') throw new NamingError('empty course id');
  const name = datasetName(courseId);
  if (RESERVED_SCHEMAS.has(name.toLowerCase())) throw new NamingError(`course id ${JSON.stringify(courseId)} maps to the reserved schema name "${name}"`);
  return name;
}

/** The original keeps daily logs in a dataset of their own (`<dataset>_logs`). */
export function courseLogsSchema(courseId: string): string {
  return `${courseSchema(courseId)}_logs`;
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DATASET_NAME = /^[A-Za-z0-9_]+$/;

/**
 * Names the load API accepts. Table and column names come from our own code, never from data;
 * schema names from `courseSchema` or the shared constants. All must be valid on every engine
 * (BigQuery: letters, digits, underscores), so anything else is a bug and is refused.
 */
export function checkPlainName(kind: 'table' | 'column' | 'schema', name: string): string {
  const ok = kind === 'schema' ? DATASET_NAME.test(name) && name.length <= 1024 : PLAIN_NAME.test(name) && name.length <= 300;
  if (!ok) throw new NamingError(`invalid ${kind} name ${JSON.stringify(name)}: use letters, digits and _ only`);
  return name;
}
