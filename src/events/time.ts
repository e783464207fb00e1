/**
 * Event time parsing (spec tracking-logs.md §1.4, REC): an int count of microseconds since the
 * epoch. Accepts `YYYY-MM-DD[T ]HH:MM:SS`, 0–9 fractional digits (truncated beyond 6), and `Z`,
 * `±HH:MM`, `±HHMM` or no offset (UTC). Returns NaN for anything else.
 * Hand-written instead of a regex + Date.parse: it runs on every event, and Date.parse would
 * both lose the microseconds and accept forms BigQuery rejects.
 */
export const MICROS_PER_DAY = 86_400_000_000;

function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isValidDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const max = m === 2 && leap ? 29 : (DAYS_IN_MONTH[m - 1] ?? 0);
  return d <= max;
}

export function parseTimeMicros(s: string): number {
  const n = s.length;
  if (n < 19) return NaN;
  const y = digits(s, 0, 4);
  if (y < 0 || s.charCodeAt(4) !== 45) return NaN; // '-'
  const mo = digits(s, 5, 2);
  if (mo < 0 || s.charCodeAt(7) !== 45) return NaN;
  const d = digits(s, 8, 2);
  const sep = s.charCodeAt(10);
  if (d < 0 || (sep !== 84 && sep !== 32)) return NaN; // 'T' or ' '
  const h = digits(s, 11, 2);
  if (h < 0 || s.charCodeAt(13) !== 58) return NaN; // ':'
  const mi = digits(s, 14, 2);
  if (mi < 0 || s.charCodeAt(16) !== 58) return NaN;
  const se = digits(s, 17, 2);
  if (se < 0 || h > 23 || mi > 59 || se > 59 || !isValidDate(y, mo, d)) return NaN;
  let i = 19;
  let frac = 0;
  if (i < n && s.charCodeAt(i) === 46) {
    // '.': 0–9 digits, keep the first 6 (truncate, as BigQuery does)
    i++;
    let k = 0;
    while (i < n) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (k < 6) frac = frac * 10 + c;
      k++;
      i++;
    }
    if (k > 9) return NaN;
    for (let p = Math.min(k, 6); p < 6; p++) frac *= 10;
  }
  let offsetMin = 0;
  if (i < n) {
    const c = s.charCodeAt(i);
    if (c === 90 && i + 1 === n) {
      i++; // 'Z'
    } else if (c === 43 || c === 45) {
      const oh = digits(s, i + 1, 2);
      let om: number;
      if (i + 6 === n && s.charCodeAt(i + 3) === 58) om = digits(s, i + 4, 2);
      else if (i + 5 === n) om = digits(s, i + 3, 2);
      else return NaN;
      if (oh < 0 || om < 0 || oh > 23 || om > 59) return NaN;
      offsetMin = (c === 45 ? -1 : 1) * (oh * 60 + om);
      i = n;
    } else {
      return NaN;
    }
  }
  if (i !== n) return NaN;
  const days = daysFromCivil(y, mo, d);
  const secs = days * 86400 + h * 3600 + mi * 60 + se - offsetMin * 60;
  return secs * 1_000_000 + frac;
}

/** UTC calendar date `YYYY-MM-DD` of a microsecond timestamp. */
export function utcDateOfMicros(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 10);
}
