/**
 * The sample-data generator (scripts/generate-logs.ts): determinism, event shapes, and truth.json
 * checked against an independent re-count (gunzip + JSON.parse + a small course-rule
 * implementation written here, not the project's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateLogs, type Truth } from '../scripts/generate-logs.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- independent re-count
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Microseconds since the epoch, or null (spec §1.4). */
function parseTime(s: unknown): number | null {
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
// `/courses/course-v1:O+N+R/` (converted) or `/courses/A/B/C/`; the opaque form wins at a position.
const COURSE_IN_URL = /\/courses\/(?:course-v1:([^/+]+)\+([^/+]+)\+([^/+]+)\/|([^/]+)\/([^/]+)\/([^/]+)\/)/;
function fromUrl(m: RegExpExecArray | null): string {
  if (!m) return '';
  return m[1] !== undefined ? `${m[1]}/${m[2]}/${m[3]}` : `${m[4]}/${m[5]}/${m[6]}`;
}

/** The course rule of the brief (REC of spec §2), as [course, guessed]. */
function courseOf(ev: Obj): [string, boolean] {
  const ctx = ev['context'];
  const cid = isObj(ctx) ? ctx['course_id'] : undefined;
  if (typeof cid === 'string' && cid !== '') return [toSlash(cid), false];
  if (ev['event_source'] === 'browser') {
    const page = typeof ev['page'] === 'string' ? ev['page'] : '';
    const m = /^https*:\/\/[^/]+(\/courses\/.*)$/.exec(page);
    return [m ? fromUrl(COURSE_IN_URL.exec(m[1]!)) : '', true];
  }
  const et = typeof ev['event_type'] === 'string' ? ev['event_type'] : '';
  return [fromUrl(COURSE_IN_URL.exec(et)), true];
}

interface Recount {
  lines: number;
  events: number;
  malformed: Record<string, number>;
  unknown: number;
  guessed: number;
  anonymous: number;
  syslogLines: number;
  perCourse: Record<string, number>;
  baseEvents: Record<string, number>;
  valid: Obj[];
  raw: string[]; // text of valid lines (after the syslog strip)
  outsideDay: number;
  lengths: number[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function recount(gz: Buffer, date: string): Recount {
  const buf = gunzipSync(gz);
  const r: Recount = { lines: 0, events: 0, malformed: {}, unknown: 0, guessed: 0, anonymous: 0, syslogLines: 0, perCourse: {}, baseEvents: {}, valid: [], raw: [], outsideDay: 0, lengths: [] };
  const bad = (k: string) => (r.malformed[k] = (r.malformed[k] ?? 0) + 1);
  const dayStart = Date.parse(date + 'T00:00:00Z') * 1000;
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length; // (an unterminated last line would be counted too)
    const bytes = buf.subarray(start, end);
    start = end + 1;
    r.lines++;
    r.lengths.push(bytes.length + 1);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      bad('invalidUtf8');
      continue;
    }
    let s = text.trim();
    if (s === '') {
      bad('empty');
      continue;
    }
    let syslog = false;
    if (!s.startsWith('{') && s.slice(0, 27).includes('localhost {')) {
      s = s.slice(26);
      syslog = true;
    }
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      bad(s.startsWith('{') ? 'truncated' : 'garbage');
      continue;
    }
    if (Array.isArray(v)) {
      bad('array');
      continue;
    }
    if (typeof v === 'number') {
      bad('number');
      continue;
    }
    if (!isObj(v)) {
      bad('otherNonObject');
      continue;
    }
    if (!('time' in v)) {
      bad('missingTime');
      continue;
    }
    const t = parseTime(v['time']);
    if (t === null) {
      bad('badTime');
      continue;
    }
    r.events++;
    if (syslog) r.syslogLines++;
    if (t < dayStart || t >= dayStart + 86_400_000_000) r.outsideDay++;
    r.valid.push(v);
    r.raw.push(s);
    const [course, guessed] = courseOf(v);
    const username = v['username'];
    if (username === '') r.anonymous++;
    if (course === '') {
      r.unknown++;
      continue;
    }
    if (guessed) r.guessed++;
    r.perCourse[course] = (r.perCourse[course] ?? 0) + 1;
    const et = typeof v['event_type'] === 'string' ? v['event_type'] : '';
    if (typeof username === 'string' && username !== '' && !et.includes('/xblock/')) r.baseEvents[course] = (r.baseEvents[course] ?? 0) + 1;
  }
  return r;
}

