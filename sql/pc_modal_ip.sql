-- pc_modal_ip: the IP each learner of the course is located by (spec sql-and-person-course.md §6.4,
-- tracking-logs.md §9.3).
-- Columns: username, modal_ip, source, course_modal_ip, course_ip_count, global_modal_ip, global_ip_count.
-- Inputs: user_info_combo, course_modal_ip, global_modal_ip (courses schema; may be empty).
-- modal_ip = the course's modal IP when non-empty, else the global one when non-empty, else NULL;
-- source says which (course | global | missing).
SELECT u.username,
  CASE WHEN coalesce(c.modal_ip, '') <> '' THEN c.modal_ip WHEN coalesce(g.modal_ip, '') <> '' THEN g.modal_ip END AS modal_ip,
  CASE WHEN coalesce(c.modal_ip, '') <> '' THEN 'course' WHEN coalesce(g.modal_ip, '') <> '' THEN 'global' ELSE 'missing' END AS source,
  c.modal_ip AS course_modal_ip, c.ip_count AS course_ip_count, g.modal_ip AS global_modal_ip, g.ip_count AS global_ip_count
FROM {{user_info_combo}} u
LEFT JOIN {{course_modal_ip}} c ON c.username = u.username
LEFT JOIN {{global_modal_ip}} g ON g.username = u.username
WHERE u.username IS NOT NULL
