-- time_on_task_totals: per learner, the sums over all dates of time_on_task's columns (spec
-- tracking-logs.md §6.1; NULL when every date's value is NULL).
-- Columns: course_id, username, then time_on_task's 14 sums in its order.
-- The seconds are added as whole µs (what they were made from), so the totals are exact and do
-- not depend on the order the engine adds them in.
SELECT
  course_id, username,
  sum(round(total_time_5 * 1e6)::BIGINT) / 1e6 AS total_time_5,
  sum(round(total_time_30 * 1e6)::BIGINT) / 1e6 AS total_time_30,
  sum(round(total_video_time_5 * 1e6)::BIGINT) / 1e6 AS total_video_time_5,
  sum(round(total_video_time_30 * 1e6)::BIGINT) / 1e6 AS total_video_time_30,
  sum(round(serial_video_time_30 * 1e6)::BIGINT) / 1e6 AS serial_video_time_30,
  sum(round(total_problem_time_5 * 1e6)::BIGINT) / 1e6 AS total_problem_time_5,
  sum(round(total_problem_time_30 * 1e6)::BIGINT) / 1e6 AS total_problem_time_30,
  sum(round(serial_problem_time_30 * 1e6)::BIGINT) / 1e6 AS serial_problem_time_30,
  sum(round(total_forum_time_5 * 1e6)::BIGINT) / 1e6 AS total_forum_time_5,
  sum(round(total_forum_time_30 * 1e6)::BIGINT) / 1e6 AS total_forum_time_30,
  sum(round(serial_forum_time_30 * 1e6)::BIGINT) / 1e6 AS serial_forum_time_30,
  sum(round(total_text_time_5 * 1e6)::BIGINT) / 1e6 AS total_text_time_5,
  sum(round(total_text_time_30 * 1e6)::BIGINT) / 1e6 AS total_text_time_30,
  sum(round(serial_text_time_30 * 1e6)::BIGINT) / 1e6 AS serial_text_time_30
FROM {{time_on_task}}
GROUP BY course_id, username
ORDER BY username
