/**
 * waldofy (spec §1.4): files one weekly edX research dump per course and dump date, with short
 * names, under the SQL dir:
 *
 *   <sqlDir>/<ORG-NUM-RUN>/<YYYY-MM-DD>/users.csv.gz …           courses asked for
 *   <sqlDir>/UNKNOWN/<ORG-NUM-RUN>/<YYYY-MM-DD>/…                 courses not asked for
 *   <dest>/_rejects/<short>.jsonl.gz                              malformed TSV lines of <short>
 *
 * Input: a dump directory or a `.zip` of one, named `…-YYYY-MM-DD` (`.zip` excluded). Top-level
 * files only (a zip whose members all sit in one folder is read as that folder); sub-directories
 * such as `ora/` are reported and skipped. Names ending `.xml`, `.csv` or `.gpg` are skipped.
 * Zip members are streamed one at a time, never extracted to disk as a whole.
 *
 * Per file: `.sql` → `<short>.csv.gz` (TSV parsed, CSV convention of tsv.ts; kept when it exists,
 * which only ever holds a complete file because every write goes through a temporary name);
 * `.mongo` → `forum.mongo.gz`; `.json` → `<name>.gz`; `.xml.tar.gz` copied. The copies are
 * overwritten.
 *
 * Course of a file (longest prefix wins, a prefix must be followed by `-`):
 * 1. the courses asked for (either id form), as `ORG-NUM-RUN` prefixes;
 * 2. course prefixes discovered in this dump: what precedes a known table name (`-auth_user-`,
 *    …) in a `.sql` name, `-course_structure-` in a `.json` name, `-course-` in a `.xml.tar.gz`
 *    name. They make e.g. `MITx-6.00x-2T2017_2-…` or a dashed run go to its own (UNKNOWN)
 *    course instead of a shorter course that was asked for;
 * 3. the original's fallbacks (§1.4 step 3), with the legacy run guess for 2-part ids. The
 *    `.mongo` cut accepts any site (`-acceptance.mongo` as well as `-prod.mongo`).
 * With no course asked for, every course found is taken as asked for (nothing goes to UNKNOWN).
 *
 * Untrusted names: course dirs and output names are single safe path components (ids.ts
 * escaping); zip members with an absolute path, a `..` part or a control character are
 * refused; every destination is checked to lie inside the SQL dir.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline as pipelineCb, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { isValidDate } from '../events/time.ts';
import { assertInside, exists } from '../fsutil.ts';
import { safePathComponent, slashCourseId } from '../ids.ts';
import { processAlive } from '../logs/lock.ts';
import { RejectWriter } from '../logs/rejectWriter.ts';
import { UNKNOWN_SQL_DIR, waldoCourseDirName } from './sqlDirs.ts';
import { CsvGzWriter, TsvReader, type TsvReject } from './tsv.ts';

/** edX table → Waldo short name (spec §1.4 step 4); other tables keep their own name. */
export const WALDO_RENAMES: Readonly<Record<string, string>> = {
  certificates_generatedcertificate: 'certificates',
  student_courseenrollment: 'enrollment',
  auth_userprofile: 'profiles',
  courseware_studentmodule: 'studentmodule',
  auth_user: 'users',
  student_courseaccessrole: 'rolecourse',
  django_comment_client_role_users: 'roleforum',
};

/** Table names that mark where the course part of a `.sql` name ends (course discovery). */
export const KNOWN_DUMP_TABLES: readonly string[] = [
  ...Object.keys(WALDO_RENAMES),
  'user_id_map',
  'student_anonymoususerid',
  'student_languageproficiency',
  'user_api_usercoursetag',
  'teams',
  'teams_membership',
  'teams_courseteam',
  'teams_courseteammembership',
  'verify_student_verificationstatus',
  'credit_crediteligibility',
  'course_groups_cohortmembership',
  'course_groups_courseusergroup',
  'course_groups_courseusergroup_users',
  'course_groups_coursecohort',
  'course_groups_coursecohortssettings',
  'wiki_article',
  'wiki_articlerevision',
  'grades_persistentcoursegrade',
  'grades_persistentsubsectiongrade',
];

