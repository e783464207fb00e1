/**
 * course_axis rows (spec §5.3): a depth-first pre-order walk of the inlined course tree.
 *
 * The same walk serves the OLX tarball (`olx.ts`) and the course_structure JSON fallback
 * (`courseStructure.ts`, which builds the same kind of tree from block metadata).
 */
import type { AxisLog } from './errors.ts';
import type { PolicyMap } from './olx.ts';
import { asText, fixMojibake, parseOlxDate } from './values.ts';
import { decodeEntities, descendants, elements, innerMarkup, type XNode } from './xml.ts';

/** The `data` record of a row (spec §5.3); keys in schema order. */
export interface AxisData {
  ytid?: string;
  weight?: number;
  group_id_to_child?: string;
  user_partition_id?: string;
  itype?: string;
  num_items?: number;
  has_solution?: boolean;
  has_image?: boolean;
}

export const DATA_KEYS = ['ytid', 'weight', 'group_id_to_child', 'user_partition_id', 'itype', 'num_items', 'has_solution', 'has_image'] as const;

export interface AxisRow {
  category: string;
  index: number;
  url_name: string;
  name: string;
  /** `''` when no format applies (as the original). */
  gformat: string;
  /** Microseconds since the epoch (UTC), or null. */
  due: number | null;
  start: number | null;
  module_id: string;
  course_id: string;
  path: string;
  /** null when empty. */
  data: AxisData | null;
  chapter_mid: string | null;
  /** `"true"`, `"false"` or `""`. */
  graded: string;
  parent: string | null;
  is_split: boolean;
  split_url_name: string | null;
}

export interface WalkContext {
  /** The requested course id, slash form. */
  readonly courseId: string;
  /** ORG and NUM of module ids. */
  readonly org: string;
  readonly num: string;
  readonly policy: PolicyMap;
  readonly log: AxisLog;
}

/** Elements whose children are content, not course structure. */
const NO_CHILDREN = new Set(['html', 'problem', 'discussion', 'customtag', 'poll_question', 'combinedopenended', 'metadata']);
/** Child elements never visited. */
const NEVER_VISIT = new Set(['discussion', 'source']);
/** Sequence-like elements: path `/<chapter>/<seq>`, and the tag of html module ids below them. */
const SEQ_TAGS = new Set(['problemset', 'sequential', 'videosequence', 'proctor', 'randomize']);
/** Response types counted as a problem's items. */
const ITEM_TAGS = new Set(['multiplechoiceresponse', 'numericalresponse', 'choiceresponse', 'optionresponse', 'stringresponse', 'formularesponse', 'customresponse', 'fieldset']);
/** Elements without url_name whose missing row is expected (no warning). */
const QUIET_NO_URL = new Set(['transcript', 'wiki', 'metadata', 'video_asset', 'transcripts', 'track', 'handout', 'encoded_video', 'assessment', 'assessments']);

/** The 2012 convention for elements with no url_name: derived from display_name. */
export function urlNameFromDisplayName(dn: string): string {
  return dn.trim().replace(/ /g, '_').replace(/:/g, '_').replace(/\./g, '_').replace(/[()]/g, '_').replaceAll('__', '_');
}

function isSet(v: string | undefined | null): v is string {
  return v !== undefined && v !== null && v !== '' && v !== 'null';
}

