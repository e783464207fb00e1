-- populations_stats_by_course (spec sql-and-person-course.md §8.2 step 11): per course, learners
-- only (REC filter: roles NULL or Student); explored and certified NOT restricted to viewers here.
-- Columns: course_id, registered_sum, viewed_sum, explored_sum, certified_sum, n_have_ip, n_missing_cc.
-- Inputs: person_course_all.
SELECT course_id,
  count(*) AS registered_sum,
  count(*) FILTER (WHERE viewed) AS viewed_sum,
  count(*) FILTER (WHERE explored) AS explored_sum,
  count(*) FILTER (WHERE certified) AS certified_sum,
  count(*) FILTER (WHERE ip IS NOT NULL) AS n_have_ip,
  count(*) FILTER (WHERE ip IS NOT NULL AND cc_by_ip IS NULL) AS n_missing_cc
FROM {{person_course_all}}
WHERE roles IS NULL OR roles = 'Student'
GROUP BY course_id
ORDER BY course_id
