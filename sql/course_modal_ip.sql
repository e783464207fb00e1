-- course_modal_ip: each learner's modal (most used) IP in one course (spec tracking-logs.md §9.2, REC);
-- also courses.global_modal_ip (§9.3), when src/geo/modalIp.ts puts the UNION ALL of every
-- course's pcday_ip_counts in place of the input table.
-- Columns: username, modal_ip, ip_count, n_different_ip, n_tied. One row per username.
-- Input: pcday_ip_counts (username, ip, date, ipcount, course_id), one row per learner, date and IP.
-- REC (deterministic, unlike the original): empty and null IPs (and usernames) are ignored;
-- ip_count = Σ ipcount per (username, ip) over all dates; the modal IP has the highest ip_count,
-- ties broken by the most recent use (latest date), then by the smallest IP text;
-- n_different_ip = the true number of distinct IPs; n_tied = how many IPs share the top count.
WITH per_ip AS (
  SELECT username, ip, CAST(sum(ipcount) AS BIGINT) AS ip_count, max(date) AS last_date
  FROM {{pcday_ip_counts}}
  WHERE ip IS NOT NULL AND ip <> '' AND username IS NOT NULL AND username <> ''
  GROUP BY username, ip
),
with_top AS (
  SELECT *,
    max(ip_count) OVER (PARTITION BY username) AS top_count,
    count(*) OVER (PARTITION BY username) AS n_ips
  FROM per_ip
),
ranked AS (
  SELECT *,
    sum(CASE WHEN ip_count = top_count THEN 1 ELSE 0 END) OVER (PARTITION BY username) AS n_top,
    row_number() OVER (PARTITION BY username ORDER BY ip_count DESC, last_date DESC NULLS LAST, ip ASC) AS rn
  FROM with_top
)
SELECT
  username,
  ip AS modal_ip,
  ip_count,
  CAST(n_ips AS BIGINT) AS n_different_ip,
  CAST(n_top AS BIGINT) AS n_tied
FROM ranked
WHERE rn = 1
ORDER BY username
