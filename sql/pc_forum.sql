-- pc_forum: each author's forum documents (spec §6.4); anonymous posts count for their author.
-- Columns: user_id, nforum, nvotes, npinned, nendorsed, nthread, ncomment.
-- Inputs: forum.
SELECT author_id AS user_id,
  count(*) AS nforum,
  CAST(sum(votes_count) AS BIGINT) AS nvotes,
  count(*) FILTER (WHERE pinned) AS npinned,
  count(*) FILTER (WHERE endorsed) AS nendorsed,
  count(*) FILTER (WHERE _type = 'CommentThread') AS nthread,
  count(*) FILTER (WHERE _type = 'Comment') AS ncomment
FROM {{forum}}
WHERE author_id IS NOT NULL
GROUP BY author_id
