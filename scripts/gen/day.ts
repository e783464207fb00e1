/**
 * One daily log file: plans sessions for the day, then replays them in time order (a small heap
 * of active sessions), writing each event line as soon as it is built. The truth counters are
 * updated from what was decided for each event, never from the written text.
 */
import { Rng, Weighted, hashSeed } from './rng.ts';
import { DayClock, DAY_US, TIME_FORM_NAMES } from './time.ts';
import type { Course, Learner, World, Video, Problem } from './world.ts';
import { HOST, jsonAscii, asciiEscape, flat } from './world.ts';
import { GzLineWriter } from './writer.ts';
import { MALFORMED_KINDS, type FileTruth } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Kinds (labels for the event-type mix). Registered once at module load.
const KIND_NAMES: string[] = [];
function kind(name: string): number {
  KIND_NAMES.push(name);
  return KIND_NAMES.length - 1;
}
const K_COURSEWARE = kind('server:/courses/<c>/courseware/...');
const K_INFO = kind('server:/courses/<c>/info');
const K_PROGRESS = kind('server:/courses/<c>/progress');
const K_ABOUT = kind('server:/courses/<c>/about');
const K_WIKI = kind('server:/courses/<c>/wiki|course_wiki');
const K_PDFBOOK = kind('server:/courses/<c>/pdfbook/...');
const K_JUMP = kind('server:/courses/<c>/jump_to_id/...');
const K_INSTRUCTOR = kind('server:/courses/<c>/instructor...');
const K_XB_PCHECK = kind('server:xblock .../problem_check');
const K_XB_PGET = kind('server:xblock .../problem_get');
const K_XB_PSHOW = kind('server:xblock .../problem_show');
const K_XB_STATE = kind('server:xblock .../save_user_state');
const K_XB_GOTO = kind('server:xblock .../goto_position');
const K_XB_TRLANG = kind('server:xblock .../transcript/translation/<lang>');
const K_XB_TRAVAIL = kind('server:xblock .../transcript/available_translations');
const K_XB_TRDL = kind('server:xblock .../transcript/download');
const K_MODX = kind('server:/courses/<c>/modx/i4x://.../problem_*');
const K_S_PCHECK = kind('server:problem_check');
const K_S_SHOWANSWER = kind('server:showanswer');
const K_S_SHOW_ANSWER = kind('server:show_answer');
const K_S_RESET = kind('server:reset_problem');
const K_FORUM_URL = kind('server:/courses/<c>/discussion/...');
const K_FORUM_CREATED = kind('server:edx.forum.*.created');
const K_FORUM_VOTED = kind('server:edx.forum.*.voted');
const K_FORUM_SEARCHED = kind('server:edx.forum.searched');
const K_ENR_ACT = kind('server:edx.course.enrollment.activated');
const K_ENR_DEACT = kind('server:edx.course.enrollment.deactivated');
const K_ENR_MODE = kind('server:edx.course.enrollment.mode_changed');
const K_NONCOURSE = kind('server:non-course URL (/dashboard, /login, ...)');
const K_B_PLAY = kind('browser:play_video');
const K_B_PAUSE = kind('browser:pause_video');
const K_B_SEEK = kind('browser:seek_video');
const K_B_SPEED = kind('browser:speed_change_video');
const K_B_LOAD = kind('browser:load_video');
const K_B_STOP = kind('browser:stop_video');
const K_B_SHOWTR = kind('browser:show_transcript');
const K_B_HIDETR = kind('browser:hide_transcript');
const K_B_SEQGOTO = kind('browser:seq_goto');
const K_B_SEQNEXT = kind('browser:seq_next');
const K_B_SEQPREV = kind('browser:seq_prev');
const K_B_PAGECLOSE = kind('browser:page_close');
const K_B_PCHECK = kind('browser:problem_check');
const K_B_PGRADED = kind('browser:problem_graded');
const K_B_PSHOW = kind('browser:problem_show');
const K_B_LINK = kind('browser:edx.ui.lms.link_clicked (transcript download)');
const K_B_TEXTBOOK = kind('browser:textbook.pdf.*');
const K_M_VIDEO = kind('mobile:edx.video.*');
const K_M_API = kind('server:/api/mobile/... (mobile app)');
const K_LEGACY_B = kind('browser:empty/missing context.course_id (guess from page)');
const K_LEGACY_S = kind('server:empty/missing context.course_id (guess from event_type)');
const K_NULL_CTX = kind('any:context.course_id null');
const K_ANON = kind('anonymous (username "")');
export { KIND_NAMES };
const NK = KIND_NAMES.length;

// ---------------------------------------------------------------------------------------------
const ST_NORMAL = 0;
const ST_MOBILE = 1;
const ST_ANON = 2;
const ST_ENROLL = 3;
const ST_STAFF = 4;

const OP_ACTIVATE = 0;
const OP_DEACTIVATE = 1;
const OP_MODE = 2;

interface EnrollOp {
  op: number;
  learner: Learner;
  course: Course;
  mode: string;
  byStaff: boolean;
}

interface Planned {
  t: number;
  type: number;
  learner: Learner;
  course: Course;
  budget: number;
  small: boolean; // short gaps (sessions straddling midnight)
  late: boolean;
  enroll: EnrollOp | null;
}

class Session {
  t: number;
  remaining: number;
  readonly type: number;
  readonly L: Learner;
  readonly C: Course;
  readonly small: boolean;
  readonly enroll: EnrollOp | null;
  steps = 0;
  // fragments (JSON text)
  uB = ''; // "username": … (raw UTF-8) for browser/mobile lines
  uS = ''; // "username": … (\u-escaped) for server lines
  ipJ = '';
  agentJ = '';
  sidJ = '';
  alF = ''; // "accept_language": …, (or '')
  bMid = ''; // "ip": …, "agent": …, "host": …, "session": …,
  sMid = ''; // "ip": …, "agent": …, "host": …,
  ctxB = ''; // browser context object
  ctxSHead = ''; // server context up to and including "path":
  uidJ = '';
  newFmt = false;
  // navigation / video state
  seq = 0;
  pageJ = '"https://courses.edx.org/dashboard"';
  refJ = '""';
  video: Video | null = null;
  vpos = 0;
  speed = '1.0';

  constructor(p: Planned) {
    this.t = p.t;
    this.remaining = p.budget;
    this.type = p.type;
    this.L = p.learner;
    this.C = p.course;
    this.small = p.small;
    this.enroll = p.enroll;
  }
}

const FORUM_BODIES = [
  "Je ne comprends pas la question 3 — quelqu'un peut m'aider ?",
  '¿Alguien sabe cómo resolver el problema 2? Llevo horas intentándolo.',
  '我对第二周的作业有疑问。答案应该是多少？',
  'Is the deadline for problem set 4 extended? The page still says Sunday.',
  'Great lecture! The derivation at 12:30 was very clear, thank you.',
  'Привет всем! Кто ещё проходит курс из Москвы?',
  'Check your units: the answer should be in m/s², not m/s.',
  'I think there is a typo in the second equation: it should be ∂f/∂x, not df/dx.',
  'Ich habe die Lösung gefunden: man muss zuerst die Matrix transponieren.',
  'Can someone explain why the loop invariant holds after the swap? I tried with n=3 and it fails.',
];
const FORUM_TITLES = ['Question about PS3', 'Problème 2 — aide', 'Deadline?', 'Typo in lecture 4 notes', '第二周作业', 'Study group', 'Clarification on grading', 'Ayuda con el ejercicio 5'];
const SEARCH_QUERIES = ['deadline', 'problem 3', 'certificate', 'équation', 'recursion', '作业', 'grading policy', 'video not loading'];
const TEXT_ANSWERS = ['réponse', '答案', 'x^2+1', 'Newton', 'naïve', 'O(n log n)', 'Ångström', '42 m/s'];
const ANSWER_J = new Map(TEXT_ANSWERS.map((a) => [a, jsonAscii(a)]));
const LONG_MSG = [2, 4, 7, 10].map((n) => jsonAscii(`<div class="detailed-solution"><p>Explanation</p><p>${'The answer follows from conservation of energy; see lecture 3. '.repeat(n)}</p></div>`));
const SPEEDS = ['0.75', '1.0', '1.25', '1.50', '2.0'];
const NONCOURSE_URLS = ['/dashboard', '/account/settings', '/courses', '/', '/user_api/v1/preferences/time_zone', '/notifications/count/', '/login_ajax', '/api/enrollment/v1/enrollment'];
const ANON_URLS = ['/', '/login', '/register', '/courses', '/login_ajax', '/password_reset/'];
const FULL_GAPS = new Weighted([0, 1, 2, 3], [4, 70, 20, 6]);

