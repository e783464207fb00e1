/**
 * The event rewrite ("rephrase"), spec tracking-logs.md §3: a raw tracking-log event becomes a
 * row of the fixed schema of §3.3 (`schema.ts`). Rules R1–R19 run in the spec's order, each as
 * a small function below. The RECOMMENDED behaviour is used wherever the spec gives one.
 *
 * Choices where the spec leaves room (see the report / docs/deviations):
 * - Result: a new top-level object (always), in which the nested objects of `ev` are reused and
 *   mutated; `ev` itself must not be used afterwards. Keys are removed by building copies, not
 *   with `delete` (which makes V8 objects slow to walk and to serialise).
 * - R1: only a non-empty *string* `context.course_id` is copied.
 * - R2: the extractor gets the raw event; an error or an empty / non-string id gives no module_id.
 * - R4: the decoder is JSON.parse, so Python-only tokens (`NaN`, `Infinity`) do not decode and the
 *   string is kept. Strings that cannot start a JSON text are not even tried (speed).
 * - R5: when a string decoded successfully, that string itself is the `event` text (it parses to
 *   the same value; no re-serialisation). Otherwise JSON.stringify of the value (compact, not
 *   Python spacing; value-level parity only).
 * - R6: a non-string `event_type` never qualifies for the full struct. A stale `event_struct`
 *   already in the input is replaced (object event) or removed (non-object event): it is
 *   derived data and `event` is the source of truth.
 * - R7: `_id: {$oid: "<s>"}` → mongoid `<s>`; a string `_id` → itself; `null` → dropped; any
 *   other shape → its JSON text. `_id` is always removed.
 * - R9/R10: skipped unless event_struct is the full decoded object; R9 also needs `state` to
 *   be an object.
 * - R12: `oldagent` is `""` when `context.agent` is missing or null.
 * - R13: the container is serialised once, after R19 (which can add to it). Placeholder levels
 *   (`event_struct.state`, `context`) are added at the end when absent. When a value has to go
 *   where the container already holds a key (or a non-object where a level is needed), the
 *   name gets a `_2`, `_3`… suffix, so nothing is overwritten. `opts.courseIdGuessed` adds
 *   `"course_id_guessed": true`.
 * - R14: `child-id` is renamed only when `child_id` is free; otherwise R17's collision rule
 *   applies (`child_id_2`).
 * - R16: `new_speed` is removed unless it is a finite number or a string holding a finite
 *   decimal number (null, bool, NaN, inf, junk are removed).
 * - R17: funny-key detection runs on all keys of an object *before* any renaming inside it, so a
 *   funny object's JSON text holds its original keys (the original's "partial renaming" depends
 *   on Python 2 dict order). At the top level a funny key is skipped (left for R19 to park) and
 *   the other keys are still processed. A funny `event_struct` / `context` / nested record becomes
 *   JSON text, which R19 then parks (a record cannot hold a string). Collisions: keep both; a
 *   key that needs no renaming keeps its name, a renamed one gets `_2`, `_3`… when its new name
 *   is taken; key order is kept. The empty key becomes `_empty` (same collision rule). Long keys
 *   are not warned about. A `__proto__` key is ordinary data everywhere (never a prototype).
 * - R19: null values are kept as they are. STRING/TIMESTAMP field: number → its decimal text
 *   (non-finite → null), bool → "true"/"false", object/array → JSON text. FLOAT: finite number
 *   kept, non-finite → null, bool → 1/0, string → finite decimal value or null. INTEGER: an
 *   integral number inside the INT64 range kept, bool → 1/0, string of the form `[+-]digits`
 *   → its value (null when out of the INT64 range or not that form); a non-integral or out-of-range
 *   number, or an object/array, is parked in mongoid. BOOLEAN: bool kept, 0/1 and
 *   "true"/"false" (any case) converted, anything else parked. RECORD holding a non-object
 *   (not null) → parked. Unknown keys at any level (null-valued ones too) → parked in mongoid
 *   at the same path (after R17 renaming). R19 runs after R17, so an object that becomes JSON
 *   text here has sanitised keys.
 * - If anything still throws (e.g. nesting too deep for the JS stack), a minimal row is
 *   returned: string top-level fields only, and mongoid records `rephrase_error`.
 */
import { extractModuleId, type DecodedEvent } from './moduleId.ts';
import { TRACKING_LOG_SCHEMA, type RecordSchema, type ScalarType } from './schema.ts';
import { isObject, type Json, type JsonObject } from './types.ts';

