import fs from 'node:fs';
import { loadConfig } from '../config.ts';
import { openDuckDBWarehouse } from '../warehouse/duckdb.ts';
import { courseSchema } from '../warehouse/naming.ts';
import type { OutputValue, ResultColumn, TableInfo } from '../warehouse/warehouse.ts';
import { DEFAULT_MAX_WIDTH, formatTable, writeOut } from './resultFormat.ts';

export interface TablesCliOptions {
  json?: boolean;
  warehouse?: string;
  config?: string;
}

const COLUMNS: readonly ResultColumn[] = [
  { name: 'schema', type: 'VARCHAR' },
  { name: 'table', type: 'VARCHAR' },
  { name: 'rows', type: 'BIGINT' },
  { name: 'command', type: 'VARCHAR' },
  { name: 'step', type: 'VARCHAR' },
  { name: 'written (UTC)', type: 'VARCHAR' },
];

function row(t: TableInfo): OutputValue[] {
  const p = t.provenance;
  // a view is marked, and its rows are what it reads now ('unreadable' when an input is gone)
  const table = t.view ? `${t.table} (view)` : t.table;
  const rows = t.view && t.rows < 0 ? 'unreadable' : t.rows;
  return [t.schema, table, rows, p?.command ?? '-', p?.step ?? '-', p ? p.writtenAt.slice(0, 19).replace('T', ' ') : '-'];
}

export function formatTables(tables: readonly TableInfo[]): string {
  return formatTable(COLUMNS, tables.map(row), { maxWidth: DEFAULT_MAX_WIDTH }) + `(${tables.length} table${tables.length === 1 ? '' : 's'})\n`;
}

/** Runs `edx2bq tables [course]`; returns the process exit code. */
export async function runTables(course: string | undefined, o: TablesCliOptions): Promise<number> {
  const cfg = loadConfig({ warehouse: o.warehouse, config: o.config });
  const where = course === undefined ? '' : ` for ${course}`;
  if (!fs.existsSync(cfg.warehouse)) {
    await writeOut(process.stdout, o.json ? '[]\n' : `no tables yet${where}: the warehouse ${cfg.warehouse} does not exist (the first load creates it)\n`);
    return 0;
  }
  // read-only: a listing may run next to other readers, and never changes the file
  const w = await openDuckDBWarehouse(cfg.warehouse, { readOnly: true });
  try {
    let schema: string | undefined;
    if (course !== undefined) {
      // a schema name as it is (`courses`, or a dataset name), else a course id in either form
      schema = (await w.listSchemas()).includes(course) ? course : courseSchema(course);
    }
    const tables = await w.listTables(schema);
    if (o.json) await writeOut(process.stdout, JSON.stringify(tables, null, 2) + '\n');
    else if (tables.length === 0) await writeOut(process.stdout, `no tables yet${where}${schema ? ` (schema ${schema})` : ''} in ${cfg.warehouse}\n`);
    else await writeOut(process.stdout, formatTables(tables));
    return 0;
  } finally {
    await w.close();
  }
}
