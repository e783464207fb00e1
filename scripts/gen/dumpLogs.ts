/**
 * Reads the generated daily logs back and keeps what the research dump must agree with: who did
 * anything in which course (base events), the enrollment events, forum posts and votes, problem
 * checks and courseware visits. The rules are the generator's own definitions (the same ones its tests
 * re-count with): a valid line is valid UTF-8, optionally behind a syslog prefix, a JSON object with a
 * parseable `time`; the course is `context.course_id` (opaque keys converted), else guessed from the
 * browser page URL or the server event_type URL; a base event has a non-empty username and an
 * event_type without `/xblock/`.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Microseconds since the epoch of a tracking-log time string, or null. */
export function parseLogTime(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const m = TIME_RE.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  if (new Date(ms).getUTCDate() !== d) return null;
  const frac = m[7] ? Number((m[7] + '000000').slice(0, 6)) : 0;
  let off = 0;
  const z = m[8];
  if (z && z !== 'Z') {
    const sign = z[0] === '-' ? -1 : 1;
    const digits = z.slice(1).replace(':', '');
    off = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  return (ms - off * 60_000) * 1000 + frac;
}

const OPAQUE = /^course-v1:([^+/]+)\+([^+/]+)\+([^+/]+)$/;
function toSlash(id: string): string {
  const m = OPAQUE.exec(id);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : id;
}
const COURSE_IN_URL = /\/courses\/(?:course-v1:([^/+]+)\+([^/+]+)\+([^/+]+)\/|([^/]+)\/([^/]+)\/([^/]+)\/)/;
function fromUrl(m: RegExpExecArray | null): string {
  if (!m) return '';
  return m[1] !== undefined ? `${m[1]}/${m[2]}/${m[3]}` : `${m[4]}/${m[5]}/${m[6]}`;
}

/** The course of an event (slash form), '' for none. */
export function courseOfEvent(ev: Obj): string {
  const ctx = ev['context'];
  const cid = isObj(ctx) ? ctx['course_id'] : undefined;
  if (typeof cid === 'string' && cid !== '') return toSlash(cid);
  if (ev['event_source'] === 'browser') {
    const page = typeof ev['page'] === 'string' ? ev['page'] : '';
    const m = /^https*:\/\/[^/]+(\/courses\/.*)$/.exec(page);
    return m ? fromUrl(COURSE_IN_URL.exec(m[1]!)) : '';
  }
  const et = typeof ev['event_type'] === 'string' ? ev['event_type'] : '';
  return fromUrl(COURSE_IN_URL.exec(et));
}

export type EnrollKind = 'activated' | 'deactivated' | 'mode_changed';

export interface EnrollEvent {
  us: number;
  /** Position in the logs (file order, then line order), for a stable sort. */
  seq: number;
  kind: EnrollKind;
  userId: number;
  course: string;
  mode: string;
}

export interface ForumPost {
  us: number;
  seq: number;
  kind: 'thread' | 'response' | 'comment';
  course: string;
  id: string;
  /** Thread of a response or comment (`discussion.id`). */
  threadId: string;
  /** Response a comment replies to (`response.id`). */
  parentId: string;
  userId: number;
  username: string;
  body: string;
  title: string;
  commentableId: string;
  threadType: string;
  anonymous: boolean;
}

export interface ForumVote {
  us: number;
  course: string;
  targetId: string;
  userId: number;
}

export interface ProblemFact {
  first: number;
  last: number;
  checks: number;
  grade: number;
  maxGrade: number;
  answers: unknown;
  correctMap: unknown;
}

export interface CourseLogFacts {
  /** Usernames with at least one base event. */
  active: Set<string>;
  /** username → chapter / sequential url_names seen in courseware URLs. */
  chapters: Map<string, Set<string>>;
  sequentials: Map<string, Set<string>>;
  /** username → problem key → what the server problem_check events say. */
  problems: Map<string, Map<string, ProblemFact>>;
}

export interface LogFacts {
  validLines: number;
  /** Every non-empty username of a valid line → its latest event time (µs). */
  lastSeen: Map<string, number>;
  courses: Map<string, CourseLogFacts>;
  enrollments: EnrollEvent[];
  forum: ForumPost[];
  votes: ForumVote[];
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const ENROLL_PREFIX = 'edx.course.enrollment.';
const COURSEWARE = /\/courseware\/([^/?#]+)\/([^/?#]+)/;

function courseFacts(f: LogFacts, course: string): CourseLogFacts {
  let c = f.courses.get(course);
  if (!c) {
    c = { active: new Set(), chapters: new Map(), sequentials: new Map(), problems: new Map() };
    f.courses.set(course, c);
  }
  return c;
}

function addTo(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

function intOf(v: unknown): number | null {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

class Scanner {
  readonly f: LogFacts = { validLines: 0, lastSeen: new Map(), courses: new Map(), enrollments: [], forum: [], votes: [] };
  private seq = 0;

  line(bytes: Buffer): void {
    this.seq++;
    let text = bytes.toString('utf8');
    if (text.includes('\uFFFD')) {
      try {
        text = utf8Fatal.decode(bytes);
      } catch {
        return;
      }
    }
    let s = text.trim();
    if (s === '') return;
    if (!s.startsWith('{') && s.slice(0, 27).includes('localhost {')) s = s.slice(26);
    if (!s.startsWith('{')) return;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      return;
    }
    if (!isObj(v)) return;
    const us = parseLogTime(v['time']);
    if (us === null) return;
    this.event(v, us);
  }

  private event(v: Obj, us: number): void {
    const f = this.f;
    f.validLines++;
    const username = str(v['username']);
    if (username !== '') {
      const prev = f.lastSeen.get(username);
      if (prev === undefined || us > prev) f.lastSeen.set(username, us);
    }
    const course = courseOfEvent(v);
    if (course === '' || username === '') return;
    const et = str(v['event_type']);
    const cf = courseFacts(f, course);
    if (!et.includes('/xblock/')) cf.active.add(username);
    const ev = v['event'];
    const ctx = isObj(v['context']) ? (v['context'] as Obj) : {};
    if (et.startsWith(ENROLL_PREFIX) && isObj(ev)) {
      const kind = et.slice(ENROLL_PREFIX.length);
      const userId = intOf(ev['user_id']);
      if ((kind === 'activated' || kind === 'deactivated' || kind === 'mode_changed') && userId !== null) {
        f.enrollments.push({ us, seq: this.seq, kind, userId, course, mode: str(ev['mode']) });
      }
      return;
    }
    if (et.startsWith('edx.forum.') && isObj(ev)) {
      const userId = intOf(ctx['user_id']);
      if (userId === null) return;
      const m = /^edx\.forum\.(thread|response|comment)\.(created|voted)$/.exec(et);
      if (!m) return;
      if (m[2] === 'voted') {
        if (ev['undo_vote'] !== true && typeof ev['id'] === 'string') f.votes.push({ us, course, targetId: ev['id'], userId });
        return;
      }
      const disc = isObj(ev['discussion']) ? str(ev['discussion']['id']) : '';
      const resp = isObj(ev['response']) ? str(ev['response']['id']) : '';
      f.forum.push({
        us, seq: this.seq, kind: m[1] as ForumPost['kind'], course, id: str(ev['id']), threadId: disc, parentId: resp, userId, username,
        body: str(ev['body']), title: str(ev['title']), commentableId: str(ev['commentable_id']), threadType: str(ev['thread_type']) || 'discussion',
        anonymous: ev['anonymous'] === true,
      });
      return;
    }
    if (et === 'problem_check' && v['event_source'] === 'server' && isObj(ev) && typeof ev['problem_id'] === 'string') {
      let byUser = cf.problems.get(username);
      if (!byUser) cf.problems.set(username, (byUser = new Map()));
      const key = ev['problem_id'];
      const grade = typeof ev['grade'] === 'number' ? ev['grade'] : 0;
      const maxGrade = typeof ev['max_grade'] === 'number' ? ev['max_grade'] : 1;
      const p = byUser.get(key);
      if (!p) byUser.set(key, { first: us, last: us, checks: 1, grade, maxGrade, answers: ev['answers'], correctMap: ev['correct_map'] });
      else {
        p.checks++;
        if (us < p.first) p.first = us;
        if (us >= p.last) {
          p.last = us;
          p.grade = grade;
          p.maxGrade = maxGrade;
          p.answers = ev['answers'];
          p.correctMap = ev['correct_map'];
        }
      }
      return;
    }
    if (v['event_source'] === 'server' && et.includes('/courseware/')) {
      const m = COURSEWARE.exec(et);
      if (m) {
        addTo(cf.chapters, username, m[1]!);
        addTo(cf.sequentials, username, m[2]!);
      }
    }
  }
}

/** Scan the daily files (paths in date order) and collect the facts. */
export async function scanLogs(paths: readonly string[]): Promise<LogFacts> {
  const sc = new Scanner();
  for (const p of paths) {
    let rest: Buffer = Buffer.alloc(0);
    for await (const chunk of createReadStream(p).pipe(createGunzip({ chunkSize: 1 << 20 }))) {
      const buf: Buffer = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        sc.line(buf.subarray(start, nl));
        start = nl + 1;
      }
      rest = Buffer.from(buf.subarray(start));
    }
    if (rest.length > 0) sc.line(rest);
  }
  const f = sc.f;
  const bySeq = (a: { us: number; seq: number }, b: { us: number; seq: number }): number => a.us - b.us || a.seq - b.seq;
  f.enrollments.sort(bySeq);
  f.forum.sort(bySeq);
  return f;
}
