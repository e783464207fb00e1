/**
 * The facts one pass over the logs keeps per course: everything the per-learner tables need, in
 * compact columns (typed arrays + one interned string table), never event objects.
 *
 * - base events (spec §5.1): learner, time, flags (the person_course_day counters and the
 *   time_on_task categories of §6.1) — kept per event, so the gap statistics and times on task
 *   are exact whatever chunk, worker or file an event came from;
 * - IP counts (§9.1): per (learner, IP, UTC day), already summed;
 * - video events (§7.2): learner, video, time, type, position, speed;
 * - the rare rows of forum_events, problem_check, show_answer, enrollment_events and the
 *   transcript candidates of §9.4, as small records.
 *
 * Workers build one `CourseFacts` per course per chunk; the main thread merges them per input
 * (`FactsBuilder.merge`, which re-interns the strings) and stores each input's facts next to its
 * parts, so a day can be recomputed from all inputs that hold events of it.
 */
import { MICROS_PER_DAY } from '../events/time.ts';
import type { JsonObject } from '../events/types.ts';
import { baseEventFlags, courseUrlPrefixes, isBaseEvent, type CourseUrlPrefixes } from './pcdayEvent.ts';
import {
  enrollmentRow, EVENT_KIND, eventKind, forumRow, problemCheckRow, showAnswerRow, transcriptRow, videoRecord,
  type EnrollmentRow, type ForumRow, type ProblemCheckRow, type TranscriptRow,
} from './eventRows.ts';

/** String index meaning "null". */
export const NULL_STRING = 0xffffffff;

export const VIDEO_TYPES = ['play', 'pause', 'stop', 'seek'] as const;
export type VideoType = (typeof VIDEO_TYPES)[number];

/** Who and when, for the rare-event rows (usernames are not filtered there, spec §8). */
export interface EventStamp {
  username: string | null;
  timeUs: number;
}

export interface CourseFacts {
  course: string;
  /** The UTC days (since the epoch) of its events, ascending. */
  days: number[];
  strings: string[];
  /** flags: PCDAY_FLAG counters | TASK_FLAG categories (pcdayEvent.ts). */
  base: { user: Uint32Array; time: Float64Array; flags: Uint16Array };
  ip: { user: Uint32Array; ip: Uint32Array; day: Int32Array; count: Uint32Array };
  /** position and speed are NaN when absent. */
  video: { user: Uint32Array; video: Uint32Array; time: Float64Array; type: Uint8Array; position: Float64Array; speed: Float64Array };
  forum: Array<EventStamp & ForumRow>;
  problemCheck: Array<EventStamp & ProblemCheckRow>;
  showAnswer: Array<EventStamp & { module_id: string | null }>;
  enrollment: Array<EventStamp & EnrollmentRow>;
  transcript: Array<EventStamp & TranscriptRow>;
}

/**
 * A growable column of numbers, handed out as a typed array. Values collect in a plain JS array:
 * one `push` call site feeding typed arrays of five element types was megamorphic (measured
 * ~0.3 µs per event in split with aggregates); V8's own array push stays fast, and `done()`
 * copies once into the typed array (same conversion as storing into it element by element).
 */
export class Column<T extends Uint32Array | Float64Array | Uint16Array | Uint8Array | Int32Array> {
  private readonly values: number[] = [];
  private readonly make: (n: number) => T;
  constructor(make: (n: number) => T) {
    this.make = make;
  }
  push(v: number): void {
    this.values.push(v);
  }
  done(): T {
    const d = this.make(this.values.length);
    d.set(this.values);
    return d;
  }
}
const makeU32 = (n: number) => new Uint32Array(n);
const makeF64 = (n: number) => new Float64Array(n);
const makeU16 = (n: number) => new Uint16Array(n);
const makeU8 = (n: number) => new Uint8Array(n);
const makeI32 = (n: number) => new Int32Array(n);
const u32 = () => new Column(makeU32);
export const f64 = () => new Column(makeF64);

/** URL prefixes per course, computed once per worker (builders are made per chunk). */
const prefixCache = new Map<string, CourseUrlPrefixes>();
function prefixesOf(course: string): CourseUrlPrefixes {
  let p = prefixCache.get(course);
  if (p === undefined) {
    if (prefixCache.size > 10_000) prefixCache.clear();
    prefixCache.set(course, (p = courseUrlPrefixes(course)));
  }
  return p;
}

