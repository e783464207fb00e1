import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvGzWriter, csvField, csvLine, DUCKDB_CSV_OPTIONS, parseTsvText, TsvParser, TsvReader, unescapeTsv, type TsvBatch, type TsvReject, type TsvRow } from '../src/dump/tsv.ts';

/** Parses `bytes` fed in the given chunk sizes (cycled). */
function parseChunked(bytes: Buffer, sizes: number[], maxLineBytes?: number): { header: string[] | null; batch: TsvBatch; rejects: TsvReject[] } {
  const p = new TsvParser({ file: 'x.sql', ...(maxLineBytes !== undefined ? { maxLineBytes } : {}) });
  const batch: TsvBatch = { rows: [], lines: [] };
  const rejects: TsvReject[] = [];
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = Math.max(1, sizes[k++ % sizes.length] as number);
    p.push(bytes.subarray(i, i + n), batch, rejects);
    i += n;
  }
  p.end(batch, rejects);
  return { header: p.header, batch, rejects };
}

describe('unescapeTsv', () => {
  it('undoes the four escapes and keeps other backslashes', () => {
    expect(unescapeTsv('a\\tb\\nc\\rd\\\\e')).toBe('a\tb\nc\rd\\e');
    expect(unescapeTsv('\\\\n')).toBe('\\n'); // an escaped backslash, then a plain n
    expect(unescapeTsv('\\\\\\n')).toBe('\\\n');
    expect(unescapeTsv('\\N \\0 \\x')).toBe('\\N \\0 \\x');
    expect(unescapeTsv('end\\')).toBe('end\\');
    expect(unescapeTsv('plain')).toBe('plain');
  });
});

