#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { runRephrase } from './commands/rephrase.ts';
import { DEFAULT_MAX_ROWS, DEFAULT_MAX_WIDTH } from './commands/resultFormat.ts';
import { runSplit } from './commands/split.ts';
import { ConfigError, DEFAULTS } from './config.ts';

function positiveInt(v: string): string {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('must be a positive integer');
  return v;
}

export function buildCli(): Command {
  const program = new Command();
  program
    .name('edx2bq')
    .description('Turn raw edX / Open edX research data (daily tracking logs, weekly dumps) into research datasets.')
    .option('--config <file>', 'JSON config file (default ./edx2bq.config.json when present; env EDX2BQ_CONFIG)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `
Settings come from (lowest to highest): defaults, the config file, environment variables
(EDX2BQ_LOGS_DIR, EDX2BQ_WAREHOUSE, EDX2BQ_WORKERS, EDX2BQ_CHUNK_MB, EDX2BQ_GZIP_LEVEL), then flags.

Examples:
  edx2bq split data/mitx-edx-events-2014-10-14.log.gz --logs-dir TRACKING_LOGS
  edx2bq split data/ --workers 2 --json
  zcat day.log.gz | head -1 | edx2bq rephrase
  edx2bq tables course-v1:MITx+6.002x+2T2014
  edx2bq query "select count(*) from MITx__6_002x__2T2014.person_course_day" --csv`);

  program
    .command('split')
    .description('split daily tracking logs by course, rewriting every event to the fixed warehouse schema')
    .argument('<inputs...>', 'log files (*.log, *.log.gz, *.json.gz) or directories (searched recursively)')
    .option('--logs-dir <dir>', `output directory (default ${DEFAULTS.logsDir})`)
    .option('--workers <n>', `worker threads (default: every core, ${DEFAULTS.workers} here)`, positiveInt)
    .option('--chunk-mb <mb>', `uncompressed MB of whole lines per task (default ${DEFAULTS.chunkSizeMB}); does not change the output`)
    .option('--gzip-level <0-9>', `gzip level of the outputs (default ${DEFAULTS.gzipLevel})`)
    .option('--date <YYYY-MM-DD>', 'date for inputs whose file name has none')
    .option('--force', 'redo inputs that were already split')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar or progress lines')
    .addHelpText('after', `
Output, inside the logs directory:
  <course_dir>/tracklog-YYYY-MM-DD.json.gz  one rewritten event per line; course_dir is the course id
                                            with / replaced by __ (course-v1:A+B+C becomes A__B__C)
  _unknown/tracklog-YYYY-MM-DD.json.gz      events that belong to no course
  _rejects/<input>.jsonl.gz                 every line that could not be used: line number, reason, raw text
  META/<input>.json                         marker written after an input finished, with its counts

The date in the output name comes from the input's file name; inputs that share a date (e.g. prod
and edge logs) are merged, never overwritten. Re-running skips inputs already split (same size and
mtime), redoes changed ones; --force redoes all. Exit code 1 if an input failed or was only partly
readable (e.g. a corrupt gzip): what could be read is kept, and the next run tries it again.`)
    .action(async (inputs: string[], o, cmd: Command) => {
      process.exitCode = await runSplit(inputs, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('person-day')
    .description('split the logs (as needed) and load person_course_day and the other per-learner tables into the warehouse')
    .argument('[inputs...]', 'log files or directories (none: just load what earlier runs left in the logs directory)')
    .option('--course <id>', 'only load this course (either id form); repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-split', 'compute the tables without writing per-course log files (faster)')
    .option('--logs-dir <dir>', `logs directory: split output and each input's facts (default ${DEFAULTS.logsDir})`)
    .option('--warehouse <file>', `the DuckDB warehouse file (default ${DEFAULTS.warehouse}; env EDX2BQ_WAREHOUSE)`)
    .option('--workers <n>', `worker threads (default: every core, ${DEFAULTS.workers} here)`, positiveInt)
    .option('--chunk-mb <mb>', `uncompressed MB of whole lines per task (default ${DEFAULTS.chunkSizeMB})`)
    .option('--gzip-level <0-9>', `gzip level of the split logs (default ${DEFAULTS.gzipLevel})`)
    .option('--force', 'redo inputs that were already processed')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar or progress lines')
    .addHelpText('after', `
One pass over the logs: while they are split by course, the workers also keep, per course, every
learner's base events (time + counters), IP counts, video events and the forum, problem_check,
show_answer, enrollment and transcript events: each input's "facts", in
<logs-dir>/_parts/<input>/facts.v8. Then every date touched by a new or changed input is
recomputed from all inputs holding events of that date (prod + edge logs merge exactly) and
replaced in the course's schema of the warehouse:

  person_course_day           one row per learner per UTC date (spec §5, REC semantics)
  pcday_ip_counts             events per learner, date and IP
  pcday_trlang_counts         transcript languages per learner and date
  video_stats_day             per learner, video and date: highest position, play/pause/stop counts
  forum_events, problem_check, show_answer, enrollment_events, person_enrollment_verified
  time_on_task                per learner and date: time on task (spec §6.1), 5 and 30 min timeouts
  time_on_task_totals         the same summed per learner
  pcday_intraday, time_on_task_intraday, transcript_events   (the per-date inputs of the tables above)

Re-running loads nothing twice: a date that is loaded again replaces its rows. Inputs already
processed are skipped (same size and mtime); --force redoes them. With --no-split the inputs'
log files are not written (a later \`split\` of the same inputs writes them), and nearly every
line is read, and its facts and table rows computed, by native code that \`npm ci\` builds instead
of being parsed whole (\`npm run build:native\` rebuilds it; EDX2BQ_NATIVE=0 uses JavaScript, same
results).

Examples:
  edx2bq person-day data/logs/
  edx2bq person-day data/logs/ --no-split --course course-v1:MITx+6.002x+2T2014
  edx2bq query "select * from MITx__6_002x__2T2014.person_course_day limit 5"`)
    .action(async (inputs: string[], o, cmd: Command) => {
      const { runPersonDay } = await import('./commands/personDay.ts');
      process.exitCode = await runPersonDay(inputs, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('person-course')
    .description('build person_course for each course: one row per learner, the 82 columns of edx2bigquery (REC semantics)')
    .argument('[courses...]', 'course ids (either form); none: every course setup-sql has loaded')
    .option('--warehouse <file>', `the DuckDB warehouse file (default ${DEFAULTS.warehouse}; env EDX2BQ_WAREHOUSE)`)
    .option('--mmdb <file>', 'a MaxMind GeoLite2/GeoIP2 City .mmdb instead of the DB-IP database from npm (config mmdb, env EDX2BQ_MMDB)')
    .option('--no-geo', 'no modal IP and no geolocation (those columns NULL)')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `
Inputs, in the course's schema: user_info_combo and roles (setup-sql; required), studentmodule
and forum (setup-sql), course_axis and grading_policy (axis), and person_course_day,
pcday_ip_counts, pcday_trlang_counts, video_stats_day, person_enrollment_verified (person-day).
A missing input leaves its columns NULL (reported). The modal IP is the course's, else the one
across all courses of the warehouse (courses.global_modal_ip); each distinct IP is looked up once.
Intermediate tables: pc_day_totals, pc_nchapters, pc_forum, pc_modal_ip, pc_ip_geo, pc_geoip,
course_modal_ip, course_modal_language, person_course_video_watched. Definitions: docs/definitions.md.

Examples:
  edx2bq person-course
  edx2bq person-course course-v1:MITx+6.002x+2T2014 --mmdb GeoLite2-City.mmdb`)
    .action(async (courses: string[], o, cmd: Command) => {
      const { runPersonCourse } = await import('./commands/personCourse.ts');
      process.exitCode = await runPersonCourse(courses, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('combinepc')
    .description('combine the courses\' person_course into courses.person_course, with a dated archive copy, exported as gzipped CSV and Parquet')
    .argument('[courses...]', 'course ids in the order to combine (none: every course with a person_course)')
    .option('--warehouse <file>', `the DuckDB warehouse file (default ${DEFAULTS.warehouse}; env EDX2BQ_WAREHOUSE)`)
    .option('--out <dir>', 'where the exports go (default edx2bq-data/export)')
    .option('--json', 'print the summary as JSON')
    .action(async (courses: string[], o, cmd: Command) => {
      const { runCombinePc } = await import('./commands/combine.ts');
      process.exitCode = await runCombinePc(courses, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('report')
    .description('the report tables of spec §8.2 from the combined person_course: broad stats per course (printed), populations, geography, multiple registrations, overall totals, medians, enrollment by day; and over the same courses\' own tables: course_axis, email addresses (all and per org), global modal transcript language; each as a table and a CSV')
    .option('--warehouse <file>', `the DuckDB warehouse file (default ${DEFAULTS.warehouse}; env EDX2BQ_WAREHOUSE)`)
    .argument('[courses...]', 'only these courses of the combined person_course (either id form); none: all of them')
    .option('--out <dir>', 'where the CSV goes (default edx2bq-data/export)')
    .option('--pcday-allcourses', 'also export person_course_day_allcourses (a view of every course\'s person_course_day) as CSV (large)')
    .option('--json', 'print the headline figures as JSON')
    .addHelpText('after', `
Learners only (roles NULL or Student). registered, viewed, explored and certified (explored and
certified among viewers, as edx2bigquery's broad_stats), verified (mode verified), certified and
verified, and the rest of spec §8.2's columns in the CSV.`)
    .action(async (courses: string[], o, cmd: Command) => {
      const { runReport } = await import('./commands/combine.ts');
      process.exitCode = await runReport(courses, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('export')
    .description('write a warehouse table to files, one per course schema (csv, parquet or jsonl)')
    .argument('<table>', 'a table name (person_course_day), or courses.<table> for a table of the shared schema (then give no course)')
    .argument('[courses...]', 'course ids in either form, or schema names; none: every course schema that has the table')
    .option('--format <format>', 'csv, parquet or jsonl (default parquet)')
    .option('--out <dir>', 'where to write (default edx2bq-data/export)')
    .option('--json', 'print what was written (and what failed) as JSON')
    .option('--warehouse <file>', `the DuckDB warehouse file (default ${DEFAULTS.warehouse}; env EDX2BQ_WAREHOUSE)`)
    .addHelpText('after', `
Each table goes to <out>/<schema>/<table>.<ext>, written under a temporary name and renamed when
complete (an existing file is replaced):
  csv      .csv.gz    gzip; header; RFC 4180; NULL is an empty field, the empty string is "";
                      timestamps ISO 8601 UTC (…T05:17:08.011728Z)
  parquet  .parquet   zstd; the warehouse's column types
  jsonl    .jsonl.gz  gzip; one JSON object per line; NULL is null; timestamps as in csv
Exit code 1 when a course failed (unknown course, no such table: the others are still written).

Examples:
  edx2bq export person_course_day MITx/6.002x/2T2014 --format csv
  edx2bq export person_course_day --format parquet --out /data/export
  edx2bq export courses.person_course --format jsonl`)
    .action(async (table: string, courses: string[], o, cmd: Command) => {
      const { runExport } = await import('./commands/export.ts');
      process.exitCode = await runExport(table, courses, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('waldofy')
    .description('file a weekly research dump under the course SQL directory: short names, TSV → gzipped CSV, per course and dump date')
    .argument('<dump>', 'the decrypted dump: a directory or .zip whose name ends with -YYYY-MM-DD')
    .argument('[courses...]', 'the courses to file (either id form); others go under UNKNOWN/ (none given: every course found)')
    .option('--sql-dir <dir>', `the course SQL base directory (default ${DEFAULTS.sqlDir}; env EDX2BQ_SQL_DIR)`)
    .option('--gzip-level <0-9>', 'gzip level of the CSV files')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress lines')
    .addHelpText('after', `
edX's file names ({org}-{course}-{run}-{table}-prod-analytics.sql) become the short names of the
spec (users, profiles, enrollment, certificates, studentmodule, rolecourse, roleforum, …) in
<sql-dir>/<ORG-NUM-RUN>/<dump date>/; the longest known course id that prefixes a file name
wins. TSV is parsed properly (the four escapes undone, NULL → null, '' kept) and written as
gzipped CSV (null = empty field, '' = ""). Malformed rows go to <dest>/_rejects/<table>.jsonl.gz
with their line number and reason. Existing CSV files are kept; every write is atomic.

Examples:
  edx2bq waldofy MITx-2014-10-19/ course-v1:MITx+6.002x+2T2014
  edx2bq waldofy MITx-2014-10-19.zip --sql-dir /data/sql`)
    .action(async (dump: string, courses: string[], o, cmd: Command) => {
      const { runWaldofy } = await import('./commands/waldofy.ts');
      process.exitCode = await runWaldofy([dump], courses, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('setup-sql')
    .description('load the latest weekly dump of each course into the warehouse: users, profiles, enrollment, certificates, studentmodule, roles, forum, user_info_combo')
    .argument('[courses...]', 'course ids (either form); none: every course directory under the SQL directory')
    .option('--sql-dir <dir>', `the course SQL base directory (default ${DEFAULTS.sqlDir}; env EDX2BQ_SQL_DIR)`)
    .option('--warehouse <file>', `the DuckDB warehouse file (default ${DEFAULTS.warehouse}; env EDX2BQ_WAREHOUSE)`)
    .option('--date <YYYY-MM-DD>', 'use this dump date instead of the latest')
    .option('--dump <dir|zip|s3://…>', 'waldofy this weekly dump into the SQL directory first (an s3:// URL is fetched)')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `
The latest dump date of a course is the greatest YYYY-MM-DD directory that holds users and
enrollment (a half-copied newer dump is not picked). Tables, in the course's schema:
  users, profiles, enrollment, certificates, user_id_map, rolecourse, roleforum
                      the dump's tables, every value as text (NULL and '' kept apart), _row = record
  studentmodule       typed; course-v1: and block-v1: ids normalised per value
  forum, forum_posts  the forum export rephrased (spec §4); unreadable lines in _rejects/forum.jsonl.gz
  mongo_users, mongo_profiles, mongo_enrollment, edxinstructordash_grade_report
                      the optional side-loads (<course dir>/from_mongodb/, from_edxinstructordash/
                      grade_report.csv): empty when absent; bad lines in _rejects/<table>.jsonl.gz
  user_info_combo     one row per user of the course (spec §2), side-loads merged
  dump_info           the dump date used and whether it was pinned (--date / dumpDates)
  roles               course and forum role flags per user (spec §3)
A missing table file only empties what needs it (reported). A course is loaded whole or not at
all; exit code 1 if a course failed.

Examples:
  edx2bq setup-sql course-v1:MITx+6.002x+2T2014
  edx2bq setup-sql --sql-dir /data/sql --date 2014-10-19
  edx2bq setup-sql course-v1:MITx+6.002x+2T2014 --dump s3://course-data/mitx-2014-10-19.zip`)
    .action(async (courses: string[], o, cmd: Command) => {
      const { runSetupSql } = await import('./commands/setupSql.ts');
      process.exitCode = await runSetupSql(courses, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('axis')
    .description('course_axis and grading_policy of each course from its OLX tarball (course_structure JSON as the fallback)')
    .argument('[courses...]', 'course ids (either form)')
    .option('--sql-dir <dir>', `the course SQL base directory (default ${DEFAULTS.sqlDir}; env EDX2BQ_SQL_DIR)`)
    .option('--warehouse <file>', `the DuckDB warehouse file (default ${DEFAULTS.warehouse}; env EDX2BQ_WAREHOUSE)`)
    .option('--date <YYYY-MM-DD>', 'use this dump date (pin) instead of the latest')
    .option('--tarball <file>', 'read this course export (.xml.tar.gz) instead of the SQL directory\'s')
    .option('--course-structure <file>', 'read this course_structure JSON instead of the SQL directory\'s')
    .addHelpText('after', `
course_axis: one row per content item in course order (chapter, sequential, vertical, problem,
video, html, …) with index, url_name, name, gformat, graded, due, start, module_id, path, parent,
chapter_mid, is_split and data (also flattened into data_* columns: ytid, itype, num_items, weight, …).
grading_policy: one row per assignment type, with the grade cutoffs. The course's run must be in
the tarball (an error lists the runs found). A corrupt tarball fails only that course.

Examples:
  edx2bq axis course-v1:MITx+6.002x+2T2014
  edx2bq axis edX/DemoX/Demo_Course --tarball course.xml.tar.gz`)
    .action(async (courses: string[], o, cmd: Command) => {
      const { runAxis } = await import('./commands/axis.ts');
      process.exitCode = await runAxis(courses, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('fetch')
    .description('download what is new under an S3 prefix (size + ETag compared), resumable, atomic')
    .argument('[url]', 's3://bucket/prefix (or --dumps / --logs: the URLs named in the config)')
    .option('--dumps', 'the weekly dumps\' URL of the config (s3Dumps, EDX2BQ_S3_DUMPS)')
    .option('--logs', 'the daily logs\' URL of the config (s3Logs, EDX2BQ_S3_LOGS)')
    .option('--to <dir>', 'destination (default ./<bucket>, keys kept whole); keys are written relative to the prefix')
    .option('--endpoint <url>', 'an S3-compatible server instead of AWS')
    .option('--region <region>', 'AWS region (default: the SDK\'s own lookup, else us-east-1)')
    .option('--force-path-style', 'path-style URLs (most S3-compatible servers)')
    .option('--concurrency <n>', 'parallel downloads (default 8)', positiveInt)
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar or progress lines')
    .addHelpText('after', `
Credentials come from the standard AWS chain (environment, ~/.aws, instance roles). A manifest
<to>/.edx2bq-fetch.json remembers what was fetched: a re-run downloads only new or changed
objects. Interrupted downloads continue where they stopped (Range requests); nothing
incomplete ever has the final name. Transient errors (5xx, throttling, resets) are retried with
backoff. Keys that could write outside --to (.., absolute, control characters) are refused and
reported; exit code 1 if any key was refused or failed.

Examples:
  edx2bq fetch s3://course-data/mitx-2014-10-19.zip --to dumps/
  edx2bq fetch s3://edx-logs/prod/2014/ --to logs/ --concurrency 4`)
    .action(async (url: string | undefined, o, cmd: Command) => {
      const { runFetch } = await import('./commands/fetch.ts');
      const { loadConfig } = await import('./config.ts');
      const cfg = loadConfig({ config: cmd.parent?.opts().config });
      const named = [o.dumps ? cfg.s3Dumps : null, o.logs ? cfg.s3Logs : null].filter((u): u is string => u !== null);
      if (named.includes('')) throw new Error('no S3 URL configured: set s3Dumps / s3Logs in the config file (or EDX2BQ_S3_DUMPS / EDX2BQ_S3_LOGS)');
      const urls = [...(url !== undefined ? [url] : []), ...named];
      if (urls.length === 0) throw new Error('give an s3://bucket/prefix URL, or --dumps / --logs');
      let code = 0;
      for (const u of urls) code = Math.max(code, await runFetch(u, o));
      process.exitCode = code;
    });

  program
    .command('rephrase')
    .description('rewrite raw tracking-log lines from stdin to stdout, line for line (for checking single events)')
    .addHelpText('after', `
Each input line gives one output line: the rewritten event as JSON, or an empty line when the
input line is rejected (its line number and reason go to stderr; exit code 1).`)
    .action(async () => {
      process.exitCode = await runRephrase();
    });

  program
    .command('query')
    .description('run SQL on the warehouse and print the result')
    .argument('[sql]', 'the SQL (several statements allowed; the last one\'s result is printed)')
    .option('--file <sql-file>', 'read the SQL from a file instead')
    .option('--csv', 'print CSV (header line, RFC 4180 quoting, NULL as an empty field)')
    .option('--json', 'print a JSON array of row objects')
    .option('--max-rows <n>', `rows shown in the text table (default ${DEFAULT_MAX_ROWS}; --csv and --json print all)`)
    .option('--max-width <n>', `cut text-table cells wider than this (default ${DEFAULT_MAX_WIDTH})`)
    .option('--warehouse <file>', `the DuckDB warehouse file (default ${DEFAULTS.warehouse}; env EDX2BQ_WAREHOUSE)`)
    .addHelpText('after', `
Each course has its own schema, named after its course id: / becomes __, . and - become _
(course-v1:MITx+6.002x+2T2014 and MITx/6.002x/2T2014 are both MITx__6_002x__2T2014).
Cross-course tables are in the schema "courses"; what made each table is in main._edx2bq.

In --json output BIGINT values are numbers when they fit a double exactly (else strings), and
timestamps are ISO 8601 in UTC. Exit code 1 when the SQL fails (the engine's message goes to
stderr), 2 when the warehouse cannot be opened (e.g. another process is writing to it).

Examples:
  edx2bq query "select schema_name, table_name, comment from duckdb_tables()"
  edx2bq query "select * from MITx__6_002x__2T2014.person_course_day limit 5" --json
  edx2bq query --file report.sql --csv > report.csv
  edx2bq query "copy (select * from courses.person_course) to 'pc.parquet'"`)
    .action(async (sql: string | undefined, o, cmd: Command) => {
      // loaded on use: the DuckDB binding is not needed by the other commands
      const { runQuery } = await import('./commands/query.ts');
      process.exitCode = await runQuery(sql, { ...o, config: cmd.parent?.opts().config });
    });

  program
    .command('tables')
    .description('list the warehouse tables with row counts and what made them')
    .argument('[course]', 'only this course\'s schema: a course id in either form, or a schema name')
    .option('--json', 'print the tables, with their full latest provenance, as JSON')
    .option('--warehouse <file>', `the DuckDB warehouse file (default ${DEFAULTS.warehouse}; env EDX2BQ_WAREHOUSE)`)
    .addHelpText('after', `
For each table: schema, table, exact row count, and its latest write (command, step, time).
The full history of every write (inputs, SQL, counts, duration, user) is in main._edx2bq.

Examples:
  edx2bq tables
  edx2bq tables MITx/6.002x/2T2014
  edx2bq tables courses --warehouse /data/edx2bq/warehouse.duckdb`)
    .action(async (course: string | undefined, o, cmd: Command) => {
      const { runTables } = await import('./commands/tables.ts');
      process.exitCode = await runTables(course, { ...o, config: cmd.parent?.opts().config });
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    const msg = e instanceof ConfigError ? `configuration error: ${e.message}` : (e as Error).message;
    process.stderr.write(`edx2bq: ${msg}\n`);
    if (process.env.EDX2BQ_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli.ts')) {
  await main(process.argv);
}
