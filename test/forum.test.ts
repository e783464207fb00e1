/**
 * The forum export → `forum` rows (spec sql-and-person-course.md §4.2, REC) and forum_posts
 * (§4.3), on hand-made mongoexport lines; expected values written by hand.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FORUM_COLUMNS, mongoDateMicros, rephraseForumLine } from '../src/dump/forum.ts';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import { renderSqlFile } from '../src/warehouse/sqlFile.ts';
import type { Cell } from '../src/warehouse/warehouse.ts';
import { tempDir } from './helpers/logtree.ts';

const THREAD = '{"_id":{"$oid":"t1"},"_type":"CommentThread","course_id":"course-v1:MITx+6.002x+2013_Spring","commentable_id":"c9","thread_type":"discussion","title":"Help","body":"How do I…","author_id":"17","author_username":"alice","anonymous":false,"anonymous_to_peers":false,"closed":false,"pinned":true,"comment_count":2,"created_at":{"$date":1362132000123},"updated_at":{"$date":"2013-03-01T10:00:00.123Z"},"last_activity_at":{"$date":{"$numberLong":"1362135600000"}},"votes":{"count":1,"point":1,"up":["48"],"down":[],"up_count":1,"down_count":0},"tags_array":[],"at_position_list":[],"abuse_flaggers":[],"historical_abuse_flaggers":[],"context":"course","visible":true,"group_id":null,"x-odd.key":1}';
const RESPONSE = '{"_id":{"$oid":"r1"},"_type":"Comment","course_id":"MITx/6.002x/2013_Spring","body":"Read chapter 2","author_id":"18","author_username":"bob","comment_thread_id":{"$oid":"t1"},"parent_ids":[],"endorsed":true,"endorsement":{"user_id":"17","time":{"$date":1362139200000}},"sk":"r1","depth":0,"created_at":{"$date":1362139000000},"votes":{"count":0,"point":0,"up":[],"down":[],"up_count":0,"down_count":0}}';
const COMMENT = '{"_id":{"$oid":"c1"},"_type":"Comment","course_id":"MITx/6.002x/2013_Spring","body":"Thanks!","author_id":17,"author_username":"alice","comment_thread_id":{"$oid":"t1"},"parent_id":{"$oid":"r1"},"parent_ids":[{"$oid":"r1"}],"sk":"r1-c1","created_at":{"$date":1362139300000}}';

/** The three hand-made documents as the `forum` table of schema S. */
async function loadForum(wh: Awaited<ReturnType<typeof openDuckDBWarehouse>>): Promise<void> {
  const rows = [THREAD, RESPONSE, COMMENT].map((l) => {
    const r = rephraseForumLine(l);
    if (!r.ok) throw new Error(r.reason);
    return r.row;
  });
  await wh.replaceTable({ schema: 'S', table: 'forum' }, FORUM_COLUMNS, rows, { command: 'test', step: 'forum' });
}

const at = (name: string, row: Cell[]) => row[FORUM_COLUMNS.findIndex((c) => c.name === name)];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('forum rephrasing (§4.2, REC)', () => {
  it('unwraps ids, parses every date form in full, keeps lists as JSON text, normalises the course id', () => {
    const t = rephraseForumLine(THREAD);
    if (!t.ok) throw new Error(t.reason);
    expect(at('mongoid', t.row)).toBe('t1');
    expect(at('course_id', t.row)).toBe('MITx/6.002x/2013_Spring');
    expect(at('author_id', t.row)).toBe(17); // a string of digits → INTEGER
    expect(at('pinned', t.row)).toBe(true);
    expect(at('created_at', t.row)).toBe(1362132000123000); // epoch ms → µs
    expect(at('updated_at', t.row)).toBe(Date.UTC(2013, 2, 1, 10, 0, 0, 123) * 1000); // ISO with ms (the original kept minutes only)
    expect(at('last_activity_at', t.row)).toBe(1362135600000000); // $numberLong
    expect(at('votes_up', t.row)).toBe('["48"]');
    expect(at('votes_count', t.row)).toBe(1);
    expect(at('group_id', t.row)).toBe(null);
    expect(t.unknownKeys).toEqual(['x-odd.key']); // counted, not loaded; context is dropped silently
    const c = rephraseForumLine(COMMENT);
    if (!c.ok) throw new Error(c.reason);
    expect([at('parent_id', c.row), at('parent_ids', c.row), at('comment_thread_id', c.row)]).toEqual(['r1', 'r1', 't1']);
    const r = rephraseForumLine(RESPONSE);
    if (!r.ok) throw new Error(r.reason);
    expect([at('endorsement_user_id', r.row), at('endorsement_time', r.row), at('endorsed', r.row)]).toEqual([17, 1362139200000000, true]);
  });

  it('rejects what is not a JSON object, with the reason', () => {
    expect(rephraseForumLine('{"_id": ')).toMatchObject({ ok: false, reason: expect.stringContaining('bad JSON') });
    expect(rephraseForumLine('[1]')).toEqual({ ok: false, reason: 'not a JSON object' });
    expect(mongoDateMicros({ $date: 'garbage' })).toBe(null);
    expect(mongoDateMicros('2013-03-01T10:00:00+01:00')).toBe(Date.UTC(2013, 2, 1, 9) * 1000);
  });
});

