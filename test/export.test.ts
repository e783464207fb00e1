import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runExport } from '../src/commands/export.ts';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { copySql, exportSelectSql, exportTable, parseExportFormat } from '../src/warehouse/export.ts';
import { courseSchema, SHARED_SCHEMA } from '../src/warehouse/naming.ts';
import type { Cell, ColumnDef, OutputValue, TableRef } from '../src/warehouse/warehouse.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
afterEach(() => vi.restoreAllMocks());

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edx2bq-export-'));
  dirs.push(d);
  return d;
}

const PROV = { command: 'test', step: 'load test rows' };

const COLUMNS: ColumnDef[] = [
  { name: 's', type: 'VARCHAR' },
  { name: 'i', type: 'BIGINT' },
  { name: 'n', type: 'INTEGER' },
  { name: 'f', type: 'DOUBLE' },
  { name: 'b', type: 'BOOLEAN' },
  { name: 'd', type: 'DATE' },
  { name: 'ts', type: 'TIMESTAMP' },
];

const ROWS: Cell[][] = [
  ['plain', 1, 2, 1.5, true, '2015-02-10', '2015-02-10T05:17:08.011728+00:00'],
  ['', -9007199254740991, -3, -0.25, false, '1970-01-01', '2014-10-14T00:00:00+00:00'],
  [null, null, null, null, null, null, null],
  ['ünïcödé 🦆 "quoted", with\nnewline\r\nand crlf; \'single\'', 0, 2147483647, 1e300, true, '2099-12-31', '2015-02-10T05:17:08.123+00:00'],
  ['a,b', 42, 0, 0, false, '2000-02-29', new Date(Date.UTC(1999, 11, 31, 23, 59, 59))],
];

const COURSE_A = 'course-v1:MITx+6.002x+2T2014';
const COURSE_B = 'HarvardX/CS50/2012';
const HOSTILE = '../../x"; DROP TABLE y; --';

/** A warehouse with `t` in two courses (and the hostile id's schema), `other` in a third, and courses.summary. */
async function makeWarehouse(): Promise<{ file: string; original: OutputValue[][] }> {
  const file = path.join(tempDir(), 'warehouse.duckdb');
  const w = await openDuckDBWarehouse(file);
  try {
    for (const c of [COURSE_A, COURSE_B, HOSTILE]) await w.replaceTable({ schema: courseSchema(c), table: 't' }, COLUMNS, ROWS, PROV);
    await w.replaceTable({ schema: courseSchema('MITx/other/2015'), table: 'other' }, COLUMNS, ROWS.slice(0, 1), PROV);
    await w.replaceTable({ schema: courseSchema('MITx/other/2015') + '_logs', table: 't' }, COLUMNS, ROWS.slice(0, 1), PROV);
    await w.replaceTable({ schema: SHARED_SCHEMA, table: 'summary' }, COLUMNS, ROWS, PROV);
    const original = (await w.query(`SELECT * FROM ${w.dialect.tableRef(courseSchema(COURSE_A), 't')}`)).rows;
    return { file, original };
  } finally {
    await w.close();
  }
}

function listFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

