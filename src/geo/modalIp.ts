/**
 * Modal IP per learner (spec tracking-logs.md §9.2–§9.3, REC: deterministic tie-break), from the
 * per-date `pcday_ip_counts` tables: `sql/course_modal_ip.sql`, on one course schema's table or
 * on the UNION ALL of several courses' tables.
 *
 * Output columns (both): username VARCHAR, modal_ip VARCHAR, ip_count BIGINT,
 * n_different_ip BIGINT, n_tied BIGINT — one row per username.
 */
import type { Dialect } from '../warehouse/dialect.ts';
import { SHARED_SCHEMA } from '../warehouse/naming.ts';
import { renderSqlFile } from '../warehouse/sqlFile.ts';
import type { ColumnDef, LoadResult, TableRef, Warehouse } from '../warehouse/warehouse.ts';

export const IP_COUNTS_TABLE = 'pcday_ip_counts';
export const COURSE_MODAL_IP_TABLE = 'course_modal_ip';
export const GLOBAL_MODAL_IP_TABLE = 'global_modal_ip';

export const MODAL_IP_COLUMNS: readonly ColumnDef[] = [
  { name: 'username', type: 'VARCHAR' },
  { name: 'modal_ip', type: 'VARCHAR' },
  { name: 'ip_count', type: 'BIGINT' },
  { name: 'n_different_ip', type: 'BIGINT' },
  { name: 'n_tied', type: 'BIGINT' },
];

/** The SELECT of `sql/course_modal_ip.sql` for one course schema. */
export function courseModalIpSql(dialect: Dialect, schema: string): string {
  return renderSqlFile(COURSE_MODAL_IP_TABLE, dialect, schema);
}

/**
 * The SELECT of `sql/course_modal_ip.sql` over the `pcday_ip_counts` of every schema given
 * (duplicates dropped; order does not matter for the result).
 */
export function globalModalIpSql(dialect: Dialect, schemas: readonly string[]): string {
  const distinct = [...new Set(schemas)];
  if (distinct.length === 0) throw new Error('global modal IP: no course schema given');
  const branches = distinct.map((s) => `SELECT username, ip, date, ipcount FROM ${dialect.tableRef(s, IP_COUNTS_TABLE)}`);
  const union = `(\n  ${branches.join('\n  UNION ALL\n  ')}\n)`;
  return renderSqlFile(COURSE_MODAL_IP_TABLE, dialect, SHARED_SCHEMA, {}, { [IP_COUNTS_TABLE]: union });
}

export interface ModalIpOptions {
  /** Provenance command (default `person-course`). */
  readonly command?: string;
}

/** Creates `<schema>.course_modal_ip` from `<schema>.pcday_ip_counts`. */
export async function createCourseModalIp(wh: Warehouse, schema: string, options: ModalIpOptions = {}): Promise<LoadResult> {
  return wh.createTableAs({ schema, table: COURSE_MODAL_IP_TABLE }, courseModalIpSql(wh.dialect, schema), {
    command: options.command ?? 'person-course',
    step: `sql/${COURSE_MODAL_IP_TABLE}.sql`,
    inputs: [`${schema}.${IP_COUNTS_TABLE}`],
  });
}

export interface GlobalModalIpResult {
  readonly load: LoadResult;
  /** The schemas whose pcday_ip_counts went into the union. */
  readonly schemas: readonly string[];
  /** Schemas left out because they have no pcday_ip_counts table. */
  readonly skipped: readonly string[];
}

/**
 * Creates the cross-course modal IP table (default `courses.global_modal_ip`) over the schemas
 * that have a `pcday_ip_counts` table; throws when none has.
 */
export async function createGlobalModalIp(
  wh: Warehouse,
  schemas: readonly string[],
  options: ModalIpOptions & { readonly target?: TableRef } = {},
): Promise<GlobalModalIpResult> {
  const used: string[] = [];
  const skipped: string[] = [];
  for (const s of new Set(schemas)) ((await wh.tableExists({ schema: s, table: IP_COUNTS_TABLE })) ? used : skipped).push(s);
  if (used.length === 0) throw new Error(`global modal IP: none of ${schemas.length} schema(s) has a ${IP_COUNTS_TABLE} table`);
  const target = options.target ?? { schema: SHARED_SCHEMA, table: GLOBAL_MODAL_IP_TABLE };
  const load = await wh.createTableAs(target, globalModalIpSql(wh.dialect, used), {
    command: options.command ?? 'person-course',
    step: `sql/${COURSE_MODAL_IP_TABLE}.sql over the union of the courses' ${IP_COUNTS_TABLE}`,
    inputs: used.map((s) => `${s}.${IP_COUNTS_TABLE}`),
  });
  return { load, schemas: used, skipped };
}
