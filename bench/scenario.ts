/**
 * One benchmark scenario, run in its own process so its peak RSS is its own:
 *   node bench/scenario.ts floor   <input dir> <workers> <chunkMB>
 *   node bench/scenario.ts split   <input dir> <workers> <chunkMB> <logs dir>
 *   node bench/scenario.ts persondayNoSplit <input dir> <workers> <chunkMB> <logs dir>   (the pass + the load)
 *   node bench/scenario.ts persondaySplit   <input dir> <workers> <chunkMB> <logs dir>
 *   node bench/scenario.ts setupsqlFloor <sql dir> <date> <warehouse file>   (DuckDB's read_csv of every file)
 *   node bench/scenario.ts setupsql      <sql dir> <date> <warehouse file>   (setup-sql's loader)
 *   node bench/scenario.ts parsers <input file> <MB of lines>
 *   node bench/scenario.ts simdjson <input file> <MB of lines>
 * Prints one JSON object on stdout.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { readLineChunks } from '../src/logs/chunkReader.ts';
import { discoverInputs } from '../src/logs/inputs.ts';
import { createLogPool } from '../src/logs/pool.ts';
import { Semaphore } from '../src/logs/semaphore.ts';
import { splitLogs } from '../src/logs/split.ts';
import { loadFacts } from '../src/aggregate/loadFacts.ts';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { forEachLine } from '../src/logs/lines.ts';
import { scanFields } from './fieldScanner.ts';

function maxRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** gunzip + JSON.parse of every line on the pool, with split's chunking and in-flight bound. */
async function floor(dir: string, workers: number, chunkMB: number) {
  const inputs = await discoverInputs([dir]);
  const pool = createLogPool(workers);
  const slots = new Semaphore(workers * 3);
  const started = performance.now();
  let lines = 0;
  let objects = 0;
  const progress = { bytesRead: 0, textBytes: 0 };
  const tasks: Array<Promise<void>> = [];
  for (const input of inputs) {
    for await (const chunk of readLineChunks(input.path, input.gzip, chunkMB * 1024 * 1024, progress)) {
      await slots.acquire();
      tasks.push(
        (pool.run({ chunk }, { name: 'parse' }) as Promise<{ lines: number; objects: number }>).then((r) => {
          lines += r.lines;
          objects += r.objects;
          slots.release();
        }),
      );
    }
  }
  await Promise.all(tasks);
  const seconds = (performance.now() - started) / 1000;
  await pool.destroy();
  return { seconds, lines, events: objects, bytesIn: progress.bytesRead, textBytes: progress.textBytes, maxRssMB: maxRssMB() };
}

async function split(dir: string, workers: number, chunkMB: number, logsDir: string) {
  await fs.promises.rm(logsDir, { recursive: true, force: true });
  const s = await splitLogs([dir], { logsDir, workers, chunkSize: chunkMB * 1024 * 1024, gzipLevel: 1, force: true });
  let bytesOut = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '_parts') walk(p);
      } else bytesOut += fs.statSync(p).size;
    }
  };
  walk(logsDir);
  return { seconds: s.seconds, lines: s.lines, events: s.events, rejects: s.rejects, bytesIn: s.bytesIn, textBytes: s.textBytes, bytesOut, maxRssMB: maxRssMB() };
}

