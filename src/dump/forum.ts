/**
 * The forum export (`forum.mongo(.gz)`: mongoexport extended JSON, one document per line) → rows
 * of the `forum` table (spec sql-and-person-course.md §4.1–§4.2, REC).
 *
 * REC choices: dates parsed in full (epoch ms, `{"$numberLong": …}` or ISO text with its
 * milliseconds); the list fields as JSON array text (`["48"]`, not Python's `[u'48']`); only the
 * schema's fields are kept (the others are counted, never a load failure); `course_id`
 * normalised to the slash form. The nested `votes` and `endorsement` records are flattened into
 * `votes_*` / `endorsement_*` columns (the warehouse load API has no RECORD type;
 * docs/deviations.md). A line that is not a JSON object is a reject with its reason.
 */
import { isJsonObject as isObj, parseObjectLine, type JsonObject as Obj } from './jsonLine.ts';
import { slashCourseId } from '../ids.ts';
import type { ColumnDef, Cell } from '../warehouse/warehouse.ts';

const col = (name: string, type: ColumnDef['type']): ColumnDef => ({ name, type });

export const FORUM_COLUMNS: ColumnDef[] = [
  col('mongoid', 'VARCHAR'), col('_type', 'VARCHAR'), col('course_id', 'VARCHAR'), col('commentable_id', 'VARCHAR'),
  col('thread_type', 'VARCHAR'), col('title', 'VARCHAR'), col('body', 'VARCHAR'),
  col('author_id', 'BIGINT'), col('author_username', 'VARCHAR'),
  col('anonymous', 'BOOLEAN'), col('anonymous_to_peers', 'BOOLEAN'), col('closed', 'BOOLEAN'), col('pinned', 'BOOLEAN'),
  col('visible', 'BOOLEAN'), col('endorsed', 'BOOLEAN'),
  col('comment_count', 'BIGINT'), col('child_count', 'BIGINT'), col('group_id', 'BIGINT'),
  col('comment_thread_id', 'VARCHAR'), col('parent_id', 'VARCHAR'), col('parent_ids', 'VARCHAR'), col('sk', 'VARCHAR'),
  col('created_at', 'TIMESTAMP'), col('updated_at', 'TIMESTAMP'), col('last_activity_at', 'TIMESTAMP'),
  col('endorsement_user_id', 'BIGINT'), col('endorsement_time', 'TIMESTAMP'),
  col('votes_count', 'BIGINT'), col('votes_point', 'BIGINT'), col('votes_up_count', 'BIGINT'), col('votes_down_count', 'BIGINT'),
  col('votes_up', 'VARCHAR'), col('votes_down', 'VARCHAR'),
  col('abuse_flaggers', 'VARCHAR'), col('historical_abuse_flaggers', 'VARCHAR'), col('at_position_list', 'VARCHAR'), col('tags_array', 'VARCHAR'),
];

/** Top-level keys read (everything else is counted as unknown). */
const KNOWN_KEYS = new Set([
  '_id', '_type', 'course_id', 'commentable_id', 'thread_type', 'title', 'body', 'author_id', 'author_username',
  'anonymous', 'anonymous_to_peers', 'closed', 'pinned', 'visible', 'endorsed', 'comment_count', 'child_count', 'group_id',
  'comment_thread_id', 'parent_id', 'parent_ids', 'sk', 'created_at', 'updated_at', 'last_activity_at', 'endorsement', 'votes',
  'abuse_flaggers', 'historical_abuse_flaggers', 'at_position_list', 'tags_array',
  // dropped on purpose (spec §4.2)
  'context', 'depth', 'retired_username',
]);


/** `{"$oid": "…"}` → its text; a plain string stays; anything else → null. */
function oid(v: unknown): string | null {
  if (isObj(v) && typeof v.$oid === 'string') return v.$oid;
  return typeof v === 'string' ? v : null;
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function int(v: unknown): number | null {
  if (isObj(v) && typeof v.$numberLong === 'string') v = v.$numberLong;
  if (isObj(v) && typeof v.$numberInt === 'string') v = v.$numberInt;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : null;
  if (typeof v === 'string' && /^[+-]?\d{1,15}$/.test(v.trim())) return Number(v.trim());
  return null;
}

function bool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1) return true;
  if (v === 'false' || v === 0) return false;
  return null;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A Mongo date (`{"$date": ms | ISO | {"$numberLong": ms}}`, or those bare) → µs since the epoch. */
export function mongoDateMicros(v: unknown): number | null {
  if (isObj(v) && '$date' in v) v = v.$date;
  if (isObj(v) && typeof v.$numberLong === 'string') v = Number(v.$numberLong);
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v) * 1000 : null;
  if (typeof v !== 'string') return null;
  const m = ISO.exec(v.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  if (Number.isNaN(ms)) return null;
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const micros = frac ? Number(frac.padEnd(6, '0').slice(0, 6)) : 0;
  return ms * 1000 + micros;
}

/** A list → JSON array text of its values (REC), `$oid`s unwrapped; null when not a list. */
function listText(v: unknown): string | null {
  if (!Array.isArray(v)) return null;
  return JSON.stringify(v.map((x) => oid(x) ?? x));
}

export type ForumLineOutcome = { ok: true; row: Cell[]; unknownKeys: string[] } | { ok: false; reason: string };

/** One export line → one `forum` row (in FORUM_COLUMNS order), or why it is a reject. */
export function rephraseForumLine(line: string): ForumLineOutcome {
  const parsed = parseObjectLine(line);
  if (!parsed.ok) return parsed;
  const doc = parsed.doc;
  const votes = isObj(doc.votes) ? doc.votes : {};
  const endorsement = isObj(doc.endorsement) ? doc.endorsement : {};
  const courseId = str(doc.course_id);
  const parentIds = Array.isArray(doc.parent_ids) ? doc.parent_ids.map(oid).filter((x): x is string => x !== null).join(' ') : null;
  const row: Cell[] = [
    oid(doc._id), str(doc._type), courseId === null ? null : slashCourseId(courseId), str(doc.commentable_id),
    str(doc.thread_type), str(doc.title), str(doc.body),
    int(doc.author_id), str(doc.author_username),
    bool(doc.anonymous), bool(doc.anonymous_to_peers), bool(doc.closed), bool(doc.pinned), bool(doc.visible), bool(doc.endorsed),
    int(doc.comment_count), int(doc.child_count), int(doc.group_id),
    oid(doc.comment_thread_id), oid(doc.parent_id), parentIds, str(doc.sk),
    mongoDateMicros(doc.created_at), mongoDateMicros(doc.updated_at), mongoDateMicros(doc.last_activity_at),
    int(endorsement.user_id), mongoDateMicros(endorsement.time),
    int(votes.count), int(votes.point), int(votes.up_count), int(votes.down_count), listText(votes.up), listText(votes.down),
    listText(doc.abuse_flaggers), listText(doc.historical_abuse_flaggers), listText(doc.at_position_list), listText(doc.tags_array),
  ];
  return { ok: true, row, unknownKeys: Object.keys(doc).filter((k) => !KNOWN_KEYS.has(k)) };
}
