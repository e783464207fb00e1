-- pc_nchapters: distinct chapters each learner has courseware state in (spec §6.4).
-- Columns: user_id, nchapters.
-- Inputs: studentmodule. Only learners with at least one chapter row appear.
SELECT student_id AS user_id, count(DISTINCT module_id) AS nchapters
FROM {{studentmodule}}
WHERE module_type = 'chapter' AND student_id IS NOT NULL
GROUP BY student_id
