import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { duckdbDialect } from '../src/warehouse/dialect.ts';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { courseSchema, datasetName, NamingError } from '../src/warehouse/naming.ts';
import { SqlError, WarehouseLoadError, type Cell, type ColumnDef, type OutputValue, type TableRef } from '../src/warehouse/warehouse.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempWarehouseFile(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edx2bq-wh-'));
  dirs.push(d);
  return path.join(d, 'nested', 'warehouse.duckdb');
}

async function withWarehouse<T>(fn: (w: DuckDBWarehouse, file: string) => Promise<T>, file = tempWarehouseFile()): Promise<T> {
  const w = await openDuckDBWarehouse(file);
  try {
    return await fn(w, file);
  } finally {
    await w.close();
  }
}

const PROV = { command: 'test', step: 'load test rows', inputs: ['a.log.gz', 'b.log.gz'] };

const HOSTILE_IDS = [
  '"; DROP TABLE victim; --',
  "x'; DROP SCHEMA main CASCADE; --",
  'a"b',
  'a""b',
  'semi;colon',
  'back\\slash',
  '../../etc/passwd',
  'ccx-v1:MITx+6.002x+2T2014+ccx@3',
  'ünï/cödé/🦆',
  'tab\there\nnewline',
  'x'.repeat(5000),
];

describe('schema names from course ids', () => {
  it('follows the spec: / → __, . and - → _, either id form', () => {
    expect(datasetName('course-v1:MITx+6.002x+2T2014')).toBe('MITx__6_002x__2T2014');
    expect(datasetName('MITx/6.002x/2T2014')).toBe('MITx__6_002x__2T2014');
    expect(datasetName('HarvardX/CS50-x/2012_Fall')).toBe('HarvardX__CS50_x__2012_Fall');
    expect(courseSchema('course-v1:MITx+6.00.1x-2+3T2015')).toBe('MITx__6_00_1x_2__3T2015');
  });

  it('escapes everything else, so hostile ids give plain names', () => {
    expect(datasetName('"; DROP TABLE victim; --')).toBe('_22_3B_20DROP_20TABLE_20victim_3B_20__');
    expect(datasetName('ccx-v1:MITx+6.002x+2T2014+ccx@3')).toBe('ccx_v1_3AMITx_2B6_002x_2B2T2014_2Bccx_403');
    for (const id of HOSTILE_IDS) {
      const name = courseSchema(id);
      expect(name).toMatch(/^[A-Za-z0-9_]+$/);
      expect(name.length).toBeLessThanOrEqual(200);
    }
    // over-long ids are cut and made distinct by a hash of the whole id
    expect(courseSchema('x'.repeat(5000))).not.toBe(courseSchema('x'.repeat(5001)));
  });

  it('refuses empty ids and ids that would take a shared or engine schema', () => {
    for (const id of ['', '  ', 'courses', 'main', 'MAIN', 'information_schema', 'pg_catalog', 'temp']) {
      expect(() => courseSchema(id), id).toThrow(NamingError);
    }
  });

  it('never lets a hostile id break out of the identifier, in a real database', async () => {
    await withWarehouse(async (w) => {
      await w.query('CREATE TABLE main.victim AS SELECT 1 AS x');
      for (const [i, id] of HOSTILE_IDS.entries()) {
        const t = { schema: courseSchema(id), table: 'person_course' };
        await w.replaceTable(t, [{ name: 'i', type: 'INTEGER' }], [[i]], PROV);
        expect(await w.tableExists(t)).toBe(true);
      }
      // the dialect alone must also hold: a raw hostile string quoted as an identifier is just a name
      const d = duckdbDialect;
      for (const raw of HOSTILE_IDS.slice(0, 6)) {
        await w.query(`CREATE SCHEMA ${d.quoteIdentifier(raw)}; CREATE TABLE ${d.tableRef(raw, raw)} AS SELECT ${d.stringLiteral(raw)} AS v`);
        const back = await w.query(`SELECT v FROM ${d.tableRef(raw, raw)}`);
        expect(back.rows).toEqual([[raw]]);
      }
      const schemas = await w.listSchemas();
      for (const raw of HOSTILE_IDS.slice(0, 6)) expect(schemas).toContain(raw);
      expect((await w.query('SELECT x FROM main.victim')).rows).toEqual([[1]]);
      expect(() => d.quoteIdentifier('a\0b')).toThrow(/NUL/);
      expect(() => d.quoteIdentifier('')).toThrow();
    });
  });

  it('refuses table and column names that are not plain', async () => {
    await withWarehouse(async (w) => {
      await expect(w.replaceTable({ schema: 'courses', table: 'x"; --' }, [{ name: 'a', type: 'INTEGER' }], [], PROV)).rejects.toThrow(NamingError);
      await expect(w.replaceTable({ schema: 'courses', table: 't' }, [{ name: 'a b', type: 'INTEGER' }], [], PROV)).rejects.toThrow(NamingError);
      await expect(w.replaceTable({ schema: 'a.b', table: 't' }, [{ name: 'a', type: 'INTEGER' }], [], PROV)).rejects.toThrow(NamingError);
    });
  });
});

