-- <population>_median_stats_by_course (spec sql-and-person-course.md §8.2 step 5): per course,
-- discrete medians (the lower middle value, PERCENTILE_DISC 0.5) over the non-NULL values of the
-- population the caller puts in place of the table `population`: viewed, explored (∧ viewed), certified (∧ viewed) or verified
-- (mode verified ∧ viewed), learners only (REC filter: roles NULL or Student).
-- Columns: course_id, <field>_median for nplay_video, ndays_act, nchapters, nevents, nforum_posts, grade, nforum_votes, nforum_endorsed, nforum_threads, nforum_comments, nprogcheck, nshow_answer, npause_video, avg_dt, sum_dt, age_in_2014_median,
--   frac_nonzero_play_video, sum_n_nonzero_play_video, frac_nonzero_grade, sum_n_nonzero_grade,
--   frac_nonzero_forum_posts, sum_n_nonzero_nforum_posts, n_records.
-- age_in_2014 = 2014 − YoB (the original's fixed year, kept so figures compare). The original's
-- misspelt sum_n_nonzeo_nforum_posts is named sum_n_nonzero_nforum_posts.
SELECT course_id,
  quantile_disc(nplay_video, 0.5) AS nplay_video_median,
  quantile_disc(ndays_act, 0.5) AS ndays_act_median,
  quantile_disc(nchapters, 0.5) AS nchapters_median,
  quantile_disc(nevents, 0.5) AS nevents_median,
  quantile_disc(nforum_posts, 0.5) AS nforum_posts_median,
  quantile_disc(grade, 0.5) AS grade_median,
  quantile_disc(nforum_votes, 0.5) AS nforum_votes_median,
  quantile_disc(nforum_endorsed, 0.5) AS nforum_endorsed_median,
  quantile_disc(nforum_threads, 0.5) AS nforum_threads_median,
  quantile_disc(nforum_comments, 0.5) AS nforum_comments_median,
  quantile_disc(nprogcheck, 0.5) AS nprogcheck_median,
  quantile_disc(nshow_answer, 0.5) AS nshow_answer_median,
  quantile_disc(npause_video, 0.5) AS npause_video_median,
  quantile_disc(avg_dt, 0.5) AS avg_dt_median,
  quantile_disc(sum_dt, 0.5) AS sum_dt_median,
  quantile_disc(2014 - YoB, 0.5) AS age_in_2014_median,
  count(*) FILTER (WHERE nplay_video > 0) / count(*) AS frac_nonzero_play_video,
  count(*) FILTER (WHERE nplay_video > 0) AS sum_n_nonzero_play_video,
  count(*) FILTER (WHERE grade > 0) / count(*) AS frac_nonzero_grade,
  count(*) FILTER (WHERE grade > 0) AS sum_n_nonzero_grade,
  count(*) FILTER (WHERE nforum_posts > 0) / count(*) AS frac_nonzero_forum_posts,
  count(*) FILTER (WHERE nforum_posts > 0) AS sum_n_nonzero_nforum_posts,
  count(*) AS n_records
FROM {{population}}
GROUP BY course_id
ORDER BY course_id