export interface RephraseOptions {
  courseIdGuessed?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Module-level tables

interface CompiledRecord {
  readonly fields: ReadonlyMap<string, CompiledField>;
  /** Path of this record from the row root, e.g. ['event_struct', 'state']. */
  readonly path: readonly string[];
}
type CompiledField = ScalarType | CompiledRecord;

function compile(rec: RecordSchema, path: readonly string[]): CompiledRecord {
  const fields = new Map<string, CompiledField>();
  for (const k of Object.keys(rec)) {
    const f = rec[k]!;
    fields.set(k, typeof f === 'string' ? f : compile(f, [...path, k]));
  }
  return { fields, path };
}

const ROOT = compile(TRACKING_LOG_SCHEMA, []);
const NO_PATH: readonly string[] = [];
const PATH_CONTEXT: readonly string[] = ['context'];
const PATH_ES: readonly string[] = ['event_struct'];
const PATH_ES_STATE: readonly string[] = ['event_struct', 'state'];

const KNOWN = new Set([
  'play_video',
  'seq_goto',
  'seq_next',
  'seq_prev',
  'seek_video',
  'load_video',
  'save_problem_success',
  'save_problem_fail',
  'reset_problem_success',
  'reset_problem_fail',
  'show_answer',
  'edx.course.enrollment.activated',
  'edx.course.enrollment.deactivated',
  'edx.course.enrollment.mode_changed',
  'edx.course.enrollment.upgrade.succeeded',
  'speed_change_video',
  'problem_check',
  'problem_save',
  'problem_reset',
]);
const R9_STATE_TEXT = ['input_state', 'correct_map', 'student_answers'] as const;
const R10_TEXT = ['correct_map', 'answers', 'submission', 'old_state', 'new_state', 'permutation', 'options_selected', 'corrections'] as const;
const R12_CONTEXT_MOVED = ['application', 'client', 'received_at', 'component', 'open_in_browser_url', 'asides'] as const;
const R12_MODULE_MOVED = ['usage_key', 'original_usage_version', 'original_usage_key'] as const;
const R13_TOP = ['referer', 'accept_language', 'nonInteraction', 'label', 'roles', 'environment', 'minion_id'] as const;
const R13_ES = [
  'requested_skip_interval',
  'submitted_answer',
  'num_attempts',
  'task_id',
  'content',
  'widget_placement',
  'tab_count',
  'current_tab',
  'target_tab',
  'duration',
  'play_medium',
] as const;

const INT64_LIMIT = 9223372036854775808; // 2^63
const DECIMAL_RE = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const INTEGER_RE = /^\s*[+-]?\d+\s*$/;

// ---------------------------------------------------------------------------------------------
// Small helpers

/**
 * Removes a key without `delete`, which would switch the V8 object to slow dictionary mode (slower
 * loops and JSON.stringify). The value becomes `undefined`; R17/R19 rebuild the object without it.
 */
function unset(o: JsonObject, k: string): void {
  (o as Record<string, Json | undefined>)[k] = undefined;
}

/** Sets an own property, also for the name `__proto__` (which plain assignment would not). */
function setOwn(o: JsonObject, k: string, v: Json): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/** `base`, or `base_2`, `base_3`… : the first name that `o` does not already hold. */
function freeKey(o: JsonObject, base: string): string {
  if (!Object.hasOwn(o, base)) return base;
  for (let i = 2; ; i++) {
    const k = `${base}_${i}`;
    if (!Object.hasOwn(o, k)) return k;
  }
}

/** Puts `v` into the mongoid container at `path` + `key`, creating levels; never overwrites. */
function park(c: JsonObject, path: readonly string[], key: string, v: Json): void {
  let o = c;
  for (let i = 0; i < path.length; i++) {
    let name = path[i]!;
    let next = o[name];
    for (let n = 2; next !== undefined && !isObject(next); n++) {
      name = `${path[i]!}_${n}`;
      next = o[name];
    }
    if (next === undefined) {
      next = {};
      o[name] = next;
    }
    o = next as JsonObject;
  }
  setOwn(o, freeKey(o, key), v);
}

/** First character can start a JSON text (after JSON whitespace). */
function mayBeJson(s: string): boolean {
  const n = s.length;
  let i = 0;
  let c = 0;
  while (i < n) {
    c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  if (i === n) return false;
  // { [ " - 0-9 t f n
  return c === 123 || c === 91 || c === 34 || c === 45 || (c >= 48 && c <= 57) || c === 116 || c === 102 || c === 110;
}

/** A finite float from a number or a decimal string, else null. */
function finiteFloat(v: Json): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && DECIMAL_RE.test(v)) {
    const f = Number(v);
    return Number.isFinite(f) ? f : null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The rules, in order

/** R1: fill top-level course_id from context.course_id (no conversion). */
function r1CourseId(ev: JsonObject, ctx: JsonObject | null): void {
  if (ev.course_id !== undefined || ctx === null) return;
  const cid = ctx.course_id;
  if (typeof cid === 'string' && cid !== '') ev.course_id = cid;
}

/** R2: fill module_id from §4 on the raw event; errors are swallowed. `decoded` gets what rule A7 decoded. */
function r2ModuleId(ev: JsonObject, decoded: DecodedEvent): void {
  if (ev.module_id !== undefined) return;
  let id: string | null = null;
  try {
    id = extractModuleId(ev, decoded).id;
  } catch {
    return;
  }
  if (typeof id === 'string' && id !== '') ev.module_id = id;
}

/** R3: default `event` is "". */
function r3DefaultEvent(ev: JsonObject): Json {
  const e = ev.event;
  if (e === undefined) {
    ev.event = '';
    return '';
  }
  return e;
}

/**
 * R4 + R5: decode `event` and set it to the JSON text of the decoded value; returns that value.
 * The text R2 decoded already (rule A7 of module_id) is not decoded twice.
 */
function r4r5DecodeAndSerialise(ev: JsonObject, raw: Json, byR2: DecodedEvent): Json {
  if (typeof raw === 'string') {
    if (mayBeJson(raw)) {
      try {
        const decoded = (byR2.text === raw ? byR2.value : JSON.parse(raw)) as Json;
        ev.event = raw; // R5: the raw text already is a JSON text of the decoded value
        return decoded;
      } catch {
        // not JSON: the string itself is the payload
      }
    }
    ev.event = JSON.stringify(raw);
    return raw;
  }
  // R4: objects are already decoded; other non-strings cannot be decoded and stay.
  ev.event = JSON.stringify(raw) ?? 'null';
  return raw;
}

/** The `event` text the rewrite (R3–R5) gives an event whose raw `event` is `raw` (undefined: absent). */
export function rewrittenEventText(raw: Json | undefined): string {
  const row: JsonObject = {};
  r4r5DecodeAndSerialise(row, raw === undefined ? '' : raw, {});
  return row.event as string;
}

/** R6: build event_struct; returns it when it is the full decoded object (R8–R10 apply), else null. */
function r6EventStruct(ev: JsonObject, decoded: Json): JsonObject | null {
  if (!isObject(decoded)) {
    if (ev.event_struct !== undefined) unset(ev, 'event_struct');
    return null;
  }
  if (isFullStructType(ev.event_type)) {
    ev.event_struct = decoded;
    return decoded;
  }
  const q = decoded.query;
  ev.event_struct = {
    GET: JSON.stringify(decoded.GET) ?? 'null',
    POST: JSON.stringify(decoded.POST) ?? 'null',
    query: q === undefined ? null : q,
  };
  return null;
}

export function isFullStructType(t: Json | undefined): boolean {
  if (typeof t !== 'string') return false;
  if (!(KNOWN.has(t) || t.includes('problem_'))) return false;
  return !(t.includes('video_embedded') || t.includes('harvardx.')); // 'harvardx.' covers 'harvardx.button'
}

/** R7: Mongo `_id` → mongoid. */
function r7MongoId(ev: JsonObject): void {
  const id = ev._id;
  if (id === undefined) return;
  unset(ev, '_id');
  if (id === null) return;
  if (isObject(id) && typeof id.$oid === 'string') ev.mongoid = id.$oid;
  else if (typeof id === 'string') ev.mongoid = id;
  else ev.mongoid = JSON.stringify(id);
}

/** R8: GET/POST of the full struct to JSON text. */
function r8GetPostText(es: JsonObject): void {
  if (es.GET !== undefined) es.GET = JSON.stringify(es.GET);
  if (es.POST !== undefined) es.POST = JSON.stringify(es.POST);
}

/** R9: state.input_state / correct_map / student_answers to JSON text (objects only, REC). */
function r9StateText(es: JsonObject): void {
  const st = es.state;
  if (!isObject(st)) return;
  for (const k of R9_STATE_TEXT) {
    const v = st[k];
    if (v !== undefined) st[k] = JSON.stringify(v);
  }
}

/** R10: more event_struct fields to JSON text. */
function r10MoreText(es: JsonObject): void {
  for (const k of R10_TEXT) {
    const v = es[k];
    if (v !== undefined) es[k] = JSON.stringify(v);
  }
}

/** R11: context.course_user_tags to JSON text. */
function r11UserTags(ctx: JsonObject): void {
  const v = ctx.course_user_tags;
  if (v !== undefined) ctx.course_user_tags = JSON.stringify(v);
}

/** R12: context.agent := JSON text of {oldagent, moved context / module keys}. */
function r12Agent(ctx: JsonObject): void {
  const old = ctx.agent;
  let s = '{"oldagent":' + (old === undefined || old === null ? '""' : JSON.stringify(old));
  for (const k of R12_CONTEXT_MOVED) {
    const v = ctx[k];
    if (v !== undefined) {
      s += ',"' + k + '":' + JSON.stringify(v);
      unset(ctx, k);
    }
  }
  const mod = ctx.module;
  if (isObject(mod)) {
    for (const k of R12_MODULE_MOVED) {
      const v = mod[k];
      if (v !== undefined) {
        s += ',"module.' + k + '":' + JSON.stringify(v);
        unset(mod, k);
      }
    }
  }
  ctx.agent = s + '}';
}

/** R13: park fields in the mongoid container (serialised after R19, see `r13SerialiseMongoid`). */
function r13Park(ev: JsonObject, ctx: JsonObject | null, es: JsonObject | null, opts: RephraseOptions | undefined): JsonObject {
  const old = ev.mongoid;
  const c: JsonObject = isObject(old) ? old : { old_mongoid: old === undefined ? null : old };
  if (old !== undefined) unset(ev, 'mongoid'); // the JSON text is written at the end
  for (const k of R13_TOP) {
    const v = ev[k];
    if (v !== undefined) {
      unset(ev, k);
      park(c, NO_PATH, k, v);
    }
  }
  if (ctx !== null) {
    const v = ctx.label;
    if (v !== undefined) {
      unset(ctx, 'label');
      park(c, PATH_CONTEXT, 'label', v);
    }
  }
  if (es !== null) {
    for (const k of R13_ES) {
      const v = es[k];
      if (v !== undefined) {
        unset(es, k);
        park(c, PATH_ES, k, v);
      }
    }
    const st = es.state;
    if (isObject(st)) {
      const v = st.has_saved_answers;
      if (v !== undefined) {
        unset(st, 'has_saved_answers');
        park(c, PATH_ES_STATE, 'has_saved_answers', v);
      }
    }
  }
  if (opts?.courseIdGuessed) c.course_id_guessed = true;
  return c;
}

/** R14: event_struct `child-id` → `child_id` (when free; else R17 suffixes it). */
function r14ChildId(es: JsonObject): void {
  const v = es['child-id'];
  if (v === undefined || es.child_id !== undefined) return;
  unset(es, 'child-id');
  es.child_id = v;
}

/** R15: context.user_id "" is removed. */
function r15EmptyUserId(ctx: JsonObject): void {
  if (ctx.user_id === '') unset(ctx, 'user_id');
}

/** R16 (REC): remove a non-finite or unparseable event_struct.new_speed. */
function r16NewSpeed(es: JsonObject): void {
  const v = es.new_speed;
  if (v !== undefined && finiteFloat(v) === null) unset(es, 'new_speed');
}

/** R17 helpers. */
function keyIsFunny(k: string): boolean {
  const c = k.charCodeAt(0);
  if (c >= 48 && c <= 57) return true;
  if (c === 105) return k.startsWith('i4x-');
  if (c === 120) return k.startsWith('xblock.');
  return false;
}

function keyNeedsRename(k: string): boolean {
  const n = k.length;
  if (n === 0) return true;
  for (let i = 0; i < n; i++) {
    const c = k.charCodeAt(i);
    if (c === 45 || c === 46) return true; // '-' '.'
  }
  return false;
}

const KEY_FUNNY = 1;
const KEY_RENAME = 2;
/**
 * keyIsFunny / keyNeedsRename of short keys, remembered: R17 looks at every key of every event,
 * and the same few dozen names come back on every line (a map lookup costs less than the
 * character loop). Bounded in count and in key length, so hostile keys cannot grow it.
 */
const keyFlagsCache = new Map<string, number>();

function keyFlags(k: string): number {
  let f = keyFlagsCache.get(k);
  if (f === undefined) {
    f = (keyIsFunny(k) ? KEY_FUNNY : 0) | (keyNeedsRename(k) ? KEY_RENAME : 0);
    if (k.length <= 64) {
      if (keyFlagsCache.size >= 4096) keyFlagsCache.clear();
      keyFlagsCache.set(k, f);
    }
  }
  return f;
}

/** Whether R17 does anything about a key (funny: its object becomes text; or renamed). */
export function keyTouchedByR17(k: string): boolean {
  return keyFlags(k) !== 0;
}

function sanitisedKey(k: string): string {
  return k === '' ? '_empty' : k.replaceAll('-', '_').replaceAll('.', '__');
}

/** A copy of `o` with keys renamed (order kept; removed keys dropped). Keys that need no renaming
 * keep their names; a renamed key that would collide gets a `_2`, `_3`… suffix. */
function renamedCopy(o: JsonObject, top: boolean): JsonObject {
  const r: JsonObject = {};
  for (const k in o) {
    const v = o[k];
    if (v === undefined) continue;
    let name = k;
    const flags = keyFlags(k);
    if ((flags & KEY_RENAME) !== 0 && !(top && (flags & KEY_FUNNY) !== 0)) {
      const base = sanitisedKey(k);
      name = base;
      for (let i = 2; Object.hasOwn(r, name) || Object.hasOwn(o, name); i++) name = `${base}_${i}`;
    }
    setOwn(r, name, v);
  }
  return r;
}

/**
 * R17 on one object: returns the object to keep (`o`, or a renamed copy), or null when `o` is
 * "funny" (a nested funny object is left untouched; its parent replaces it by its JSON text).
 * At the top level funny keys are skipped instead.
 */
function sanitiseObject(o: JsonObject, top: boolean): JsonObject | null {
  let rename = false;
  for (const k in o) {
    const flags = keyFlags(k);
    if ((flags & KEY_FUNNY) !== 0) {
      if (top) continue;
      return null;
    }
    if ((flags & KEY_RENAME) !== 0) rename = true;
  }
  const out = rename ? renamedCopy(o, top) : o;
  for (const k in out) {
    const v = out[k];
    if (!isObject(v) || (top && (keyFlags(k) & KEY_FUNNY) !== 0)) continue;
    const nv = sanitiseObject(v, false);
    if (nv === null) setOwn(out, k, JSON.stringify(v));
    else if (nv !== v) setOwn(out, k, nv);
  }
  return out;
}

/** R17: key sanitising, recursively over objects, from the top level. */
function r17SanitiseKeys(ev: JsonObject): JsonObject {
  return sanitiseObject(ev, true) ?? ev;
}

/** R18: drop the internal `event_js` flag. */
function r18DropEventJs(ev: JsonObject): void {
  if (ev.event_js !== undefined) unset(ev, 'event_js');
}

/** Marker for "cannot be coerced: park it in mongoid". */
const PARK = undefined;

function coerceText(v: Json): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}

function coerceInt(v: Json): number | null | typeof PARK {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v < INT64_LIMIT && v >= -INT64_LIMIT) return v;
    return Number.isFinite(v) ? PARK : null;
  }
  if (typeof v === 'string') {
    if (!INTEGER_RE.test(v)) return null;
    const n = Number(v);
    return n < INT64_LIMIT && n >= -INT64_LIMIT ? n : null;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return PARK;
}

