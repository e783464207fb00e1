/**
 * The weekly research dump of the generated world (spec sql-and-person-course §1–§5), written after
 * the logs and consistent with them:
 *
 *   <out>/dump/<org>-<YYYY-MM-DD>/{org}-{course}-{run}-{table}-prod-analytics.sql   (8 tables, TSV)
 *                                 {org}-{course}-{run}-prod.mongo                    (forum)
 *                                 {org}-{course}-{run}-course_structure-prod-analytics.json
 *                                 {org}-{course}-{run}-course-prod-analytics.xml.tar.gz (OLX)
 *
 * Users: the world's learners and staff, plus "ghost" users who are only in the dump (enrolled, some
 * unenrolled, a few with a certificate and no enrollment). Enrollment: the world's enrollments before
 * the logs, then every enrollment event of the logs replayed in time order (activated creates the row
 * or re-activates it with the event's mode, deactivated sets is_active 0, mode_changed sets the mode).
 * Forum documents, studentmodule problem rows and chapter rows follow the logs where they say
 * something (see dumpForum.ts, dumpLogs.ts). Everything random comes from the seed, through streams
 * of its own, so the logs do not change.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng, hashSeed } from './rng.ts';
import { buildWorld, type Course, type Learner } from './world.ts';
import { py } from './day.ts';
import { scanLogs, type CourseLogFacts, type LogFacts, type ProblemFact } from './dumpLogs.ts';
import { buildLayout, blockKey, courseStructure, olxTarGz, type CourseLayout } from './dumpOlx.ts';
import { forumExport, type ForumUser } from './dumpForum.ts';
import { AUTH_USER_OBSOLETE, COLUMNS, pyFloat2, sqlTime, tsvTable, type Cell, type DumpTable } from './dumpTsv.ts';
import type { DumpCourseTruth, DumpTruth } from './types.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A studentmodule state this long or longer counts as large. */
export const LARGE_STATE_BYTES = 100 * 1024;

export interface DumpInput {
  out: string;
  seed: number;
  courses: number;
  learners: number;
  org: string;
  /** First log day and number of log days. */
  start: string;
  days: number;
  dumpDate: string;
  /** The daily log files (names under `out`), in date order. */
  logFiles: string[];
}

/** Directory of the dump, relative to `out`. */
export function dumpDirName(org: string, date: string): string {
  return `dump/${org}-${date}`;
}

/** `{org}-{course}-{run}`: the course triple dash-joined, for either key form. */
export function dumpPrefix(c: { org: string; number: string; run: string }): string {
  return `${c.org}-${c.number}-${c.run}`;
}

export function dumpTableFile(c: { org: string; number: string; run: string }, table: string): string {
  return `${dumpPrefix(c)}-${table}-prod-analytics.sql`;
}

// ------------------------------------------------------------------------------------------ users
interface Profile {
  name: string;
  language: string;
  location: string;
  meta: string;
  gender: string | null;
  mailing: string | null;
  yob: number | null;
  loe: string | null;
  goals: string | null;
  allowCert: number;
  country: string | null;
  city: string | null;
  bio: string | null;
  imageAt: number | null;
}

interface User {
  id: number;
  username: string;
  kind: 'learner' | 'staff' | 'ghost';
  first: string;
  last: string;
  email: string;
  isStaff: number;
  isActive: number;
  joined: number;
  lastLogin: number | null;
  profile: Profile | null;
  profileId: number;
  hashId: string;
}

interface Enr {
  user: User;
  created: number;
  active: number;
  mode: string;
  logEvents: boolean;
  createdDuringLogs: boolean;
  id: number;
}

interface Cert {
  id: number;
  user: User;
  grade: string;
  status: string;
  mode: string;
  key: string;
  verifyUuid: string;
  downloadUuid: string;
  downloadUrl: string;
  errorReason: string;
  created: number;
  modified: number;
}

