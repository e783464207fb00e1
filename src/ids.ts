/**
 * Course id conversions and the file-system names derived from untrusted ids.
 * Course ids and input file names come from log lines and file names: every name derived here
 * is a single, safe path component, so no id can steer a write outside the output directory.
 */

const OPAQUE_COURSE_KEY = /^course-v1:([^+/]+)\+([^+/]+)\+([^+/]+)$/;

/**
 * `course-v1:ORG+NUM+RUN` → `ORG/NUM/RUN` (spec §2 step 3, REC: only that exact form; any other
 * key kind such as `ccx-v1:` is kept as it is, as its own course id).
 */
export function slashCourseId(id: string): string {
  if (!id.startsWith('course-v1:')) return id;
  const m = OPAQUE_COURSE_KEY.exec(id);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : id;
}

/** Directory names the tool itself uses inside the logs directory; no course may take them. */
export const RESERVED_DIRS = new Set(['META', '_unknown', '_rejects', '_parts', '.tmp']);
export const UNKNOWN_COURSE_DIR = '_unknown';

const MAX_NAME_BYTES = 200;

/** Characters kept as they are in a path component; everything else is %-encoded. */
function isSafeNameChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || // 0-9
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    c === 45 || c === 46 || c === 95 || c === 43 || c === 64 || c === 58 || c === 61 || c === 44 || c === 126 // - . _ + @ : = , ~
  );
}

/**
 * `raw` with every character outside the ASCII set `keep` accepts replaced by `escape` + two hex
 * digits per UTF-8 byte: one-to-one as long as `keep` rejects the escape character itself.
 */
export function escapeChars(raw: string, keep: (asciiCode: number) => boolean, escape: string): string {
  let out = '';
  for (const ch of raw) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 128 && keep(c)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += escape + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * One safe path component from an untrusted string: characters outside a small safe set are
 * %-encoded (so the mapping stays one-to-one and `/`, `\`, NUL and control characters never
 * survive), a leading `.` is encoded (no `.`, `..` or hidden names), and over-long names are cut
 * and suffixed with a hash of the full name.
 */
export function safePathComponent(raw: string): string {
  let out = escapeChars(raw, isSafeNameChar, '%');
  if (out.startsWith('.')) out = '%2E' + out.slice(1);
  if (out === '') out = '%00empty';
  if (out.length > MAX_NAME_BYTES) out = `${out.slice(0, MAX_NAME_BYTES - 9)}~${fnv1a(raw)}`;
  return out;
}

/** The file-system name of a course's outputs: its directory name, or `_unknown` for no course (''). */
export function courseOutputName(courseId: string): string {
  return courseId === '' ? UNKNOWN_COURSE_DIR : courseDirName(courseId);
}

/**
 * The per-course directory name of spec §1.5: the slash-form id with every `/` replaced by
 * `__`, made safe; reserved names and names starting with `_` (ours) are %-encoded at the start.
 */
export function courseDirName(courseId: string): string {
  let name = safePathComponent(courseId.replace(/\//g, '__'));
  if (name.startsWith('_') || RESERVED_DIRS.has(name)) name = '%' + name.charCodeAt(0).toString(16).toUpperCase() + name.slice(1);
  return name;
}
