import fs from 'node:fs';
import { loadConfig } from '../config.ts';
import { openDuckDBWarehouse } from '../warehouse/duckdb.ts';
import { SqlError, type OutputValue, type ResultColumn, type Warehouse } from '../warehouse/warehouse.ts';
import { cellText, csvLine, DEFAULT_MAX_ROWS, DEFAULT_MAX_WIDTH, formatTable, uniqueNames, writeOut } from './resultFormat.ts';

export interface QueryCliOptions {
  file?: string;
  csv?: boolean;
  json?: boolean;
  maxRows?: string;
  maxWidth?: string;
  warehouse?: string;
  config?: string;
}


function positive(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return Number(v);
}

/** Streams the result to stdout in the chosen format. */
async function printResult(w: Warehouse, sql: string, o: QueryCliOptions, out: NodeJS.WritableStream): Promise<void> {
  const maxRows = positive('--max-rows', o.maxRows, DEFAULT_MAX_ROWS);
  const maxWidth = positive('--max-width', o.maxWidth, DEFAULT_MAX_WIDTH);
  let columns: readonly ResultColumn[] = [];
  let names: string[] = [];
  let total = 0;
  const kept: OutputValue[][] = [];
  await w.queryStream(sql, {
    columns: async (c) => {
      columns = c;
      names = uniqueNames(c);
      if (o.csv) await writeOut(out, csvLine(c.map((col) => col.name)));
      if (o.json) await writeOut(out, '[');
    },
    rows: async (rows) => {
      if (o.csv) {
        await writeOut(out, rows.map((r) => csvLine(r.map((v) => cellText(v, '')))).join(''));
      } else if (o.json) {
        const objects = rows.map((r, k) => `${total + k === 0 ? '\n' : ',\n'}${JSON.stringify(Object.fromEntries(names.map((n, i) => [n, r[i] ?? null])))}`);
        await writeOut(out, objects.join(''));
      } else {
        for (const r of rows) if (kept.length < maxRows) kept.push(r);
      }
      total += rows.length;
    },
  });
  if (o.json) await writeOut(out, total === 0 ? ']\n' : '\n]\n');
  if (o.csv || o.json) return;
  if (columns.length === 0) return;
  await writeOut(out, formatTable(columns, kept, { maxWidth }));
  const shown = kept.length < total ? `, first ${kept.length} shown: use --max-rows, --csv or --json for all` : '';
  await writeOut(out, `(${total} row${total === 1 ? '' : 's'}${shown})\n`);
}

/** Runs `edx2bq query`; returns the process exit code (1 when the engine rejects the SQL). */
export async function runQuery(sqlArg: string | undefined, o: QueryCliOptions): Promise<number> {
  if ((sqlArg === undefined) === (o.file === undefined)) throw new Error('give the SQL either as an argument or with --file, not both or neither');
  if (o.csv && o.json) throw new Error('choose one of --csv and --json');
  const sql = o.file !== undefined ? readSqlFile(o.file) : (sqlArg ?? '');
  const cfg = loadConfig({ warehouse: o.warehouse, config: o.config });
  const w = await openDuckDBWarehouse(cfg.warehouse);
  const onOutputError = () => undefined; // EPIPE is handled where the next write sees the closed stream
  process.stdout.on('error', onOutputError);
  try {
    await printResult(w, sql, o, process.stdout);
    return 0;
  } catch (e) {
    if (e instanceof SqlError) {
      process.stderr.write(`edx2bq: SQL error: ${e.message}\n`);
      return 1;
    }
    // the reader went away (`edx2bq query … | head`): not an error of ours
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    throw e;
  } finally {
    process.stdout.off('error', onOutputError);
    await w.close();
  }
}

function readSqlFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the SQL file ${file}: ${(e as Error).message}`);
  }
}