describe('TSV reader', () => {
  it('header, NULL vs empty, escapes', async () => {
    const t = await parseTsvText('a\tb\tc\n1\tNULL\t\nNULL\t\tx\\ty\n\\N\tnull\t NULL\n');
    expect(t.header).toEqual(['a', 'b', 'c']);
    expect(t.rows).toEqual([
      ['1', null, ''],
      [null, '', 'x\ty'],
      ['\\N', 'null', ' NULL'],
    ]);
    expect(t.rejects).toEqual([]);
  });

  it('keeps a final line without newline whole', async () => {
    const t = await parseTsvText('a\tb\n1\t2\n3\tlast');
    expect(t.rows).toEqual([
      ['1', '2'],
      ['3', 'last'],
    ]);
    expect((await parseTsvText('a\n1\nNULL')).rows).toEqual([['1'], [null]]);
  });

  it('CRLF line ends: the CR before LF is dropped, other raw CRs are data', async () => {
    const t = await parseTsvText('a\tb\r\n1\tx\ry\r\n2\t\\r\r\n3\tz\r');
    expect(t.header).toEqual(['a', 'b']);
    expect(t.rows).toEqual([
      ['1', 'x\ry'],
      ['2', '\r'],
      ['3', 'z'],
    ]);
  });

  it('rejects rows with the wrong number of fields, with line numbers and raw text', async () => {
    const t = await parseTsvText('a\tb\n1\t2\n1\t2\t3\nonly\n\n4\t5\n', 'users.sql');
    expect(t.rows).toEqual([
      ['1', '2'],
      ['4', '5'],
    ]);
    expect(t.rejects).toEqual([
      { file: 'users.sql', line: 3, reason: '3 field(s), the header has 2', raw: '1\t2\t3' },
      { file: 'users.sql', line: 4, reason: '1 field(s), the header has 2', raw: 'only' },
      { file: 'users.sql', line: 5, reason: 'empty line', raw: '' },
    ]);
  });

  it('an empty line is a row of one empty string when there is one column', async () => {
    const t = await parseTsvText('a\n\nNULL\nx\n');
    expect(t.rows).toEqual([[''], [null], ['x']]);
  });

  it('drops a UTF-8 BOM before the header, reads Unicode', async () => {
    const t = await parseTsvText('\ufeffid\tname\n1\tZoë 😀 北京\n');
    expect(t.header).toEqual(['id', 'name']);
    expect(t.rows).toEqual([['1', 'Zoë 😀 北京']]);
  });

  it('rejects a line that is not UTF-8 with its bytes, keeps the others', async () => {
    const bytes = Buffer.concat([Buffer.from('a\tb\n1\tok\n2\t'), Buffer.from([0xff, 0xfe]), Buffer.from('\n3\tfine\n')]);
    const t = await parseTsvText(bytes);
    expect(t.rows).toEqual([
      ['1', 'ok'],
      ['3', 'fine'],
    ]);
    expect(t.rejects).toHaveLength(1);
    expect(t.rejects[0]).toMatchObject({ line: 3, reason: 'not valid UTF-8', rawBase64: Buffer.from([0x32, 0x09, 0xff, 0xfe]).toString('base64') });
  });

  it('empty input and header-only input', async () => {
    const r = await TsvReader.open([Buffer.alloc(0)]);
    expect(r.empty).toBe(true);
    expect(r.header).toEqual([]);
    const h = await parseTsvText('a\tb\n');
    expect(h.header).toEqual(['a', 'b']);
    expect(h.rows).toEqual([]);
  });

  it('gives the same rows whatever the chunk boundaries (multi-byte characters, CRLF, escapes split)', () => {
    const text = 'id\tv\r\n1\té😀\\t\\\\x\r\n2\tNULL\r\n3\t\r\nbad\r\n4\t北京\\n\r\n5\tend';
    const bytes = Buffer.from(text, 'utf8');
    const whole = parseChunked(bytes, [bytes.length]);
    expect(whole.batch.rows).toEqual([
      ['1', 'é😀\t\\x'],
      ['2', null],
      ['3', ''],
      ['4', '北京\n'],
      ['5', 'end'],
    ]);
    expect(whole.batch.lines).toEqual([2, 3, 4, 6, 7]);
    expect(whole.rejects.map((r) => r.line)).toEqual([5]);
    for (const sizes of [[1], [2], [3], [5, 1, 7], [13, 2]]) {
      const c = parseChunked(bytes, sizes);
      expect(c.header).toEqual(['id', 'v']);
      expect(c.batch).toEqual(whole.batch);
      expect(c.rejects).toEqual(whole.rejects);
    }
  });

  it('reads a 5 MB field spread over many small chunks in linear time', async () => {
    const big = 'x\\\\'.repeat(1_250_000) + '\\t'; // 5 MB of TSV text
    const bytes = Buffer.from(`id\tstate\tz\n1\t${big}\tNULL\n2\tsmall\t\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 16 * 1024) chunks.push(bytes.subarray(i, i + 16 * 1024));
    const t0 = performance.now();
    const r = await TsvReader.open(chunks, { file: 'studentmodule.sql' });
    const rows: TsvRow[] = [];
    for await (const row of r) rows.push(row);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(rows).toHaveLength(2);
    expect(rows[0]?.[1]).toBe('x\\'.repeat(1_250_000) + '\t');
    expect(rows[0]?.[2]).toBeNull();
    expect(rows[1]).toEqual(['2', 'small', '']);
  });

  it('rejects an over-long line without holding it, and goes on', async () => {
    const bytes = Buffer.from(`a\tb\n1\t${'y'.repeat(1000)}\n2\tok\n3\t${'z'.repeat(500)}`);
    for (const size of [7, 64, 4096]) {
      const c = parseChunked(bytes, [size], 100);
      expect(c.batch.rows).toEqual([['2', 'ok']]);
      expect(c.rejects.map((r) => [r.line, r.reason.startsWith('line')])).toEqual([
        [2, true],
        [4, true],
      ]);
    }
  });

  it('reads from a file stream; rows can be read once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-'));
    try {
      const f = path.join(dir, 'x.sql');
      fs.writeFileSync(f, 'a\tb\n1\t2\n3\n');
      const seen: TsvReject[] = [];
      const r = await TsvReader.open(fs.createReadStream(f, { highWaterMark: 3 }), { file: f, onReject: (x) => void seen.push(x) });
      const rows: TsvRow[] = [];
      for await (const row of r) rows.push(row);
      expect(rows).toEqual([['1', '2']]);
      expect(seen.map((x) => x.line)).toEqual([3]);
      expect(r.rejects).toEqual([]);
      expect(r.rejectCount).toBe(1);
      expect(r.rows).toBe(1);
      expect(r.lines).toBe(3);
      await expect(async () => {
        for await (const _ of r.batches()) void _;
      }).rejects.toThrow(/only once/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CSV convention', () => {
  it('null is an empty field, the empty string is "", fields with , " CR LF are quoted', () => {
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('""');
    expect(csvField('plain text\twith tab\\')).toBe('plain text\twith tab\\');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('l1\nl2')).toBe('"l1\nl2"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField('NULL')).toBe('NULL');
    expect(csvLine(['1', null, '', 'x,y'])).toBe('1,,"","x,y"\n');
  });
});

describe('CSV round trip through DuckDB read_csv', () => {
  let dir: string;
  let instance: DuckDBInstance;
  let conn: DuckDBConnection;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-'));
    instance = await DuckDBInstance.create(':memory:');
    conn = await instance.connect();
  });
  afterAll(() => {
    conn.closeSync();
    instance.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function readBack(file: string): Promise<{ columns: string[]; rows: unknown[][] }> {
    const r = await conn.runAndReadAll(`SELECT * FROM read_csv('${file.replace(/'/g, "''")}', ${DUCKDB_CSV_OPTIONS})`);
    return { columns: r.columnNames(), rows: r.getRowsJS() };
  }

  async function write(name: string, header: string[], rows: TsvRow[]): Promise<string> {
    const file = path.join(dir, name);
    const w = new CsvGzWriter(file);
    await w.writeHeader(header);
    expect(await w.writeRows(rows)).toEqual([]);
    await w.close();
    return file;
  }

  it('keeps null, empty strings, quotes, commas, newlines, tabs, Unicode and a 5 MB field exactly', async () => {
    const big = 'é"x,\n'.repeat(1_000_000);
    const rows: TsvRow[] = [
      ['1', null, ''],
      ['2', '', null],
      ['3', 'say "hi", ok', 'a,b'],
      ['4', 'line1\nline2\r\nline3\r', 'tab\there\\t'],
      ['5', 'Zoë 😀 北京 \u2028', ' lead and trail '],
      ['6', 'NULL', '"'],
      ['7', big, '\\N'],
      [null, null, null],
      ['9', '""', ','],
    ];
    const file = await write('t.csv.gz', ['id', 'v, "w"', 'x'], rows);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const back = await readBack(file);
    expect(back.columns).toEqual(['id', 'v, "w"', 'x']);
    expect(back.rows).toEqual(rows);
  });

  it('a one-column table: null and empty string rows', async () => {
    const rows: TsvRow[] = [[null], [''], ['v'], [null]];
    const back = await readBack(await write('one.csv.gz', ['only'], rows));
    expect(back.rows).toEqual(rows);
  });

  it('a header-only file is a table with no rows', async () => {
    const back = await readBack(await write('empty.csv.gz', ['a', 'b'], []));
    expect(back.columns).toEqual(['a', 'b']);
    expect(back.rows).toEqual([]);
  });

  it('TSV → CSV → DuckDB gives the parsed values', async () => {
    const tsv = 'id\tname\tgender\tmeta\n1\tA\\tB\tNULL\t\n2\tC,"D"\tm\t{"k": "\\\\u00e9\\n"}\n';
    const t = await parseTsvText(tsv);
    const back = await readBack(await write('sql.csv.gz', t.header, t.rows));
    expect(back.rows).toEqual([
      ['1', 'A\tB', null, ''],
      ['2', 'C,"D"', 'm', '{"k": "\\u00e9\n"}'],
    ]);
  });

  it('the writer writes through a temporary name; abort leaves nothing; too-long records are returned', async () => {
    const file = path.join(dir, 'atomic.csv.gz');
    const w = new CsvGzWriter(file, { maxLineBytes: 50 });
    await w.writeHeader(['a']);
    const tooLong = await w.writeRows([['short'], ['x'.repeat(60)], ['ok']]);
    expect(tooLong.map((t) => [t.index, t.bytes])).toEqual([[1, 61]]);
    expect(fs.existsSync(file)).toBe(false);
    await w.close();
    expect(fs.existsSync(w.tmp)).toBe(false);
    expect(zlib.gunzipSync(fs.readFileSync(file)).toString()).toBe('a\nshort\nok\n');
    const w2 = new CsvGzWriter(path.join(dir, 'aborted.csv.gz'));
    await w2.writeRows([['1']]);
    await w2.abort();
    expect(fs.readdirSync(dir).filter((n) => n.includes('aborted'))).toEqual([]);
  });
});