/** What the summary checks for per course; a missing one is reported, never an error. */
export const EXPECTED_OUTPUTS: readonly string[] = [
  'users.csv.gz',
  'profiles.csv.gz',
  'enrollment.csv.gz',
  'certificates.csv.gz',
  'studentmodule.csv.gz',
  'user_id_map.csv.gz',
  'rolecourse.csv.gz',
  'roleforum.csv.gz',
  'forum.mongo.gz',
  'course_structure (.json)',
  'course (.xml.tar.gz)',
];

export type DumpFileKind = 'sql' | 'mongo' | 'json' | 'xml.tar.gz';

/** The dump date of a directory (or zip without `.zip`) name: `…-YYYY-MM-DD`, a real date. */
export function dumpDateOf(name: string): string | null {
  const m = /-((\d{4})-(\d{2})-(\d{2}))$/.exec(name);
  if (!m || !isValidDate(Number(m[2]), Number(m[3]), Number(m[4]))) return null;
  return m[1] as string;
}

/** The kind of a top-level dump file, or why it is skipped. */
export function classifyDumpFile(name: string): { kind: DumpFileKind } | { skip: string } {
  if (!name.includes('.')) return { skip: 'no extension (only *.* names are dump files)' };
  if (name.endsWith('.gpg')) return { skip: 'encrypted (.gpg): decrypt the dump first' };
  if (name.endsWith('.xml')) return { skip: '.xml files are not used' };
  if (name.endsWith('.csv')) return { skip: '.csv files are not used' };
  if (name.endsWith('.xml.tar.gz')) return { kind: 'xml.tar.gz' };
  if (name.endsWith('.sql')) return { kind: 'sql' };
  if (name.endsWith('.mongo')) return { kind: 'mongo' };
  if (name.endsWith('.json')) return { kind: 'json' };
  return { skip: 'not a dump file type (.sql, .mongo, .json, .xml.tar.gz)' };
}

/** The Waldo short name of a `.sql` data file name (`auth_user-prod-analytics.sql` → `users`). */
export function sqlShortName(dataName: string): string {
  let t = dataName;
  const dash = t.indexOf('-');
  if (dash !== -1) t = t.slice(0, dash);
  if (t.endsWith('.sql')) t = t.slice(0, -4);
  return WALDO_RENAMES[t] ?? t;
}

/** The output file name (one safe path component) of a data file. */
export function waldoOutputName(kind: DumpFileKind, dataName: string): string | null {
  switch (kind) {
    case 'sql': {
      const short = sqlShortName(dataName);
      return short === '' ? null : `${safePathComponent(short)}.csv.gz`;
    }
    case 'mongo':
      return 'forum.mongo.gz';
    case 'json':
      return `${safePathComponent(dataName)}.gz`;
    case 'xml.tar.gz':
      return safePathComponent(dataName);
  }
}

/** Legacy 2-part ids: the run guessed from the dump date (spec §1.4 step 3). */
export function legacyRun(date: string): string | null {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  if (y === 2012 || (y === 2013 && m === 1)) return '2012_Fall';
  if (y === 2013 && m <= 7) return '2013_Spring';
  if (y === 2013) return '2013_Fall';
  return null;
}

/** `ORG-NUM-RUN` → `ORG/NUM/RUN`, with the number holding any further dashes. */
function idFromPrefix(prefix: string): string {
  const a = prefix.indexOf('-');
  const b = prefix.lastIndexOf('-');
  return `${prefix.slice(0, a)}/${prefix.slice(a + 1, b)}/${prefix.slice(b + 1)}`;
}

export interface CourseMatch {
  /** Transparent course id. */
  courseId: string;
  /** Whether the course was asked for (else it goes to UNKNOWN). */
  known: boolean;
  /** The file name after the course part and its separator. */
  dataName: string;
  how: 'asked' | 'discovered' | 'fallback';
}

const MONGO_SITES = ['-prod-edx-replica.mongo', '-prod-edge.mongo', '-prod.mongo', '-edge.mongo'];

/**
 * Works out the course of each dump file name (module comment, "Course of a file"). `courses`
 * are the courses asked for, in either form; none means every course found counts as asked for.
 */
export class CourseMatcher {
  readonly allKnown: boolean;
  private readonly asked = new Map<string, string>();
  private readonly discovered = new Set<string>();
  private readonly date: string;

