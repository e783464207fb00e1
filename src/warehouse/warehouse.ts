/**
 * The warehouse: where loaded aggregates live and where the SQL steps run. One implementation per
 * engine (`duckdb.ts` now; BigQuery later), all behind this interface, so the commands and the
 * products never talk to an engine directly.
 *
 * Every write (`replaceRows`, `replaceTable`, `createTableAs`) is one transaction that also
 * records its provenance, so a table never exists without the record of what made it, and a run
 * killed half way leaves the previous state.
 */
import type { Dialect } from './dialect.ts';

/** Column types the load API accepts (mapped to engine types by the dialect). */
export type ColumnType = 'VARCHAR' | 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'DATE' | 'TIMESTAMP';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
}

/**
 * One value to load. `null`/`undefined` is NULL. Accepted per column type:
 * VARCHAR string · BIGINT bigint or safe-integer number · INTEGER int32 number · DOUBLE number
 * (or bigint) · BOOLEAN boolean · DATE `YYYY-MM-DD`, a Date (its UTC day) or days since
 * 1970-01-01 · TIMESTAMP microseconds since the epoch (number or bigint), a Date, or a time string
 * in the log formats (`2015-02-10T05:17:08.011728+00:00`, stored as UTC).
 */
export type Cell = string | number | bigint | boolean | Date | null | undefined;

/** Values of one column: a plain array or a typed array (which has no NULLs). */
export type ColumnValues = ArrayLike<Cell>;

/**
 * Rows to load, either row-major (`[[v1, v2, …], …]`, values in `columns` order) or columnar
 * (`{ columns: [col1Values, col2Values, …] }`, what the log workers produce).
 */
export type RowData = readonly (readonly Cell[])[] | { readonly columns: readonly ColumnValues[] };

export interface TableRef {
  readonly schema: string;
  readonly table: string;
}

/** What the caller tells about a write; the warehouse adds counts, duration, user and time. */
export interface ProvenanceInput {
  /** The edx2bq command, e.g. `person-day`. */
  readonly command: string;
  /** The step that made the table, e.g. `load person_course_day` or `sql/person_course.sql`. */
  readonly step: string;
  /** Input files, tables or markers the rows came from. */
  readonly inputs?: readonly string[];
}

export interface ProvenanceRecord {
  readonly id: number;
  readonly schema: string;
  readonly table: string;
  readonly command: string;
  readonly step: string;
  /** The SQL that made the table (`createTableAs`), else null. */
  readonly sql: string | null;
  /** `replaceRows`: what was replaced, e.g. `date IN (2014-10-14, 2014-10-15)`; else null. */
  readonly replaced: string | null;
  readonly inputs: readonly string[];
  /** Rows written by this operation. */
  readonly rowsWritten: number;
  /** Rows in the table after it. */
  readonly tableRows: number;
  readonly durationMs: number;
  readonly user: string;
  readonly host: string;
  readonly toolVersion: string;
  /** ISO time the write committed (UTC). */
  readonly writtenAt: string;
}

export interface LoadResult {
  readonly rowsWritten: number;
  readonly tableRows: number;
  /** Rows removed first (`replaceRows`: rows of the replaced keys; `replaceTable`: the old table). */
  readonly rowsDeleted: number;
  readonly durationMs: number;
}

/** JSON-ready values: BIGINT as a number when safe (else a string), times as ISO strings. */
export type OutputValue = null | boolean | number | string | OutputValue[] | { [key: string]: OutputValue };

export interface ResultColumn {
  readonly name: string;
  /** The engine's type name, e.g. `BIGINT`, `TIMESTAMP`, `VARCHAR[]`. */
  readonly type: string;
}

export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  readonly rows: OutputValue[][];
}

export interface QueryStreamHandlers {
  /** Called once, before any rows. */
  columns(columns: readonly ResultColumn[]): void | Promise<void>;
  /** Called per batch of rows (a DuckDB chunk, ≤ 2048 rows); awaited, so it can wait for a slow stdout. */
  rows(rows: OutputValue[][]): void | Promise<void>;
}

