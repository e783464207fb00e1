-- time_on_task: per learner and UTC date, the time spent (spec tracking-logs.md §6.1, REC).
-- Columns: course_id, date, username, total_time_5, total_time_30, total_video_time_5,
--   total_video_time_30, serial_video_time_30, total_problem_time_5, total_problem_time_30,
--   serial_problem_time_30, total_forum_time_5, total_forum_time_30, serial_forum_time_30,
--   total_text_time_5, total_text_time_30, serial_text_time_30 (seconds; NULL when no gap counts).
-- Input: time_on_task_intraday, per learner-day the sums of the gaps within the day (µs) and the
-- day's first and last events (all, per category, xevents). Here each day gets the gaps that
-- start on an earlier day: from the previous active day's last event to the day's first event,
-- from the last earlier X event to the day's first X event, and from the last earlier xevent to
-- the day's first xevent (for the categories present at that instant), each kept when strictly
-- below the timeout (300 s, 1800 s). So the chain runs over the learner's whole history, whatever
-- the order the inputs were loaded in (docs/deviations.md P15).
-- A learner-day has a row when one of its events has a predecessor: every day but the learner's
-- first, and the first when it has two events or more (the original drops the first event).
WITH prior AS (
  SELECT *,
    lag(last_event) OVER (PARTITION BY username ORDER BY date) AS prev_last,
    max(last_video) OVER before AS prev_video,
    max(last_problem) OVER before AS prev_problem,
    max(last_forum) OVER before AS prev_forum,
    max(last_text) OVER before AS prev_text,
    max(last_xevent) OVER before AS prev_xevent
  FROM {{time_on_task_intraday}}
  WINDOW before AS (PARTITION BY username ORDER BY date ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
gaps AS (
  SELECT *,
    date_diff('microsecond', prev_last, first_event) AS gap,
    date_diff('microsecond', prev_video, first_video) AS gap_video,
    date_diff('microsecond', prev_problem, first_problem) AS gap_problem,
    date_diff('microsecond', prev_forum, first_forum) AS gap_forum,
    date_diff('microsecond', prev_text, first_text) AS gap_text,
    date_diff('microsecond', prev_xevent, first_xevent) AS gap_x
  FROM prior
)
SELECT
  course_id, date, username,
  (CASE WHEN gap < 300000000 THEN coalesce(total_time_5_us, 0) + gap ELSE total_time_5_us END) / 1e6 AS total_time_5,
  (CASE WHEN gap < 1800000000 THEN coalesce(total_time_30_us, 0) + gap ELSE total_time_30_us END) / 1e6 AS total_time_30,
  (CASE WHEN gap_video < 300000000 THEN coalesce(total_video_time_5_us, 0) + gap_video ELSE total_video_time_5_us END) / 1e6 AS total_video_time_5,
  (CASE WHEN gap_video < 1800000000 THEN coalesce(total_video_time_30_us, 0) + gap_video ELSE total_video_time_30_us END) / 1e6 AS total_video_time_30,
  (CASE WHEN gap_x < 1800000000 AND (first_xevent_mask & 1) <> 0 THEN coalesce(serial_video_time_30_us, 0) + gap_x ELSE serial_video_time_30_us END) / 1e6 AS serial_video_time_30,
  (CASE WHEN gap_problem < 300000000 THEN coalesce(total_problem_time_5_us, 0) + gap_problem ELSE total_problem_time_5_us END) / 1e6 AS total_problem_time_5,
  (CASE WHEN gap_problem < 1800000000 THEN coalesce(total_problem_time_30_us, 0) + gap_problem ELSE total_problem_time_30_us END) / 1e6 AS total_problem_time_30,
  (CASE WHEN gap_x < 1800000000 AND (first_xevent_mask & 2) <> 0 THEN coalesce(serial_problem_time_30_us, 0) + gap_x ELSE serial_problem_time_30_us END) / 1e6 AS serial_problem_time_30,
  (CASE WHEN gap_forum < 300000000 THEN coalesce(total_forum_time_5_us, 0) + gap_forum ELSE total_forum_time_5_us END) / 1e6 AS total_forum_time_5,
  (CASE WHEN gap_forum < 1800000000 THEN coalesce(total_forum_time_30_us, 0) + gap_forum ELSE total_forum_time_30_us END) / 1e6 AS total_forum_time_30,
  (CASE WHEN gap_x < 1800000000 AND (first_xevent_mask & 4) <> 0 THEN coalesce(serial_forum_time_30_us, 0) + gap_x ELSE serial_forum_time_30_us END) / 1e6 AS serial_forum_time_30,
  (CASE WHEN gap_text < 300000000 THEN coalesce(total_text_time_5_us, 0) + gap_text ELSE total_text_time_5_us END) / 1e6 AS total_text_time_5,
  (CASE WHEN gap_text < 1800000000 THEN coalesce(total_text_time_30_us, 0) + gap_text ELSE total_text_time_30_us END) / 1e6 AS total_text_time_30,
  (CASE WHEN gap_x < 1800000000 AND (first_xevent_mask & 8) <> 0 THEN coalesce(serial_text_time_30_us, 0) + gap_x ELSE serial_text_time_30_us END) / 1e6 AS serial_text_time_30
FROM gaps
WHERE prev_last IS NOT NULL OR nevents > 1
ORDER BY date, username
