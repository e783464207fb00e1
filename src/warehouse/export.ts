/**
 * Writes one warehouse table to a file with the engine's own writer
 * (`COPY (SELECT …) TO 'file' (FORMAT …)`), atomically: the engine writes a temporary name in the
 * target's directory, which is renamed into place only after the COPY succeeded.
 *
 * Formats and conventions:
 * - `csv` → `.csv.gz`: gzip, a header line, RFC 4180 (`,` separator, CRLF line ends, fields with
 *   `,` `"` or line breaks in double quotes, `"` doubled; a line break inside a value is kept as
 *   it is). NULL is an empty field; the empty string is `""`, so the two stay apart. Timestamps
 *   as ISO 8601 in UTC like `edx2bq query --csv` (`2015-02-10T05:17:08.011728Z`, `….000Z` when
 *   the microseconds are whole milliseconds); dates `YYYY-MM-DD`; booleans `true`/`false`.
 * - `parquet` → `.parquet`: zstd, the engine's column types (TIMESTAMP as microseconds).
 * - `jsonl` → `.jsonl.gz`: gzip, one JSON object per row and line (`\n`), keys in column order,
 *   NULL as `null`, timestamps as in CSV. Integers are JSON numbers even beyond 2^53 (exact in
 *   the file; a JavaScript `JSON.parse` rounds them).
 *
 * Names: schema and table must be plain names (`checkPlainName`); column names come from the
 * engine and are quoted; the file path is quoted with the dialect's `stringLiteral`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Dialect } from './dialect.ts';
import { checkPlainName } from './naming.ts';
import type { ResultColumn, TableRef, Warehouse } from './warehouse.ts';

export const EXPORT_FORMATS = ['csv', 'parquet', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The file name ending of each format. */
export const EXPORT_EXTENSIONS: Readonly<Record<ExportFormat, string>> = { csv: '.csv.gz', parquet: '.parquet', jsonl: '.jsonl.gz' };

/** The format named by `--format` (case-insensitive); anything else is a usage error. */
export function parseExportFormat(text: string): ExportFormat {
  const f = text.trim().toLowerCase();
  const found = EXPORT_FORMATS.find((x) => x === f);
  if (!found) throw new Error(`unknown export format ${JSON.stringify(text)}: use ${EXPORT_FORMATS.join(', ')}`);
  return found;
}

export interface ExportFileResult {
  readonly schema: string;
  readonly table: string;
  readonly format: ExportFormat;
  /** The file written (as given to `exportTable`). */
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
}

const ISO_SECONDS = '%Y-%m-%dT%H:%M:%S';

/** A timestamp expression (a naive TIMESTAMP in UTC) as the ISO text `isoFromMicros` gives. */
function isoText(expr: string): string {
  // `.123000Z` → `.123Z`: the text ends in the only `Z`, so `000Z` can only match the last
  // three microsecond digits. One strftime per value: a CASE over `microsecond() % 1000` with two
  // strftime calls made a 1M-row person_course export ~2.5 s slower (measured)
  return `CASE WHEN isfinite(${expr}) THEN replace(strftime(${expr}, '${ISO_SECONDS}.%fZ'), '000Z', 'Z') ELSE CAST(${expr} AS VARCHAR) END`;
}

/** The column as it is written to a text format: timestamps to ISO UTC text, the rest as it is. */
function textColumn(d: Dialect, c: ResultColumn): string {
  const q = d.quoteIdentifier(c.name);
  switch (c.type) {
    case 'TIMESTAMP':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_NS': // to microseconds, like the JSON output of `query`
      return `${isoText(`CAST(${q} AS TIMESTAMP)`)} AS ${q}`;
    case 'TIMESTAMP WITH TIME ZONE':
      return `${isoText(`timezone('UTC', ${q})`)} AS ${q}`;
    default:
      return q;
  }
}

/** The SELECT whose rows are written: every column, timestamps as ISO text for CSV and JSON lines. */
export function exportSelectSql(d: Dialect, t: TableRef, columns: readonly ResultColumn[], format: ExportFormat): string {
  const ref = d.tableRef(checkPlainName('schema', t.schema), checkPlainName('table', t.table));
  if (format === 'parquet' || columns.length === 0) return `SELECT * FROM ${ref}`;
  return `SELECT ${columns.map((c) => textColumn(d, c)).join(', ')} FROM ${ref}`;
}

// CSV and JSON lines are written plain by DuckDB and gzipped by Node's zlib (level 1, on the
// thread pool): DuckDB's own gzip writer is the slow part of a large export (measured: ~5× slower)
const COPY_OPTIONS: Readonly<Record<ExportFormat, string>> = {
  csv: `FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"', NEW_LINE '\r\n', NULLSTR ''`,
  parquet: `FORMAT parquet, COMPRESSION zstd`,
  jsonl: `FORMAT json, ARRAY false`,
};
const GZIPPED: ReadonlySet<ExportFormat> = new Set(['csv', 'jsonl']);

/** `COPY (select) TO 'file' (…)` for the format. */
export function copySql(d: Dialect, selectSql: string, format: ExportFormat, file: string): string {
  return `COPY (${selectSql}) TO ${d.stringLiteral(file)} (${COPY_OPTIONS[format]})`;
}

/** A temporary name next to `file` (same directory, so the rename is atomic). */
function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes the table to `file` in the format (creating its directory). The file appears complete or
 * not at all: a failed or killed export leaves the previous file, if any, untouched (and at most a
 * `.<name>.tmp-…` file after a kill). The table must exist (`SqlError` otherwise).
 */
export async function exportTable(w: Warehouse, t: TableRef, format: ExportFormat, file: string): Promise<ExportFileResult> {
  const started = performance.now();
  const d = w.dialect;
  const ref = d.tableRef(checkPlainName('schema', t.schema), checkPlainName('table', t.table));
  const { columns } = await w.query(`SELECT * FROM ${ref} LIMIT 0`);
  const target = path.resolve(file);
  await fs.promises.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempName(target);
  const plain = `${tmp}.plain`;
  try {
    const gzipped = GZIPPED.has(format);
    const r = await w.query(copySql(d, exportSelectSql(d, t, columns, format), format, gzipped ? plain : tmp));
    const rows = Number(r.rows[0]?.[0] ?? 0);
    if (gzipped) {
      await pipeline(fs.createReadStream(plain, { highWaterMark: 1 << 20 }), zlib.createGzip({ level: 1, memLevel: 9 }), fs.createWriteStream(tmp));
      await fs.promises.rm(plain, { force: true });
    }
    const { size } = await fs.promises.stat(tmp);
    await fs.promises.rename(tmp, target);
    return { schema: t.schema, table: t.table, format, file, rows, bytes: size, durationMs: Math.round(performance.now() - started) };
  } catch (e) {
    await fs.promises.rm(tmp, { force: true, recursive: true }).catch(() => undefined);
    await fs.promises.rm(plain, { force: true }).catch(() => undefined);
    throw e;
  }
}
