/** generateLogs(): world → D daily gzip files (→ the research dump, with `dump`) → truth.json. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DayGen } from './day.ts';
import { addDays } from './time.ts';
import { buildWorld, type Course, type Learner } from './world.ts';
import { writeDump } from './dump.ts';
import type { GenerateOptions, Truth } from './types.ts';

export const DEFAULTS = { courses: 4, learners: 200, days: 2, start: '2015-03-01', seed: 1, malformedRate: 0.001, org: 'mitx' } as const;

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** File name of day `date` for `org`: `<org>-edx-events-YYYY-MM-DD.log.gz`. */
export function dailyFileName(org: string, date: string): string {
  return `${org}-edx-events-${date}.log.gz`;
}

export async function generateLogs(opts: GenerateOptions): Promise<Truth> {
  const courses = positiveInt('courses', opts.courses ?? DEFAULTS.courses);
  const learners = positiveInt('learners', opts.learners ?? DEFAULTS.learners);
  const days = positiveInt('days', opts.days ?? DEFAULTS.days);
  const start = opts.start ?? DEFAULTS.start;
  addDays(start, 0); // validates
  const seed = opts.seed ?? DEFAULTS.seed;
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const malformedRate = opts.malformedRate ?? DEFAULTS.malformedRate;
  if (!(malformedRate >= 0 && malformedRate <= 1)) throw new Error(`malformed-rate must be in [0, 1], got ${malformedRate}`);
  const org = opts.org ?? DEFAULTS.org;
  if (!/^[A-Za-z0-9_.-]+$/.test(org)) throw new Error(`org must be [A-Za-z0-9_.-]+, got ${org}`);
  const eventsPerDay = opts.eventsPerDay ?? learners * 9;
  if (!Number.isInteger(eventsPerDay) || eventsPerDay < 0) throw new Error(`events-per-day must be a non-negative integer, got ${eventsPerDay}`);
  const dumpDate = opts.dumpDate ?? addDays(start, days);
  if (opts.dump) {
    const ms = Date.parse(dumpDate + 'T00:00:00Z');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(dumpDate) || !Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== dumpDate) throw new Error(`dump-date must be a YYYY-MM-DD date, got ${dumpDate}`);
    if (dumpDate < addDays(start, days)) throw new Error(`dump-date must not be before the day after the last log day (${addDays(start, days)}), got ${dumpDate}`);
  }

  await mkdir(opts.out, { recursive: true });
  const world = buildWorld(seed, courses, learners, org);
  const truth: Truth = {
    seed,
    options: { courses, learners, days, start, eventsPerDay, malformedRate, org },
    files: {},
    courses: world.courses.map((c: Course) => ({
      id: c.id,
      slashId: c.slashId,
      form: c.form,
      org: c.org,
      number: c.number,
      run: c.run,
      chapters: c.chapters.length,
      sequentials: c.sequentials.length,
      problems: c.problems.map((p) => p.key),
      videos: c.videos.map((v) => v.key),
      videoSpeedField: c.videoSpeedField,
      videoIdIsKey: c.videoIdIsKey,
    })),
    learners,
    staff: world.staff.length,
  };
  let carry: Array<[Learner, Course]> = [];
  for (let d = 0; d < days; d++) {
    const date = addDays(start, d);
    const name = dailyFileName(org, date);
    const gen = new DayGen({ world, seed, dayIndex: d, date, eventsPerDay, malformedRate, path: join(opts.out, name), carryIn: carry });
    const res = await gen.run();
    carry = res.carryOut;
    truth.files[name] = res.truth;
    opts.onFile?.(name, res.truth);
  }
  if (opts.dump) {
    // A fresh world inside: the days above changed the enrollments of this one.
    truth.dump = await writeDump({ out: opts.out, seed, courses, learners, org, start, days, dumpDate, logFiles: Object.keys(truth.files) });
  }
  await writeFile(join(opts.out, 'truth.json'), JSON.stringify(truth, null, 1) + '\n');
  return truth;
}
