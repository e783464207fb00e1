import { loadConfig } from '../config.ts';
import { localInputs } from './localInputs.ts';
import { isValidDate } from '../events/time.ts';
import { fmtInt, startProgress } from '../logs/progress.ts';
import { newProgress, splitLogs, type SplitSummary } from '../logs/split.ts';

export interface SplitCliOptions {
  logsDir?: string;
  workers?: string;
  chunkMb?: string;
  gzipLevel?: string;
  force?: boolean;
  date?: string;
  json?: boolean;
  progress?: boolean;
  config?: string;
}

export function formatSummary(s: SplitSummary): string {
  const out: string[] = [];
  const f = s.files;
  out.push(`split: ${f.total} input file(s): ${f.done} done, ${f.skipped} skipped (already split), ${f.partial} partial, ${f.failed} failed`);
  out.push(`  ${fmtInt(s.lines)} lines → ${fmtInt(s.events)} events (${fmtInt(s.events - s.unknown)} in ${Object.keys(s.perCourse).length} course(s), ${fmtInt(s.unknown)} unknown-course) + ${fmtInt(s.rejects)} rejects`);
  out.push(`  ${s.seconds.toFixed(1)} s, ${fmtInt(s.eventsPerSecond)} events/s on ${s.workers} worker(s); output in ${s.logsDir}`);
  const courses = Object.entries(s.perCourse);
  if (courses.length > 0) {
    out.push('  events per course:');
    const width = Math.max(...courses.map(([c]) => c.length));
    for (const [c, n] of courses) out.push(`    ${c.padEnd(width)}  ${fmtInt(n).padStart(12)}`);
  }
  for (const i of s.inputs) {
    if (i.status === 'failed' || i.status === 'partial') out.push(`  ${i.status.toUpperCase()}: ${i.input}: ${i.error ?? ''}`);
  }
  if (s.rejects > 0) out.push(`  rejected lines (line number, reason, raw text): ${s.logsDir}/_rejects/`);
  return out.join('\n');
}

/** Runs `edx2bq split`; returns the process exit code. */
export async function runSplit(paths: string[], o: SplitCliOptions): Promise<number> {
  const cfg = loadConfig({ logsDir: o.logsDir, workers: o.workers, chunkSizeMB: o.chunkMb, gzipLevel: o.gzipLevel, config: o.config });
  paths = await localInputs(paths, cfg.s3CacheDir);
  if (o.date !== undefined) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(o.date);
    if (!m || !isValidDate(Number(m[1]), Number(m[2]), Number(m[3]))) throw new Error(`--date must be a real date YYYY-MM-DD, got "${o.date}"`);
  }
  const progress = newProgress();
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  const stop = o.progress === false ? () => undefined : startProgress(progress, { tty });
  let summary: SplitSummary;
  try {
    summary = await splitLogs(paths, {
      logsDir: cfg.logsDir,
      workers: cfg.workers,
      chunkSize: Math.round(cfg.chunkSizeMB * 1024 * 1024),
      gzipLevel: cfg.gzipLevel,
      force: Boolean(o.force),
      ...(o.date ? { date: o.date } : {}),
    }, progress);
  } finally {
    stop();
  }
  process.stdout.write(o.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummary(summary) + '\n');
  return summary.files.failed + summary.files.partial > 0 ? 1 : 0;
}