function coerceFloat(v: Json): number | null | typeof PARK {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'object') return PARK;
  return finiteFloat(v);
}

function coerceBool(v: Json): boolean | typeof PARK {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') {
    const l = v.toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
  }
  return PARK;
}

/**
 * R19 on one record level: coerce known fields, park unknown / uncoercible ones in mongoid.
 * Returns `o`, or a copy without the removed keys (always a copy when `copy` is set).
 */
function conformRecord(o: JsonObject, rec: CompiledRecord, c: JsonObject, copy: boolean): JsonObject {
  const fields = rec.fields;
  for (const k in o) {
    const v = o[k];
    if (v === undefined) {
      copy = true;
      continue;
    }
    const t = fields.get(k);
    if (t === undefined) {
      park(c, rec.path, k, v);
      unset(o, k);
      copy = true;
      continue;
    }
    if (v === null) continue;
    let nv: Json | undefined;
    switch (t) {
      case 'S':
      case 'TS':
        if (typeof v === 'string') continue;
        nv = coerceText(v);
        break;
      case 'I':
        if (typeof v === 'number' && Number.isInteger(v) && v < INT64_LIMIT && v >= -INT64_LIMIT) continue;
        nv = coerceInt(v);
        break;
      case 'F':
        if (typeof v === 'number' && Number.isFinite(v)) continue;
        nv = coerceFloat(v);
        break;
      case 'B':
        if (typeof v === 'boolean') continue;
        nv = coerceBool(v);
        break;
      default:
        nv = isObject(v) ? conformRecord(v, t, c, false) : PARK;
        if (nv === v) continue;
    }
    if (nv === PARK) {
      park(c, rec.path, k, v);
      unset(o, k);
      copy = true;
    } else o[k] = nv;
  }
  if (!copy) return o;
  const r: JsonObject = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined) r[k] = v;
  }
  return r;
}

