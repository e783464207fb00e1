-- email_addresses (spec sql-and-person-course.md §8.2 step 6): each (username, email) of the
-- courses' user_info_combo tables, with the number of those courses it appears in. Also each
-- email_addresses_<ORG>, over the courses of one institution only.
-- Columns: username, email, ncourses.
-- Input: user_info_combo, which the caller replaces by the UNION ALL of the courses' tables
-- (username and email only). Users without a username are left out, as in the original; a user
-- whose email differs between two courses' dumps has one row per email.
SELECT username, email, count(*) AS ncourses
FROM {{user_info_combo}}
WHERE username IS NOT NULL
GROUP BY username, email
ORDER BY username, email