const FIRSTS = ['Alex', 'María', 'Wei', 'Fatima', 'John', 'Priya', 'Lucas', 'Emma', 'Omar', 'Yuki', 'Zoë', 'Søren', 'Chloé', 'Dmitri', 'Ana'];
const LASTS = ['Smith', 'García', 'Wang', 'Müller', 'Kumar', 'Silva', 'Nguyễn', 'Иванова', '李', "O'Brien", 'Kowalski', 'Ødegaard', 'Al-Farsi', 'Tanaka', 'Rossi'];
const GHOST_NAMES = ['ghostwriter', 'lurker', 'quiet_owl', 'réservé', 'ninguém', 'тень', '影子', 'ombra', 'schatten', 'sombra'];
const DOMAINS = ['gmail.com', 'yahoo.com', 'hotmail.com', 'qq.com', 'mit.edu', 'example.org', 'Gmail.com', 'yandex.ru', 'web.de', 'outlook.com'];
const COUNTRIES = ['US', 'IN', 'CN', 'BR', 'GB', 'ES', 'MX', 'DE', 'FR', 'RU', 'NG', 'EG', 'CO', 'PK', 'CA'];
const CITIES = ['Boston', 'Bangalore', 'São Paulo', 'Ciudad de México', 'Lagos', 'Москва', '上海', 'Zürich', 'Cairo', 'Bogotá'];
const LOE = ['p', 'm', 'b', 'a', 'hs', 'jhs', 'el', 'none', 'other', 'p_se', 'p_oth'];
const GOALS = ['Learn Python', 'Get a better job', 'Prepare for grad school\\exams', 'Curiosity!', 'Teach my students\nand myself', 'Refresh my "physics"'];
const ADDRESSES = ['77 Massachusetts Ave\nCambridge MA', 'Calle 5 #3-10\r\nBogotá', 'Flat 2, 10 High St', 'C:\\no\\such\\address', 'Tab\there'];

function asciiSlug(s: string): string {
  const t = s.normalize('NFKD').replace(/[^A-Za-z0-9._-]/g, '');
  return t === '' ? 'user' : t;
}

function makeProfile(rng: Rng, name: string, start: number): Profile {
  const r = rng.next();
  return {
    name,
    language: rng.chance(0.1) ? 'English' : '',
    location: rng.chance(0.05) ? 'Earth' : '',
    meta: rng.chance(0.7) ? '' : rng.chance(0.5) ? `{"session_id": "${rng.hex(32)}"}` : `{"old_emails": [["old_${rng.hex(6)}@example.com", "2014-0${rng.range(1, 9)}-1${rng.int(10)}T12:00:00.000000+00:00"]]}`,
    gender: r < 0.45 ? 'm' : r < 0.8 ? 'f' : r < 0.85 ? 'o' : r < 0.95 ? '' : null,
    mailing: rng.chance(0.6) ? null : rng.chance(0.4) ? '' : rng.pick(ADDRESSES),
    yob: rng.chance(0.12) ? null : rng.range(1945, 2002),
    loe: rng.chance(0.08) ? null : rng.chance(0.08) ? '' : rng.pick(LOE),
    goals: rng.chance(0.5) ? null : rng.chance(0.3) ? '' : rng.pick(GOALS),
    allowCert: rng.chance(0.03) ? 0 : 1,
    country: rng.chance(0.1) ? null : rng.chance(0.1) ? '' : rng.pick(COUNTRIES),
    city: rng.chance(0.5) ? null : rng.chance(0.3) ? '' : rng.pick(CITIES),
    bio: rng.chance(0.9) ? null : 'Engineer & lifelong learner. Ingénieur.',
    imageAt: rng.chance(0.95) ? null : start - rng.range(1, 300) * DAY,
  };
}

function pickMode(rng: Rng): string {
  const r = rng.next();
  return r < 0.4 ? 'honor' : r < 0.65 ? 'audit' : r < 0.85 ? 'verified' : 'professional';
}

const countInto = (o: Record<string, number>, k: string): void => {
  o[k] = (o[k] ?? 0) + 1;
};

/** A ~110 KB code submission: tabs, newlines, quotes and backslashes, so its JSON and TSV forms escape a lot. */
function bigSubmission(n: number): string {
  let s = '';
  for (let i = 0; s.length < 104_000; i++) s += `def step_${i}(x):\n\t"""Step ${i} of ${n}: path C:\\tmp\\${i}"""\n\treturn x * ${i} + len("\\n")\n`;
  return s;
}

