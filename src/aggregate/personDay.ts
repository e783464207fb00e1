import { MICROS_PER_DAY, utcDateOfMicros } from '../events/time.ts';
import { PCDAY_COUNTER_BITS, PCDAY_COUNTERS } from './pcdayEvent.ts';

/** Gaps longer than this (seconds) are dropped, not capped; exactly 300 is kept (spec §5.4). */
export const PCDAY_GAP_CUTOFF_S = 300;

/** A course's base events as columns: learner index (into a names array), time (µs), flags (pcdayEvent.ts). */
export interface BaseEventColumns {
  user: ArrayLike<number>;
  timeUs: ArrayLike<number>;
  flags: ArrayLike<number>;
}

/** One person_course_day row (spec §5.2, REC semantics), counters by column name. */
export interface PersonDayRow {
  username: string;
  course_id: string;
  date: string;
  nevents: number;
  counts: Record<(typeof PCDAY_COUNTERS)[number][0], number>;
  /** µs since the epoch, base events only (REC: no midnight artefacts from other sources). */
  firstEventUs: number;
  lastEventUs: number;
  /** Gap statistics over the kept gaps attributed to this day; null when n_dt = 0. */
  avg_dt: number | null;
  /** Sample standard deviation (N − 1); null when fewer than 2 gaps. */
  sdv_dt: number | null;
  max_dt: number | null;
  n_dt: number;
  sum_dt: number | null;
  /** Σ dt² of the kept gaps, so days pool into an exact person_course sdv_dt. */
  sumsq_dt: number;
}

/** The events' indices by learner, then time; ties keep input order (a stable sort), which changes nothing numeric. */
export function timeOrder(ev: Pick<BaseEventColumns, 'user' | 'timeUs'>): Uint32Array {
  const n = ev.user.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => ev.user[a]! - ev.user[b]! || ev.timeUs[a]! - ev.timeUs[b]! || a - b);
  return order;
}

interface DayAcc {
  row: PersonDayRow;
  sumsq: number;
}

/**
 * person_course_day of one course from all its base events (in any order, from any number of
 * chunks, files and inputs): each learner's events are put in time order, every gap to the
 * learner's previous event (≤ 300 s kept) belongs to the later event's UTC date, and the chain
 * runs across midnight and across inputs (REC of §5.4). `previousLastUs` gives, per learner, the
 * time of the last event before these ones (from days already loaded), so a day computed on its
 * own equals the same day computed together with its predecessors.
 */
export function computePersonDay(
  courseId: string, users: readonly string[], ev: BaseEventColumns, previousLastUs?: ReadonlyMap<number, number>,
  options: { resetAtMidnight?: boolean; order?: Uint32Array } = {},
): PersonDayRow[] {
  const reset = options.resetAtMidnight === true;
  const n = ev.user.length;
  const order = options.order ?? timeOrder(ev);

  // in (learner, time) order a learner's days come one after another: one open row at a time
  const days: DayAcc[] = [];
  const out: PersonDayRow[] = [];
  let acc: DayAcc | null = null;
  let accUser = -1;
  let accDay = NaN;
  let prevUser = -1;
  let prevTime = NaN;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const u = ev.user[i]!;
    const t = ev.timeUs[i]!;
    if (u !== prevUser) {
      prevUser = u;
      prevTime = previousLastUs?.get(u) ?? NaN;
    }
    const dayNo = Math.floor(t / MICROS_PER_DAY);
    // intra-day statistics only: the gap from the previous day is added in SQL (loadFacts.ts)
    if (reset && !Number.isNaN(prevTime) && Math.floor(prevTime / MICROS_PER_DAY) !== dayNo) prevTime = NaN;
    if (acc === null || u !== accUser || dayNo !== accDay) {
      const counts = Object.fromEntries(PCDAY_COUNTERS.map(([name]) => [name, 0])) as PersonDayRow['counts'];
      const row: PersonDayRow = {
        username: users[u]!, course_id: courseId, date: utcDateOfMicros(t), nevents: 0, counts,
        firstEventUs: t, lastEventUs: t, avg_dt: null, sdv_dt: null, max_dt: null, n_dt: 0, sum_dt: null, sumsq_dt: 0,
      };
      acc = { row, sumsq: 0 };
      accUser = u;
      accDay = dayNo;
      days.push(acc);
      out.push(row);
    }
    const row = acc.row;
    row.nevents++;
    const f = ev.flags[i]! & PCDAY_COUNTER_BITS;
    if (f !== 0) for (const [name, bit] of PCDAY_COUNTERS) if (f & bit) row.counts[name]++;
    if (t < row.firstEventUs) row.firstEventUs = t;
    if (t > row.lastEventUs) row.lastEventUs = t;
    if (!Number.isNaN(prevTime)) {
      const dt = (t - prevTime) / 1e6;
      if (dt <= PCDAY_GAP_CUTOFF_S) {
        row.n_dt++;
        row.sum_dt = (row.sum_dt ?? 0) + dt;
        acc.sumsq += dt * dt;
        if (row.max_dt === null || dt > row.max_dt) row.max_dt = dt;
      }
    }
    prevTime = t;
  }
  for (const { row, sumsq } of days) {
    row.sumsq_dt = sumsq;
    if (row.n_dt > 0) row.avg_dt = row.sum_dt! / row.n_dt;
    if (row.n_dt >= 2) row.sdv_dt = Math.sqrt(Math.max(0, (sumsq - (row.sum_dt! * row.sum_dt!) / row.n_dt) / (row.n_dt - 1)));
  }
  return out;
}
