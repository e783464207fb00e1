-- course_modal_language: each learner's most used transcript language (spec tracking-logs.md
-- §9.4, REC).
-- Columns: username, language, language_download, language_nevents, language_ndiff.
-- Inputs: pcday_trlang_counts.
-- Per (learner, language): n_events = Σ langcount over both types; downloads = Σ langcount of the
-- download rows (REC: actual downloads, not user-days). The modal language has the most events;
-- ties go to the most recently used, then the smallest language code (REC: deterministic).
WITH per_lang AS (
  SELECT username, resource_event_data AS language,
    sum(langcount) AS n_events,
    coalesce(sum(langcount) FILTER (WHERE resource_event_type = 'transcript_download'), 0) AS n_download,
    max(last_time) AS last_used
  FROM {{pcday_trlang_counts}}
  WHERE username IS NOT NULL AND username <> ''
  GROUP BY username, resource_event_data
),
ranked AS (
  SELECT *, count(*) OVER (PARTITION BY username) AS n_diff,
    row_number() OVER (PARTITION BY username ORDER BY n_events DESC, last_used DESC, language) AS k
  FROM per_lang
)
SELECT username, language, n_download AS language_download, n_events AS language_nevents, n_diff AS language_ndiff
FROM ranked WHERE k = 1
