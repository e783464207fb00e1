/**
 * grading_policy rows (spec §5.4): one row per `GRADER` entry of grading_policy.json, with every
 * `GRADE_CUTOFFS` entry repeated on each row as `overall_cutoff_for_<lower(key)>`.
 *
 * Columns: the six usual ones always come first, in a fixed order, whether the policy has them
 * or not (so per-course tables union cleanly); other GRADER keys follow in first-seen order,
 * then the cutoffs in file order. Types follow the spec's name rule.
 */
import type { Cell, ColumnDef, ColumnType } from '../warehouse/warehouse.ts';
import type { AxisLog } from './errors.ts';
import { asText } from './values.ts';

export const GRADING_POLICY_BASE_COLUMNS: readonly ColumnDef[] = [
  { name: 'assignment_type', type: 'VARCHAR' },
  { name: 'name', type: 'VARCHAR' },
  { name: 'fraction_of_overall_grade', type: 'DOUBLE' },
  { name: 'min_count', type: 'INTEGER' },
  { name: 'drop_count', type: 'INTEGER' },
  { name: 'short_label', type: 'VARCHAR' },
];

const STRING_NAMES = new Set(['name', 'category', 'show_only_average', 'section_type', 'assignment_type']);

/** The spec's type rule for a grading_policy column name. */
export function gradingPolicyColumnType(name: string): ColumnType {
  if (name.includes('_id') || name.includes('_label') || STRING_NAMES.has(name)) return 'VARCHAR';
  if (name.includes('_count')) return 'INTEGER';
  if (name.includes('hide_')) return 'VARCHAR';
  return 'DOUBLE';
}

/** A policy key as a column name: the original's replacements, then anything else outside `[A-Za-z0-9_]` → `_`. */
export function gradingPolicyColumnName(key: string): string {
  let s = key.replace(/[. +]/g, '_').replace(/-/g, '__').replace(/[^A-Za-z0-9_]/g, '_');
  if (s === '' || /^[0-9]/.test(s)) s = `_${s}`;
  return s;
}

function toCell(v: unknown, type: ColumnType, where: string, log: AxisLog): Cell {
  if (v === null || v === undefined) return null;
  if (type === 'VARCHAR') return asText(v);
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : Number.NaN;
  if (!Number.isFinite(n)) {
    log.warn(`grading policy ${where}: ${JSON.stringify(v)} is not a number; stored as null`);
    return null;
  }
  if (type === 'INTEGER') {
    if (!Number.isInteger(n) || Math.abs(n) > 2 ** 31 - 1) {
      log.warn(`grading policy ${where}: ${JSON.stringify(v)} is not an integer; stored as null`);
      return null;
    }
    return n;
  }
  return n;
}

export interface GradingPolicyTable {
  readonly columns: readonly ColumnDef[];
  readonly rows: Cell[][];
  /** Σ GRADER weights (null when there are no graders). */
  readonly weightSum: number | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The table of a parsed grading_policy.json (`null`: no policy → the base columns, no rows). */
export function gradingPolicyTable(gp: unknown, log: AxisLog): GradingPolicyTable {
  const columns: ColumnDef[] = [...GRADING_POLICY_BASE_COLUMNS];
  if (gp === null || gp === undefined) return { columns, rows: [], weightSum: null };
  if (!isObject(gp)) {
    log.warn('grading_policy.json does not hold a JSON object: no grading_policy rows');
    return { columns, rows: [], weightSum: null };
  }
  const graders = Array.isArray(gp.GRADER) ? gp.GRADER.filter(isObject) : [];
  if (graders.length === 0) log.warn('grading policy has no GRADER entries: no grading_policy rows');
  const cutoffs = isObject(gp.GRADE_CUTOFFS) ? gp.GRADE_CUTOFFS : {};
  if (Object.keys(cutoffs).length === 0) log.warn('grading policy has no GRADE_CUTOFFS');

  const index = new Map<string, number>(columns.map((c, i) => [c.name, i]));
  const add = (name: string): number => {
    let i = index.get(name);
    if (i === undefined) {
      i = columns.length;
      columns.push({ name, type: gradingPolicyColumnType(name) });
      index.set(name, i);
    }
    return i;
  };
  const rename = (k: string): string => (k === 'type' ? 'assignment_type' : k === 'weight' ? 'fraction_of_overall_grade' : gradingPolicyColumnName(k));
  for (const g of graders) for (const k of Object.keys(g)) add(rename(k));
  const cutoffCols: [number, unknown, string][] = Object.entries(cutoffs).map(([k, v]) => {
    const name = gradingPolicyColumnName(`overall_cutoff_for_${k.toLowerCase()}`);
    return [add(name), v, name];
  });

  let weightSum = 0;
  const rows: Cell[][] = graders.map((g, gi) => {
    const row: Cell[] = new Array<Cell>(columns.length).fill(null);
    for (const [k, v] of Object.entries(g)) {
      const name = rename(k);
      const i = index.get(name) as number;
      row[i] = toCell(v, (columns[i] as ColumnDef).type, `GRADER[${gi}].${k}`, log);
    }
    if (row[1] === null || row[1] === undefined) row[1] = row[0] ?? null; // name defaults to assignment_type
    for (const [i, v, name] of cutoffCols) row[i] = toCell(v, (columns[i] as ColumnDef).type, name, log);
    weightSum += typeof row[2] === 'number' ? row[2] : 0;
    return row;
  });
  if (graders.length > 0 && Math.abs(weightSum - 1) >= 0.001) log.warn(`grading policy weights sum to ${weightSum}, not 1`);
  return { columns, rows, weightSum: graders.length > 0 ? weightSum : null };
}
