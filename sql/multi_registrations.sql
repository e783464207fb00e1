-- multi_registrations (spec §8.2 step 12): courses each user is registered in (no role filter).
-- Columns: user_id, n_courses_registered.
-- Inputs: person_course_all.
SELECT user_id, count(DISTINCT course_id) AS n_courses_registered
FROM {{person_course_all}}
GROUP BY user_id
ORDER BY user_id
