import cliProgress from 'cli-progress';
import { fmtInt, humanBytes } from '../logs/progress.ts';
import type { FetchProgress } from './fetch.ts';

function line(p: FetchProgress): string {
  if (p.phase === 'listing') return `fetch: listing, ${fmtInt(p.listed)} objects so far`;
  const pct = p.bytesTotal > 0 ? ((100 * p.bytesDone) / p.bytesTotal).toFixed(1) : '0.0';
  return `fetch: ${pct}% ${humanBytes(p.bytesDone)}/${humanBytes(p.bytesTotal)}, files ${fmtInt(p.filesDone)}/${fmtInt(p.filesTotal)}${p.filesFailed ? `, ${fmtInt(p.filesFailed)} failed` : ''}`;
}

/**
 * Shows fetch progress like split's: a bar (bytes, files, ETA) on a terminal, else a plain line
 * every `intervalMs` (default 5 s). Returns the function that stops it.
 */
export function startFetchProgress(p: FetchProgress, opts: { tty: boolean; intervalMs?: number; stream?: NodeJS.WriteStream }): () => void {
  const stream = opts.stream ?? process.stderr;
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      { stream, format: 'fetch |{bar}| {percentage}% | {bytes} | {files} files | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50, fps: 5 },
      cliProgress.Presets.shades_classic,
    );
    let total = 1;
    let started = false;
    const update = () => {
      if (p.phase === 'listing') return;
      if (!started) {
        bar.start((total = Math.max(1, p.bytesTotal)), 0, { bytes: '0 B', files: '0/0' });
        started = true;
      }
      if (Math.max(1, p.bytesTotal) !== total) bar.setTotal((total = Math.max(1, p.bytesTotal)));
      bar.update(p.bytesDone, { bytes: `${humanBytes(p.bytesDone)}/${humanBytes(p.bytesTotal)}`, files: `${fmtInt(p.filesDone)}/${fmtInt(p.filesTotal)}` });
    };
    const timer = setInterval(update, 200);
    return () => {
      clearInterval(timer);
      update();
      if (started) bar.stop();
    };
  }
  const timer = setInterval(() => stream.write(line(p) + '\n'), opts.intervalMs ?? 5000);
  timer.unref();
  return () => clearInterval(timer);
}
