-- forum_person: per learner and forum post, what the learner did with it (spec
-- sql-and-person-course.md §4.3).
-- Columns: username, course_id, slug_id, slug_type, thread_id, title, wrote, read, pinned,
--   upvoted, unvoted, followed, first_time, last_time.
-- Inputs: forum_posts (setup-sql), forum_events (person-day).
-- A full outer join of the learner's own posts (wrote = 1) and the read-type events (read,
-- read_inline, pin, upvote, unvote, follow_thread), each event joined to every post of its thread
-- and counted per (learner, post). first_time / last_time: the earliest / latest of the write
-- time and the events. An interpretation table: person_course does not read it.
WITH
wrote AS (
  SELECT username, slug_id, 1 AS wrote, first_time AS t FROM {{forum_posts}} WHERE username IS NOT NULL
),
acts AS (
  SELECT e.username, p.slug_id,
    count(*) FILTER (WHERE e.forum_action IN ('read', 'read_inline')) AS read,
    count(*) FILTER (WHERE e.forum_action = 'pin') AS pinned,
    count(*) FILTER (WHERE e.forum_action = 'upvote') AS upvoted,
    count(*) FILTER (WHERE e.forum_action = 'unvote') AS unvoted,
    count(*) FILTER (WHERE e.forum_action = 'follow_thread') AS followed,
    min(e.time) AS first_event, max(e.time) AS last_event
  FROM {{forum_events}} e
  JOIN {{forum_posts}} p ON p.thread_id = e.thread_id
  WHERE e.forum_action IN ('read', 'read_inline', 'pin', 'upvote', 'unvote', 'follow_thread') AND e.username IS NOT NULL AND e.username <> ''
  GROUP BY 1, 2
)
SELECT
  coalesce(w.username, a.username) AS username,
  p.course_id, p.slug_id, p.slug_type, p.thread_id, p.title,
  coalesce(w.wrote, 0) AS wrote,
  coalesce(a.read, 0) AS read, coalesce(a.pinned, 0) AS pinned, coalesce(a.upvoted, 0) AS upvoted,
  coalesce(a.unvoted, 0) AS unvoted, coalesce(a.followed, 0) AS followed,
  least(w.t, a.first_event) AS first_time,
  greatest(w.t, a.last_event) AS last_time
FROM wrote w
FULL OUTER JOIN acts a ON a.username = w.username AND a.slug_id = w.slug_id
JOIN {{forum_posts}} p ON p.slug_id = coalesce(w.slug_id, a.slug_id)
ORDER BY username, first_time, slug_id
