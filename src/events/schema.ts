/**
 * The fixed warehouse schema of a rewritten tracking-log row (spec tracking-logs.md §3.3,
 * the original `schema_tracking_log.json`). Every field is NULLABLE.
 *
 * A field maps to its scalar type, or to a nested record (an object of the same shape):
 * `S` string, `I` integer (INT64), `F` float (FLOAT64), `B` boolean, `TS` timestamp.
 *
 * The schema is closed: the rewrite (`rephrase.ts`, rule R19) parks every key that is not
 * listed here into `mongoid`, at the same path.
 */
export type ScalarType = 'S' | 'I' | 'F' | 'B' | 'TS';

export interface RecordSchema {
  readonly [field: string]: FieldSchema;
}

export type FieldSchema = ScalarType | RecordSchema;

export function isRecordSchema(f: FieldSchema): f is RecordSchema {
  return typeof f === 'object';
}

const STATE = {
  student_answers: 'S',
  seed: 'I',
  done: 'B',
  correct_map: 'S',
  input_state: 'S',
} as const;

/** `context` record (§3.3). */
export const CONTEXT_SCHEMA = {
  course_id: 'S',
  course_user_tags: 'S',
  user_id: 'I',
  org_id: 'S',
  username: 'S',
  ip: 'S',
  agent: 'S',
  host: 'S',
  session: 'S',
  path: 'S',
  module: { display_name: 'S' },
} as const satisfies RecordSchema;

/** `event_struct` record (§3.3). */
export const EVENT_STRUCT_SCHEMA = {
  POST: 'S',
  GET: 'S',
  course_id: 'S',
  user_id: 'I',
  mode: 'S',
  data: 'S',
  code: 'S',
  id: 'S',
  currentTime: 'F',
  new: 'I',
  old: 'I',
  problem: 'S',
  type: 'S',
  new_time: 'F',
  old_time: 'F',
  problem_id: 'S',
  state: STATE,
  answers: 'S',
  submission: 'S',
  success: 'S',
  grade: 'F',
  correct_map: 'S',
  attempts: 'I',
  max_grade: 'F',
  current_time: 'F',
  old_speed: 'F',
  new_speed: 'F',
  speed: 'F',
  failure: 'S',
  course: 'S',
  total_results: 'I',
  query: 'S',
  corrected_text: 'S',
  page: 'I',
  child_id: 'S',
  group_id: 'I',
  partition_name: 'S',
  partition_id: 'I',
  group_name: 'S',
  old_state: 'S',
  new_state: 'S',
  status: 'S',
  is_user_staff: 'S',
  chapter: 'S',
  direction: 'S',
  name: 'S',
  amount: 'F',
  chapter_title: 'S',
  caseSensitive: 'S',
  findPrevious: 'S',
  highlightAll: 'S',
  item_id: 'S',
  submission_returned_uuid: 'S',
  requesting_student_id: 'S',
  saved_response: 'S',
  answer: { text: 'S' },
  created_at: 'S',
  attempt_number: 'I',
  submission_uuid: 'S',
  submitted_at: 'S',
  corrections: 'S',
  options_selected: 'S',
  scorer_id: 'S',
  feedback: 'S',
  score_type: 'S',
  parts: 'S',
  rubric: { content_hash: 'S' },
  scored_at: 'S',
  feedback_text: 'S',
  options: 'S',
  thumbnail_title: 'S',
  location: 'S',
  permutation: 'S',
  url: 'S',
  descriptionText: 'S',
  description: 'S',
  title: 'S',
  aws_secret_key: 'S',
  uploadedFileDir: 'S',
  aws_access_key: 'S',
  bucketName: 'S',
  downvotes: 'I',
  upvotes: 'I',
  uploadedFileName: 'S',
  error: 'S',
  newVotes: 'I',
  oldVotes: 'I',
  old_description: 'S',
  old_title: 'S',
  old_url: 'S',
  old_descriptionText: 'S',
  toggle: 'S',
  reason: 'S',
  isProblematic: 'S',
  oldReason: 'S',
  category: 'I',
  selection: 'S',
  element: 'S',
} as const satisfies RecordSchema;

/**
 * The whole row (§3.3). `vname`, `datafn` and `event_js` are legacy fields that the rewrite
 * never produces (`event_js` is dropped by R18) but that the schema still allows.
 */
export const TRACKING_LOG_SCHEMA = {
  time: 'TS',
  username: 'S',
  ip: 'S',
  event_source: 'S',
  event_type: 'S',
  agent: 'S',
  course_id: 'S',
  module_id: 'S',
  page: 'S',
  host: 'S',
  vname: 'S',
  datafn: 'S',
  event_js: 'S',
  context: CONTEXT_SCHEMA,
  mongoid: 'S',
  event_struct: EVENT_STRUCT_SCHEMA,
  event: 'S',
  name: 'S',
  session: 'S',
} as const satisfies RecordSchema;
