-- pc_geoip: each learner's modal IP with its place (spec sql-and-person-course.md §7).
-- Columns: username, ip, cc_by_ip, countryLabel, continent, city, region, subdivision, postalCode,
--   latitude, longitude, un_major_region, un_economic_group, un_developing_nation, un_special_region.
-- Inputs: pc_modal_ip, pc_ip_geo (one row per distinct IP, looked up once: src/geo/geolocate.ts).
SELECT m.username, m.modal_ip AS ip,
  g.cc_by_ip, g.countryLabel, g.continent, g.city, g.region, g.subdivision, g.postalCode,
  g.latitude, g.longitude, g.un_major_region, g.un_economic_group, g.un_developing_nation, g.un_special_region
FROM {{pc_modal_ip}} m
LEFT JOIN {{pc_ip_geo}} g ON g.ip = m.modal_ip
WHERE m.modal_ip IS NOT NULL
