import fs from 'node:fs';
import path from 'node:path';
import type { Piscina } from 'piscina';
import { unlinkIfExists } from '../fsutil.ts';
import { FactsWriter, FACTS_FILE, FACTS_VERSION } from '../aggregate/factsFile.ts';
import type { AggregateChunkResult, AggregateWireResult, SplitChunkResult, SplitWireResult } from './chunkTasks.ts';
import { InputReadError, readLineChunks, type ReadProgress } from './chunkReader.ts';
import { CourseOutputs, MEMBER_BYTES } from './courseOutputs.ts';
import { assembleDate, partsDir } from './finalize.ts';
import { discoverInputs, type LogInput } from './inputs.ts';
import { acquireDirLock } from './lock.ts';
import { hasLogs, loadMarkers, markerCourseIds, markerOutputs, markerPath, writeMarker, type InputMarker, type InputOutputs } from './markers.ts';
import { createLogPool, createLogRings, destroyLogPool, type LogRings } from './pool.ts';
import { RejectWriter } from './rejectWriter.ts';

export interface SplitOptions {
  logsDir: string;
  workers: number;
  /** Uncompressed bytes of whole lines per task. Any size gives the same output bytes. */
  chunkSize: number;
  gzipLevel: number;
  force: boolean;
  /** Date for inputs whose base name has none. */
  date?: string;
  /** Write the per-course log files (default true; false is `--no-split`). */
  writeLogs?: boolean;
  /** Keep each input's facts for the aggregates (`_parts/<stem>/facts.v8`). */
  collectFacts?: boolean;
}

export type InputStatus = 'done' | 'skipped' | 'partial' | 'failed';

export interface InputSummary {
  input: string;
  stem: string;
  date: string | null;
  status: InputStatus;
  error?: string;
  lines: number;
  events: number;
  rejects: number;
  unknown: number;
  perCourse: Record<string, number>;
}

export interface SplitSummary {
  logsDir: string;
  workers: number;
  files: Record<InputStatus, number> & { total: number };
  lines: number;
  events: number;
  rejects: number;
  unknown: number;
  perCourse: Record<string, number>;
  /** Bytes read from the input files (compressed size for gzip). */
  bytesIn: number;
  /** Bytes of log text after gunzip. */
  textBytes: number;
  seconds: number;
  eventsPerSecond: number;
  /** Main-thread seconds spent writing the aggregates' facts (0 without them). */
  factsSeconds: number;
  inputs: InputSummary[];
}

/** Live counters for a progress display; the engine only writes them. */
export interface SplitProgress extends ReadProgress {
  bytesTotal: number;
  filesTotal: number;
  filesFinished: number;
  lines: number;
  events: number;
  rejects: number;
  /** Main-thread milliseconds spent writing the workers' facts. */
  factsMs: number;
}

export function newProgress(): SplitProgress {
  return { bytesRead: 0, textBytes: 0, bytesTotal: 0, filesTotal: 0, filesFinished: 0, lines: 0, events: 0, rejects: 0, factsMs: 0 };
}

function sortedRecord(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}


interface PlannedInput {
  input: LogInput;
  outputs: InputOutputs;
}

/** Plans which inputs to do, skip or refuse (spec §1.5 REC idempotency, and stem collisions). */
function plan(inputs: LogInput[], markers: Map<string, InputMarker>, force: boolean, want: InputOutputs): { todo: PlannedInput[]; settled: InputSummary[] } {
  const todo: PlannedInput[] = [];
  const settled: InputSummary[] = [];
  const stems = new Map<string, string>();
  const none = { lines: 0, events: 0, rejects: 0, unknown: 0, perCourse: {} };
  for (const input of inputs) {
    const base = { input: input.path, stem: input.stem, date: input.date };
    if (input.date === null) {
      settled.push({ ...base, ...none, status: 'failed', error: 'no YYYY-MM-DD date in the file name; rename it or pass --date' });
      continue;
    }
    const other = stems.get(input.stem);
    if (other !== undefined) {
      settled.push({ ...base, ...none, status: 'failed', error: `same name stem "${input.stem}" as ${other} in this run; rename one of them` });
      continue;
    }
    stems.set(input.stem, input.path);
    const m = markers.get(input.stem);
    const unchanged = m !== undefined && m.size === input.size && m.mtimeMs === input.mtimeMs && m.date === input.date;
    if (m !== undefined && m.input !== input.path && !unchanged && !force) {
      settled.push({ ...base, ...none, status: 'failed', error: `an input with the same name stem from ${m.input} was already split into this directory; rename one, or pass --force to replace it` });
      continue;
    }
    const had = m !== undefined ? markerOutputs(m) : { logs: false, facts: false };
    if (!force && unchanged && m.status === 'done' && (had.logs || !want.logs) && (had.facts || !want.facts)) {
      settled.push({ ...base, status: 'skipped', lines: m.lines, events: m.events, rejects: m.rejects, unknown: m.unknown, perCourse: m.perCourse });
      continue;
    }
    // redone inputs keep every kind of output they had, so no other command's outputs go stale
    todo.push({ input, outputs: { logs: want.logs || had.logs, facts: want.facts || had.facts } });
  }
  return { todo, settled };
}