  constructor(courses: readonly string[], date: string) {
    this.date = date;
    for (const c of courses) {
      if (c.trim() === '') continue;
      const id = slashCourseId(c.trim());
      this.asked.set(id.replace(/\//g, '-'), id);
    }
    this.allKnown = this.asked.size === 0;
  }

  /** Learns the course prefixes that the names of one dump reveal. */
  discover(names: readonly string[]): void {
    for (const name of names) {
      let cut = -1;
      if (name.endsWith('.sql')) {
        for (const t of KNOWN_DUMP_TABLES) cut = Math.max(cut, name.lastIndexOf(`-${t}-`));
      } else if (name.endsWith('.json')) cut = name.lastIndexOf('-course_structure');
      else if (name.endsWith('.xml.tar.gz')) cut = name.lastIndexOf('-course-');
      if (cut <= 0) continue;
      const prefix = name.slice(0, cut);
      // ORG-NUM-RUN at least; no empty part
      if (prefix.split('-').length >= 3 && !prefix.split('-').includes('')) this.discovered.add(prefix);
    }
  }

  match(name: string, kind: DumpFileKind): CourseMatch | null {
    let best: string | null = null;
    for (const p of [...this.asked.keys(), ...this.discovered]) {
      if (name.length > p.length + 1 && name.startsWith(p) && name.charCodeAt(p.length) === 45 && (best === null || p.length > best.length)) best = p;
    }
    if (best !== null) {
      const askedId = this.asked.get(best);
      return {
        courseId: askedId ?? idFromPrefix(best),
        known: askedId !== undefined || this.allKnown,
        dataName: name.slice(best.length + 1),
        how: askedId !== undefined ? 'asked' : 'discovered',
      };
    }
    const fb = this.fallback(name, kind);
    return fb === null ? null : { ...fb, known: this.allKnown, how: 'fallback' };
  }

  /** The original's fallbacks (spec §1.4 step 3). */
  private fallback(name: string, kind: DumpFileKind): { courseId: string; dataName: string } | null {
    let coursePart: string;
    let dataName: string;
    if (kind === 'sql') {
      const dashes = name.split('-').length - 1;
      if (dashes === 0) return null;
      let cut: number;
      if (dashes < 3) cut = name.lastIndexOf('-');
      else cut = name.indexOf('-', name.indexOf('-', name.indexOf('-') + 1) + 1);
      coursePart = name.slice(0, cut);
      dataName = name.slice(cut + 1);
    } else {
      let cut = -1;
      if (kind === 'json') cut = name.indexOf('-course_structure');
      else if (kind === 'xml.tar.gz') cut = name.indexOf('-course-prod');
      if (cut === -1 && kind === 'xml.tar.gz') cut = name.lastIndexOf('-course-');
      if (kind === 'mongo') {
        for (const s of MONGO_SITES) if (cut === -1 && name.endsWith(s)) cut = name.length - s.length;
        if (cut === -1) cut = name.lastIndexOf('-');
      }
      if (cut <= 0) return null;
      coursePart = name.slice(0, cut);
      dataName = name.slice(cut + 1);
      const parts = coursePart.split('-');
      if (parts.length - 1 < 2 || parts.slice(-3).some((p) => p === '')) return null;
      // exactly two dashes: both become slashes; more: the last two do
      const a = coursePart.lastIndexOf('-', coursePart.lastIndexOf('-') - 1);
      const b = coursePart.lastIndexOf('-');
      return { courseId: `${coursePart.slice(0, a)}/${coursePart.slice(a + 1, b)}/${coursePart.slice(b + 1)}`, dataName };
    }
    const parts = coursePart.split('-');
    if (parts.some((p) => p === '')) return null;
    if (parts.length === 2) {
      const run = legacyRun(this.date);
      if (run === null) return null;
      parts.push(run);
    }
    if (parts.length !== 3) return null;
    return { courseId: parts.join('/'), dataName };
  }
}

// ------------------------------------------------------------------------------------------
// inputs

interface Member {
  /** Top-level name. */
  name: string;
  open(): Promise<Readable>;
}

interface Listing {
  kind: 'dir' | 'zip';
  /** The name the dump date comes from. */
  dateName: string;
  /** Fallback name for the date (a zip's single top folder). */
  altDateName: string | null;
  members: Member[];
  /** Entries that are not top-level files: name and reason. */
  others: { name: string; reason: string; refused: boolean }[];
  close(): void;
}

export class WaldofyInputError extends Error {}

async function listDir(dir: string): Promise<Listing> {
  const dirents = await fs.promises.readdir(dir, { withFileTypes: true });
  const members: Member[] = [];
  const others: Listing['others'] = [];
  for (const d of dirents) {
    const p = path.join(dir, d.name);
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(p);
    } catch (e) {
      others.push({ name: d.name, reason: `cannot read: ${(e as Error).message}`, refused: false });
      continue;
    }
    if (st.isDirectory()) others.push({ name: d.name + '/', reason: 'sub-directory: not handled (e.g. ora/)', refused: false });
    else if (!st.isFile()) others.push({ name: d.name, reason: 'not a regular file', refused: false });
    else members.push({ name: d.name, open: async () => fs.createReadStream(p, { highWaterMark: 1 << 20 }) });
  }
  return { kind: 'dir', dateName: path.basename(path.resolve(dir)), altDateName: null, members, others, close: () => undefined };
}

/** Why a zip member path is refused (absolute, `..`, control characters), or null. */
export function unsafeMemberPath(name: string): string | null {
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'control character in the name';
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[A-Za-z]:/.test(n)) return 'absolute path';
  if (n.split('/').some((p) => p === '..' || p === '.')) return '"." or ".." in the path';
  return null;
}

