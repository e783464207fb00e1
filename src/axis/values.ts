/** Value helpers of the axis: OLX date strings, policy values as text, mojibake repair. */

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

function monthIndex(name: string): number {
  const n = name.toLowerCase();
  for (let i = 0; i < 12; i++) {
    const m = MONTHS[i] as string;
    if (n === m || (n.length >= 3 && m.startsWith(n))) return i; // full name or abbreviation (Jan, Sept)
  }
  return -1;
}

function utcMicros(y: number, mo: number, d: number, h: number, mi: number, s: number, micro: number, offsetMin: number): number | null {
  if (mo < 0 || mo > 11 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const ms = Date.UTC(y, mo, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo) return null; // 2014-02-30
  return (ms - offsetMin * 60_000) * 1000 + micro;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
// the month-name forms of the original: "February 25, 2013", "December 12, 22:00, 2012",
// "March 25, 2013, 22:00", "January 2 2013, 22:00", "March 13 2014", "December 24 05:00, 2012"
const NAMED_FORMS: readonly RegExp[] = [
  /^([A-Za-z]+)\s+(\d{1,2}),?\s+(\d{4})(?:,?\s+(\d{1,2}):(\d{2}))?$/, // Month D[,] YYYY[[,] HH:MM]
  /^([A-Za-z]+)\s+(\d{1,2}),?\s+(\d{1,2}):(\d{2}),\s+(\d{4})$/, // Month D[,] HH:MM, YYYY
];

/**
 * An OLX `start`/`due` value as microseconds since the epoch (UTC), or null when it is empty or
 * not a date. Accepts the original's formats (ISO with or without seconds, fraction and `Z`,
 * and the month-name forms), plus any `±HH:MM` offset (converted to UTC; the original only knew
 * `+00:00`), a date alone, and the JSON-quoted strings of old policies (`"\"2013-02-05T05:00\""`).
 */
export function parseOlxDate(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  let s = value.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).trim();
  if (s === '' || s === 'null' || s === 'None') return null;
  let m = ISO.exec(s);
  if (m) {
    const frac = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
    let off = 0;
    const z = m[8];
    if (z && z.toUpperCase() !== 'Z') {
      const digits = z.replace(':', '');
      off = (digits[0] === '-' ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
    }
    return utcMicros(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), Number(frac || 0), off);
  }
  m = NAMED_FORMS[0]!.exec(s);
  if (m) {
    const mo = monthIndex(m[1] as string);
    if (mo < 0) return null;
    return utcMicros(Number(m[3]), mo, Number(m[2]), Number(m[4] ?? 0), Number(m[5] ?? 0), 0, 0, 0);
  }
  m = NAMED_FORMS[1]!.exec(s);
  if (m) {
    const mo = monthIndex(m[1] as string);
    if (mo < 0) return null;
    return utcMicros(Number(m[5]), mo, Number(m[2]), Number(m[3]), Number(m[4]), 0, 0, 0);
  }
  return null;
}

/** `YYYY-MM-DD HH:MM:SS` (the spec's text form) of microseconds since the epoch. */
export function formatMicros(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A policy or metadata value as attribute text: strings as they are, booleans `true`/`false`,
 * numbers in JS form, null/undefined → null, anything else as JSON text.
 */
export function asText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  return JSON.stringify(v);
}

// Windows-1252 bytes 0x80–0x9F as the characters a cp1252 decode gives them.
const CP1252: Record<number, number> = {
  0x20ac: 0x80, 0x201a: 0x82, 0x0192: 0x83, 0x201e: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87, 0x02c6: 0x88, 0x2030: 0x89,
  0x0160: 0x8a, 0x2039: 0x8b, 0x0152: 0x8c, 0x017d: 0x8e, 0x2018: 0x91, 0x2019: 0x92, 0x201c: 0x93, 0x201d: 0x94, 0x2022: 0x95,
  0x2013: 0x96, 0x2014: 0x97, 0x02dc: 0x98, 0x2122: 0x99, 0x0161: 0x9a, 0x203a: 0x9b, 0x0153: 0x9c, 0x017e: 0x9e, 0x0178: 0x9f,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

function undoOnce(s: string): string | null {
  const bytes: number[] = [];
  let high = false;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c < 0x80) bytes.push(c);
    else if (c <= 0xff) {
      bytes.push(c);
      high = true;
    } else {
      const b = CP1252[c];
      if (b === undefined) return null; // a character no single-byte decode produces: not mojibake
      bytes.push(b);
      high = true;
    }
  }
  if (!high) return null;
  try {
    const out = utf8.decode(Uint8Array.from(bytes));
    return out !== s ? out : null;
  } catch {
    return null; // not UTF-8 read as Latin-1/cp1252: genuine accented text, keep it
  }
}

/**
 * Repairs text that is UTF-8 decoded as Latin-1 or Windows-1252 (`Ã©` → `é`, `â€™` → `’`), up to
 * twice for double encodings. Text that does not re-encode to valid UTF-8 (real `café`) is kept.
 */
export function fixMojibake(s: string): string {
  if (!/[\u0080-\u00ff]/.test(s)) return s;
  let cur = s;
  for (let i = 0; i < 2; i++) {
    const next = undoOnce(cur);
    if (next === null) break;
    cur = next;
  }
  return cur;
}
