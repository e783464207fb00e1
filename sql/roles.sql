-- roles: course and discussion roles of each user of the course, as flags (spec
-- sql-and-person-course.md §3, REC).
-- Columns: user_id, course_id, roles_isBetaTester, roles_isInstructor, roles_isStaff, roles_isCCX,
--   roles_isFinance, roles_isLibrary, roles_isSales, forumRoles_isAdmin, forumRoles_isCommunityTA,
--   forumRoles_isModerator, forumRoles_isStudent, roles.
-- Inputs: rolecourse (user_id, course_id, role), roleforum (user_id, course_id, name), every value
--   VARCHAR; the course_id parameter is the course.
-- REC: only rows of this course (either id form) or org-wide rows (blank course_id) count, OR-ed
-- per user (one row per user, not one per user and course id); role names are matched without
-- spaces and case ('Community TA' sets forumRoles_isCommunityTA); 'Group Moderator' counts as a
-- moderator. Flags are 1 or NULL, as in the original. roles = 'Staff' when any course role or any
-- forum role other than Student is set, else 'Student'.
WITH
course_rows AS (
  SELECT TRY_CAST(user_id AS BIGINT) AS user_id, lower(replace(role, ' ', '')) AS r
  FROM {{rolecourse}}
  WHERE TRY_CAST(user_id AS BIGINT) IS NOT NULL
    AND (coalesce(trim(course_id), '') = '' OR course_id = {{course_id}}
         OR (regexp_full_match(course_id, 'course-v1:[^+/]+\+[^+/]+\+[^+/]+') AND replace(substr(course_id, 11), '+', '/') = {{course_id}}))
),
forum_rows AS (
  SELECT TRY_CAST(user_id AS BIGINT) AS user_id, lower(replace(name, ' ', '')) AS r
  FROM {{roleforum}}
  WHERE TRY_CAST(user_id AS BIGINT) IS NOT NULL
    AND (coalesce(trim(course_id), '') = '' OR course_id = {{course_id}}
         OR (regexp_full_match(course_id, 'course-v1:[^+/]+\+[^+/]+\+[^+/]+') AND replace(substr(course_id, 11), '+', '/') = {{course_id}}))
),
flags AS (
  SELECT user_id,
    max(CASE WHEN r = 'beta_testers' THEN 1 END) AS roles_isBetaTester,
    max(CASE WHEN r = 'instructor' THEN 1 END) AS roles_isInstructor,
    max(CASE WHEN r = 'staff' THEN 1 END) AS roles_isStaff,
    max(CASE WHEN r = 'ccx_coach' THEN 1 END) AS roles_isCCX,
    max(CASE WHEN r = 'finance_admin' THEN 1 END) AS roles_isFinance,
    max(CASE WHEN r = 'library_user' THEN 1 END) AS roles_isLibrary,
    max(CASE WHEN r = 'sales_admin' THEN 1 END) AS roles_isSales,
    NULL::INTEGER AS forumRoles_isAdmin, NULL::INTEGER AS forumRoles_isCommunityTA,
    NULL::INTEGER AS forumRoles_isModerator, NULL::INTEGER AS forumRoles_isStudent
  FROM course_rows GROUP BY user_id
  UNION ALL
  SELECT user_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    max(CASE WHEN r = 'administrator' THEN 1 END),
    max(CASE WHEN r = 'communityta' THEN 1 END),
    max(CASE WHEN r IN ('moderator', 'groupmoderator') THEN 1 END),
    max(CASE WHEN r = 'student' THEN 1 END)
  FROM forum_rows GROUP BY user_id
),
per_user AS (
  SELECT user_id,
    max(roles_isBetaTester) AS roles_isBetaTester, max(roles_isInstructor) AS roles_isInstructor,
    max(roles_isStaff) AS roles_isStaff, max(roles_isCCX) AS roles_isCCX, max(roles_isFinance) AS roles_isFinance,
    max(roles_isLibrary) AS roles_isLibrary, max(roles_isSales) AS roles_isSales,
    max(forumRoles_isAdmin) AS forumRoles_isAdmin, max(forumRoles_isCommunityTA) AS forumRoles_isCommunityTA,
    max(forumRoles_isModerator) AS forumRoles_isModerator, max(forumRoles_isStudent) AS forumRoles_isStudent
  FROM flags GROUP BY user_id
)
SELECT user_id::INTEGER AS user_id, {{course_id}} AS course_id,
  roles_isBetaTester::INTEGER AS roles_isBetaTester, roles_isInstructor::INTEGER AS roles_isInstructor,
  roles_isStaff::INTEGER AS roles_isStaff, roles_isCCX::INTEGER AS roles_isCCX, roles_isFinance::INTEGER AS roles_isFinance,
  roles_isLibrary::INTEGER AS roles_isLibrary, roles_isSales::INTEGER AS roles_isSales,
  forumRoles_isAdmin::INTEGER AS forumRoles_isAdmin, forumRoles_isCommunityTA::INTEGER AS forumRoles_isCommunityTA,
  forumRoles_isModerator::INTEGER AS forumRoles_isModerator, forumRoles_isStudent::INTEGER AS forumRoles_isStudent,
  CASE WHEN coalesce(roles_isBetaTester, roles_isInstructor, roles_isStaff, roles_isCCX, roles_isFinance, roles_isLibrary, roles_isSales,
                     forumRoles_isAdmin, forumRoles_isCommunityTA, forumRoles_isModerator) IS NOT NULL
       THEN 'Staff' ELSE 'Student' END AS roles
FROM per_user
ORDER BY user_id