/** person-day: the one pass (with or without the log files), then the warehouse load, timed apart. */
async function personDay(dir: string, workers: number, chunkMB: number, logsDir: string, writeLogs: boolean) {
  await fs.promises.rm(logsDir, { recursive: true, force: true });
  const s = await splitLogs([dir], { logsDir, workers, chunkSize: chunkMB * 1024 * 1024, gzipLevel: 1, force: true, writeLogs, collectFacts: true });
  const whFile = path.join(logsDir, 'bench.duckdb');
  const t0 = performance.now();
  const wh = await openDuckDBWarehouse(whFile);
  const load = await loadFacts({ logsDir, warehouse: wh, command: 'bench' });
  await wh.close();
  const loadSeconds = (performance.now() - t0) / 1000;
  return {
    seconds: s.seconds, lines: s.lines, events: s.events, rejects: s.rejects, bytesIn: s.bytesIn, textBytes: s.textBytes, bytesOut: 0,
    factsSeconds: s.factsSeconds, loadSeconds, rowsLoaded: load.rowsLoaded, computeSeconds: load.computeSeconds, appendSeconds: load.loadSeconds, derivedSeconds: load.derivedSeconds, maxRssMB: maxRssMB(),
  };
}

/** The waldofied course dirs of a benchmark SQL dir: [course id, dump dir]. */
function benchCourseDirs(sqlDir: string, date: string): Array<[string, string]> {
  return fs.readdirSync(sqlDir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort().map((d) => [d.split('-').join('/'), path.join(sqlDir, d, date)] as [string, string]);
}

/** The floor of setup-sql: DuckDB's own read_csv of each gzipped CSV into a table, nothing else. */
async function setupsqlFloor(sqlDir: string, date: string, whFile: string) {
  fs.rmSync(whFile, { force: true });
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const { DUCKDB_CSV_OPTIONS } = await import('../src/dump/tsv.ts');
  const inst = await DuckDBInstance.create(whFile);
  const conn = await inst.connect();
  const started = performance.now();
  const perTable: Record<string, { seconds: number; rows: number }> = {};
  let k = 0;
  for (const [, dir] of benchCourseDirs(sqlDir, date)) {
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.csv.gz')).sort()) {
      const t0 = performance.now();
      await conn.run(`CREATE TABLE t${k++} AS SELECT * FROM read_csv('${path.join(dir, f).replace(/'/g, "''")}', ${DUCKDB_CSV_OPTIONS})`);
      const table = f.replace('.csv.gz', '');
      const e = (perTable[table] ??= { seconds: 0, rows: 0 });
      e.seconds += (performance.now() - t0) / 1000;
    }
  }
  await conn.run('CHECKPOINT');
  const seconds = (performance.now() - started) / 1000;
  conn.closeSync();
  inst.closeSync();
  return { seconds, perTable, maxRssMB: maxRssMB() };
}