// ------------------------------------------------------------------------------------------ main
export async function writeDump(inp: DumpInput): Promise<DumpTruth> {
  const world = buildWorld(inp.seed, inp.courses, inp.learners, inp.org); // before any day mutated it
  const facts = await scanLogs(inp.logFiles.map((f) => join(inp.out, f)));
  const root = new Rng(hashSeed(inp.seed, 'dump'));
  const startMs = Date.parse(inp.start + 'T00:00:00Z');
  const dumpMs = Date.parse(inp.dumpDate + 'T00:00:00Z');
  const rel = dumpDirName(inp.org, inp.dumpDate);
  const dir = join(inp.out, rel);
  await mkdir(dir, { recursive: true });

  const layouts = world.courses.map((C) => buildLayout(root.fork(`layout${C.index}`), C, startMs));
  const nC = world.courses.length;

  // ---- users
  const urng = root.fork('users');
  const users: User[] = [];
  const byId = new Map<number, User>();
  const names = new Set<string>();
  const newUser = (id: number, username: string, kind: User['kind']): User => {
    const first = urng.pick(FIRSTS);
    const last = urng.pick(LASTS);
    const u: User = {
      id, username, kind, first: urng.chance(0.2) ? first : '', last: '', email: '', isStaff: 0, isActive: 1, joined: 0, lastLogin: null,
      profile: null, profileId: 0, hashId: urng.hex(32),
    };
    if (u.first) u.last = last;
    const slug = asciiSlug(username).toLowerCase();
    u.email = `${/[a-z]{2}/.test(slug) ? slug : `user${id}`}@${urng.pick(DOMAINS)}`;
    u.profile = makeProfile(urng, `${first} ${last}`, startMs);
    users.push(u);
    byId.set(id, u);
    names.add(username);
    return u;
  };
  const learnerUser = new Map<Learner, User>();
  for (const L of world.learners) learnerUser.set(L, newUser(L.userId, L.username, 'learner'));
  const staffUsers = world.staff.map((S) => newUser(S.userId, S.username, 'staff'));
  staffUsers[0]!.isStaff = 1;
  // ghosts: only in the dump
  let nextId = Math.max(...users.map((u) => u.id)) + 1;
  const ghostsOf: User[][] = world.courses.map(() => []);
  const certOnly: User[][] = world.courses.map(() => []);
  const nGhosts = Math.max(2, Math.round(inp.learners * 0.04));
  let g = 0;
  const ghost = (): User => {
    let name = `${GHOST_NAMES[g % GHOST_NAMES.length]}${inp.learners + g}`;
    while (names.has(name)) name += '_';
    g++;
    nextId += urng.range(1, 3);
    const u = newUser(nextId, name, 'ghost');
    if (urng.chance(0.05)) u.isActive = 0; // never activated the account
    return u;
  };
  for (let c = 0; c < nC; c++) {
    for (let k = 0; k < nGhosts; k++) {
      const u = ghost();
      ghostsOf[c]!.push(u);
      if (nC > 1 && urng.chance(0.25)) ghostsOf[(c + 1 + urng.int(nC - 1)) % nC]!.push(u);
    }
    for (let k = 0; k < (c === 0 ? 2 : 1); k++) certOnly[c]!.push(ghost());
  }
  // the escape cases, on ghosts (never in the logs, so nothing else depends on them)
  const g0 = ghostsOf[0]![0]!;
  g0.profile!.name = `Ana\tMaría López`;
  g0.profile!.mailing = 'Line 1\nLine 2\\b';
  const g1 = ghostsOf[0]![1]!;
  g1.email = 'no-email-given';
  g1.profile = null; // a user without profile row
  g1.lastLogin = null;
  ghostsOf[0]![ghostsOf[0]!.length - 1]!.isActive = 0; // an account never activated

  // ---- enrollment: the world before the logs, then the logs' events
  const erng = root.fork('enrollment');
  const enr: Map<number, Enr>[] = world.courses.map(() => new Map());
  const preLog = (c: number): number => {
    const lo = layouts[c]!.enrollmentStart;
    return lo + Math.floor(erng.next() * (startMs - HOUR - lo));
  };
  const put = (c: number, u: User, created: number, active: number, mode: string): void => {
    enr[c]!.set(u.id, { user: u, created, active, mode, logEvents: false, createdDuringLogs: false, id: 0 });
  };
  for (const L of world.learners) L.courses.forEach((c, i) => put(c, learnerUser.get(L)!, preLog(c), 1, L.modes[i]!));
  for (let c = 0; c < nC; c++) {
    staffUsers.forEach((u, k) => put(c, u, layouts[c]!.enrollmentStart - (k + 1) * DAY - erng.int(DAY), 1, 'honor'));
    for (const u of ghostsOf[c]!) put(c, u, preLog(c), erng.chance(0.25) ? 0 : 1, pickMode(erng));
  }
  const courseIndex = new Map(world.courses.map((C) => [C.slashId, C.index]));
  const logEnrollmentEvents: Array<Record<string, number>> = world.courses.map(() => ({}));
  for (const e of facts.enrollments) {
    const c = courseIndex.get(e.course);
    const u = byId.get(e.userId);
    if (c === undefined || u === undefined) continue;
    countInto(logEnrollmentEvents[c]!, e.kind);
    const m = enr[c]!;
    let row = m.get(e.userId);
    const t = Math.floor(e.us / 1000);
    if (!row) {
      row = { user: u, created: t, active: e.kind === 'deactivated' ? 0 : 1, mode: e.mode || 'honor', logEvents: true, createdDuringLogs: true, id: 0 };
      m.set(e.userId, row);
      continue;
    }
    row.logEvents = true;
    if (e.kind === 'activated') {
      row.active = 1;
      if (e.mode) row.mode = e.mode;
    } else if (e.kind === 'deactivated') row.active = 0;
    else if (e.mode) row.mode = e.mode;
  }
  // ids in creation order over all courses, as the database assigned them
  const allEnr: Array<[number, Enr]> = [];
  enr.forEach((m, c) => m.forEach((e) => allEnr.push([c, e])));
  allEnr.sort((a, b) => a[1].created - b[1].created || a[0] - b[0] || a[1].user.id - b[1].user.id);
  allEnr.forEach(([, e], i) => (e.id = 1001 + i));

  // ---- account dates
  const firstCreated = new Map<number, number>();
  for (const [, e] of allEnr) if (!firstCreated.has(e.user.id)) firstCreated.set(e.user.id, e.created);
  for (const u of users) {
    const first = Math.min(firstCreated.get(u.id) ?? startMs - 30 * DAY, startMs);
    u.joined = first - HOUR - urng.int(200) * DAY - urng.int(DAY);
    const seen = facts.lastSeen.get(u.username);
    if (seen !== undefined) u.lastLogin = Math.max(u.joined, Math.floor(seen / 1000) - urng.int(3 * HOUR));
    else if (u !== g1 && urng.chance(0.8)) u.lastLogin = u.joined + Math.floor(urng.next() * (startMs - u.joined));
  }
  users.sort((a, b) => a.id - b.id);
  users.forEach((u, i) => (u.profileId = u.profile ? 501 + i : 0));

  // ---- certificates
  const crng = root.fork('certificates');
  const certs: Cert[][] = world.courses.map(() => []);
  let certId = 3001;
  for (let c = 0; c < nC; c++) {
    const L = layouts[c]!;
    const minCut = Math.min(...Object.values(L.cutoffs));
    const make = (u: User, mode: string): Cert => {
      const gr = Math.round(Math.pow(crng.next(), 0.7) * 100) / 100;
      const pass = gr >= minCut;
      let status = mode === 'audit' ? (pass ? 'audit_passing' : 'audit_notpassing') : pass ? 'downloadable' : 'notpassing';
      let grade = pyFloat2(gr);
      let errorReason = '';
      const r = crng.next();
      if (r < 0.04) status = 'unavailable';
      else if (r < 0.07) {
        status = 'error';
        errorReason = 'Could not generate PDF: timeout\tretry later';
        grade = '';
      } else if (r < 0.09) status = 'generating';
      else if (r < 0.12 && status === 'notpassing') grade = '';
      const dl = status === 'downloadable';
      const created = startMs - 20 * DAY + Math.floor(crng.next() * 19 * DAY);
      return {
        id: 0, user: u, grade, status, mode, errorReason, created,
        modified: crng.chance(0.7) ? created : created + Math.floor(crng.next() * (dumpMs - HOUR - created)),
        key: dl ? crng.hex(32) : '',
        verifyUuid: dl && mode === 'verified' ? crng.hex(32) : '',
        downloadUuid: dl ? crng.hex(32) : '',
        downloadUrl: dl ? `https://s3.amazonaws.com/verify.edx.org/downloads/${crng.hex(5)}/Certificate.pdf` : '',
      };
    };
    const rows = [...enr[c]!.values()].sort((a, b) => a.user.id - b.user.id);
    for (const e of rows) if (e.user.kind !== 'staff' && crng.chance(0.3)) certs[c]!.push(make(e.user, e.mode));
    for (const u of certOnly[c]!) certs[c]!.push(make(u, 'honor'));
    certs[c]!.sort((a, b) => a.user.id - b.user.id);
    for (const x of certs[c]!) x.id = certId++;
  }

  // ---- per course files
  const srng = root.fork('studentmodule');
  const rrng = root.fork('roles');
  const frng = root.fork('forum');
  let smId = 70_001;
  let roleId = 9001;
  const big = bigSubmission(inp.seed);
  const truth: DumpTruth = { date: inp.dumpDate, dir: rel, users: 0, courses: {} };
  const everyone = new Set<number>();
  for (const C of world.courses) {
    const c = C.index;
    const L = layouts[c]!;
    const cf: CourseLogFacts = facts.courses.get(C.slashId) ?? { active: new Set(), chapters: new Map(), sequentials: new Map(), problems: new Map() };
    const enrRows = [...enr[c]!.values()].sort((a, b) => a.id - b.id);
    const certRows = certs[c]!;
    const enrolledIds = new Set(enrRows.map((e) => e.user.id));

    // roles
    const learnersActive = enrRows.filter((e) => e.user.kind === 'learner' && e.active === 1).map((e) => e.user);
    const beta = learnersActive.length > 0 ? rrng.pick(learnersActive) : null;
    const ta = learnersActive.length > 1 ? learnersActive.filter((u) => u !== beta)[rrng.int(learnersActive.length - 1)]! : null;
    const courseRoles: Array<[User, string]> = [[staffUsers[0]!, 'instructor'], [staffUsers[0]!, 'staff'], [staffUsers[1]!, 'staff'], [staffUsers[2]!, 'beta_testers']];
    if (beta) courseRoles.push([beta, 'beta_testers']);
    const forumRoles: Array<[User, string]> = enrRows.map((e) => [e.user, 'Student']);
    forumRoles.push([staffUsers[0]!, 'Administrator'], [staffUsers[1]!, 'Moderator'], [staffUsers[2]!, 'Community TA']);
    if (ta) forumRoles.push([ta, 'Community TA']);
    if (c === 1 && learnersActive.length > 2) forumRoles.push([learnersActive[0]!, 'Group Moderator']);
    forumRoles.sort((a, b) => a[0].id - b[0].id);

    // registered users: enrollment ∪ certificates ∪ roles
    const reg = new Map<number, User>();
    for (const e of enrRows) reg.set(e.user.id, e.user);
    for (const x of certRows) reg.set(x.user.id, x.user);
    for (const [u] of courseRoles) reg.set(u.id, u);
    const regUsers = [...reg.values()].sort((a, b) => a.id - b.id);
    for (const u of regUsers) everyone.add(u.id);

    // studentmodule
    const chIds = new Set(L.chapters.map((ch) => ch.id));
    const seqOfBlock = new Map<string, string>();
    const seqIds: string[] = [];
    const chapterOfSeq = new Map<string, string>();
    for (const ch of L.chapters) {
      for (const s of ch.seqs) {
        seqIds.push(s.id);
        chapterOfSeq.set(s.id, ch.id);
        for (const v of s.verticals) for (const l of v.leaves) seqOfBlock.set(`${l.type}/${l.id}`, s.id);
      }
    }
    const problemByKey = new Map(C.problems.map((p) => [p.key, p]));
    const sm: Array<Record<string, Cell>> = [];
    const smTypes: Record<string, number> = {};
    let viewed = 0, explored = 0, viewedWithoutLogs = 0, largeStates = 0, problemRowsFromLogs = 0;
    let bigLeft = 2;
    const half = Math.floor(L.chapters.length / 2);
    const smRow = (type: string, id: string, u: User, state: string, grade: number | null, maxGrade: number | null, created: number, modified: number): void => {
      countInto(smTypes, type);
      if (Buffer.byteLength(state) >= LARGE_STATE_BYTES) largeStates++;
      sm.push({
        id: smId++, module_type: type, module_id: blockKey(C, type, id), student_id: u.id, state, grade, created: sqlTime(created), modified: sqlTime(modified),
        max_grade: maxGrade, done: 'na', course_id: C.id,
      });
    };
    for (const e of enrRows) {
      const u = e.user;
      const active = cf.active.has(u.username);
      const chapters = new Set([...(cf.chapters.get(u.username) ?? [])].filter((x) => chIds.has(x)));
      const seqs = new Set([...(cf.sequentials.get(u.username) ?? [])].filter((x) => chapterOfSeq.has(x)));
      const logProblems = new Map<string, ProblemFact>([...(cf.problems.get(u.username) ?? new Map<string, ProblemFact>())].filter(([k]) => problemByKey.has(k)));
      for (const k of logProblems.keys()) {
        const p = problemByKey.get(k)!;
        const s = seqOfBlock.get(`problem/${p.id}`)!;
        seqs.add(s);
      }
      for (const s of seqs) chapters.add(chapterOfSeq.get(s)!);
      const extra = u.kind === 'staff' ? srng.chance(0.6) : active ? srng.chance(0.7) : srng.chance(0.25);
      if (extra) {
        const k = u.kind === 'staff' ? L.chapters.length : srng.range(1, L.chapters.length);
        for (let i = 0; i < k; i++) chapters.add(L.chapters[i]!.id);
      }
      if (chapters.size === 0) continue;
      viewed++;
      if (chapters.size >= half) explored++;
      if (!active) viewedWithoutLogs++;
      const lo = e.created;
      const hi = lo < startMs ? startMs : Math.max(lo + 1000, Math.min(dumpMs - 1000, lo + 6 * HOUR));
      const when = (): number => lo + Math.floor(srng.next() * (hi - lo));
      for (const ch of L.chapters) {
        if (!chapters.has(ch.id)) continue;
        const t = when();
        smRow('chapter', ch.id, u, `{"position": ${srng.range(1, ch.seqs.length)}}`, null, null, t, t + srng.int(DAY));
        for (const s of ch.seqs) if (s === ch.seqs[0] ? srng.chance(0.8) : srng.chance(0.3)) seqs.add(s.id);
      }
      for (const sid of seqIds) {
        if (!seqs.has(sid)) continue;
        const t = when();
        smRow('sequential', sid, u, `{"position": ${srng.range(1, 3)}}`, null, null, t, t + srng.int(DAY));
      }
      for (const p of C.problems) {
        const fact = logProblems.get(p.key);
        const inSeq = seqs.has(seqOfBlock.get(`problem/${p.id}`)!);
        if (fact) {
          const answers = fact.answers ?? {};
          let state = py({ correct_map: fact.correctMap ?? {}, input_state: Object.fromEntries(Object.keys(answers as object).map((k) => [k, {}])), last_submission_time: new Date(Math.floor(fact.last / 1000)).toISOString().slice(0, 19) + 'Z', attempts: fact.checks, seed: 1, done: true, student_answers: answers });
          if (bigLeft > 0 && p.responseTypes.includes('customresponse')) {
            state = py({ correct_map: fact.correctMap ?? {}, attempts: fact.checks, seed: 1, done: true, student_answers: { [`${p.inputIdBase}_2_1`]: big } });
            bigLeft--;
          }
          smRow('problem', p.id, u, state, fact.grade, fact.maxGrade, Math.floor(fact.first / 1000), Math.floor(fact.last / 1000));
          problemRowsFromLogs++;
        } else if (inSeq && srng.chance(0.4)) {
          const t = when();
          if (srng.chance(0.15)) smRow('problem', p.id, u, '{"seed": 1, "input_state": {}}', null, null, t, t);
          else {
            const grade = srng.int(p.maxGrade + 1);
            const answers: Record<string, string> = {};
            const cm: Record<string, unknown> = {};
            for (let i = 0; i < p.nInputs; i++) {
              const k = `${p.inputIdBase}_${i + 2}_1`;
              answers[k] = i < grade ? 'choice_1' : 'réponse';
              cm[k] = { hint: '', hintmode: null, correctness: i < grade ? 'correct' : 'incorrect', npoints: null, msg: '', queuestate: null };
            }
            const state = py({ correct_map: cm, input_state: Object.fromEntries(Object.keys(answers).map((k) => [k, {}])), attempts: srng.range(1, 3), seed: 1, done: true, student_answers: answers });
            smRow('problem', p.id, u, state, grade, p.maxGrade, t, t + srng.int(3 * DAY));
          }
        }
      }
      for (const v of C.videos) {
        if (!seqs.has(seqOfBlock.get(`video/${v.id}`)!) || !srng.chance(0.3)) continue;
        const t = when();
        const pos = srng.int(v.duration);
        smRow('video', v.id, u, `{"saved_video_position": "00:${String(Math.floor(pos / 60)).padStart(2, '0')}:${String(pos % 60).padStart(2, '0')}", "speed": ${srng.pick(['1.0', '1.25', '1.5', '2.0'])}}`, null, null, t, t + srng.int(DAY));
      }
    }
    // the large states, when the logs checked no customresponse problem: on the first problem rows
    // (graded ones first); a staff member's attempt when there is no problem row at all
    const problemRows = [...sm.filter((r) => r['module_type'] === 'problem' && r['grade'] !== null), ...sm.filter((r) => r['module_type'] === 'problem' && r['grade'] === null)];
    for (const r of problemRows) {
      if (bigLeft === 0) break;
      if (Buffer.byteLength(r['state'] as string) >= LARGE_STATE_BYTES) continue;
      const p = C.problems.find((x) => blockKey(C, 'problem', x.id) === r['module_id'])!;
      r['state'] = py({ attempts: 1, seed: 1, done: true, student_answers: { [`${p.inputIdBase}_2_1`]: big } });
      largeStates++;
      bigLeft--;
    }
    if (largeStates === 0) {
      const p = C.problems[0]!;
      const t = startMs - DAY;
      smRow('problem', p.id, staffUsers[0]!, py({ attempts: 1, seed: 1, done: true, student_answers: { [`${p.inputIdBase}_2_1`]: big } }), 0, p.maxGrade, t, t);
    }
    // tables
    const omit: Partial<Record<DumpTable, Set<string>>> = {};
    if (c === 0) omit.auth_userprofile = new Set(['bio', 'profile_image_uploaded_at']);
    if (c === 1) omit.auth_userprofile = new Set(['allow_certificate']);
    if (c === 2) omit.auth_user = new Set(AUTH_USER_OBSOLETE);
    if (c !== 1) omit.student_courseaccessrole = new Set(['id', 'org']);
    const unterminated: DumpTable[] = c === 0 ? ['student_courseenrollment'] : [];
    const tables: Record<DumpTable, Array<Record<string, Cell>>> = {
      auth_user: regUsers.map((u) => ({
        id: u.id, username: u.username, first_name: u.first, last_name: u.last, email: u.email, password: '', is_staff: u.isStaff, is_active: u.isActive,
        is_superuser: 0, last_login: u.lastLogin === null ? null : sqlTime(u.lastLogin), date_joined: sqlTime(u.joined), status: '', email_key: null,
        avatar_typ: '', country: '', show_country: 0, date_of_birth: null, interesting_tags: '', ignored_tags: '', email_tag_filter_strategy: 1,
        display_tag_filter_strategy: 0, consecutive_days_visit_count: 0,
      })),
      auth_userprofile: regUsers.filter((u) => u.profile).map((u) => {
        const p = u.profile!;
        return {
          id: u.profileId, user_id: u.id, name: p.name, language: p.language, location: p.location, meta: p.meta, courseware: 'course.xml', gender: p.gender,
          mailing_address: p.mailing, year_of_birth: p.yob, level_of_education: p.loe, goals: p.goals, allow_certificate: p.allowCert, country: p.country,
          city: p.city, bio: p.bio, profile_image_uploaded_at: p.imageAt === null ? null : sqlTime(p.imageAt),
        };
      }),
      student_courseenrollment: enrRows.map((e) => ({ id: e.id, user_id: e.user.id, course_id: C.id, created: sqlTime(e.created), is_active: e.active, mode: e.mode })),
      certificates_generatedcertificate: certRows.map((x) => ({
        id: x.id, user_id: x.user.id, download_url: x.downloadUrl, grade: x.grade, course_id: C.id, key: x.key, distinction: 0, status: x.status,
        verify_uuid: x.verifyUuid, download_uuid: x.downloadUuid, name: x.user.profile?.name ?? x.user.username, created_date: sqlTime(x.created),
        modified_date: sqlTime(x.modified), error_reason: x.errorReason, mode: x.mode,
      })),
      courseware_studentmodule: sm,
      user_id_map: regUsers.map((u) => ({ hash_id: u.hashId, id: u.id, username: u.username })),
      student_courseaccessrole: courseRoles.map(([u, role]) => ({ id: roleId++, user_id: u.id, org: C.org, course_id: C.id, role })),
      django_comment_client_role_users: forumRoles.map(([u, name]) => ({ user_id: u.id, course_id: C.id, name })),
    };
    const files: string[] = [];
    const rows: Record<string, number> = {};
    for (const t of Object.keys(COLUMNS) as DumpTable[]) {
      const name = dumpTableFile(C, t);
      const o = omit[t];
      await writeFile(join(dir, name), tsvTable(COLUMNS[t], tables[t], { ...(o ? { omit: o } : {}), unterminated: unterminated.includes(t) }));
      files.push(name);
      rows[t] = tables[t].length;
    }

    // forum
    const authors: ForumUser[] = enrRows.filter((e) => e.user.kind !== 'staff').map((e) => ({ id: e.user.id, username: e.user.username }));
    const forum = forumExport({
      rng: frng.fork(c), course: C, authors, staff: staffUsers.map((u) => ({ id: u.id, username: u.username })),
      posts: facts.forum.filter((p) => p.course === C.slashId), votes: facts.votes.filter((v) => v.course === C.slashId),
      from: L.start, to: startMs,
    });
    const mongo = `${dumpPrefix(C)}-prod.mongo`;
    await writeFile(join(dir, mongo), forum.text);
    files.push(mongo);
    rows['forum'] = forum.truth.documents;
    const structure = `${dumpPrefix(C)}-course_structure-prod-analytics.json`;
    await writeFile(join(dir, structure), courseStructure(L));
    files.push(structure);
    const olx = `${dumpPrefix(C)}-course-prod-analytics.xml.tar.gz`;
    await writeFile(join(dir, olx), await olxTarGz(L, dumpMs - DAY + 2 * HOUR));
    files.push(olx);

    truth.courses[C.slashId] = courseTruth(C, L, facts, cf, {
      files, rows, omit, unterminated, regUsers, enrRows, certRows, courseRoles, forumRoles, logEnrollmentEvents: logEnrollmentEvents[c]!,
      viewed, explored, viewedWithoutLogs, smTypes, largeStates, problemRowsFromLogs, forum: forum.truth, enrolledIds,
    });
  }
  truth.users = everyone.size;
  return truth;
}