const MIXED: readonly ColumnDef[] = [
  { name: 'n', type: 'INTEGER' },
  { name: 'username', type: 'VARCHAR' },
  { name: 'user_id', type: 'BIGINT' },
  { name: 'score', type: 'DOUBLE' },
  { name: 'day', type: 'DATE' },
  { name: 'last_event', type: 'TIMESTAMP' },
  { name: 'active', type: 'BOOLEAN' },
];

const ROWS = 5000;
const BASE_US = 1_413_244_800_000_000; // 2014-10-14T00:00:00Z
const BASE_DAY = 16357; // 2014-10-14

/** Row i of the mixed-type load, each type given in its several accepted input forms. */
function mixedRow(i: number): Cell[] {
  const special: Record<number, string> = { 1: 'O\'Brien, "quoted"\nsecond line', 2: 'ünïcödé 🦆', 3: '' };
  const username = special[i] ?? (i % 7 === 0 ? null : `user_${i}`);
  const userId = i === 4 ? 9007199254740993n : i % 11 === 0 ? null : i % 2 === 0 ? BigInt(i) * 1_000_000_007n : i * 1_000_000_007;
  const score = i % 13 === 0 ? null : i / 4;
  const dayNumber = BASE_DAY + (i % 400);
  const day = i % 17 === 0 ? null : i % 3 === 0 ? new Date(dayNumber * 86_400_000).toISOString().slice(0, 10) : i % 3 === 1 ? new Date(dayNumber * 86_400_000) : dayNumber;
  const us = BASE_US + i * 1_000_001;
  const lastEvent = i % 19 === 0 ? null : i % 3 === 0 ? us : i % 3 === 1 ? BigInt(us) : isoMicros(us).replace('Z', '+00:00');
  const active = i % 23 === 0 ? null : i % 2 === 0;
  return [i, username, userId, score, day, lastEvent, active];
}

/** Expected ISO text of a microsecond time (6 fraction digits unless the microseconds are 0). */
function isoMicros(us: number): string {
  const secs = Math.floor(us / 1e6);
  const frac = us - secs * 1e6;
  const base = new Date(secs * 1000).toISOString().slice(0, 19);
  return frac === 0 ? `${base}.000Z` : frac % 1000 === 0 ? `${base}.${String(frac / 1000).padStart(3, '0')}Z` : `${base}.${String(frac).padStart(6, '0')}Z`;
}

/** What the warehouse must give back for row i (JSON-ready: BIGINT as numbers when safe). */
function expectedRow(i: number): OutputValue[] {
  const [, username, userId, score, day, lastEvent, active] = mixedRow(i);
  const dayText = day === null ? null : new Date((BASE_DAY + (i % 400)) * 86_400_000).toISOString().slice(0, 10);
  const id = userId === null ? null : BigInt(userId as bigint | number);
  const idOut = id === null ? null : id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id.toString();
  return [i, username as string | null, idOut, score as number | null, dayText, lastEvent === null ? null : isoMicros(BASE_US + i * 1_000_001), active as boolean | null];
}