function openZipFile(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip)));
  });
}

/** `src`, failing at its end when the CRC-32 of its bytes is not `expected` (yauzl does not check it). */
function crcChecked(src: Readable, expected: number, name: string): Readable {
  let crc = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      crc = zlib.crc32(chunk, crc);
      cb(null, chunk);
    },
    flush(cb) {
      cb(crc >>> 0 === expected >>> 0 ? null : new Error(`zip member ${name}: CRC-32 mismatch (corrupt zip)`));
    },
  });
  pipelineCb(src, t, () => undefined); // an error of src destroys t with it
  return t;
}

async function listZip(file: string): Promise<Listing> {
  let zip: yauzl.ZipFile | null = null;
  const entries: { name: string; entry: yauzl.Entry }[] = [];
  try {
    const z = (zip = await openZipFile(file));
    await new Promise<void>((resolve, reject) => {
      z.on('entry', (e: yauzl.Entry) => {
        entries.push({ name: e.fileNameRaw.toString('utf8'), entry: e });
        z.readEntry();
      });
      z.on('end', () => resolve());
      z.on('error', reject);
      z.readEntry();
    });
  } catch (e) {
    (zip as yauzl.ZipFile | null)?.close();
    throw new WaldofyInputError(`${file}: not a readable zip file (${(e as Error).message})`);
  }
  const opened: yauzl.ZipFile = zip;
  const members: Member[] = [];
  const others: Listing['others'] = [];
  const safe: { parts: string[]; entry: yauzl.Entry; name: string }[] = [];
  for (const { name, entry } of entries) {
    const why = unsafeMemberPath(name);
    if (why !== null) others.push({ name, reason: `unsafe member path: ${why}`, refused: true });
    else safe.push({ parts: name.replace(/\\/g, '/').split('/').filter((p) => p !== ''), entry, name });
  }
  // a zip of one folder: read it as that folder
  const files = safe.filter((s) => !s.name.endsWith('/'));
  const top = files[0]?.parts[0];
  const strip = top !== undefined && files.every((s) => s.parts.length >= 2 && s.parts[0] === top) ? 1 : 0;
  for (const s of safe) {
    if (s.name.endsWith('/')) continue; // directory entries
    const rel = s.parts.slice(strip);
    if (rel.length !== 1) {
      others.push({ name: s.name, reason: 'in a sub-directory: not handled (e.g. ora/)', refused: false });
      continue;
    }
    const entry = s.entry;
    if (entry.isEncrypted()) {
      others.push({ name: s.name, reason: 'encrypted zip member', refused: false });
      continue;
    }
    members.push({
      name: rel[0] as string,
      open: () =>
        new Promise<Readable>((resolve, reject) => {
          opened.openReadStream(entry, (err, stream) => (err ? reject(new Error(`zip member ${s.name}: ${err.message}`)) : resolve(crcChecked(stream, entry.crc32, s.name))));
        }),
    });
  }
  const base = path.basename(file).replace(/\.zip$/i, '');
  return { kind: 'zip', dateName: base, altDateName: strip === 1 ? (top ?? null) : null, members, others, close: () => opened.close() };
}

// ------------------------------------------------------------------------------------------
// results

export type WaldoFileStatus = 'written' | 'kept' | 'skipped' | 'refused' | 'failed';