/**
 * Python json.dumps style (", " / ": " separators, non-ASCII as \\uXXXX), as edX's server wrote its
 * event objects. Used for the rarer, larger server events.
 */
export function py(v: unknown): string {
  return asciiEscape(pyw(v));
}

function pyw(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    default:
      return 'null';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ', ') + pyw(v[i]);
    return s + ']';
  }
  const o = v as Record<string, unknown>;
  let s = '{';
  let first = true;
  for (const k in o) {
    s += (first ? '' : ', ') + JSON.stringify(k) + ': ' + pyw(o[k]);
    first = false;
  }
  return s + '}';
}

function num(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}

export interface DayInput {
  world: World;
  seed: number;
  dayIndex: number;
  date: string;
  eventsPerDay: number;
  malformedRate: number;
  path: string;
  /** (learner, course) pairs that ended the previous day late; they get an early session today. */
  carryIn: Array<[Learner, Course]>;
}

export interface DayResult {
  truth: FileTruth;
  carryOut: Array<[Learner, Course]>;
}

export class DayGen {
  private readonly rng: Rng;
  private readonly clock: DayClock;
  private readonly world: World;
  private readonly w: GzLineWriter;
  private readonly mRate: number;
  private readonly E: number;
  private readonly nCourses: number;
  private s!: Session;
  private curT = 0;
  private curForm = 0;
  // truth counters
  private lines = 0;
  private events = 0;
  private unknown = 0;
  private guessed = 0;
  private anonymous = 0;
  private syslog = 0;
  private readonly perCourse: Int32Array;
  private readonly base: Int32Array;
  private readonly named: Int32Array;
  private readonly activeLearners: Set<string>[];
  /** Per course: base events by person_course_day counter (the generator's own classification). */
  private readonly baseCounters: Record<string, number>[];
  private readonly kindCounts = new Int32Array(NK);
  private readonly formCounts = new Int32Array(TIME_FORM_NAMES.length);
  private readonly malformedCounts = new Int32Array(MALFORMED_KINDS.length);
  private readonly input: DayInput;
  private threadCounter: number;

  constructor(input: DayInput) {
    this.input = input;
    this.world = input.world;
    this.rng = new Rng(hashSeed(input.seed, 'day', input.dayIndex));
    this.clock = new DayClock(input.date);
    this.w = new GzLineWriter(input.path);
    this.mRate = input.malformedRate;
    this.E = input.eventsPerDay;
    this.nCourses = input.world.courses.length;
    this.perCourse = new Int32Array(this.nCourses);
    this.base = new Int32Array(this.nCourses);
    this.named = new Int32Array(this.nCourses);
    this.activeLearners = Array.from({ length: this.nCourses }, () => new Set<string>());
    this.baseCounters = Array.from({ length: this.nCourses }, () => ({}));
    this.threadCounter = (input.dayIndex + 1) * 1_000_000;
  }

  // -------------------------------------------------------------------------------- planning
  private startTime(budget: number): number {
    const rng = this.rng;
    // Diurnal profile: busiest in the UTC afternoon/evening.
    const h = HOURS.index(rng);
    let t = Math.floor((h * 3600 + rng.next() * 3600) * 1e6);
    const est = budget * 30e6;
    if (t + est > DAY_US - 60e6) t = Math.max(0, Math.floor(DAY_US - 60e6 - est - rng.next() * 3600e6));
    return t;
  }

  private pickCourse(L: Learner): Course | null {
    if (L.courses.length === 0) return null;
    const i = L.courses.length === 1 || this.rng.chance(0.5) ? 0 : this.rng.int(L.courses.length);
    return this.world.courses[L.courses[i]!]!;
  }

  private planEnrollOps(n: number): EnrollOp[] {
    const rng = this.rng;
    const W = this.world;
    const ops: EnrollOp[] = [];
    for (let k = 0; k < n; k++) {
      const L = rng.pick(W.learners);
      const r = rng.next();
      if (r < 0.6 || L.courses.length === 0) {
        let c = -1;
        for (let tries = 0; tries < 6 && c < 0; tries++) {
          const x = W.coursePicker.index(rng);
          if (!L.courses.includes(x)) c = x;
        }
        if (c < 0 && L.courses.length > 0) {
          const i = rng.int(L.courses.length);
          const mode = L.modes[i] === 'verified' ? 'honor' : 'verified';
          ops.push({ op: OP_MODE, learner: L, course: W.courses[L.courses[i]!]!, mode, byStaff: false });
          continue;
        }
        const m = rng.next();
        ops.push({ op: OP_ACTIVATE, learner: L, course: W.courses[c]!, mode: m < 0.55 ? 'honor' : m < 0.85 ? 'audit' : 'verified', byStaff: rng.chance(0.05) });
      } else if (r < 0.8) {
        const i = rng.int(L.courses.length);
        ops.push({ op: OP_DEACTIVATE, learner: L, course: W.courses[L.courses[i]!]!, mode: L.modes[i]!, byStaff: rng.chance(0.05) });
      } else {
        const i = rng.int(L.courses.length);
        const mode = L.modes[i] === 'verified' ? (rng.chance(0.5) ? 'honor' : 'audit') : 'verified';
        ops.push({ op: OP_MODE, learner: L, course: W.courses[L.courses[i]!]!, mode, byStaff: false });
      }
    }
    return ops;
  }

  private applyEnrollOps(ops: EnrollOp[]): void {
    for (const o of ops) {
      const L = o.learner;
      const i = L.courses.indexOf(o.course.index);
      if (o.op === OP_ACTIVATE) {
        if (i < 0) {
          L.courses.push(o.course.index);
          L.modes.push(o.mode);
        }
      } else if (o.op === OP_DEACTIVATE) {
        if (i >= 0) {
          L.courses.splice(i, 1);
          L.modes.splice(i, 1);
        }
      } else if (i >= 0) {
        L.modes[i] = o.mode;
      }
    }
  }

  private plan(): { planned: Planned[]; carryOut: Array<[Learner, Course]>; ops: EnrollOp[] } {
    const rng = this.rng;
    const W = this.world;
    let left = this.E;
    const planned: Planned[] = [];
    const push = (p: Omit<Planned, 'budget'>, want: number): void => {
      const budget = Math.min(want, left);
      if (budget <= 0) return;
      left -= budget;
      planned.push({ ...p, budget });
    };
    // 1. enrollment changes (≈1% of events)
    const nOps = this.E >= 40 ? Math.max(1, Math.round(this.E * 0.0025)) : 0;
    const ops = this.planEnrollOps(nOps);
    for (const o of ops) {
      push({ t: this.startTime(4), type: ST_ENROLL, learner: o.byStaff ? rng.pick(W.staff) : o.learner, course: o.course, small: false, late: false, enroll: o }, 4);
    }
    // 2. sessions right after midnight for learners who were active just before it
    for (const [L, C] of this.input.carryIn) {
      push({ t: Math.floor(rng.next() * 200e6), type: ST_NORMAL, learner: L, course: C, small: true, late: false, enroll: null }, rng.range(3, 10));
    }
    // 3. sessions ending just before midnight
    const carryOut: Array<[Learner, Course]> = [];
    const nLate = this.E >= 200 ? Math.max(1, Math.round(this.E * 0.0004)) : 0;
    for (let k = 0; k < nLate; k++) {
      const L = W.learners[W.learnerPicker.index(rng)]!;
      const C = this.pickCourse(L);
      if (!C) continue;
      const n = rng.range(3, 10);
      push({ t: Math.floor(DAY_US - n * 7e6 - rng.next() * 40e6), type: ST_NORMAL, learner: L, course: C, small: true, late: true, enroll: null }, n);
      if (rng.chance(0.7)) carryOut.push([L, C]);
    }
    // 4. anonymous visitors (≈2%)
    let anonLeft = Math.round(this.E * 0.02);
    while (anonLeft > 0 && left > 0) {
      const n = Math.min(anonLeft, rng.range(1, 4));
      anonLeft -= n;
      push({ t: this.startTime(n), type: ST_ANON, learner: W.learners[0]!, course: W.courses[W.coursePicker.index(rng)]!, small: false, late: false, enroll: null }, n);
    }
    // 5. learner sessions (a few staff ones)
    let misses = 0;
    while (left > 0) {
      const n = Math.min(400, 1 + Math.floor(rng.exp(24)));
      if (rng.chance(0.004)) {
        push({ t: this.startTime(n), type: ST_STAFF, learner: rng.pick(W.staff), course: W.courses[rng.int(W.courses.length)]!, small: false, late: false, enroll: null }, n);
        continue;
      }
      const L = W.learners[W.learnerPicker.index(rng)]!;
      let C = this.pickCourse(L);
      if (!C) {
        // a learner who unenrolled from everything; in a degenerate world, browse anyway
        if (++misses < 1000) continue;
        C = W.courses[rng.int(W.courses.length)]!;
      }
      misses = 0;
      const type = L.mobile && rng.chance(0.4) ? ST_MOBILE : ST_NORMAL;
      push({ t: this.startTime(n), type, learner: L, course: C, small: false, late: false, enroll: null }, n);
    }
    planned.sort((a, b) => a.t - b.t);
    return { planned, carryOut, ops };
  }

