/**
 * The weekly research dump of the sample-data generator (generateLogs({dump: true}), `--dump`):
 * determinism, the file inventory and TSV format of spec sql-and-person-course §1.2–§1.3, the counts
 * of truth.dump re-counted from the files, and consistency with the generated logs (enrollment events,
 * forum posts, problem checks, video and problem ids), all read back here with small parsers of the
 * test's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { XMLValidator } from 'fast-xml-parser';
import { generateLogs, type Truth, type DumpCourseTruth, type CourseTruth } from '../scripts/generate-logs.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- spec §1.2 columns (in order)
const SPEC: Record<string, string[]> = {
  auth_user: 'id username first_name last_name email password is_staff is_active is_superuser last_login date_joined status email_key avatar_typ country show_country date_of_birth interesting_tags ignored_tags email_tag_filter_strategy display_tag_filter_strategy consecutive_days_visit_count'.split(' '),
  auth_userprofile: 'id user_id name language location meta courseware gender mailing_address year_of_birth level_of_education goals allow_certificate country city bio profile_image_uploaded_at'.split(' '),
  student_courseenrollment: 'id user_id course_id created is_active mode'.split(' '),
  certificates_generatedcertificate: 'id user_id download_url grade course_id key distinction status verify_uuid download_uuid name created_date modified_date error_reason mode'.split(' '),
  courseware_studentmodule: 'id module_type module_id student_id state grade created modified max_grade done course_id'.split(' '),
  user_id_map: 'hash_id id username'.split(' '),
  student_courseaccessrole: 'user_id course_id role'.split(' '),
  django_comment_client_role_users: 'user_id course_id name'.split(' '),
};
/** Columns a file may lack (obsolete / not yet present), and columns some exports add (spec §1.2). */
const MAY_LACK: Record<string, string[]> = {
  auth_user: 'status email_key avatar_typ country show_country date_of_birth interesting_tags ignored_tags email_tag_filter_strategy display_tag_filter_strategy consecutive_days_visit_count'.split(' '),
  auth_userprofile: ['allow_certificate', 'bio', 'profile_image_uploaded_at'],
};
const MAY_ADD: Record<string, string[]> = { student_courseaccessrole: ['id', 'org'] };

// ---------------------------------------------------------------- TSV (spec §1.3 REC)
type Row = Record<string, string | null>;
interface Tsv {
  header: string[];
  rows: Row[];
  endsWithNewline: boolean;
}

function unescapeTsv(s: string): string {
  return s.replace(/\\([\\tnr])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

function parseTsv(text: string): Tsv {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  const header = lines[0]!.split('\t');
  const rows: Row[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.split('\t');
    if (cells.length !== header.length) throw new Error(`line ${i + 1}: ${cells.length} cells, header has ${header.length}`);
    const r: Row = {};
    header.forEach((h, k) => (r[h] = cells[k] === 'NULL' ? null : unescapeTsv(cells[k]!)));
    rows.push(r);
  }
  return { header, rows, endsWithNewline };
}

// ---------------------------------------------------------------- logs (valid lines only)
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;
function parseTime(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const m = TIME_RE.exec(s);
  if (!m) return null;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const frac = m[7] ? Number((m[7] + '000000').slice(0, 6)) : 0;
  let off = 0;
  const z = m[8];
  if (z && z !== 'Z') off = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.replace(':', '').slice(3, 5)));
  return (ms - off * 60_000) * 1000 + frac;
}
const toSlash = (id: string): string => {
  const m = /^course-v1:([^+/]+)\+([^+/]+)\+([^+/]+)$/.exec(id);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : id;
};
const URL_COURSE = /\/courses\/(?:course-v1:([^/+]+)\+([^/+]+)\+([^/+]+)\/|([^/]+)\/([^/]+)\/([^/]+)\/)/;
function courseOf(ev: Obj): string {
  const ctx = ev['context'];
  const cid = isObj(ctx) ? ctx['course_id'] : undefined;
  if (typeof cid === 'string' && cid !== '') return toSlash(cid);
  const src = ev['event_source'] === 'browser' ? (typeof ev['page'] === 'string' ? (/^https*:\/\/[^/]+(\/courses\/.*)$/.exec(ev['page'])?.[1] ?? '') : '') : typeof ev['event_type'] === 'string' ? ev['event_type'] : '';
  const m = URL_COURSE.exec(src);
  return !m ? '' : m[1] !== undefined ? `${m[1]}/${m[2]}/${m[3]}` : `${m[4]}/${m[5]}/${m[6]}`;
}

