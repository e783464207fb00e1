/**
 * `edx2bq export <table> [course...]`: writes a warehouse table, per course, to files.
 *
 * Suggested `--help` text (the CLI wiring is in src/cli.ts):
 *
 *   export <table> [course...]      write a warehouse table to files, one per course schema
 *     <table>                       a table name (person_course_day), or courses.<table> for a
 *                                   table of the shared schema "courses" (then give no course)
 *     [course...]                   course ids in either form, or schema names; none: every
 *                                   course schema that has the table
 *     --format <format>             csv, parquet or jsonl (default parquet)
 *     --out <dir>                   where to write (default edx2bq-data/export)
 *     --json                        print what was written (and what failed) as JSON
 *     --warehouse <file>            the DuckDB warehouse file
 *
 *   Each table goes to <out>/<schema>/<table>.<ext>, written under a temporary name and renamed
 *   when complete (an existing file is replaced):
 *     csv      .csv.gz    gzip; header; RFC 4180 (CRLF, "" quoting); NULL is an empty field,
 *                         the empty string is ""; timestamps ISO 8601 UTC (…T05:17:08.011728Z)
 *     parquet  .parquet   zstd; the warehouse's column types
 *     jsonl    .jsonl.gz  gzip; one JSON object per line; NULL is null; timestamps as in csv
 *   One line per file: rows, bytes, path. Exit code 1 when a course failed (unknown course,
 *   no such table, write error: the others are still written), 2 for usage errors.
 *
 *   Examples:
 *     edx2bq export person_course_day MITx/6.002x/2T2014 --format csv
 *     edx2bq export person_course_day --format parquet --out /data/export
 *     edx2bq export courses.person_course --format jsonl
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { assertInside } from '../fsutil.ts';
import { openDuckDBWarehouse } from '../warehouse/duckdb.ts';
import { EXPORT_EXTENSIONS, exportTable, parseExportFormat, type ExportFileResult, type ExportFormat } from '../warehouse/export.ts';
import { checkPlainName, courseSchema, META_SCHEMA, SHARED_SCHEMA } from '../warehouse/naming.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import { writeOut } from './resultFormat.ts';

export interface ExportCliOptions {
  format?: string;
  out?: string;
  warehouse?: string;
  config?: string;
  json?: boolean;
}

export const DEFAULT_EXPORT_DIR = path.join('edx2bq-data', 'export');
export const DEFAULT_EXPORT_FORMAT: ExportFormat = 'parquet';

/** One schema to export from: the course as given (null when found by listing), its schema. */
interface Target {
  readonly course: string | null;
  readonly schema: string;
}

interface Failure {
  readonly course: string | null;
  readonly schema: string | null;
  readonly error: string;
}

/** `table` or `courses.table`; anything else is a usage error. */
function parseTableArg(arg: string): { schema: string | null; table: string } {
  const dot = arg.indexOf('.');
  if (dot < 0) return { schema: null, table: checkPlainName('table', arg) };
  const schema = arg.slice(0, dot);
  if (schema !== SHARED_SCHEMA) {
    throw new Error(`table ${JSON.stringify(arg)}: only tables of the shared schema are named with their schema (${SHARED_SCHEMA}.<table>); give courses as arguments after the table`);
  }
  return { schema, table: checkPlainName('table', arg.slice(dot + 1)) };
}

async function tableNames(w: Warehouse, schema: string): Promise<string[]> {
  const r = await w.query(
    `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal AND NOT temporary AND schema_name = ${w.dialect.stringLiteral(schema)} ORDER BY table_name`,
  );
  return r.rows.map((row) => String(row[0]));
}

function missingTable(table: string, schema: string, existing: readonly string[]): string {
  const list = existing.length === 0 ? 'it has no tables' : `its tables: ${existing.join(', ')}`;
  return `no table ${table} in schema ${schema} (${list})`;
}

/** Course schemas: not the shared or engine ones, not a course's `<schema>_logs` companion. */
function courseSchemas(schemas: readonly string[]): string[] {
  const all = new Set(schemas);
  return schemas.filter((s) => s !== SHARED_SCHEMA && s !== META_SCHEMA && !(s.endsWith('_logs') && all.has(s.slice(0, -'_logs'.length))));
}

