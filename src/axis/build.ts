/**
 * From an input (OLX tarball, or the course_structure JSON fallback) to course_axis and
 * grading_policy rows for one requested course id. No warehouse here (see `tables.ts`).
 */
import { slashCourseId } from '../ids.ts';
import { walkAxis, type AxisRow } from './courseAxis.ts';
import { courseStructureTree, readCourseStructureFile } from './courseStructure.ts';
import { AxisInputError, AxisLog } from './errors.ts';
import { gradingPolicyTable, type GradingPolicyTable } from './gradingPolicy.ts';
import { findRuns, inlineCourse, readOlxTarball, readOlxTarballBuffer, selectRun, type OlxArchive } from './olx.ts';

export interface CourseTriple {
  /** Slash form `ORG/NUM/RUN`. */
  readonly courseId: string;
  readonly org: string;
  readonly num: string;
  readonly run: string;
}

/** The requested course id in either form; anything but ORG/NUM/RUN is refused. */
export function parseCourseId(courseId: string): CourseTriple {
  const id = slashCourseId(courseId.trim());
  const parts = id.split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw new AxisInputError(`course id ${JSON.stringify(courseId)}: expected ORG/NUM/RUN or course-v1:ORG+NUM+RUN`);
  }
  return { courseId: id, org: parts[0] as string, num: parts[1] as string, run: parts[2] as string };
}

export interface AxisBuild {
  /** Slash form. */
  readonly courseId: string;
  readonly source: 'olx' | 'course_structure';
  /** The input file. */
  readonly input: string;
  /** The OLX run used (null for the structure fallback). */
  readonly run: string | null;
  readonly rows: AxisRow[];
  readonly gradingPolicy: GradingPolicyTable;
  /** The grading_policy.json used, inside the tarball (null: none). */
  readonly gradingPolicyFile: string | null;
  readonly log: AxisLog;
}

/** Rows of an OLX archive already read. */
export function buildAxisFromArchive(archive: OlxArchive, courseId: string, log: AxisLog = new AxisLog()): AxisBuild {
  const c = parseCourseId(courseId);
  const run = selectRun(findRuns(archive, log), c.run, archive.source);
  const xmlOrg = run.courseAttrs.org;
  const xmlNum = run.courseAttrs.course;
  if ((xmlOrg !== undefined && xmlOrg !== c.org) || (xmlNum !== undefined && xmlNum !== c.num)) {
    log.warn(`${run.courseFile} says org="${xmlOrg ?? ''}" course="${xmlNum ?? ''}"; module ids use the requested ${c.org}/${c.num}`);
  }
  const course = inlineCourse(archive, run, log);
  const rows = walkAxis([course.tree], { courseId: c.courseId, org: c.org, num: c.num, policy: run.policy, log });
  if (!course.gradingPolicyFile) log.warn(`no grading_policy.json for run ${run.semester}: grading_policy has no rows`);
  return {
    courseId: c.courseId,
    source: 'olx',
    input: archive.source,
    run: run.semester,
    rows,
    gradingPolicy: gradingPolicyTable(course.gradingPolicy, log),
    gradingPolicyFile: course.gradingPolicyFile,
    log,
  };
}

/** Rows of an OLX tarball file. Throws `AxisInputError` for a corrupt tarball or a missing run. */
export async function buildAxisFromTarball(file: string, courseId: string): Promise<AxisBuild> {
  parseCourseId(courseId); // refuse a bad id before reading anything
  const log = new AxisLog();
  return buildAxisFromArchive(await readOlxTarball(file, log), courseId, log);
}

/** The same from tarball bytes. */
export async function buildAxisFromTarballBuffer(buf: Buffer, courseId: string, source = '<buffer>'): Promise<AxisBuild> {
  parseCourseId(courseId);
  const log = new AxisLog();
  return buildAxisFromArchive(await readOlxTarballBuffer(buf, source, log), courseId, log);
}

/** Rows of a parsed course_structure dict. */
export function buildAxisFromStructureJson(json: unknown, courseId: string, source = '<course_structure>'): AxisBuild {
  const c = parseCourseId(courseId);
  const log = new AxisLog();
  const t = courseStructureTree(json, source, log);
  if ((t.org !== null && t.org !== c.org) || (t.num !== null && t.num !== c.num)) {
    log.warn(`${source}: block ids say ${t.org}/${t.num}; module ids use the requested ${c.org}/${c.num}`);
  }
  const rows = walkAxis(t.roots, { courseId: c.courseId, org: c.org, num: c.num, policy: {}, log });
  log.warn('course_structure has no grading policy: grading_policy has no rows');
  return { courseId: c.courseId, source: 'course_structure', input: source, run: null, rows, gradingPolicy: gradingPolicyTable(null, log), gradingPolicyFile: null, log };
}

/** Rows of a course_structure file (`.json` or `.json.gz`). */
export function buildAxisFromStructureFile(file: string, courseId: string): AxisBuild {
  parseCourseId(courseId);
  return buildAxisFromStructureJson(readCourseStructureFile(file), courseId, file);
}
