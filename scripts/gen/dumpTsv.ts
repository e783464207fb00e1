/**
 * Writing the `.sql` files of the weekly research dump (spec §1.3): UTF-8, a header row, one record a
 * line, tab-separated, the token `NULL` for SQL NULL (an empty cell is the empty string), and the four
 * two-character escapes `\t`, `\n`, `\r`, `\\` inside values. Datetimes are UTC `YYYY-MM-DD HH:MM:SS`.
 */

/** A cell: null → `NULL`, numbers as plain decimals, strings escaped. */
export type Cell = string | number | null;

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Escape backslash, tab, newline and carriage return as two-character sequences. */
export function tsvEscape(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPES, (c) => ESCAPED[c]!) : s;
}

export function tsvCell(v: Cell): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return String(v);
  return tsvEscape(v);
}

export interface TsvOptions {
  /** Columns left out of this file (older or newer exports lack some). */
  omit?: ReadonlySet<string>;
  /** Leave the last record without its newline. */
  unterminated?: boolean;
}

/** One table as TSV text: `columns` in order (minus `omit`), one line per row object. */
export function tsvTable(columns: readonly string[], rows: ReadonlyArray<Readonly<Record<string, Cell>>>, opts: TsvOptions = {}): string {
  const cols = opts.omit ? columns.filter((c) => !opts.omit!.has(c)) : columns.slice();
  const lines: string[] = [cols.join('\t')];
  for (const r of rows) {
    let s = '';
    for (let i = 0; i < cols.length; i++) {
      const v = r[cols[i]!];
      if (v === undefined) throw new Error(`tsvTable: row has no value for column ${cols[i]}`);
      s += (i === 0 ? '' : '\t') + tsvCell(v);
    }
    lines.push(s);
  }
  const text = lines.join('\n');
  return opts.unterminated && rows.length > 0 ? text : text + '\n';
}

/** `YYYY-MM-DD HH:MM:SS` (UTC) of epoch milliseconds, fraction dropped. */
export function sqlTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** ISO-8601 with `Z` and no fraction, as OLX and course structure dates are written. */
export function isoZ(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19) + 'Z';
}

/** Python's str() of a float with at most two decimals: 0.84, 0.5, 0.0, 1.0. */
export function pyFloat2(x: number): string {
  const s = String(Math.round(x * 100) / 100);
  return s.includes('.') ? s : s + '.0';
}

/** Column lists of spec §1.2, in order. */
export const COLUMNS = {
  auth_user: [
    'id', 'username', 'first_name', 'last_name', 'email', 'password', 'is_staff', 'is_active', 'is_superuser', 'last_login', 'date_joined',
    'status', 'email_key', 'avatar_typ', 'country', 'show_country', 'date_of_birth', 'interesting_tags', 'ignored_tags',
    'email_tag_filter_strategy', 'display_tag_filter_strategy', 'consecutive_days_visit_count',
  ],
  auth_userprofile: [
    'id', 'user_id', 'name', 'language', 'location', 'meta', 'courseware', 'gender', 'mailing_address', 'year_of_birth', 'level_of_education',
    'goals', 'allow_certificate', 'country', 'city', 'bio', 'profile_image_uploaded_at',
  ],
  student_courseenrollment: ['id', 'user_id', 'course_id', 'created', 'is_active', 'mode'],
  certificates_generatedcertificate: [
    'id', 'user_id', 'download_url', 'grade', 'course_id', 'key', 'distinction', 'status', 'verify_uuid', 'download_uuid', 'name',
    'created_date', 'modified_date', 'error_reason', 'mode',
  ],
  courseware_studentmodule: ['id', 'module_type', 'module_id', 'student_id', 'state', 'grade', 'created', 'modified', 'max_grade', 'done', 'course_id'],
  user_id_map: ['hash_id', 'id', 'username'],
  /** `id` and `org` appear in some exports only (spec §1.2); they lead when present. */
  student_courseaccessrole: ['id', 'user_id', 'org', 'course_id', 'role'],
  django_comment_client_role_users: ['user_id', 'course_id', 'name'],
} as const;

export type DumpTable = keyof typeof COLUMNS;
export const DUMP_TABLES = Object.keys(COLUMNS) as DumpTable[];

/** auth_user columns that newer dumps no longer carry. */
export const AUTH_USER_OBSOLETE = [
  'status', 'email_key', 'avatar_typ', 'country', 'show_country', 'date_of_birth', 'interesting_tags', 'ignored_tags',
  'email_tag_filter_strategy', 'display_tag_filter_strategy', 'consecutive_days_visit_count',
] as const;