export interface WaldoFileResult {
  /** The name in the dump. */
  name: string;
  status: WaldoFileStatus;
  kind?: DumpFileKind;
  courseId?: string;
  known?: boolean;
  /** Output path relative to the SQL dir. */
  output?: string;
  /** `.sql`: rows written / lines rejected (in `_rejects/<short>.jsonl.gz`). */
  rows?: number;
  rejects?: number;
  reason?: string;
}

export interface WaldoCourseReport {
  courseId: string;
  known: boolean;
  /** Relative to the SQL dir. */
  dir: string;
  /** Outputs present after the run (written now or kept from before). */
  outputs: string[];
  /** Entries of `EXPECTED_OUTPUTS` that are absent. */
  missing: string[];
  rows: number;
  rejects: number;
}

export interface WaldofyInputSummary {
  input: string;
  kind: 'dir' | 'zip' | null;
  date: string | null;
  status: 'done' | 'failed';
  error?: string;
  files: WaldoFileResult[];
  courses: WaldoCourseReport[];
}

export interface WaldofySummary {
  sqlDir: string;
  inputs: WaldofyInputSummary[];
  files: Record<WaldoFileStatus, number> & { total: number };
  rows: number;
  rejects: number;
  /** Courses asked for that no input held a file of. */
  coursesNotFound: string[];
  seconds: number;
}

export interface WaldofyOptions {
  sqlDir: string;
  /** Courses asked for (either id form); none: every course found. */
  courses: string[];
  gzipLevel: number;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Interval of "rows so far" lines for long files (default 10 s). */
  progressIntervalMs?: number;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

// ------------------------------------------------------------------------------------------
// writing

const TMP_RE = /^\..+\.tmp-(\d+)-[0-9a-f]{8}$/;

/** Removes temporary files that a killed run left in `dir` (never those of a live process). */
async function cleanStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = TMP_RE.exec(n);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) await fs.promises.rm(path.join(dir, n), { force: true });
  }
}

function tmpName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Streams `src` (gzipped when `gzipLevel` is given) to `file` through a temporary name. */
async function copyAtomic(src: Readable, file: string, gzipLevel: number | null): Promise<number> {
  const tmp = tmpName(file);
  let bytes = 0;
  const count = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const c of chunks) {
      bytes += c.length;
      yield c;
    }
  };
  try {
    const out = fs.createWriteStream(tmp, { flush: true });
    if (gzipLevel === null) await pipeline(src, count, out);
    else await pipeline(src, count, zlib.createGzip({ level: gzipLevel }), out);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
  return bytes;
}

interface SqlResult {
  rows: number;
  rejects: number;
  empty: boolean;
}

/** `.sql` TSV → `<dest>/<out>` gzipped CSV; malformed lines → `<dest>/_rejects/<short>.jsonl.gz`. */
async function convertSql(src: Readable, name: string, file: string, rejectFile: string, opts: WaldofyOptions, progress: (rows: number) => void): Promise<SqlResult> {
  const rejectTmp = tmpName(rejectFile);
  let rejects: RejectWriter | null = null;
  const reject = async (r: TsvReject) => {
    if (rejects === null) {
      await fs.promises.mkdir(path.dirname(rejectFile), { recursive: true });
      rejects = new RejectWriter(rejectTmp);
    }
    await rejects.write({ line: r.line, reason: r.reason, raw: r.raw, ...(r.rawBase64 !== undefined ? { rawBase64: r.rawBase64 } : {}) });
  };
  let writer: CsvGzWriter | null = null;
  try {
    const reader = await TsvReader.open(src, { file: name, onReject: reject });
    if (reader.empty) {
      src.destroy();
      return { rows: 0, rejects: 0, empty: true };
    }
    writer = new CsvGzWriter(file, { level: opts.gzipLevel });
    await writer.writeHeader(reader.header);
    for await (const batch of reader.batches()) {
      const tooLong = await writer.writeRows(batch.rows);
      for (const t of tooLong) {
        await reject({ file: name, line: batch.lines[t.index] ?? 0, reason: `row of ${t.bytes} bytes as CSV is longer than the CSV reader's limit`, raw: t.csv });
      }
      progress(writer.rows);
    }
    const w = rejects as RejectWriter | null;
    const count = w?.count ?? 0;
    if (w !== null && (await w.close())) await fs.promises.rename(rejectTmp, rejectFile);
    else await fs.promises.rm(rejectFile, { force: true });
    await writer.close();
    return { rows: writer.rows, rejects: count, empty: false };
  } catch (e) {
    src.destroy();
    if (writer !== null) await writer.abort();
    const w = rejects as RejectWriter | null;
    if (w !== null) await w.close().catch(() => undefined);
    await fs.promises.rm(rejectTmp, { force: true });
    throw e;
  }
}

