-- user_info_combo: one row per user of the course (spec sql-and-person-course.md §2, REC).
-- Columns (42, in order): user_id, username, email, is_staff, last_login, date_joined,
--   profile_name, profile_language, profile_location, profile_meta, profile_courseware,
--   profile_gender, profile_mailing_address, profile_year_of_birth, profile_level_of_education,
--   profile_goals, profile_allow_certificate, profile_country, profile_city,
--   enrollment_course_id, enrollment_created, enrollment_is_active, enrollment_mode,
--   certificate_id, certificate_user_id, certificate_download_url, certificate_grade,
--   certificate_course_id, certificate_key, certificate_distinction, certificate_status,
--   certificate_verify_uuid, certificate_download_uuid, certificate_name,
--   certificate_created_date, certificate_modified_date, certificate_error_reason,
--   certificate_mode, id_map_hash_id, edxinstructordash_Grade,
--   edxinstructordash_Grade_timestamp, y1_anomalous.
-- Inputs: users, profiles, enrollment, certificates, user_id_map (the dump's tables, every value
--   VARCHAR, NULL for the dump's NULL, `_row` = line in the file); the course_id parameter is the course.
--   Optional (each stands for no rows when the caller does not pass it; setup-sql always does):
--   mongo_users, mongo_profiles, mongo_enrollment (from_mongodb/), edxinstructordash_grade_report
--   (from_edxinstructordash/grade_report.csv), all raw like the dump's tables; dump_info (the dump
--   date and whether it was pinned).
-- A keyed full outer merge on user_id. For several rows of one user, each field takes the value of
-- the last row in which it is not NULL (the original's "later rows overwrite field by field").
-- The side-loads, in the spec's order (§2.2 steps 4-5):
--   users: a mongo user is added when the dump has no users, profiles or enrollment row for that id
--     (the first line of the id; its fields as they are);
--   profiles: a user whose dump profile name is NULL or '' takes the mongo profile instead (all 13
--     fields: the first line with a name, else the last line), and y1_anomalous = 1;
--   enrollment: a user whose dump enrollment course is NULL or '' takes the mongo enrollment (the
--     first line with a course, else the last line) - unless the dump date was pinned, the mongo
--     enrollment was created after that date's midnight and the profile came from mongo
--     (y1_anomalous = 1): that user is left out entirely;
--   grade report: Grade (a number, else NULL) and Grade_timestamp (text) by Student ID, last row wins.
-- A side-load row for an id the dump lacks makes a record for it, with its user_id (like the dump's
-- profiles or certificates). Users without an enrollment course (NULL or '') get the course's id
-- (they still count as registered); users only in user_id_map do not, and are left out with every
-- user whose (enrollment, else certificate) course is another course. Unparseable numbers and times
-- are NULL (REC: no crash). certificate_id / certificate_user_id are never filled, as in the original.
WITH
no_mongo_users AS (SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS username, NULL::VARCHAR AS email, NULL::VARCHAR AS is_staff, NULL::VARCHAR AS last_login, NULL::VARCHAR AS date_joined, NULL::BIGINT AS _row WHERE false),
no_mongo_profiles AS (
  SELECT NULL::VARCHAR AS user_id, NULL::VARCHAR AS name, NULL::VARCHAR AS language, NULL::VARCHAR AS location, NULL::VARCHAR AS meta, NULL::VARCHAR AS courseware, NULL::VARCHAR AS gender, NULL::VARCHAR AS mailing_address, NULL::VARCHAR AS year_of_birth, NULL::VARCHAR AS level_of_education, NULL::VARCHAR AS goals, NULL::VARCHAR AS allow_certificate, NULL::VARCHAR AS country, NULL::VARCHAR AS city,
    NULL::BIGINT AS _row WHERE false
),
no_mongo_enrollment AS (SELECT NULL::VARCHAR AS user_id, NULL::VARCHAR AS course_id, NULL::VARCHAR AS created, NULL::VARCHAR AS is_active, NULL::VARCHAR AS mode, NULL::BIGINT AS _row WHERE false),
no_grade_report AS (SELECT NULL::VARCHAR AS student_id, NULL::VARCHAR AS grade, NULL::VARCHAR AS grade_timestamp, NULL::BIGINT AS _row WHERE false),
no_dump_info AS (SELECT NULL::DATE AS sql_dir_date, false AS pinned WHERE false),
-- the enrollment cutoff: midnight of the dump date, only when that date was pinned
cutoff AS (SELECT max(CASE WHEN pinned THEN sql_dir_date::TIMESTAMP END) AS t FROM {{dump_info|no_dump_info}}),
u AS (
  SELECT TRY_CAST(id AS BIGINT) AS user_id,
    arg_max(username, _row) FILTER (WHERE username IS NOT NULL) AS username,
    arg_max(email, _row) FILTER (WHERE email IS NOT NULL) AS email,
    arg_max(is_staff, _row) FILTER (WHERE is_staff IS NOT NULL) AS is_staff,
    arg_max(last_login, _row) FILTER (WHERE last_login IS NOT NULL) AS last_login,
    arg_max(date_joined, _row) FILTER (WHERE date_joined IS NOT NULL) AS date_joined
  FROM {{users}} WHERE TRY_CAST(id AS BIGINT) IS NOT NULL GROUP BY 1
),
p AS (
  SELECT TRY_CAST(user_id AS BIGINT) AS user_id,
    arg_max(name, _row) FILTER (WHERE name IS NOT NULL) AS name,
    arg_max(language, _row) FILTER (WHERE language IS NOT NULL) AS language,
    arg_max(location, _row) FILTER (WHERE location IS NOT NULL) AS location,
    arg_max(meta, _row) FILTER (WHERE meta IS NOT NULL) AS meta,
    arg_max(courseware, _row) FILTER (WHERE courseware IS NOT NULL) AS courseware,
    arg_max(gender, _row) FILTER (WHERE gender IS NOT NULL) AS gender,
    arg_max(mailing_address, _row) FILTER (WHERE mailing_address IS NOT NULL) AS mailing_address,
    arg_max(year_of_birth, _row) FILTER (WHERE year_of_birth IS NOT NULL) AS year_of_birth,
    arg_max(level_of_education, _row) FILTER (WHERE level_of_education IS NOT NULL) AS level_of_education,
    arg_max(goals, _row) FILTER (WHERE goals IS NOT NULL) AS goals,
    arg_max(allow_certificate, _row) FILTER (WHERE allow_certificate IS NOT NULL) AS allow_certificate,
    arg_max(country, _row) FILTER (WHERE country IS NOT NULL) AS country,
    arg_max(city, _row) FILTER (WHERE city IS NOT NULL) AS city
  FROM {{profiles}} WHERE TRY_CAST(user_id AS BIGINT) IS NOT NULL GROUP BY 1
),
e AS (
  SELECT TRY_CAST(user_id AS BIGINT) AS user_id,
    arg_max(course_id, _row) FILTER (WHERE course_id IS NOT NULL) AS course_id,
    arg_max(created, _row) FILTER (WHERE created IS NOT NULL) AS created,
    arg_max(is_active, _row) FILTER (WHERE is_active IS NOT NULL) AS is_active,
    arg_max(mode, _row) FILTER (WHERE mode IS NOT NULL) AS mode
  FROM {{enrollment}} WHERE TRY_CAST(user_id AS BIGINT) IS NOT NULL GROUP BY 1
),
c AS (
  SELECT TRY_CAST(user_id AS BIGINT) AS user_id,
    arg_max(download_url, _row) FILTER (WHERE download_url IS NOT NULL) AS download_url,
    arg_max(grade, _row) FILTER (WHERE grade IS NOT NULL) AS grade,
    arg_max(course_id, _row) FILTER (WHERE course_id IS NOT NULL) AS course_id,
    arg_max(key, _row) FILTER (WHERE key IS NOT NULL) AS key,
    arg_max(distinction, _row) FILTER (WHERE distinction IS NOT NULL) AS distinction,
    arg_max(status, _row) FILTER (WHERE status IS NOT NULL) AS status,
    arg_max(verify_uuid, _row) FILTER (WHERE verify_uuid IS NOT NULL) AS verify_uuid,
    arg_max(download_uuid, _row) FILTER (WHERE download_uuid IS NOT NULL) AS download_uuid,
    arg_max(name, _row) FILTER (WHERE name IS NOT NULL) AS name,
    arg_max(created_date, _row) FILTER (WHERE created_date IS NOT NULL) AS created_date,
    arg_max(modified_date, _row) FILTER (WHERE modified_date IS NOT NULL) AS modified_date,
    arg_max(error_reason, _row) FILTER (WHERE error_reason IS NOT NULL) AS error_reason,
    arg_max(mode, _row) FILTER (WHERE mode IS NOT NULL) AS mode
  FROM {{certificates}} WHERE TRY_CAST(user_id AS BIGINT) IS NOT NULL GROUP BY 1
),
m AS (
  SELECT TRY_CAST(id AS BIGINT) AS user_id, arg_max(hash_id, _row) FILTER (WHERE hash_id IS NOT NULL) AS hash_id
  FROM {{user_id_map}} WHERE TRY_CAST(id AS BIGINT) IS NOT NULL GROUP BY 1
),
-- from_mongodb (§2.2 step 4)
dump_ids AS (SELECT user_id FROM u UNION SELECT user_id FROM p UNION SELECT user_id FROM e),
mu AS (
  SELECT user_id, username, email, is_staff, last_login, date_joined FROM (
    SELECT TRY_CAST(id AS BIGINT) AS user_id, username, email, is_staff, last_login, date_joined,
      row_number() OVER (PARTITION BY TRY_CAST(id AS BIGINT) ORDER BY _row) AS k
    FROM {{mongo_users|no_mongo_users}} WHERE TRY_CAST(id AS BIGINT) IS NOT NULL
  ) WHERE k = 1 AND user_id NOT IN (SELECT user_id FROM dump_ids)
),
mp AS (
  SELECT user_id, name, language, location, meta, courseware, gender, mailing_address, year_of_birth, level_of_education, goals, allow_certificate, country, city FROM (
    SELECT TRY_CAST(user_id AS BIGINT) AS user_id, name, language, location, meta, courseware, gender, mailing_address, year_of_birth, level_of_education, goals, allow_certificate, country, city,
      row_number() OVER (PARTITION BY TRY_CAST(user_id AS BIGINT)
        ORDER BY coalesce(name, '') = '', CASE WHEN coalesce(name, '') <> '' THEN _row ELSE -_row END) AS k
    FROM {{mongo_profiles|no_mongo_profiles}} WHERE TRY_CAST(user_id AS BIGINT) IS NOT NULL
  ) WHERE k = 1
),
me AS (
  SELECT user_id, course_id, created, is_active, mode FROM (
    SELECT TRY_CAST(user_id AS BIGINT) AS user_id, course_id, created, is_active, mode,
      row_number() OVER (PARTITION BY TRY_CAST(user_id AS BIGINT)
        ORDER BY coalesce(course_id, '') = '', CASE WHEN coalesce(course_id, '') <> '' THEN _row ELSE -_row END) AS k
    FROM {{mongo_enrollment|no_mongo_enrollment}} WHERE TRY_CAST(user_id AS BIGINT) IS NOT NULL
  ) WHERE k = 1
),
-- users: the dump's, then the mongo users the dump lacks
uu AS (
  SELECT user_id, username, email, is_staff, last_login, date_joined FROM u
  UNION ALL SELECT user_id, username, email, is_staff, last_login, date_joined FROM mu
),
-- profiles: the dump's when it has a name, else the mongo profile (y1_anomalous)
named AS (SELECT user_id FROM p WHERE coalesce(name, '') <> ''),
pp AS (
  SELECT user_id, name, language, location, meta, courseware, gender, mailing_address, year_of_birth, level_of_education, goals, allow_certificate, country, city, NULL::INTEGER AS y1_anomalous
  FROM p WHERE user_id IN (SELECT user_id FROM named) OR user_id NOT IN (SELECT user_id FROM mp)
  UNION ALL
  SELECT user_id, name, language, location, meta, courseware, gender, mailing_address, year_of_birth, level_of_education, goals, allow_certificate, country, city, 1 AS y1_anomalous
  FROM mp WHERE user_id NOT IN (SELECT user_id FROM named)
),
-- enrollment: the dump's when it has a course, else the mongo enrollment
enrolled AS (SELECT user_id FROM e WHERE coalesce(course_id, '') <> ''),
ee AS (
  SELECT user_id, course_id, created, is_active, mode
  FROM e WHERE user_id IN (SELECT user_id FROM enrolled) OR user_id NOT IN (SELECT user_id FROM me)
  UNION ALL
  SELECT user_id, course_id, created, is_active, mode
  FROM me WHERE user_id NOT IN (SELECT user_id FROM enrolled)
),
-- enrolled (by mongo) after the pinned dump date, with a mongo profile: left out entirely
dropped AS (
  SELECT me.user_id FROM me JOIN pp USING (user_id) CROSS JOIN cutoff
  WHERE me.user_id NOT IN (SELECT user_id FROM enrolled) AND pp.y1_anomalous = 1
    AND TRY_CAST(me.created AS TIMESTAMP) > cutoff.t
),
-- the instructor dashboard's grade report (§2.2 step 5)
g AS (
  SELECT TRY_CAST(student_id AS BIGINT) AS user_id,
    arg_max(grade, _row) FILTER (WHERE grade IS NOT NULL) AS grade,
    arg_max(grade_timestamp, _row) FILTER (WHERE grade_timestamp IS NOT NULL) AS grade_timestamp
  FROM {{edxinstructordash_grade_report|no_grade_report}} WHERE TRY_CAST(student_id AS BIGINT) IS NOT NULL GROUP BY 1
),
ids AS (
  SELECT user_id FROM (
    SELECT user_id FROM dump_ids UNION SELECT user_id FROM mu UNION SELECT user_id FROM mp
    UNION SELECT user_id FROM me UNION SELECT user_id FROM g UNION SELECT user_id FROM c
  ) WHERE user_id NOT IN (SELECT user_id FROM dropped)
),
-- course-v1:ORG+NUM+RUN → ORG/NUM/RUN (spec §1.7); any other id as it is
norm AS (
  SELECT ids.user_id,
    CASE WHEN coalesce(e.course_id, '') = '' THEN {{course_id}}
         WHEN regexp_full_match(e.course_id, 'course-v1:[^+/]+\+[^+/]+\+[^+/]+') THEN replace(substr(e.course_id, 11), '+', '/')
         ELSE e.course_id END AS enrollment_course_id,
    CASE WHEN regexp_full_match(c.course_id, 'course-v1:[^+/]+\+[^+/]+\+[^+/]+') THEN replace(substr(c.course_id, 11), '+', '/')
         ELSE c.course_id END AS certificate_course_id
  FROM ids LEFT JOIN ee e USING (user_id) LEFT JOIN c USING (user_id)
),
-- u, p, e below are the merged users, profiles and enrollment (uu, pp, ee)
combo AS (
  SELECT
    ids.user_id::INTEGER AS user_id,
    u.username, u.email, TRY_CAST(u.is_staff AS INTEGER) AS is_staff,
    TRY_CAST(u.last_login AS TIMESTAMP) AS last_login, TRY_CAST(u.date_joined AS TIMESTAMP) AS date_joined,
    p.name AS profile_name, p.language AS profile_language, p.location AS profile_location, p.meta AS profile_meta,
    p.courseware AS profile_courseware, p.gender AS profile_gender, p.mailing_address AS profile_mailing_address,
    TRY_CAST(p.year_of_birth AS INTEGER) AS profile_year_of_birth, p.level_of_education AS profile_level_of_education,
    p.goals AS profile_goals, TRY_CAST(p.allow_certificate AS INTEGER) AS profile_allow_certificate,
    p.country AS profile_country, p.city AS profile_city,
    n.enrollment_course_id, TRY_CAST(e.created AS TIMESTAMP) AS enrollment_created,
    TRY_CAST(e.is_active AS INTEGER) AS enrollment_is_active, e.mode AS enrollment_mode,
    NULL::INTEGER AS certificate_id, NULL::INTEGER AS certificate_user_id,
    c.download_url AS certificate_download_url, TRY_CAST(c.grade AS DOUBLE) AS certificate_grade,
    n.certificate_course_id, c.key AS certificate_key, TRY_CAST(c.distinction AS INTEGER) AS certificate_distinction,
    c.status AS certificate_status, c.verify_uuid AS certificate_verify_uuid, c.download_uuid AS certificate_download_uuid,
    c.name AS certificate_name, TRY_CAST(c.created_date AS TIMESTAMP) AS certificate_created_date,
    TRY_CAST(c.modified_date AS TIMESTAMP) AS certificate_modified_date, c.error_reason AS certificate_error_reason,
    c.mode AS certificate_mode,
    m.hash_id AS id_map_hash_id,
    CASE WHEN isfinite(TRY_CAST(g.grade AS DOUBLE)) THEN TRY_CAST(g.grade AS DOUBLE) END AS edxinstructordash_Grade,
    g.grade_timestamp AS edxinstructordash_Grade_timestamp,
    p.y1_anomalous
  FROM ids
  JOIN norm n USING (user_id)
  LEFT JOIN uu u USING (user_id) LEFT JOIN pp p USING (user_id) LEFT JOIN ee e USING (user_id)
  LEFT JOIN c USING (user_id) LEFT JOIN m USING (user_id) LEFT JOIN g USING (user_id)
)
SELECT * FROM combo
WHERE coalesce(enrollment_course_id, certificate_course_id) = {{course_id}}
ORDER BY user_id
