/**
 * The OLX course export (`*.xml.tar.gz`, spec §5.1–5.2): read in memory, pick the run, and inline
 * the course into one element tree.
 *
 * Only what the axis needs is kept from the archive (`.xml`, `.json`, `.html`/`.htm` files outside
 * `static/`, `draft/` and `drafts/`); everything else (videos, PDFs, images) is streamed past, so
 * a tarball with large static assets costs no memory. Draft directories hold unpublished
 * versions: the published tree never points into them, and they are not read.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { AxisInputError, type AxisLog } from './errors.ts';
import { elements, parseXml, XmlError, type XNode } from './xml.ts';

/** A course file set: paths relative to the course root (`course.xml`, `chapter/x.xml`, …). */
export interface OlxArchive {
  /** Where it came from (for messages). */
  readonly source: string;
  /** The top-level directory the course lives in (`''` when the files sit at the top). */
  readonly root: string;
  readonly files: ReadonlyMap<string, Buffer>;
}

/** policy.json: `"<tag>/<url_name>"` → settings. */
export type PolicyMap = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

const KEEP_EXT = /\.(xml|json|html?)$/i;
const SKIP_DIRS = new Set(['static', 'draft', 'drafts']);
/** Per-file and total caps on what is kept in memory (OLX text files are small; this guards against bombs). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAX_TOTAL_BYTES = 1024 * 1024 * 1024;

/** `a/./b`, `./a/b`, `/a/b` → `['a','b']`; null for names that climb (`..`). */
function splitName(name: string): string[] | null {
  const parts = name.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return null;
  return parts;
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Reads the tar entries of `input` (gzip-compressed when `gzip`), keeping the axis-relevant text files. */
async function readEntries(input: Readable, gzip: boolean, source: string, log?: AxisLog): Promise<{ name: string[]; data: Buffer }[]> {
  const extract = tar.extract();
  let pipeErr: unknown = null;
  const done = (gzip ? pipeline(input, createGunzip(), extract) : pipeline(input, extract)).catch((e: unknown) => {
    pipeErr = e;
  });
  const out: { name: string[]; data: Buffer }[] = [];
  let total = 0;
  let sawEntry = false;
  try {
    for await (const entry of extract) {
      sawEntry = true;
      const h = entry.header;
      const parts = h.type === 'file' || h.type === 'contiguous-file' ? splitName(h.name) : null;
      const base = parts?.at(-1) ?? '';
      const skipDir = parts !== null && parts.slice(0, -1).some((p, i) => i <= 1 && SKIP_DIRS.has(p));
      if (!parts || !KEEP_EXT.test(base) || base.startsWith('._') || skipDir || (h.size ?? 0) > MAX_FILE_BYTES) {
        if (parts && (h.size ?? 0) > MAX_FILE_BYTES && KEEP_EXT.test(base)) log?.warn(`${h.name}: ${h.size} bytes, too large for a course file, ignored`);
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const data = Buffer.concat(chunks);
      total += data.length;
      if (total > MAX_TOTAL_BYTES) throw new AxisInputError(`${source}: more than ${MAX_TOTAL_BYTES} bytes of course files; refusing to hold them in memory`);
      out.push({ name: parts, data });
    }
  } catch (e) {
    await done;
    if (e instanceof AxisInputError) throw e;
    throw new AxisInputError(`${source}: corrupt or unreadable tarball: ${describe(pipeErr ?? e)}`);
  }
  await done;
  if (pipeErr) throw new AxisInputError(`${source}: corrupt or unreadable tarball: ${describe(pipeErr)}`);
  if (!sawEntry) throw new AxisInputError(`${source}: empty or unreadable tarball (no tar entries)`);
  return out;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function toArchive(entries: { name: string[]; data: Buffer }[], source: string): OlxArchive {
  // the course root: the first top-level directory holding course.xml or roots/ (spec: the first
  // top-level entry; a stray second directory or AppleDouble junk must not win by its order)
  const roots: string[] = [];
  let topLevelCourse = false;
  for (const e of entries) {
    if (e.name.length === 1 && e.name[0] === 'course.xml') topLevelCourse = true;
    if (e.name.length >= 2) {
      const r = e.name[0] as string;
      if ((e.name.length === 2 && e.name[1] === 'course.xml') || (e.name.length === 3 && e.name[1] === 'roots' && (e.name[2] ?? '').endsWith('.xml'))) {
        if (!roots.includes(r)) roots.push(r);
      }
    }
  }
  let root: string;
  const firstTop = entries[0]?.name[0];
  if (firstTop !== undefined && roots.includes(firstTop)) root = firstTop;
  else if (roots.length > 0) root = roots[0] as string;
  else if (topLevelCourse) root = '';
  else throw new AxisInputError(`${source}: no course.xml (or roots/*.xml) in the tarball: not an OLX course export`);
  const files = new Map<string, Buffer>();
  for (const e of entries) {
    if (root === '') files.set(e.name.join('/'), e.data);
    else if (e.name[0] === root && e.name.length > 1) files.set(e.name.slice(1).join('/'), e.data);
  }
  return { source, root, files };
}

/** Reads an OLX export tarball (`.tar.gz`, or plain `.tar`). Throws `AxisInputError` when it is corrupt. */
export async function readOlxTarball(file: string, log?: AxisLog): Promise<OlxArchive> {
  let gz: boolean;
  try {
    gz = await isGzip(file);
  } catch (e) {
    throw new AxisInputError(`${file}: cannot read: ${describe(e)}`);
  }
  return toArchive(await readEntries(fs.createReadStream(file), gz, file, log), file);
}

/** The same from bytes already in memory. */
export async function readOlxTarballBuffer(buf: Buffer, source = '<buffer>', log?: AxisLog): Promise<OlxArchive> {
  const gz = buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  return toArchive(await readEntries(Readable.from([buf]), gz, source, log), source);
}

// ---------------------------------------------------------------------------------------------
// runs (spec §5.1)

export interface OlxRun {
  /** The run name: the XXX of the first `course/XXX` key of the policy (else the course url_name). */
  readonly semester: string;
  /** `course.xml` or `roots/<x>.xml`. */
  readonly courseFile: string;
  /** Attributes of that file's `<course>` element (org, course, url_name). */
  readonly courseAttrs: Readonly<Record<string, string>>;
  /** Inline children of that element (an old-style course.xml holding the whole course). */
  readonly courseElement: XNode;
  readonly policyFile: string | null;
  readonly policy: PolicyMap;
  readonly gradingPolicyFile: string | null;
}

function text(archive: OlxArchive, file: string): string {
  const b = archive.files.get(file);
  if (!b) throw new AxisInputError(`${archive.source}: ${file} is missing`);
  return b.toString('utf8');
}

function parseFile(archive: OlxArchive, file: string): XNode {
  try {
    return parseXml(text(archive, file), `${archive.source}: ${file}`);
  } catch (e) {
    if (e instanceof XmlError) throw new AxisInputError(e.message);
    throw e;
  }
}

function readPolicy(archive: OlxArchive, file: string): PolicyMap {
  let v: unknown;
  try {
    v = JSON.parse(text(archive, file).replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new AxisInputError(`${archive.source}: ${file} is not valid JSON: ${describe(e)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AxisInputError(`${archive.source}: ${file} does not hold a JSON object`);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [k, entry] of Object.entries(v as Record<string, unknown>)) {
    if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) out[k] = entry as Record<string, unknown>;
  }
  return out;
}

function semesterOf(policy: PolicyMap): string | null {
  for (const k of Object.keys(policy)) {
    const i = k.indexOf('/');
    if (i > 0 && k.slice(0, i) === 'course') return k.slice(i + 1);
  }
  return null;
}

function dirOf(file: string): string {
  const i = file.lastIndexOf('/');
  return i < 0 ? '' : file.slice(0, i + 1);
}

function gradingPolicyNextTo(archive: OlxArchive, policyFile: string | null, semester: string): string | null {
  const candidates = [policyFile ? `${dirOf(policyFile)}grading_policy.json` : null, `policies/${semester}/grading_policy.json`];
  for (const c of candidates) if (c && archive.files.has(c)) return c;
  return null;
}

function makeRun(archive: OlxArchive, courseFile: string, policyFile: string | null, log: AxisLog): OlxRun {
  const el = parseFile(archive, courseFile);
  if (el.tag !== 'course') log.warn(`${courseFile}: root element is <${el.tag}>, expected <course>`);
  const policy = policyFile ? readPolicy(archive, policyFile) : {};
  const semester = semesterOf(policy) ?? el.attrs.url_name ?? '';
  if (semester === '') throw new AxisInputError(`${archive.source}: ${courseFile} has no url_name and no policy names the run`);
  return { semester, courseFile, courseAttrs: el.attrs, courseElement: el, policyFile, policy, gradingPolicyFile: gradingPolicyNextTo(archive, policyFile, semester) };
}

/** Every run of the export (spec §5.1), in file-name order. */
export function findRuns(archive: OlxArchive, log: AxisLog): OlxRun[] {
  const names = [...archive.files.keys()].sort();
  const rootFiles = names.filter((n) => /^roots\/[^/]+\.xml$/.test(n));
  if (rootFiles.length > 0) {
    return rootFiles.map((rf) => {
      const urlName = parseFile(archive, rf).attrs.url_name ?? '';
      const pf = [`policies/${urlName}.json`, `policies/${urlName}/policy.json`].find((p) => urlName !== '' && archive.files.has(p)) ?? null;
      if (!pf) log.warn(`${rf}: no policy file policies/${urlName}.json or policies/${urlName}/policy.json`);
      return makeRun(archive, rf, pf, log);
    });
  }
  if (!archive.files.has('course.xml')) throw new AxisInputError(`${archive.source}: no course.xml and no roots/*.xml`);
  let policies = names.filter((n) => /^policies\/[^/]+\.json$/.test(n) && n !== 'policies/assets.json');
  if (policies.length === 0) policies = names.filter((n) => /^policies\/[^/]+\/policy\.json$/.test(n));
  if (policies.length === 0) {
    log.warn('no policy file (policies/*.json or policies/*/policy.json): the run is course.xml\'s url_name, no policy settings');
    return [makeRun(archive, 'course.xml', null, log)];
  }
  return policies.map((pf) => makeRun(archive, 'course.xml', pf, log));
}

/**
 * The run to use for `requestedRun` (REC of §5.1: the run whose name equals the requested course's
 * run; none is an error, never a silent pick of another run).
 */
export function selectRun(runs: readonly OlxRun[], requestedRun: string, source: string): OlxRun {
  const hit = runs.find((r) => r.semester === requestedRun);
  if (hit) return hit;
  const found = runs.map((r) => JSON.stringify(r.semester)).join(', ') || 'none';
  throw new AxisInputError(`${source}: no run "${requestedRun}" in the course export (runs found: ${found})`);
}

// ---------------------------------------------------------------------------------------------
// inlining (spec §5.2)

/** Content elements whose children are course content (markup, responses), never pointers. */
const CONTENT_TAGS = new Set(['html', 'problem']);
const MAX_DEPTH = 200;

interface InlineCtx {
  readonly archive: OlxArchive;
  readonly log: AxisLog;
}

function tryParse(ctx: InlineCtx, file: string): XNode | null {
  try {
    return parseFile(ctx.archive, file);
  } catch (e) {
    ctx.log.warn(describe(e));
    return null;
  }
}

/** The pointer's attributes fill in what the loaded definition lacks; url_name is kept as url_name_orig. */
function merge(loaded: XNode, pointer: XNode, urlName: string | undefined): XNode {
  const attrs: Record<string, string> = { ...loaded.attrs };
  for (const [k, v] of Object.entries(pointer.attrs)) if (k !== 'url_name' && !(k in attrs)) attrs[k] = v;
  if (urlName !== undefined && urlName !== '') attrs.url_name_orig = urlName;
  const out: XNode = { tag: loaded.tag, attrs, kids: loaded.kids };
  if (loaded.raw !== undefined) out.raw = loaded.raw;
  return out;
}

function resolve(el: XNode, ctx: InlineCtx, chain: ReadonlySet<string>): { node: XNode; file: string | null } {
  let node = el;
  let file: string | null = null;
  const url = el.attrs.url_name;
  if (url) {
    const f = `${el.tag}/${url.replace(/:/g, '/')}.xml`;
    if (ctx.archive.files.has(f)) {
      if (chain.has(f)) {
        ctx.log.warn(`${f}: refers to itself (cycle); kept as a pointer`);
      } else {
        const loaded = tryParse(ctx, f);
        if (loaded) {
          if (loaded.tag !== el.tag) ctx.log.warn(`${f}: root element <${loaded.tag}> for a <${el.tag}> pointer`);
          node = merge(loaded, el, url);
          file = f;
        }
      }
    }
  }
  const fn = node.attrs.filename;
  if (fn && node.tag === 'html') {
    const f = /\.html?$/i.test(fn) ? `html/${fn}` : `html/${fn}.html`;
    const b = ctx.archive.files.get(f);
    if (b) node = { ...node, raw: b.toString('utf8') };
    else ctx.log.warn(`html ${node.attrs.url_name ?? node.attrs.url_name_orig ?? ''}: content file ${f} is missing`);
  } else if (fn && node.tag === 'problem' && elements(node).length === 0) {
    const f = /\.xml$/i.test(fn) ? `problem/${fn}` : `problem/${fn}.xml`;
    if (ctx.archive.files.has(f) && !chain.has(f)) {
      const loaded = tryParse(ctx, f);
      if (loaded) {
        const attrs: Record<string, string> = { ...loaded.attrs };
        for (const [k, v] of Object.entries(node.attrs)) if (!(k in attrs)) attrs[k] = v;
        node = { tag: node.tag, attrs, kids: loaded.kids };
      }
    } else if (!ctx.archive.files.has(f)) {
      ctx.log.warn(`problem ${node.attrs.url_name ?? node.attrs.url_name_orig ?? ''}: content file ${f} is missing`);
    }
  }
  return { node, file };
}

function inlineChildren(node: XNode, ctx: InlineCtx, chain: Set<string>, depth: number): void {
  if (CONTENT_TAGS.has(node.tag)) return;
  if (depth > MAX_DEPTH) {
    ctx.log.warn(`<${node.tag}>: nested more than ${MAX_DEPTH} levels deep; the rest is left out`);
    node.kids = [];
    return;
  }
  for (let i = 0; i < node.kids.length; i++) {
    const k = node.kids[i];
    if (k === undefined || typeof k === 'string') continue;
    const { node: r, file } = resolve(k, ctx, chain);
    node.kids[i] = r;
    if (file) chain.add(file);
    inlineChildren(r, ctx, chain, depth + 1);
    if (file) chain.delete(file);
  }
}

export interface OlxCourse {
  readonly run: OlxRun;
  /** The inlined course element (url_name_orig = the run's url_name). */
  readonly tree: XNode;
  /** The parsed grading_policy.json, or null when there is none. */
  readonly gradingPolicy: unknown;
  readonly gradingPolicyFile: string | null;
}

/** Builds the inlined tree of one run: `course/<semester>.xml` (else the inline course element). */
export function inlineCourse(archive: OlxArchive, run: OlxRun, log: AxisLog): OlxCourse {
  const ctx: InlineCtx = { archive, log };
  const bodyFile = `course/${run.semester.replace(/:/g, '/')}.xml`;
  // the course row's url_name is the run whose body this is (course.xml's url_name names one run only)
  const pointerUrl = run.semester;
  let tree: XNode;
  const chain = new Set<string>();
  if (archive.files.has(bodyFile)) {
    tree = merge(parseFile(archive, bodyFile), run.courseElement, pointerUrl);
    chain.add(bodyFile);
  } else {
    if (elements(run.courseElement).length === 0) log.warn(`${bodyFile} is missing and ${run.courseFile} has no content: the axis has the course row only`);
    const { url_name: _u, ...rest } = run.courseElement.attrs;
    void _u;
    tree = { tag: run.courseElement.tag, attrs: { ...rest, url_name_orig: pointerUrl }, kids: run.courseElement.kids };
  }
  inlineChildren(tree, ctx, chain, 0);
  let gradingPolicy: unknown = null;
  if (run.gradingPolicyFile) {
    try {
      gradingPolicy = JSON.parse(text(archive, run.gradingPolicyFile).replace(/^\uFEFF/, ''));
    } catch (e) {
      log.warn(`${run.gradingPolicyFile}: not valid JSON (${describe(e)}); no grading policy`);
    }
  }
  return { run, tree, gradingPolicy, gradingPolicyFile: gradingPolicy === null ? null : run.gradingPolicyFile };
}
