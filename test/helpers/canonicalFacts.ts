/**
 * Facts batches in a form that ignores what no consumer reads: how they are cut into batches
 * (per chunk, native and JavaScript), the order of strings, base events, IP counts and video
 * events and compact-table rows within a course (the tables sort them: personDay.ts,
 * timeOnTask.ts, tables.ts eventRows), and how IP counts are split between batches (they are summed).
 */
import type { CourseFacts } from '../../src/aggregate/facts.ts';

type Name = string | null;

export interface CanonicalCourse {
  days: number[];
  base: Array<[Name, number, number]>;
  ip: Record<string, number>;
  video: Array<[Name, Name, number, number, number, number]>;
  forum: unknown[];
  problemCheck: unknown[];
  showAnswer: unknown[];
  enrollment: unknown[];
  transcript: unknown[];
}

const byJson = (a: unknown, b: unknown): number => {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

export function canonicalFacts(batches: readonly CourseFacts[]): Record<string, CanonicalCourse> {
  const out: Record<string, CanonicalCourse> = {};
  for (const f of batches) {
    const c = (out[f.course] ??= { days: [], base: [], ip: {}, video: [], forum: [], problemCheck: [], showAnswer: [], enrollment: [], transcript: [] });
    const name = (i: number): Name => (i === 0xffffffff ? null : f.strings[i]!);
    for (const d of f.days) if (!c.days.includes(d)) c.days.push(d);
    for (let i = 0; i < f.base.user.length; i++) c.base.push([name(f.base.user[i]!), f.base.time[i]!, f.base.flags[i]!]);
    for (let i = 0; i < f.ip.user.length; i++) {
      const key = JSON.stringify([name(f.ip.user[i]!), name(f.ip.ip[i]!), f.ip.day[i]!]);
      c.ip[key] = (c.ip[key] ?? 0) + f.ip.count[i]!;
    }
    const v = f.video;
    for (let i = 0; i < v.user.length; i++) c.video.push([name(v.user[i]!), name(v.video[i]!), v.time[i]!, v.type[i]!, v.position[i]!, v.speed[i]!]);
    c.forum.push(...f.forum);
    c.problemCheck.push(...f.problemCheck);
    c.showAnswer.push(...f.showAnswer);
    c.enrollment.push(...f.enrollment);
    c.transcript.push(...f.transcript);
  }
  for (const c of Object.values(out)) {
    c.days.sort((a, b) => a - b);
    c.base.sort(byJson);
    c.video.sort(byJson);
    for (const rows of [c.forum, c.problemCheck, c.showAnswer, c.enrollment, c.transcript]) rows.sort(byJson);
    c.ip = Object.fromEntries(Object.entries(c.ip).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  return out;
}
