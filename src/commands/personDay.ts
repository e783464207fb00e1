import fs from 'node:fs';
import type { LoadFactsSummary } from '../aggregate/loadFacts.ts';
import { loadConfig } from '../config.ts';
import { localInputs } from './localInputs.ts';
import { slashCourseId } from '../ids.ts';
import { acquireDirLock } from '../logs/lock.ts';
import { fmtInt, startProgress } from '../logs/progress.ts';
import { newProgress, splitLogs, type SplitSummary } from '../logs/split.ts';
import { probeWarehouse } from '../warehouse/probe.ts';
import { formatSummary } from './split.ts';

export interface PersonDayCliOptions {
  logsDir?: string;
  warehouse?: string;
  workers?: string;
  chunkMb?: string;
  gzipLevel?: string;
  course?: string[];
  split?: boolean;
  force?: boolean;
  json?: boolean;
  progress?: boolean;
  config?: string;
}

export interface PersonDaySummary {
  split: SplitSummary | null;
  load: LoadFactsSummary;
  warehouse: string;
}

export function formatLoad(s: LoadFactsSummary, warehouse: string): string {
  const out: string[] = [];
  if (s.courses.length === 0) {
    out.push(`person-day: nothing new to load into ${warehouse}`);
    return out.join('\n');
  }
  out.push(`person-day: ${s.courses.length} course(s) refreshed in ${warehouse}: ${fmtInt(s.rowsLoaded)} rows loaded in ${s.loadSeconds.toFixed(1)} s (${s.seconds.toFixed(1)} s with the derived tables)`);
  for (const c of s.courses) {
    const span = c.dates.length === 1 ? c.dates[0] : `${c.dates[0]} … ${c.dates.at(-1)} (${c.dates.length} dates)`;
    out.push(`  ${c.course} → schema ${c.schema}, ${span}: person_course_day ${fmtInt(c.rows.person_course_day ?? 0)} rows, pcday_ip_counts ${fmtInt(c.rows.pcday_ip_counts ?? 0)}, video_stats_day ${fmtInt(c.rows.video_stats_day ?? 0)}, forum_events ${fmtInt(c.rows.forum_events ?? 0)}`);
  }
  return out.join('\n');
}

/** Runs `edx2bq person-day`; returns the process exit code. */
export async function runPersonDay(paths: string[], o: PersonDayCliOptions): Promise<number> {
  const cfg = loadConfig({ logsDir: o.logsDir, warehouse: o.warehouse, workers: o.workers, chunkSizeMB: o.chunkMb, gzipLevel: o.gzipLevel, config: o.config });
  const courses = (o.course ?? []).map((c) => slashCourseId(c));
  paths = await localInputs(paths, cfg.s3CacheDir);
  // a locked warehouse should stop us before the long pass over the logs; the warehouse itself is
  // opened (and the DuckDB API loaded) only after the pass: see probeWarehouse
  await probeWarehouse(cfg.warehouse);
  let split: SplitSummary | null = null;
  if (paths.length > 0) {
    const progress = newProgress();
    const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
    const stop = o.progress === false ? () => undefined : startProgress(progress, { tty });
    try {
      split = await splitLogs(paths, {
        logsDir: cfg.logsDir, workers: cfg.workers, chunkSize: Math.round(cfg.chunkSizeMB * 1024 * 1024), gzipLevel: cfg.gzipLevel,
        force: Boolean(o.force), writeLogs: o.split !== false, collectFacts: true,
      }, progress);
    } finally {
      stop();
    }
  }
  const { openDuckDBWarehouse } = await import('../warehouse/duckdb.ts');
  const { loadFacts } = await import('../aggregate/loadFacts.ts');
  const wh = await openDuckDBWarehouse(cfg.warehouse);
  try {
    await fs.promises.mkdir(cfg.logsDir, { recursive: true });
    const release = await acquireDirLock(cfg.logsDir);
    let load: LoadFactsSummary;
    try {
      const quiet = o.progress === false || o.json;
      load = await loadFacts({ logsDir: cfg.logsDir, warehouse: wh, courses, command: 'person-day', ...(quiet ? {} : { onProgress: (m: string) => process.stderr.write(`person-day: ${m}\n`) }) });
    } finally {
      await release();
    }
    const summary: PersonDaySummary = { split, load, warehouse: cfg.warehouse };
    if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else process.stdout.write((split ? formatSummary(split).replace(/^split:/, 'logs:') + '\n' : '') + formatLoad(load, cfg.warehouse) + '\n');
    return split && split.files.failed + split.files.partial > 0 ? 1 : 0;
  } finally {
    await wh.close();
  }
}
