-- forum_posts: one row per authored forum document (spec sql-and-person-course.md §4.3).
-- Columns: username, course_id, slug_id, slug_type, thread_id, parent_id, original_poster,
--   responded_to, title, first_time, body_preview.
-- Inputs: forum.
-- slug_type: initial_post = a CommentThread; response_post = a Comment on a thread without a
-- parent; comment = a Comment with a parent (a comment on a response). original_poster is the
-- thread's author, responded_to the parent response's author (comments only), title the thread's.
WITH threads AS (
  SELECT mongoid, author_username, title FROM {{forum}} WHERE _type = 'CommentThread'
),
responses AS (
  SELECT mongoid, author_username FROM {{forum}} WHERE _type = 'Comment'
)
SELECT
  f.author_username AS username,
  f.course_id,
  f.mongoid AS slug_id,
  CASE WHEN f._type = 'CommentThread' THEN 'initial_post'
       WHEN f.parent_id IS NULL THEN 'response_post'
       ELSE 'comment' END AS slug_type,
  CASE WHEN f._type = 'CommentThread' THEN f.mongoid ELSE f.comment_thread_id END AS thread_id,
  f.parent_id,
  t.author_username AS original_poster,
  CASE WHEN f._type = 'Comment' AND f.parent_id IS NOT NULL THEN r.author_username END AS responded_to,
  t.title,
  f.created_at AS first_time,
  left(f.body, 100) AS body_preview
FROM {{forum}} f
LEFT JOIN threads t ON t.mongoid = CASE WHEN f._type = 'CommentThread' THEN f.mongoid ELSE f.comment_thread_id END
LEFT JOIN responses r ON r.mongoid = f.parent_id
WHERE f._type IN ('CommentThread', 'Comment')
ORDER BY first_time, slug_id
