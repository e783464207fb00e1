/**
 * time_on_task (spec tracking-logs.md §6.1, REC): the per learner-day part, computed at load from
 * the base events of the dates being (re)loaded, and what `sql/time_on_task.sql` needs to add the
 * gap from the learner's previous active day exactly.
 *
 * Per learner, events in time order, over the learner's whole history (no batch reset):
 * - dt: the time since the learner's previous event;
 * - dt_X (X = video, problem, forum, text): for an X event, the time since the learner's previous
 *   X event;
 * - serial_dt_X: for an X event, the time since the learner's previous xevent (an event of any of
 *   the four categories);
 * each summed per (learner, UTC date of the later event) when strictly below the timeout (5 min
 * and 30 min; serial under 30 min only). Sums are in integer µs here, so they are exact and do not
 * depend on the order in which they are added.
 *
 * Simultaneous events: the gaps between them are 0 and count (as in pcday), so dt and dt_X do not
 * depend on the order of ties. For serial_dt_X the original's answer does: of an xevent group (the
 * learner's xevents at one instant) whose first member came after the previous xevent at p, the
 * first member in the engine's tie order got t − p and the others 0. Here a group is one step:
 * every category present in the group gets t − p once, and its further events in the group 0
 * (docs/deviations.md P17).
 */
import { MICROS_PER_DAY, utcDateOfMicros } from '../events/time.ts';
import type { ColumnDef, ColumnValues } from '../warehouse/warehouse.ts';
import { f64 } from './facts.ts';
import { TASK_CATEGORIES, TASK_SHIFT } from './pcdayEvent.ts';
import type { BaseEventColumns } from './personDay.ts';

/** The timeouts in minutes (the original's defaults; its column names embed them). */
export const TIMEOUT_SHORT_MIN = 5;
export const TIMEOUT_LONG_MIN = 30;
const SHORT_US = TIMEOUT_SHORT_MIN * 60e6;
const LONG_US = TIMEOUT_LONG_MIN * 60e6;

const col = (name: string, type: ColumnDef['type']): ColumnDef => ({ name, type });

/**
 * Sums within the day (µs, NULL when nothing qualified), in this order: all events, then per
 * category the short, long and serial sums. Named after time_on_task's columns, with `_us`.
 */
export const TIME_ON_TASK_SUMS = [
  `total_time_${TIMEOUT_SHORT_MIN}`, `total_time_${TIMEOUT_LONG_MIN}`,
  ...TASK_CATEGORIES.flatMap((c) => [`total_${c}_time_${TIMEOUT_SHORT_MIN}`, `total_${c}_time_${TIMEOUT_LONG_MIN}`, `serial_${c}_time_${TIMEOUT_LONG_MIN}`]),
];

/**
 * `time_on_task_intraday`: one row per learner-day with base events. `first_xevent_mask` is the
 * union of the categories (1 video, 2 problem, 4 forum, 8 text) of the events at `first_xevent`.
 */
export const TIME_ON_TASK_INTRADAY_COLUMNS: ColumnDef[] = [
  col('username', 'VARCHAR'), col('course_id', 'VARCHAR'), col('date', 'DATE'), col('nevents', 'BIGINT'),
  col('first_event', 'TIMESTAMP'), col('last_event', 'TIMESTAMP'),
  ...TIME_ON_TASK_SUMS.map((name) => col(`${name}_us`, 'BIGINT')),
  ...TASK_CATEGORIES.flatMap((c) => [col(`first_${c}`, 'TIMESTAMP'), col(`last_${c}`, 'TIMESTAMP')]),
  col('first_xevent', 'TIMESTAMP'), col('first_xevent_mask', 'INTEGER'), col('last_xevent', 'TIMESTAMP'),
];

const NCAT = TASK_CATEGORIES.length;
const NSUMS = 2 + 3 * NCAT;

/**
 * The `time_on_task_intraday` rows of a course's base events. `order` lists the events by
 * learner, then time (`timeOrder` of personDay.ts); every gap whose earlier end lies on another
 * UTC date is left to the SQL.
 */
