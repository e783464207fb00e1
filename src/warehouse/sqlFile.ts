/**
 * The SQL steps live in `sql/<name>.sql`, one file per product, readable on their own. A file
 * names its tables as `{{table}}`; they are filled in with the dialect's qualified reference in
 * one schema, so the same text runs on any engine and in any course's schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Dialect } from './dialect.ts';
import { checkPlainName } from './naming.ts';

const SQL_DIR = path.join(import.meta.dirname, '..', '..', 'sql');

export function sqlFilePath(name: string): string {
  return path.join(SQL_DIR, `${checkPlainName('table', name)}.sql`);
}

/**
 * The SELECT of `sql/<name>.sql` with every `{{table}}` qualified in `schema`, and every
 * `{{param}}` named in `params` replaced by that value as a string literal (course ids are
 * untrusted: they only ever enter SQL through the dialect's quoting).
 *
 * `{{table|fallback}}` is an optional input: it stands for the caller's entry in `tables` when
 * there is one, else for `fallback`, a CTE of the same file with the input's columns and no rows.
 * The file then runs whether or not the input exists (setup-sql's side-loads).
 */
export function renderSqlFile(
  name: string,
  dialect: Dialect,
  schema: string,
  params: Readonly<Record<string, string>> = {},
  /** SQL put in place of a table: a subquery for an input that does not exist, or another schema's table. */
  tables: Readonly<Record<string, string>> = {},
): string {
  // whole-line comments go first: a value put into a comment could otherwise end it with a newline
  const text = fs
    .readFileSync(sqlFilePath(name), 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return text.replace(/\{\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([A-Za-z_][A-Za-z0-9_]*))?\}\}/g, (_, name: string, fallback: string | undefined) =>
    Object.hasOwn(params, name) ? dialect.stringLiteral(params[name]!) : Object.hasOwn(tables, name) ? tables[name]! : (fallback ?? dialect.tableRef(schema, name)),
  );
}