export interface TableInfo {
  readonly schema: string;
  readonly table: string;
  readonly rows: number;
  /** The latest provenance record, or null for tables made outside the load API. */
  readonly provenance: ProvenanceRecord | null;
  /** `COMMENT ON TABLE` text. */
  readonly comment: string | null;
  /** A view (`TableFromSql.view`): `rows` is what it reads now, -1 when it cannot be read (an input was dropped). */
  readonly view?: boolean;
}

export interface ReplaceKeys {
  /** The column whose values partition the table, e.g. `date`. */
  readonly keyColumn: string;
  /**
   * The key values being (re)loaded: their old rows are deleted. Default: the distinct key values
   * of the new rows. Give them explicitly to clear a key that now has no rows. Every new row's key
   * must be among them (otherwise a re-run could not replace it).
   */
  readonly keys?: readonly Cell[];
}

/** One table's load in `replaceRowsMany`. */
export interface RowsLoad {
  readonly table: TableRef;
  readonly keys: ReplaceKeys;
  readonly columns: readonly ColumnDef[];
  readonly rows: RowData;
  readonly provenance: ProvenanceInput;
}

/** One step of `createTablesAs`. */
export interface TableFromSql {
  readonly table: TableRef;
  readonly selectSql: string;
  readonly provenance: ProvenanceInput;
  /**
   * Make a view instead of a table: nothing is copied, the SELECT runs whenever the view is read
   * (for "latest" pointers and unions that would otherwise copy millions of rows). A table of the
   * same name is replaced by the view, and a view by a table. Its load result and provenance
   * have `rowsWritten` 0 and `tableRows` -1 (not counted: that would run the SELECT).
   */
  readonly view?: boolean;
}

export interface Warehouse {
  readonly dialect: Dialect;
  /** Where the warehouse is (the DuckDB file). */
  readonly location: string;

  /**
   * Incremental load: in ONE transaction, create the table if needed, delete its rows whose
   * `keyColumn` value is in the keys, append `rows`, and record provenance. Loading the same
   * keys again replaces them, so any order or repetition of loads ends with the same rows.
   */
  replaceRows(table: TableRef, keys: ReplaceKeys, columns: readonly ColumnDef[], rows: RowData, provenance: ProvenanceInput): Promise<LoadResult>;

  /** `replaceRows` for several tables in ONE transaction: all of them happen, or none. */
  replaceRowsMany(loads: readonly RowsLoad[]): Promise<LoadResult[]>;

  /** Create or replace a table with exactly these rows (one transaction). */
  replaceTable(table: TableRef, columns: readonly ColumnDef[], rows: RowData, provenance: ProvenanceInput): Promise<LoadResult>;

  /** Create or replace a table from a SELECT (one transaction); the SQL is recorded. */
  createTableAs(table: TableRef, selectSql: string, provenance: ProvenanceInput): Promise<LoadResult>;

  /** `createTableAs` for several tables, in order, in ONE transaction. */
  createTablesAs(steps: readonly TableFromSql[]): Promise<LoadResult[]>;

  /** Runs SQL (several statements allowed; the last one's result is returned). */
  query(sql: string): Promise<QueryResult>;

  /** Like `query`, but hands over the last statement's rows batch by batch. */
  queryStream(sql: string, handlers: QueryStreamHandlers): Promise<void>;

  tableExists(table: TableRef): Promise<boolean>;

  /** Every table (all schemas, or one), with row counts and latest provenance; the metadata table is left out. */
  listTables(schema?: string): Promise<TableInfo[]>;

  /** The names of the schemas that exist. */
  listSchemas(): Promise<string[]>;

  /** Every provenance record of a table, oldest first. */
  provenance(table: TableRef): Promise<ProvenanceRecord[]>;

  /** Closes the connection and the database; the warehouse cannot be used afterwards. */
  close(): Promise<void>;
}

/** The warehouse file is held by another process (DuckDB allows one writing process). */
export class WarehouseLockedError extends Error {}

/** Invalid use of the load API (bad value for a column type, schema mismatch, …). */
export class WarehouseLoadError extends Error {}

/** The engine rejected a statement (syntax, binding, runtime); the message is the engine's. */
export class SqlError extends Error {}
