-- global_modal_ip: each learner's modal IP across all courses of a set (spec tracking-logs.md §9.3, REC).
-- Columns: username, modal_ip, ip_count, n_different_ip, n_tied. One row per username.
-- Input: the pcday_ip_counts_union placeholder below is replaced by src/geo/modalIp.ts with a UNION ALL of the
-- courses' pcday_ip_counts (username, ip, date, ipcount), one branch per course schema.
-- Same rules as course_modal_ip.sql, with Σ ipcount per (username, ip) across every course:
-- empty and null IPs ignored; highest count wins, then the latest date, then the smallest IP;
-- n_different_ip = distinct IPs over all courses; n_tied = IPs sharing the top count.
WITH per_ip AS (
  SELECT username, ip, CAST(sum(ipcount) AS BIGINT) AS ip_count, max(date) AS last_date
  FROM {{pcday_ip_counts_union}} AS all_ip_counts
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
