/**
 * One input's facts on disk: `_parts/<stem>/facts.v8`, next to its per-course parts, so it is
 * swapped in and out with them (atomically, marker last). The V8 serializer keeps typed arrays
 * as raw bytes, so writing and reading cost little more than a copy.
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import { MICROS_PER_DAY, utcDateOfMicros } from '../events/time.ts';
import type { CourseFacts } from './facts.ts';

export const FACTS_FILE = 'facts.v8';
const FACTS_VERSION = 1;

interface FactsFileContent {
  version: number;
  courses: CourseFacts[];
}

export async function writeFactsFile(file: string, courses: CourseFacts[]): Promise<void> {
  const content: FactsFileContent = { version: FACTS_VERSION, courses };
  await fs.promises.writeFile(file, v8.serialize(content));
}

export class FactsFileError extends Error {}

export async function readFactsFile(file: string): Promise<CourseFacts[]> {
  const buf = await fs.promises.readFile(file);
  let content: FactsFileContent;
  try {
    content = v8.deserialize(buf) as FactsFileContent;
  } catch (e) {
    throw new FactsFileError(`${file}: unreadable facts file (${(e as Error).message}); re-run with --force to rebuild it`);
  }
  if (content?.version !== FACTS_VERSION || !Array.isArray(content.courses)) {
    throw new FactsFileError(`${file}: facts file of another version; re-run with --force to rebuild it`);
  }
  return content.courses;
}

/** Per course, the sorted UTC dates on which its facts have anything. */
export function factDates(courses: readonly CourseFacts[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of courses) {
    const days = new Set<number>();
    const addTime = (t: number) => days.add(Math.floor(t / MICROS_PER_DAY));
    f.base.time.forEach(addTime);
    f.ip.day.forEach((d) => days.add(d));
    f.video.time.forEach(addTime);
    for (const rows of [f.forum, f.problemCheck, f.showAnswer, f.enrollment, f.transcript]) for (const r of rows) addTime(r.timeUs);
    if (days.size > 0) out[f.course] = [...days].sort((a, b) => a - b).map((d) => utcDateOfMicros(d * MICROS_PER_DAY));
  }
  return out;
}