  // -------------------------------------------------------------------------------- running
  async run(): Promise<DayResult> {
    try {
      return await this.runInner();
    } catch (e) {
      await this.w.abort();
      throw e;
    }
  }

  private async runInner(): Promise<DayResult> {
    const { planned, carryOut, ops } = this.plan();
    const heap = new SessionHeap();
    const P: (Planned | null)[] = planned;
    let i = 0;
    while (i < P.length || heap.size > 0) {
      let s: Session;
      const next = i < P.length ? P[i]! : null;
      if (next && (heap.size === 0 || next.t <= heap.peek().t)) {
        P[i++] = null;
        s = this.initSession(next);
      } else {
        s = heap.pop();
      }
      this.s = s;
      this.step(s);
      s.steps++;
      if (s.remaining > 0) {
        heap.push(s);
      }
      if (this.w.full) await this.w.flush();
    }
    await this.w.close();
    this.applyEnrollOps(ops);
    return { truth: this.truth(), carryOut };
  }

  /** Which person_course_day counter a base event of `course` feeds (spec §5.2, both id forms), or null. */
  private counterOf(et: string, course: number): string | null {
    switch (et) {
      case 'play_video': return 'nvideo';
      case 'pause_video': return 'npause_video';
      case 'seek_video': return 'nseek_video';
      case 'seq_goto': return 'nseq_goto';
      case 'show_transcript': return 'ntranscript';
      case 'problem_check': return 'nproblem_check';
      case 'show_answer':
      case 'showanswer': return 'nshow_answer';
    }
    const c = this.world.courses[course]!;
    for (const prefix of [`/courses/${c.slashId}/`, `/courses/course-v1:${c.org}+${c.number}+${c.run}/`]) {
      if (!et.startsWith(prefix)) continue;
      const rest = et.slice(prefix.length);
      if (rest.startsWith('progress')) return 'nprogcheck';
      if (rest.startsWith('discussion/')) return 'nforum';
    }
    return null;
  }

  private truth(): FileTruth {
    const perCourse: Record<string, number> = {};
    const baseEvents: Record<string, number> = {};
    const namedEvents: Record<string, number> = {};
    const learnerDays: Record<string, number> = {};
    const baseCounters: Record<string, Record<string, number>> = {};
    this.world.courses.forEach((c, i) => {
      perCourse[c.slashId] = this.perCourse[i]!;
      baseEvents[c.slashId] = this.base[i]!;
      namedEvents[c.slashId] = this.named[i]!;
      learnerDays[c.slashId] = this.activeLearners[i]!.size;
      baseCounters[c.slashId] = { ...this.baseCounters[i]! };
    });
    const malformed: Record<string, number> = {};
    let rejects = 0;
    MALFORMED_KINDS.forEach((k, i) => {
      malformed[k] = this.malformedCounts[i]!;
      rejects += this.malformedCounts[i]!;
    });
    const timeForms: Record<string, number> = {};
    TIME_FORM_NAMES.forEach((k, i) => (timeForms[k] = this.formCounts[i]!));
    const kinds: Record<string, number> = {};
    KIND_NAMES.forEach((k, i) => {
      if (this.kindCounts[i]! > 0) kinds[k] = this.kindCounts[i]!;
    });
    return {
      date: this.clock.date,
      lines: this.lines,
      events: this.events,
      malformed,
      rejects,
      unknown: this.unknown,
      perCourse,
      baseEvents,
      namedEvents,
      learnerDays,
      baseCounters,
      guessed: this.guessed,
      anonymous: this.anonymous,
      syslogLines: this.syslog,
      timeForms,
      kinds,
      bytes: this.w.bytes,
    };
  }

  private initSession(p: Planned): Session {
    const s = new Session(p);
    const rng = this.rng;
    const L = p.learner;
    const C = p.course;
    const anon = p.type === ST_ANON;
    s.newFmt = C.form === 'opaque' || rng.chance(0.3);
    s.uB = anon ? '"username": ""' : L.uRaw;
    s.uS = anon ? '"username": ""' : L.uEsc;
    s.uidJ = anon ? '""' : String(L.userId);
    s.ipJ = anon ? `"${rng.range(1, 223)}.${rng.int(256)}.${rng.int(256)}.${rng.range(1, 254)}"` : JSON.stringify(L.ips.length === 1 || rng.chance(0.7) ? L.ips[0]! : rng.pick(L.ips));
    s.agentJ = p.type === ST_MOBILE ? L.mobileAgent : L.agent;
    s.sidJ = `"${rng.hex(32)}"`;
    s.alF = rng.chance(0.9) ? `"accept_language": ${L.acceptLanguage}, ` : '';
    s.bMid = flat(`"ip": ${s.ipJ}, "agent": ${s.agentJ}, "host": "${HOST}", "session": ${s.sidJ}, `);
    s.sMid = flat(`"ip": ${s.ipJ}, "agent": ${s.agentJ}, "host": "${HOST}", `);
    s.ctxB = flat(`"context": {"user_id": ${s.uidJ}, "org_id": ${C.jOrg}, "course_id": ${C.jId}, "path": "/event"}`);
    s.ctxSHead = flat(`"context": {"course_user_tags": {}, "user_id": ${s.uidJ}, "org_id": ${C.jOrg}, "course_id": ${C.jId}, "path": `);
    s.seq = rng.int(C.sequentials.length);
    s.pageJ = C.sequentials[s.seq]!.urlJ;
    s.refJ = rng.chance(0.5) ? `"https://${HOST}/dashboard"` : '""';
    return s;
  }

  // -------------------------------------------------------------------------------- output
  /** Time string for instant `t` (µs in the day), in a randomly chosen §1.4 form. */
  private ts(t: number): string {
    const r = this.rng.next();
    const form = r < 0.88 ? 0 : r < 0.93 ? 1 : r < 0.96 ? 2 : r < 0.99 ? 3 : 4;
    this.curT = t;
    this.curForm = form;
    return this.clock.format(t, form, form === 4 ? this.rng.int(6) : 0);
  }

  /**
   * Write one valid event line (without newline) and count it. `course` is the index of the
   * course the event belongs to by the course rules (-1: none); `guessed` marks a course that
   * comes from page/event_type rather than context.course_id. Returns false when the session's
   * budget is exhausted.
   */
  private out(line: string, course: number, et: string, k: number, guessed = false, named = true): boolean {
    const rng = this.rng;
    if (this.mRate > 0 && rng.next() < this.mRate) this.malformed(line);
    if (rng.next() < 0.003) {
      line = this.clock.syslogPrefix(this.curT) + line;
      this.syslog++;
    }
    this.w.line(line);
    this.lines++;
    this.events++;
    this.kindCounts[k]!++;
    this.formCounts[this.curForm]!++;
    const anon = !named || this.s.type === ST_ANON;
    if (anon) this.anonymous++;
    if (course >= 0) {
      this.perCourse[course]!++;
      if (!anon) {
        this.named[course]!++;
        if (et.indexOf('/xblock/') < 0) {
          this.base[course]!++;
          this.activeLearners[course]!.add(this.s.L.username);
          const counter = this.counterOf(et, course);
          if (counter !== null) {
            const c = this.baseCounters[course]!;
            c[counter] = (c[counter] ?? 0) + 1;
          }
        }
      }
      if (guessed) this.guessed++;
    } else {
      this.unknown++;
    }
    return --this.s.remaining > 0;
  }