/** setup-sql's loader (loadDump) on every course dir: raw tables, studentmodule, user_info_combo, roles. */
async function setupsql(sqlDir: string, date: string, whFile: string) {
  fs.rmSync(whFile, { force: true });
  const { loadDump } = await import('../src/dump/setupSql.ts');
  const wh = await openDuckDBWarehouse(whFile);
  const started = performance.now();
  const perTable: Record<string, { seconds: number; rows: number }> = {};
  for (const [course, dir] of benchCourseDirs(sqlDir, date)) {
    const s = await loadDump(wh, course, dir, 'bench');
    for (const [t, n] of Object.entries(s.rows)) {
      const e = (perTable[t] ??= { seconds: 0, rows: 0 });
      e.rows += n;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  // per-table time from the provenance records (each step's own duration)
  const prov = await wh.query(`SELECT table_name, sum(duration_ms) FROM main._edx2bq WHERE command = 'bench' GROUP BY 1`);
  for (const [t, ms] of prov.rows) if (perTable[String(t)]) perTable[String(t)]!.seconds = Number(ms) / 1000;
  await wh.close();
  return { seconds, perTable, maxRssMB: maxRssMB() };
}

/** Single-thread comparison of parsing strategies on the same lines. */
async function parsers(file: string, mb: number) {
  const text = zlib.gunzipSync(fs.readFileSync(file));
  const cut = text.lastIndexOf(10, mb * 1024 * 1024);
  const buf = text.subarray(0, cut + 1);
  const lines: string[] = [];
  forEachLine(buf, (s, e) => lines.push(buf.toString('utf8', s, e)));
  const mbTotal = buf.length / 1e6;
  const timeIt = (name: string, fn: (l: string) => unknown) => {
    for (let k = 0; k < Math.min(2000, lines.length); k++) fn(lines[k]!); // warm up
    const t = performance.now();
    let n = 0;
    for (const l of lines) if (fn(l) !== null) n++;
    const s = (performance.now() - t) / 1000;
    return { name, seconds: s, eventsPerSecond: Math.round(lines.length / s), mbPerSecond: Math.round(mbTotal / s), ok: n };
  };
  const jsonParse = (l: string) => {
    try {
      const o = JSON.parse(l);
      return o && (o.context?.course_id ?? o.username);
    } catch {
      return null;
    }
  };
  const results = [timeIt('JSON.parse per line', jsonParse), timeIt('hand-written field scanner', (l) => {
    try {
      return scanFields(l);
    } catch {
      return null;
    }
  })];
  // the scanner must agree with JSON.parse on the fields it extracts
  let mismatches = 0;
  for (const l of lines) {
    let o: Record<string, unknown> | null = null;
    try {
      o = JSON.parse(l);
    } catch {
      continue;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) continue; // the scanner reads objects only
    const f = scanFields(l);
    const ctx = (o?.context ?? {}) as Record<string, unknown>;
    if (!f || f.username !== o?.username || f.event_type !== o?.event_type || f.time !== o?.time || f.course_id !== ctx.course_id) mismatches++;
  }
  return { mb: mbTotal, lines: lines.length, results, scannerMismatches: mismatches, maxRssMB: maxRssMB() };
}

/**
 * The `simdjson` package on the same lines, in a process of its own: its addon leaks (RSS grows
 * by GBs) and has crashed with SIGSEGV here, which must not take the other figures down.
 */
async function simdjsonScenario(file: string, mb: number) {
  // load the native addon itself: the package's entry silently falls back to the global JSON
  // when the addon did not build, which would measure JSON.parse under simdjson's name
  const require = createRequire(import.meta.url);
  const sj = require('simdjson/build/Release/simdjson.node') as { parse: (s: string) => unknown };
  const text = zlib.gunzipSync(fs.readFileSync(file));
  const buf = text.subarray(0, text.lastIndexOf(10, mb * 1024 * 1024) + 1);
  const lines: string[] = [];
  forEachLine(buf, (s, e) => lines.push(buf.toString('utf8', s, e)));
  const t = performance.now();
  for (const l of lines) {
    try {
      sj.parse(l);
    } catch {
      // not JSON
    }
  }
  const seconds = (performance.now() - t) / 1000;
  return { name: 'simdjson package', seconds, eventsPerSecond: Math.round(lines.length / seconds), mbPerSecond: Math.round(buf.length / 1e6 / seconds), lines: lines.length, maxRssMB: maxRssMB() };
}

const [name, ...args] = process.argv.slice(2);
let out: unknown;
if (name === 'floor') out = await floor(args[0]!, Number(args[1]), Number(args[2]));
else if (name === 'split') out = await split(args[0]!, Number(args[1]), Number(args[2]), args[3]!);
else if (name === 'persondayNoSplit') out = await personDay(args[0]!, Number(args[1]), Number(args[2]), args[3]!, false);
else if (name === 'persondaySplit') out = await personDay(args[0]!, Number(args[1]), Number(args[2]), args[3]!, true);
else if (name === 'setupsqlFloor') out = await setupsqlFloor(args[0]!, args[1]!, args[2]!);
else if (name === 'setupsql') out = await setupsql(args[0]!, args[1]!, args[2]!);
else if (name === 'parsers') out = await parsers(args[0]!, Number(args[1]));
else if (name === 'simdjson') out = await simdjsonScenario(args[0]!, Number(args[1]));
else throw new Error(`unknown scenario ${name}`);
process.stdout.write(JSON.stringify(out) + '\n');
