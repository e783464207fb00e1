#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { runRephrase } from './commands/rephrase.ts';
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
(EDX2BQ_LOGS_DIR, EDX2BQ_WORKERS, EDX2BQ_CHUNK_MB, EDX2BQ_GZIP_LEVEL), then flags.

Examples:
  edx2bq split data/mitx-edx-events-2014-10-14.log.gz --logs-dir TRACKING_LOGS
  edx2bq split data/ --workers 2 --json
  zcat day.log.gz | head -1 | edx2bq rephrase`);

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
    .command('rephrase')
    .description('rewrite raw tracking-log lines from stdin to stdout, line for line (for checking single events)')
    .addHelpText('after', `
Each input line gives one output line: the rewritten event as JSON, or an empty line when the
input line is rejected (its line number and reason go to stderr; exit code 1).`)
    .action(async () => {
      process.exitCode = await runRephrase();
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