/** Collects one course's facts; also merges facts built elsewhere (other chunks, other inputs). */
export class FactsBuilder {
  readonly course: string;
  readonly prefixes: CourseUrlPrefixes;
  private readonly strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();
  private readonly base = { user: u32(), time: f64(), flags: new Column(makeU16) };
  /** day → (user × 2^22 + ip) → count; ip NULL_STRING maps to 2^22 − 1. */
  private readonly ip = new Map<number, Map<number, number>>();
  private readonly video = { user: u32(), video: u32(), time: f64(), type: new Column(makeU8), position: f64(), speed: f64() };
  readonly forum: CourseFacts['forum'] = [];
  readonly problemCheck: CourseFacts['problemCheck'] = [];
  readonly showAnswer: CourseFacts['showAnswer'] = [];
  readonly enrollment: CourseFacts['enrollment'] = [];
  readonly transcript: CourseFacts['transcript'] = [];
  /** UTC days (since the epoch) with any fact. */
  private readonly days = new Set<number>();
  private lastDay = NaN;
  /** Events of the course counted through `FactsByCourse.counted` (the aggregate-only task's per-course counts). */
  eventCount = 0;

  constructor(course: string) {
    this.course = course;
    this.prefixes = prefixesOf(course);
  }

  intern(s: string | null): number {
    if (s === null) return NULL_STRING;
    // a learner's events come in runs, each interning its username and its IP: the last two
    // strings answer most calls without hashing the string for the map
    if (s === this.recent0) return this.recentIndex0;
    if (s === this.recent1) return this.recentIndex1;
    let i = this.stringIndex.get(s);
    if (i === undefined) {
      i = this.strings.length;
      if (i >= IP_NULL) throw new Error(`more than ${IP_NULL} distinct strings in one course's facts`);
      this.strings.push(s);
      this.stringIndex.set(s, i);
    }
    this.recent1 = this.recent0;
    this.recentIndex1 = this.recentIndex0;
    this.recent0 = s;
    this.recentIndex0 = i;
    return i;
  }
  private recent0: string | null = null;
  private recentIndex0 = 0;
  private recent1: string | null = null;
  private recentIndex1 = 0;

  addDay(day: number): void {
    // called per event: a chunk's events nearly all share one or two days
    if (day === this.lastDay) return;
    this.lastDay = day;
    this.days.add(day);
  }

  addBase(user: number, timeUs: number, flags: number): void {
    this.base.user.push(user);
    this.base.time.push(timeUs);
    this.base.flags.push(flags);
  }

  addIp(user: number, ip: number, day: number, count = 1): void {
    let m = this.ip.get(day);
    if (m === undefined) this.ip.set(day, (m = new Map()));
    const key = user * IP_SPAN + (ip === NULL_STRING ? IP_NULL : ip);
    m.set(key, (m.get(key) ?? 0) + count);
  }

  addVideo(user: number, video: number, timeUs: number, type: number, position: number, speed: number): void {
    const v = this.video;
    v.user.push(user);
    v.video.push(video);
    v.time.push(timeUs);
    v.type.push(type);
    v.position.push(position);
    v.speed.push(speed);
  }

  /** Appends facts built elsewhere, re-interning their strings into this builder's table. */
  merge(f: CourseFacts): void {
    const map = new Uint32Array(f.strings.length);
    for (let i = 0; i < f.strings.length; i++) map[i] = this.intern(f.strings[i]!);
    const re = (i: number) => (i === NULL_STRING ? NULL_STRING : map[i]!);
    const b = f.base;
    for (let i = 0; i < b.user.length; i++) this.addBase(re(b.user[i]!), b.time[i]!, b.flags[i]!);
    const ip = f.ip;
    for (let i = 0; i < ip.user.length; i++) this.addIp(re(ip.user[i]!), re(ip.ip[i]!), ip.day[i]!, ip.count[i]!);
    const v = f.video;
    for (let i = 0; i < v.user.length; i++) this.addVideo(re(v.user[i]!), re(v.video[i]!), v.time[i]!, v.type[i]!, v.position[i]!, v.speed[i]!);
    this.forum.push(...f.forum);
    this.problemCheck.push(...f.problemCheck);
    this.showAnswer.push(...f.showAnswer);
    this.enrollment.push(...f.enrollment);
    this.transcript.push(...f.transcript);
    for (const d of f.days) this.days.add(d);
  }

