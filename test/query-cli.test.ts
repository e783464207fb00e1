import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { csvField, formatTable } from '../src/commands/resultFormat.ts';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { courseSchema } from '../src/warehouse/naming.ts';

const BIN = path.resolve('bin/edx2bq.js');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempFile(name: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edx2bq-qcli-'));
  dirs.push(d);
  return path.join(d, name);
}

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, CI: 'true', ...env };
  if (!('EDX2BQ_WAREHOUSE' in env)) delete e.EDX2BQ_WAREHOUSE;
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: e, timeout: 60_000 });
}

/** A warehouse with one course table loaded through the API, closed again. */
async function loadedWarehouse(): Promise<string> {
  const file = tempFile('w.duckdb');
  const w = await openDuckDBWarehouse(file);
  const schema = courseSchema('course-v1:MITx+6.002x+2T2014');
  await w.replaceRows(
    { schema, table: 'person_course_day' },
    { keyColumn: 'date' },
    [{ name: 'date', type: 'DATE' }, { name: 'username', type: 'VARCHAR' }, { name: 'nevents', type: 'BIGINT' }],
    [['2014-10-14', 'alice', 3], ['2014-10-14', 'bob', 1], ['2014-10-15', 'alice', 2]],
    { command: 'person-day', step: 'load person_course_day', inputs: ['x.log.gz'] },
  );
  await w.replaceTable({ schema: 'courses', table: 'course_list' }, [{ name: 'course_id', type: 'VARCHAR' }], [['MITx/6.002x/2T2014']], { command: 'test', step: 'course list' });
  await w.close();
  return file;
}

