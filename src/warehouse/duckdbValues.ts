/**
 * Values between JavaScript and DuckDB: load-API cells into data-chunk vectors (the fast bulk
 * path, ≈1.2M rows/s per deps.md §4), and query results out as JSON-ready values.
 */
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBDateValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  INTEGER,
  JsonDuckDBValueConverter,
  TIMESTAMP,
  VARCHAR,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBValueConverter,
  type Json,
} from '@duckdb/node-api';
import { daysFromCivil, isValidDate, parseTimeMicros } from '../events/time.ts';
import { WarehouseLoadError, type Cell, type ColumnDef, type ColumnType, type ColumnValues, type RowData } from './warehouse.ts';

export const DUCKDB_TYPES: Record<ColumnType, DuckDBType> = { VARCHAR, BIGINT, INTEGER, DOUBLE, BOOLEAN, DATE, TIMESTAMP };

/** Turns one cell into the value a vector of the column's type takes (null = NULL); throws a message on a bad cell. */
type CellConverter = (cell: Cell) => DuckDBValue | null;

const MS_PER_DAY = 86_400_000;

function fail(expected: string, cell: Cell): never {
  const shown = typeof cell === 'bigint' ? `${cell}n` : cell instanceof Date ? `Date(${cell.toISOString?.() ?? 'invalid'})` : JSON.stringify(cell);
  throw new Error(`expected ${expected}, got ${typeof cell} ${shown}`);
}

