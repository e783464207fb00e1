/**
 * `npm run bench`: the log engine's figures, each as a ratio against a reference measured in the
 * same run (these machines are noisy), plus peak RSS. Every scenario runs in its own process; the
 * scenarios compared with each other run BENCH_ROUNDS times (default 3) in alternation, and the
 * fastest run of each is used.
 *   BENCH_EVENTS      events of the main generated day (default 1,000,000)
 *   BENCH_BIG_EVENTS  events of the memory-check day (default 4,000,000; 0 skips it)
 *   BENCH_DATA        where generated data is cached (default ./bench-data)
 *   BENCH_ROUNDS      alternating runs of floor, split, --no-split and split + aggregates (default 3;
 *                     2 were too few on a machine whose speed swings by 20–40% between runs)
 *   BENCH_DUMP_COURSES, BENCH_DUMP_ENROLLMENTS, BENCH_DUMP_STUDENTMODULE
 *                     the setup-sql dump: courses, enrollments per course, studentmodule rows per
 *                     course (default 20, 50,000, 500,000: 1M enrollments, 10M studentmodule rows;
 *                     BENCH_DUMP_COURSES=0 skips it)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateLogs } from '../scripts/generate-logs.ts';
import { writeDumpBenchData } from './dumpData.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BIG = Number(process.env.BENCH_BIG_EVENTS ?? 4_000_000);
const DATA = path.resolve(process.env.BENCH_DATA ?? 'bench-data');
const CORES = os.availableParallelism();
const CHUNK_MB = 1;

async function ensureDay(events: number, learners: number): Promise<string> {
  const dir = path.join(DATA, `day-${events}`);
  if (fs.existsSync(path.join(dir, 'truth.json'))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`generating ${events.toLocaleString('en-US')} events into ${dir} …\n`);
  await generateLogs({ out: dir, courses: 20, learners, days: 1, eventsPerDay: events, seed: 7, malformedRate: 0.0005 });
  return dir;
}

interface ScenarioResult {
  seconds: number;
  /** person-day scenarios: the warehouse load after the pass. */
  loadSeconds?: number;
  rowsLoaded?: number;
  computeSeconds?: number;
  appendSeconds?: number;
  derivedSeconds?: number;
  factsSeconds?: number;
  lines: number;
  events: number;
  rejects: number;
  bytesIn: number;
  textBytes: number;
  bytesOut: number;
  maxRssMB: number;
}

function scenario(...args: string[]): ScenarioResult {
  return scenarioWith({}, ...args);
}

