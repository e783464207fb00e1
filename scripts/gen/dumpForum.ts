/**
 * The forum export of the research dump, `{org}-{course}-{run}-prod.mongo` (spec §4.1): mongoexport
 * extended JSON, one CommentThread or Comment document a line. The world's existing threads and
 * responses (the ids the logs reply to and vote on) exist before the logs start; every post the logs
 * create (edx.forum.{thread,response,comment}.created) is a document with the same id, author, thread,
 * parent and body; votes in the logs are in `votes.up`.
 */
import type { Rng } from './rng.ts';
import type { Course } from './world.ts';
import type { ForumPost, ForumVote } from './dumpLogs.ts';
import type { ForumTruth } from './types.ts';

export interface ForumUser {
  id: number;
  username: string;
}

interface Doc {
  thread: boolean;
  id: string;
  authorId: number;
  authorUsername: string;
  created: number;
  updated: number;
  body: string;
  title: string;
  commentableId: string;
  threadType: string;
  anonymous: boolean;
  closed: boolean;
  pinned: boolean;
  threadId: string;
  parentId: string | null;
  endorsement: { userId: number; time: number } | null;
  up: string[];
  abuse: string[];
  fromLogs: boolean;
  order: number;
}

const BODIES = [
  'Has anyone figured out part (b)? I keep getting a factor of 2 wrong.',
  '¿Cuándo se publican las soluciones de la semana 2?',
  'Le cours est excellent, merci à toute l\'équipe !',
  'The video at 04:12 says "kinetic" but the slide says "potential" — which is it?',
  '请问作业的截止时间是几点（UTC）？',
  'Tip: write the free-body diagram first,\nthen the equations.\n\nIt helps a lot.',
  'I used C:\\Users\\me\\ps1.py and the grader still rejects it.',
  'Thanks, that solved it!',
  'Привет! Есть кто-нибудь из Санкт-Петербурга?',
  'Is the final exam open book?',
];
const TITLES = ['Welcome thread', 'Part (b) factor of 2?', 'Soluciones semana 2', 'Video vs slide', '截止时间', 'Study tips', 'Grader rejects my file', 'Exam rules'];

type DateForm = 0 | 1 | 2;

/** `{"$date": …}` as epoch ms (usually), an ISO string, or a `$numberLong` wrapper. */
function dateJson(ms: number, form: DateForm): string {
  if (form === 1) return `{"$date":${JSON.stringify(new Date(ms).toISOString())}}`;
  if (form === 2) return `{"$date":{"$numberLong":"${ms}"}}`;
  return `{"$date":${ms}}`;
}

function votesJson(up: string[]): string {
  return `{"count":${up.length},"down":[],"down_count":0,"point":${up.length},"up":${JSON.stringify(up)},"up_count":${up.length}}`;
}

export interface ForumInput {
  rng: Rng;
  course: Course;
  /** Candidate authors of the posts that predate the logs (registered users of the course). */
  authors: ForumUser[];
  staff: ForumUser[];
  /** Posts and votes the logs show for this course, in time order. */
  posts: ForumPost[];
  votes: ForumVote[];
  /** Posts that predate the logs are created in [from, to). */
  from: number;
  to: number;
}

