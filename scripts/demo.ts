/**
 * `npm run demo`: generates a small sample of tracking logs and runs `split` on it, showing
 * what a user gets. Grows with the project (warehouse, dump, person_course come next).
 *   DEMO_DIR  where to put it (default ./demo-data)
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateLogs } from './generate-logs.ts';
import { formatSummary } from '../src/commands/split.ts';
import { defaultWorkerCount } from '../src/logs/pool.ts';
import { startProgress } from '../src/logs/progress.ts';
import { newProgress, splitLogs } from '../src/logs/split.ts';
import { gunzipSync } from 'node:zlib';

const root = path.resolve(process.env.DEMO_DIR ?? 'demo-data');
const raw = path.join(root, 'raw-logs');
const logsDir = path.join(root, 'TRACKING_LOGS');
fs.rmSync(root, { recursive: true, force: true });

console.log(`1. generating sample tracking logs in ${raw} …`);
const truth = await generateLogs({ out: raw, courses: 6, learners: 2000, days: 3, seed: 1, malformedRate: 0.002 });
const files = Object.entries(truth.files);
console.log(`   ${files.length} daily files, ${files.reduce((a, [, f]) => a + f.lines, 0).toLocaleString('en-US')} lines (${files.reduce((a, [, f]) => a + f.rejects, 0)} deliberately malformed)\n`);

console.log(`2. edx2bq split ${path.relative(process.cwd(), raw)} --logs-dir ${path.relative(process.cwd(), logsDir)}`);
const progress = newProgress();
const stop = startProgress(progress, { tty: Boolean(process.stderr.isTTY) && !process.env.CI, intervalMs: 2000 });
const summary = await splitLogs([raw], { logsDir, workers: defaultWorkerCount(), chunkSize: 1 << 20, gzipLevel: 1, force: false }, progress);
stop();
console.log(formatSummary(summary));

const expected = files.reduce((a, [, f]) => a + f.events, 0);
console.log(`\n   generator truth: ${expected.toLocaleString('en-US')} events → split wrote ${summary.events.toLocaleString('en-US')} ${expected === summary.events ? '(equal)' : '(DIFFERENT!)'}`);
const someCourse = fs.readdirSync(logsDir).find((d) => !d.startsWith('_') && d !== 'META')!;
const someFile = path.join(logsDir, someCourse, fs.readdirSync(path.join(logsDir, someCourse))[0]!);
const first = gunzipSync(fs.readFileSync(someFile)).toString('utf8').split('\n')[0]!;
console.log(`\n3. one rewritten event from ${path.relative(process.cwd(), someFile)}:\n${JSON.stringify(JSON.parse(first), null, 2).split('\n').slice(0, 40).join('\n')}`);
console.log(`\nFiles: ${logsDir}/<course>/tracklog-YYYY-MM-DD.json.gz, rejects in ${logsDir}/_rejects/, markers in ${logsDir}/META/`);
if (expected !== summary.events) process.exitCode = 1;
