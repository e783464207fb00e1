-- person_course_day: one row per learner per UTC date with base events (spec tracking-logs.md §5, REC).
-- Columns: username, course_id, date, nevents, nprogcheck, nshow_answer, nvideo, nproblem_check,
--   nforum, ntranscript, nseq_goto, nseek_video, npause_video, nvideos_viewed, nvideos_watched_sec,
--   nforum_reads, nforum_posts, nforum_threads, nproblems_answered, nproblems_attempted,
--   nproblems_multiplechoice, nproblems_choice, nproblems_numerical, nproblems_option,
--   nproblems_custom, nproblems_string, nproblems_mixed, nproblems_forumula, nproblems_other,
--   first_event, last_event, avg_dt, sdv_dt, max_dt, n_dt, sum_dt, sumsq_dt (extra: Σ dt², for an
--   exact pooled sdv_dt in person_course).
-- Inputs: pcday_intraday (gap statistics within each day), video_stats_day, forum_events.
-- The gap from a learner's previous active day to the first event of the day (≤ 300 s kept)
-- is added here, so the chain runs across midnight and across inputs whatever the load order.
-- nproblems_* are 0 until person_problem and course_axis exist (weekly dump, issues 4–5).
WITH chained AS (
  SELECT *, LAG(last_event) OVER (PARTITION BY username ORDER BY date) AS prev_last
  FROM {{pcday_intraday}}
),
crossing AS (
  SELECT *,
    CASE WHEN prev_last IS NOT NULL AND date_diff('microsecond', prev_last, first_event) <= 300000000
         THEN date_diff('microsecond', prev_last, first_event) / 1e6 END AS gap_in
  FROM chained
),
gaps AS (
  SELECT *,
    n_dt + CASE WHEN gap_in IS NULL THEN 0 ELSE 1 END AS n_all,
    CASE WHEN gap_in IS NULL THEN sum_dt ELSE coalesce(sum_dt, 0) + gap_in END AS sum_all,
    CASE WHEN gap_in IS NULL THEN sumsq_dt ELSE coalesce(sumsq_dt, 0) + gap_in * gap_in END AS sumsq_all,
    CASE WHEN gap_in IS NULL THEN max_dt ELSE greatest(coalesce(max_dt, gap_in), gap_in) END AS max_all
  FROM crossing
),
video AS (
  SELECT username, date, count(DISTINCT video_id) AS nvideos_viewed, sum(coalesce(position, 0)) AS nvideos_watched_sec
  FROM {{video_stats_day}} GROUP BY username, date
),
forum AS (
  SELECT username, date,
    count(*) FILTER (WHERE forum_action IN ('read', 'read_inline')) AS nforum_reads,
    count(*) FILTER (WHERE forum_action IN ('reply', 'comment_reply', 'created_thread', 'created_response', 'created_comment')) AS nforum_posts,
    count(DISTINCT thread_id) FILTER (WHERE forum_action IN ('read', 'read_inline', 'reply', 'comment_reply', 'created_thread', 'created_response', 'created_comment')) AS nforum_threads
  FROM {{forum_events}} GROUP BY username, date
)
SELECT
  g.username, g.course_id, g.date, g.nevents, g.nprogcheck, g.nshow_answer, g.nvideo, g.nproblem_check,
  g.nforum, g.ntranscript, g.nseq_goto, g.nseek_video, g.npause_video,
  coalesce(v.nvideos_viewed, 0) AS nvideos_viewed, coalesce(v.nvideos_watched_sec, 0) AS nvideos_watched_sec,
  coalesce(f.nforum_reads, 0) AS nforum_reads, coalesce(f.nforum_posts, 0) AS nforum_posts, coalesce(f.nforum_threads, 0) AS nforum_threads,
  0::BIGINT AS nproblems_answered, 0::BIGINT AS nproblems_attempted,
  0::BIGINT AS nproblems_multiplechoice, 0::BIGINT AS nproblems_choice, 0::BIGINT AS nproblems_numerical,
  0::BIGINT AS nproblems_option, 0::BIGINT AS nproblems_custom, 0::BIGINT AS nproblems_string,
  0::BIGINT AS nproblems_mixed, 0::BIGINT AS nproblems_forumula, 0::BIGINT AS nproblems_other,
  g.first_event, g.last_event,
  CASE WHEN g.n_all > 0 THEN g.sum_all / g.n_all END AS avg_dt,
  CASE WHEN g.n_all >= 2 THEN sqrt(greatest(0, (g.sumsq_all - g.sum_all * g.sum_all / g.n_all) / (g.n_all - 1))) END AS sdv_dt,
  g.max_all AS max_dt,
  g.n_all AS n_dt,
  g.sum_all AS sum_dt,
  g.sumsq_all AS sumsq_dt
FROM gaps g
LEFT JOIN video v ON v.username = g.username AND v.date = g.date
LEFT JOIN forum f ON f.username = g.username AND f.date = g.date
ORDER BY g.date, g.username