interface CourseParts {
  files: string[];
  rows: Record<string, number>;
  omit: Partial<Record<DumpTable, Set<string>>>;
  unterminated: DumpTable[];
  regUsers: User[];
  enrRows: Enr[];
  certRows: Cert[];
  courseRoles: Array<[User, string]>;
  forumRoles: Array<[User, string]>;
  logEnrollmentEvents: Record<string, number>;
  viewed: number;
  explored: number;
  viewedWithoutLogs: number;
  smTypes: Record<string, number>;
  largeStates: number;
  problemRowsFromLogs: number;
  forum: DumpCourseTruth['forum'];
  enrolledIds: Set<number>;
}

function courseTruth(C: Course, L: CourseLayout, facts: LogFacts, cf: CourseLogFacts, p: CourseParts): DumpCourseTruth {
  const modes: Record<string, number> = {};
  const activeModes: Record<string, number> = {};
  for (const e of p.enrRows) {
    countInto(modes, e.mode);
    if (e.active) countInto(activeModes, e.mode);
  }
  const certificateStatus: Record<string, number> = {};
  for (const x of p.certRows) countInto(certificateStatus, x.status);
  const minCutoff = Math.min(...Object.values(L.cutoffs));
  const courseRoles: Record<string, number> = {};
  for (const [, r] of p.courseRoles) countInto(courseRoles, r);
  const forumRoles: Record<string, number> = {};
  for (const [, r] of p.forumRoles) countInto(forumRoles, r);
  const staffRec = new Set<number>(p.courseRoles.map(([u]) => u.id));
  const staffOrig = new Set<number>(staffRec);
  for (const [u, r] of p.forumRoles) {
    if (r !== 'Student') staffRec.add(u.id);
    if (r === 'Administrator' || r === 'Moderator') staffOrig.add(u.id);
  }
  const regNames = new Set(p.regUsers.map((u) => u.username));
  const withLog = p.regUsers.filter((u) => cf.active.has(u.username)).length;
  const gradedSequentials: Record<string, number> = {};
  for (const ch of L.chapters) for (const s of ch.seqs) if (s.format) countInto(gradedSequentials, s.format);
  const omittedColumns: Record<string, string[]> = {};
  for (const [t, s] of Object.entries(p.omit)) omittedColumns[t] = [...s];
  return {
    prefix: dumpPrefix(C),
    files: [...p.files].sort(),
    rows: p.rows,
    omittedColumns,
    unterminated: [...p.unterminated],
    registered: p.regUsers.length,
    inactiveAccounts: p.regUsers.filter((u) => u.isActive === 0).length,
    withoutProfile: p.regUsers.filter((u) => !u.profile).length,
    enrolled: p.enrRows.length,
    active: p.enrRows.filter((e) => e.active === 1).length,
    unenrolled: p.enrRows.filter((e) => e.active === 0).length,
    modes,
    activeModes,
    verified: modes['verified'] ?? 0,
    withLogEnrollmentEvents: p.enrRows.filter((e) => e.logEvents).length,
    createdDuringLogs: p.enrRows.filter((e) => e.createdDuringLogs).length,
    logEnrollmentEvents: p.logEnrollmentEvents,
    certificates: p.certRows.length,
    certificateStatus,
    certified: certificateStatus['downloadable'] ?? 0,
    certificateWithoutEnrollment: p.certRows.filter((x) => !p.enrolledIds.has(x.user.id)).length,
    certificateGradeEmpty: p.certRows.filter((x) => x.grade === '').length,
    gradeCutoffs: { ...L.cutoffs },
    passingGrade: L.cutoffs['Pass'] ?? null,
    minCutoff,
    gradeAtLeastMinCutoff: p.certRows.filter((x) => x.grade !== '' && Number(x.grade) >= minCutoff).length,
    courseRoleUsers: new Set(p.courseRoles.map(([u]) => u.id)).size,
    courseRoles,
    forumRoles,
    rolesStaff: staffRec.size,
    rolesStaffOriginal: staffOrig.size,
    withLogActivity: withLog,
    noLogActivity: p.regUsers.length - withLog,
    neverInLogs: p.regUsers.filter((u) => !facts.lastSeen.has(u.username)).length,
    activeNotRegistered: [...cf.active].filter((n) => !regNames.has(n)).length,
    chapters: L.chapters.length,
    viewed: p.viewed,
    explored: p.explored,
    viewedWithoutLogs: p.viewedWithoutLogs,
    studentmoduleTypes: p.smTypes,
    largeStates: p.largeStates,
    problemRowsFromLogs: p.problemRowsFromLogs,
    gradedSequentials,
    forum: p.forum,
  };
}
