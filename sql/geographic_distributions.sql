-- geographic_distributions (spec §8.2 step 13): learners (REC filter) of all courses per country.
-- Columns: cc, countryLabel, nregistered, nviewed, nexplored, ncertified, nverified,
--   ncert_verified, avg_certified_dt.
-- Inputs: person_course_all. A learner without a located IP counts under cc NULL.
SELECT cc_by_ip AS cc, any_value(countryLabel) AS countryLabel,
  count(*) AS nregistered,
  count(*) FILTER (WHERE viewed) AS nviewed,
  count(*) FILTER (WHERE explored) AS nexplored,
  count(*) FILTER (WHERE certified) AS ncertified,
  count(*) FILTER (WHERE mode = 'verified') AS nverified,
  count(*) FILTER (WHERE certified AND mode = 'verified') AS ncert_verified,
  avg(avg_dt) FILTER (WHERE certified) AS avg_certified_dt
FROM {{person_course_all}}
WHERE roles IS NULL OR roles = 'Student'
GROUP BY cc_by_ip
ORDER BY nregistered DESC, cc
