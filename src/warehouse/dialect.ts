/**
 * The small dialect layer (DESIGN.md: one SQL definition per product, run on DuckDB or BigQuery).
 * SQL in `sql/*.sql` and the warehouse code build engine-specific text only through a `Dialect`:
 * identifier quoting, table references, string literals and column type names. Only DuckDB is
 * implemented; BigQuery would quote with backticks and reference `project.dataset.table`.
 */
import type { ColumnType } from './warehouse.ts';

export interface Dialect {
  readonly name: 'duckdb' | 'bigquery';
  /** One identifier, quoted so that no character in it can end the quoting. */
  quoteIdentifier(name: string): string;
  /** A fully qualified table reference (`"schema"."table"` on DuckDB). */
  tableRef(schema: string, table: string): string;
  /** A string literal. */
  stringLiteral(text: string): string;
  /** The engine's name for one of the load API's column types. */
  typeName(type: ColumnType): string;
}

function refuseControlChars(kind: string, text: string): void {
  // NUL ends a C string inside the engine: the text seen by DuckDB would not be the text we quoted.
  if (text.includes('\0')) throw new Error(`${kind} contains a NUL character`);
}

const DUCKDB_TYPES: Record<ColumnType, string> = {
  VARCHAR: 'VARCHAR',
  BIGINT: 'BIGINT',
  INTEGER: 'INTEGER',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  quoteIdentifier(name: string): string {
    if (name === '') throw new Error('empty identifier');
    refuseControlChars('identifier', name);
    return `"${name.replace(/"/g, '""')}"`;
  },
  tableRef(schema: string, table: string): string {
    return `${this.quoteIdentifier(schema)}.${this.quoteIdentifier(table)}`;
  },
  stringLiteral(text: string): string {
    refuseControlChars('string literal', text);
    return `'${text.replace(/'/g, "''")}'`;
  },
  typeName(type: ColumnType): string {
    return DUCKDB_TYPES[type];
  },
};