/** Runs the command, capturing stdout and stderr. */
async function run(table: string, courses: string[], opts: Record<string, unknown>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await runExport(table, courses, opts);
    return { code, out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('export formats read back exactly', async () => {
  const { file, original } = await makeWarehouse();
  const out = path.join(tempDir(), 'out');
  const schemaA = courseSchema(COURSE_A);

  it('exports every format and reads each back', async () => {
    for (const format of ['csv', 'parquet', 'jsonl']) {
      const r = await run('t', [COURSE_A], { format, out, warehouse: file });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^5 rows  \\d+ bytes  .*${schemaA}/t\\.`));
    }
    expect(listFiles(out)).toEqual([`${schemaA}/t.csv.gz`, `${schemaA}/t.jsonl.gz`, `${schemaA}/t.parquet`]);

    const w = await openDuckDBWarehouse(file, { readOnly: true });
    try {
      const lit = (f: string) => w.dialect.stringLiteral(path.join(out, schemaA, f));
      // Parquet: the same types and values
      const pq = await w.query(`SELECT * FROM read_parquet(${lit('t.parquet')})`);
      expect(pq.rows).toEqual(original);
      expect(pq.columns.map((c) => c.type)).toEqual(['VARCHAR', 'BIGINT', 'INTEGER', 'DOUBLE', 'BOOLEAN', 'DATE', 'TIMESTAMP']);
      const codec = await w.query(`SELECT DISTINCT compression FROM parquet_metadata(${lit('t.parquet')})`);
      expect(codec.rows).toEqual([['ZSTD']]);

      // CSV: every value as text, NULL and '' kept apart, timestamps ISO UTC
      // (allow_quoted_nulls = false: DuckDB's reader otherwise takes "" for NULL too)
      const csv = await w.query(`SELECT * FROM read_csv(${lit('t.csv.gz')}, header = true, all_varchar = true, allow_quoted_nulls = false)`);
      expect(csv.columns.map((c) => c.name)).toEqual(COLUMNS.map((c) => c.name));
      // DOUBLE text is the engine's (0 is written 0.0): compare it as a number
      const F = 3;
      const asText = original.map((row) => row.map((v, k) => (v === null ? null : k === F ? Number(v) : String(v))));
      expect(csv.rows.map((row) => row.map((v, k) => (k === F && v !== null ? Number(v) : v)))).toEqual(asText);
      expect(csv.rows[0]?.[6]).toBe('2015-02-10T05:17:08.011728Z');
      expect(csv.rows[1]?.[6]).toBe('2014-10-14T00:00:00.000Z');

      // JSON lines read by DuckDB
      const js = await w.query(`SELECT s, n, b, CAST(d AS VARCHAR), CAST(ts AS VARCHAR) FROM read_json(${lit('t.jsonl.gz')}, format = 'newline_delimited', columns = {s: 'VARCHAR', i: 'BIGINT', n: 'INTEGER', f: 'DOUBLE', b: 'BOOLEAN', d: 'DATE', ts: 'VARCHAR'})`);
      expect(js.rows).toEqual(original.map((r) => [r[0], r[2], r[4], r[5], r[6]] as OutputValue[]));
    } finally {
      await w.close();
    }

    // CSV bytes: RFC 4180 with CRLF, NULL is empty, '' is ""
    const text = zlib.gunzipSync(fs.readFileSync(path.join(out, schemaA, 't.csv.gz'))).toString('utf8');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('s,i,n,f,b,d,ts');
    expect(lines[2]).toBe('"",-9007199254740991,-3,-0.25,false,1970-01-01,2014-10-14T00:00:00.000Z');
    expect(lines[3]).toBe(',,,,,,');
    expect(text).toContain('"ünïcödé 🦆 ""quoted"", with\nnewline\r\nand crlf; \'single\'"');

    // JSON lines by Node: one object per line, in column order, exactly the query output
    const jsonl = zlib.gunzipSync(fs.readFileSync(path.join(out, schemaA, 't.jsonl.gz'))).toString('utf8');
    expect(jsonl.endsWith('\n')).toBe(true);
    const objects = jsonl.slice(0, -1).split('\n').map((l) => JSON.parse(l) as Record<string, OutputValue>);
    expect(objects).toEqual(original.map((r) => Object.fromEntries(COLUMNS.map((c, k) => [c.name, r[k] ?? null]))));
    expect(Object.keys(objects[0] ?? {})).toEqual(COLUMNS.map((c) => c.name));
  });

  it('writes timestamps in CSV as JavaScript ISO text, microseconds only when they are not whole milliseconds', async () => {
    const w = await openDuckDBWarehouse(path.join(tempDir(), 'ts.duckdb'));
    try {
      // each value's expected text comes from Date.toISOString plus the sub-millisecond digits
      const cases: Array<[string, string]> = [
        ['2000-01-01 00:00:00', '2000-01-01T00:00:00.000Z'],
        ['2000-01-01 00:00:00.1', '2000-01-01T00:00:00.100Z'],
        ['2000-01-01 00:00:00.000500', '2000-01-01T00:00:00.000500Z'],
        ['2015-02-10 05:17:08.120001', '2015-02-10T05:17:08.120001Z'],
        ['1969-12-31 23:59:59.999', '1969-12-31T23:59:59.999Z'],
      ];
      for (const [, text] of cases) expect(new Date(text).toISOString().slice(0, 23)).toBe(text.slice(0, 23));
      await w.query(`CREATE TABLE main.ts AS SELECT * FROM (VALUES ${cases.map(([v], k) => `(${k}, TIMESTAMP '${v}')`).join(', ')}) v(k, t) ORDER BY k`);
      const file = path.join(tempDir(), 'ts.csv.gz');
      await exportTable(w, { schema: 'main', table: 'ts' }, 'csv', file);
      const lines = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\r\n');
      expect(lines.slice(1, -1)).toEqual(cases.map(([, text], k) => `${k},${text}`));
    } finally {
      await w.close();
    }
  });

  it('replaces an existing file, leaving no temporary file', async () => {
    const r = await run('t', [COURSE_A], { format: 'csv', out, warehouse: file, json: true });
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.out) as { files: { schema: string; rows: number; bytes: number; path: string }[]; failures: unknown[] };
    expect(parsed.failures).toEqual([]);
    expect(parsed.files).toHaveLength(1);
    expect(parsed.files[0]).toMatchObject({ schema: schemaA, table: 't', format: 'csv', rows: 5 });
    expect(parsed.files[0]?.bytes).toBe(fs.statSync(path.join(out, schemaA, 't.csv.gz')).size);
    expect(listFiles(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('export command', async () => {
  const { file } = await makeWarehouse();

  it('exports every course schema that has the table when no course is given (not the _logs companion)', async () => {
    const out = path.join(tempDir(), 'out');
    const r = await run('t', [], { format: 'jsonl', out, warehouse: file });
    expect(r.code).toBe(0);
    expect(listFiles(out)).toEqual([COURSE_B, COURSE_A, HOSTILE].map((c) => `${courseSchema(c)}/t.jsonl.gz`).sort());
    expect(r.out.trim().split('\n')).toHaveLength(3);
  });

  it('takes either id form, once per course, and a shared table as courses.<table>', async () => {
    const out = path.join(tempDir(), 'out');
    const r = await run('t', [COURSE_A, 'MITx/6.002x/2T2014', COURSE_B], { out, warehouse: file });
    expect(r.code).toBe(0);
    expect(listFiles(out)).toEqual([`${courseSchema(COURSE_B)}/t.parquet`, `${courseSchema(COURSE_A)}/t.parquet`]);
    const s = await run('courses.summary', [], { format: 'csv', out, warehouse: file });
    expect(s.code).toBe(0);
    expect(fs.existsSync(path.join(out, 'courses', 'summary.csv.gz'))).toBe(true);
  });

  it('fails a course with an unknown table, listing its tables, and still exports the others', async () => {
    const out = path.join(tempDir(), 'out');
    const r = await run('other', ['MITx/other/2015', COURSE_A, 'MITx/nope/2020'], { format: 'csv', out, warehouse: file });
    expect(r.code).toBe(1);
    expect(listFiles(out)).toEqual([`${courseSchema('MITx/other/2015')}/other.csv.gz`]);
    expect(r.err).toContain(`no table other in schema ${courseSchema(COURSE_A)} (its tables: t)`);
    expect(r.err).toContain('unknown course: no schema MITx__nope__2020');
    const none = await run('missing', [], { out, warehouse: file, json: true });
    expect(none.code).toBe(1);
    expect(JSON.parse(none.out).failures[0].error).toMatch(/no course schema has a table missing \(the course tables are: other, t\)/);
    const shared = await run('courses.missing', [], { out, warehouse: file });
    expect(shared.code).toBe(1);
    expect(shared.err).toContain('no table missing in schema courses (its tables: summary)');
  });

  it('keeps a hostile course id inside --out', async () => {
    const out = path.join(tempDir(), 'out');
    const r = await run('t', [HOSTILE], { format: 'csv', out, warehouse: file, json: true });
    expect(r.code).toBe(0);
    const files = listFiles(out);
    expect(files).toEqual([`${courseSchema(HOSTILE)}/t.csv.gz`]);
    expect(courseSchema(HOSTILE)).toMatch(/^[A-Za-z0-9_]+$/);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['out']);
  });

  it('refuses usage errors', async () => {
    const o = { warehouse: file, out: tempDir() };
    await expect(runExport('t', [], { ...o, format: 'xlsx' })).rejects.toThrow(/unknown export format "xlsx": use csv, parquet, jsonl/);
    await expect(runExport('t;drop', [], o)).rejects.toThrow(/invalid table name/);
    await expect(runExport('main._edx2bq', [], o)).rejects.toThrow(/only tables of the shared schema/);
    await expect(runExport('courses.summary', [COURSE_A], o)).rejects.toThrow(/give no courses/);
    await expect(runExport('t', [], { ...o, warehouse: path.join(tempDir(), 'none.duckdb') })).rejects.toThrow(/does not exist/);
    expect(parseExportFormat('JSONL')).toBe('jsonl');
  });

  it('a failed export removes its temporary file and leaves the target as it was', async () => {
    const out = tempDir();
    const w = await openDuckDBWarehouse(file, { readOnly: true });
    try {
      const ref: TableRef = { schema: courseSchema(COURSE_A), table: 't' };
      // the target is a non-empty directory: the final rename fails after the COPY
      const target = path.join(out, 'x.parquet');
      fs.mkdirSync(path.join(target, 'keep'), { recursive: true });
      await expect(exportTable(w, ref, 'parquet', target)).rejects.toThrow();
      expect(fs.readdirSync(out)).toEqual(['x.parquet']); // no .x.parquet.tmp-… left
      expect(fs.readdirSync(target)).toEqual(['keep']);
      // the SQL quotes the path and names
      const sql = copySql(w.dialect, exportSelectSql(w.dialect, ref, [{ name: 'we"ird', type: 'TIMESTAMP' }], 'csv'), 'csv', "/tmp/it's.csv.gz");
      expect(sql).toContain(`TO '/tmp/it''s.csv.gz'`);
      expect(sql).toContain(`AS "we""ird"`);
    } finally {
      await w.close();
    }
  });
});
