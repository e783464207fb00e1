-- enrollday_sql (spec sql-and-person-course.md §8.2 step 9): registrations and de-registrations
-- per course and date, with running totals, for all learners and for the verified track.
-- Columns: course_id, date, nregistered_ever, n_unregistered, nregistered_net,
--   nregistered_ever_cum, nregistered_net_cum, nverified_ever, nverified_un_registered,
--   nverified_net, nverified_ever_cum, nverified_net_cum.
-- Inputs: person_course_all (the combined person_course).
-- Learners only (REC: roles NULL or Student). A registration is dated by its enrollment time
-- (date of start_time); a de-registration is a learner with is_active = 0, dated by the day of
-- the learner's last event (a proxy, as in the original). Neither can be dated without its time:
-- a NULL start_time (certificate without an enrollment row) is no registration, and an
-- un-enrolled learner with no event in the logs is no de-registration. The verified figures
-- count the learners whose (final) mode is verified, on the same dates. A date appears when it
-- has at least one registration or de-registration; the *_cum columns are running sums over the
-- course's dates in order.
WITH learners AS (
  SELECT course_id, CAST(start_time AS DATE) AS reg_date, CAST(last_event AS DATE) AS last_date,
    is_active = 0 AS unenrolled, coalesce(mode = 'verified', false) AS verified
  FROM {{person_course_all}}
  WHERE roles IS NULL OR roles = 'Student'
),
moves AS (
  SELECT course_id, reg_date AS date, 1 AS reg, 0 AS unreg, CASE WHEN verified THEN 1 ELSE 0 END AS vreg, 0 AS vunreg
  FROM learners WHERE reg_date IS NOT NULL
  UNION ALL
  SELECT course_id, last_date AS date, 0 AS reg, 1 AS unreg, 0 AS vreg, CASE WHEN verified THEN 1 ELSE 0 END AS vunreg
  FROM learners WHERE unenrolled AND last_date IS NOT NULL
),
per_day AS (
  SELECT course_id, date,
    CAST(sum(reg) AS BIGINT) AS nregistered_ever,
    CAST(sum(unreg) AS BIGINT) AS n_unregistered,
    CAST(sum(vreg) AS BIGINT) AS nverified_ever,
    CAST(sum(vunreg) AS BIGINT) AS nverified_un_registered
  FROM moves
  GROUP BY course_id, date
)
SELECT course_id, date,
  nregistered_ever,
  n_unregistered,
  nregistered_ever - n_unregistered AS nregistered_net,
  CAST(sum(nregistered_ever) OVER running AS BIGINT) AS nregistered_ever_cum,
  CAST(sum(nregistered_ever - n_unregistered) OVER running AS BIGINT) AS nregistered_net_cum,
  nverified_ever,
  nverified_un_registered,
  nverified_ever - nverified_un_registered AS nverified_net,
  CAST(sum(nverified_ever) OVER running AS BIGINT) AS nverified_ever_cum,
  CAST(sum(nverified_ever - nverified_un_registered) OVER running AS BIGINT) AS nverified_net_cum
FROM per_day
WINDOW running AS (PARTITION BY course_id ORDER BY date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
ORDER BY course_id, date