interface LogEvent {
  ev: Obj;
  us: number;
  course: string;
  seq: number;
}
const utf8 = new TextDecoder('utf-8', { fatal: true });
function readLogs(gz: Buffer, out: LogEvent[]): void {
  const buf = gunzipSync(gz);
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length;
    const bytes = buf.subarray(start, end);
    start = end + 1;
    let s: string;
    try {
      s = utf8.decode(bytes).trim();
    } catch {
      continue;
    }
    if (!s.startsWith('{') && s.slice(0, 27).includes('localhost {')) s = s.slice(26);
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      continue;
    }
    if (!isObj(v)) continue;
    const us = parseTime(v['time']);
    if (us === null) continue;
    out.push({ ev: v, us, course: courseOf(v), seq: out.length });
  }
}

// ---------------------------------------------------------------- tar
async function untar(gz: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const ex = tar.extract();
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      files.set(entry.header.name, Buffer.concat(chunks).toString('utf8'));
    }
  })();
  Readable.from([gunzipSync(gz)]).pipe(ex);
  await done;
  return files;
}

// ---------------------------------------------------------------- fixtures
const OPTS = { courses: 4, learners: 150, days: 3, start: '2015-03-01', eventsPerDay: 4000, seed: 5, malformedRate: 0.01 };
let root = '';
let truth: Truth;
let dumpDir = '';
const events: LogEvent[] = [];
const tsv = new Map<string, Tsv>(); // file name → parsed
const table = (c: CourseTruth, t: string): Tsv => tsv.get(`${c.org}-${c.number}-${c.run}-${t}-prod-analytics.sql`)!;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'edx2bq-gendump-'));
  truth = await generateLogs({ out: join(root, 'a'), ...OPTS, dump: true });
  dumpDir = join(root, 'a', truth.dump!.dir);
  for (const name of Object.keys(truth.files)) readLogs(await readFile(join(root, 'a', name)), events);
  for (const name of await readdir(dumpDir)) if (name.endsWith('.sql')) tsv.set(name, parseTsv(await readFile(join(dumpDir, name), 'utf8')));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('generator dump: files and determinism', () => {
  it('same seed → byte-identical dump; dump off → same logs, no dump, no truth.dump', async () => {
    const t2 = await generateLogs({ out: join(root, 'b'), ...OPTS, dump: true });
    const t3 = await generateLogs({ out: join(root, 'c'), ...OPTS });
    const names = (await readdir(dumpDir)).sort();
    expect((await readdir(join(root, 'b', t2.dump!.dir))).sort()).toEqual(names);
    for (const n of names) expect((await readFile(join(root, 'b', t2.dump!.dir, n))).equals(await readFile(join(dumpDir, n))), n).toBe(true);
    expect(await readFile(join(root, 'b', 'truth.json'), 'utf8')).toBe(await readFile(join(root, 'a', 'truth.json'), 'utf8'));
    expect(existsSync(join(root, 'c', 'dump'))).toBe(false);
    expect(t3.dump).toBeUndefined();
    expect(JSON.parse(await readFile(join(root, 'c', 'truth.json'), 'utf8'))).not.toHaveProperty('dump');
    for (const n of Object.keys(truth.files)) expect((await readFile(join(root, 'c', n))).equals(await readFile(join(root, 'a', n)))).toBe(true);
    const onDisk = JSON.parse(await readFile(join(root, 'a', 'truth.json'), 'utf8')) as Truth;
    expect(onDisk.dump).toEqual(truth.dump);
  });

  it('writes one set of files per course under dump/<org>-<day after the last log day>/', async () => {
    expect(truth.dump!.date).toBe('2015-03-04');
    expect(truth.dump!.dir).toBe('dump/mitx-2015-03-04');
    const names = (await readdir(dumpDir)).sort();
    const expected: string[] = [];
    for (const c of truth.courses) {
      const p = `${c.org}-${c.number}-${c.run}`; // dash-joined triple, also for course-v1 courses
      const mine = [
        ...Object.keys(SPEC).map((t) => `${p}-${t}-prod-analytics.sql`),
        `${p}-prod.mongo`, `${p}-course_structure-prod-analytics.json`, `${p}-course-prod-analytics.xml.tar.gz`,
      ].sort();
      expect(truth.dump!.courses[c.slashId]!.files).toEqual(mine);
      expect(truth.dump!.courses[c.slashId]!.prefix).toBe(p);
      expected.push(...mine);
    }
    expect(names).toEqual(expected.sort());
  });

  it('rejects a dump date before the day after the last log day', async () => {
    await expect(generateLogs({ out: join(root, 'bad'), courses: 1, learners: 5, days: 2, eventsPerDay: 20, dump: true, dumpDate: '2015-03-02' })).rejects.toThrow(/dump-date/);
    const t = await generateLogs({ out: join(root, 'late'), courses: 1, learners: 5, days: 1, eventsPerDay: 20, dump: true, dumpDate: '2015-03-09' });
    expect(t.dump!.dir).toBe('dump/mitx-2015-03-09');
  });

  it('CLI: --dump writes it, --help documents it', async () => {
    const script = join(import.meta.dirname, '../scripts/generate-logs.ts');
    const help = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--dump\b/);
    expect(help.stdout).toMatch(/--dump-date/);
    const out = join(root, 'cli');
    const r = spawnSync(process.execPath, [script, '--out', out, '--courses', '2', '--learners', '10', '--days', '1', '--events-per-day', '200', '--dump', '--quiet'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const t = JSON.parse(await readFile(join(out, 'truth.json'), 'utf8')) as Truth;
    expect(t.dump!.dir).toBe('dump/mitx-2015-03-02');
    expect((await readdir(join(out, t.dump!.dir))).length).toBe(22);
  });
});

describe('generator dump: TSV format (spec §1.2–§1.3)', () => {
  it('every .sql file has a spec header, full rows, and the row count of the truth', async () => {
    let lackingAllowCert = 0;
    let unterminated = 0;
    for (const c of truth.courses) {
      const d = truth.dump!.courses[c.slashId]!;
      for (const t of Object.keys(SPEC)) {
        const f = table(c, t);
        const omitted = d.omittedColumns[t] ?? [];
        const allowed = [...(MAY_LACK[t] ?? []), ...(MAY_ADD[t] ?? [])];
        for (const o of omitted) expect(allowed, `${t} omits ${o}`).toContain(o);
        const full = [...(MAY_ADD[t] ?? []).filter((x) => x === 'id'), ...SPEC[t]!];
        if (t === 'student_courseaccessrole') full.splice(2, 0, 'org');
        expect(f.header, `${c.slashId} ${t}`).toEqual(full.filter((x) => !omitted.includes(x)));
        for (const col of SPEC[t]!) if (!(MAY_LACK[t] ?? []).includes(col)) expect(f.header).toContain(col);
        expect(f.rows.length, `${c.slashId} ${t}`).toBe(d.rows[t]);
        expect(f.endsWithNewline).toBe(!d.unterminated.includes(t));
        if (t === 'auth_userprofile' && omitted.includes('allow_certificate')) lackingAllowCert++;
      }
      unterminated += d.unterminated.length;
    }
    expect(lackingAllowCert).toBeGreaterThan(0);
    expect(unterminated).toBeGreaterThan(0);
  });

  it('NULL vs empty, escapes, unicode, datetimes', () => {
    const all = (t: string): Row[] => truth.courses.flatMap((c) => table(c, t).rows);
    const profiles = all('auth_userprofile');
    expect(profiles.some((r) => r['gender'] === null)).toBe(true);
    expect(profiles.some((r) => r['gender'] === '')).toBe(true);
    expect(profiles.some((r) => r['name']!.includes('\t'))).toBe(true);
    expect(profiles.some((r) => (r['mailing_address'] ?? '').includes('\n'))).toBe(true);
    expect(profiles.some((r) => (r['mailing_address'] ?? '').includes('\\'))).toBe(true);
    const users = all('auth_user');
    expect(users.some((r) => /[^\x00-\x7f]/.test(r['username']!))).toBe(true);
    expect(users.some((r) => r['last_login'] === null)).toBe(true);
    const DT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
    for (const r of users) expect(r['date_joined']).toMatch(DT);
    for (const r of all('student_courseenrollment')) {
      expect(r['created']).toMatch(DT);
      expect(['0', '1']).toContain(r['is_active']);
      expect(['audit', 'honor', 'verified', 'professional']).toContain(r['mode']);
    }
    const modes = new Set(all('student_courseenrollment').map((r) => r['mode']));
    expect([...modes].sort()).toEqual(['audit', 'honor', 'professional', 'verified']);
    const certs = all('certificates_generatedcertificate');
    for (const r of certs) expect(r['grade']).toMatch(/^(|\d\.\d{1,2})$/);
    expect(certs.some((r) => r['grade'] === '')).toBe(true);
    const statuses = new Set(certs.map((r) => r['status']));
    for (const s of ['downloadable', 'notpassing', 'audit_passing']) expect(statuses).toContain(s);
    // per-user fields agree across the courses' files
    const byId = new Map<string, string>();
    for (const r of users) {
      const k = `${r['username']}\u0001${r['email']}\u0001${r['date_joined']}`;
      expect(byId.get(r['id']!) ?? k).toBe(k);
      byId.set(r['id']!, k);
    }
    expect(byId.size).toBe(truth.dump!.users);
  });
});

describe('generator dump: counts equal the truth', () => {
  it('users, enrollment, certificates, roles, activity', () => {
    const activeIn = new Map<string, Set<string>>(); // course → usernames with base events
    const seen = new Set<string>();
    for (const e of events) {
      const u = e.ev['username'];
      if (typeof u !== 'string' || u === '') continue;
      seen.add(u);
      const et = typeof e.ev['event_type'] === 'string' ? e.ev['event_type'] : '';
      if (e.course === '' || et.includes('/xblock/')) continue;
      if (!activeIn.has(e.course)) activeIn.set(e.course, new Set());
      activeIn.get(e.course)!.add(u);
    }
    for (const c of truth.courses) {
      const d: DumpCourseTruth = truth.dump!.courses[c.slashId]!;
      const users = table(c, 'auth_user').rows;
      const enr = table(c, 'student_courseenrollment').rows;
      const certs = table(c, 'certificates_generatedcertificate').rows;
      const roles = table(c, 'student_courseaccessrole').rows;
      const froles = table(c, 'django_comment_client_role_users').rows;
      expect(users.length).toBe(d.registered);
      expect(new Set(users.map((r) => r['id'])).size).toBe(users.length);
      expect(table(c, 'user_id_map').rows.map((r) => r['id'])).toEqual(users.map((r) => r['id']));
      expect(users.length - table(c, 'auth_userprofile').rows.length).toBe(d.withoutProfile);
      expect(users.filter((r) => r['is_active'] === '0').length).toBe(d.inactiveAccounts);
      expect(enr.length).toBe(d.enrolled);
      expect(new Set(enr.map((r) => r['user_id'])).size).toBe(enr.length);
      for (const r of [...enr, ...certs, ...roles, ...froles]) expect(r['course_id']).toBe(c.id);
      expect(enr.filter((r) => r['is_active'] === '1').length).toBe(d.active);
      expect(enr.filter((r) => r['is_active'] === '0').length).toBe(d.unenrolled);
      expect(enr.filter((r) => r['mode'] === 'verified').length).toBe(d.verified);
      const modes: Record<string, number> = {};
      for (const r of enr) modes[r['mode']!] = (modes[r['mode']!] ?? 0) + 1;
      expect(modes).toEqual(d.modes);
      expect(certs.length).toBe(d.certificates);
      expect(certs.filter((r) => r['status'] === 'downloadable').length).toBe(d.certified);
      const enrolled = new Set(enr.map((r) => r['user_id']));
      expect(certs.filter((r) => !enrolled.has(r['user_id']!)).length).toBe(d.certificateWithoutEnrollment);
      expect(certs.filter((r) => r['grade'] !== '' && Number(r['grade']) >= d.minCutoff).length).toBe(d.gradeAtLeastMinCutoff);
      const ids = new Set(users.map((r) => r['id']));
      for (const r of [...enr, ...certs, ...roles, ...froles]) expect(ids.has(r['user_id']!)).toBe(true);
      expect(new Set(roles.map((r) => r['user_id'])).size).toBe(d.courseRoleUsers);
      const staffRec = new Set([...roles.map((r) => r['user_id']), ...froles.filter((r) => r['name'] !== 'Student').map((r) => r['user_id'])]);
      expect(staffRec.size).toBe(d.rolesStaff);
      for (const role of ['staff', 'instructor', 'beta_testers']) expect(roles.some((r) => r['role'] === role)).toBe(true);
      for (const role of ['Student', 'Moderator', 'Administrator', 'Community TA']) expect(froles.some((r) => r['name'] === role)).toBe(true);
      // activity in the logs
      const act = activeIn.get(c.slashId) ?? new Set();
      const names = users.map((r) => r['username']!);
      expect(names.filter((n) => act.has(n)).length).toBe(d.withLogActivity);
      expect(names.filter((n) => !act.has(n)).length).toBe(d.noLogActivity);
      expect(names.filter((n) => !seen.has(n)).length).toBe(d.neverInLogs);
      expect([...act].filter((n) => !names.includes(n)).length).toBe(d.activeNotRegistered);
      expect(d.activeNotRegistered).toBe(0);
      expect(d.neverInLogs).toBeGreaterThan(0); // learners enrolled but never in the logs
      expect(d.certificateWithoutEnrollment).toBeGreaterThan(0);
    }
  });

  it('studentmodule: key form, JSON state, viewed / explored, large states', async () => {
    for (const c of truth.courses) {
      const d = truth.dump!.courses[c.slashId]!;
      const sm = table(c, 'courseware_studentmodule').rows;
      const structure = JSON.parse(await readFile(join(dumpDir, `${d.prefix}-course_structure-prod-analytics.json`), 'utf8')) as Record<string, { category: string }>;
      const nChapters = Object.values(structure).filter((b) => b.category === 'chapter').length;
      expect(nChapters).toBe(d.chapters);
      expect(nChapters).toBe(c.chapters);
      const prefix = c.form === 'slash' ? `i4x://${c.org}/${c.number}/` : `block-v1:${c.org}+${c.number}+${c.run}+type@`;
      const types: Record<string, number> = {};
      let large = 0;
      const chaptersOf = new Map<string, Set<string>>();
      for (const r of sm) {
        expect(r['module_id']!.startsWith(prefix)).toBe(true);
        expect(structure).toHaveProperty([r['module_id']!]);
        expect(r['course_id']).toBe(c.id);
        types[r['module_type']!] = (types[r['module_type']!] ?? 0) + 1;
        JSON.parse(r['state']!);
        if (Buffer.byteLength(r['state']!) >= 100 * 1024) large++;
        if (r['module_type'] === 'chapter') {
          if (!chaptersOf.has(r['student_id']!)) chaptersOf.set(r['student_id']!, new Set());
          chaptersOf.get(r['student_id']!)!.add(r['module_id']!);
        }
        if (r['module_type'] === 'problem' && r['grade'] !== null) expect(Number(r['grade'])).toBeLessThanOrEqual(Number(r['max_grade']));
      }
      expect(types).toEqual(d.studentmoduleTypes);
      for (const t of ['chapter', 'sequential', 'problem']) expect(types[t]).toBeGreaterThan(0);
      expect(large).toBe(d.largeStates);
      expect(large).toBeGreaterThan(0);
      expect(chaptersOf.size).toBe(d.viewed);
      expect([...chaptersOf.values()].filter((s) => s.size >= Math.floor(nChapters / 2)).length).toBe(d.explored);
    }
  });

  it('forum: documents and their kinds', async () => {
    for (const c of truth.courses) {
      const d = truth.dump!.courses[c.slashId]!;
      const text = await readFile(join(dumpDir, `${d.prefix}-prod.mongo`), 'utf8');
      const docs = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Obj);
      expect(docs.length).toBe(d.forum.documents);
      expect(docs.filter((x) => x['_type'] === 'CommentThread').length).toBe(d.forum.threads);
      expect(docs.filter((x) => x['_type'] === 'Comment' && !('parent_id' in x)).length).toBe(d.forum.responses);
      expect(docs.filter((x) => x['_type'] === 'Comment' && 'parent_id' in x).length).toBe(d.forum.comments);
      expect(new Set(docs.map((x) => x['author_id'])).size).toBe(d.forum.authors);
      for (const x of docs) {
        expect(x['course_id']).toBe(c.id);
        expect((x['_id'] as Obj)['$oid']).toMatch(/^[0-9a-f]{24}$/);
        expect(x['created_at']).toHaveProperty('$date');
      }
    }
  });
});

