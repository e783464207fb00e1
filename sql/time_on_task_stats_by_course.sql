-- time_on_task_stats_by_course and time_on_task_serial_stats_by_course (spec
-- sql-and-person-course.md §8.2 step 10): per course, the learners' time on task in hours from
-- the courses' time_on_task_totals (tracking-logs.md §6.1, 30-minute timeout), joined to the
-- combined person_course on (course_id, username), learners only (REC filter: roles NULL or Student).
-- The caller puts in {{tot_hours}}: course_id, username, total_hours (total_time_30 / 3600) and
--   video_hours, problem_hours, forum_hours: total_<category>_time_30 / 3600 for the first table,
--   serial_<category>_time_30 / 3600 (time since the previous event of any category) for the
--   serial one, whose columns it renames `_hours` → `_serial_hours` (the original's names).
-- Columns: course_id; sum_<x>_hours for x in total, problem, video, forum; the same sums among
--   viewed, certified and verified (mode verified) learners (sum_<x>_hours_viewed, …_certified,
--   …_verified); median_<x>_hours and median_<x>_hours_viewed / _certified / _verified: discrete
--   medians (the lower middle value) over the learners whose value is not NULL.
WITH t AS (
  SELECT tt.course_id, tt.total_hours, tt.video_hours, tt.problem_hours, tt.forum_hours,
    pc.viewed, pc.certified, coalesce(pc.mode = 'verified', false) AS verified
  FROM {{tot_hours}} tt
  JOIN {{person_course_all}} pc ON pc.course_id = tt.course_id AND pc.username = tt.username
  WHERE (pc.roles IS NULL OR pc.roles = 'Student') AND tt.course_id IS NOT NULL
)
SELECT course_id,
  sum(total_hours) AS sum_total_hours,
  sum(problem_hours) AS sum_problem_hours,
  sum(video_hours) AS sum_video_hours,
  sum(forum_hours) AS sum_forum_hours,
  sum(total_hours) FILTER (WHERE viewed) AS sum_total_hours_viewed,
  sum(problem_hours) FILTER (WHERE viewed) AS sum_problem_hours_viewed,
  sum(video_hours) FILTER (WHERE viewed) AS sum_video_hours_viewed,
  sum(forum_hours) FILTER (WHERE viewed) AS sum_forum_hours_viewed,
  sum(total_hours) FILTER (WHERE certified) AS sum_total_hours_certified,
  sum(problem_hours) FILTER (WHERE certified) AS sum_problem_hours_certified,
  sum(video_hours) FILTER (WHERE certified) AS sum_video_hours_certified,
  sum(forum_hours) FILTER (WHERE certified) AS sum_forum_hours_certified,
  sum(total_hours) FILTER (WHERE verified) AS sum_total_hours_verified,
  sum(problem_hours) FILTER (WHERE verified) AS sum_problem_hours_verified,
  sum(video_hours) FILTER (WHERE verified) AS sum_video_hours_verified,
  sum(forum_hours) FILTER (WHERE verified) AS sum_forum_hours_verified,
  quantile_disc(total_hours, 0.5) AS median_total_hours,
  quantile_disc(problem_hours, 0.5) AS median_problem_hours,
  quantile_disc(video_hours, 0.5) AS median_video_hours,
  quantile_disc(forum_hours, 0.5) AS median_forum_hours,
  quantile_disc(total_hours, 0.5) FILTER (WHERE viewed) AS median_total_hours_viewed,
  quantile_disc(problem_hours, 0.5) FILTER (WHERE viewed) AS median_problem_hours_viewed,
  quantile_disc(video_hours, 0.5) FILTER (WHERE viewed) AS median_video_hours_viewed,
  quantile_disc(forum_hours, 0.5) FILTER (WHERE viewed) AS median_forum_hours_viewed,
  quantile_disc(total_hours, 0.5) FILTER (WHERE certified) AS median_total_hours_certified,
  quantile_disc(problem_hours, 0.5) FILTER (WHERE certified) AS median_problem_hours_certified,
  quantile_disc(video_hours, 0.5) FILTER (WHERE certified) AS median_video_hours_certified,
  quantile_disc(forum_hours, 0.5) FILTER (WHERE certified) AS median_forum_hours_certified,
  quantile_disc(total_hours, 0.5) FILTER (WHERE verified) AS median_total_hours_verified,
  quantile_disc(problem_hours, 0.5) FILTER (WHERE verified) AS median_problem_hours_verified,
  quantile_disc(video_hours, 0.5) FILTER (WHERE verified) AS median_video_hours_verified,
  quantile_disc(forum_hours, 0.5) FILTER (WHERE verified) AS median_forum_hours_verified
FROM t
GROUP BY course_id
ORDER BY course_id