  build(): CourseFacts {
    const ipUser = u32();
    const ipIp = u32();
    const ipDay = new Column(makeI32);
    const ipCount = u32();
    for (const day of [...this.ip.keys()].sort((a, b) => a - b)) {
      for (const [key, count] of this.ip.get(day)!) {
        const ip = key % IP_SPAN;
        ipUser.push((key - ip) / IP_SPAN);
        ipIp.push(ip === IP_NULL ? NULL_STRING : ip);
        ipDay.push(day);
        ipCount.push(count);
      }
    }
    const v = this.video;
    return {
      course: this.course,
      days: [...this.days].sort((a, b) => a - b),
      strings: this.strings.slice(),
      base: { user: this.base.user.done(), time: this.base.time.done(), flags: this.base.flags.done() },
      ip: { user: ipUser.done(), ip: ipIp.done(), day: ipDay.done(), count: ipCount.done() },
      video: { user: v.user.done(), video: v.video.done(), time: v.time.done(), type: v.type.done(), position: v.position.done(), speed: v.speed.done() },
      forum: this.forum, problemCheck: this.problemCheck, showAnswer: this.showAnswer, enrollment: this.enrollment, transcript: this.transcript,
    };
  }
}

const IP_SPAN = 2 ** 22;
const IP_NULL = IP_SPAN - 1;

/** The fields of one event the cheap facts need, as plain values (from the raw line or a rewritten row). */
export interface EventCoreValues {
  username: unknown;
  eventType: unknown;
  eventSource: unknown;
  ip: unknown;
}

/** Which compact tables want the event (0: none, so the rewritten row is not needed). */
export { eventKind };

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * Adds one event's facts. `kind` is `eventKind(core.eventType, core.eventSource)`; when it is not
 * 0, `row` (the rewritten event) must be given. The cheap facts (base, IP) come from `core`
 * alone, so the fast path and the full path agree.
 */
export function addEventFacts(b: FactsBuilder, core: EventCoreValues, timeUs: number, kind: number, row: JsonObject | null): void {
  const username = str(core.username);
  const day = Math.floor(timeUs / MICROS_PER_DAY);
  b.addDay(day);
  let user = -1;
  if (username !== null && username !== '') {
    user = b.intern(username);
    b.addIp(user, b.intern(str(core.ip)), day);
    if (isBaseEvent(username, core.eventType)) b.addBase(user, timeUs, baseEventFlags(core.eventType, b.prefixes));
  }
  if (kind === 0 || row === null) return;
  const stamp = { username, timeUs };
  if (kind & EVENT_KIND.video) {
    const v = videoRecord(row);
    if (v !== null) {
      b.addVideo(user >= 0 ? user : b.intern(username), b.intern(v.videoId), timeUs, VIDEO_TYPES.indexOf(v.type), v.position ?? NaN, v.speed ?? NaN);
    }
  }
  if (kind & EVENT_KIND.forum) {
    const r = forumRow(row, b.course);
    if (r !== null) b.forum.push({ ...stamp, ...r });
  }
  if (kind & EVENT_KIND.problemCheck) {
    const r = problemCheckRow(row);
    if (r !== null) b.problemCheck.push({ ...stamp, ...r });
  }
  if (kind & EVENT_KIND.showAnswer) {
    const r = showAnswerRow(row);
    if (r !== null) b.showAnswer.push({ ...stamp, ...r });
  }
  if (kind & EVENT_KIND.enrollment) {
    const r = enrollmentRow(row);
    if (r !== null) b.enrollment.push({ ...stamp, ...r });
  }
  if (kind & EVENT_KIND.transcript) {
    const r = transcriptRow(row);
    if (r !== null) b.transcript.push({ ...stamp, ...r });
  }
}

/** The core values of a rewritten row (the full path). */
export function coreOfRow(row: JsonObject): EventCoreValues {
  return { username: row.username, eventType: row.event_type, eventSource: row.event_source, ip: row.ip };
}

/** Per-course builders of one chunk or input. */
export class FactsByCourse {
  readonly byCourse = new Map<string, FactsBuilder>();
  /** Events that belong to no course (counted, no facts). */
  unknownEvents = 0;
  get(course: string): FactsBuilder {
    let b = this.byCourse.get(course);
    if (b === undefined) this.byCourse.set(course, (b = new FactsBuilder(course)));
    return b;
  }
  /** The course's builder, with one more event counted. */
  counted(course: string): FactsBuilder {
    const b = this.get(course);
    b.eventCount++;
    return b;
  }
  build(): CourseFacts[] {
    return [...this.byCourse.keys()].sort().map((c) => this.byCourse.get(c)!.build());
  }
}