export function forumExport(inp: ForumInput): { text: string; truth: ForumTruth } {
  const { rng, course: C, authors, staff } = inp;
  const docs: Doc[] = [];
  const byId = new Map<string, Doc>();
  let order = 0;
  const pickAuthor = (): ForumUser => (staff.length > 0 && rng.chance(0.08) ? rng.pick(staff) : rng.pick(authors));
  const span = Math.max(1, inp.to - inp.from);
  const add = (d: Omit<Doc, 'order'>): Doc => {
    const doc = { ...d, order: order++ };
    docs.push(doc);
    byId.set(doc.id, doc);
    return doc;
  };
  const base = (id: string, a: ForumUser, created: number, thread: boolean): Omit<Doc, 'order'> => ({
    thread, id, authorId: a.id, authorUsername: a.username, created, updated: created, body: rng.pick(BODIES), title: '', commentableId: '',
    threadType: 'discussion', anonymous: false, closed: false, pinned: false, threadId: '', parentId: null, endorsement: null, up: [], abuse: [], fromLogs: false,
  });
  // threads and responses that exist before the logs start
  if (authors.length > 0) {
    const threads: Doc[] = [];
    for (const tid of C.threads) {
      const a = pickAuthor();
      const d = add(base(tid, a, inp.from + Math.floor(rng.next() * span * 0.7), true));
      d.title = rng.pick(TITLES);
      d.commentableId = rng.pick(C.commentables);
      d.threadType = rng.chance(0.2) ? 'question' : 'discussion';
      d.anonymous = rng.chance(0.04);
      d.pinned = rng.chance(0.03) || (staff.some((s) => s.id === a.id) && rng.chance(0.5));
      d.closed = rng.chance(0.02);
      if (rng.chance(0.02)) d.abuse.push(String(rng.pick(authors).id));
      threads.push(d);
    }
    for (const cid of C.comments) {
      const t = rng.pick(threads);
      const a = pickAuthor();
      const d = add(base(cid, a, t.created + Math.floor(rng.next() * (inp.to - t.created)), false));
      d.threadId = t.id;
      if (t.threadType === 'question' && staff.length > 0 && rng.chance(0.3)) d.endorsement = { userId: rng.pick(staff).id, time: d.created + Math.floor(rng.next() * (inp.to - d.created)) };
      if (rng.chance(0.15)) {
        const c = add(base('57' + rng.hex(22), pickAuthor(), d.created + Math.floor(rng.next() * (inp.to - d.created)), false));
        c.threadId = t.id;
        c.parentId = d.id;
      }
    }
    for (const d of docs) {
      const n = rng.chance(0.3) ? rng.range(1, 4) : 0;
      for (let k = 0; k < n; k++) {
        const v = String(rng.pick(authors).id);
        if (!d.up.includes(v)) d.up.push(v);
      }
    }
  }
  // what the logs show
  let fromLogs = 0;
  let dangling = 0;
  for (const p of inp.posts) {
    const created = Math.floor(p.us / 1000);
    const d = add(base(p.id, { id: p.userId, username: p.username }, created, p.kind === 'thread'));
    d.body = p.body;
    d.fromLogs = true;
    fromLogs++;
    if (p.kind === 'thread') {
      d.title = p.title;
      d.commentableId = p.commentableId;
      d.threadType = p.threadType;
      d.anonymous = p.anonymous;
    } else {
      d.threadId = p.threadId;
      if (p.kind === 'comment') d.parentId = p.parentId;
      if (!byId.has(p.threadId) || (d.parentId !== null && !byId.has(d.parentId))) dangling++;
    }
  }
  let logVotes = 0;
  for (const v of inp.votes) {
    const d = byId.get(v.targetId);
    if (!d) continue;
    const id = String(v.userId);
    if (!d.up.includes(id)) d.up.push(id);
    logVotes++;
  }
  // thread counters
  const count = new Map<string, number>();
  const last = new Map<string, number>();
  for (const d of docs) {
    if (d.thread) continue;
    count.set(d.threadId, (count.get(d.threadId) ?? 0) + 1);
    last.set(d.threadId, Math.max(last.get(d.threadId) ?? 0, d.created));
  }
  docs.sort((a, b) => a.created - b.created || a.order - b.order);
  const lines: string[] = [];
  const jid = (id: string): string => `{"$oid":"${id}"}`;
  for (const d of docs) {
    const form = (rng.chance(0.85) ? 0 : rng.chance(0.66) ? 1 : 2) as DateForm;
    const dt = (ms: number): string => dateJson(ms, form);
    const common = `"abuse_flaggers":${JSON.stringify(d.abuse)},"anonymous":${d.anonymous},"anonymous_to_peers":false,"at_position_list":[],"author_id":"${d.authorId}","author_username":${JSON.stringify(d.authorUsername)},"body":${JSON.stringify(d.body)}`;
    if (d.thread) {
      const lastAct = Math.max(d.created, last.get(d.id) ?? 0);
      lines.push(
        `{"_id":${jid(d.id)},"_type":"CommentThread",${common},"closed":${d.closed},"comment_count":${count.get(d.id) ?? 0},"commentable_id":${JSON.stringify(d.commentableId)},"context":"course","course_id":${JSON.stringify(C.id)},` +
          `"created_at":${dt(d.created)},"historical_abuse_flaggers":[],"last_activity_at":${dt(lastAct)},"pinned":${d.pinned},"tags_array":[],"thread_type":"${d.threadType}",` +
          `"title":${JSON.stringify(d.title)},"updated_at":${dt(d.updated)},"visible":true,"votes":${votesJson(d.up)}}`,
      );
    } else {
      const endorsement = d.endorsement ? `,"endorsement":{"time":${dt(d.endorsement.time)},"user_id":"${d.endorsement.userId}"}` : '';
      const parent = d.parentId ? `,"parent_id":${jid(d.parentId)}` : '';
      lines.push(
        `{"_id":${jid(d.id)},"_type":"Comment",${common},"comment_thread_id":${jid(d.threadId)},"course_id":${JSON.stringify(C.id)},"created_at":${dt(d.created)},` +
          `"endorsed":${d.endorsement !== null}${endorsement},"historical_abuse_flaggers":[]${parent},"parent_ids":[${d.parentId ? jid(d.parentId) : ''}],` +
          `"sk":"${d.parentId ? `${d.parentId}-${d.id}` : d.id}","updated_at":${dt(d.updated)},"visible":true,"votes":${votesJson(d.up)}}`,
      );
    }
  }
  const truth: ForumTruth = {
    documents: docs.length,
    threads: docs.filter((d) => d.thread).length,
    responses: docs.filter((d) => !d.thread && d.parentId === null).length,
    comments: docs.filter((d) => !d.thread && d.parentId !== null).length,
    fromLogs,
    logVotes,
    danglingReferences: dangling,
    authors: new Set(docs.map((d) => d.authorId)).size,
    pinned: docs.filter((d) => d.pinned).length,
    endorsed: docs.filter((d) => d.endorsement !== null).length,
    votes: docs.reduce((a, d) => a + d.up.length, 0),
  };
  return { text: lines.length > 0 ? lines.join('\n') + '\n' : '', truth };
}