/**
 * `edx2bq split`: reads every input once on all cores and writes
 * `<logsDir>/<course_dir>/tracklog-<date>.json.gz`, `_unknown/`, `_rejects/<stem>.jsonl.gz` and
 * `META/<stem>.json`. Per input: chunks of whole lines go to the pool; results are applied in
 * order, so outputs are deterministic; outputs are built under `.tmp/` and moved into place,
 * and the marker is written last.
 */
export async function splitLogs(args: string[], opts: SplitOptions, progress: SplitProgress = newProgress()): Promise<SplitSummary> {
  const started = performance.now();
  const inputs = await discoverInputs(args, opts.date);
  const logsDir = path.resolve(opts.logsDir);
  const st = await fs.promises.stat(logsDir).catch(() => null);
  if (st !== null && !st.isDirectory()) throw new Error(`the logs directory ${logsDir} exists and is not a directory`);
  await fs.promises.mkdir(logsDir, { recursive: true });
  const release = await acquireDirLock(logsDir);
  const results: InputSummary[] = [];
  let pool: Piscina | null = null;
  try {
    const tmpRoot = path.join(logsDir, '.tmp');
    await fs.promises.rm(tmpRoot, { recursive: true, force: true });
    await fs.promises.mkdir(tmpRoot, { recursive: true });
    const markers = await loadMarkers(logsDir);
    const want = { logs: opts.writeLogs !== false, facts: opts.collectFacts === true };
    const { todo, settled } = plan(inputs, markers, opts.force, want);
    results.push(...settled);
    progress.filesTotal = todo.length;
    progress.bytesTotal = todo.reduce((a, t) => a + t.input.size, 0);
    if (todo.length > 0) {
      const rings = createLogRings(opts.workers, opts.chunkSize, MEMBER_BYTES);
      pool = createLogPool(opts.workers, rings);
      let commits: Promise<void> = Promise.resolve();
      const pending: Array<Promise<InputSummary>> = [];
      for (const { input, outputs } of todo) {
        const { readDone, finished } = startInput(input, outputs, { logsDir, opts, pool, rings, progress, markers, commit: (fn) => (commits = commits.then(fn)) });
        pending.push(finished);
        await readDone; // read inputs one after another; their chunks overlap in the pool
      }
      results.push(...(await Promise.all(pending)));
      await commits;
    }
    await fs.promises.rm(tmpRoot, { recursive: true, force: true });
  } finally {
    if (pool) await destroyLogPool(pool);
    await release();
  }
  const order = new Map(inputs.map((i, k) => [i.path, k]));
  results.sort((a, b) => (order.get(a.input) ?? 0) - (order.get(b.input) ?? 0));
  return { ...summarize(logsDir, opts.workers, results, progress.bytesRead, progress.textBytes, (performance.now() - started) / 1000), factsSeconds: progress.factsMs / 1000 };
}

function summarize(logsDir: string, workers: number, inputs: InputSummary[], bytesIn: number, textBytes: number, seconds: number): Omit<SplitSummary, 'factsSeconds'> {
  const files = { total: inputs.length, done: 0, skipped: 0, partial: 0, failed: 0 };
  const perCourse = new Map<string, number>();
  let lines = 0;
  let events = 0;
  let rejects = 0;
  let unknown = 0;
  let processedEvents = 0;
  for (const s of inputs) {
    files[s.status]++;
    lines += s.lines;
    events += s.events;
    rejects += s.rejects;
    unknown += s.unknown;
    if (s.status !== 'skipped') processedEvents += s.events;
    for (const [c, n] of Object.entries(s.perCourse)) perCourse.set(c, (perCourse.get(c) ?? 0) + n);
  }
  return {
    logsDir, workers, files, lines, events, rejects, unknown, perCourse: sortedRecord(perCourse), bytesIn, textBytes, seconds,
    eventsPerSecond: seconds > 0 ? Math.round(processedEvents / seconds) : 0,
    inputs,
  };
}

