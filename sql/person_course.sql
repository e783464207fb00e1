-- person_course: one row per learner of the course (spec sql-and-person-course.md §6, REC).
-- Columns (82, in the order and with the types of schemas/person_course.json):
--   course_id, user_id, username, registered, viewed, explored, certified, completed, ip, cc_by_ip,
--   countryLabel, continent, city, region, subdivision, postalCode, un_major_region,
--   un_economic_group, un_developing_nation, un_special_region, latitude, longitude, LoE, YoB,
--   gender, grade, passing_grade, start_time, first_event, last_event, nevents, ndays_act,
--   nplay_video, nchapters, nforum_posts, nforum_votes, nforum_endorsed, nforum_threads,
--   nforum_comments, nforum_pinned, roles, nprogcheck, nproblem_check, nforum_events, mode,
--   is_active, cert_created_date, cert_modified_date, cert_status, verified_enroll_time,
--   verified_unenroll_time, profile_country, y1_anomalous, email_domain, language,
--   language_download, language_nevents, language_ndiff, ntranscript, nshow_answer, nvideo,
--   nvideos_unique_viewed, nvideos_total_watched, nseq_goto, nseek_video, npause_video, avg_dt,
--   sdv_dt, max_dt, n_dt, sum_dt, roles_isBetaTester, roles_isInstructor, roles_isStaff,
--   roles_isCCX, roles_isFinance, roles_isLibrary, roles_isSales, forumRoles_isAdmin,
--   forumRoles_isCommunityTA, forumRoles_isModerator, forumRoles_isStudent.
-- Inputs: user_info_combo, dump_info (setup-sql's dump date), pc_day_totals, pc_nchapters, pc_forum,
--   roles, pc_geoip, course_modal_language, person_course_video_watched, person_enrollment_verified; parameters
--   parameters course_id, passing_grade (REC: the lowest grade cutoff; '' when none) and
--   and course_chapters (chapters of the course axis; '' when unknown: then nobody explored).
-- Population (§6.7): every user of user_info_combo with a username; log columns NULL for
-- learners never seen in the logs (never 0); viewed from courseware state only.
-- grade (§6.5 row 26): the certificate grade, unless the instructor dashboard has a grade with a
-- timestamp and either there is no certificate grade or the timestamp is later than the dump
-- date's midnight (UTC; a timestamp with a zone offset is converted). completed uses this grade.
WITH
dump AS (SELECT max(sql_dir_date)::TIMESTAMP AS midnight FROM {{dump_info}}),
uic AS (
  SELECT *,
    CASE WHEN regexp_full_match(trim(edxinstructordash_Grade_timestamp), '\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)')
         THEN timezone('UTC', TRY_CAST(trim(edxinstructordash_Grade_timestamp) AS TIMESTAMPTZ))
         ELSE TRY_CAST(trim(edxinstructordash_Grade_timestamp) AS TIMESTAMP) END AS dash_time
  FROM {{user_info_combo}} WHERE username IS NOT NULL
),
u AS (
  SELECT uic.*,
    CASE WHEN uic.edxinstructordash_Grade IS NOT NULL AND trim(uic.edxinstructordash_Grade_timestamp) <> ''
          AND (uic.certificate_grade IS NULL OR uic.dash_time > dump.midnight)
         THEN uic.edxinstructordash_Grade ELSE uic.certificate_grade END AS final_grade
  FROM uic CROSS JOIN dump
),
params AS (
  SELECT TRY_CAST({{passing_grade}} AS DOUBLE) AS passing_grade,
         coalesce(TRY_CAST({{course_chapters}} AS BIGINT), 9999) AS chapters
)
SELECT
  coalesce(u.enrollment_course_id, u.certificate_course_id, {{course_id}}) AS course_id,
  u.user_id::BIGINT AS user_id,
  u.username,
  true AS registered,
  (nc.user_id IS NOT NULL) AS viewed,
  CASE WHEN nc.user_id IS NOT NULL THEN nc.nchapters >= params.chapters // 2 END AS explored,
  coalesce(u.certificate_status = 'downloadable', false) AS certified,
  coalesce(u.certificate_status = 'downloadable', false)
    OR coalesce(u.final_grade >= params.passing_grade, false) AS completed,
  g.ip, g.cc_by_ip, g.countryLabel, g.continent, g.city, g.region, g.subdivision, g.postalCode,
  g.un_major_region, g.un_economic_group, g.un_developing_nation, g.un_special_region,
  g.latitude::DOUBLE AS latitude, g.longitude::DOUBLE AS longitude,
  u.profile_level_of_education AS LoE,
  u.profile_year_of_birth::BIGINT AS YoB,
  u.profile_gender AS gender,
  u.final_grade::DOUBLE AS grade,
  params.passing_grade,
  u.enrollment_created AS start_time,
  t.first_event, t.last_event,
  t.nevents::BIGINT AS nevents, t.ndays_act::BIGINT AS ndays_act, t.nvideo::BIGINT AS nplay_video,
  nc.nchapters::BIGINT AS nchapters,
  f.nforum::BIGINT AS nforum_posts, f.nvotes::BIGINT AS nforum_votes, f.nendorsed::BIGINT AS nforum_endorsed,
  f.nthread::BIGINT AS nforum_threads, f.ncomment::BIGINT AS nforum_comments, f.npinned::BIGINT AS nforum_pinned,
  r.roles,
  t.nprogcheck::BIGINT AS nprogcheck, t.nproblem_check::BIGINT AS nproblem_check, t.nforum::BIGINT AS nforum_events,
  u.enrollment_mode AS mode,
  u.enrollment_is_active::BIGINT AS is_active,
  strftime(u.certificate_created_date, '%Y-%m-%d %H:%M:%S') AS cert_created_date,
  strftime(u.certificate_modified_date, '%Y-%m-%d %H:%M:%S') AS cert_modified_date,
  u.certificate_status AS cert_status,
  v.verified_enroll_time, v.verified_unenroll_time,
  u.profile_country,
  u.y1_anomalous::BIGINT AS y1_anomalous,
  -- REC: the text after the last @ (the original crashed on emails without one); NULL when there is none
  CASE WHEN position('@' IN coalesce(u.email, '')) > 0 THEN nullif(regexp_extract(u.email, '@([^@]*)$', 1), '') END AS email_domain,
  l.language, l.language_download::BIGINT AS language_download, l.language_nevents::BIGINT AS language_nevents,
  l.language_ndiff::BIGINT AS language_ndiff,
  t.ntranscript::BIGINT AS ntranscript, t.nshow_answer::BIGINT AS nshow_answer, t.nvideo::BIGINT AS nvideo,
  vw.n_unique_videos_watched::BIGINT AS nvideos_unique_viewed, vw.fract_total_videos_watched::DOUBLE AS nvideos_total_watched,
  t.nseq_goto::BIGINT AS nseq_goto, t.nseek_video::BIGINT AS nseek_video, t.npause_video::BIGINT AS npause_video,
  t.avg_dt::DOUBLE AS avg_dt, t.sdv_dt::DOUBLE AS sdv_dt, t.max_dt::DOUBLE AS max_dt, t.n_dt::BIGINT AS n_dt, t.sum_dt::DOUBLE AS sum_dt,
  r.roles_isBetaTester::BIGINT AS roles_isBetaTester, r.roles_isInstructor::BIGINT AS roles_isInstructor,
  r.roles_isStaff::BIGINT AS roles_isStaff, r.roles_isCCX::BIGINT AS roles_isCCX, r.roles_isFinance::BIGINT AS roles_isFinance,
  r.roles_isLibrary::BIGINT AS roles_isLibrary, r.roles_isSales::BIGINT AS roles_isSales,
  r.forumRoles_isAdmin::BIGINT AS forumRoles_isAdmin, r.forumRoles_isCommunityTA::BIGINT AS forumRoles_isCommunityTA,
  r.forumRoles_isModerator::BIGINT AS forumRoles_isModerator, r.forumRoles_isStudent::BIGINT AS forumRoles_isStudent
FROM u
CROSS JOIN params
LEFT JOIN {{pc_day_totals}} t ON t.username = u.username
LEFT JOIN {{pc_nchapters}} nc ON nc.user_id = u.user_id
LEFT JOIN {{pc_forum}} f ON f.user_id = u.user_id
LEFT JOIN {{roles}} r ON r.user_id = u.user_id
LEFT JOIN {{pc_geoip}} g ON g.username = u.username
LEFT JOIN {{course_modal_language}} l ON l.username = u.username
LEFT JOIN {{person_course_video_watched}} vw ON vw.user_id = u.user_id
LEFT JOIN {{person_enrollment_verified}} v ON v.user_id = u.user_id
ORDER BY u.user_id
