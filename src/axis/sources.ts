/**
 * The axis input of a course in its course SQL dir (spec §5.1): the first OLX tarball that
 * exists, else the course_structure JSON. The dump date is chosen by `src/dump/sqlDirs.ts`
 * (pinned `date`, else the latest usable one).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chooseCourseSqlDir, type CourseSqlDir } from '../dump/sqlDirs.ts';
import { AxisInputError } from './errors.ts';
import type { AxisSource } from './tables.ts';

/** Tried in this order (spec §5.1). */
export const TARBALL_NAMES = ['course.xml.tar.gz', 'course-prod-analytics.xml.tar.gz', 'course-prod-edge-analytics.xml.tar.gz', 'course-prod-edx-replica.xml.tar.gz'] as const;
/** The fallback when no tarball exists. */
export const STRUCTURE_NAMES = ['course_structure-prod-analytics.json.gz', 'course_structure-prod-analytics.json'] as const;

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The first tarball in `dir`, else the first course_structure file, else null. */
export function axisSourceIn(dir: string): AxisSource | null {
  for (const n of TARBALL_NAMES) if (isFile(path.join(dir, n))) return { tarball: path.join(dir, n) };
  for (const n of STRUCTURE_NAMES) if (isFile(path.join(dir, n))) return { structureJson: path.join(dir, n) };
  return null;
}

/** The course's SQL dir (`<sqlDir>/<course dir>/<date>`) and the axis input in it. */
export async function findAxisSource(sqlDir: string, courseId: string, date?: string): Promise<{ sqlDir: CourseSqlDir; source: AxisSource }> {
  const d = await chooseCourseSqlDir(sqlDir, courseId, { date });
  const source = axisSourceIn(d.dir);
  if (!source) throw new AxisInputError(`${d.dir}: no course tarball (${TARBALL_NAMES.join(', ')}) and no ${STRUCTURE_NAMES.join(' or ')}: no course axis`);
  return { sqlDir: d, source };
}