interface InputContext {
  logsDir: string;
  opts: SplitOptions;
  pool: Piscina;
  /** The pool's rings; each chunk in flight holds a result buffer, which bounds them. */
  rings: LogRings;
  progress: SplitProgress;
  markers: Map<string, InputMarker>;
  commit: (fn: () => Promise<void>) => Promise<void>;
}

/** Reads one input into the pool; `readDone` resolves when its last chunk is submitted. */
function startInput(input: LogInput, want: InputOutputs, ctx: InputContext): { readDone: Promise<void>; finished: Promise<InputSummary> } {
  let markReadDone!: () => void;
  const readDone = new Promise<void>((r) => (markReadDone = r));
  const finished = runInput(input, want, ctx, markReadDone);
  finished.catch(() => markReadDone());
  return { readDone, finished };
}

async function runInput(input: LogInput, want: InputOutputs, ctx: InputContext, markReadDone: () => void): Promise<InputSummary> {
  const { logsDir, opts, pool, rings, progress } = ctx;
  const date = input.date!;
  const work = path.join(logsDir, '.tmp', input.stem);
  await fs.promises.mkdir(path.join(work, 'parts'), { recursive: true });
  const outputs = new CourseOutputs(path.join(work, 'parts'), pool, opts.gzipLevel, opts.workers * 2, rings.compress);
  const rejects = new RejectWriter(path.join(work, 'rejects.jsonl.gz'));
  const perCourse = new Map<string, number>();
  let lines = 0;
  let events = 0;
  let unknown = 0;
  let applied: Promise<void> = Promise.resolve();
  let applyError: Error | null = null;

  // the workers' batches are written as they come: merging them here would cost the reader
  // thread (measured ~1.1 s per 1M events), holding them would cost memory; the load reads
  // several batches per course just as well
  const facts = want.facts ? new FactsWriter(path.join(work, 'parts', FACTS_FILE)) : null;
  const apply = async (r: SplitChunkResult | AggregateChunkResult): Promise<void> => {
    const base = lines;
    lines += r.lines;
    progress.lines += r.lines;
    for (const rej of r.rejects) {
      await rejects.write({ line: base + rej.line + 1, reason: rej.reason, raw: rej.raw, ...(rej.rawBase64 ? { rawBase64: rej.rawBase64 } : {}) });
    }
    progress.rejects += r.rejects.length;
    if (facts !== null) {
      const t0 = performance.now();
      if ('data' in r) {
        if (r.factsStart !== undefined) await facts.add({ bytes: r.data.subarray(r.factsStart), days: r.factDays ?? [] });
      } else {
        await facts.add({ bytes: r.facts, days: r.factDays });
      }
      progress.factsMs += performance.now() - t0;
    }
    r.courses.forEach((c, i) => {
      const n = r.counts[i]!;
      events += n;
      if (c === '') unknown += n;
      else perCourse.set(c, (perCourse.get(c) ?? 0) + n);
    });
    progress.events += r.counts.reduce((a, b) => a + b, 0);
    if ('data' in r) {
      const data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
      await outputs.add(r.courses.map((courseId, i) => ({ courseId, bytes: data.subarray(r.offsets[i], r.offsets[i + 1]) })));
    }
  };

  let status: 'done' | 'partial' = 'done';
  let error: string | undefined;
  try {
    if (input.size > 0) {
      for await (const { slot, bytes } of readLineChunks(input.path, input.gzip, rings.chunks, progress)) {
        const resultSlot = await rings.results.acquire(); // waits while all chunks in flight hold one
        const name = want.logs ? 'split' : 'aggregate';
        // a ring buffer is named by its index; a chunk with its own buffer (a very long line) is moved
        const task = (slot >= 0
          ? pool.run({ slot, length: bytes.length, facts: want.facts, resultSlot }, { name })
          : pool.run({ chunk: bytes, facts: want.facts, resultSlot }, { name, transferList: [bytes.buffer as ArrayBuffer] })) as Promise<SplitWireResult | AggregateWireResult>;
        task.catch(() => undefined);
        applied = applied.then(async () => {
          try {
            if (!applyError) {
              // the result's bytes: moved with it, or in its result ring buffer
              const { data, resultBytes, ...r } = await task;
              const bytes = data ?? rings.results.view(resultSlot, resultBytes);
              await apply('offsets' in r ? { ...r, data: bytes } : { ...r, facts: bytes });
            }
          } catch (e) {
            applyError ??= e as Error;
          } finally {
            // a worker may still use the buffers of a chunk whose result is not wanted
            await task.then(() => undefined, () => undefined);
            if (slot >= 0) rings.chunks.release(slot);
            rings.results.release(resultSlot);
          }
        });
      }
    }
  } catch (e) {
    if (!(e instanceof InputReadError)) {
      markReadDone();
      await applied;
      await facts?.close().catch(() => undefined);
      await outputs.close();
      throw e;
    }
    status = 'partial';
    error = e.message;
    const tail = e.tail;
    applied = applied.then(async () => {
      if (tail.length === 0) return;
      const buf = Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength);
      lines += 1;
      progress.lines += 1;
      progress.rejects += 1;
      await rejects.write({ line: lines, reason: `incomplete line cut off by the read error (${e.message})`, raw: buf.toString('utf8'), rawBase64: buf.toString('base64') });
    });
  }
  markReadDone();
  await applied;
  if (applyError) {
    await facts?.close().catch(() => undefined);
    await outputs.close();
    throw applyError;
  }
  await outputs.finish();
  const hadRejects = await rejects.close();
  let dates: Record<string, string[]> | undefined;
  if (facts !== null) {
    const t0 = performance.now();
    dates = await facts.close();
    progress.factsMs += performance.now() - t0;
  }

  const marker: InputMarker = {
    version: 1, stem: input.stem, input: input.path, size: input.size, mtimeMs: input.mtimeMs, date, status,
    ...(error ? { error } : {}),
    outputs: want, ...(dates ? { factDates: dates, factsVersion: FACTS_VERSION } : {}),
    lines, events, rejects: rejects.count, unknown, perCourse: sortedRecord(perCourse), finishedAt: new Date().toISOString(),
  };
  await ctx.commit(() => commitInput(logsDir, work, marker, hadRejects, ctx.markers));
  progress.filesFinished++;
  return {
    input: input.path, stem: input.stem, date, status, ...(error ? { error } : {}),
    lines, events, rejects: rejects.count, unknown, perCourse: marker.perCourse,
  };
}

