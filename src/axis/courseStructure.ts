/**
 * The course_structure JSON fallback (spec §1.2: `course_structure-prod-analytics.json(.gz)`,
 * a dict keyed by block id → `{category, children, metadata}`), used when the dump has no OLX
 * tarball.
 *
 * The blocks become the same element tree the OLX reader builds (tag = category, attributes =
 * metadata, `url_name` = the block's name), so the one walk of `courseAxis.ts` applies with all
 * its rules. What the structure does not carry stays empty: problem item types, images and
 * solutions (no problem content), html YouTube iframes, the policy file.
 */
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { AxisInputError, type AxisLog } from './errors.ts';
import { asText } from './values.ts';
import type { XNode } from './xml.ts';

export interface BlockKey {
  readonly org: string;
  readonly num: string;
  readonly category: string;
  readonly name: string;
}

/** `i4x://ORG/NUM/CAT/NAME[@draft]` or `block-v1:ORG+NUM+RUN+type@CAT+block@NAME`; null for other forms. */
export function parseBlockKey(id: string): BlockKey | null {
  let m = /^i4x:\/\/([^/]+)\/([^/]+)\/([^/]+)\/([^/@]+)(?:@.*)?$/.exec(id);
  if (m) return { org: m[1] as string, num: m[2] as string, category: m[3] as string, name: m[4] as string };
  m = /^block-v1:([^+]+)\+([^+]+)\+([^+]+)\+type@([^+]+)\+block@(.+)$/.exec(id);
  if (m) return { org: m[1] as string, num: m[2] as string, category: m[4] as string, name: m[5] as string };
  return null;
}

interface Block {
  category?: unknown;
  children?: unknown;
  metadata?: unknown;
}

/** Reads the JSON (gzip detected by its magic bytes). */
export function readCourseStructureFile(file: string): unknown {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new AxisInputError(`${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
    return JSON.parse(buf.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new AxisInputError(`${file}: not a readable course_structure JSON file: ${(e as Error).message}`);
  }
}

export interface StructureTree {
  /** The course block, else every block no other block lists as a child (key order). */
  readonly roots: XNode[];
  readonly blocks: number;
  /** ORG/NUM of the first parsable block id. */
  readonly org: string | null;
  readonly num: string | null;
}

/** Builds the element tree of a course_structure dict. */
export function courseStructureTree(json: unknown, source: string, log: AxisLog): StructureTree {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new AxisInputError(`${source}: course_structure must be a JSON object keyed by block id`);
  const blocks = json as Record<string, Block>;
  const ids = Object.keys(blocks);
  if (ids.length === 0) throw new AxisInputError(`${source}: course_structure holds no blocks`);
  let org: string | null = null;
  let num: string | null = null;
  const childOf = new Set<string>();
  for (const id of ids) {
    const b = blocks[id];
    if (Array.isArray(b?.children)) for (const c of b.children) if (typeof c === 'string') childOf.add(c);
  }
  let missing = 0;
  const build = (id: string, onPath: Set<string>): XNode | null => {
    const b = blocks[id];
    if (!b || typeof b !== 'object') {
      missing++;
      return null;
    }
    const key = parseBlockKey(id);
    if (key && org === null) {
      org = key.org;
      num = key.num;
    }
    const tag = typeof b.category === 'string' && b.category !== '' ? b.category : (key?.category ?? 'unknown');
    const attrs: Record<string, string> = {};
    if (typeof b.metadata === 'object' && b.metadata !== null && !Array.isArray(b.metadata)) {
      for (const [k, v] of Object.entries(b.metadata as Record<string, unknown>)) {
        const t = asText(v);
        if (t !== null) attrs[k] = t;
      }
    }
    attrs.url_name = key?.name ?? id;
    const node: XNode = { tag, attrs, kids: [] };
    onPath.add(id);
    if (Array.isArray(b.children)) {
      for (const c of b.children) {
        if (typeof c !== 'string') continue;
        if (onPath.has(c)) {
          log.warn(`${source}: block ${c} is its own ancestor (cycle); left out`);
          continue;
        }
        const k = build(c, onPath);
        if (k) node.kids.push(k);
      }
    }
    onPath.delete(id);
    return node;
  };
  const courseId = ids.find((id) => blocks[id]?.category === 'course');
  const rootIds = courseId !== undefined ? [courseId] : ids.filter((id) => !childOf.has(id));
  if (courseId === undefined) log.warn(`${source}: no course block; walking the ${rootIds.length} top-level block(s)`);
  const roots = rootIds.map((id) => build(id, new Set())).filter((n): n is XNode => n !== null);
  if (missing > 0) log.warn(`${source}: ${missing} child block id(s) are not in the file; left out`);
  return { roots, blocks: ids.length, org, num };
}