function summaryLine(r: ExportFileResult): string {
  return `${r.rows} row${r.rows === 1 ? '' : 's'}  ${r.bytes} bytes  ${r.file}\n`;
}

/** Runs `edx2bq export`; returns the process exit code (1 when a course failed). */
export async function runExport(table: string, courses: string[], o: ExportCliOptions): Promise<number> {
  const format = parseExportFormat(o.format ?? DEFAULT_EXPORT_FORMAT);
  const parsed = parseTableArg(table);
  if (parsed.schema !== null && courses.length > 0) throw new Error(`${table} is a table of the shared schema: give no courses with it`);
  const outDir = o.out ?? DEFAULT_EXPORT_DIR;
  if (outDir.trim() === '') throw new Error('--out must not be empty');
  const cfg = loadConfig({ warehouse: o.warehouse, config: o.config });
  if (!fs.existsSync(cfg.warehouse)) throw new Error(`the warehouse ${cfg.warehouse} does not exist: nothing to export`);

  // read-only: an export may run next to other readers, and never changes the warehouse
  const w = await openDuckDBWarehouse(cfg.warehouse, { readOnly: true });
  const done: ExportFileResult[] = [];
  const failures: Failure[] = [];
  const fail = async (f: Failure) => {
    failures.push(f);
    if (!o.json) await writeOut(process.stderr, `edx2bq: ${f.course ?? f.schema ?? table}: ${f.error}\n`);
  };
  try {
    const schemas = await w.listSchemas();
    const targets: Target[] = [];
    if (parsed.schema !== null) {
      targets.push({ course: null, schema: parsed.schema });
    } else if (courses.length > 0) {
      const seen = new Set<string>();
      for (const course of courses) {
        let schema: string;
        try {
          schema = courseSchema(course);
        } catch (e) {
          await fail({ course, schema: null, error: (e as Error).message });
          continue;
        }
        if (!schemas.includes(schema)) {
          await fail({ course, schema, error: `unknown course: no schema ${schema} in the warehouse ${cfg.warehouse}` });
          continue;
        }
        if (seen.has(schema)) continue; // the same course in both id forms
        seen.add(schema);
        targets.push({ course, schema });
      }
    } else {
      const having = await w.query(
        `SELECT DISTINCT schema_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal AND NOT temporary AND table_name = ${w.dialect.stringLiteral(parsed.table)} ORDER BY schema_name`,
      );
      const withTable = new Set(having.rows.map((r) => String(r[0])));
      const found = courseSchemas(schemas).filter((s) => withTable.has(s));
      if (found.length === 0) {
        const names = new Set<string>();
        for (const s of courseSchemas(schemas)) for (const n of await tableNames(w, s)) names.add(n);
        const list = names.size === 0 ? 'there are no course tables yet' : `the course tables are: ${[...names].sort().join(', ')}`;
        await fail({ course: null, schema: null, error: `no course schema has a table ${parsed.table} (${list})` });
      }
      for (const schema of found) targets.push({ course: null, schema });
    }

    for (const t of targets) {
      try {
        const ref = { schema: t.schema, table: parsed.table };
        if (!(await w.tableExists(ref))) {
          await fail({ course: t.course, schema: t.schema, error: missingTable(parsed.table, t.schema, await tableNames(w, t.schema)) });
          continue;
        }
        const file = path.join(outDir, t.schema, `${parsed.table}${EXPORT_EXTENSIONS[format]}`);
        assertInside(outDir, file);
        const r = await exportTable(w, ref, format, file);
        done.push(r);
        if (!o.json) await writeOut(process.stdout, summaryLine(r));
      } catch (e) {
        await fail({ course: t.course, schema: t.schema, error: (e as Error).message });
      }
    }
  } finally {
    await w.close();
  }

  if (o.json) {
    const files = done.map((r) => ({ schema: r.schema, table: r.table, format: r.format, path: r.file, rows: r.rows, bytes: r.bytes, durationMs: r.durationMs }));
    await writeOut(process.stdout, JSON.stringify({ files, failures }, null, 2) + '\n');
  }
  return failures.length > 0 ? 1 : 0;
}