/** R19: schema conformance with all coercions (REC), from the top level; returns the row. */
function r19Conform(ev: JsonObject, c: JsonObject): JsonObject {
  return conformRecord(ev, ROOT, c, true);
}

/** R13 (end): add the placeholder levels and write mongoid as JSON text. */
function r13SerialiseMongoid(row: JsonObject, c: JsonObject): void {
  const es = c.event_struct;
  if (es === undefined && c.context === undefined) {
    // the common case: append both placeholders to the text, without building them
    const s = JSON.stringify(c);
    row.mongoid = (s.length > 2 ? s.slice(0, -1) + ',' : '{') + '"event_struct":{"state":{}},"context":{}}';
    return;
  }
  if (es === undefined) c.event_struct = { state: {} };
  else if (isObject(es) && es.state === undefined) es.state = {};
  if (c.context === undefined) c.context = {};
  row.mongoid = JSON.stringify(c);
}

// ---------------------------------------------------------------------------------------------

function rephraseRules(ev: JsonObject, opts: RephraseOptions | undefined): JsonObject {
  const ctx0 = ev.context;
  const ctx = isObject(ctx0) ? ctx0 : null;
  r1CourseId(ev, ctx);
  const decodedByR2: DecodedEvent = {};
  r2ModuleId(ev, decodedByR2);
  const raw = r3DefaultEvent(ev);
  const decoded = r4r5DecodeAndSerialise(ev, raw, decodedByR2);
  const full = r6EventStruct(ev, decoded);
  r7MongoId(ev);
  if (full !== null) {
    r8GetPostText(full);
    r9StateText(full);
    r10MoreText(full);
  }
  if (ctx !== null) {
    r11UserTags(ctx);
    r12Agent(ctx);
  }
  const es0 = ev.event_struct;
  const es = isObject(es0) ? es0 : null;
  const container = r13Park(ev, ctx, es, opts);
  if (es !== null) r14ChildId(es);
  if (ctx !== null) r15EmptyUserId(ctx);
  if (es !== null) r16NewSpeed(es);
  const renamed = r17SanitiseKeys(ev);
  r18DropEventJs(renamed);
  const row = r19Conform(renamed, container);
  r13SerialiseMongoid(row, container);
  return row;
}