  private malformed(line: string): void {
    const rng = this.rng;
    const k = rng.int(MALFORMED_KINDS.length);
    this.malformedCounts[k]!++;
    this.lines++;
    const timeKey = '"time": ';
    switch (MALFORMED_KINDS[k]) {
      case 'truncated': {
        let cut = 5 + rng.int(Math.max(1, line.length - 6));
        const c = line.charCodeAt(cut - 1);
        if (c >= 0xd800 && c <= 0xdbff) cut--; // never split a surrogate pair
        this.w.line(line.slice(0, cut));
        return;
      }
      case 'garbage': {
        const g = [
          `GET /courses/${this.s.C.id}/courseware/ HTTP/1.1" 200 5123 "-" "Mozilla/5.0"`,
          '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
          'Traceback (most recent call last):  File "track/views.py", line 88, in user_track',
          `${this.clock.date} 12:00:00,123 ERROR 1234 [tracking] could not log event`,
          '\u0000\u0001binary junk \u00ff\u00fe',
          `'username': 'x', 'event_type': 'play_video'`,
        ];
        this.w.line(rng.pick(g));
        return;
      }
      case 'array':
        this.w.line((rng.chance(0.5) ? `[${line}]` : '[1, 2, "play_video"]'));
        return;
      case 'number':
        this.w.line(rng.pick(['5', '-3.25', '1e3', '0']));
        return;
      case 'badTime': {
        const i = line.indexOf(timeKey);
        const j = line.indexOf('"', i + timeKey.length + 1);
        this.w.line(line.slice(0, i + timeKey.length) + rng.pick(['"not-a-time"', '""', '"NaN"']) + line.slice(j + 1));
        return;
      }
      case 'missingTime': {
        const i = line.indexOf(timeKey);
        const j = line.indexOf('"', i + timeKey.length + 1);
        this.w.line(line.slice(0, i) + line.slice(j + 3)); // drop `"time": "…", `
        return;
      }
      case 'empty':
        this.w.line('');
        return;
      default: {
        // invalid UTF-8 bytes inside the agent (or first) string value
        let i = line.indexOf('"agent": "');
        i = i < 0 ? line.indexOf('"') + 1 : i + 10;
        const bad = rng.pick([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0x80]]);
        this.w.raw(Buffer.concat([Buffer.from(line.slice(0, i), 'utf8'), Buffer.from(bad), Buffer.from(line.slice(i) + '\n', 'utf8')]));
        return;
      }
    }
  }

  // -------------------------------------------------------------------------------- line shapes
  /** Browser event; `evJ` is the JSON literal of the event *string*. */
  private browser(t: number, et: string, evJ: string, k: number, course = this.s.C.index): boolean {
    const s = this.s;
    const ts = this.ts(t);
    const name = s.newFmt ? `"name": "${et}", ` : '';
    return this.out(
      `{${s.uB}, "event_type": "${et}", ${s.bMid}"referer": ${s.refJ}, ${s.alF}"event": ${evJ}, "event_source": "browser", ${name}${s.ctxB}, "time": "${ts}", "page": ${s.pageJ}}`,
      course, et, k,
    );
  }

  /** Server request event (event_type is the URL path, page null). `ev` is the event JSON text. */
  private request(t: number, url: string, ev: string, k: number, course = this.s.C.index): boolean {
    const s = this.s;
    const ts = this.ts(t);
    return this.out(
      `{${s.uS}, "event_type": "${url}", ${s.sMid}"referer": ${s.refJ}, ${s.alF}"event": ${ev}, "event_source": "server", ${s.ctxSHead}"${url}"}, "time": "${ts}", "page": null}`,
      course, url, k,
    );
  }

  /** Server semantic event (problem_check, enrollment, forum). */
  private semantic(t: number, et: string, path: string, ev: string, k: number, page = 'null', module = ''): boolean {
    const s = this.s;
    const C = s.C;
    const ts = this.ts(t);
    return this.out(
      `{${s.uS}, "event_source": "server", "name": "${et}", ${s.alF}"time": "${ts}", "agent": ${s.agentJ}, "page": ${page}, "host": "${HOST}", "session": ${s.sidJ}, "referer": ${s.refJ}, "context": {"course_user_tags": {}, "user_id": ${s.uidJ}, "org_id": ${C.jOrg}, ${module}"course_id": ${C.jId}, "path": "${path}"}, "ip": ${s.ipJ}, "event": ${ev}, "event_type": "${et}"}`,
      C.index, et, k,
    );
  }

  // -------------------------------------------------------------------------------- time helpers
  private gap(s: Session): number {
    const rng = this.rng;
    if (s.small) return Math.floor((1 + rng.next() * 11) * 1e6);
    switch (FULL_GAPS.index(rng)) {
      case 0:
        return Math.floor(rng.next() * 2e6);
      case 1:
        return Math.floor((3 + rng.exp(18)) * 1e6);
      case 2:
        return Math.floor((60 + rng.next() * 240) * 1e6);
      default:
        return Math.floor((300 + rng.exp(900)) * 1e6);
    }
  }

  private advance(s: Session): void {
    const g = this.gap(s);
    let nt = s.t + g;
    if (nt >= DAY_US) nt = s.t + Math.floor((DAY_US - 1 - s.t) * (0.2 + 0.5 * this.rng.next()));
    s.t = Math.min(nt, DAY_US - 1);
  }

  /** A time `ms` milliseconds (randomised, 0 = simultaneous) after t, inside the day. */
  private after(t: number, ms: number): number {
    const r = this.rng.next();
    if (r < 0.08) return t; // logged in the same microsecond (browser + server of one action)
    return Math.min(DAY_US - 1, t + Math.floor(ms * 1000 * r));
  }

  // -------------------------------------------------------------------------------- sessions
  private step(s: Session): void {
    switch (s.type) {
      case ST_ANON:
        this.anonStep(s);
        break;
      case ST_ENROLL:
        this.enrollStep(s);
        break;
      case ST_MOBILE:
        this.mobileStep(s);
        break;
      case ST_STAFF:
        this.staffStep(s);
        break;
      default:
        this.learnerStep(s);
    }
    this.advance(s);
  }

  private learnerStep(s: Session): void {
    const rng = this.rng;
    if (s.steps === 0 && !s.small && rng.chance(0.35)) {
      this.nonCourse(s, '/dashboard');
      return;
    }
    switch (ACTIONS.index(rng)) {
      case A_NAV:
        this.nav(s);
        break;
      case A_VIDEO:
        this.videoAction(s);
        break;
      case A_PROBLEM:
        this.problem(s);
        break;
      case A_FORUM:
        this.forum(s);
        break;
      case A_PROGRESS:
        this.request(s.t, `${s.C.pathPrefix}/progress`, EMPTY_GETPOST, K_PROGRESS);
        s.refJ = flat(`"${s.C.courseUrl}/progress"`);
        break;
      case A_INFO:
        this.info(s);
        break;
      case A_TRANSCRIPT:
        this.transcript(s);
        break;
      case A_XSTATE:
        this.xblockState(s);
        break;
      case A_NONCOURSE:
        this.nonCourse(s, rng.pick(NONCOURSE_URLS));
        break;
      case A_LEGACY:
        this.legacy(s);
        break;
      default:
        this.nullContext(s);
    }
  }

  private nonCourse(s: Session, url: string): void {
    const rng = this.rng;
    const ts = this.ts(s.t);
    const ctx = `"context": {"course_user_tags": {}, "user_id": ${s.uidJ}, "org_id": "", "course_id": "", "path": "${url}"}`;
    if (url === '/dashboard' && rng.chance(0.3)) {
      // browser page_close on the dashboard: empty course_id and a page that names no course
      const ctxB = `"context": {"user_id": ${s.uidJ}, "org_id": "", "course_id": "", "path": "/event"}`;
      this.out(`{${s.uB}, "event_type": "page_close", ${s.bMid}"referer": ${s.refJ}, ${s.alF}"event": "", "event_source": "browser", ${ctxB}, "time": "${ts}", "page": "https://${HOST}/dashboard"}`, -1, 'page_close', K_NONCOURSE);
      return;
    }
    this.out(`{${s.uS}, "event_type": "${url}", ${s.sMid}"referer": ${s.refJ}, ${s.alF}"event": ${EMPTY_GETPOST}, "event_source": "server", ${ctx}, "time": "${ts}", "page": null}`, -1, url, K_NONCOURSE);
    s.refJ = flat(`"https://${HOST}${url}"`);
  }

  private nav(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const r = rng.next();
    const old = C.sequentials[s.seq]!;
    if (r < 0.1 && !this.browser(s.t, 'page_close', '""', K_B_PAGECLOSE)) return;
    const t = s.t;
    if (r < 0.55 || C.sequentials.length === 1) {
      // jump to a sequential: server page view, then seq_goto inside it
      s.seq = rng.int(C.sequentials.length);
      const seq = C.sequentials[s.seq]!;
      const ok = this.request(this.after(t, 400), seq.path, rng.chance(0.9) ? EMPTY_GETPOST : EMPTY_GETPOST_STR, K_COURSEWARE);
      s.refJ = s.pageJ;
      s.pageJ = seq.urlJ;
      if (!ok) return;
      if (rng.chance(0.6)) {
        const n = rng.range(1, seq.nUnits);
        this.browser(this.after(t, 1500), 'seq_goto', `"{\\"old\\":1,\\"new\\":${n},\\"id\\":\\"${this.seqKey(C, seq.id)}\\"}"`, K_B_SEQGOTO);
      }
      return;
    }
    // next/prev within the sequence (browser) + xblock goto_position (server, /xblock/)
    const seq = old;
    const a = rng.range(1, seq.nUnits);
    const next = r < 0.9;
    const ok = this.browser(t, next ? 'seq_next' : 'seq_prev', `"{\\"old\\":${a},\\"new\\":${next ? a + 1 : Math.max(1, a - 1)},\\"id\\":\\"${this.seqKey(C, seq.id)}\\"}"`, next ? K_B_SEQNEXT : K_B_SEQPREV);
    if (ok && rng.chance(0.4)) {
      this.request(this.after(t, 300), `${C.pathPrefix}/xblock/${this.seqXblock(C, seq.id)}/handler/xmodule_handler/goto_position`, `{"POST": {"position": ["${a + 1}"]}, "GET": {}}`, K_XB_GOTO);
    }
  }

  private seqKey(C: Course, id: string): string {
    return C.form === 'slash' ? `i4x://${C.org}/${C.number}/sequential/${id}` : `block-v1:${C.org}+${C.number}+${C.run}+type@sequential+block@${id}`;
  }

  private seqXblock(C: Course, id: string): string {
    return C.form === 'slash' ? `i4x:;_;_${C.org};_${C.number};_sequential;_${id}` : this.seqKey(C, id);
  }

  /** One `"key": value` member inside a browser event string (compact for slash courses, Python style for opaque). */
  private vf(key: string, val: string): string {
    return this.s.C.form === 'opaque' ? `, \\"${key}\\": ${val}` : `,\\"${key}\\":${val}`;
  }

  /** JSON literal of a browser video event string: id, code, the `extra` members, maybe speed. */
  private videoEv(s: Session, v: Video, extra: string): string {
    const sp = s.C.videoSpeedField ? this.vf('speed', `\\"${s.speed}\\"`) : '';
    if (s.C.form === 'opaque') return `"{\\"id\\": \\"${v.browserId}\\", \\"code\\": \\"${v.youtube}\\"${extra}${sp}}"`;
    return `"{\\"id\\":\\"${v.browserId}\\"${extra},\\"code\\":\\"${v.youtube}\\"${sp}}"`;
  }

  private videoAction(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    if (s.video === null || rng.chance(0.12)) {
      s.video = rng.pick(C.videos);
      s.vpos = rng.chance(0.6) ? 0 : rng.next() * s.video.duration;
      if (!this.browser(s.t, 'load_video', this.videoEv(s, s.video, ''), K_B_LOAD)) return;
    }
    const v = s.video;
    const r = rng.next();
    const t = this.after(s.t, 800);
    // position advances with wall time since the last action (roughly)
    s.vpos = Math.min(v.duration, s.vpos + rng.next() * 40 * Number(s.speed));
    const ct = num(s.vpos);
    if (r < 0.36) {
      this.browser(t, 'play_video', this.videoEv(s, v, this.vf('currentTime', ct)), K_B_PLAY);
    } else if (r < 0.66) {
      if (this.browser(t, 'pause_video', this.videoEv(s, v, this.vf('currentTime', ct)), K_B_PAUSE) && rng.chance(0.3)) {
        this.request(this.after(t, 500), `${C.pathPrefix}/xblock/${v.xblockPath}/handler/xmodule_handler/save_user_state`, `{"POST": {"saved_video_position": ["00:0${Math.floor(s.vpos / 600)}:${String(Math.floor(s.vpos % 60)).padStart(2, '0')}"]}, "GET": {}}`, K_XB_STATE);
      }
    } else if (r < 0.84) {
      const nt = rng.next() * v.duration;
      this.browser(t, 'seek_video', this.videoEv(s, v, this.vf('old_time', ct) + this.vf('new_time', num(nt)) + this.vf('type', rng.chance(0.8) ? '\\"onSlideSeek\\"' : '\\"onSkipSeek\\"')), K_B_SEEK);
      s.vpos = nt;
    } else if (r < 0.9) {
      const old = s.speed;
      s.speed = rng.pick(SPEEDS);
      const nw = rng.chance(0.01) ? 'NaN' : s.speed;
      this.browser(t, 'speed_change_video', `"{\\"id\\":\\"${v.browserId}\\",\\"current_time\\":${ct},\\"old_speed\\":\\"${old}\\",\\"new_speed\\":\\"${nw}\\",\\"code\\":\\"${v.youtube}\\"}"`, K_B_SPEED);
    } else if (r < 0.95) {
      const show = rng.chance(0.6);
      this.browser(t, show ? 'show_transcript' : 'hide_transcript', this.videoEv(s, v, this.vf('currentTime', ct)), show ? K_B_SHOWTR : K_B_HIDETR);
    } else {
      this.browser(t, 'stop_video', this.videoEv(s, v, this.vf('currentTime', num(v.duration))), K_B_STOP);
      s.video = null;
    }
  }

  private answerValue(rt: string, i: number): string {
    const rng = this.rng;
    switch (rt) {
      case 'multiplechoiceresponse':
        return `choice_${rng.int(4)}`;
      case 'numericalresponse':
        return String(rng.range(1, 500) / (rng.chance(0.5) ? 10 : 1));
      case 'optionresponse':
        return rng.pick(['Option A', 'Option B', 'True', 'False']);
      case 'stringresponse':
      case 'customresponse':
      case 'formularesponse':
        return rng.pick(TEXT_ANSWERS);
      default:
        return `choice_${(i + rng.int(3)) % 4}`;
    }
  }

  private problem(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const p = rng.pick(C.problems);
    const t0 = s.t;
    const base = C.form === 'opaque' ? `${C.pathPrefix}/xblock/${p.xblockPath}/handler/xmodule_handler` : rng.chance(0.8) ? `${C.pathPrefix}/xblock/${p.xblockPath}/handler/xmodule_handler` : `${C.pathPrefix}/modx/${p.key}`;
    const modx = base.includes('/modx/');
    if (rng.chance(0.3) && !this.request(t0, `${base}/problem_get`, EMPTY_GETPOST, modx ? K_MODX : K_XB_PGET)) return;
    // the answers, as JSON fragments (server events are written Python-style, non-ASCII escaped)
    const keys: string[] = [];
    const ansJ: string[] = [];
    const postJ: string[] = [];
    const qs: string[] = [];
    for (let i = 0; i < p.nInputs; i++) {
      const key = `${p.inputIdBase}_${i + 2}_1`;
      keys.push(key);
      if (p.responseTypes[i] === 'choiceresponse') {
        const a = `choice_${rng.int(2)}`;
        const b = `choice_${2 + rng.int(2)}`;
        qs.push(`input_${key}%5B%5D=${a}`, `input_${key}%5B%5D=${b}`);
        ansJ.push(`["${a}", "${b}"]`);
        postJ.push(`"input_${key}[]": ["${a}", "${b}"]`);
      } else {
        const a = this.answerValue(p.responseTypes[i]!, i);
        const j = ANSWER_J.get(a) ?? `"${a}"`;
        qs.push(`input_${key}=${encodeURIComponent(a)}`);
        ansJ.push(j);
        postJ.push(`"input_${key}": [${j}]`);
      }
    }
    const query = qs.join('&');
    const tb = this.after(t0, 2000);
    if (C.form === 'slash' && rng.chance(0.15)) {
      // problem_graded: [querystring, html] as the event text
      const html = `<h2 class="problem-header">${p.displayName}</h2><section id="input_${p.inputIdBase}_2_1" class="${p.responseTypes[0]}"><p>Choose the best answer and explain.</p>` + '<label class="choicegroup_correct">choice</label>'.repeat(rng.range(3, 40)) + '</section>';
      if (!this.browser(tb, 'problem_graded', JSON.stringify(py([query, html])), K_B_PGRADED)) return;
    }
    const evJ = rng.chance(0.8) ? JSON.stringify(JSON.stringify(query)) : JSON.stringify(query); // modern quoted form, or old raw query string
    if (!this.browser(tb, 'problem_check', evJ, K_B_PCHECK)) return;
    const ts = this.after(tb, 300);
    const handlerUrl = `${base}/problem_check`;
    if (!this.request(ts, handlerUrl, `{"POST": {${postJ.join(', ')}}, "GET": {}}`, modx ? K_MODX : K_XB_PCHECK)) return;
    // server problem_check with the full state (the large events)
    const attempts = rng.range(1, 4);
    const sub: string[] = [];
    const cm: string[] = [];
    const ist: string[] = [];
    const ans: string[] = [];
    let grade = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const ok = rng.chance(0.6);
      if (ok) grade++;
      const msg = rng.chance(0.1) ? LONG_MSG[rng.int(LONG_MSG.length)]! : '""';
      cm.push(`"${k}": {"hint": "", "hintmode": null, "correctness": "${ok ? 'correct' : 'incorrect'}", "npoints": null, "msg": ${msg}, "queuestate": null}`);
      sub.push(`"${k}": {"input_type": "textline", "question": "${p.displayNameEsc}, part ${i + 1}", "response_type": "${p.responseTypes[i]}", "answer": ${ansJ[i]}, "variant": "", "correct": ${ok}}`);
      ist.push(`"${k}": {}`);
      ans.push(`"${k}": ${ansJ[i]}`);
    }
    const answersJ = `{${ans.join(', ')}}`;
    const cmJ = `{${cm.join(', ')}}`;
    const again = attempts > 1;
    const ev =
      `{"submission": {${sub.join(', ')}}, "success": "${grade === p.nInputs ? 'correct' : 'incorrect'}", "grade": ${grade}, "correct_map": ${cmJ}, ` +
      `"state": {"student_answers": ${again ? answersJ : '{}'}, "seed": 1, "done": ${again ? 'true' : 'null'}, "correct_map": ${again ? cmJ : '{}'}, "input_state": {${ist.join(', ')}}}, ` +
      `"answers": ${answersJ}, "attempts": ${attempts}, "max_grade": ${p.maxGrade}, "problem_id": "${p.key}"}`;
    const module = `"module": {"display_name": "${p.displayNameEsc}"}, `;
    if (!this.semantic(this.after(ts, 200), 'problem_check', handlerUrl, ev, K_S_PCHECK, '"x_module"', module)) return;
    if (rng.chance(0.12)) {
      const t2 = this.after(ts, 20000);
      if (rng.chance(0.5) && !this.browser(t2, 'problem_show', `"{\\"problem\\":\\"${p.key}\\"}"`, K_B_PSHOW)) return;
      if (!modx && rng.chance(0.5) && !this.request(this.after(t2, 200), `${base}/problem_show`, EMPTY_GETPOST, K_XB_PSHOW)) return;
      const old = C.form === 'slash' && rng.chance(0.4);
      this.semantic(this.after(t2, 300), old ? 'show_answer' : 'showanswer', `${base}/problem_show`, `{"problem_id": "${p.key}"}`, old ? K_S_SHOW_ANSWER : K_S_SHOWANSWER, '"x_module"', module);
    } else if (rng.chance(0.03)) {
      this.semantic(this.after(ts, 15000), 'reset_problem', `${base}/problem_reset`, `{"old_state": {"student_answers": ${answersJ}, "seed": 1, "done": true}, "problem_id": "${p.key}", "new_state": {"student_answers": {}, "seed": 1, "done": null}}`, K_S_RESET, '"x_module"', module);
    }
  }

  private newId(): string {
    this.threadCounter++;
    return '56' + this.threadCounter.toString(16).padStart(22, '0');
  }

  private forum(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const P = `${C.pathPrefix}/discussion`;
    const sub = rng.pick(C.commentables);
    const tid = rng.pick(C.threads);
    const cid = rng.pick(C.comments);
    const r = rng.next();
    const t = s.t;
    const ajax = '{"POST": {}, "GET": {"ajax": ["1"], "resp_limit": ["25"], "resp_skip": ["0"]}}';
    const threadUrl = `https://${HOST}${P}/forum/${sub}/threads/${tid}`;
    if (r < 0.3) {
      this.request(t, `${P}/forum/${sub}/threads/${tid}`, ajax, K_FORUM_URL);
      s.refJ = flat(`"${threadUrl}"`);
    } else if (r < 0.42) {
      this.request(t, `${P}/forum`, '{"POST": {}, "GET": {"ajax": ["1"], "sort_key": ["date"], "sort_order": ["desc"], "page": ["1"]}}', K_FORUM_URL);
    } else if (r < 0.52) {
      this.request(t, `${P}/forum/${sub}/inline`, '{"POST": {}, "GET": {"ajax": ["1"], "page": ["1"]}}', K_FORUM_URL);
    } else if (r < 0.58) {
      const q = rng.pick(SEARCH_QUERIES);
      if (this.request(t, `${P}/forum/search`, py({ POST: {}, GET: { ajax: ['1'], text: [q] } }), K_FORUM_URL)) {
        this.semantic(this.after(t, 200), 'edx.forum.searched', `${P}/forum/search`, py({ query: q, page: 1, total_results: rng.int(60), corrected_text: null }), K_FORUM_SEARCHED);
      }
    } else if (r < 0.66) {
      const body = rng.pick(FORUM_BODIES);
      const title = rng.pick(FORUM_TITLES);
      const url = `${P}/${sub}/threads/create`;
      let post = py({ POST: { body: [body], anonymous_to_peers: ['false'], thread_type: ['discussion'], title: [title], auto_subscribe: ['true'] }, GET: {} });
      // Forum POSTs are often logged as a string holding truncated JSON text (spec §1.3).
      if (rng.chance(0.3)) post = JSON.stringify(post.slice(0, Math.min(post.length - 3, 40 + rng.int(60))));
      if (this.request(t, url, post, K_FORUM_URL)) {
        const id = this.newId();
        this.semantic(this.after(t, 300), 'edx.forum.thread.created', url, py({ body, anonymous_to_peers: false, category_id: sub, title, url: threadUrl, truncated: false, thread_type: 'discussion', commentable_id: sub, user_course_roles: [], user_forums_roles: ['Student'], anonymous: false, id, group_id: null, options: { followed: true } }), K_FORUM_CREATED);
      }
    } else if (r < 0.74) {
      const body = rng.pick(FORUM_BODIES);
      const url = `${P}/threads/${tid}/reply`;
      if (this.request(t, url, py({ POST: { body: [body] }, GET: {} }), K_FORUM_URL)) {
        this.semantic(this.after(t, 300), 'edx.forum.response.created', url, py({ body, truncated: false, url: threadUrl, discussion: { id: tid }, options: { followed: false }, user_forums_roles: ['Student'], user_course_roles: [], commentable_id: sub, id: this.newId() }), K_FORUM_CREATED);
      }
    } else if (r < 0.8) {
      const body = rng.pick(FORUM_BODIES);
      const url = `${P}/comments/${cid}/reply`;
      if (this.request(t, url, py({ POST: { body: [body] }, GET: {} }), K_FORUM_URL)) {
        this.semantic(this.after(t, 300), 'edx.forum.comment.created', url, py({ body, truncated: false, url: threadUrl, discussion: { id: tid }, options: { followed: false }, user_course_roles: [], user_forums_roles: ['Student'], id: this.newId(), commentable_id: sub, response: { id: cid } }), K_FORUM_CREATED);
      }
    } else if (r < 0.88) {
      const onComment = rng.chance(0.4);
      const url = onComment ? `${P}/comments/${cid}/upvote` : `${P}/threads/${tid}/upvote`;
      if (this.request(t, url, '{"POST": {}, "GET": {}}', K_FORUM_URL)) {
        this.semantic(this.after(t, 200), onComment ? 'edx.forum.response.voted' : 'edx.forum.thread.voted', url, py({ undo_vote: false, url: threadUrl, vote_value: 'up', user_forums_roles: ['Student'], user_course_roles: [], commentable_id: sub, id: onComment ? cid : tid }), K_FORUM_VOTED);
      }
    } else {
      const L = this.world.learners[this.rng.int(this.world.learners.length)]!;
      const url = rng.pick([
        `${P}/threads/${tid}/follow`, `${P}/threads/${tid}/unfollow`, `${P}/comments/${cid}/unvote`, `${P}/threads/${tid}/unvote`,
        `${P}/forum/users/${L.userId}`, `${P}/forum/users/${L.userId}/followed`, `${P}/threads/${tid}/update`, `${P}/comments/${cid}/update`,
      ]);
      this.request(t, url, '{"POST": {}, "GET": {"ajax": ["1"]}}', K_FORUM_URL);
    }
  }

  private info(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const r = rng.next();
    if (r < 0.45) this.request(s.t, `${C.pathPrefix}/info`, EMPTY_GETPOST, K_INFO);
    else if (r < 0.6) this.request(s.t, rng.chance(0.5) ? `${C.pathPrefix}/course_wiki` : `${C.pathPrefix}/wiki/${C.number.replace(/\./g, '_')}/`, EMPTY_GETPOST, K_WIKI);
    else if (r < 0.75) {
      const n = rng.int(3);
      if (this.request(s.t, `${C.pathPrefix}/pdfbook/${n}/`, '{"POST": {}, "GET": {"viewer": ["true"]}}', K_PDFBOOK)) {
        const page = rng.range(1, 200);
        this.browser(this.after(s.t, 3000), 'textbook.pdf.page.navigated', `"{\\"chapter\\":\\"/c4x/${C.org}/${C.number}/asset/book${n}.pdf\\",\\"name\\":\\"textbook.pdf.page.navigated\\",\\"page\\":${page}}"`, K_B_TEXTBOOK);
      }
    } else if (r < 0.85) {
      this.request(s.t, `${C.pathPrefix}/jump_to_id/${rng.pick(C.videos).id}`, EMPTY_GETPOST, K_JUMP);
    } else {
      this.request(s.t, `${C.pathPrefix}/courseware`, EMPTY_GETPOST, K_COURSEWARE);
    }
  }

  private transcript(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const v = s.video ?? rng.pick(C.videos);
    const lang = s.L.transcriptLang || rng.pick(['es', 'zh', 'fr', 'pt', 'en']);
    const xb = `${C.pathPrefix}/xblock/${v.xblockPath}/handler/transcript`;
    const t = s.t;
    const r = rng.next();
    if (r < 0.55) {
      if (rng.chance(0.3) && !this.request(t, `${xb}/available_translations`, EMPTY_GETPOST, K_XB_TRAVAIL)) return;
      if (!this.request(this.after(t, 400), `${xb}/translation/${lang}`, `{"POST": {}, "GET": {"videoId": ["${v.youtube}"]}}`, K_XB_TRLANG)) return;
      if (rng.chance(0.4)) {
        if (!this.browser(this.after(t, 5000), 'show_transcript', this.videoEv(s, v, this.vf('currentTime', num(s.vpos))), K_B_SHOWTR)) return;
      }
      if (rng.chance(0.35)) this.download(s, v, this.after(t, 20000));
    } else if (r < 0.85) {
      this.download(s, v, t);
    } else {
      const show = rng.chance(0.5);
      this.browser(t, show ? 'show_transcript' : 'hide_transcript', this.videoEv(s, v, this.vf('currentTime', num(s.vpos))), show ? K_B_SHOWTR : K_B_HIDETR);
    }
  }

  private download(s: Session, v: Video, t: number): void {
    const C = s.C;
    const target = `https://${HOST}${C.pathPrefix}/xblock/${v.xblockPath}/handler/transcript/download`;
    const ev = JSON.stringify(`{"target_url": "${target}", "current_url": ${s.pageJ}}`);
    if (!this.browser(t, 'edx.ui.lms.link_clicked', ev, K_B_LINK)) return;
    if (this.rng.chance(0.5)) this.request(this.after(t, 400), `${C.pathPrefix}/xblock/${v.xblockPath}/handler/transcript/download`, EMPTY_GETPOST, K_XB_TRDL);
  }

  private xblockState(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const v = s.video ?? rng.pick(C.videos);
    const r = rng.next();
    if (r < 0.6) {
      this.request(s.t, `${C.pathPrefix}/xblock/${v.xblockPath}/handler/xmodule_handler/save_user_state`, rng.chance(0.5) ? '{"POST": {"youtube_is_available": ["true"]}, "GET": {}}' : `{"POST": {"speed": ["${s.speed}"]}, "GET": {}}`, K_XB_STATE);
    } else {
      const p: Problem = rng.pick(C.problems);
      this.request(s.t, `${C.pathPrefix}/xblock/${p.xblockPath}/handler/xmodule_handler/problem_get`, EMPTY_GETPOST, K_XB_PGET);
    }
  }

  /** Events whose context.course_id is empty or missing: the course comes from page / event_type. */
  private legacy(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const seq = C.sequentials[s.seq]!;
    const t = s.t;
    const r = rng.next();
    const ts = this.ts(t);
    if (r < 0.5) {
      // browser: guessed from page (slash or course-v1 URL)
      const noKey = rng.chance(0.3);
      const ctx = noKey ? `"context": {"user_id": ${s.uidJ}, "org_id": "", "path": "/event"}` : `"context": {"user_id": ${s.uidJ}, "org_id": "", "course_id": "", "path": "/event"}`;
      const et = rng.pick(['seq_goto', 'page_close', 'play_video']);
      const ev = et === 'seq_goto' ? `"{\\"old\\":1,\\"new\\":2,\\"id\\":\\"${this.seqKey(C, seq.id)}\\"}"` : et === 'play_video' ? this.videoEv(s, rng.pick(C.videos), this.vf('currentTime', num(s.vpos))) : '""';
      this.out(`{${s.uB}, "event_type": "${et}", ${s.bMid}"event": ${ev}, "event_source": "browser", ${ctx}, "time": "${ts}", "page": ${seq.urlJ}}`, C.index, et, K_LEGACY_B, true);
    } else {
      // server: guessed from the /courses/<id>/ in event_type; sometimes no context at all (2012 logs)
      const p = rng.pick(C.problems);
      const url = rng.chance(0.6) ? seq.path : C.form === 'slash' ? `${C.pathPrefix}/modx/${p.key}/problem_get` : `${C.pathPrefix}/xblock/${p.xblockPath}/handler/xmodule_handler/problem_get`;
      const ctx = rng.chance(0.3) ? '' : `"context": {"user_id": ${s.uidJ}, "org_id": "", "course_id": "", "path": "${url}"}, `;
      this.out(`{${s.uS}, "event_type": "${url}", ${s.sMid}"event": ${EMPTY_GETPOST}, "event_source": "server", ${ctx}"time": "${ts}", "page": null}`, C.index, url, K_LEGACY_S, true);
    }
  }

  /** Events with context.course_id null (treated as empty: guessed or unknown). */
  private nullContext(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const ts = this.ts(s.t);
    const r = rng.next();
    if (r < 0.4) {
      const url = `${C.pathPrefix}/info`;
      this.out(`{${s.uS}, "event_type": "${url}", ${s.sMid}"event": ${EMPTY_GETPOST}, "event_source": "server", "context": {"user_id": ${s.uidJ}, "org_id": null, "course_id": null, "path": "${url}"}, "time": "${ts}", "page": null}`, C.index, url, K_NULL_CTX, true);
    } else if (r < 0.7) {
      const seq = C.sequentials[s.seq]!;
      this.out(`{${s.uB}, "event_type": "page_close", ${s.bMid}"event": "", "event_source": "browser", "context": {"user_id": ${s.uidJ}, "org_id": null, "course_id": null, "path": "/event"}, "time": "${ts}", "page": ${seq.urlJ}}`, C.index, 'page_close', K_NULL_CTX, true);
    } else {
      const url = '/notification_prefs/status/';
      this.out(`{${s.uS}, "event_type": "${url}", ${s.sMid}"event": ${EMPTY_GETPOST}, "event_source": "server", "context": {"user_id": ${s.uidJ}, "org_id": null, "course_id": null, "path": "${url}"}, "time": "${ts}", "page": null}`, -1, url, K_NULL_CTX);
    }
  }

  private anonStep(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const r = rng.next();
    if (r < 0.55) {
      this.request(s.t, `${C.pathPrefix}/about`, EMPTY_GETPOST, K_ANON);
      s.refJ = flat(`"${C.courseUrl}/about"`);
    } else if (r < 0.65) {
      // browser page_close on the about page, anonymous, with the course in context
      this.browser(s.t, 'page_close', '""', K_ANON);
    } else {
      const url = rng.pick(ANON_URLS);
      const ts = this.ts(s.t);
      this.out(`{"username": "", "event_type": "${url}", ${s.sMid}"referer": ${s.refJ}, ${s.alF}"event": ${EMPTY_GETPOST}, "event_source": "server", "context": {"user_id": "", "org_id": "", "course_id": "", "path": "${url}"}, "time": "${ts}", "page": null}`, -1, url, K_ANON);
    }
  }

  private enrollStep(s: Session): void {
    const rng = this.rng;
    const o = s.enroll!;
    const C = s.C;
    if (s.steps === 0) {
      if (o.op === OP_ACTIVATE && !o.byStaff) {
        this.request(s.t, `${C.pathPrefix}/about`, EMPTY_GETPOST, K_ABOUT);
        s.refJ = flat(`"${C.courseUrl}/about"`);
      } else if (o.byStaff) {
        this.request(s.t, `${C.pathPrefix}/instructor`, EMPTY_GETPOST, K_INSTRUCTOR);
      } else {
        this.nonCourse(s, '/dashboard');
      }
      return;
    }
    if (s.steps === 1) {
      const t = s.t;
      const L = o.learner;
      const et = o.op === OP_ACTIVATE ? 'edx.course.enrollment.activated' : o.op === OP_DEACTIVATE ? 'edx.course.enrollment.deactivated' : 'edx.course.enrollment.mode_changed';
      const k = o.op === OP_ACTIVATE ? K_ENR_ACT : o.op === OP_DEACTIVATE ? K_ENR_DEACT : K_ENR_MODE;
      let path = '/change_enrollment';
      if (o.byStaff) path = `${C.pathPrefix}/instructor/api/students_update_enrollment`;
      else if (o.op === OP_MODE) path = `/verify_student/create_order`;
      if (!o.byStaff && !this.requestNoCourse(t, path, `{"POST": {"course_id": [${C.jId}], "enrollment_action": ["${o.op === OP_DEACTIVATE ? 'unenroll' : 'enroll'}"]}, "GET": {}}`)) return;
      const uid = rng.chance(0.05) ? `"${L.userId}"` : String(L.userId); // a few string user_ids, as seen in real logs
      this.semantic(this.after(t, 300), et, path, `{"course_id": ${C.jId}, "user_id": ${uid}, "mode": "${o.mode}"}`, k);
      return;
    }
    if (o.op === OP_ACTIVATE && rng.chance(0.7)) {
      const seq = C.sequentials[0]!;
      this.request(s.t, seq.path, EMPTY_GETPOST, K_COURSEWARE);
    } else {
      this.nonCourse(s, '/dashboard');
    }
  }

  /** A server request with empty context.course_id (e.g. POST /change_enrollment): no course. */
  private requestNoCourse(t: number, url: string, ev: string): boolean {
    const s = this.s;
    const ts = this.ts(t);
    return this.out(`{${s.uS}, "event_type": "${url}", ${s.sMid}"referer": ${s.refJ}, ${s.alF}"event": ${ev}, "event_source": "server", "context": {"course_user_tags": {}, "user_id": ${s.uidJ}, "org_id": "", "course_id": "", "path": "${url}"}, "time": "${ts}", "page": null}`, -1, url, K_NONCOURSE);
  }

  private staffStep(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const r = rng.next();
    if (r < 0.4) this.request(s.t, `${C.pathPrefix}/instructor`, EMPTY_GETPOST, K_INSTRUCTOR);
    else if (r < 0.6) this.request(s.t, `${C.pathPrefix}/instructor/api/list_forum_members`, '{"POST": {}, "GET": {"rolename": ["Community TA"]}}', K_INSTRUCTOR);
    else if (r < 0.8) this.request(s.t, `${C.pathPrefix}/instructor/api/get_students_features/csv`, EMPTY_GETPOST, K_INSTRUCTOR);
    else this.learnerStep(s);
  }

  private mobileStep(s: Session): void {
    const rng = this.rng;
    const C = s.C;
    const L = s.L;
    const r = rng.next();
    if (s.steps === 0 || r < 0.12) {
      const t = s.t;
      if (rng.chance(0.5)) {
        this.requestNoCourse(t, rng.chance(0.5) ? `/api/mobile/v0.5/users/${L.urlName}/course_enrollments/` : '/api/mobile/v0.5/my_user_info', EMPTY_GETPOST);
      } else {
        this.request(t, `/api/mobile/v0.5/video_outlines/courses/${C.id}`, EMPTY_GETPOST, K_M_API);
      }
      return;
    }
    if (s.video === null || rng.chance(0.1)) {
      s.video = rng.pick(C.videos);
      s.vpos = 0;
    }
    const v = s.video;
    s.vpos = Math.min(v.duration, s.vpos + rng.next() * 60);
    const ct = num(s.vpos);
    let et: string;
    let ev: string;
    const x = rng.next();
    if (x < 0.4) {
      et = 'edx.video.played';
      ev = `{"code": "mobile", "id": "${v.key}", "currentTime": ${ct}}`;
    } else if (x < 0.75) {
      et = 'edx.video.paused';
      ev = `{"code": "mobile", "id": "${v.key}", "currentTime": ${ct}}`;
    } else if (x < 0.85) {
      et = 'edx.video.position.changed';
      const nt = Math.max(0, s.vpos - 30);
      ev = `{"code": "mobile", "id": "${v.key}", "old_time": ${ct}, "new_time": ${num(nt)}, "type": "onSkipSeek", "requested_skip_interval": -30}`;
      s.vpos = nt;
    } else if (x < 0.92) {
      et = 'edx.video.loaded';
      ev = `{"code": "mobile", "id": "${v.key}"}`;
    } else if (x < 0.97) {
      et = 'edx.video.transcript.shown';
      ev = `{"code": "mobile", "id": "${v.key}", "currentTime": ${ct}, "language": "${L.transcriptLang || 'en'}"}`;
    } else {
      et = 'edx.video.stopped';
      ev = `{"code": "mobile", "id": "${v.key}", "currentTime": ${ct}}`;
    }
    const ts = this.ts(s.t);
    const rec = this.clock.naive(Math.min(DAY_US - 1, s.t + 1_500_000));
    const ctx = `"context": {"course_id": ${C.jId}, "user_id": ${s.uidJ}, "org_id": ${C.jOrg}, "path": "/segmentio/event", ${L.mobileCtx}, "received_at": "${rec}", "component": "videoplayer", "open_in_browser_url": "${C.courseUrl}/jump_to/${v.key}"}`;
    this.out(`{${s.uB}, "event_source": "mobile", "name": "${et}", "time": "${ts}", "agent": ${s.agentJ}, "page": null, "host": "${HOST}", "session": "", ${ctx}, "ip": ${s.ipJ}, "event": ${ev}, "event_type": "${et}"}`, C.index, et, K_M_VIDEO);
  }
}

