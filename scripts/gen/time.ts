/**
 * Time formatting for one UTC day. Times are integer microseconds since 00:00:00 UTC of the day.
 * Every form written here is one of spec §1.4; all of them denote an instant inside the day.
 */

export const DAY_US = 86_400_000_000;

const TWO: string[] = [];
for (let i = 0; i < 100; i++) TWO.push(i < 10 ? '0' + i : String(i));
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Time-string forms (spec §1.4). */
export const TF_MICRO_OFFSET = 0; // 2015-03-01T12:00:00.123456+00:00
export const TF_NO_FRACTION = 1; // 2015-03-01T12:00:00+00:00
export const TF_Z = 2; // 2015-03-01T12:00:00.123456Z
export const TF_NO_OFFSET = 3; // 2015-03-01T12:00:00.123456
export const TF_LOCAL_OFFSET = 4; // 2015-03-01T07:00:00.123456-05:00 (same instant, local clock)
export const TIME_FORM_NAMES = ['micro+00:00', 'noFraction+00:00', 'microZ', 'microNoOffset', 'microLocalOffset'];

/** Non-zero offsets used for TF_LOCAL_OFFSET, in minutes east of UTC. */
const OFFSETS = [-300, -240, 330, 480, 60, -180];

function offsetText(min: number): string {
  const sign = min < 0 ? '-' : '+';
  const a = Math.abs(min);
  return sign + TWO[Math.floor(a / 60)]! + ':' + TWO[a % 60]!;
}

export class DayClock {
  readonly date: string; // YYYY-MM-DD
  readonly dayStartMs: number;
  private readonly minutePrefix: string[];
  private readonly month: string;
  private readonly dayOfMonth: string;

  constructor(date: string) {
    const ms = Date.parse(date + 'T00:00:00Z');
    if (!Number.isFinite(ms)) throw new Error(`bad date ${date}`);
    this.date = new Date(ms).toISOString().slice(0, 10);
    this.dayStartMs = ms;
    this.minutePrefix = new Array<string>(1440);
    for (let m = 0; m < 1440; m++) this.minutePrefix[m] = `${this.date}T${TWO[Math.floor(m / 60)]}:${TWO[m % 60]}:`;
    const d = new Date(ms);
    this.month = MONTHS[d.getUTCMonth()]!;
    const dom = d.getUTCDate();
    this.dayOfMonth = dom < 10 ? ' ' + dom : String(dom);
  }

  /** Format `us` (µs since the day's midnight UTC) in the given form; `offsetPick` chooses the local offset. */
  format(us: number, form: number, offsetPick = 0): string {
    const sec = Math.floor(us / 1_000_000);
    const frac = us - sec * 1_000_000;
    const m = Math.floor(sec / 60);
    const ss = TWO[sec - m * 60]!;
    switch (form) {
      case TF_MICRO_OFFSET:
        return this.minutePrefix[m]! + ss + '.' + String(frac + 1_000_000).slice(1) + '+00:00';
      case TF_NO_FRACTION:
        return this.minutePrefix[m]! + ss + '+00:00';
      case TF_Z:
        return this.minutePrefix[m]! + ss + '.' + String(frac + 1_000_000).slice(1) + 'Z';
      case TF_NO_OFFSET:
        return this.minutePrefix[m]! + ss + '.' + String(frac + 1_000_000).slice(1);
      default: {
        const off = OFFSETS[offsetPick % OFFSETS.length]!;
        const local = new Date(this.dayStartMs + sec * 1000 + off * 60_000).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
        return local.slice(0, 19) + '.' + String(frac + 1_000_000).slice(1) + offsetText(off);
      }
    }
  }

  /** The 26-character syslog prefix of spec §1.2, e.g. `Mar  1 12:00:48 localhost `. */
  syslogPrefix(us: number): string {
    const sec = Math.floor(us / 1_000_000);
    const h = Math.floor(sec / 3600);
    const mi = Math.floor((sec % 3600) / 60);
    return `${this.month} ${this.dayOfMonth} ${TWO[h]}:${TWO[mi]}:${TWO[sec % 60]} localhost `;
  }

  /** The "received_at" style of mobile contexts: naive ISO with microseconds. */
  naive(us: number): string {
    return this.format(us, TF_NO_OFFSET);
  }
}

/** YYYY-MM-DD of `start` plus `days`. */
export function addDays(start: string, days: number): string {
  const ms = Date.parse(start + 'T00:00:00Z');
  if (!Number.isFinite(ms)) throw new Error(`bad --start date: ${start}`);
  return new Date(ms + days * 86_400_000).toISOString().slice(0, 10);
}
