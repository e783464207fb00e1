import path from 'node:path';
import { loadConfig } from '../config.ts';
import { localInputs } from './localInputs.ts';

/**
 * Dump inputs with `s3://` ones fetched: a .zip object is used as it is; a prefix (a dump
 * directory) as the local directory its objects were fetched into.
 */
export async function localDumpInputs(inputs: string[], s3CacheDir: string): Promise<string[]> {
  const local: string[] = [];
  for (const input of inputs) {
    if (!input.startsWith('s3://')) {
      local.push(input);
      continue;
    }
    const files = await localInputs([input], s3CacheDir);
    if (files.length === 1 && files[0]!.endsWith('.zip')) local.push(files[0]!);
    else local.push(commonDir(files));
  }
  return local;
}

/** The deepest directory holding every one of `files`. */
function commonDir(files: string[]): string {
  let dir = path.dirname(files[0]!);
  while (!files.every((f) => f.startsWith(dir + path.sep))) dir = path.dirname(dir);
  return dir;
}
import { fmtInt } from '../logs/progress.ts';
import { waldofy, type WaldofySummary } from '../dump/waldofy.ts';

export interface WaldofyCliOptions {
  sqlDir?: string;
  gzipLevel?: string;
  json?: boolean;
  /** false (`--no-progress`): no progress lines on stderr. */
  progress?: boolean;
  config?: string;
}

export function formatWaldofySummary(s: WaldofySummary): string {
  const out: string[] = [];
  const f = s.files;
  out.push(`waldofy: ${s.inputs.length} dump(s), ${f.total} file(s): ${f.written} written, ${f.kept} kept (already there), ${f.skipped} skipped, ${f.refused} refused, ${f.failed} failed`);
  out.push(`  ${fmtInt(s.rows)} rows converted, ${fmtInt(s.rejects)} rejected lines; ${s.seconds.toFixed(1)} s; output in ${s.sqlDir}`);
  for (const i of s.inputs) {
    if (i.status === 'failed') {
      out.push(`  FAILED: ${i.error ?? i.input}`);
      continue;
    }
    out.push(`  ${i.input} (${i.kind}, dump date ${i.date}):`);
    for (const c of i.courses) {
      out.push(`    ${c.known ? '' : 'UNKNOWN '}${c.courseId} → ${c.dir}: ${c.outputs.length} file(s), ${fmtInt(c.rows)} rows${c.rejects > 0 ? `, ${fmtInt(c.rejects)} rejects in ${c.dir}/_rejects/` : ''}`);
      if (c.known && c.missing.length > 0) out.push(`      absent: ${c.missing.join(', ')}`);
    }
    for (const file of i.files) {
      if (file.status === 'failed' || file.status === 'refused') out.push(`    ${file.status.toUpperCase()}: ${JSON.stringify(file.name)}: ${file.reason ?? ''}`);
    }
    const skipped = i.files.filter((x) => x.status === 'skipped');
    if (skipped.length > 0) {
      const reasons = new Map<string, number>();
      for (const x of skipped) reasons.set(x.reason ?? '', (reasons.get(x.reason ?? '') ?? 0) + 1);
      for (const [r, n] of reasons) out.push(`    skipped ${n}: ${r}`);
    }
  }
  if (s.coursesNotFound.length > 0) out.push(`  courses asked for but not in the dump(s): ${s.coursesNotFound.join(', ')}`);
  return out.join('\n');
}

/**
 * `edx2bq waldofy <dump...> [--course <id>...]`: file weekly edX research dumps per course and
 * dump date under the SQL dir, with short names (spec §1.4).
 *
 * Each input is a decrypted dump directory, or a `.zip` of one, named `…-YYYY-MM-DD`. Every
 * `.sql` table becomes `<sqlDir>/<ORG-NUM-RUN>/<date>/<short>.csv.gz` (users, profiles,
 * enrollment, certificates, studentmodule, rolecourse, roleforum; other tables keep their name),
 * a gzipped CSV where null and '' stay apart; existing ones are kept. The forum `.mongo` becomes
 * `forum.mongo.gz`, the course structure `.json` is gzipped and the course `.xml.tar.gz` copied.
 * Courses not asked for go to `<sqlDir>/UNKNOWN/…`; with no course given, every course found is
 * filed. Malformed TSV lines go to `<dest>/_rejects/<short>.jsonl.gz`. Progress lines on stderr,
 * the summary on stdout. Exit code 1 when an input or a file failed or a zip member was refused.
 */
export async function runWaldofy(inputs: string[], courses: string[], o: WaldofyCliOptions): Promise<number> {
  const cfg = loadConfig({ sqlDir: o.sqlDir, gzipLevel: o.gzipLevel, config: o.config });
  if (inputs.length === 0) throw new Error('waldofy: give at least one dump directory or .zip');
  inputs = await localDumpInputs(inputs, cfg.s3CacheDir);
  const summary = await waldofy(inputs, {
    sqlDir: cfg.sqlDir,
    courses,
    gzipLevel: cfg.gzipLevel,
    ...(o.progress === false ? { log: () => undefined } : {}),
  });
  process.stdout.write(o.json ? JSON.stringify(summary, null, 2) + '\n' : formatWaldofySummary(summary) + '\n');
  const bad = summary.inputs.some((i) => i.status === 'failed') || summary.files.failed + summary.files.refused > 0;
  return bad ? 1 : 0;
}