describe('bulk load through the appender', () => {
  it('reads back a few thousand mixed-type rows exactly as loaded', async () => {
    await withWarehouse(async (w) => {
      const t = { schema: courseSchema('course-v1:MITx+6.002x+2T2014'), table: 'mixed' };
      const rows = Array.from({ length: ROWS }, (_, i) => mixedRow(i));
      const r = await w.replaceTable(t, MIXED, rows, PROV);
      expect(r).toMatchObject({ rowsWritten: ROWS, tableRows: ROWS, rowsDeleted: 0 });

      const back = await w.query(`SELECT * FROM ${w.dialect.tableRef(t.schema, t.table)} ORDER BY n`);
      expect(back.columns).toEqual([
        { name: 'n', type: 'INTEGER' },
        { name: 'username', type: 'VARCHAR' },
        { name: 'user_id', type: 'BIGINT' },
        { name: 'score', type: 'DOUBLE' },
        { name: 'day', type: 'DATE' },
        { name: 'last_event', type: 'TIMESTAMP' },
        { name: 'active', type: 'BOOLEAN' },
      ]);
      // spelled out: the special cases
      expect(back.rows.slice(0, 5)).toEqual([
        [0, null, null, null, null, null, null],
        [1, 'O\'Brien, "quoted"\nsecond line', 1000000007, 0.25, '2014-10-15', '2014-10-14T00:00:01.000001Z', false],
        [2, 'ünïcödé 🦆', 2000000014, 0.5, '2014-10-16', '2014-10-14T00:00:02.000002Z', true],
        [3, '', 3000000021, 0.75, '2014-10-17', '2014-10-14T00:00:03.000003Z', false],
        [4, 'user_4', '9007199254740993', 1, '2014-10-18', '2014-10-14T00:00:04.000004Z', true],
      ]);
      expect(back.rows[4999]).toEqual([4999, 'user_4999', 4999 * 1_000_000_007, 1249.75, '2015-05-01', '2014-10-14T01:23:19.004999Z', false]);
      expect(back.rows).toEqual(Array.from({ length: ROWS }, (_, i) => expectedRow(i)));

      // and in SQL terms: NULL counts and the exact BIGINT sum
      const stats = await w.query(
        `SELECT count(*) FILTER (WHERE username IS NULL), count(*) FILTER (WHERE user_id IS NULL), count(*) FILTER (WHERE day IS NULL),
                count(*) FILTER (WHERE last_event IS NULL), count(*) FILTER (WHERE active IS NULL), sum(user_id)::VARCHAR
         FROM ${w.dialect.tableRef(t.schema, t.table)}`,
      );
      let sum = 0n;
      for (let i = 0; i < ROWS; i++) {
        const id = mixedRow(i)[2];
        if (id !== null) sum += BigInt(id as bigint | number);
      }
      const nulls = (m: number, skip: readonly number[] = []) => Array.from({ length: ROWS }, (_, i) => i).filter((i) => i % m === 0 && !skip.includes(i)).length;
      expect(stats.rows[0]).toEqual([nulls(7), nulls(11, [4]), nulls(17), nulls(19), nulls(23), sum.toString()]);
    });
  });

  it('takes columnar input with typed arrays', async () => {
    await withWarehouse(async (w) => {
      const t = { schema: 'courses', table: 'columnar' };
      const n = 3000;
      const ids = new BigInt64Array(n).map((_, i) => BigInt(i) - 1500n);
      const scores = new Float64Array(n).map((_, i) => i * 0.5);
      const counts = new Int32Array(n).map((_, i) => i * 3);
      const names = Array.from({ length: n }, (_, i) => (i % 2 ? `u${i}` : null));
      const cols: ColumnDef[] = [
        { name: 'id', type: 'BIGINT' },
        { name: 'score', type: 'DOUBLE' },
        { name: 'cnt', type: 'INTEGER' },
        { name: 'name', type: 'VARCHAR' },
      ];
      await w.replaceTable(t, cols, { columns: [ids, scores, counts, names] }, PROV);
      const r = await w.query('SELECT sum(id), sum(score), sum(cnt), count(name), max(name) FROM courses.columnar');
      expect(r.rows).toEqual([[-1500, 2249250, 13495500, 1500, 'u999']]);
    });
  });

  it('reads NaN in a Float64Array column as NULL, and refuses NaN anywhere else in an integer column', async () => {
    await withWarehouse(async (w) => {
      const t = { schema: 'courses', table: 'nan' };
      const cols: ColumnDef[] = [{ name: 'n', type: 'BIGINT' }, { name: 'ts', type: 'TIMESTAMP' }, { name: 'x', type: 'DOUBLE' }];
      const micros = Date.UTC(2015, 2, 1) * 1000;
      await w.replaceTable(t, cols, { columns: [new Float64Array([1, NaN, 3]), new Float64Array([NaN, micros, NaN]), new Float64Array([NaN, 0.5, NaN])] }, PROV);
      expect((await w.query('SELECT n, ts, x FROM courses.nan ORDER BY n NULLS FIRST')).rows).toEqual([
        [null, '2015-03-01T00:00:00.000Z', 0.5], [1, null, null], [3, null, null],
      ]);
      await expect(w.replaceTable(t, cols, { columns: [[1, NaN], [null, null], [null, null]] }, PROV)).rejects.toThrow(/column n \(BIGINT\), row 1/);
      await expect(w.replaceTable(t, cols, [[NaN, null, null]], PROV)).rejects.toThrow(/column n \(BIGINT\), row 0/);
    });
  });

  it('refuses a bad value, names its column and row, and leaves the table as it was', async () => {
    await withWarehouse(async (w) => {
      const t = { schema: 'courses', table: 'guarded' };
      const cols: ColumnDef[] = [{ name: 'date', type: 'DATE' }, { name: 'v', type: 'BIGINT' }];
      await w.replaceRows(t, { keyColumn: 'date' }, cols, [['2014-10-14', 1]], PROV);
      const bad = Array.from({ length: 3000 }, (_, i): Cell[] => ['2014-10-15', i === 2999 ? 1.5 : i]);
      await expect(w.replaceRows(t, { keyColumn: 'date' }, cols, bad, PROV)).rejects.toThrow(/column v \(BIGINT\), row 2999/);
      await expect(w.replaceRows(t, { keyColumn: 'date' }, cols, [['2014-02-30', 1]], PROV)).rejects.toThrow(WarehouseLoadError);
      await expect(w.replaceRows(t, { keyColumn: 'date' }, cols, [['2014-10-16']], PROV)).rejects.toThrow(/row 0 has 1 values/);
      await expect(w.replaceRows(t, { keyColumn: 'date' }, [{ name: 'date', type: 'DATE' }], [['2014-10-16']], PROV)).rejects.toThrow(/has the columns/);
      expect((await w.query('SELECT date, v FROM courses.guarded')).rows).toEqual([['2014-10-14', 1]]);
      expect(await w.provenance(t)).toHaveLength(1);
      // a failed first load leaves no table behind either
      await expect(w.replaceTable({ schema: 'courses', table: 'never' }, cols, [['x', 1]], PROV)).rejects.toThrow(WarehouseLoadError);
      expect(await w.tableExists({ schema: 'courses', table: 'never' })).toBe(false);
    });
  });
});

