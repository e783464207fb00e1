/**
 * Warehouse tables of the axis step: `<course schema>.course_axis` and `.grading_policy`, each
 * replaced as a whole on every load.
 *
 * `data` (a RECORD in the original) is stored twice: as JSON text in the `data` column, in its
 * schema position, for parity (`json_extract_string(data, '$.ytid')` in DuckDB), and flattened
 * into typed `data_<field>` columns after the spec's columns, which is what SQL should use
 * (`data_itype`, `data_weight`): engine-neutral, typed, no JSON functions needed.
 */
import type { Cell, ColumnDef, LoadResult, Warehouse } from '../warehouse/warehouse.ts';
import { courseSchema } from '../warehouse/naming.ts';
import { buildAxisFromStructureFile, buildAxisFromTarball, parseCourseId, type AxisBuild } from './build.ts';
import { categoryCounts, dataJson, type AxisRow } from './courseAxis.ts';
import { AxisInputError } from './errors.ts';

export const COURSE_AXIS_TABLE = 'course_axis';
export const GRADING_POLICY_TABLE = 'grading_policy';

/** The spec's course_axis columns in order (`data` as JSON text), then the flattened `data` fields. */
export const COURSE_AXIS_COLUMNS: readonly ColumnDef[] = [
  { name: 'category', type: 'VARCHAR' },
  { name: 'index', type: 'INTEGER' },
  { name: 'url_name', type: 'VARCHAR' },
  { name: 'name', type: 'VARCHAR' },
  { name: 'gformat', type: 'VARCHAR' },
  { name: 'due', type: 'TIMESTAMP' },
  { name: 'start', type: 'TIMESTAMP' },
  { name: 'module_id', type: 'VARCHAR' },
  { name: 'course_id', type: 'VARCHAR' },
  { name: 'path', type: 'VARCHAR' },
  { name: 'data', type: 'VARCHAR' },
  { name: 'chapter_mid', type: 'VARCHAR' },
  { name: 'graded', type: 'VARCHAR' },
  { name: 'parent', type: 'VARCHAR' },
  { name: 'is_split', type: 'BOOLEAN' },
  { name: 'split_url_name', type: 'VARCHAR' },
  { name: 'data_ytid', type: 'VARCHAR' },
  { name: 'data_weight', type: 'DOUBLE' },
  { name: 'data_group_id_to_child', type: 'VARCHAR' },
  { name: 'data_user_partition_id', type: 'VARCHAR' },
  { name: 'data_itype', type: 'VARCHAR' },
  { name: 'data_num_items', type: 'INTEGER' },
  { name: 'data_has_solution', type: 'BOOLEAN' },
  { name: 'data_has_image', type: 'BOOLEAN' },
];

/** One row in COURSE_AXIS_COLUMNS order. */
export function courseAxisCells(r: AxisRow): Cell[] {
  const d = r.data;
  return [
    r.category, r.index, r.url_name, r.name, r.gformat, r.due, r.start, r.module_id, r.course_id, r.path, dataJson(d),
    r.chapter_mid, r.graded, r.parent, r.is_split, r.split_url_name,
    d?.ytid ?? null, d?.weight ?? null, d?.group_id_to_child ?? null, d?.user_partition_id ?? null, d?.itype ?? null,
    d?.num_items ?? null, d?.has_solution ?? null, d?.has_image ?? null,
  ];
}

export interface AxisSource {
  /** An OLX export tarball (preferred). */
  tarball?: string;
  /** `course_structure-prod-analytics.json(.gz)`, used when there is no tarball. */
  structureJson?: string;
}

export interface AxisLoadSummary {
  /** Slash form. */
  readonly courseId: string;
  readonly schema: string;
  readonly source: 'olx' | 'course_structure';
  readonly input: string;
  readonly run: string | null;
  readonly courseAxisRows: number;
  readonly gradingPolicyRows: number;
  readonly gradingPolicyFile: string | null;
  /** Rows per category, in course order of first appearance. */
  readonly categories: Record<string, number>;
  readonly warnings: readonly string[];
  /** Warnings beyond the kept ones. */
  readonly warningsDropped: number;
  readonly loads: { readonly courseAxis: LoadResult; readonly gradingPolicy: LoadResult };
}

/** Reads the source and builds the rows (tarball first, else the structure JSON). */
export async function buildAxis(courseId: string, source: AxisSource): Promise<AxisBuild> {
  if (source.tarball) return buildAxisFromTarball(source.tarball, courseId);
  if (source.structureJson) return buildAxisFromStructureFile(source.structureJson, courseId);
  throw new AxisInputError(`${courseId}: no course content: neither an OLX tarball nor a course_structure file`);
}

/**
 * Computes course_axis and grading_policy for `courseId` and replaces both tables in the
 * course's schema. Nothing is written when the input cannot be read (AxisInputError).
 */
export async function loadAxis(warehouse: Warehouse, courseId: string, source: AxisSource, command: string): Promise<AxisLoadSummary> {
  const schema = courseSchema(parseCourseId(courseId).courseId);
  const b = await buildAxis(courseId, source);
  const inputs = [b.input];
  const what = b.source === 'olx' ? `OLX run ${b.run ?? ''}` : 'course_structure';
  const courseAxis = await warehouse.replaceTable({ schema, table: COURSE_AXIS_TABLE }, COURSE_AXIS_COLUMNS, b.rows.map(courseAxisCells), {
    command,
    step: `load course_axis (${what})`,
    inputs,
  });
  const gradingPolicy = await warehouse.replaceTable({ schema, table: GRADING_POLICY_TABLE }, b.gradingPolicy.columns, b.gradingPolicy.rows, {
    command,
    step: `load grading_policy (${b.gradingPolicyFile ?? 'no grading_policy.json'})`,
    inputs: b.gradingPolicyFile ? [`${b.input}#${b.gradingPolicyFile}`] : inputs,
  });
  return {
    courseId: b.courseId,
    schema,
    source: b.source,
    input: b.input,
    run: b.run,
    courseAxisRows: b.rows.length,
    gradingPolicyRows: b.gradingPolicy.rows.length,
    gradingPolicyFile: b.gradingPolicyFile,
    categories: categoryCounts(b.rows),
    warnings: b.log.warnings,
    warningsDropped: b.log.dropped,
    loads: { courseAxis, gradingPolicy },
  };
}
