/**
 * Table provenance: every table the warehouse writes gets a row in the metadata table
 * (`main._edx2bq`: command, step, SQL, inputs, counts, duration, user, host, time) and a
 * `COMMENT ON TABLE` summarising its latest write, so `duckdb_tables()` (or BigQuery's table
 * description) tells what made it even without edx2bq. Both are written inside the same
 * transaction as the data.
 */
import os from 'node:os';
import pkg from '../../package.json' with { type: 'json' };
import type { Dialect } from './dialect.ts';
import { META_SCHEMA, META_TABLE } from './naming.ts';
import type { OutputValue, ProvenanceInput, ProvenanceRecord, TableRef } from './warehouse.ts';

export const TOOL_VERSION: string = pkg.version;

/** The metadata table's columns, in order. `inputs` is a JSON array (portable to BigQuery). */
const META_COLUMNS: readonly (readonly [string, string])[] = [
  ['id', 'BIGINT'],
  ['schema_name', 'VARCHAR'],
  ['table_name', 'VARCHAR'],
  ['command', 'VARCHAR'],
  ['step', 'VARCHAR'],
  ['sql', 'VARCHAR'],
  ['replaced', 'VARCHAR'],
  ['inputs', 'VARCHAR'],
  ['rows_written', 'BIGINT'],
  ['table_rows', 'BIGINT'],
  ['duration_ms', 'DOUBLE'],
  ['user_name', 'VARCHAR'],
  ['host', 'VARCHAR'],
  ['tool_version', 'VARCHAR'],
  ['written_at', 'TIMESTAMP'],
];

export function metaTableRef(d: Dialect): string {
  return d.tableRef(META_SCHEMA, META_TABLE);
}

export function createMetaTableSql(d: Dialect): string {
  const cols = META_COLUMNS.map(([n, t]) => `${d.quoteIdentifier(n)} ${t}`).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${metaTableRef(d)} (${cols})`;
}

/** Who runs this process: the login name, or the environment's idea of it in a container without one. */
export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}

/** One write, as recorded. */
export interface WriteRecord extends ProvenanceInput {
  readonly target: TableRef;
  readonly sql?: string | null;
  readonly replaced?: string | null;
  readonly rowsWritten: number;
  readonly tableRows: number;
  readonly durationMs: number;
  readonly writtenAt: Date;
}

// NUL cannot travel inside a SQL string literal; provenance text is informational, so drop it.
const clean = (s: string): string => s.replace(/\0/g, '');

function literal(d: Dialect, s: string | null | undefined): string {
  return s === null || s === undefined ? 'NULL' : d.stringLiteral(clean(s));
}

function isoMicros(t: Date): string {
  return t.toISOString().replace('T', ' ').replace('Z', '');
}

/** Appends one provenance row; its id is one more than the largest so far (one writer at a time). */
export function insertProvenanceSql(d: Dialect, r: WriteRecord): string {
  const values = [
    literal(d, r.target.schema),
    literal(d, r.target.table),
    literal(d, r.command),
    literal(d, r.step),
    literal(d, r.sql),
    literal(d, r.replaced),
    literal(d, JSON.stringify(r.inputs ?? [])),
    String(Math.trunc(r.rowsWritten)),
    String(Math.trunc(r.tableRows)),
    String(Number.isFinite(r.durationMs) ? r.durationMs : 0),
    literal(d, currentUser()),
    literal(d, os.hostname()),
    literal(d, TOOL_VERSION),
    `TIMESTAMP ${literal(d, isoMicros(r.writtenAt))}`,
  ];
  return `INSERT INTO ${metaTableRef(d)} SELECT coalesce(max(${d.quoteIdentifier('id')}), 0) + 1, ${values.join(', ')} FROM ${metaTableRef(d)}`;
}

function summariseInputs(inputs: readonly string[]): string {
  if (inputs.length === 0) return 'no inputs';
  const shown = inputs.slice(0, 3).join(', ');
  return inputs.length <= 3 ? `inputs: ${shown}` : `inputs: ${shown}, … (${inputs.length} in all)`;
}

/** The table comment: the latest write in one line (the full history is in the metadata table). */
export function tableComment(r: WriteRecord): string {
  const parts = [
    `edx2bq ${r.command}: ${r.step}`,
    ...(r.replaced ? [`replaced ${r.replaced}`] : []),
    r.tableRows < 0 ? 'a view (rows not stored)' : `rows written ${r.rowsWritten}, rows in table ${r.tableRows}`,
    summariseInputs(r.inputs ?? []),
    `${currentUser()}@${os.hostname()} ${r.writtenAt.toISOString()}`,
    `edx2bq ${TOOL_VERSION}; history in ${META_SCHEMA}.${META_TABLE}`,
  ];
  return clean(parts.join(' · '));
}

export function commentSql(d: Dialect, target: TableRef, r: WriteRecord, kind: 'TABLE' | 'VIEW' = 'TABLE'): string {
  return `COMMENT ON ${kind} ${d.tableRef(target.schema, target.table)} IS ${d.stringLiteral(tableComment(r))}`;
}

/** The SELECT list that reads metadata rows back in the shape `recordFromRow` expects. */
export function provenanceSelectSql(d: Dialect): string {
  return `SELECT ${META_COLUMNS.map(([n]) => d.quoteIdentifier(n)).join(', ')} FROM ${metaTableRef(d)}`;
}

const str = (v: OutputValue | undefined): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const num = (v: OutputValue | undefined): number => (typeof v === 'number' ? v : Number(v ?? 0));

/** A metadata row (columns in `META_COLUMNS` order, values from the engine's JSON conversion). */
export function recordFromRow(row: readonly OutputValue[]): ProvenanceRecord {
  let inputs: string[] = [];
  try {
    const parsed: unknown = JSON.parse(str(row[7]) || '[]');
    if (Array.isArray(parsed)) inputs = parsed.map(String);
  } catch {
    // a hand-edited row: keep the record, without inputs
  }
  return {
    id: num(row[0]),
    schema: str(row[1]),
    table: str(row[2]),
    command: str(row[3]),
    step: str(row[4]),
    sql: row[5] === null ? null : str(row[5]),
    replaced: row[6] === null ? null : str(row[6]),
    inputs,
    rowsWritten: num(row[8]),
    tableRows: num(row[9]),
    durationMs: num(row[10]),
    user: str(row[11]),
    host: str(row[12]),
    toolVersion: str(row[13]),
    writtenAt: str(row[14]),
  };
}
