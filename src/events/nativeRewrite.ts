/**
 * `split`'s rewrite of a whole chunk in native code (native/rewrite.cc): for each line it
 * vouches for, the bytes of JSON.stringify(processLine(line).row) and the line's course; the
 * other lines are left to the JavaScript path (line.ts processLine). test/nativeRewrite.test.ts
 * requires the two to agree byte for byte on every generated and fixture line.
 */
import { utf8 } from '../bufferText.ts';
import { loadAddon, nativeFactsWanted, nativeScanEnabled, scanWith, type ChunkScan } from './nativeScan.ts';

/** int32 per line in `ChunkRewrite.records`, and the meaning of each. */
export const ROW_RECORD = 6;
export const RR_LINE_START = 0;
export const RR_LINE_END = 1;
export const RR_ROW_START = 2;
export const RR_ROW_END = 3;
/** The course's index in `courses` (-1: no course). */
export const RR_COURSE = 4;
/** Where the row is: 0 in `text`, 1 in the caller's extra buffer (see groupRows), -1 nowhere. */
export const RR_SOURCE = 5;

/** The rewrite of one chunk. Reused by the next call in the same thread. */
export interface ChunkRewrite {
  lines: number;
  /** ROW_RECORD int32 per line (RR_…). */
  records: Int32Array;
  text: Buffer;
  /** Bytes of rows at the start of `text`. */
  rowBytes: number;
  /** The chunk's courses, slash form, as `records` index them. */
  courses: string[];
}

let enabled = process.env.EDX2BQ_NATIVE_REWRITE !== '0';
let records = new Int32Array(4096 * (ROW_RECORD + 2) + 2);
let text = Buffer.allocUnsafeSlow(1 << 20);

/** Turns the native rewrite off or on in this thread (tests compare both paths). */
export function setNativeRewriteEnabled(on: boolean): void {
  enabled = on;
}

/**
 * Rewrites every line of `chunk` that the native code vouches for (lines cut as `forEachLine`
 * cuts them); null when the addon is not available or the rewrite is switched off.
 */
export function rewriteChunkNative(chunk: Uint8Array): ChunkRewrite | null {
  const addon = enabled ? loadAddon() : null;
  if (addon === null || addon.rewriteChunk === undefined) return null;
  const rewrite = addon.rewriteChunk.bind(addon);
  return rewritten(rewriteWith(chunk, (out) => rewrite(chunk, out, text)));
}

/**
 * rewriteChunkNative and scanChunkNative of the same chunk in one pass (split + aggregates): the
 * scan of the lines the rewrite takes reuses its reading of them. Null as rewriteChunkNative;
 * the scan is null when the native scanner is switched off. With `buildFacts` (only for a chunk
 * that is UTF-8) the native code also builds the facts of the lines whose rows it wrote, as
 * scanChunkNative does.
 */
export function rewriteAndScanChunkNative(chunk: Uint8Array, buildFacts = false): { rewrite: ChunkRewrite; scan: ChunkScan | null } | null {
  const addon = enabled ? loadAddon() : null;
  if (addon === null || addon.rewriteChunk === undefined) return null;
  if (!nativeScanEnabled()) return { rewrite: rewriteChunkNative(chunk)!, scan: null };
  const rewrite = addon.rewriteChunk.bind(addon);
  const facts = nativeFactsWanted(addon, buildFacts);
  let lines = 0;
  const scan = scanWith(chunk, (out, side, table) => (lines = rewriteWith(chunk, (rw) => rewrite(chunk, rw, text, out, side, table, facts))));
  scan.factsBuilt = facts;
  return { rewrite: rewritten(lines), scan };
}

/** Runs `call` (a rewriteChunk) with this thread's records, grown when too small for the chunk's lines. */
function rewriteWith(chunk: Uint8Array, call: (out: Int32Array) => number): number {
  // rows are about as long as their lines; one that does not fit is left to JavaScript
  const room = chunk.length * 2 + 65536;
  if (text.length < room) text = Buffer.allocUnsafeSlow(room);
  let lines = call(records);
  if (lines < 0 && records.length < -lines * (ROW_RECORD + 2) + 2) {
    records = new Int32Array(Math.max(-lines, 2 * Math.floor(records.length / (ROW_RECORD + 2))) * (ROW_RECORD + 2) + 2);
    lines = call(records);
  }
  return lines;
}

/** The result of a rewriteChunk call that returned `lines`. */
function rewritten(lines: number): ChunkRewrite {
  const at = ROW_RECORD * lines;
  const n = records[at]!;
  const courses: string[] = [];
  for (let k = 0; k < n; k++) {
    const a = records[at + 2 + 2 * k]!;
    const e = records[at + 3 + 2 * k]!;
    courses.push(utf8(text, a, e)); // a few a chunk
  }
  return { lines, records, text, rowBytes: records[at + 1]!, courses };
}

/** One course's rows in a grouped chunk: its group (see groupRows), row count and the end of its bytes. */
export interface RowGroup {
  group: number;
  count: number;
  end: number;
}

/**
 * The rows of `rw` (source 0: in rw.text, 1: in `extra`) copied into `data` grouped by course,
 * each group in line order, the groups in the order of their first rows. Group i < groups-1 is
 * course i's, group groups-1 that of the rows of no course.
 */
export function groupRows(rw: ChunkRewrite, extra: Uint8Array, groups: number, data: Uint8Array): RowGroup[] {
  const g = new Int32Array(3 * groups);
  const m = loadAddon()!.groupRows!(rw.records.subarray(0, ROW_RECORD * rw.lines), rw.text, extra, g, data);
  const out: RowGroup[] = [];
  for (let j = 0; j < m; j++) out.push({ group: g[3 * j]!, count: g[3 * j + 1]!, end: g[3 * j + 2]! });
  return out;
}
