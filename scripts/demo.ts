/**
 * `npm run demo`: the whole chain on generated sample data: tracking logs → person-day (split by
 * course and the per-learner tables in one pass, into a DuckDB warehouse); the weekly dump →
 * waldofy → setup-sql → axis; then person-course, combinepc and report.
 *   DEMO_DIR  where to put it (default ./demo-data)
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateLogs } from './generate-logs.ts';
import { formatSummary } from '../src/commands/split.ts';
import { defaultWorkerCount } from '../src/logs/pool.ts';
import { startProgress } from '../src/logs/progress.ts';
import { newProgress, splitLogs } from '../src/logs/split.ts';
import { formatLoad } from '../src/commands/personDay.ts';
import { formatTable } from '../src/commands/resultFormat.ts';
import { loadFacts } from '../src/aggregate/loadFacts.ts';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { courseSchema } from '../src/warehouse/naming.ts';
import { waldofy } from '../src/dump/waldofy.ts';
import { chooseCourseSqlDir } from '../src/dump/sqlDirs.ts';
import { loadDump } from '../src/dump/setupSql.ts';
import { findAxisSource } from '../src/axis/sources.ts';
import { loadAxis } from '../src/axis/tables.ts';
import { buildPersonCourse } from '../src/products/personCourse.ts';
import { buildReport, combinePersonCourse } from '../src/products/combine.ts';
import { createGlobalModalIp } from '../src/geo/modalIp.ts';
import { openGeoLookup } from '../src/geo/lookup.ts';
import { gunzipSync } from 'node:zlib';

const root = path.resolve(process.env.DEMO_DIR ?? 'demo-data');
const raw = path.join(root, 'raw-logs');
const logsDir = path.join(root, 'TRACKING_LOGS');
const warehouse = path.join(root, 'warehouse.duckdb');
const sqlDir = path.join(root, 'SQL');
fs.rmSync(root, { recursive: true, force: true });

console.log(`1. generating sample tracking logs in ${raw} …`);
const truth = await generateLogs({ out: raw, courses: 6, learners: 2000, days: 3, seed: 1, malformedRate: 0.002, dump: true });
const files = Object.entries(truth.files);
console.log(`   ${files.length} daily files, ${files.reduce((a, [, f]) => a + f.lines, 0).toLocaleString('en-US')} lines (${files.reduce((a, [, f]) => a + f.rejects, 0)} deliberately malformed)\n`);

const rel = (p: string) => path.relative(process.cwd(), p);
console.log(`2. edx2bq person-day ${rel(raw)} --logs-dir ${rel(logsDir)} --warehouse ${rel(warehouse)}`);
const progress = newProgress();
const stop = startProgress(progress, { tty: Boolean(process.stderr.isTTY) && !process.env.CI, intervalMs: 2000 });
const summary = await splitLogs([raw], { logsDir, workers: defaultWorkerCount(), chunkSize: 1 << 20, gzipLevel: 1, force: false, collectFacts: true }, progress);
stop();
console.log(formatSummary(summary));
const wh = await openDuckDBWarehouse(warehouse);
const load = await loadFacts({ logsDir, warehouse: wh, command: 'person-day' });
console.log(formatLoad(load, warehouse));

const expected = files.reduce((a, [, f]) => a + f.events, 0);
console.log(`\n   generator truth: ${expected.toLocaleString('en-US')} events → split wrote ${summary.events.toLocaleString('en-US')} ${expected === summary.events ? '(equal)' : '(DIFFERENT!)'}`);
const someCourse = fs.readdirSync(logsDir).find((d) => !d.startsWith('_') && d !== 'META')!;
const someFile = path.join(logsDir, someCourse, fs.readdirSync(path.join(logsDir, someCourse))[0]!);
const first = gunzipSync(fs.readFileSync(someFile)).toString('utf8').split('\n')[0]!;
console.log(`\n3. one rewritten event from ${path.relative(process.cwd(), someFile)}:\n${JSON.stringify(JSON.parse(first), null, 2).split('\n').slice(0, 40).join('\n')}`);
const busiest = Object.entries(summary.perCourse).sort((a, b) => b[1] - a[1])[0]![0];
const pcdaySql = `SELECT username, date, nevents, nvideo, nproblem_check, nforum, first_event, last_event, round(avg_dt, 1) AS avg_dt, n_dt FROM ${courseSchema(busiest)}.person_course_day ORDER BY nevents DESC LIMIT 5`;
console.log(`\n4. edx2bq query "${pcdaySql}"`);
const top = await wh.query(pcdaySql);
process.stdout.write(formatTable(top.columns, top.rows, { maxWidth: 30 }));

const dumpDir = path.join(raw, truth.dump!.dir);
console.log(`\n5. edx2bq waldofy ${rel(dumpDir)} --sql-dir ${rel(sqlDir)}`);
const w = await waldofy([dumpDir], { sqlDir, courses: [], gzipLevel: 1, log: () => undefined });
console.log(`   ${w.files.written} files written (${w.rows.toLocaleString('en-US')} rows, ${w.rejects} rejects) for ${truth.courses.length} courses in ${w.seconds.toFixed(1)} s`);
console.log(`\n6. edx2bq setup-sql --sql-dir ${rel(sqlDir)}; edx2bq axis`);
const report: string[][] = [['course', 'user_info_combo', 'verified', 'certified', 'staff', 'studentmodule', 'forum', 'course_axis', 'videos', 'problems']];
for (const c of truth.courses) {
  const d = await loadDump(wh, c.slashId, (await chooseCourseSqlDir(sqlDir, c.slashId)).dir, 'setup-sql');
  const a = await loadAxis(wh, c.slashId, (await findAxisSource(sqlDir, c.slashId)).source, 'axis');
  const s = courseSchema(c.slashId);
  const n = async (sql: string) => String((await wh.query(sql)).rows[0]![0]);
  report.push([
    c.slashId, String(d.rows.user_info_combo ?? 0),
    await n(`SELECT count(*) FROM ${s}.user_info_combo WHERE enrollment_mode = 'verified'`),
    await n(`SELECT count(*) FROM ${s}.user_info_combo WHERE certificate_status = 'downloadable'`),
    await n(`SELECT count(*) FROM ${s}.roles WHERE roles = 'Staff'`),
    String(d.rows.studentmodule ?? 0), String(d.rows.forum ?? 0), String(a.courseAxisRows),
    await n(`SELECT count(*) FROM ${s}.course_axis WHERE category = 'video'`),
    await n(`SELECT count(*) FROM ${s}.course_axis WHERE category = 'problem'`),
  ]);
}
const widths = report[0]!.map((_, i) => Math.max(...report.map((r) => r[i]!.length)));
for (const r of report) console.log('   ' + r.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  '));

const exportDir = path.join(root, 'export');
console.log(`\n7. edx2bq person-course; edx2bq combinepc --out ${rel(exportDir)}; edx2bq report`);
const geo = await openGeoLookup();
await createGlobalModalIp(wh, truth.courses.map((c) => courseSchema(c.slashId)), { command: 'person-course' });
for (const c of truth.courses) await buildPersonCourse(wh, c.slashId, { command: 'person-course', geo });
const combined = await combinePersonCourse(wh, truth.courses.map((c) => c.slashId), { out: exportDir });
console.log(`   courses.person_course: ${combined.rows.toLocaleString('en-US')} rows (82 columns) from ${combined.courses.length} courses; ${combined.files.map((f) => rel(f.file)).join(', ')}\n`);
const rep = await buildReport(wh, { out: exportDir });
process.stdout.write(formatTable(rep.result.columns, rep.result.rows, { maxWidth: 30 }).trimEnd().replace(/^/gm, '   ') + '\n');
console.log(`   (the whole of spec §8.2's broad_stats_by_course: ${rel(rep.file.file)})`);
await wh.close();
console.log(`\nFiles: ${logsDir}/<course>/tracklog-YYYY-MM-DD.json.gz, rejects in ${logsDir}/_rejects/, markers in ${logsDir}/META/`);
console.log(`Course SQL dirs: ${sqlDir}/<ORG-NUM-RUN>/${truth.dump!.date}/`);
console.log(`Warehouse: ${warehouse} (try: npx edx2bq tables --warehouse ${rel(warehouse)})`);
if (expected !== summary.events) process.exitCode = 1;
