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

/** Writes an input's facts: the workers' batches as they came (several per course). */
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

/** Per course, the sorted UTC dates on which its facts (any number of batches) have anything. */
export function factDates(batches: readonly CourseFacts[]): Record<string, string[]> {
  const byCourse = new Map<string, Set<number>>();
  for (const f of batches) {
    let days = byCourse.get(f.course);
    if (days === undefined) byCourse.set(f.course, (days = new Set()));
    for (const d of f.days) days.add(d);
  }
  const out: Record<string, string[]> = {};
  for (const course of [...byCourse.keys()].sort()) {
    const days = byCourse.get(course)!;
    if (days.size > 0) out[course] = [...days].sort((a, b) => a - b).map((d) => utcDateOfMicros(d * MICROS_PER_DAY));
  }
  return out;
}
