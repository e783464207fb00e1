/**
 * A hand-written scanner that pulls a few top-level fields (and two inside `context`) out of an
 * event's JSON text without building the object tree: the "field scanner" strategy of the
 * parser comparison. It skips values by structure, so `event.course_id` is never taken for
 * `context.course_id`.
 */
export interface ScannedFields {
  username: unknown;
  event_type: unknown;
  time: unknown;
  course_id: unknown;
  user_id: unknown;
}

function skipString(s: string, i: number): number {
  // i is just after the opening quote; returns the index after the closing quote, or -1
  for (;;) {
    const q = s.indexOf('"', i);
    if (q < 0) return -1;
    let back = 0;
    for (let b = q - 1; s.charCodeAt(b) === 92; b--) back++;
    if ((back & 1) === 0) return q + 1;
    i = q + 1;
  }
}

function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 34) return skipString(s, i + 1);
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const ch = s.charCodeAt(j);
      if (ch === 34) {
        j = skipString(s, j + 1) - 1;
        if (j < 0) return -1;
      } else if (ch === 123 || ch === 91) depth++;
      else if (ch === 125 || ch === 93) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < s.length) {
    const ch = s.charCodeAt(j);
    if (ch === 44 || ch === 125 || ch === 93 || ch <= 32) break;
    j++;
  }
  return j;
}

function spaces(s: string, i: number): number {
  let c = s.charCodeAt(i);
  while (c === 32 || c === 9 || c === 10 || c === 13) c = s.charCodeAt(++i);
  return i;
}

function readValue(s: string, i: number): unknown {
  const end = skipValue(s, i);
  if (end < 0) return undefined;
  const c = s.charCodeAt(i);
  if (c === 34) {
    const inner = s.slice(i + 1, end - 1);
    return inner.includes('\\') ? JSON.parse(s.slice(i, end)) : inner;
  }
  return JSON.parse(s.slice(i, end));
}

function keyIs(s: string, start: number, len: number, key: string): boolean {
  return len === key.length && s.startsWith(key, start);
}

/** Scans one event line; null if it is not a JSON object. */
export function scanFields(s: string): ScannedFields | null {
  const out: ScannedFields = { username: undefined, event_type: undefined, time: undefined, course_id: undefined, user_id: undefined };
  let i = spaces(s, 0);
  if (s.charCodeAt(i) !== 123) return null;
  i = spaces(s, i + 1);
  while (s.charCodeAt(i) === 34) {
    const keyEnd = s.indexOf('"', i + 1);
    const kStart = i + 1;
    const kLen = keyEnd - kStart;
    i = spaces(s, spaces(s, keyEnd + 1) + 1); // past ':'
    if (keyIs(s, kStart, kLen, 'context') && s.charCodeAt(i) === 123) {
      let j = spaces(s, i + 1);
      while (s.charCodeAt(j) === 34) {
        const ke = s.indexOf('"', j + 1);
        const ks = j + 1;
        j = spaces(s, spaces(s, ke + 1) + 1);
        if (keyIs(s, ks, ke - ks, 'course_id')) out.course_id = readValue(s, j);
        else if (keyIs(s, ks, ke - ks, 'user_id')) out.user_id = readValue(s, j);
        j = skipValue(s, j);
        if (j < 0) return null;
        j = spaces(s, j);
        if (s.charCodeAt(j) === 44) j = spaces(s, j + 1);
        else break;
      }
      i = j + 1;
    } else {
      if (keyIs(s, kStart, kLen, 'username')) out.username = readValue(s, i);
      else if (keyIs(s, kStart, kLen, 'event_type')) out.event_type = readValue(s, i);
      else if (keyIs(s, kStart, kLen, 'time')) out.time = readValue(s, i);
      i = skipValue(s, i);
      if (i < 0) return null;
    }
    i = spaces(s, i);
    if (s.charCodeAt(i) === 44) i = spaces(s, i + 1);
    else break;
  }
  return out;
}
