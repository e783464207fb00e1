-- person_course_video_watched: videos each learner touched (spec tracking-logs.md §7.4, REC of
-- sql-and-person-course.md §6.1: from the events and user_info_combo directly, no earlier
-- person_course).
-- Columns: user_id, username, n_unique_videos_watched, fract_total_videos_watched.
-- Inputs: video_stats_day, user_info_combo, roles, course_axis.
-- n_unique_videos_watched: distinct video ids with any play / pause / stop event, a NULL id
-- counting as one value (as in the original); the fraction divides by the course's videos
-- (course_axis rows of category video; NULL when the axis has none). Learners whose roles are
-- Staff are left out, as the original does.
WITH per_user AS (
  SELECT username, count(DISTINCT video_id) + max(CASE WHEN video_id IS NULL THEN 1 ELSE 0 END) AS n
  FROM {{video_stats_day}} WHERE username IS NOT NULL AND username <> '' GROUP BY username
),
videos AS (
  SELECT count(*) AS n FROM {{course_axis}} WHERE category = 'video'
)
SELECT u.user_id, u.username, p.n AS n_unique_videos_watched,
  CASE WHEN v.n > 0 THEN p.n / v.n END AS fract_total_videos_watched
FROM per_user p
JOIN {{user_info_combo}} u ON u.username = p.username
LEFT JOIN {{roles}} r ON r.user_id = u.user_id
CROSS JOIN videos v
WHERE r.roles IS NULL OR r.roles = 'Student'
