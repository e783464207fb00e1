import path from 'node:path';
import { fmtInt, humanBytes } from '../logs/progress.ts';
import { fetchS3, newFetchProgress, type FetchSummary } from '../s3/fetch.ts';
import { parseS3Url } from '../s3/keys.ts';
import { startFetchProgress } from '../s3/progress.ts';
import type { RetryOptions } from '../s3/retry.ts';

export interface FetchCliOptions {
  /**
   * Destination directory; keys are written relative to the prefix's directory part. Unset:
   * ./<bucket>, with the whole key (the bucket mirrored).
   */
  to?: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Parallel downloads (default 8); a string as commander's positiveInt gives it is accepted. */
  concurrency?: number | string;
  progress?: boolean;
  json?: boolean;
  /** Not on the command line: for tests. */
  pageSize?: number;
  retry?: RetryOptions;
}

export function formatFetchSummary(s: FetchSummary): string {
  const out: string[] = [];
  out.push(`fetch: ${s.source} → ${s.to}: ${fmtInt(s.selected)} object(s): ${fmtInt(s.downloaded)} downloaded (${humanBytes(s.bytesDownloaded)}${s.resumed ? `, ${fmtInt(s.resumed)} resumed` : ''}), ${fmtInt(s.upToDate)} up to date, ${fmtInt(s.refused.length)} refused, ${fmtInt(s.failed.length)} failed`);
  out.push(`  ${s.seconds.toFixed(1)} s${s.retries ? `, ${fmtInt(s.retries)} retried request(s)` : ''}`);
  for (const r of s.refused) out.push(`  REFUSED: ${JSON.stringify(r.key)}: ${r.reason}`);
  for (const f of s.failed) out.push(`  FAILED: ${JSON.stringify(f.key)}: ${f.error}`);
  return out.join('\n');
}

/** Runs `edx2bq fetch s3://bucket/prefix [--to DIR]`; returns the process exit code (1 if an object was refused or failed). */
export async function runFetch(url: string, o: FetchCliOptions): Promise<number> {
  const { bucket } = parseS3Url(url);
  const to = path.resolve(o.to ?? bucket);
  const keepFullKey = o.to === undefined;
  const concurrency = o.concurrency === undefined ? undefined : Number(o.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) throw new Error(`--concurrency must be a positive integer, got ${String(o.concurrency)}`);
  const progress = newFetchProgress();
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  const stop = o.progress === false ? () => undefined : startFetchProgress(progress, { tty });
  let summary: FetchSummary;
  try {
    ({ summary } = await fetchS3(url, {
      to,
      keepFullKey,
      endpoint: o.endpoint,
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      concurrency,
      pageSize: o.pageSize,
      retry: o.retry,
      progress,
      log: (msg) => process.stderr.write(`fetch: ${msg}\n`),
    }));
  } finally {
    stop();
  }
  process.stdout.write(o.json ? JSON.stringify(summary, null, 2) + '\n' : formatFetchSummary(summary) + '\n');
  return summary.refused.length + summary.failed.length > 0 ? 1 : 0;
}