const nonZero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, n]) => n !== 0));

async function filesOf(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.log.gz')).sort();
}

// ---------------------------------------------------------------- fixtures
let root = '';
const dir = (name: string) => join(root, name);
const SMALL = { courses: 4, learners: 60, days: 2, start: '2015-03-01', eventsPerDay: 2500, seed: 7, malformedRate: 0.01 };
let truthA: Truth;
let truthRich: Truth;
const recounts = new Map<string, Recount>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'edx2bq-gen-'));
  truthA = await generateLogs({ out: dir('a'), ...SMALL });
  truthRich = await generateLogs({ out: dir('rich'), courses: 6, learners: 400, days: 1, start: '2015-06-30', eventsPerDay: 25_000, seed: 3, malformedRate: 0.002 });
  for (const name of await filesOf(dir('rich'))) {
    recounts.set(name, recount(await readFile(join(dir('rich'), name)), truthRich.files[name]!.date));
  }
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('generateLogs: files and determinism', () => {
  it('writes the requested days, courses and learners', async () => {
    expect(await filesOf(dir('a'))).toEqual(['mitx-edx-events-2015-03-01.log.gz', 'mitx-edx-events-2015-03-02.log.gz']);
    expect(Object.keys(truthA.files)).toEqual(['mitx-edx-events-2015-03-01.log.gz', 'mitx-edx-events-2015-03-02.log.gz']);
    expect(truthA.courses).toHaveLength(4);
    expect(truthA.courses.map((c) => c.form)).toEqual(['slash', 'opaque', 'slash', 'opaque']);
    for (const c of truthA.courses) {
      if (c.form === 'slash') expect(c.id).toBe(c.slashId);
      else expect(c.id).toBe(`course-v1:${c.slashId.replaceAll('/', '+')}`);
      expect(c.slashId).toMatch(/^[^/]+\/[^/]+\/[^/]+$/);
      expect(c.problems.length).toBeGreaterThan(0);
      expect(c.videos.length).toBeGreaterThan(0);
      for (const p of c.problems) expect(p).toMatch(c.form === 'slash' ? /^i4x:\/\/[^/]+\/[^/]+\/problem\/[^/]+$/ : /^block-v1:[^+]+\+[^+]+\+[^+]+\+type@problem\+block@\w+$/);
    }
    expect(truthA.learners).toBe(60);
    expect(truthA.seed).toBe(7);
    const onDisk = JSON.parse(await readFile(join(dir('a'), 'truth.json'), 'utf8')) as Truth;
    expect(onDisk).toEqual(truthA);
    for (const f of Object.values(truthA.files)) expect(f.events).toBe(2500); // exact per day
  });

  it('same seed → byte-identical files; another seed → different files', async () => {
    await generateLogs({ out: dir('a2'), ...SMALL });
    await generateLogs({ out: dir('b'), ...SMALL, seed: 8 });
    for (const name of await filesOf(dir('a'))) {
      const a = await readFile(join(dir('a'), name));
      expect((await readFile(join(dir('a2'), name))).equals(a)).toBe(true);
      expect((await readFile(join(dir('b'), name))).equals(a)).toBe(false);
    }
    expect(await readFile(join(dir('a2'), 'truth.json'), 'utf8')).toBe(await readFile(join(dir('a'), 'truth.json'), 'utf8'));
  });

  it('a day does not depend on how many days follow it', async () => {
    await generateLogs({ out: dir('a1'), ...SMALL, days: 1 });
    const name = 'mitx-edx-events-2015-03-01.log.gz';
    expect((await readFile(join(dir('a1'), name))).equals(await readFile(join(dir('a'), name)))).toBe(true);
  });

  it('honours --org and the start date in file names', async () => {
    const t = await generateLogs({ out: dir('org'), courses: 1, learners: 5, days: 1, start: '2014-12-31', eventsPerDay: 50, org: 'harvardx' });
    expect(Object.keys(t.files)).toEqual(['harvardx-edx-events-2014-12-31.log.gz']);
    expect(t.courses[0]!.slashId.startsWith('HarvardX/')).toBe(true);
  });
});

