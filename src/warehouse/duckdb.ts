/**
 * The DuckDB warehouse: one database file, one schema per course, shared schemas for
 * cross-course tables, provenance in `main._edx2bq`.
 *
 * All work goes through one connection, one operation at a time (an internal queue), because
 * DuckDB allows one transaction per connection. Bulk loads go through the appender with whole
 * data chunks (deps.md §4: ≈1.2M rows/s; a prepared INSERT per row is ≈400× slower).
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance, LIST, listValue, VARCHAR, type DuckDBConnection, type DuckDBResult, type DuckDBValue } from '@duckdb/node-api';
import { duckdbDialect, type Dialect } from './dialect.ts';
import { CHUNK_ROWS, columnConverter, DUCKDB_TYPES, fillChunk, keyString, outputConverter, rowAccess, type RowAccess } from './duckdbValues.ts';
import { checkPlainName, META_SCHEMA, META_TABLE } from './naming.ts';
import { commentSql, createMetaTableSql, insertProvenanceSql, provenanceSelectSql, recordFromRow, type WriteRecord } from './provenance.ts';
import {
  SqlError,
  WarehouseLoadError,
  WarehouseLockedError,
  type Cell,
  type ColumnDef,
  type LoadResult,
  type OutputValue,
  type ProvenanceInput,
  type ProvenanceRecord,
  type QueryResult,
  type QueryStreamHandlers,
  type ReplaceKeys,
  type ResultColumn,
  type RowData,
  type RowsLoad,
  type TableFromSql,
  type TableInfo,
  type TableRef,
  type Warehouse,
} from './warehouse.ts';

export interface DuckDBWarehouseOptions {
  /** Open without write access: several read-only processes may share the file (not with a writer). */
  readOnly?: boolean;
}

/** Schemas that belong to the engine, never listed. */
const ENGINE_SCHEMAS = new Set(['information_schema', 'pg_catalog']);

/** How many keys a provenance record spells out before it abbreviates. */
const KEYS_SHOWN = 10;

/** Tables counted per UNION ALL query when listing. */
const COUNT_BATCH = 200;

function lockedError(file: string, message: string): WarehouseLockedError | null {
  if (!/Could not set lock on file/i.test(message)) return null;
  const holder = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message);
  const who = holder ? ` (process ${holder[2]}: ${holder[1]})` : '';
  return new WarehouseLockedError(
    `the warehouse ${file} is in use by another process${who}. DuckDB allows one process to write a database file at a time: wait for it to finish, or use another --warehouse`,
  );
}

/** The engine's message, without the client library's "Failed to extract statements: " style prefixes. */
function sqlError(e: unknown): SqlError {
  const message = e instanceof Error ? e.message : String(e);
  // what the client library says when the text holds no statement at all ('', ';', a comment)
  if (message === 'Error in native callback') return new SqlError('no SQL statement to run', { cause: e });
  return new SqlError(message.replace(/^Failed to (extract statements|prepare statement|execute prepared statement|fetch chunk|stream result): /i, ''), { cause: e });
}

/** Opens (creating when needed, with its directory) the DuckDB warehouse file. */
export async function openDuckDBWarehouse(file: string, options: DuckDBWarehouseOptions = {}): Promise<DuckDBWarehouse> {
  const inMemory = file === ':memory:';
  if (!inMemory && !options.readOnly) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, {
      // The same as `SET autoinstall_known_extensions=false`, but in force from the first
      // statement: never download an extension (no network in CI; httpfs is not bundled).
      autoinstall_known_extensions: 'false',
      access_mode: options.readOnly ? 'READ_ONLY' : 'READ_WRITE',
    });
  } catch (e) {
    const message = (e as Error).message;
    throw lockedError(file, message) ?? new Error(`cannot open the warehouse ${file}: ${message}`);
  }
  let conn: DuckDBConnection;
  try {
    conn = await instance.connect();
    if (!options.readOnly) await conn.run(createMetaTableSql(duckdbDialect));
  } catch (e) {
    instance.closeSync();
    throw e;
  }
  return new DuckDBWarehouse(file, instance, conn);
}

export class DuckDBWarehouse implements Warehouse {
  readonly dialect: Dialect = duckdbDialect;
  readonly location: string;
  private readonly instance: DuckDBInstance;
  private readonly conn: DuckDBConnection;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(location: string, instance: DuckDBInstance, conn: DuckDBConnection) {
    this.location = location;
    this.instance = instance;
    this.conn = conn;
  }