describe('sql/forum_posts.sql (§4.3)', () => {
  it('classifies posts and links them to their thread and parent', async () => {
    const dir = tempDir('forum');
    dirs.push(dir);
    const wh = await openDuckDBWarehouse(path.join(dir, 'w.duckdb'));
    try {
      await loadForum(wh);
      await wh.createTableAs({ schema: 'S', table: 'forum_posts' }, renderSqlFile('forum_posts', wh.dialect, 'S'), { command: 'test', step: 'forum_posts' });
      const r = await wh.query('SELECT username, slug_id, slug_type, thread_id, parent_id, original_poster, responded_to, title, body_preview FROM S.forum_posts ORDER BY first_time');
      expect(r.rows).toEqual([
        ['alice', 't1', 'initial_post', 't1', null, 'alice', null, 'Help', 'How do I…'],
        ['bob', 'r1', 'response_post', 't1', null, 'alice', null, 'Help', 'Read chapter 2'],
        ['alice', 'c1', 'comment', 't1', 'r1', 'alice', 'bob', 'Help', 'Thanks!'],
      ]);
    } finally {
      await wh.close();
    }
  });
});

describe('sql/forum_person.sql (§4.3)', () => {
  it('joins a learner’s posts and the read-type events on every post of their thread', async () => {
    const dir = tempDir('forumperson');
    dirs.push(dir);
    const wh = await openDuckDBWarehouse(path.join(dir, 'w.duckdb'));
    try {
      await loadForum(wh);
      const { FORUM_EVENTS_COLUMNS } = await import('../src/aggregate/tables.ts');
      const ev = (time: string, user: string, action: string, thread: string | null): Cell[] => [time.slice(0, 10), Date.parse(`${time}Z`) * 1000, user, 'MITx/6.002x/2013_Spring', action, thread, null, null, null, null];
      await wh.replaceTable({ schema: 'S', table: 'forum_events' }, FORUM_EVENTS_COLUMNS, [
        ev('2013-03-02T09:00:00', 'carol', 'read', 't1'), // carol reads the thread: counted on its 3 posts
        ev('2013-03-02T09:05:00', 'carol', 'upvote', 't1'),
        ev('2013-03-02T09:06:00', 'bob', 'read', 't1'), // bob wrote r1 and reads the thread
        ev('2013-03-02T09:07:00', 'carol', 'reply', 't1'), // not a read-type action
        ev('2013-03-02T09:08:00', 'carol', 'read', 't9'), // a thread with no posts in the export
      ], { command: 'test', step: 'forum_events' });
      await wh.createTablesAs(['forum_posts', 'forum_person'].map((t) => ({ table: { schema: 'S', table: t }, selectSql: renderSqlFile(t, wh.dialect, 'S'), provenance: { command: 'test', step: t } })));
      const r = await wh.query(`SELECT username, slug_id, wrote, read, upvoted, strftime(first_time, '%m-%d %H:%M') AS f, strftime(last_time, '%m-%d %H:%M') AS l FROM S.forum_person ORDER BY username, slug_id`);
      expect(r.rows).toEqual([
        ['alice', 'c1', 1, 0, 0, '03-01 12:01', '03-01 12:01'],
        ['alice', 't1', 1, 0, 0, '03-01 10:00', '03-01 10:00'],
        ['bob', 'c1', 0, 1, 0, '03-02 09:06', '03-02 09:06'],
        ['bob', 'r1', 1, 1, 0, '03-01 11:56', '03-02 09:06'],
        ['bob', 't1', 0, 1, 0, '03-02 09:06', '03-02 09:06'],
        ['carol', 'c1', 0, 1, 1, '03-02 09:00', '03-02 09:05'],
        ['carol', 'r1', 0, 1, 1, '03-02 09:00', '03-02 09:05'],
        ['carol', 't1', 0, 1, 1, '03-02 09:00', '03-02 09:05'],
      ]);
    } finally {
      await wh.close();
    }
  });
});
