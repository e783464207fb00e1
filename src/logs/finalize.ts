import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { assertInside, unlinkIfExists } from '../fsutil.ts';
import { courseOutputName } from '../ids.ts';
import { partFileName } from './courseOutputs.ts';
import { markerCourseIds, type InputMarker } from './markers.ts';

export function partsDir(logsDir: string, stem: string): string {
  return path.join(logsDir, '_parts', stem);
}

export function finalFile(logsDir: string, courseId: string, date: string): string {
  return assertInside(logsDir, path.join(logsDir, courseOutputName(courseId), `tracklog-${date}.json.gz`));
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([fs.promises.stat(a), fs.promises.stat(b)]);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
  }
}


/**
 * Rebuilds `<course_dir>/tracklog-<date>.json.gz` for every course of one date from the parts of
 * all inputs of that date (REC of spec §1.1: several inputs with one date are merged, never
 * overwritten). One part is hard-linked (no copy); several are concatenated as gzip members in
 * input-stem order. A course that no longer has any part loses its file.
 * `alsoCourses` names courses that had events in a replaced version of an input.
 */
export async function assembleDate(logsDir: string, date: string, markers: Iterable<InputMarker>, alsoCourses: Iterable<string>): Promise<void> {
  const inputs = [...markers].filter((m) => m.date === date).sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));
  const courses = new Set<string>(alsoCourses);
  for (const m of inputs) for (const c of markerCourseIds(m)) courses.add(c);
  const tmpDir = path.join(logsDir, '.tmp');
  await fs.promises.mkdir(tmpDir, { recursive: true });
  for (const course of [...courses].sort()) {
    const target = finalFile(logsDir, course, date);
    const parts = inputs
      .filter((m) => (course === '' ? m.unknown > 0 : (m.perCourse[course] ?? 0) > 0))
      .map((m) => path.join(partsDir(logsDir, m.stem), partFileName(course)));
    if (parts.length === 0) {
      await unlinkIfExists(target);
      continue;
    }
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    if (parts.length === 1 && (await sameFile(parts[0]!, target))) continue;
    const tmp = path.join(tmpDir, `final-${randomBytes(6).toString('hex')}`);
    if (parts.length === 1) {
      await fs.promises.link(parts[0]!, tmp);
    } else {
      for (const p of parts) await pipeline(fs.createReadStream(p), fs.createWriteStream(tmp, { flags: 'a' }));
    }
    await fs.promises.rename(tmp, target);
  }
}