// ------------------------------------------------------------------------------------------
// the run

async function waldofyInput(input: string, opts: WaldofyOptions, courseReports: Map<string, WaldoCourseReport>, log: (line: string) => void): Promise<WaldofyInputSummary> {
  const summary: WaldofyInputSummary = { input, kind: null, date: null, status: 'done', files: [], courses: [] };
  let listing: Listing;
  try {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(input);
    } catch {
      throw new WaldofyInputError(`${input}: no such file or directory`);
    }
    if (st.isDirectory()) listing = await listDir(input);
    else if (st.isFile() && /\.zip$/i.test(input)) listing = await listZip(input);
    else throw new WaldofyInputError(`${input}: not a dump directory or a .zip of one`);
  } catch (e) {
    summary.status = 'failed';
    summary.error = (e as Error).message;
    log(`waldofy: FAILED ${summary.error}`);
    return summary;
  }
  summary.kind = listing.kind;
  try {
    const date = dumpDateOf(listing.dateName) ?? (listing.altDateName !== null ? dumpDateOf(listing.altDateName) : null);
    if (date === null) {
      throw new WaldofyInputError(`${input}: the dump's name must end with -YYYY-MM-DD (a real date), e.g. mitx-2015-01-01${listing.kind === 'zip' ? '.zip' : ''}`);
    }
    summary.date = date;
    const members = [...listing.members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    log(`waldofy: ${input}: dump date ${date}, ${members.length} file(s)`);
    for (const o of listing.others) {
      summary.files.push({ name: o.name, status: o.refused ? 'refused' : 'skipped', reason: o.reason });
      log(`waldofy: ${JSON.stringify(o.name).slice(1, -1)}: ${o.refused ? 'REFUSED' : 'skipped'}, ${o.reason}`);
    }
    const matcher = new CourseMatcher(opts.courses, date);
    matcher.discover(members.map((m) => m.name));
    const cleaned = new Set<string>();
    const inputCourses = new Set<string>();
    for (const member of members) {
      const r = await waldofyFile(member, date, matcher, opts, log, cleaned);
      summary.files.push(r);
      if (r.courseId !== undefined && r.known !== undefined && r.output !== undefined) {
        const key = `${r.known ? '' : 'UNKNOWN:'}${r.courseId}@${date}`;
        inputCourses.add(key);
        let rep = courseReports.get(key);
        if (!rep) {
          rep = { courseId: r.courseId, known: r.known, dir: path.dirname(r.output), outputs: [], missing: [], rows: 0, rejects: 0 };
          courseReports.set(key, rep);
        }
        if (r.status === 'written' || r.status === 'kept') rep.outputs.push(path.basename(r.output));
        rep.rows += r.rows ?? 0;
        rep.rejects += r.rejects ?? 0;
      }
    }
    for (const key of inputCourses) {
      const rep = courseReports.get(key) as WaldoCourseReport;
      rep.missing = EXPECTED_OUTPUTS.filter((e) => {
        if (e.startsWith('course_structure')) return !rep.outputs.some((o) => o.startsWith('course_structure') && o.endsWith('.json.gz'));
        if (e.startsWith('course (')) return !rep.outputs.some((o) => o.endsWith('.xml.tar.gz'));
        return !rep.outputs.includes(e);
      });
      summary.courses.push(rep);
    }
  } catch (e) {
    summary.status = 'failed';
    summary.error = (e as Error).message;
    log(`waldofy: FAILED ${summary.error}`);
  } finally {
    listing.close();
  }
  return summary;
}