/** Last resort when a rule threw (e.g. nesting deeper than the JS stack): a minimal valid row. */
function fallbackRow(ev: JsonObject, err: unknown, opts: RephraseOptions | undefined): JsonObject {
  const row: JsonObject = {};
  for (const [k, t] of ROOT.fields) {
    const v = ev[k];
    if (typeof t === 'string' && typeof v === 'string' && k !== 'mongoid' && k !== 'event_js') row[k] = v;
  }
  if (row.event === undefined) row.event = '""';
  const old = ev.mongoid;
  const c: JsonObject = { old_mongoid: typeof old === 'string' ? old : null, rephrase_error: String((err as Error)?.message ?? err).slice(0, 200) };
  if (opts?.courseIdGuessed) c.course_id_guessed = true;
  r13SerialiseMongoid(row, c);
  return row;
}

/**
 * Rewrites a raw event into a row of the fixed schema (spec §3) and returns the row. Never throws.
 * The row is a new top-level object that reuses (and has mutated) the nested objects of `ev`:
 * use the returned row, not `ev`, afterwards.
 */
export function rephrase(ev: JsonObject, opts?: RephraseOptions): JsonObject {
  try {
    return rephraseRules(ev, opts);
  } catch (err) {
    return fallbackRow(ev, err, opts);
  }
}