  /** Runs `fn` after every operation queued before it: one transaction at a time on the connection. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`the warehouse ${this.location} is closed`));
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const out = await fn();
      await this.conn.run('COMMIT');
      return out;
    } catch (e) {
      // after a failed COMMIT DuckDB has already rolled back, and ROLLBACK itself fails: ignore that
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  private ref(t: TableRef): string {
    return this.dialect.tableRef(checkPlainName('schema', t.schema), checkPlainName('table', t.table));
  }

  private async scalarNumber(sql: string, values?: DuckDBValue[]): Promise<number> {
    const r = await this.conn.runAndReadAll(sql, values);
    const v = r.getRowsJS()[0]?.[0];
    return typeof v === 'bigint' ? Number(v) : Number(v ?? 0);
  }

  private async existingColumns(t: TableRef): Promise<{ name: string; type: string }[]> {
    const r = await this.conn.runAndReadAll(
      `SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index`,
      [t.schema, t.table],
    );
    return r.getRowsJS().map((row) => ({ name: String(row[0]), type: String(row[1]) }));
  }

  /**
   * The columns of several tables in one catalog scan (`duckdb_columns()` costs milliseconds per
   * call once a file holds a few hundred tables, so a batch load asks once).
   */
  private async existingColumnsOf(targets: readonly TableRef[]): Promise<Map<string, { name: string; type: string }[]>> {
    const out = new Map<string, { name: string; type: string }[]>();
    const schemas = [...new Set(targets.map((t) => t.schema))];
    if (schemas.length === 0) return out;
    const r = await this.conn.runAndReadAll(
      `SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name IN (SELECT unnest($1)) ORDER BY schema_name, table_name, column_index`,
      [listValue(schemas)],
      [LIST(VARCHAR)],
    );
    for (const [schema, table, name, type] of r.getRowsJS()) {
      const key = `${String(schema)}.${String(table)}`;
      let cols = out.get(key);
      if (cols === undefined) out.set(key, (cols = []));
      cols.push({ name: String(name), type: String(type) });
    }
    return out;
  }

  private async rowCount(t: TableRef): Promise<number> {
    return this.scalarNumber(`SELECT count(*) FROM ${this.ref(t)}`);
  }

