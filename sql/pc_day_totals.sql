-- pc_day_totals: person_course_day rolled up per learner (spec sql-and-person-course.md §6.4,
-- tracking-logs.md §5.5, REC).
-- Columns: username, ndays_act, nevents, nprogcheck, nshow_answer, nvideo, nproblem_check, nforum,
--   ntranscript, nseq_goto, nseek_video, npause_video, n_dt, sum_dt, first_event, last_event,
--   max_dt, avg_dt, sdv_dt.
-- Inputs: person_course_day.
-- REC: ndays_act = distinct dates with nevents > 0; avg_dt = Σdt / n (not the mean of daily
-- means); sdv_dt = the exact sample SD of all kept gaps, pooled from Σdt, Σdt² and n (null when
-- fewer than 2 gaps).
SELECT
  username,
  count(DISTINCT date) FILTER (WHERE nevents > 0) AS ndays_act,
  CAST(sum(nevents) AS BIGINT) AS nevents, CAST(sum(nprogcheck) AS BIGINT) AS nprogcheck, CAST(sum(nshow_answer) AS BIGINT) AS nshow_answer, CAST(sum(nvideo) AS BIGINT) AS nvideo,
  CAST(sum(nproblem_check) AS BIGINT) AS nproblem_check, CAST(sum(nforum) AS BIGINT) AS nforum, CAST(sum(ntranscript) AS BIGINT) AS ntranscript, CAST(sum(nseq_goto) AS BIGINT) AS nseq_goto,
  CAST(sum(nseek_video) AS BIGINT) AS nseek_video, CAST(sum(npause_video) AS BIGINT) AS npause_video,
  CAST(sum(n_dt) AS BIGINT) AS n_dt, CAST(sum(sum_dt) AS DOUBLE) AS sum_dt,
  min(first_event) AS first_event, max(last_event) AS last_event, max(max_dt) AS max_dt,
  CASE WHEN sum(n_dt) > 0 THEN sum(sum_dt) / sum(n_dt) END AS avg_dt,
  CASE WHEN sum(n_dt) >= 2 THEN sqrt(greatest(0, (sum(sumsq_dt) - sum(sum_dt) * sum(sum_dt) / sum(n_dt)) / (sum(n_dt) - 1))) END AS sdv_dt
FROM {{person_course_day}}
GROUP BY username