describe('truth.json equals an independent re-count', () => {
  it('small run (2 days, malformed 1%)', async () => {
    for (const [name, f] of Object.entries(truthA.files)) {
      const r = recount(await readFile(join(dir('a'), name)), f.date);
      expect(r.lines).toBe(f.lines);
      expect(r.events).toBe(f.events);
      expect(r.malformed).toEqual(nonZero(f.malformed));
      expect(f.rejects).toBe(Object.values(f.malformed).reduce((a, b) => a + b, 0));
      expect(r.lines).toBe(f.events + f.rejects);
      expect(r.unknown).toBe(f.unknown);
      expect(r.guessed).toBe(f.guessed);
      expect(r.anonymous).toBe(f.anonymous);
      expect(r.syslogLines).toBe(f.syslogLines);
      expect(r.perCourse).toEqual(nonZero(f.perCourse));
      expect(r.baseEvents).toEqual(nonZero(f.baseEvents));
      expect(f.events - f.unknown).toBe(Object.values(f.perCourse).reduce((a, b) => a + b, 0));
      expect(r.outsideDay).toBe(0); // every valid instant lies inside the file's UTC date
      expect(Object.values(f.timeForms).reduce((a, b) => a + b, 0)).toBe(f.events);
      expect(Object.values(f.kinds).reduce((a, b) => a + b, 0)).toBe(f.events);
    }
  });

  it('larger run (6 courses, 25k events)', () => {
    for (const [name, f] of Object.entries(truthRich.files)) {
      const r = recounts.get(name)!;
      expect(r.lines).toBe(f.lines);
      expect(r.events).toBe(f.events);
      expect(r.malformed).toEqual(nonZero(f.malformed));
      expect(r.unknown).toBe(f.unknown);
      expect(r.guessed).toBe(f.guessed);
      expect(r.anonymous).toBe(f.anonymous);
      expect(r.perCourse).toEqual(nonZero(f.perCourse));
      expect(r.baseEvents).toEqual(nonZero(f.baseEvents));
      expect(r.outsideDay).toBe(0);
      // every course id seen belongs to the world
      const known = new Set(truthRich.courses.map((c) => c.slashId));
      for (const c of Object.keys(r.perCourse)) expect(known.has(c)).toBe(true);
    }
  });

  it('every malformed kind appears at a high rate, and each is counted', async () => {
    const t = await generateLogs({ out: dir('bad'), courses: 2, learners: 30, days: 1, eventsPerDay: 800, seed: 5, malformedRate: 0.3 });
    const [name, f] = Object.entries(t.files)[0]!;
    for (const k of ['truncated', 'garbage', 'array', 'number', 'badTime', 'missingTime', 'empty', 'invalidUtf8']) expect(f.malformed[k]).toBeGreaterThan(0);
    const r = recount(await readFile(join(dir('bad'), name)), f.date);
    expect(r.malformed).toEqual(nonZero(f.malformed));
    expect(r.events).toBe(800);
    expect(r.lines).toBe(f.lines);
    expect(r.perCourse).toEqual(nonZero(f.perCourse));
  });

  it('malformed rate 0 → no malformed lines', async () => {
    const t = await generateLogs({ out: dir('clean'), courses: 2, learners: 20, days: 1, eventsPerDay: 500, seed: 2, malformedRate: 0 });
    const f = Object.values(t.files)[0]!;
    expect(f.rejects).toBe(0);
    expect(f.lines).toBe(500);
  });
});