describe('replaceRows: incremental and idempotent', () => {
  const cols: ColumnDef[] = [
    { name: 'date', type: 'DATE' },
    { name: 'username', type: 'VARCHAR' },
    { name: 'nevents', type: 'BIGINT' },
  ];
  const dayA = [['2014-10-14', 'alice', 3], ['2014-10-14', 'bob', 1], ['2014-10-14', 'carol', 7]];
  const dayB = [['2014-10-15', 'alice', 2], ['2014-10-15', 'dave', 5]];
  const dayA2 = [['2014-10-14', 'alice', 4], ['2014-10-14', 'erin', 9]];
  const expected = [
    ['2014-10-14', 'alice', 4],
    ['2014-10-14', 'erin', 9],
    ['2014-10-15', 'alice', 2],
    ['2014-10-15', 'dave', 5],
  ];
  const contents = async (w: DuckDBWarehouse, t: TableRef) => (await w.query(`SELECT * FROM ${w.dialect.tableRef(t.schema, t.table)} ORDER BY ALL`)).rows;
  const load = (w: DuckDBWarehouse, t: TableRef, rows: Cell[][]) => w.replaceRows(t, { keyColumn: 'date' }, cols, rows, PROV);

  it('A, B, A again with changed rows → the new A rows and the B rows, no duplicates', async () => {
    await withWarehouse(async (w) => {
      const t = { schema: courseSchema('MITx/6.002x/2T2014'), table: 'person_course_day' };
      expect(await load(w, t, dayA)).toMatchObject({ rowsWritten: 3, rowsDeleted: 0, tableRows: 3 });
      expect(await load(w, t, dayB)).toMatchObject({ rowsWritten: 2, rowsDeleted: 0, tableRows: 5 });
      expect(await load(w, t, dayA2)).toMatchObject({ rowsWritten: 2, rowsDeleted: 3, tableRows: 4 });
      expect(await contents(w, t)).toEqual(expected);
      // repeating any load changes nothing
      await load(w, t, dayB);
      await load(w, t, dayA2);
      expect(await contents(w, t)).toEqual(expected);
    });
  });

  it('ends with the same rows whatever the order of the loads', async () => {
    await withWarehouse(async (w) => {
      const orders: Cell[][][][] = [
        [dayA, dayB, dayA2],
        [dayB, dayA2],
        [dayA2, dayB, dayB, dayA2],
        [dayA, dayA2, dayB],
        [[...dayA2, ...dayB]],
      ];
      for (const [k, order] of orders.entries()) {
        const t = { schema: 'courses', table: `order_${k}` };
        for (const rows of order) await load(w, t, rows);
        expect(await contents(w, t), `order ${k}`).toEqual(expected);
      }
    });
  });

  it('clears a key given explicitly even with no rows, and refuses rows outside the keys', async () => {
    await withWarehouse(async (w) => {
      const t = { schema: 'courses', table: 'pcd' };
      await load(w, t, [...dayA, ...dayB]);
      const r = await w.replaceRows(t, { keyColumn: 'date', keys: ['2014-10-14'] }, cols, [], PROV);
      expect(r).toMatchObject({ rowsWritten: 0, rowsDeleted: 3, tableRows: 2 });
      await expect(w.replaceRows(t, { keyColumn: 'date', keys: ['2014-10-16'] }, cols, dayB, PROV)).rejects.toThrow(/not among the keys/);
      await expect(load(w, t, [[null, 'x', 1]])).rejects.toThrow(/NULL/);
      await expect(w.replaceRows(t, { keyColumn: 'day' }, cols, dayB, PROV)).rejects.toThrow(/key column "day"/);
      expect(await contents(w, t)).toEqual(dayB);
    });
  });

  it('serialises concurrent loads on one warehouse', async () => {
    await withWarehouse(async (w) => {
      const t = { schema: 'courses', table: 'concurrent' };
      await Promise.all([load(w, t, dayA), load(w, t, dayB), load(w, t, dayA2)]);
      expect(await contents(w, t)).toEqual(expected);
    });
  });

  it('keeps the data in the file across close and reopen', async () => {
    const file = tempWarehouseFile();
    const t = { schema: 'courses', table: 'persisted' };
    await withWarehouse(async (w) => {
      await load(w, t, dayA);
      await load(w, t, dayB);
    }, file);
    expect(fs.existsSync(file)).toBe(true);
    await withWarehouse(async (w) => {
      await load(w, t, dayA2);
      expect(await contents(w, t)).toEqual(expected);
    }, file);
  });
});

