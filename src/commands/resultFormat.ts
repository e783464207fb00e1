/**
 * Printing query results: an aligned text table for a terminal, CSV (RFC 4180 quoting), or JSON
 * (an array of row objects). CSV and JSON are written batch by batch, so a result of any size
 * streams to stdout without being held in memory; the text table keeps at most `maxRows` rows.
 */
import type { OutputValue, ResultColumn } from '../warehouse/warehouse.ts';

/** Writes to a stream, waiting for 'drain' when its buffer is full (a slow pipe). */
export async function writeOut(out: NodeJS.WritableStream, text: string): Promise<void> {
  // after EPIPE (the reader of a pipe exited) the stream is destroyed: stop the query instead of buffering
  if ((out as { destroyed?: boolean }).destroyed) throw Object.assign(new Error('output closed'), { code: 'EPIPE' });
  if (text === '' || out.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', done);
      out.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    out.once('drain', done);
    out.once('error', done);
  });
}

/** Text of a value for CSV and the table: NULL as `nullText`, nested values as JSON. */
export function cellText(v: OutputValue, nullText: string): string {
  if (v === null) return nullText;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** RFC 4180: a field holding a comma, quote, CR or LF is quoted, with quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly string[]): string {
  return values.map(csvField).join(',') + '\n';
}

/** Column names made unique (`n`, `n`, `n` → `n`, `n_1`, `n_2`) so no value is lost in row objects. */
export function uniqueNames(columns: readonly ResultColumn[]): string[] {
  const seen = new Set<string>();
  return columns.map((c) => {
    let name = c.name;
    for (let i = 1; seen.has(name); i++) name = `${c.name}_${i}`;
    seen.add(name);
    return name;
  });
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;

/** Rows the text table shows by default (CSV and JSON print all). */
export const DEFAULT_MAX_ROWS = 1000;

/** Default cut-off for wide cells in the text table. */
export const DEFAULT_MAX_WIDTH = 60;

export interface TableOptions {
  /** Cells wider than this are cut, with `…`. */
  maxWidth: number;
}

/** Control characters would break the layout: show them as visible escapes. */
function oneLine(s: string): string {
  return s.replace(/\r\n|\n/g, '↵').replace(/\t/g, '→').replace(/[\u0000-\u001f\u007f]/g, '�');
}

function cut(s: string, width: number): string {
  const chars = Array.from(s);
  return chars.length <= width ? s : chars.slice(0, Math.max(1, width - 1)).join('') + '…';
}

const visibleLength = (s: string): number => Array.from(s).length;

/** An aligned text table: header, rule, rows; numbers right-aligned, NULL shown as `NULL`. */
export function formatTable(columns: readonly ResultColumn[], rows: readonly (readonly OutputValue[])[], o: TableOptions): string {
  const texts = rows.map((r) => columns.map((_, i) => cut(oneLine(cellText(r[i] ?? null, 'NULL')), o.maxWidth)));
  const header = columns.map((c) => cut(oneLine(c.name), o.maxWidth));
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...texts.map((t) => visibleLength(t[i] ?? ''))));
  const right = columns.map((c) => NUMERIC_TYPE.test(c.type));
  const pad = (s: string, i: number) => {
    const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(s)));
    return right[i] ? gap + s : s + gap;
  };
  const line = (cells: readonly string[]) => cells.map(pad).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...texts.map(line)];
  return out.join('\n') + '\n';
}