/**
 * Moves one input's finished outputs into place: parts, rejects, the per-date course files,
 * then the marker, last, so a run killed anywhere before it redoes the input.
 */
async function commitInput(logsDir: string, work: string, marker: InputMarker, hadRejects: boolean, markers: Map<string, InputMarker>): Promise<void> {
  // the old marker goes first: a run killed while the parts are being swapped redoes the input
  await unlinkIfExists(markerPath(logsDir, marker.stem));
  const dest = partsDir(logsDir, marker.stem);
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  await fs.promises.rm(path.join(work, 'old'), { recursive: true, force: true });
  try {
    await fs.promises.rename(dest, path.join(work, 'old'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fs.promises.rename(path.join(work, 'parts'), dest);
  const rejectFile = path.join(logsDir, '_rejects', `${marker.stem}.jsonl.gz`);
  if (hadRejects) {
    await fs.promises.mkdir(path.dirname(rejectFile), { recursive: true });
    await fs.promises.rename(path.join(work, 'rejects.jsonl.gz'), rejectFile);
  } else {
    await unlinkIfExists(rejectFile);
  }
  const old = markers.get(marker.stem);
  markers.set(marker.stem, marker);
  // only inputs split with their log files take part in the per-date files
  const withLogs = () => [...markers.values()].filter(hasLogs);
  const oldCourses = old && hasLogs(old) ? markerCourseIds(old) : [];
  if (hasLogs(marker) || oldCourses.length > 0) await assembleDate(logsDir, marker.date, withLogs(), old?.date === marker.date ? oldCourses : []);
  if (old && old.date !== marker.date && oldCourses.length > 0) await assembleDate(logsDir, old.date, withLogs(), oldCourses);
  await writeMarker(logsDir, marker);
  await fs.promises.rm(work, { recursive: true, force: true });
}