  private async ensureSchema(schema: string): Promise<void> {
    await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${this.dialect.quoteIdentifier(checkPlainName('schema', schema))}`);
  }

  private columnsSql(columns: readonly ColumnDef[]): string {
    return columns.map((c) => `${this.dialect.quoteIdentifier(c.name)} ${this.dialect.typeName(c.type)}`).join(', ');
  }

  /** Appends every row through data chunks. Runs inside the caller's transaction. */
  private async append(t: TableRef, columns: readonly ColumnDef[], data: RowAccess): Promise<void> {
    const converters = columns.map(columnConverter);
    const appender = await this.conn.createAppender(t.table, t.schema);
    let done = false;
    try {
      for (let start = 0; start < data.rowCount; start += CHUNK_ROWS) {
        appender.appendDataChunk(fillChunk(columns, converters, data, start, Math.min(start + CHUNK_ROWS, data.rowCount)));
      }
      done = true;
    } finally {
      // closing flushes; after a failure it may throw too, and the first error is the one to report
      try {
        appender.closeSync();
      } catch (e) {
        if (done) throw e;
      }
    }
  }

  private async recordWrite(record: WriteRecord, kind: 'TABLE' | 'VIEW' = 'TABLE'): Promise<void> {
    await this.conn.run(insertProvenanceSql(this.dialect, record));
    await this.conn.run(commentSql(this.dialect, record.target, record, kind));
  }

  /** The names among `targets` that are views now (so a table can replace a view and back). */
  private async existingViews(targets: readonly TableRef[]): Promise<Set<string>> {
    const schemas = [...new Set(targets.map((t) => t.schema))];
    if (schemas.length === 0) return new Set();
    const r = await this.conn.runAndReadAll(
      `SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal AND schema_name IN (SELECT unnest($1))`,
      [listValue(schemas)],
      [LIST(VARCHAR)],
    );
    return new Set(r.getRowsJS().map(([schema, view]) => `${String(schema)}.${String(view)}`));
  }

  async replaceRows(target: TableRef, keys: ReplaceKeys, columns: readonly ColumnDef[], rows: RowData, provenance: ProvenanceInput): Promise<LoadResult> {
    const [r] = await this.replaceRowsMany([{ table: target, keys, columns, rows, provenance }]);
    return r!;
  }

  async replaceRowsMany(loads: readonly RowsLoad[]): Promise<LoadResult[]> {
    const prepared = loads.map((l) => {
      this.ref(l.table);
      checkColumns(l.columns);
      const keyIndex = l.columns.findIndex((c) => c.name === l.keys.keyColumn);
      const keyColumn = l.columns[keyIndex];
      if (!keyColumn) throw new WarehouseLoadError(`key column ${JSON.stringify(l.keys.keyColumn)} is not among the columns (${l.columns.map((c) => c.name).join(', ')})`);
      const data = rowAccess(l.rows, l.columns.length);
      return { ...l, keyColumn, data, keyValues: collectKeys(keyColumn, keyIndex, l.keys, data) };
    });
    return this.exclusive(async () =>
      this.transaction(async () => {
        const out: LoadResult[] = [];
        const schemas = new Set<string>();
        const known = await this.existingColumnsOf(prepared.map((p) => p.table));
        for (const { table: target, columns, provenance, keyColumn, data, keyValues } of prepared) {
          const started = performance.now();
          if (!schemas.has(target.schema)) {
            await this.ensureSchema(target.schema);
            schemas.add(target.schema);
          }
          const key = `${target.schema}.${target.table}`;
          const existing = known.get(key) ?? [];
          // a later load of the same table in this batch sees the table this one creates
          known.set(key, columns.map((c) => ({ name: c.name, type: this.dialect.typeName(c.type) })));
          if (existing.length === 0) await this.conn.run(`CREATE TABLE ${this.ref(target)} (${this.columnsSql(columns)})`);
          else checkSameColumns(target, existing, columns, this.dialect);
          let rowsDeleted = 0;
          if (keyValues.size > 0 && existing.length > 0) {
            const deleted = await this.conn.run(
              `DELETE FROM ${this.ref(target)} WHERE ${this.dialect.quoteIdentifier(keyColumn.name)} IN (SELECT unnest($1))`,
              [listValue([...keyValues.values()])],
              [LIST(DUCKDB_TYPES[keyColumn.type])],
            );
            rowsDeleted = deleted.rowsChanged;
          }
          if (data.rowCount > 0) await this.append(target, columns, data);
          const tableRows = existing.length === 0 ? data.rowCount : await this.rowCount(target);
          const durationMs = performance.now() - started;
          await this.recordWrite({
            ...provenance,
            target,
            replaced: describeKeys(keyColumn.name, [...keyValues.values()]),
            rowsWritten: data.rowCount,
            tableRows,
            durationMs,
            writtenAt: new Date(),
          });
          out.push({ rowsWritten: data.rowCount, tableRows, rowsDeleted, durationMs });
        }
        return out;
      }),
    );
  }

  async replaceTable(target: TableRef, columns: readonly ColumnDef[], rows: RowData, provenance: ProvenanceInput): Promise<LoadResult> {
    this.ref(target);
    checkColumns(columns);
    const data = rowAccess(rows, columns.length);
    return this.exclusive(async () => {
      const started = performance.now();
      return this.transaction(async () => {
        await this.ensureSchema(target.schema);
        const rowsDeleted = (await this.existingColumns(target)).length > 0 ? await this.rowCount(target) : 0;
        await this.conn.run(`CREATE OR REPLACE TABLE ${this.ref(target)} (${this.columnsSql(columns)})`);
        await this.append(target, columns, data);
        const durationMs = performance.now() - started;
        await this.recordWrite({ ...provenance, target, rowsWritten: data.rowCount, tableRows: data.rowCount, durationMs, writtenAt: new Date() });
        return { rowsWritten: data.rowCount, tableRows: data.rowCount, rowsDeleted, durationMs };
      });
    });
  }

  async createTableAs(target: TableRef, selectSql: string, provenance: ProvenanceInput): Promise<LoadResult> {
    const [r] = await this.createTablesAs([{ table: target, selectSql, provenance }]);
    return r!;
  }

  async createTablesAs(steps: readonly TableFromSql[]): Promise<LoadResult[]> {
    for (const s of steps) this.ref(s.table);
    return this.exclusive(async () =>
      this.transaction(async () => {
        const out: LoadResult[] = [];
        const known = await this.existingColumnsOf(steps.map((s) => s.table));
        const views = await this.existingViews(steps.map((s) => s.table));
        const schemas = new Set<string>();
        for (const { table: target, selectSql, provenance, view } of steps) {
          const started = performance.now();
          const body = selectSql.trim().replace(/;\s*$/, '');
          if (!schemas.has(target.schema)) {
            await this.ensureSchema(target.schema);
            schemas.add(target.schema);
          }
          const key = `${target.schema}.${target.table}`;
          const wasView = views.has(key);
          const wasTable = known.has(key) && !wasView;
          // a view's rows were never stored: replacing it deletes nothing
          const rowsDeleted = wasTable ? await this.rowCount(target) : 0;
          known.set(key, []);
          if (view) {
            if (wasTable) await this.conn.run(`DROP TABLE ${this.ref(target)}`);
            views.add(key);
          } else if (wasView) {
            await this.conn.run(`DROP VIEW ${this.ref(target)}`);
            views.delete(key);
          }
          await this.conn.run(`CREATE OR REPLACE ${view ? 'VIEW' : 'TABLE'} ${this.ref(target)} AS\n${body}`);
          // a view is not counted: counting would run its SELECT once more (-1: not stored)
          const tableRows = view ? -1 : await this.rowCount(target);
          const durationMs = performance.now() - started;
          await this.recordWrite({ ...provenance, target, sql: body, rowsWritten: view ? 0 : tableRows, tableRows, durationMs, writtenAt: new Date() }, view ? 'VIEW' : 'TABLE');
          out.push({ rowsWritten: view ? 0 : tableRows, tableRows, rowsDeleted, durationMs });
        }
        return out;
      }),
    );
  }

  queryStream(sql: string, handlers: QueryStreamHandlers): Promise<void> {
    return this.exclusive(async () => {
      let result: DuckDBResult;
      try {
        result = await this.conn.stream(sql);
      } catch (e) {
        throw sqlError(e);
      }
      const types = result.columnTypes();
      const columns: ResultColumn[] = result.columnNames().map((name, i) => ({ name, type: String(types[i]) }));
      await handlers.columns(columns);
      // engine errors can also surface while rows are fetched (e.g. a failing cast); the handlers'
      // own errors (a closed stdout) pass through unchanged
      const batches = result.yieldConvertedRows(outputConverter)[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<unknown[][]>;
        try {
          next = await batches.next();
        } catch (e) {
          throw sqlError(e);
        }
        if (next.done) break;
        await handlers.rows(next.value as OutputValue[][]);
      }
    });
  }

  async query(sql: string): Promise<QueryResult> {
    let columns: readonly ResultColumn[] = [];
    const rows: OutputValue[][] = [];
    await this.queryStream(sql, {
      columns: (c) => {
        columns = c;
      },
      rows: (batch) => {
        for (const r of batch) rows.push(r);
      },
    });
    return { columns, rows };
  }

  tableExists(t: TableRef): Promise<boolean> {
    return this.exclusive(async () => (await this.existingColumns(t)).length > 0);
  }

  listSchemas(): Promise<string[]> {
    return this.exclusive(async () => {
      const r = await this.conn.runAndReadAll(`SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database() ORDER BY schema_name`);
      return r.getRowsJS().map((row) => String(row[0])).filter((s) => !ENGINE_SCHEMAS.has(s));
    });
  }

  private async metaTableExists(): Promise<boolean> {
    return (await this.existingColumns({ schema: META_SCHEMA, table: META_TABLE })).length > 0;
  }

  listTables(schema?: string): Promise<TableInfo[]> {
    return this.exclusive(async () => {
      const r = await this.conn.runAndReadAll(
        `SELECT schema_name, table_name, comment, false AS is_view FROM duckdb_tables()
         WHERE database_name = current_database() AND NOT internal AND NOT temporary
           AND NOT (schema_name = $1 AND table_name = $2) AND ($3 IS NULL OR schema_name = $3)
         UNION ALL
         SELECT schema_name, view_name, comment, true FROM duckdb_views()
         WHERE database_name = current_database() AND NOT internal AND NOT temporary AND ($3 IS NULL OR schema_name = $3)
         ORDER BY schema_name, table_name`,
        [META_SCHEMA, META_TABLE, schema ?? null],
      );
      const listed = r.getRowsJS().map((row) => ({ schema: String(row[0]), table: String(row[1]), comment: row[2] == null ? null : String(row[2]), view: row[3] === true }));
      const tableCounts = await this.countRows(listed.filter((t) => !t.view));
      const counts: number[] = [];
      // views one by one: one whose input was dropped cannot be read (-1)
      let k = 0;
      for (const t of listed) counts.push(t.view ? await this.rowCount(t).catch(() => -1) : tableCounts[k++]!);
      const latest = new Map<string, ProvenanceRecord>();
      if (await this.metaTableExists()) {
        const p = await this.conn.stream(`${provenanceSelectSql(this.dialect)} QUALIFY row_number() OVER (PARTITION BY schema_name, table_name ORDER BY id DESC) = 1`);
        for (const row of await p.convertRows(outputConverter)) {
          const rec = recordFromRow(row as OutputValue[]);
          latest.set(`${rec.schema}\0${rec.table}`, rec);
        }
      }
      return listed.map(({ view, ...t }, i) => ({ ...t, ...(view ? { view } : {}), rows: counts[i]!, provenance: latest.get(`${t.schema}\0${t.table}`) ?? null }));
    });
  }

  /** Exact row counts, many tables per query. */
  private async countRows(tables: readonly TableRef[]): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < tables.length; i += COUNT_BATCH) {
      const batch = tables.slice(i, i + COUNT_BATCH);
      // names listed by the engine itself, quoted: safe whatever characters they hold
      const sql = batch.map((t, j) => `SELECT ${j} AS i, count(*) AS n FROM ${this.dialect.tableRef(t.schema, t.table)}`).join('\nUNION ALL\n');
      const rows = (await this.conn.runAndReadAll(`${sql}\nORDER BY i`)).getRowsJS();
      for (const row of rows) out.push(Number(row[1]));
    }
    return out;
  }

  provenance(t: TableRef): Promise<ProvenanceRecord[]> {
    return this.exclusive(async () => {
      if (!(await this.metaTableExists())) return [];
      const r = await this.conn.stream(`${provenanceSelectSql(this.dialect)} WHERE schema_name = $1 AND table_name = $2 ORDER BY id`, [t.schema, t.table]);
      return (await r.convertRows(outputConverter)).map((row) => recordFromRow(row as OutputValue[]));
    });
  }

  close(): Promise<void> {
    return this.exclusive(async () => {
      this.closed = true;
      this.conn.closeSync();
      this.instance.closeSync();
    });
  }
}

function checkColumns(columns: readonly ColumnDef[]): void {
  if (columns.length === 0) throw new WarehouseLoadError('a table needs at least one column');
  const seen = new Set<string>();
  for (const c of columns) {
    checkPlainName('column', c.name);
    if (!(c.type in DUCKDB_TYPES)) throw new WarehouseLoadError(`column ${c.name}: unknown type ${JSON.stringify(c.type)}`);
    const lower = c.name.toLowerCase(); // DuckDB (and BigQuery) column names are case-insensitive
    if (seen.has(lower)) throw new WarehouseLoadError(`column ${c.name} appears twice`);
    seen.add(lower);
  }
}

function checkSameColumns(t: TableRef, existing: readonly { name: string; type: string }[], columns: readonly ColumnDef[], d: Dialect): void {
  const same = existing.length === columns.length && existing.every((e, i) => e.name === columns[i]!.name && e.type === d.typeName(columns[i]!.type));
  if (same) return;
  const show = (cols: readonly { name: string; type: string }[]) => cols.map((c) => `${c.name} ${c.type}`).join(', ');
  throw new WarehouseLoadError(
    `${t.schema}.${t.table} has the columns (${show(existing)}), this load has (${show(columns.map((c) => ({ name: c.name, type: d.typeName(c.type) })))}): rebuild the table (replaceTable) or drop it first`,
  );
}

/**
 * The key values whose rows are replaced: the given ones, else those of the new rows. A NULL key,
 * or a row whose key is not among the given ones, is refused: a re-run could not replace it.
 */
function collectKeys(keyColumn: ColumnDef, keyIndex: number, keys: ReplaceKeys, data: RowAccess): Map<string, DuckDBValue> {
  const convert = columnConverter(keyColumn);
  const out = new Map<string, DuckDBValue>();
  for (const k of keys.keys ?? []) {
    const v = convert(k, -1);
    if (v === null) throw new WarehouseLoadError(`keys of ${keyColumn.name} may not be NULL`);
    out.set(keyString(v), v);
  }
  const given = keys.keys !== undefined;
  // most rows repeat a key already seen: skip converting a primitive key value seen before
  const seen = new Set<Cell>();
  for (let r = 0; r < data.rowCount; r++) {
    const cell = data.cell(r, keyIndex);
    if (seen.has(cell)) continue;
    const v = convert(cell, r);
    if (v === null) throw new WarehouseLoadError(`row ${r}: key column ${keyColumn.name} is NULL`);
    if (typeof cell !== 'object') seen.add(cell);
    const k = keyString(v);
    if (out.has(k)) continue;
    if (given) throw new WarehouseLoadError(`row ${r}: ${keyColumn.name} = ${String(v)} is not among the keys being replaced`);
    out.set(k, v);
  }
  return out;
}

function describeKeys(column: string, values: readonly DuckDBValue[]): string {
  const shown = values.slice(0, KEYS_SHOWN).map(String).join(', ');
  const more = values.length > KEYS_SHOWN ? `, … (${values.length} keys)` : '';
  return `${column} IN (${shown}${more})`;
}
