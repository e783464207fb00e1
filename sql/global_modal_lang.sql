-- global_modal_lang (spec sql-and-person-course.md §8.2 step 8): each learner's modal transcript
-- language across all the courses, under the original's column names.
-- Columns: username, modal_language, langcount, n_different_lang, language_download.
-- Input: course_modal_language, which the caller replaces by sql/course_modal_language.sql run
-- over the UNION ALL of every course's pcday_trlang_counts: the per-course rule and tie-break
-- (most events; ties to the most recently used language, then the smallest code) over the sums
-- across courses. langcount = events in the modal language, n_different_lang = the number of
-- distinct languages (the original's was a rank), language_download = downloads in the modal
-- language (extra). One row per learner (the original kept every tied language).
SELECT username,
  language AS modal_language,
  CAST(language_nevents AS BIGINT) AS langcount,
  CAST(language_ndiff AS BIGINT) AS n_different_lang,
  CAST(language_download AS BIGINT) AS language_download
FROM {{course_modal_language}}
ORDER BY username