const EMPTY_GETPOST = '{"POST": {}, "GET": {}}';
const EMPTY_GETPOST_STR = '"{\\"POST\\": {}, \\"GET\\": {}}"';

const A_NAV = 0, A_VIDEO = 1, A_PROBLEM = 2, A_FORUM = 3, A_PROGRESS = 4, A_INFO = 5, A_TRANSCRIPT = 6, A_XSTATE = 7, A_NONCOURSE = 8, A_LEGACY = 9, A_NULL = 10;
const ACTIONS = new Weighted(
  [A_NAV, A_VIDEO, A_PROBLEM, A_FORUM, A_PROGRESS, A_INFO, A_TRANSCRIPT, A_XSTATE, A_NONCOURSE, A_LEGACY, A_NULL],
  [20, 34, 5, 5, 2.5, 3, 2.5, 5, 1.5, 1.0, 0.25],
);
const HOURS = new Weighted(
  Array.from({ length: 24 }, (_, h) => h),
  Array.from({ length: 24 }, (_, h) => 0.45 + 0.55 * Math.max(0, Math.sin(((h - 8) / 24) * 2 * Math.PI)) + (h === 23 || h === 0 ? 0.2 : 0)),
);

class SessionHeap {
  private a: Session[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Session {
    return this.a[0]!;
  }
  push(s: Session): void {
    const a = this.a;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.t <= s.t) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = s;
  }
  pop(): Session {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && a[r]!.t < a[l]!.t ? r : l;
        if (a[c]!.t >= last.t) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