describe('event shapes (25k-event day)', () => {
  const all = () => [...recounts.values()].flatMap((r) => r.valid);
  const raws = () => [...recounts.values()].flatMap((r) => r.raw);
  const ofType = (t: string) => all().filter((e) => e['event_type'] === t);
  const ctx = (e: Obj): Obj => (isObj(e['context']) ? e['context'] : {});

  it('every valid line is a JSON object with the expected fields', () => {
    const problems: string[] = [];
    const check = (ok: boolean, what: string, e: Obj) => {
      if (!ok && problems.length < 5) problems.push(`${what}: ${JSON.stringify(e).slice(0, 300)}`);
    };
    for (const e of all()) {
      check(typeof e['username'] === 'string', 'username', e);
      check(typeof e['event_type'] === 'string' && e['event_type'] !== '', 'event_type', e);
      check(['browser', 'server', 'mobile'].includes(String(e['event_source'])), 'event_source', e);
      check(typeof e['time'] === 'string', 'time', e);
      check('event' in e, 'event', e);
      for (const k of ['ip', 'agent', 'host']) check(typeof e[k] === 'string', k, e);
      check(!('context' in e) || isObj(e['context']), 'context', e);
      if (e['event_source'] === 'browser') check(typeof e['event'] === 'string' && typeof e['page'] === 'string', 'browser event/page', e);
      if (e['event_source'] === 'mobile') check(isObj(e['event']), 'mobile event', e);
      if (e['event_source'] === 'server') check(e['page'] === null || e['page'] === 'x_module', 'server page', e);
    }
    expect(problems).toEqual([]);
  });

  it('has server page views, xblock handlers in both key forms, progress and non-course URLs', () => {
    const types = all().map((e) => String(e['event_type']));
    expect(types.some((t) => /^\/courses\/[^/]+\/[^/]+\/[^/]+\/courseware\/[^/]+\/[^/]+\/$/.test(t))).toBe(true);
    expect(types.some((t) => /^\/courses\/course-v1:[^/]+\/courseware\/[^/]+\/[^/]+\/$/.test(t))).toBe(true);
    expect(types.some((t) => /^\/courses\/course-v1:[^/]+\/xblock\/block-v1:[^/]+\+type@problem\+block@\w+\/handler\/xmodule_handler\/problem_check$/.test(t))).toBe(true);
    expect(types.some((t) => /^\/courses\/[^/]+\/[^/]+\/[^/]+\/xblock\/i4x:;_;_[^/]+;_problem;_[^/]+\/handler\/xmodule_handler\/problem_check$/.test(t))).toBe(true);
    expect(types.some((t) => /\/progress$/.test(t))).toBe(true);
    expect(types).toContain('/dashboard');
    const pv = all().find((e) => /\/courseware\/.+\/$/.test(String(e['event_type'])) && e['event_source'] === 'server')!;
    expect(pv['event']).toEqual({ POST: {}, GET: {} });
  });

  it('has browser video events with JSON-string payloads', () => {
    for (const t of ['play_video', 'pause_video', 'seek_video', 'speed_change_video', 'show_transcript', 'hide_transcript', 'seq_goto', 'seq_next', 'page_close']) {
      expect(ofType(t).length, t).toBeGreaterThan(0);
    }
    const play = ofType('play_video').map((e) => JSON.parse(String(e['event'])) as Obj);
    expect(play.every((p) => typeof p['id'] === 'string' && typeof p['currentTime'] === 'number' && typeof p['code'] === 'string')).toBe(true);
    expect(play.some((p) => typeof p['speed'] === 'string')).toBe(true);
    const seek = ofType('seek_video').map((e) => JSON.parse(String(e['event'])) as Obj);
    expect(seek.every((p) => typeof p['old_time'] === 'number' && typeof p['new_time'] === 'number')).toBe(true);
    const seq = ofType('seq_goto').map((e) => JSON.parse(String(e['event'])) as Obj);
    expect(seq.every((p) => typeof p['old'] === 'number' && typeof p['new'] === 'number' && typeof p['id'] === 'string')).toBe(true);
  });

  it('has problem_check from the browser (query string) and the server (graded state)', () => {
    const b = ofType('problem_check').filter((e) => e['event_source'] === 'browser');
    const decoded = b.map((e) => {
      try {
        return JSON.parse(String(e['event'])) as unknown;
      } catch {
        return String(e['event']);
      }
    });
    expect(decoded.some((d) => typeof d === 'string' && d.startsWith('input_') && String(b[decoded.indexOf(d)]!['event']).startsWith('"'))).toBe(true);
    expect(b.some((e) => String(e['event']).startsWith('input_'))).toBe(true); // the older, unquoted form
    const s = ofType('problem_check').filter((e) => e['event_source'] === 'server');
    expect(s.length).toBeGreaterThan(0);
    for (const e of s) {
      const ev = e['event'] as Obj;
      for (const k of ['answers', 'attempts', 'success', 'grade', 'max_grade', 'state', 'correct_map']) expect(ev, k).toHaveProperty(k);
      expect(String(ctx(e)['path'])).toMatch(/problem_check$/);
    }
    expect(ofType('showanswer').length + ofType('show_answer').length).toBeGreaterThan(0);
  });

  it('has transcript translations in several languages and transcript downloads', () => {
    const langs = new Set(all().map((e) => /\/handler\/transcript\/translation\/(\w+)$/.exec(String(e['event_type']))?.[1]).filter(Boolean));
    expect(langs.size).toBeGreaterThan(2);
    const dl = ofType('edx.ui.lms.link_clicked').map((e) => JSON.parse(String(e['event'])) as Obj);
    expect(dl.length).toBeGreaterThan(0);
    expect(dl.every((d) => String(d['target_url']).includes('handler/transcript/download'))).toBe(true);
  });

  it('has mobile, forum and enrollment events', () => {
    const mobile = all().filter((e) => e['event_source'] === 'mobile');
    expect(mobile.length).toBeGreaterThan(0);
    expect(mobile.every((e) => String(e['event_type']).startsWith('edx.video.') && isObj(ctx(e)['application']) && isObj(ctx(e)['client']))).toBe(true);
    const types = all().map((e) => String(e['event_type']));
    expect(types.some((t) => /\/discussion\/threads\/[^/]+\/reply$/.test(t))).toBe(true);
    expect(types.some((t) => /\/discussion\/forum\/[^/]+\/threads\/[^/]+$/.test(t))).toBe(true);
    expect(types.some((t) => /\/discussion\/comments\/[^/]+\/upvote$/.test(t))).toBe(true);
    for (const t of ['edx.forum.thread.created', 'edx.forum.response.created', 'edx.forum.searched']) expect(ofType(t).length, t).toBeGreaterThan(0);
    const enr = all().filter((e) => String(e['event_type']).startsWith('edx.course.enrollment.'));
    expect(new Set(enr.map((e) => e['event_type']))).toEqual(new Set(['edx.course.enrollment.activated', 'edx.course.enrollment.deactivated', 'edx.course.enrollment.mode_changed']));
    for (const e of enr) {
      const ev = e['event'] as Obj;
      expect(e['event_source']).toBe('server');
      expect(ev['course_id']).toBe(ctx(e)['course_id']);
      expect(['honor', 'audit', 'verified']).toContain(ev['mode']);
    }
    expect(enr.some((e) => String((e['event'] as Obj)['course_id']).startsWith('course-v1:'))).toBe(true);
  });

  it('has anonymous, null-course, guessed-course and non-course events', () => {
    const f = Object.values(truthRich.files)[0]!;
    expect(f.anonymous).toBeGreaterThan(0);
    expect(f.unknown).toBeGreaterThan(0);
    expect(f.guessed).toBeGreaterThan(0);
    expect(all().some((e) => e['username'] === '' && /\/about$/.test(String(e['event_type'])))).toBe(true);
    expect(all().some((e) => ctx(e)['course_id'] === null)).toBe(true);
    expect(all().some((e) => !('context' in e))).toBe(true);
    const guessedB = all().filter((e) => e['event_source'] === 'browser' && !ctx(e)['course_id'] && courseOf(e)[0] !== '');
    expect(guessedB.some((e) => String(e['page']).includes('/courses/course-v1:'))).toBe(true);
    expect(guessedB.some((e) => !String(e['page']).includes('/courses/course-v1:'))).toBe(true);
    expect(all().some((e) => e['event_source'] === 'server' && ctx(e)['course_id'] === '' && courseOf(e)[0] !== '')).toBe(true);
  });

  it('has every time form, syslog prefixes, non-ASCII text and referer/accept_language', () => {
    const times = all().map((e) => String(e['time']));
    expect(times.some((t) => /\.\d{6}\+00:00$/.test(t))).toBe(true);
    expect(times.some((t) => /:\d{2}\+00:00$/.test(t))).toBe(true);
    expect(times.some((t) => /Z$/.test(t))).toBe(true);
    expect(times.some((t) => /\.\d{6}$/.test(t))).toBe(true);
    expect(times.some((t) => /[+-](?!00:00)\d{2}:\d{2}$/.test(t))).toBe(true);
    expect(Object.values(truthRich.files)[0]!.syslogLines).toBeGreaterThan(0);
    const names = all().map((e) => String(e['username']));
    expect(names.some((n) => /[^\x00-\x7f]/.test(n))).toBe(true);
    const r = raws();
    expect(r.some((l) => /"username": "[^"]*[^\x00-\x7f]/.test(l))).toBe(true); // raw UTF-8
    expect(r.some((l) => /"username": "[^"]*\\u[0-9a-f]{4}/.test(l))).toBe(true); // \u-escaped
    expect(all().some((e) => typeof e['referer'] === 'string' && typeof e['accept_language'] === 'string')).toBe(true);
    expect(ofType('edx.forum.thread.created').some((e) => /[^\x00-\x7f]/.test(String((e['event'] as Obj)['body'])))).toBe(true);
  });

  it('has realistic sessions: gaps under and over 300 s, simultaneous events, activity near midnight', () => {
    const byUser = new Map<string, number[]>();
    const dayStart = Date.parse('2015-06-30T00:00:00Z') * 1000;
    for (const e of all()) {
      const u = String(e['username']);
      if (!u) continue;
      const t = parseTime(e['time'])!;
      let a = byUser.get(u);
      if (!a) byUser.set(u, (a = []));
      a.push(t);
    }
    let small = 0, big = 0, zero = 0;
    for (const a of byUser.values()) {
      a.sort((x, y) => x - y);
      for (let i = 1; i < a.length; i++) {
        const dt = a[i]! - a[i - 1]!;
        if (dt === 0) zero++;
        else if (dt <= 300e6) small++;
        else big++;
      }
    }
    expect(small).toBeGreaterThan(big);
    expect(big).toBeGreaterThan(0);
    expect(zero).toBeGreaterThan(0); // simultaneous browser + server events
    const ts = all().map((e) => parseTime(e['time'])! - dayStart);
    expect(ts.some((t) => t < 300e6)).toBe(true);
    expect(ts.some((t) => t > 86_100e6)).toBe(true);
  });

  it('line sizes: typically 400 B to 3 KB, some larger server events', () => {
    const lens = [...recounts.values()].flatMap((r) => r.lengths).sort((a, b) => a - b);
    const q = (p: number) => lens[Math.floor(p * (lens.length - 1))]!;
    expect(q(0.05)).toBeGreaterThan(400);
    expect(q(0.95)).toBeLessThan(3000);
    expect(lens[lens.length - 1]!).toBeGreaterThan(2500);
  });
});

describe('CLI', () => {
  it('runs and writes the files', async () => {
    const out = dir('cli');
    const script = join(import.meta.dirname, '..', 'scripts', 'generate-logs.ts');
    execFileSync(process.execPath, [script, '--out', out, '--courses', '2', '--learners', '10', '--days', '2', '--events-per-day', '200', '--seed', '4', '--quiet'], { stdio: 'pipe' });
    expect(await filesOf(out)).toHaveLength(2);
    const t = JSON.parse(await readFile(join(out, 'truth.json'), 'utf8')) as Truth;
    expect(t.seed).toBe(4);
    expect(Object.values(t.files).map((f) => f.events)).toEqual([200, 200]);
  });

  it('rejects bad arguments', () => {
    const script = join(import.meta.dirname, '..', 'scripts', 'generate-logs.ts');
    expect(spawnSync(process.execPath, [script], { stdio: 'pipe' }).status).toBe(2);
    expect(spawnSync(process.execPath, [script, '--out', dir('x'), '--bogus'], { stdio: 'pipe' }).status).toBe(2);
    expect(spawnSync(process.execPath, [script, '--out', dir('x'), '--courses', 'abc'], { stdio: 'pipe' }).status).toBe(1);
  });
});
