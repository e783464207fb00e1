/**
 * The course SQL dirs (spec §1.5–§1.6): `<sqlDir>/<course dir>/<dump date>/` as written by
 * `waldofy`, and how later steps find a course's directory and choose its dump date.
 *
 * Course dir names tried, in this order: `ORG__NUM__RUN`, `ORG-NUM-RUN` (what waldofy writes),
 * `NUM-RUN` (a local variant without the org). Courses waldofy did not recognise go to
 * `<sqlDir>/UNKNOWN/`, which is never a course's dir.
 *
 * Latest date (§1.6 REC): the greatest valid ISO date (`YYYY-MM-DD`, a real date) whose
 * directory holds at least `users` and `enrollment` (`.csv.gz`, or `.csv`), so that a
 * half-copied newer dump is not picked. A pinned date only has to exist as a directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isValidDate } from '../events/time.ts';
import { safePathComponent, slashCourseId } from '../ids.ts';

/** The quarantine directory of courses that were not asked for (spec §1.4 step 6). */
export const UNKNOWN_SQL_DIR = 'UNKNOWN';

/** Tables a dump date's directory must hold to be chosen as the latest. */
export const REQUIRED_FOR_LATEST = ['users', 'enrollment'] as const;

export class SqlDirError extends Error {}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  return m !== null && isValidDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** `safePathComponent`, and never the name of the quarantine directory (any case). */
function safeCourseDir(name: string): string {
  const safe = safePathComponent(name);
  return safe.toUpperCase() === UNKNOWN_SQL_DIR ? `%${safe.charCodeAt(0).toString(16).toUpperCase()}${safe.slice(1)}` : safe;
}

/**
 * The directory name waldofy writes for a course: the transparent id with `/` replaced by `-`
 * (`course-v1:MITx+6.00x+1T2017` → `MITx-6.00x-1T2017`), as one safe path component.
 */
export function waldoCourseDirName(courseId: string): string {
  return safeCourseDir(slashCourseId(courseId).replace(/\//g, '-'));
}

/** Candidate course dir names, in the order they are tried (spec §1.5). */
export function courseDirCandidates(courseId: string): string[] {
  const id = slashCourseId(courseId);
  const parts = id.split('/');
  const out = [safeCourseDir(id.replace(/\//g, '__')), waldoCourseDirName(id)];
  if (parts.length === 3) out.push(safeCourseDir(`${parts[1]}-${parts[2]}`));
  return [...new Set(out)];
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** The course's directory under `sqlDir`: the first candidate that exists. */
export async function findCourseSqlDir(sqlDir: string, courseId: string): Promise<string> {
  const tried = courseDirCandidates(courseId);
  for (const name of tried) {
    const p = path.join(sqlDir, name);
    if (await isDir(p)) return p;
  }
  throw new SqlDirError(`no SQL directory for course ${slashCourseId(courseId)} in ${sqlDir} (tried ${tried.join(', ')}); run waldofy on its weekly dump first`);
}

/** The path of table `short` (`users`, `enrollment`, …) in a dump date's dir, or null when absent. */
export async function sqlTableFile(dateDir: string, short: string): Promise<string | null> {
  for (const ext of ['.csv.gz', '.csv']) {
    const p = path.join(dateDir, short + ext);
    try {
      if ((await fs.promises.stat(p)).isFile()) return p;
    } catch {
      // next
    }
  }
  return null;
}

export interface DumpDateDir {
  date: string;
  dir: string;
  /** Which of `REQUIRED_FOR_LATEST` are missing (empty: the date may be chosen as the latest). */
  missing: string[];
}

/** The valid ISO-dated sub-directories of a course dir, oldest first. Other names are ignored. */
export async function listDumpDates(courseDir: string): Promise<DumpDateDir[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(courseDir);
  } catch (e) {
    throw new SqlDirError(`cannot list ${courseDir}: ${(e as Error).message}`);
  }
  const out: DumpDateDir[] = [];
  for (const date of names.filter(isIsoDate).sort()) {
    const dir = path.join(courseDir, date);
    if (!(await isDir(dir))) continue;
    const missing: string[] = [];
    for (const t of REQUIRED_FOR_LATEST) if ((await sqlTableFile(dir, t)) === null) missing.push(t);
    out.push({ date, dir, missing });
  }
  return out;
}

export interface CourseSqlDir {
  /** Transparent course id. */
  courseId: string;
  courseDir: string;
  /** The chosen dump date (`sql_dir_date`), to be recorded in every output's metadata. */
  date: string;
  /** `<courseDir>/<date>`. */
  dir: string;
  /** True when the date was pinned rather than chosen as the latest. */
  pinned: boolean;
}

/** The latest usable dump date of a course dir (spec §1.6 REC). */
export async function latestDumpDate(courseDir: string): Promise<DumpDateDir> {
  const dates = await listDumpDates(courseDir);
  for (let i = dates.length - 1; i >= 0; i--) {
    const d = dates[i] as DumpDateDir;
    if (d.missing.length === 0) return d;
  }
  if (dates.length === 0) throw new SqlDirError(`no dump date directory (YYYY-MM-DD) in ${courseDir}`);
  const seen = dates.map((d) => `${d.date} (no ${d.missing.join(', no ')})`).join('; ');
  throw new SqlDirError(`no dump date in ${courseDir} holds ${REQUIRED_FOR_LATEST.join(' and ')}: ${seen}`);
}

/**
 * The SQL dir of a course for one run: `date` pins the dump date (spec §1.6: `--course-date-dir`
 * or a `course_axis_pin_dates` entry); without it the latest usable date is taken.
 */
export async function chooseCourseSqlDir(sqlDir: string, courseId: string, opts: { date?: string | undefined } = {}): Promise<CourseSqlDir> {
  const courseDir = await findCourseSqlDir(sqlDir, courseId);
  const id = slashCourseId(courseId);
  if (opts.date !== undefined) {
    if (!isIsoDate(opts.date)) throw new SqlDirError(`the dump date must be a real date YYYY-MM-DD, got "${opts.date}"`);
    const dir = path.join(courseDir, opts.date);
    if (!(await isDir(dir))) {
      const have = (await listDumpDates(courseDir)).map((d) => d.date);
      throw new SqlDirError(`course ${id} has no dump dated ${opts.date} in ${courseDir} (dates present: ${have.length > 0 ? have.join(', ') : 'none'})`);
    }
    return { courseId: id, courseDir, date: opts.date, dir, pinned: true };
  }
  const d = await latestDumpDate(courseDir);
  return { courseId: id, courseDir, date: d.date, dir: d.dir, pinned: false };
}