describe('generator dump: consistent with the logs', () => {
  it('enrollment rows follow the enrollment events of the logs', () => {
    const logStartSec = Date.parse('2015-03-01T00:00:00Z') / 1000;
    const byPair = new Map<string, LogEvent[]>();
    for (const e of events) {
      const et = e.ev['event_type'];
      if (typeof et !== 'string' || !/^edx\.course\.enrollment\.(activated|deactivated|mode_changed)$/.test(et)) continue;
      const ev = e.ev['event'] as Obj;
      const k = `${Number(ev['user_id'])}|${e.course}`;
      if (!byPair.has(k)) byPair.set(k, []);
      byPair.get(k)!.push(e);
    }
    expect(byPair.size).toBeGreaterThan(10);
    const kinds = new Set<string>();
    let checked = 0;
    for (const c of truth.courses) {
      const enr = new Map(table(c, 'student_courseenrollment').rows.map((r) => [r['user_id']!, r]));
      let withEvents = 0;
      let createdDuring = 0;
      for (const r of enr.values()) {
        const sec = Date.parse(r['created']!.replace(' ', 'T') + 'Z') / 1000;
        const evs = (byPair.get(`${r['user_id']}|${c.slashId}`) ?? []).sort((a, b) => a.us - b.us || a.seq - b.seq);
        if (evs.length > 0) withEvents++;
        if (sec >= logStartSec) {
          // created during the logs: exactly at its first event, an activation
          createdDuring++;
          expect(evs.length).toBeGreaterThan(0);
          expect(evs[0]!.ev['event_type']).toBe('edx.course.enrollment.activated');
          expect(sec).toBe(Math.floor(evs[0]!.us / 1e6));
        }
      }
      expect(withEvents).toBe(truth.dump!.courses[c.slashId]!.withLogEnrollmentEvents);
      expect(createdDuring).toBe(truth.dump!.courses[c.slashId]!.createdDuringLogs);
      for (const [k, evs] of byPair) {
        const [uid, course] = k.split('|') as [string, string];
        if (course !== c.slashId) continue;
        evs.sort((a, b) => a.us - b.us || a.seq - b.seq);
        const row = enr.get(uid);
        expect(row, `enrollment row for ${k}`).toBeDefined();
        const first = evs[0]!;
        const firstSec = Math.floor(first.us / 1e6);
        const created = Date.parse(row!['created']!.replace(' ', 'T') + 'Z') / 1000;
        if (first.ev['event_type'] === 'edx.course.enrollment.activated') expect(created === firstSec || created < logStartSec).toBe(true);
        else expect(created).toBeLessThan(logStartSec);
        const last = evs[evs.length - 1]!;
        const lt = last.ev['event_type'] as string;
        kinds.add(lt);
        const mode = (last.ev['event'] as Obj)['mode'];
        if (lt.endsWith('.deactivated')) expect(row!['is_active']).toBe('0');
        else expect(row!['mode']).toBe(mode);
        if (lt.endsWith('.activated')) expect(row!['is_active']).toBe('1');
        checked++;
      }
    }
    expect(checked).toBe(byPair.size);
    expect([...kinds].sort()).toEqual(['edx.course.enrollment.activated', 'edx.course.enrollment.deactivated', 'edx.course.enrollment.mode_changed']);
  });

  it('user ids and usernames agree with the logs', () => {
    const names = new Map<string, string>();
    for (const c of truth.courses) for (const r of table(c, 'auth_user').rows) names.set(r['id']!, r['username']!);
    let n = 0;
    for (const e of events) {
      const u = e.ev['username'];
      const ctx = e.ev['context'];
      if (typeof u !== 'string' || u === '' || !isObj(ctx) || typeof ctx['user_id'] !== 'number') continue;
      expect(names.get(String(ctx['user_id']))).toBe(u); // every learner and staff member is in some course's dump
      n++;
    }
    expect(n).toBeGreaterThan(events.length / 2);
  });

  it('forum posts of the logs are documents with the same ids, authors, threads and parents', async () => {
    let n = 0;
    for (const c of truth.courses) {
      const d = truth.dump!.courses[c.slashId]!;
      const docs = new Map<string, Obj>();
      for (const l of (await readFile(join(dumpDir, `${d.prefix}-prod.mongo`), 'utf8')).trimEnd().split('\n')) {
        const x = JSON.parse(l) as Obj;
        docs.set((x['_id'] as Obj)['$oid'] as string, x);
      }
      let fromLogs = 0;
      for (const e of events) {
        const m = /^edx\.forum\.(thread|response|comment)\.created$/.exec(String(e.ev['event_type']));
        if (!m || e.course !== c.slashId) continue;
        const ev = e.ev['event'] as Obj;
        const doc = docs.get(ev['id'] as string);
        expect(doc, `document ${String(ev['id'])}`).toBeDefined();
        expect(doc!['author_id']).toBe(String((e.ev['context'] as Obj)['user_id']));
        expect(doc!['author_username']).toBe(e.ev['username']);
        expect(doc!['body']).toBe(ev['body']);
        expect(doc!['_type']).toBe(m[1] === 'thread' ? 'CommentThread' : 'Comment');
        if (m[1] === 'thread') expect(doc!['title']).toBe(ev['title']);
        else {
          const tid = (ev['discussion'] as Obj)['id'] as string;
          expect((doc!['comment_thread_id'] as Obj)['$oid']).toBe(tid);
          expect(docs.get(tid)?.['_type']).toBe('CommentThread');
        }
        if (m[1] === 'comment') {
          const rid = (ev['response'] as Obj)['id'] as string;
          expect((doc!['parent_id'] as Obj)['$oid']).toBe(rid);
          expect(docs.get(rid)?.['_type']).toBe('Comment');
        }
        fromLogs++;
      }
      expect(fromLogs).toBe(d.forum.fromLogs);
      n += fromLogs;
      // the threads and responses the logs reply to and vote on exist
      for (const e of events) {
        if (e.course !== c.slashId || !/^edx\.forum\.(thread|response)\.voted$/.test(String(e.ev['event_type']))) continue;
        expect(docs.has((e.ev['event'] as Obj)['id'] as string)).toBe(true);
      }
    }
    expect(n).toBeGreaterThan(0);
  });

  it('problem rows carry the last problem_check of the logs', () => {
    let n = 0;
    for (const c of truth.courses) {
      const ids = new Map(table(c, 'auth_user').rows.map((r) => [r['username']!, r['id']!]));
      const rows = new Map<string, Row>();
      for (const r of table(c, 'courseware_studentmodule').rows) if (r['module_type'] === 'problem') rows.set(`${r['student_id']}|${r['module_id']}`, r);
      const last = new Map<string, Obj>();
      for (const e of events) {
        if (e.course !== c.slashId || e.ev['event_type'] !== 'problem_check' || e.ev['event_source'] !== 'server') continue;
        const ev = e.ev['event'] as Obj;
        last.set(`${ids.get(e.ev['username'] as string)}|${String(ev['problem_id'])}`, ev); // module_id = the logged problem key
      }
      for (const [k, ev] of last) {
        const r = rows.get(k);
        expect(r, k).toBeDefined();
        expect(Number(r!['grade'])).toBe(ev['grade']);
        expect(Number(r!['max_grade'])).toBe(ev['max_grade']);
        n++;
      }
      expect(last.size).toBe(truth.dump!.courses[c.slashId]!.problemRowsFromLogs);
    }
    expect(n).toBeGreaterThan(0);
  });

  it('OLX tarball: valid tar.gz with course.xml, the same problem and video ids as the logs, graded sequentials, policies', async () => {
    for (const c of truth.courses) {
      const d = truth.dump!.courses[c.slashId]!;
      const files = await untar(await readFile(join(dumpDir, `${d.prefix}-course-prod-analytics.xml.tar.gz`)));
      const top = [...files.keys()][0]!.split('/')[0]!;
      expect(files.get(`${top}/course.xml`)).toMatch(new RegExp(`<course url_name="${c.run}" org="${c.org}" course="${c.number.replace(/\./g, '\\.')}"/>`));
      expect(files.has(`${top}/course/${c.run}.xml`)).toBe(true);
      for (const [name, text] of files) if (name.endsWith('.xml')) expect(XMLValidator.validate(text), name).toBe(true);
      const policy = JSON.parse(files.get(`${top}/policies/${c.run}/policy.json`)!) as Obj;
      expect(policy).toHaveProperty([`course/${c.run}`]);
      const grading = JSON.parse(files.get(`${top}/policies/${c.run}/grading_policy.json`)!) as { GRADER: Obj[]; GRADE_CUTOFFS: Record<string, number> };
      expect(grading.GRADE_CUTOFFS).toEqual(d.gradeCutoffs);
      // the tree: course → chapters → sequentials → verticals → leaves
      const refs = (text: string, tag: string): string[] => [...text.matchAll(new RegExp(`<${tag} url_name="([^"]+)"`, 'g'))].map((m) => m[1]!);
      const chapters = refs(files.get(`${top}/course/${c.run}.xml`)!, 'chapter');
      expect(chapters.length).toBe(c.chapters);
      const seqs = chapters.flatMap((ch) => refs(files.get(`${top}/chapter/${ch}.xml`)!, 'sequential'));
      expect(seqs.length).toBe(c.sequentials);
      const formats: Record<string, number> = {};
      const verticals: string[] = [];
      for (const s of seqs) {
        const x = files.get(`${top}/sequential/${s}.xml`)!;
        const f = /format="([^"]+)"/.exec(x)?.[1];
        if (f) {
          formats[f] = (formats[f] ?? 0) + 1;
          expect(x).toMatch(/graded="true"/);
          expect(x).toMatch(/due="\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"/);
        }
        verticals.push(...refs(x, 'vertical'));
      }
      expect(formats).toEqual(d.gradedSequentials);
      expect(Object.keys(formats).sort()).toEqual(['Exam', 'Homework']);
      const problems = verticals.flatMap((v) => refs(files.get(`${top}/vertical/${v}.xml`)!, 'problem'));
      const videos = verticals.flatMap((v) => refs(files.get(`${top}/vertical/${v}.xml`)!, 'video'));
      for (const p of problems) expect(files.has(`${top}/problem/${p}.xml`)).toBe(true);
      for (const v of videos) expect(files.has(`${top}/video/${v}.xml`)).toBe(true);
      const key = (t: string, id: string): string => (c.form === 'slash' ? `i4x://${c.org}/${c.number}/${t}/${id}` : `block-v1:${c.org}+${c.number}+${c.run}+type@${t}+block@${id}`);
      expect(problems.map((p) => key('problem', p)).sort()).toEqual([...c.problems].sort());
      expect(videos.map((v) => key('video', v)).sort()).toEqual([...c.videos].sort());
      // ids used by the logs of this course
      const pset = new Set(c.problems);
      const vset = new Set(c.videos);
      let loggedP = 0;
      let loggedV = 0;
      for (const e of events) {
        if (e.course !== c.slashId) continue;
        const et = String(e.ev['event_type']);
        const ev = e.ev['event'];
        if (e.ev['event_source'] === 'server' && (et === 'problem_check' || et === 'showanswer' || et === 'show_answer') && isObj(ev)) {
          expect(pset.has(ev['problem_id'] as string), String(ev['problem_id'])).toBe(true);
          loggedP++;
        } else if (e.ev['event_source'] === 'mobile' && isObj(ev) && typeof ev['id'] === 'string') {
          expect(vset.has(ev['id']), ev['id']).toBe(true);
          loggedV++;
        } else if (e.ev['event_source'] === 'browser' && /_video$/.test(et) && typeof ev === 'string') {
          const id = (JSON.parse(ev) as Obj)['id'] as string;
          expect(videos.some((v) => id.endsWith(v)), id).toBe(true);
          loggedV++;
        }
      }
      expect(loggedP).toBeGreaterThan(0);
      expect(loggedV).toBeGreaterThan(0);
      // course structure: same blocks
      const structure = JSON.parse(await readFile(join(dumpDir, `${d.prefix}-course_structure-prod-analytics.json`), 'utf8')) as Record<string, { category: string }>;
      expect(Object.entries(structure).filter(([, b]) => b.category === 'problem').map(([k]) => k).sort()).toEqual([...c.problems].sort());
      expect(Object.entries(structure).filter(([, b]) => b.category === 'video').map(([k]) => k).sort()).toEqual([...c.videos].sort());
    }
    expect(truth.courses.map((c) => c.form)).toEqual(['slash', 'opaque', 'slash', 'opaque']);
  });
});
