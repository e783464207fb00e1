import fs from 'node:fs';
import path from 'node:path';
import { safePathComponent } from '../ids.ts';
import { isValidDate } from '../events/time.ts';

/** One daily log file to read. */
export interface LogInput {
  path: string;
  /** Marker / reject / parts name of this input (spec §1.5 stem), made path-safe. */
  stem: string;
  /** `YYYY-MM-DD` from the base name (REC of §1.1), or from --date; null when neither has one. */
  date: string | null;
  gzip: boolean;
  size: number;
  mtimeMs: number;
}

const LOG_NAME = /\.(log|log\.gz|json\.gz)$/;
const DATE_IN_NAME = /(\d{4})-(\d{2})-(\d{2})/;

/** The first valid `YYYY-MM-DD` in a file's base name (never its directory: spec §1.1 pitfall). */
export function dateFromBaseName(file: string): string | null {
  const m = DATE_IN_NAME.exec(path.basename(file));
  if (!m) return null;
  return isValidDate(Number(m[1]), Number(m[2]), Number(m[3])) ? m[0] : null;
}

/** Spec §1.5 stem: base name minus `.gz` and one more suffix for gzip files, minus one suffix otherwise. */
export function inputStem(file: string): string {
  let base = path.basename(file);
  if (base.endsWith('.gz')) base = base.slice(0, -3);
  const dot = base.lastIndexOf('.');
  if (dot > 0) base = base.slice(0, dot);
  return safePathComponent(base);
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() && LOG_NAME.test(e.name)) out.push(p);
  }
}

/**
 * Expands files and directories (recursively: `*.log`, `*.log.gz`, `*.json.gz`) into inputs,
 * sorted by path so runs are repeatable. A file named explicitly is read whatever its suffix
 * (`.gz` means gzip).
 */
export async function discoverInputs(args: string[], dateOverride?: string): Promise<LogInput[]> {
  const files: string[] = [];
  for (const a of args) {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(a);
    } catch {
      throw new Error(`input not found: ${a}`);
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      await walk(a, found);
      found.sort();
      files.push(...found);
    } else {
      files.push(a);
    }
  }
  const seen = new Set<string>();
  const inputs: LogInput[] = [];
  for (const f of files) {
    const abs = path.resolve(f);
    if (seen.has(abs)) continue;
    seen.add(abs);
    const st = await fs.promises.stat(abs);
    inputs.push({
      path: abs,
      stem: inputStem(abs),
      date: dateOverride ?? dateFromBaseName(abs),
      gzip: abs.endsWith('.gz'),
      size: st.size,
      mtimeMs: st.mtimeMs,
    });
  }
  return inputs;
}
