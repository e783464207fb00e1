import cliProgress from 'cli-progress';
import type { SplitProgress } from './split.ts';

export function humanBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v >= 100 || u === 0 ? 0 : 1)} ${units[u]}`;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * Shows split progress: a bar (bytes, events, events/s, ETA) on a terminal, plain lines every
 * `intervalMs` otherwise (CI logs, pipes). Reads the engine's counters on a timer.
 */
export function startProgress(p: SplitProgress, opts: { tty: boolean; intervalMs?: number; stream?: NodeJS.WriteStream }): () => void {
  const stream = opts.stream ?? process.stderr;
  const started = performance.now();
  const rate = () => p.events / Math.max(1e-3, (performance.now() - started) / 1000);
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'split |{bar}| {percentage}% | {bytes} | {events} events | {rate} ev/s | {files} files | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, p.bytesTotal), 0, { bytes: '0 B', events: '0', rate: '0', files: '0/0' });
    let total = Math.max(1, p.bytesTotal);
    const timer = setInterval(() => {
      // the total is known only once the inputs are listed, after the bar started
      if (p.bytesTotal > 0 && p.bytesTotal !== total) bar.setTotal((total = p.bytesTotal));
      bar.update(p.bytesRead, { bytes: `${humanBytes(p.bytesRead)}/${humanBytes(p.bytesTotal)}`, events: fmtInt(p.events), rate: fmtInt(rate()), files: `${p.filesFinished}/${p.filesTotal}` });
    }, 200);
    return () => {
      clearInterval(timer);
      bar.update(p.bytesRead, { bytes: `${humanBytes(p.bytesRead)}/${humanBytes(p.bytesTotal)}`, events: fmtInt(p.events), rate: fmtInt(rate()), files: `${p.filesFinished}/${p.filesTotal}` });
      bar.stop();
    };
  }
  const timer = setInterval(() => {
    const pct = p.bytesTotal > 0 ? ((100 * p.bytesRead) / p.bytesTotal).toFixed(1) : '0.0';
    stream.write(`split: ${pct}% ${humanBytes(p.bytesRead)}/${humanBytes(p.bytesTotal)}, ${fmtInt(p.events)} events, ${fmtInt(p.rejects)} rejects, ${fmtInt(rate())} ev/s, files ${p.filesFinished}/${p.filesTotal}\n`);
  }, opts.intervalMs ?? 10_000);
  timer.unref();
  return () => clearInterval(timer);
}
