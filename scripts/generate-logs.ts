/**
 * Sample-data generator: realistic, seeded edX tracking logs plus the counts they must produce.
 *
 *   node scripts/generate-logs.ts --out DIR [--courses 4] [--learners 200] [--days 2]
 *        [--start 2015-03-01] [--events-per-day E] [--seed 1] [--malformed-rate 0.001] [--org mitx]
 *        [--dump] [--dump-date YYYY-MM-DD]
 *
 * Writes DIR/<org>-edx-events-YYYY-MM-DD.log.gz (gzip level 1) for each day and DIR/truth.json.
 * With --dump, also the weekly research dump of the same world under DIR/dump/<org>-<dump date>/
 * (scripts/gen/dump.ts), described in truth.json's `dump`. Same options and seed → byte-identical output.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { generateLogs, DEFAULTS } from './gen/generate.ts';

export { generateLogs, dailyFileName } from './gen/generate.ts';
export type { GenerateOptions, Truth, FileTruth, CourseTruth, DumpTruth, DumpCourseTruth, ForumTruth } from './gen/types.ts';

const USAGE = `usage: node scripts/generate-logs.ts --out DIR [options]
  --out DIR              output directory (required)
  --courses N            number of courses (default ${DEFAULTS.courses}; alternating slash / course-v1 ids)
  --learners U           number of learners (default ${DEFAULTS.learners})
  --days D               number of daily files (default ${DEFAULTS.days})
  --start YYYY-MM-DD     first day (default ${DEFAULTS.start})
  --events-per-day E     valid events per file, exact (default 9 × learners)
  --seed S               integer seed (default ${DEFAULTS.seed})
  --malformed-rate R     chance of a malformed line before each event (default ${DEFAULTS.malformedRate})
  --org ORG              org in file names and course ids (default ${DEFAULTS.org})
  --dump                 also write the weekly research dump (SQL tables as TSV, forum .mongo,
                         course structure JSON, OLX tarball) consistent with the logs, under
                         DIR/dump/<org>-<dump date>/, and its counts in truth.json ("dump")
  --dump-date YYYY-MM-DD date of the dump (default: the day after the last log day); implies --dump
  --quiet                no progress output`;

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name}: not a number: ${v}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        courses: { type: 'string' },
        learners: { type: 'string' },
        days: { type: 'string' },
        start: { type: 'string' },
        'events-per-day': { type: 'string' },
        seed: { type: 'string' },
        'malformed-rate': { type: 'string' },
        org: { type: 'string' },
        dump: { type: 'boolean' },
        'dump-date': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!values.out) {
    process.stderr.write(`--out is required\n${USAGE}\n`);
    return 2;
  }
  const quiet = values.quiet === true;
  const t0 = performance.now();
  let tFile = t0;
  try {
    const truth = await generateLogs({
      out: values.out,
      courses: num('courses', values.courses),
      learners: num('learners', values.learners),
      days: num('days', values.days),
      start: values.start,
      eventsPerDay: num('events-per-day', values['events-per-day']),
      seed: num('seed', values.seed),
      malformedRate: num('malformed-rate', values['malformed-rate']),
      org: values.org,
      dump: values.dump === true || values['dump-date'] !== undefined,
      dumpDate: values['dump-date'],
      onFile: (name, f) => {
        const now = performance.now();
        if (!quiet) {
          const s = (now - tFile) / 1000;
          process.stderr.write(`${name}: ${f.lines} lines, ${f.events} events, ${f.rejects} malformed, ${(f.bytes / 1e6).toFixed(1)} MB raw, ${s.toFixed(2)} s, ${Math.round(f.events / s)} events/s\n`);
        }
        tFile = now;
      },
    });
    if (!quiet) {
      const s = (performance.now() - t0) / 1000;
      const ev = Object.values(truth.files).reduce((a, f) => a + f.events, 0);
      const cpu = process.threadCpuUsage(); // the generating thread only (gzip runs in a worker)
      const cpuS = (cpu.user + cpu.system) / 1e6;
      process.stderr.write(
        `total: ${ev} events in ${s.toFixed(2)} s wall (${Math.round(ev / s)} events/s); ` +
          `generating thread ${cpuS.toFixed(2)} s CPU (${Math.round(ev / cpuS)} events per CPU second); truth in ${values.out}/truth.json\n`,
      );
      if (truth.dump) {
        const files = Object.values(truth.dump.courses).reduce((a, c) => a + c.files.length, 0);
        process.stderr.write(`dump: ${files} files for ${Object.keys(truth.dump.courses).length} courses, ${truth.dump.users} users, in ${values.out}/${truth.dump.dir} (${((performance.now() - tFile) / 1000).toFixed(2)} s after the last log file)\n`);
      }
    }
    return 0;
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}

const invoked = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invoked) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