describe('queries', () => {
  it('streams rows as JSON-ready values, and reports engine errors as SqlError with the engine message', async () => {
    await withWarehouse(async (w) => {
      const r = await w.query(`select 1 as a, 2::hugeint as h, 1e400::varchar as s, 'NaN'::double as nan`);
      expect(r).toEqual({ columns: [{ name: 'a', type: 'INTEGER' }, { name: 'h', type: 'HUGEINT' }, { name: 's', type: 'VARCHAR' }, { name: 'nan', type: 'DOUBLE' }], rows: [[1, 2, 'inf', 'NaN']] });
      const batches: number[] = [];
      await w.queryStream('select range from range(5000)', { columns: () => undefined, rows: (rows) => void batches.push(rows.length) });
      expect(batches.reduce((a, b) => a + b, 0)).toBe(5000);
      expect(batches.length).toBeGreaterThan(1);
      await expect(w.query('select * from nowhere')).rejects.toThrow(SqlError);
      await expect(w.query('select * from nowhere')).rejects.toThrow(/^Catalog Error: Table with name nowhere does not exist/);
      await expect(w.query(`select 'x'::int`)).rejects.toThrow(/^Conversion Error/);
      await expect(w.query('  ;  ')).rejects.toThrow(/no SQL statement/);
      // the warehouse stays usable after errors
      expect((await w.query('select 2 as b')).rows).toEqual([[2]]);
      // no network: extensions are never downloaded
      expect((await w.query(`select current_setting('autoinstall_known_extensions') as v`)).rows).toEqual([[false]]);
    });
  });
});

