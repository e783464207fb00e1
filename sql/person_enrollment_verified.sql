-- person_enrollment_verified: when each learner entered and left the verified track
-- (spec tracking-logs.md §8.5, REC).
-- Columns: user_id, verified_enroll_time, verified_unenroll_time.
-- Inputs: enrollment_events.
-- REC: enroll = the first activated-or-mode_changed event with mode 'verified'; unenroll = the
-- last deactivated event with mode 'verified' after it (null when there is none). Learners who
-- never entered the verified track have no row.
WITH enroll AS (
  SELECT user_id, min(time) AS verified_enroll_time
  FROM {{enrollment_events}}
  WHERE user_id IS NOT NULL AND mode = 'verified' AND (activated OR mode_changed)
  GROUP BY user_id
)
SELECT e.user_id, e.verified_enroll_time,
  (SELECT max(x.time) FROM {{enrollment_events}} x
    WHERE x.user_id = e.user_id AND x.mode = 'verified' AND x.deactivated AND x.time > e.verified_enroll_time) AS verified_unenroll_time
FROM enroll e
ORDER BY e.user_id