async function waldofyFile(member: Member, date: string, matcher: CourseMatcher, opts: WaldofyOptions, log: (line: string) => void, cleaned: Set<string>): Promise<WaldoFileResult> {
  const name = member.name;
  const shown = JSON.stringify(name).slice(1, -1); // control characters visible in logs
  const cls = classifyDumpFile(name);
  if ('skip' in cls) {
    log(`waldofy: ${shown}: skipped, ${cls.skip}`);
    return { name, status: 'skipped', reason: cls.skip };
  }
  const kind = cls.kind;
  const m = matcher.match(name, kind);
  if (m === null) {
    log(`waldofy: ${shown}: skipped, no course id found in the name`);
    return { name, status: 'skipped', kind, reason: 'no course id found in the name' };
  }
  const outName = waldoOutputName(kind, m.dataName);
  if (outName === null) return { name, status: 'skipped', kind, courseId: m.courseId, known: m.known, reason: 'no table name after the course id' };
  const rel = m.known ? path.join(waldoCourseDirName(m.courseId), date) : path.join(UNKNOWN_SQL_DIR, waldoCourseDirName(m.courseId), date);
  const dest = assertInside(opts.sqlDir, path.join(opts.sqlDir, rel));
  const file = assertInside(dest, path.join(dest, outName));
  const output = path.join(rel, outName);
  const base: WaldoFileResult = { name, status: 'written', kind, courseId: m.courseId, known: m.known, output };
  await fs.promises.mkdir(dest, { recursive: true });
  if (!cleaned.has(dest)) {
    cleaned.add(dest);
    await cleanStaleTemps(dest);
    await cleanStaleTemps(path.join(dest, '_rejects'));
  }
  const started = performance.now();
  const secs = () => ((performance.now() - started) / 1000).toFixed(1);
  try {
    if (kind === 'sql') {
      if (await exists(file)) {
        log(`waldofy: ${shown} → ${output}: kept (exists)`);
        return { ...base, status: 'kept', reason: 'exists (not overwritten)' };
      }
      const rejectFile = assertInside(dest, path.join(dest, '_rejects', outName.replace(/\.csv\.gz$/, '.jsonl.gz')));
      let rowsNow = 0;
      const interval = opts.progressIntervalMs ?? 10_000;
      const timer = setInterval(() => log(`waldofy: ${shown}: ${fmt(rowsNow)} rows so far (${secs()} s)`), interval);
      timer.unref();
      let res: SqlResult;
      try {
        res = await convertSql(await member.open(), name, file, rejectFile, opts, (n) => {
          rowsNow = n;
        });
      } finally {
        clearInterval(timer);
      }
      if (res.empty) {
        log(`waldofy: ${shown}: skipped, empty file (no header line)`);
        return { ...base, status: 'skipped', reason: 'empty file (no header line)', rows: 0, rejects: 0 };
      }
      log(`waldofy: ${shown} → ${output}: ${fmt(res.rows)} rows, ${fmt(res.rejects)} rejects (${secs()} s)`);
      return { ...base, rows: res.rows, rejects: res.rejects };
    }
    const bytes = await copyAtomic(await member.open(), file, kind === 'xml.tar.gz' ? null : opts.gzipLevel);
    log(`waldofy: ${shown} → ${output}: ${fmt(bytes)} bytes (${secs()} s)`);
    return base;
  } catch (e) {
    log(`waldofy: ${shown}: FAILED ${(e as Error).message}`);
    return { ...base, status: 'failed', reason: (e as Error).message };
  }
}

/** Runs waldofy over dump directories and zips (in the order given). */
export async function waldofy(inputs: string[], opts: WaldofyOptions): Promise<WaldofySummary> {
  const started = performance.now();
  const log = opts.log ?? ((line: string) => void process.stderr.write(line + '\n'));
  const reports = new Map<string, WaldoCourseReport>();
  const summary: WaldofySummary = {
    sqlDir: opts.sqlDir,
    inputs: [],
    files: { total: 0, written: 0, kept: 0, skipped: 0, refused: 0, failed: 0 },
    rows: 0,
    rejects: 0,
    coursesNotFound: [],
    seconds: 0,
  };
  await fs.promises.mkdir(opts.sqlDir, { recursive: true });
  for (const input of inputs) {
    const s = await waldofyInput(input, opts, reports, log);
    summary.inputs.push(s);
    for (const f of s.files) {
      summary.files.total++;
      summary.files[f.status]++;
      summary.rows += f.rows ?? 0;
      summary.rejects += f.rejects ?? 0;
    }
  }
  const found = new Set([...reports.values()].filter((r) => r.known).map((r) => r.courseId));
  summary.coursesNotFound = [...new Set(opts.courses.map((c) => slashCourseId(c.trim())))].filter((c) => !found.has(c));
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
