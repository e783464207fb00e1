import fs from 'node:fs';
import path from 'node:path';
import { FACTS_VERSION } from '../aggregate/factsFile.ts';
import { writeFileAtomic } from '../fsutil.ts';

/**
 * What `META/<stem>.json` records about one input after it was split (spec §1.5, REC: written
 * atomically after the input's outputs, with counts). `status` is `partial` when the input
 * could not be read to its end: its outputs hold what was read, and the next run redoes it.
 */
export interface InputMarker {
  version: 1;
  stem: string;
  input: string;
  size: number;
  mtimeMs: number;
  date: string;
  status: 'done' | 'partial';
  error?: string;
  lines: number;
  events: number;
  rejects: number;
  unknown: number;
  /** Events per slash-form course id (the unknown bucket is `unknown`, not listed here). */
  perCourse: Record<string, number>;
  /** What the input's parts hold; absent in markers of the first version: log files only. */
  outputs?: InputOutputs;
  /** With facts: per course, the UTC dates its facts have events on (what a load must refresh). */
  factDates?: Record<string, string[]>;
  /** With facts: the format version of its facts file (absent before version 3). */
  factsVersion?: number;
  finishedAt: string;
}

export interface InputOutputs {
  /** Per-course log files (`split`). */
  logs: boolean;
  /** The aggregates' facts (`person-day`). */
  facts: boolean;
}

/** Facts of another format version do not count: the next pass that wants facts redoes the input. */
export function markerOutputs(m: InputMarker): InputOutputs {
  const o = m.outputs ?? { logs: true, facts: false };
  return o.facts && m.factsVersion !== FACTS_VERSION ? { logs: o.logs, facts: false } : o;
}

export function hasLogs(m: InputMarker): boolean {
  return markerOutputs(m).logs;
}

/** The courses an input had events in: its per-course keys, plus '' (unknown) when it had any. */
export function markerCourseIds(m: InputMarker): string[] {
  const ids = Object.keys(m.perCourse);
  if (m.unknown > 0) ids.push('');
  return ids;
}

export function markerDir(logsDir: string): string {
  return path.join(logsDir, 'META');
}

export function markerPath(logsDir: string, stem: string): string {
  return path.join(markerDir(logsDir), `${stem}.json`);
}

/** Every marker in the logs directory, by stem. Unreadable markers count as absent. */
export async function loadMarkers(logsDir: string): Promise<Map<string, InputMarker>> {
  const out = new Map<string, InputMarker>();
  let names: string[];
  try {
    names = await fs.promises.readdir(markerDir(logsDir));
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (!name.endsWith('.json')) continue;
    try {
      const m = JSON.parse(await fs.promises.readFile(path.join(markerDir(logsDir), name), 'utf8')) as InputMarker;
      if (m.version === 1 && typeof m.stem === 'string') out.set(m.stem, m);
    } catch {
      // a torn or foreign file: the input will simply be redone
    }
  }
  return out;
}

export async function writeMarker(logsDir: string, marker: InputMarker): Promise<void> {
  await writeFileAtomic(markerPath(logsDir, marker.stem), JSON.stringify(marker, null, 2) + '\n', path.join(logsDir, '.tmp'));
}
