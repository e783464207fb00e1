/**
 * One benchmark scenario, run in its own process so its peak RSS is its own:
 *   node bench/scenario.ts floor   <input dir> <workers> <chunkMB>
 *   node bench/scenario.ts split   <input dir> <workers> <chunkMB> <logs dir>
 *   node bench/scenario.ts persondayNoSplit <input dir> <workers> <chunkMB> <logs dir>   (the pass + the load)
 *   node bench/scenario.ts persondaySplit   <input dir> <workers> <chunkMB> <logs dir>
 *   node bench/scenario.ts setupsqlFloor <sql dir> <date> <warehouse file>   (DuckDB's read_csv of every file)
 *   node bench/scenario.ts setupsql      <sql dir> <date> <warehouse file>   (setup-sql's loader)
 *   node bench/scenario.ts personcourse  <sql dir> <date> <warehouse file>   (person-course + combinepc + report)
 *   node bench/scenario.ts endtoend      <generated dir (logs + dump)> <work dir>   (a new day: person-day + person-course)
 *   node bench/scenario.ts parsers <input file> <MB of lines>
 *   node bench/scenario.ts simdjson <input file> <MB of lines>
 * Prints one JSON object on stdout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { readLineChunks } from '../src/logs/chunkReader.ts';
import { discoverInputs } from '../src/logs/inputs.ts';
import { createLogPool, createLogRings, destroyLogPool } from '../src/logs/pool.ts';
import { splitLogs } from '../src/logs/split.ts';
import { forEachLine } from '../src/logs/lines.ts';
import { scanFields } from './fieldScanner.ts';
import { scanCoreBytes } from '../src/events/fastCore.ts';
import { coreAt, nativeScanAvailable, scanChunkNative } from '../src/events/nativeScan.ts';

function maxRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** gunzip + JSON.parse of every line on the pool, with split's reader, chunking and in-flight bound. */
async function floor(dir: string, workers: number, chunkMB: number) {
  const inputs = await discoverInputs([dir]);
  const rings = createLogRings(workers, chunkMB * 1024 * 1024, 0);
  const ring = rings.chunks;
  const pool = createLogPool(workers, rings);
  const started = performance.now();
  let lines = 0;
  let objects = 0;
  const progress = { bytesRead: 0, textBytes: 0 };
  const tasks: Array<Promise<void>> = [];
  for (const input of inputs) {
    for await (const { slot, bytes } of readLineChunks(input.path, input.gzip, ring, progress)) {
      // in flight as split's chunks are: each holds a result buffer (unused here)
      const resultSlot = await rings.results.acquire();
      const task = slot >= 0 ? pool.run({ slot, length: bytes.length }, { name: 'parse' }) : pool.run({ chunk: bytes }, { name: 'parse', transferList: [bytes.buffer as ArrayBuffer] });
      tasks.push(
        (task as Promise<{ lines: number; objects: number }>).then((r) => {
          lines += r.lines;
          objects += r.objects;
          if (slot >= 0) ring.release(slot);
          rings.results.release(resultSlot);
        }),
      );
    }
  }
  await Promise.all(tasks);
  const seconds = (performance.now() - started) / 1000;
  await destroyLogPool(pool);
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
  // loaded after the pass, as person-day does (the DuckDB API in the main thread's heap makes V8
  // collect garbage ~4× as often during the pass: src/warehouse/probe.ts)
  const { openDuckDBWarehouse } = await import('../src/warehouse/duckdb.ts');
  const { loadFacts } = await import('../src/aggregate/loadFacts.ts');
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
  const { openDuckDBWarehouse } = await import('../src/warehouse/duckdb.ts');
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

/**
 * person-course, combinepc and report for every course of the setup-sql dump, with log aggregates
 * made up in SQL for every learner (3 active days, 1–3 IPs each, transcript and video rows), a
 * 12-chapter course axis and a grading policy. Only the person-course steps are timed.
 */
async function personcourse(sqlDir: string, date: string, whFile: string) {
  fs.rmSync(whFile, { force: true });
  const { loadDump } = await import('../src/dump/setupSql.ts');
  const { buildPersonCourses } = await import('../src/products/personCourse.ts');
  const { combinePersonCourse, buildReport } = await import('../src/products/combine.ts');
  const { createGlobalModalIp } = await import('../src/geo/modalIp.ts');
  const { openGeoLookup } = await import('../src/geo/lookup.ts');
  const { courseSchema } = await import('../src/warehouse/naming.ts');
  const { openDuckDBWarehouse } = await import('../src/warehouse/duckdb.ts');
  const wh = await openDuckDBWarehouse(whFile);
  const courses = benchCourseDirs(sqlDir, date);
  for (const [course, dir] of courses) {
    await loadDump(wh, course, dir, 'bench');
    const s = courseSchema(course);
    const u = `(SELECT TRY_CAST(id AS BIGINT) AS id, username FROM ${s}.users)`;
    await wh.query(`
      CREATE TABLE ${s}.person_course_day AS SELECT username, DATE '2015-03-01' + (id % 7 + d)::INTEGER AS date,
        (5 + (id * 7 + d) % 60)::BIGINT AS nevents, (id % 2)::BIGINT AS nprogcheck, (id % 3)::BIGINT AS nshow_answer, (id % 9)::BIGINT AS nvideo,
        (id % 4)::BIGINT AS nproblem_check, (id % 5)::BIGINT AS nforum, (id % 2)::BIGINT AS ntranscript, (id % 6)::BIGINT AS nseq_goto,
        (id % 3)::BIGINT AS nseek_video, (id % 4)::BIGINT AS npause_video, (4 + id % 40)::BIGINT AS n_dt, (40.0 + id % 400)::DOUBLE AS sum_dt,
        (1000.0 + id % 9000)::DOUBLE AS sumsq_dt, (30.0 + id % 200)::DOUBLE AS max_dt,
        TIMESTAMP '2015-03-01 08:00:00' + INTERVAL (id % 7 + d) DAY AS first_event, TIMESTAMP '2015-03-01 09:00:00' + INTERVAL (id % 7 + d) DAY AS last_event
      FROM ${u}, range(3) t(d);
      CREATE TABLE ${s}.pcday_ip_counts AS SELECT username, concat(1 + (id * 13 + k) % 223, '.', (id * 7) % 256, '.', (id // 256) % 256, '.', 1 + (id + k) % 250) AS ip,
        DATE '2015-03-01' + k::INTEGER AS date, (1 + (id + k) % 9)::BIGINT AS ipcount, '${course}' AS course_id FROM ${u}, range(1 + id % 3) t(k);
      CREATE TABLE ${s}.pcday_trlang_counts AS SELECT username, CASE WHEN id % 4 = 0 THEN 'es' ELSE 'en' END AS resource_event_data,
        'transcript_language' AS resource_event_type, (1 + id % 3)::BIGINT AS langcount, TIMESTAMP '2015-03-02 10:00:00' AS last_time FROM ${u} WHERE id % 5 = 0;
      CREATE TABLE ${s}.video_stats_day AS SELECT username, concat('v', (id + k) % 30) AS video_id FROM ${u}, range(1 + id % 4) t(k);
      CREATE TABLE ${s}.course_axis AS SELECT * FROM (VALUES ('chapter'), ('chapter'), ('chapter'), ('chapter'), ('chapter'), ('chapter'),
        ('chapter'), ('chapter'), ('chapter'), ('chapter'), ('chapter'), ('chapter'), ('video')) v(category);
      CREATE TABLE ${s}.grading_policy AS SELECT 'Homework' AS assignment_type, 0.5 AS overall_cutoff_for_pass;`);
  }
  const geo = await openGeoLookup();
  const started = performance.now();
  await createGlobalModalIp(wh, courses.map(([c]) => courseSchema(c)), { command: 'bench' });
  let learners = 0;
  let ips = 0;
  let lookupSeconds = 0;
  const phases: Record<string, number> = {};
  for (const r of await buildPersonCourses(wh, courses.map(([c]) => c), { command: 'bench', geo })) {
    if (r instanceof Error) throw r;
    for (const [k, v] of Object.entries(r.phases)) phases[k] = (phases[k] ?? 0) + v;
    learners += r.rows;
    ips += r.geo?.distinctIps ?? 0;
    lookupSeconds += r.geo?.lookupSeconds ?? 0;
  }
  const pcSeconds = (performance.now() - started) / 1000;
  const out = path.join(path.dirname(whFile), 'pc-export');
  const combined = await combinePersonCourse(wh, courses.map(([c]) => c), { out, command: 'bench' });
  const combineSeconds = (performance.now() - started) / 1000 - pcSeconds;
  const exportSeconds = combined.files.map((f) => `${f.format} ${(f.durationMs / 1000).toFixed(1)} s`).join(', ');
  await buildReport(wh, { out, command: 'bench' });
  const seconds = (performance.now() - started) / 1000;
  await wh.close();
  fs.rmSync(out, { recursive: true, force: true });
  return { seconds, pcSeconds, combineSeconds, exportSeconds, reportSeconds: seconds - pcSeconds - combineSeconds, phases, learners, combinedRows: combined.rows, ips, lookupsPerSecond: ips / Math.max(lookupSeconds, 1e-9), maxRssMB: maxRssMB() };
}

/**
 * End to end: the dump of the generated courses is loaded first (waldofy, setup-sql, axis: not
 * timed); then one day of raw logs goes through person-day (--no-split) and person-course for
 * every course, which is what a daily run does. Timed from the raw .gz to refreshed person_course.
 */
async function endtoend(genDir: string, work: string) {
  fs.rmSync(work, { recursive: true, force: true });
  const { waldofy } = await import('../src/dump/waldofy.ts');
  const { loadDump } = await import('../src/dump/setupSql.ts');
  const { chooseCourseSqlDir } = await import('../src/dump/sqlDirs.ts');
  const { findAxisSource } = await import('../src/axis/sources.ts');
  const { loadAxis } = await import('../src/axis/tables.ts');
  const { buildPersonCourses } = await import('../src/products/personCourse.ts');
  const { createGlobalModalIp } = await import('../src/geo/modalIp.ts');
  const { openGeoLookup } = await import('../src/geo/lookup.ts');
  const { courseSchema } = await import('../src/warehouse/naming.ts');
  const { openDuckDBWarehouse } = await import('../src/warehouse/duckdb.ts');
  const { loadFacts } = await import('../src/aggregate/loadFacts.ts');
  const truth = JSON.parse(fs.readFileSync(path.join(genDir, 'truth.json'), 'utf8')) as { dump: { dir: string }; courses: { slashId: string }[] };
  const sqlDir = path.join(work, 'sql');
  await waldofy([path.join(genDir, truth.dump.dir)], { sqlDir, courses: [], gzipLevel: 1, log: () => undefined });
  const wh = await openDuckDBWarehouse(path.join(work, 'wh.duckdb'));
  const courses = truth.courses.map((c) => c.slashId);
  for (const c of courses) {
    await loadDump(wh, c, (await chooseCourseSqlDir(sqlDir, c)).dir, 'bench');
    await loadAxis(wh, c, (await findAxisSource(sqlDir, c)).source, 'bench');
  }
  const geo = await openGeoLookup();
  const logs = fs.readdirSync(genDir).filter((n) => n.endsWith('.log.gz')).map((n) => path.join(genDir, n));
  const started = performance.now();
  const s = await splitLogs(logs, { logsDir: path.join(work, 'logs'), workers: os.availableParallelism(), chunkSize: 1 << 20, gzipLevel: 1, force: true, writeLogs: false, collectFacts: true });
  const passSeconds = (performance.now() - started) / 1000;
  const load = await loadFacts({ logsDir: path.join(work, 'logs'), warehouse: wh, command: 'bench' });
  const personDaySeconds = (performance.now() - started) / 1000;
  await createGlobalModalIp(wh, courses.map((c) => courseSchema(c)), { command: 'bench' });
  let learners = 0;
  for (const r of await buildPersonCourses(wh, courses, { command: 'bench', geo })) {
    if (r instanceof Error) throw r;
    learners += r.rows;
  }
  const seconds = (performance.now() - started) / 1000;
  await wh.close();
  fs.rmSync(work, { recursive: true, force: true });
  return { seconds, passSeconds, personDaySeconds, events: s.events, rowsLoaded: load.rowsLoaded, learners, courses: courses.length, maxRssMB: maxRssMB() };
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
  // the --no-split fast path's validating scanners, on the bytes (as the pass runs them): the
  // JavaScript one per line, the native one per 1 MB chunk; both make the fields' strings
  const chunks: Buffer[] = [];
  for (let s = 0; s < buf.length; ) {
    let e = Math.min(buf.length, s + (1 << 20));
    if (e < buf.length) e = buf.indexOf(10, e) + 1 || buf.length;
    chunks.push(buf.subarray(s, e));
    s = e;
  }
  const timeChunks = (name: string, fn: (c: Buffer) => number) => {
    fn(chunks[0]!); // warm up
    const t = performance.now();
    let n = 0;
    for (const c of chunks) n += fn(c);
    const s = (performance.now() - t) / 1000;
    return { name, seconds: s, eventsPerSecond: Math.round(lines.length / s), mbPerSecond: Math.round(mbTotal / s), ok: n };
  };
  results.push(timeChunks('validating scanner, JavaScript (fastCore.ts, per line)', (c) => {
    let n = 0;
    forEachLine(c, (s, e) => {
      if (scanCoreBytes(c, s, e) !== null) n++;
    });
    return n;
  }));
  if (nativeScanAvailable()) {
    results.push(timeChunks('validating scanner, native (fastscan.cc, per 1 MB chunk)', (c) => {
      const scan = scanChunkNative(c)!;
      let n = 0;
      for (let i = 0; i < scan.lines; i++) if (coreAt(scan, i, c) !== null) n++;
      return n;
    }));
  }
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
else if (name === 'personcourse') out = await personcourse(args[0]!, args[1]!, args[2]!);
else if (name === 'endtoend') out = await endtoend(args[0]!, args[1]!);
else if (name === 'parsers') out = await parsers(args[0]!, Number(args[1]));
else if (name === 'simdjson') out = await simdjsonScenario(args[0]!, Number(args[1]));
else throw new Error(`unknown scenario ${name}`);
process.stdout.write(JSON.stringify(out) + '\n');