describe('edx2bq query', () => {
  it('prints JSON row objects: BIGINT as numbers when safe, else strings; times ISO', () => {
    const file = tempFile('sub/dir/w.duckdb');
    const r = run(['query', 'select 1 as x', '--json', '--warehouse', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ x: 1 }]);
    expect(fs.existsSync(file)).toBe(true); // parent directories created

    const typed = run([
      'query',
      `select 42::bigint as safe, 9007199254740993::bigint as unsafe, timestamp '2014-10-14 05:17:08.011728' as t,
              timestamptz '2014-10-14 05:17:08+02:00' as tz, date '2014-10-14' as d, null as n, [1, 2] as l, 1.5::decimal(4,2) as dec
       from range(2)`,
      '--json',
      '--warehouse',
      file,
    ]);
    expect(typed.status).toBe(0);
    const row = { safe: 42, unsafe: '9007199254740993', t: '2014-10-14T05:17:08.011728Z', tz: '2014-10-14T03:17:08.000Z', d: '2014-10-14', n: null, l: [1, 2], dec: 1.5 };
    expect(JSON.parse(typed.stdout)).toEqual([row, row]);
    expect(JSON.parse(run(['query', 'select 1 as x where false', '--json', '--warehouse', file]).stdout)).toEqual([]);
  });

  it('prints CSV with RFC 4180 quoting, and an aligned table by default', () => {
    const file = tempFile('w.duckdb');
    const sql = `select 1 as id, 'plain' as s union all select 2, 'a,b "c"' || chr(10) || 'd' union all select 3, null order by id`;
    const csv = run(['query', sql, '--csv', '--warehouse', file]);
    expect(csv.status).toBe(0);
    expect(csv.stdout).toBe('id,s\n1,plain\n2,"a,b ""c""\nd"\n3,\n');

    const table = run(['query', sql, '--warehouse', file]);
    expect(table.status).toBe(0);
    expect(table.stdout).toBe(['id  s', '--  ---------', ' 1  plain', ' 2  a,b "c"↵d', ' 3  NULL', '(3 rows)', ''].join('\n'));

    const wide = run(['query', `select repeat('x', 500) as w from range(5)`, '--max-width', '10', '--max-rows', '2', '--warehouse', file]);
    expect(wide.stdout).toBe(['w', '----------', 'xxxxxxxxx…', 'xxxxxxxxx…', '(5 rows, first 2 shown: use --max-rows, --csv or --json for all)', ''].join('\n'));
  });

  it('reads the SQL from --file, the warehouse from EDX2BQ_WAREHOUSE, and runs several statements', () => {
    const file = tempFile('w.duckdb');
    const sqlFile = tempFile('q.sql');
    fs.writeFileSync(sqlFile, 'create table main.t as select range as r from range(5);\n-- the last statement is printed\nselect sum(r) as total from main.t;\n');
    const r = run(['query', '--file', sqlFile, '--json'], { EDX2BQ_WAREHOUSE: file });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ total: 10 }]);
    expect(fs.existsSync(file)).toBe(true);
  });

  it('bad SQL: exit 1 with the DuckDB message, no stack trace; bad usage: exit 2', () => {
    const file = tempFile('w.duckdb');
    const bad = run(['query', 'selec 1', '--warehouse', file]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^edx2bq: SQL error: Parser Error: syntax error at or near "selec"/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const usage = run(['query', 'select 1', '--csv', '--json', '--warehouse', file]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^edx2bq: choose one of --csv and --json/);
    const noFile = run(['query', '--file', tempFile('missing.sql'), '--warehouse', file]);
    expect(noFile.status).toBe(2);
    expect(noFile.stderr).toMatch(/cannot read the SQL file/);
  });

  it('says clearly when another process holds the warehouse', async () => {
    const file = tempFile('w.duckdb');
    const w = await openDuckDBWarehouse(file);
    try {
      for (const args of [['query', 'select 1'], ['tables']]) {
        const r = run([...args, '--warehouse', file]);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^edx2bq: the warehouse .*w\\.duckdb is in use by another process \\(process ${process.pid}\\b`));
      }
    } finally {
      await w.close();
    }
    expect(run(['query', 'select 1', '--warehouse', file]).status).toBe(0);
  });

  it('answers --help with examples', () => {
    const q = run(['query', '--help']);
    expect(q.status).toBe(0);
    expect(q.stdout).toMatch(/--warehouse/);
    expect(q.stdout).toMatch(/Examples:/);
    expect(run(['--help']).stdout).toMatch(/query[\s\S]*tables/);
  });
});

describe('edx2bq tables', () => {
  it('on a new or empty warehouse prints a "no tables yet" line', () => {
    const file = tempFile('never/w.duckdb');
    const r = run(['tables', '--warehouse', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^no tables yet: the warehouse .* does not exist/);
    expect(fs.existsSync(file)).toBe(false); // listing never creates a warehouse
    expect(run(['query', 'select 1', '--warehouse', file]).status).toBe(0);
    const empty = run(['tables', '--warehouse', file]);
    expect(empty.status).toBe(0);
    expect(empty.stdout).toMatch(/^no tables yet in /);
  });

  it('lists schema, table, rows and the latest provenance', async () => {
    const file = await loadedWarehouse();
    const r = run(['tables', '--warehouse', file]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^schema\s+table\s+rows\s+command\s+step\s+written \(UTC\)$/);
    expect(lines[2]).toMatch(/^MITx__6_002x__2T2014\s+person_course_day\s+3\s+person-day\s+load person_course_day\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(lines[3]).toMatch(/^courses\s+course_list\s+1\s+test\s+course list\s+\d{4}-/);
    expect(lines.at(-1)).toBe('(2 tables)');
    expect(r.stdout).not.toMatch(/_edx2bq/);
  });

  it('shows one course, given in either id form, or the shared schema', async () => {
    const file = await loadedWarehouse();
    for (const id of ['course-v1:MITx+6.002x+2T2014', 'MITx/6.002x/2T2014']) {
      const r = run(['tables', id, '--warehouse', file]);
      expect(r.status, id).toBe(0);
      expect(r.stdout).toMatch(/person_course_day/);
      expect(r.stdout).not.toMatch(/course_list/);
    }
    const shared = run(['tables', 'courses', '--warehouse', file]);
    expect(shared.stdout).toMatch(/course_list/);
    expect(shared.stdout).not.toMatch(/person_course_day/);
    const other = run(['tables', 'course-v1:X+Y+Z', '--warehouse', file]);
    expect(other.status).toBe(0);
    expect(other.stdout).toMatch(/^no tables yet for course-v1:X\+Y\+Z \(schema X__Y__Z\)/);

    const json = run(['tables', 'MITx/6.002x/2T2014', '--json', '--warehouse', file]);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { schema: 'MITx__6_002x__2T2014', table: 'person_course_day', rows: 3, provenance: { command: 'person-day', inputs: ['x.log.gz'], rowsWritten: 3, replaced: 'date IN (2014-10-14, 2014-10-15)' } },
    ]);
  });
});

describe('result formatting', () => {
  it('quotes CSV fields only when needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('')).toBe('');
  });

  it('aligns the text table, numbers to the right', () => {
    const t = formatTable([{ name: 'name', type: 'VARCHAR' }, { name: 'n', type: 'BIGINT' }], [['a', 1], ['bbbbbb', 12345], [null, null]], { maxWidth: 20 });
    expect(t).toBe(['name        n', '------  -----', 'a           1', 'bbbbbb  12345', 'NULL     NULL', ''].join('\n'));
  });
});