export function timeOnTaskIntradayRows(courseId: string, users: readonly (string | null)[], ev: BaseEventColumns, order: Uint32Array): { columns: ColumnValues[] } {
  // columnar, numbers in Float64Arrays with NaN for NULL (the warehouse reads NaN there as NULL):
  // a quarter of the memory of row arrays, which made the 4M-event day's load peak ~250 MB higher
  const out = Array.from({ length: TIME_ON_TASK_INTRADAY_COLUMNS.length - 3 }, f64);
  const names: (string | null)[] = [];
  const dates: string[] = [];
  let dateOfDay = NaN;
  let dateText = '';
  const sums = new Float64Array(NSUMS);
  const firstCat = new Float64Array(NCAT);
  const lastCat = new Float64Array(NCAT);
  let user = -1;
  let day = NaN;
  let nevents = 0;
  let first = NaN;
  let prev = NaN;
  let firstX = NaN;
  let firstXMask = 0;
  /** The current xevent group: its time, the time of the xevent before it (that day), its categories so far. */
  let groupT = NaN;
  let beforeGroupT = NaN;
  let groupMask = 0;

  const add = (k: number, dt: number, cutoff: number) => {
    if (dt < cutoff) sums[k] = Number.isNaN(sums[k]!) ? dt : sums[k]! + dt;
  };
  const close = () => {
    if (nevents === 0) return;
    names.push(users[user]!);
    if (day !== dateOfDay) {
      dateOfDay = day;
      dateText = utcDateOfMicros(first);
    }
    dates.push(dateText);
    let k = 0;
    out[k++]!.push(nevents);
    out[k++]!.push(first);
    out[k++]!.push(prev);
    for (let j = 0; j < NSUMS; j++) out[k++]!.push(sums[j]!);
    for (let c = 0; c < NCAT; c++) {
      out[k++]!.push(firstCat[c]!);
      out[k++]!.push(lastCat[c]!);
    }
    out[k++]!.push(firstX);
    out[k++]!.push(Number.isNaN(firstX) ? NaN : firstXMask);
    out[k++]!.push(groupT);
  };

  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const u = ev.user[i]!;
    const t = ev.timeUs[i]!;
    const d = Math.floor(t / MICROS_PER_DAY);
    if (u !== user || d !== day) {
      close();
      user = u;
      day = d;
      nevents = 0;
      first = t;
      prev = NaN;
      sums.fill(NaN);
      firstCat.fill(NaN);
      lastCat.fill(NaN);
      firstX = NaN;
      firstXMask = 0;
      groupT = NaN;
      beforeGroupT = NaN;
      groupMask = 0;
    }
    nevents++;
    if (!Number.isNaN(prev)) {
      add(0, t - prev, SHORT_US);
      add(1, t - prev, LONG_US);
    }
    prev = t;
    const mask = (ev.flags[i]! >> TASK_SHIFT) & 15;
    if (mask === 0) continue;
    if (t !== groupT) {
      beforeGroupT = groupT;
      groupT = t;
      groupMask = 0;
    }
    if (Number.isNaN(firstX)) firstX = t;
    if (t === firstX) firstXMask |= mask;
    for (let c = 0; c < NCAT; c++) {
      if ((mask & (1 << c)) === 0) continue;
      const base = 2 + 3 * c;
      const last = lastCat[c]!;
      if (Number.isNaN(last)) firstCat[c] = t;
      else {
        add(base, t - last, SHORT_US);
        add(base + 1, t - last, LONG_US);
      }
      lastCat[c] = t;
      // serial: the group's first event of this category steps from the xevent before the group
      if ((groupMask & (1 << c)) !== 0) add(base + 2, 0, LONG_US);
      else if (!Number.isNaN(beforeGroupT)) add(base + 2, t - beforeGroupT, LONG_US);
    }
    groupMask |= mask;
  }
  close();
  const n = names.length;
  return { columns: [names, new Array<string>(n).fill(courseId), dates, ...out.map((c) => c.done())] };
}
