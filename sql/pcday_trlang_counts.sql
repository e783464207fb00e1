-- pcday_trlang_counts: transcript languages per learner and day (spec tracking-logs.md §9.4, REC).
-- Columns: username, course_id, date, last_time, resource, resource_event_data,
--   resource_event_type, langcount.
-- Inputs: transcript_events (one row per candidate event, language null for downloads).
-- Identical events are collapsed first; a download takes the language of the learner's previous
-- row when that was a translation event, else 'en'. REC: last_time is the true latest time, and
-- langcount counts events.
WITH collapsed AS (
  SELECT username, course_id, resource_event_type, language, time, count(*) AS n
  FROM {{transcript_events}}
  WHERE username IS NOT NULL AND username <> ''
  GROUP BY username, course_id, resource_event_type, language, time
),
ordered AS (
  SELECT *, LAG(language) OVER (PARTITION BY username ORDER BY time, resource_event_type, language) AS prev_language
  FROM collapsed
)
SELECT
  username, course_id, CAST(time AS DATE) AS date, max(time) AS last_time, 'video' AS resource,
  CASE WHEN resource_event_type = 'transcript_download' THEN coalesce(prev_language, 'en') ELSE language END AS resource_event_data,
  resource_event_type,
  CAST(sum(n) AS BIGINT) AS langcount
FROM ordered
GROUP BY ALL
ORDER BY date, username, resource_event_data, resource_event_type
