/**
 * Opens and closes the warehouse, in a thread of its own (see src/warehouse/probe.ts): a
 * locked or unusable warehouse is found before a long pass over the logs, without the DuckDB
 * API ever being loaded into the main thread during that pass.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { WarehouseLockedError } from '../src/warehouse/warehouse.ts';

const { file } = workerData as { file: string };
try {
  const wh = await openDuckDBWarehouse(file);
  await wh.close();
  parentPort!.postMessage({ ok: true });
} catch (e) {
  parentPort!.postMessage({ ok: false, message: (e as Error).message, locked: e instanceof WarehouseLockedError });
}