describe('provenance', () => {
  it('records every write in main._edx2bq and as the table comment', async () => {
    await withWarehouse(async (w) => {
      const schema = courseSchema('course-v1:MITx+6.002x+2T2014');
      const t = { schema, table: 'pcday' };
      const cols: ColumnDef[] = [{ name: 'date', type: 'DATE' }, { name: 'n', type: 'BIGINT' }];
      await w.replaceRows(t, { keyColumn: 'date' }, cols, [['2014-10-14', 1], ['2014-10-15', 2]], { command: 'person-day', step: 'load person_course_day', inputs: ['x-2014-10-14.log.gz'] });
      await w.replaceRows(t, { keyColumn: 'date' }, cols, [['2014-10-15', 3], ['2014-10-15', 4]], { command: 'person-day', step: 'load person_course_day' });
      const sql = `SELECT date, sum(n) AS n FROM "${schema}".pcday GROUP BY date`;
      await w.createTableAs({ schema, table: 'daily' }, sql, { command: 'report', step: 'sql/daily.sql', inputs: [`${schema}.pcday`] });

      const history = await w.provenance(t);
      expect(history).toHaveLength(2);
      expect(history[0]).toMatchObject({
        id: 1,
        schema,
        table: 'pcday',
        command: 'person-day',
        step: 'load person_course_day',
        sql: null,
        replaced: 'date IN (2014-10-14, 2014-10-15)',
        inputs: ['x-2014-10-14.log.gz'],
        rowsWritten: 2,
        tableRows: 2,
        user: os.userInfo().username,
        host: os.hostname(),
      });
      expect(history[1]).toMatchObject({ id: 2, replaced: 'date IN (2014-10-15)', inputs: [], rowsWritten: 2, tableRows: 3 });
      for (const h of history) {
        expect(h.durationMs).toBeGreaterThan(0);
        expect(Math.abs(Date.parse(h.writtenAt) - Date.now())).toBeLessThan(60_000);
      }
      const [derived] = await w.provenance({ schema, table: 'daily' });
      expect(derived).toMatchObject({ command: 'report', step: 'sql/daily.sql', sql, rowsWritten: 2, tableRows: 2, inputs: [`${schema}.pcday`] });

      // the metadata table itself, and the comments as any DuckDB client sees them
      const meta = await w.query(`SELECT table_name, rows_written, table_rows FROM main._edx2bq ORDER BY id`);
      expect(meta.rows).toEqual([['pcday', 2, 2], ['pcday', 2, 3], ['daily', 2, 2]]);
      const comments = await w.query(`SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = '${schema}' ORDER BY table_name`);
      const [daily, pcday] = comments.rows.map((r) => String(r[1]));
      expect(daily).toMatch(/^edx2bq report: sql\/daily\.sql · rows written 2, rows in table 2 · inputs: MITx__6_002x__2T2014\.pcday · /);
      expect(pcday).toMatch(/^edx2bq person-day: load person_course_day · replaced date IN \(2014-10-15\) · rows written 2, rows in table 3 · no inputs · /);
      expect(pcday).toContain('history in main._edx2bq');

      const listed = await w.listTables(schema);
      expect(listed.map((l) => [l.table, l.rows, l.provenance?.id])).toEqual([['daily', 2, 3], ['pcday', 3, 2]]);
    });
  });

  it('makes views on request: a view replaces a table of its name and back, reads its inputs live, and is listed as a view', async () => {
    await withWarehouse(async (w) => {
      const schema = 'shared_x';
      const base = { schema, table: 'base' };
      const latest = { schema, table: 'latest' };
      await w.replaceTable(base, [{ name: 'n', type: 'BIGINT' }], [[1], [2], [3]], PROV);
      // first a table named `latest`, then a view in its place
      await w.createTableAs(latest, `SELECT 9 AS n`, { command: 'test', step: 'a table first' });
      const [asView] = await w.createTablesAs([{ table: latest, selectSql: `SELECT n FROM ${schema}.base WHERE n > 1`, provenance: { command: 'test', step: 'a view' }, view: true }]);
      expect(asView).toMatchObject({ rowsWritten: 0, tableRows: -1, rowsDeleted: 1 });
      await w.replaceTable(base, [{ name: 'n', type: 'BIGINT' }], [[5], [6], [7], [8]], PROV);
      expect((await w.query(`SELECT sum(n) FROM ${schema}.latest`)).rows).toEqual([[26]]);
      let listed = new Map((await w.listTables(schema)).map((t) => [t.table, t]));
      expect(listed.get('latest')).toMatchObject({ view: true, rows: 4, provenance: { step: 'a view', rowsWritten: 0, tableRows: -1 } });
      expect(listed.get('latest')?.comment).toMatch(/^edx2bq test: a view · a view \(rows not stored\) · /);
      expect(listed.get('base')?.view).toBeUndefined();
      // a view whose input is gone is still listed, with rows -1
      await w.query(`DROP TABLE ${schema}.base`);
      listed = new Map((await w.listTables(schema)).map((t) => [t.table, t]));
      expect(listed.get('latest')).toMatchObject({ view: true, rows: -1 });
      // and a table takes the view's place again
      const [asTable] = await w.createTablesAs([{ table: latest, selectSql: `SELECT 1 AS n UNION ALL SELECT 2`, provenance: { command: 'test', step: 'a table again' } }]);
      expect(asTable).toMatchObject({ rowsWritten: 2, tableRows: 2, rowsDeleted: 0 });
      expect((await w.listTables(schema)).map((t) => [t.table, t.view ?? false, t.rows])).toEqual([['latest', false, 2]]);
    });
  });

  it('keeps quotes and long input lists in provenance text safe', async () => {
    await withWarehouse(async (w) => {
      const inputs = Array.from({ length: 500 }, (_, i) => `it's "file" ${i}; DROP TABLE x; --`);
      await w.replaceTable({ schema: 'courses', table: 'q' }, [{ name: 'a', type: 'INTEGER' }], [[1]], { command: "o'k", step: 'step "1"', inputs });
      const [p] = await w.provenance({ schema: 'courses', table: 'q' });
      expect(p?.inputs).toEqual(inputs);
      expect(p?.command).toBe("o'k");
      const c = await w.query(`SELECT comment FROM duckdb_tables() WHERE table_name = 'q'`);
      expect(c.rows[0]?.[0]).toMatch(/^edx2bq o'k: step "1" · .*\(500 in all\)/);
    });
  });
});
