-- overall_stats (spec §8.2 step 14): the totals over all courses.
-- Columns: registered, viewed, explored, certified, verified_id, verified_viewed,
--   verified_explored, verified_certified, verified_certification_pct,
--   avg_nprogcheck_ratio_cert_vs_all, n_missing_cc, n_unique_registrants, course_registrations.
-- Inputs: broad_stats_by_course, multi_registrations (both in the shared schema).
-- verified_certification_pct = 100 × verified certified / verified; the nprogcheck ratio is the
-- mean over courses of (certified learners' mean nprogcheck) / (viewers' mean nprogcheck).
SELECT
  sum(registered_sum) AS registered, sum(viewed_sum) AS viewed, sum(explored_sum) AS explored, sum(certified_sum) AS certified,
  sum(n_verified_id) AS verified_id, sum(verified_viewed) AS verified_viewed, sum(verified_explored) AS verified_explored,
  sum(verified_certified) AS verified_certified,
  CASE WHEN sum(n_verified_id) > 0 THEN 100.0 * sum(verified_certified) / sum(n_verified_id) END AS verified_certification_pct,
  avg(certified_nprogcheck / nullif(nprogcheck_avg, 0)) AS avg_nprogcheck_ratio_cert_vs_all,
  sum(n_missing_cc) AS n_missing_cc,
  (SELECT count(*) FROM {{multi_registrations}}) AS n_unique_registrants,
  (SELECT sum(n_courses_registered) FROM {{multi_registrations}}) AS course_registrations
FROM {{broad_stats_by_course}}