const YT_EMBED = /youtube(?:-nocookie)?\.com\/embed\/([^"'/?&#\s]+)/i;
const RAW_IFRAME_SRC = /<iframe\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;

function htmlYtid(node: XNode): string | null {
  for (const d of descendants(node)) {
    if (d.tag.toLowerCase() !== 'iframe') continue;
    const m = YT_EMBED.exec(d.attrs.src ?? '');
    if (m) return m[1] as string;
  }
  if (node.raw !== undefined) {
    for (const m of node.raw.matchAll(RAW_IFRAME_SRC)) {
      const src = decodeEntities(m[1] ?? m[2] ?? m[3] ?? '');
      const y = YT_EMBED.exec(src);
      if (y) return y[1] as string;
    }
  }
  return null;
}

/**
 * A course walk. Inheritance (format, graded, start, due, hide_from_toc) looks at the element's
 * own attribute, then its own policy entry, then the same on each ancestor, nearest first.
 */
class Walker {
  readonly rows: AxisRow[] = [];
  /** Elements without any url_name (no row), per tag. */
  readonly noUrl = new Map<string, number>();
  private readonly ctx: WalkContext;
  private readonly stack: XNode[] = [];

  constructor(ctx: WalkContext) {
    this.ctx = ctx;
  }

  private policyOf(n: XNode): Readonly<Record<string, unknown>> | undefined {
    const u = n.attrs.url_name || n.attrs.url_name_orig;
    return u ? this.ctx.policy[`${n.tag}/${u}`] : undefined;
  }

  /** The element's own setting: its attribute (non-empty, not `null`), else its policy entry. */
  private own(n: XNode, key: string): string | null {
    const a = n.attrs[key];
    if (isSet(a)) return a;
    const p = asText(this.policyOf(n)?.[key]);
    return isSet(p) ? p : null;
  }

  /** The nearest setting on the element or its ancestors that `accept` takes. */
  private inherited(key: string, accept?: (v: string) => boolean): string | null {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const v = this.own(this.stack[i] as XNode, key);
      if (v !== null && (!accept || accept(v))) return v;
    }
    return null;
  }

  private inheritedDate(key: 'start' | 'due', n: XNode, url: string): number | null {
    const mine = this.own(n, key);
    if (mine !== null && parseOlxDate(mine) === null) this.ctx.log.warn(`${n.tag} ${url}: ${key} "${mine}" is not a date; treated as empty`);
    const v = this.inherited(key, (s) => parseOlxDate(s) !== null);
    return v === null ? null : parseOlxDate(v);
  }

  private videoYtid(n: XNode): string | null {
    const yt = this.own(n, 'youtube');
    if (yt) {
      for (const part of yt.replace(/\s+/g, '').split(',')) {
        const i = part.indexOf(':');
        if (i > 0 && Number(part.slice(0, i)) === 1 && part.length > i + 1) return part.slice(i + 1);
      }
    }
    const y1 = this.own(n, 'youtube_id_1_0');
    if (y1) return y1.trim();
    if (yt && !yt.includes(':') && !yt.includes(',')) return yt.trim();
    return null;
  }

  private data(n: XNode, url: string): AxisData | null {
    const d: AxisData = {};
    if (n.tag === 'video') {
      const y = this.videoYtid(n);
      if (y) d.ytid = y;
    } else if (n.tag === 'html') {
      const y = htmlYtid(n);
      if (y) d.ytid = y;
    } else if (n.tag === 'split_test') {
      const g = this.own(n, 'group_id_to_child');
      const u = this.own(n, 'user_partition_id');
      if (g !== null) d.group_id_to_child = g;
      if (u !== null) d.user_partition_id = u;
    } else if (n.tag === 'problem') {
      const w = this.own(n, 'weight');
      if (w !== null) {
        const num = Number(w.trim());
        if (w.trim() !== '' && Number.isFinite(num)) d.weight = num;
        else this.ctx.log.warn(`problem ${url}: weight "${w}" is not a number`);
      }
      const items = elements(n).filter((c) => ITEM_TAGS.has(c.tag));
      if (items.length > 0) {
        d.num_items = items.length;
        const first = (items[0] as XNode).tag;
        d.itype = items.every((c) => c.tag === first) ? first : 'mixed';
      }
      let hasImage = false;
      let hasSolution = false;
      for (const x of descendants(n)) {
        if (x.tag === 'img') hasImage = true;
        if (x.tag === 'solution' && !hasSolution) {
          const markup = innerMarkup(x).trim();
          let img = markup.includes('img src');
          for (const y of descendants(x)) if (y.tag === 'img') img = true;
          if (markup.length > 65 || img) hasSolution = true;
        }
      }
      d.has_solution = hasSolution;
      d.has_image = hasImage;
    }
    return Object.keys(d).length > 0 ? d : null;
  }

  /**
   * @param seqNum 1-based position among the visited siblings
   * @param path   url_names / positions down to the parent (spec's path rule)
   * @param parentStart the nearest ancestor's start
   */
  walk(n: XNode, seqNum: number, path: readonly string[], seqType: string | null, parentStart: number | null, chapterMid: string | null, parentUrl: string | null, splitUrl: string | null): void {
    this.stack.push(n);
    try {
      this.visit(n, seqNum, path, seqType, parentStart, chapterMid, parentUrl, splitUrl);
    } finally {
      this.stack.pop();
    }
  }

  private visit(n: XNode, seqNum: number, path: readonly string[], seqType: string | null, parentStart: number | null, chapterMid: string | null, parentUrl: string | null, splitUrl: string | null): void {
    const ctx = this.ctx;
    let url = n.attrs.url_name || n.attrs.url_name_orig || '';
    if (!url && n.attrs.display_name !== undefined) url = urlNameFromDisplayName(n.attrs.display_name);

    const hide = this.inherited('hide_from_toc');
    if (hide !== null && hide.trim().toLowerCase() !== 'false') {
      ctx.log.warn(`skipped ${n.tag} ${url || '(no url_name)'} (${n.attrs.display_name ?? ''}): hide_from_toc=${hide}`);
      return;
    }

    let start: number | null = null;
    let myPath = path;
    let mySeqType = seqType;
    let moduleId: string | null = null;
    if (url) {
      const pdn = asText(this.policyOf(n)?.display_name);
      const name = fixMojibake(pdn ?? n.attrs.display_name ?? url);
      start = this.inheritedDate('start', n, url);
      if (parentStart !== null && (start === null || start < parentStart)) start = parentStart;
      const due = this.inheritedDate('due', n, url);
      const gformat = this.inherited('format') ?? '';
      const g = this.inherited('graded') ?? '';
      const graded = g.toLowerCase() === 'true' || g.toLowerCase() === 'false' ? g.toLowerCase() : g;
      if (n.tag === 'chapter') {
        myPath = [url];
      } else if (SEQ_TAGS.has(n.tag)) {
        mySeqType = n.tag;
        myPath = [...path.slice(0, 1), url];
      } else {
        myPath = [...path, String(seqNum)];
      }
      moduleId = n.tag === 'html' && mySeqType !== null ? `${ctx.org}/${ctx.num}/${mySeqType}/${myPath.slice(1, 3).join('/')}` : `${ctx.org}/${ctx.num}/${n.tag}/${url}`;
      this.rows.push({
        category: n.tag,
        index: this.rows.length + 1,
        url_name: url,
        name,
        gformat,
        due,
        start,
        module_id: moduleId,
        course_id: ctx.courseId,
        path: '/' + myPath.join('/'),
        data: this.data(n, url),
        chapter_mid: chapterMid,
        graded,
        parent: parentUrl,
        is_split: splitUrl !== null,
        split_url_name: splitUrl,
      });
    } else if (!QUIET_NO_URL.has(n.tag)) {
      this.noUrl.set(n.tag, (this.noUrl.get(n.tag) ?? 0) + 1);
    }

    if (NO_CHILDREN.has(n.tag)) return;
    const childChapter = n.tag === 'chapter' ? moduleId : chapterMid;
    const childSplit = splitUrl ?? (n.tag === 'split_test' && url ? url : null);
    const inheritSeq = n.tag === 'vertical' && !url;
    let pos = inheritSeq ? seqNum : 1;
    for (const c of elements(n)) {
      if (NEVER_VISIT.has(c.tag)) continue;
      this.walk(c, pos, myPath, mySeqType, start ?? parentStart, childChapter, url || null, childSplit);
      if (!inheritSeq) pos++;
    }
  }
}

/** Rows of the course `roots` (one course element; several top-level blocks for a structure without a course block). */
export function walkAxis(roots: readonly XNode[], ctx: WalkContext): AxisRow[] {
  const w = new Walker(ctx);
  roots.forEach((r, i) => w.walk(r, i + 1, [], null, null, null, null, null));
  if (w.noUrl.size > 0) {
    const list = [...w.noUrl].map(([t, c]) => (c > 1 ? `<${t}> ×${c}` : `<${t}>`)).join(', ');
    ctx.log.warn(`elements without url_name or display_name (no row; their children were walked): ${list}`);
  }
  // a vertical whose url_name another row also has is renamed <url_name>_vertical (module_id kept)
  const count = new Map<string, number>();
  for (const r of w.rows) count.set(r.url_name, (count.get(r.url_name) ?? 0) + 1);
  for (const r of w.rows) {
    if (r.category === 'vertical' && (count.get(r.url_name) ?? 0) > 1) {
      ctx.log.warn(`duplicate url_name ${r.url_name}: the vertical becomes ${r.url_name}_vertical`);
      r.url_name = `${r.url_name}_vertical`;
    }
  }
  return w.rows;
}

/** `data` as JSON text (keys in schema order), or null when empty. */
export function dataJson(d: AxisData | null): string | null {
  if (!d) return null;
  const o: Record<string, unknown> = {};
  for (const k of DATA_KEYS) if (d[k] !== undefined) o[k] = d[k];
  return Object.keys(o).length > 0 ? JSON.stringify(o) : null;
}

/** Row counts per category, in first-seen order. */
export function categoryCounts(rows: readonly AxisRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.category] = (out[r.category] ?? 0) + 1;
  return out;
}