/** A scenario with extra environment variables (EDX2BQ_NATIVE=0: the JavaScript scanner). */
function scenarioWith(env: Record<string, string>, ...args: string[]): ScenarioResult {
  const out = execFileSync(process.execPath, [path.join(import.meta.dirname, 'scenario.ts'), ...args], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26, env: { ...process.env, ...env },
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function logsIn(dir: string): string {
  return path.join(dir, 'in');
}

const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const rows: string[][] = [];
// each figure is also printed as soon as it is measured, so a failing later scenario loses nothing
const row = (...cells: string[]) => {
  rows.push(cells);
  if (rows.length > 1) process.stderr.write(`  ${cells.filter((c) => c !== '').join(' | ')}\n`);
};

const day = await ensureDay(EVENTS, 100_000);
const inputDir = fs.existsSync(logsIn(day)) ? logsIn(day) : day;
const gzFile = fs.readdirSync(inputDir).filter((n) => n.endsWith('.gz')).map((n) => path.join(inputDir, n))[0]!;
const gzBytes = fs.statSync(gzFile).size;
const outDir = path.join(DATA, 'out');

// The ratio figures compare scenarios run minutes apart on a machine whose speed drifts: each of
// the five is run ROUNDS times, in alternation, and the fastest run of each is used.
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const fastest = (runs: ScenarioResult[]): ScenarioResult => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const runs: Record<'floor' | 'split' | 'split1' | 'aggOnly' | 'splitAgg', ScenarioResult[]> = { floor: [], split: [], split1: [], aggOnly: [], splitAgg: [] };
for (let round = 1; round <= ROUNDS; round++) {
  const of = `(round ${round} of ${ROUNDS})`;
  process.stderr.write(`floor (gunzip + JSON.parse, ${CORES} workers) ${of} …\n`);
  runs.floor.push(scenario('floor', inputDir, String(CORES), String(CHUNK_MB)));
  process.stderr.write(`split, all cores ${of} …\n`);
  runs.split.push(scenario('split', inputDir, String(CORES), String(CHUNK_MB), outDir));
  process.stderr.write(`split, 1 worker ${of} …\n`);
  runs.split1.push(scenario('split', inputDir, '1', String(CHUNK_MB), outDir));
  process.stderr.write(`person-day --no-split (aggregates only) ${of} …\n`);
  runs.aggOnly.push(scenario('persondayNoSplit', inputDir, String(CORES), String(CHUNK_MB), outDir));
  process.stderr.write(`person-day (split + aggregates in one pass) ${of} …\n`);
  runs.splitAgg.push(scenario('persondaySplit', inputDir, String(CORES), String(CHUNK_MB), outDir));
}
const floor = fastest(runs.floor);
const split = fastest(runs.split);
const split1 = fastest(runs.split1);
const aggOnly = fastest(runs.aggOnly);
const splitAgg = fastest(runs.splitAgg);
const spread = (rs: ScenarioResult[]) => rs.map((r) => r.seconds.toFixed(2)).join(' / ');
process.stderr.write('person-day --no-split with the JavaScript scanner (EDX2BQ_NATIVE=0) …\n');
const aggOnlyJs = scenarioWith({ EDX2BQ_NATIVE: '0' }, 'persondayNoSplit', inputDir, String(CORES), String(CHUNK_MB), outDir);
process.stderr.write('parsers (1 thread) …\n');
const parsers = scenario('parsers', gzFile, '128') as unknown as { mb: number; lines: number; results: Array<{ name: string; eventsPerSecond?: number; mbPerSecond?: number; status?: string }>; scannerMismatches: number };

const floorRate = floor.events / floor.seconds;
const splitRate = split.events / split.seconds;
const split1Rate = split1.events / split1.seconds;
const uncompressedMB = split.textBytes / 1e6;

row('figure', 'value', 'ratio', 'target', 'peak RSS');
row('floor: gunzip + JSON.parse, all cores', `${f(floorRate)} ev/s`, '1.00× (reference)', '', `${f(floor.maxRssMB)} MB`);
row(`split, ${CORES} workers`, `${f(splitRate)} ev/s, ${f(uncompressedMB / split.seconds, 1)} MB/s of log text`, `${(splitRate / floorRate).toFixed(2)}× floor`, '≥ 0.50×', `${f(split.maxRssMB)} MB`);
row('split, 1 worker', `${f(split1Rate)} ev/s`, `${(splitRate / split1Rate).toFixed(2)}× scaling (all / 1)`, '≥ 1.70×', `${f(split1.maxRssMB)} MB`);

const aggRate = aggOnly.events / aggOnly.seconds;
row('person-day --no-split: the pass (aggregates only)', `${f(aggRate)} ev/s; main-thread facts writing ${f(aggOnly.factsSeconds ?? 0, 2)} s`, `${(aggRate / floorRate).toFixed(2)}× floor`, '≥ 1.00×', `${f(aggOnly.maxRssMB)} MB`);
const aggJsRate = aggOnlyJs.events / aggOnlyJs.seconds;
row('  the same, JavaScript scanner (EDX2BQ_NATIVE=0)', `${f(aggJsRate)} ev/s; native scanner ${(aggRate / aggJsRate).toFixed(2)}× as fast`, `${(aggJsRate / floorRate).toFixed(2)}× floor`, '', `${f(aggOnlyJs.maxRssMB)} MB`);
row('person-day: split + aggregates in one pass', `${f(splitAgg.events / splitAgg.seconds)} ev/s (${splitAgg.seconds.toFixed(1)} s vs split ${split.seconds.toFixed(1)} s)`, `${(splitAgg.seconds / split.seconds).toFixed(2)}× split's time`, '≤ 1.15×', `${f(splitAgg.maxRssMB)} MB`);
const loadShare = aggOnly.loadSeconds! / (aggOnly.seconds + aggOnly.loadSeconds!);
row(
  'person-day: load into DuckDB (after the --no-split pass)',
  `${f(aggOnly.rowsLoaded!)} rows in ${aggOnly.loadSeconds!.toFixed(2)} s = ${f(aggOnly.rowsLoaded! / aggOnly.loadSeconds!)} rows/s (rows computed ${aggOnly.computeSeconds!.toFixed(2)} s, appended ${aggOnly.appendSeconds!.toFixed(2)} s = ${f(aggOnly.rowsLoaded! / aggOnly.appendSeconds!)} rows/s, derived SQL ${aggOnly.derivedSeconds!.toFixed(2)} s)`,
  `${(loadShare * 100).toFixed(0)}% of pass + load`, '', '',
);

let bigNote = '';
if (BIG > 0) {
  const big = await ensureDay(BIG, 200_000);
  const bigInput = fs.existsSync(logsIn(big)) ? logsIn(big) : big;
  process.stderr.write(`split of the ${f(BIG)}-event day, all cores …\n`);
  const splitBig = scenario('split', bigInput, String(CORES), String(CHUNK_MB), outDir);
  const growth = splitBig.maxRssMB / split.maxRssMB;
  row(`split, ${f(BIG)} events, ${CORES} workers`, `${f(splitBig.events / splitBig.seconds)} ev/s`, `${growth.toFixed(2)}× the RSS of ${f(EVENTS)} events`, '≤ 1.20×, < 1 GB', `${f(splitBig.maxRssMB)} MB`);
  process.stderr.write(`person-day (split + aggregates + load) of the ${f(BIG)}-event day …\n`);
  const pdBig = scenario('persondaySplit', bigInput, String(CORES), String(CHUNK_MB), outDir);
  row(`person-day, ${f(BIG)} events / 200k learners (split + aggregates + load)`, `${(pdBig.seconds + pdBig.loadSeconds!).toFixed(1)} s, ${f(pdBig.rowsLoaded!)} rows`, `${(pdBig.maxRssMB / 1024).toFixed(2)} GB peak`, '< 2 GB', `${f(pdBig.maxRssMB)} MB`);
  bigNote = `big day: ${f(splitBig.events)} events, split ${splitBig.seconds.toFixed(1)} s, person-day ${pdBig.seconds.toFixed(1)} s + load ${pdBig.loadSeconds!.toFixed(1)} s`;
}
fs.rmSync(outDir, { recursive: true, force: true });

const DUMP_COURSES = Number(process.env.BENCH_DUMP_COURSES ?? 20);
if (DUMP_COURSES > 0) {
  const perCourse = Number(process.env.BENCH_DUMP_ENROLLMENTS ?? 50_000);
  const smPerCourse = Number(process.env.BENCH_DUMP_STUDENTMODULE ?? 500_000);
  const sqlDir = path.join(DATA, `dump-${DUMP_COURSES}x${perCourse}x${smPerCourse}`);
  const date = '2015-06-01';
  const rowsFile = path.join(sqlDir, '.rows.json');
  if (!fs.existsSync(rowsFile)) {
    fs.rmSync(sqlDir, { recursive: true, force: true });
    process.stderr.write(`generating a waldofied dump: ${DUMP_COURSES} courses × ${f(perCourse)} enrollments, ${f(DUMP_COURSES * smPerCourse)} studentmodule rows …\n`);
    const r = await writeDumpBenchData({ dir: sqlDir, courses: DUMP_COURSES, enrollmentsPerCourse: perCourse, studentmodulePerCourse: smPerCourse, date });
    fs.writeFileSync(rowsFile, JSON.stringify(r.rows));
  }
  const dumpRows = JSON.parse(fs.readFileSync(rowsFile, 'utf8')) as Record<string, number>;
  const whFile = path.join(DATA, 'dump-bench.duckdb');
  process.stderr.write('setup-sql floor: DuckDB read_csv of every file …\n');
  const ssFloor = scenario('setupsqlFloor', sqlDir, date, whFile) as unknown as { seconds: number; perTable: Record<string, { seconds: number }>; maxRssMB: number };
  process.stderr.write('setup-sql …\n');
  const ss = scenario('setupsql', sqlDir, date, whFile) as unknown as { seconds: number; perTable: Record<string, { seconds: number; rows: number }>; maxRssMB: number };
  fs.rmSync(whFile, { force: true });
  fs.rmSync(`${whFile}.wal`, { force: true });
  const totalRows = Object.values(dumpRows).reduce((a, b) => a + b, 0);
  row(`setup-sql floor: DuckDB read_csv of the ${DUMP_COURSES} courses' CSVs`, `${ssFloor.seconds.toFixed(1)} s, ${f(totalRows / ssFloor.seconds)} rows/s`, '1.00× (reference)', '', `${f(ssFloor.maxRssMB)} MB`);
  row(`setup-sql: ${f(dumpRows.enrollment ?? 0)} enrollments, ${f(dumpRows.studentmodule ?? 0)} studentmodule rows`, `${ss.seconds.toFixed(1)} s`, `${(ss.seconds / ssFloor.seconds).toFixed(2)}× the floor's time`, '≤ 1.50×', `${f(ss.maxRssMB)} MB`);
  const order = ['users', 'profiles', 'enrollment', 'certificates', 'user_id_map', 'roleforum', 'studentmodule', 'user_info_combo', 'roles'];
  const perTable = order.filter((t) => ss.perTable[t]).map((t) => `${t} ${f(ss.perTable[t]!.rows / Math.max(ss.perTable[t]!.seconds, 1e-6))}`);
  row('setup-sql rows/s per table', perTable.join(', '), '', '', '');
  process.stderr.write('person-course + combinepc + report on the same courses …\n');
  const pc = scenario('personcourse', sqlDir, date, whFile) as unknown as { seconds: number; pcSeconds: number; learners: number; ips: number; lookupsPerSecond: number; maxRssMB: number };
  fs.rmSync(whFile, { force: true });
  fs.rmSync(`${whFile}.wal`, { force: true });
  row(`person-course + combinepc + report: ${DUMP_COURSES} courses, ${f(pc.learners)} learners`, `${pc.seconds.toFixed(1)} s (person_course ${pc.pcSeconds.toFixed(1)} s); ${f(pc.ips)} IPs located at ${f(pc.lookupsPerSecond)} lookups/s`, `${(pc.seconds / ssFloor.seconds).toFixed(2)}× the setup-sql floor's time`, '< 60 s', `${f(pc.maxRssMB)} MB`);
}

// end to end: one new day of raw logs with the dump of the same learners already loaded
if (DUMP_COURSES > 0) {
  const e2eDir = path.join(DATA, 'e2e-1000000');
  if (!fs.existsSync(path.join(e2eDir, 'truth.json'))) {
    fs.rmSync(e2eDir, { recursive: true, force: true });
    process.stderr.write(`generating a 1,000,000-event day with the weekly dump of its 20 courses into ${e2eDir} …\n`);
    await generateLogs({ out: e2eDir, courses: 20, learners: 50_000, days: 1, eventsPerDay: 1_000_000, seed: 9, malformedRate: 0.0005, dump: true });
  }
  process.stderr.write('end to end: the raw day through person-day and person-course …\n');
  const e2e = scenario('endtoend', e2eDir, path.join(DATA, 'e2e-work')) as unknown as { seconds: number; passSeconds: number; personDaySeconds: number; events: number; learners: number; courses: number; maxRssMB: number };
  row(
    `end to end: ${f(e2e.events)} new events → person_course of ${e2e.courses} courses`,
    `${e2e.seconds.toFixed(1)} s (pass ${e2e.passSeconds.toFixed(1)} s, load ${(e2e.personDaySeconds - e2e.passSeconds).toFixed(1)} s, person_course of ${f(e2e.learners)} learners ${(e2e.seconds - e2e.personDaySeconds).toFixed(1)} s)`,
    `${(e2e.seconds / ((floor.seconds * e2e.events) / floor.events)).toFixed(1)}× the floor's time for as many events`, '< 30 s', `${f(e2e.maxRssMB)} MB`,
  );
}

process.stderr.write('simdjson (1 thread, own process) …\n');
try {
  const sj = scenario('simdjson', gzFile, '32') as unknown as { name: string; eventsPerSecond: number; mbPerSecond: number; maxRssMB: number };
  parsers.results.push({ ...sj, name: `${sj.name} (32 MB; peak RSS ${f(sj.maxRssMB)} MB)` });
} catch (e) {
  const why = (e as { signal?: string }).signal ?? 'did not load';
  parsers.results.push({ name: 'simdjson package', status: `failed (${why}); see docs/benchmarks.md` });
}
const json = parsers.results.find((r) => r.name.startsWith('JSON.parse'))!;
for (const r of parsers.results) {
  if (r.eventsPerSecond === undefined) row(`parser: ${r.name} (1 thread)`, r.status ?? 'n/a', '', '', '');
  else row(`parser: ${r.name} (1 thread)`, `${f(r.eventsPerSecond)} ev/s, ${f(r.mbPerSecond ?? 0)} MB/s`, `${(r.eventsPerSecond / json.eventsPerSecond!).toFixed(2)}× JSON.parse`, '', '');
}

const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(`\nedx2bq bench — ${os.cpus()[0]?.model ?? 'cpu'} × ${CORES}, Node ${process.version}`);
console.log(`input: ${f(split.events)} events + ${f(split.rejects)} rejects, ${f(gzBytes / 1e6, 1)} MB gzipped, ${f(uncompressedMB, 1)} MB read; split output ${f(split.bytesOut / 1e6, 1)} MB; ${bigNote}`);
console.log(`parser comparison on ${f(parsers.mb, 1)} MB / ${f(parsers.lines)} lines; field scanner disagreed with JSON.parse on ${parsers.scannerMismatches} lines`);
console.log(
  `fastest of ${ROUNDS} alternating runs, in seconds: floor ${spread(runs.floor)}; split ${spread(runs.split)}; split 1 worker ${spread(runs.split1)}; ` +
    `--no-split ${spread(runs.aggOnly)}; split + aggregates ${spread(runs.splitAgg)}\n`,
);
console.log(line(rows[0]!));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows.slice(1)) console.log(line(r));
fs.writeFileSync(path.join(DATA, 'bench-results.json'), JSON.stringify({ when: new Date().toISOString(), floor, split, split1, aggOnly, aggOnlyJs, splitAgg, parsers }, null, 2));