function dateDays(cell: string | number | Date): number {
  if (typeof cell === 'number') {
    if (!Number.isInteger(cell)) fail('whole days since 1970-01-01', cell);
    return cell;
  }
  if (cell instanceof Date) {
    const ms = cell.getTime();
    if (Number.isNaN(ms)) fail('a valid Date', cell);
    return Math.floor(ms / MS_PER_DAY);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(cell);
  if (!m || !isValidDate(Number(m[1]), Number(m[2]), Number(m[3]))) fail('a date YYYY-MM-DD', cell);
  return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
}

function timestampMicros(cell: string | number | bigint | Date): bigint {
  if (typeof cell === 'bigint') return cell;
  if (typeof cell === 'number') {
    if (!Number.isSafeInteger(cell)) fail('whole microseconds since the epoch', cell);
    return BigInt(cell);
  }
  if (cell instanceof Date) {
    const ms = cell.getTime();
    if (Number.isNaN(ms)) fail('a valid Date', cell);
    return BigInt(ms) * 1000n;
  }
  const us = parseTimeMicros(cell);
  if (Number.isNaN(us)) fail('a time such as 2015-02-10T05:17:08.011728+00:00', cell);
  return BigInt(us);
}

const CONVERTERS: Record<ColumnType, CellConverter> = {
  VARCHAR: (c) => (c == null ? null : typeof c === 'string' ? c : fail('a string', c)),
  BIGINT: (c) => {
    if (c == null) return null;
    if (typeof c === 'bigint') return c;
    if (typeof c === 'number' && Number.isSafeInteger(c)) return BigInt(c);
    return fail('a bigint or a safe integer', c);
  },
  INTEGER: (c) => {
    if (c == null) return null;
    if (typeof c === 'number' && Number.isInteger(c) && c >= -2147483648 && c <= 2147483647) return c;
    return fail('a 32-bit integer', c);
  },
  DOUBLE: (c) => (c == null ? null : typeof c === 'number' ? c : typeof c === 'bigint' ? Number(c) : fail('a number', c)),
  BOOLEAN: (c) => (c == null ? null : typeof c === 'boolean' ? c : fail('a boolean', c)),
  DATE: (c) => {
    if (c == null) return null;
    if (typeof c === 'string' || typeof c === 'number' || c instanceof Date) return new DuckDBDateValue(dateDays(c));
    return fail('a date', c);
  },
  TIMESTAMP: (c) => {
    if (c == null) return null;
    if (typeof c === 'boolean') return fail('a timestamp', c);
    return new DuckDBTimestampValue(timestampMicros(c));
  },
};

const DATE_CACHE_SIZE = 4096;

/** A converter for one column that names the column and row in its error. */
export function columnConverter(col: ColumnDef): (cell: Cell, row: number) => DuckDBValue | null {
  const convert = CONVERTERS[col.type];
  // A load holds few distinct days: reuse DATE values (immutable) instead of parsing each cell.
  const dates = col.type === 'DATE' ? new Map<Cell, DuckDBValue | null>() : null;
  return (cell, row) => {
    try {
      if (dates === null || typeof cell === 'object') return convert(cell);
      let v = dates.get(cell);
      if (v === undefined) {
        v = convert(cell);
        if (dates.size >= DATE_CACHE_SIZE) dates.clear();
        dates.set(cell, v);
      }
      return v;
    } catch (e) {
      throw new WarehouseLoadError(`column ${col.name} (${col.type}), ${row < 0 ? 'key' : `row ${row}`}: ${(e as Error).message}`);
    }
  };
}

/** A comparable key for a converted value (dates as day numbers, timestamps as microseconds). */
export function keyString(v: DuckDBValue | null): string {
  if (v instanceof DuckDBDateValue) return `d${v.days}`;
  if (v instanceof DuckDBTimestampValue) return `t${v.micros}`;
  return `${typeof v}:${String(v)}`;
}

/** Uniform access to row-major or columnar input. */
export interface RowAccess {
  readonly rowCount: number;
  cell(row: number, column: number): Cell;
}

export function rowAccess(data: RowData, columnCount: number): RowAccess {
  if (Array.isArray(data)) {
    const rows = data as readonly (readonly Cell[])[];
    rows.forEach((r, i) => {
      if (r.length !== columnCount) throw new WarehouseLoadError(`row ${i} has ${r.length} values, expected ${columnCount}`);
    });
    return { rowCount: rows.length, cell: (r, c) => rows[r]![c] };
  }
  const cols = (data as { readonly columns: readonly ColumnValues[] }).columns;
  if (cols.length !== columnCount) throw new WarehouseLoadError(`got ${cols.length} columns of values, expected ${columnCount}`);
  const rowCount = cols[0]?.length ?? 0;
  cols.forEach((c, i) => {
    if (c.length !== rowCount) throw new WarehouseLoadError(`column ${i} has ${c.length} values, expected ${rowCount} like column 0`);
  });
  // a Float64Array cannot hold null: there, NaN is NULL (elsewhere NaN is a number, which the
  // integer, date and timestamp columns refuse)
  const nanIsNull = cols.map((c) => c instanceof Float64Array);
  return { rowCount, cell: (r, c) => {
    const v = cols[c]![r];
    return nanIsNull[c] && Number.isNaN(v) ? null : v;
  } };
}

/** DuckDB's standard vector size: the most rows one data chunk holds. */
export const CHUNK_ROWS = 2048;

/** Fills a data chunk with rows [start, end) and returns it, ready for `appendDataChunk`. */
export function fillChunk(columns: readonly ColumnDef[], converters: readonly ((cell: Cell, row: number) => DuckDBValue | null)[], data: RowAccess, start: number, end: number): DuckDBDataChunk {
  const chunk = DuckDBDataChunk.create(columns.map((c) => DUCKDB_TYPES[c.type]), end - start);
  for (let c = 0; c < columns.length; c++) {
    const vector = chunk.getColumnVector(c);
    const convert = converters[c]!;
    for (let r = start; r < end; r++) vector.setItem(r - start, convert(data.cell(r, c), r));
    vector.flush();
  }
  return chunk;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** Microseconds since the epoch → `2015-02-10T05:17:08.011728Z` (milliseconds only when the rest is 0). */
export function isoFromMicros(us: bigint): string {
  const ms = us >= 0n ? us / 1000n : -((-us + 999n) / 1000n); // floor division
  const subMs = Number(us - ms * 1000n);
  const iso = new Date(Number(ms)).toISOString();
  return subMs === 0 ? iso : `${iso.slice(0, -1)}${String(subMs).padStart(3, '0')}Z`;
}

function isoTimestamp(micros: bigint, finite: boolean, text: () => string): string {
  return finite ? isoFromMicros(micros) : text();
}

/**
 * DuckDB values → JSON-ready values: 64/128-bit integers as numbers when they are safe integers
 * (else strings), timestamps as ISO 8601 in UTC, small DECIMALs as numbers; everything else
 * (dates, lists, structs, NaN/Infinity as strings, …) as the library's JSON converter does it.
 */
export const outputConverter: DuckDBValueConverter<Json> = (value, type, converter) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT: {
      const b = value as bigint;
      return b >= MIN_SAFE && b <= MAX_SAFE ? Number(b) : b.toString();
    }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const t = value as DuckDBTimestampValue;
      return isoTimestamp(t.micros, t.isFinite, () => t.toString());
    }
    case DuckDBTypeId.TIMESTAMP_S: {
      const t = value as unknown as { seconds: bigint; isFinite: boolean };
      return isoTimestamp(t.seconds * 1_000_000n, t.isFinite, () => String(value));
    }
    case DuckDBTypeId.TIMESTAMP_MS: {
      const t = value as unknown as { millis: bigint; isFinite: boolean };
      return isoTimestamp(t.millis * 1000n, t.isFinite, () => String(value));
    }
    case DuckDBTypeId.TIMESTAMP_NS: {
      const t = value as unknown as { nanos: bigint; isFinite: boolean };
      return isoTimestamp(t.nanos / 1000n, t.isFinite, () => String(value)); // to microseconds, like the other times
    }
    case DuckDBTypeId.DECIMAL:
      // up to 15 significant digits a double holds the value exactly enough to print it back
      return type.width <= 15 ? Number(String(value)) : String(value);
    default:
      return JsonDuckDBValueConverter(value, type, converter);
  }
};
