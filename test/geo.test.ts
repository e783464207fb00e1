import net from 'node:net';
/**
 * Geolocation (spec sql-and-person-course.md §7.2–§7.3) and modal IP (tracking-logs.md §9.2–§9.3,
 * REC). The record adapter runs on hand-written records of both shapes; real lookups use the
 * DB-IP city database installed from npm and assert only stable facts; the modal-IP SQL runs on
 * hand-made pcday_ip_counts rows in a real DuckDB warehouse. UN facts are read off
 * data/geographic_regions_by_country.csv.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geolocateTable, GEOIP_COLUMNS } from '../src/geo/geolocate.ts';
import { DBIP_CITY_FILES, mapGeoRecord, measureLookups, NULL_GEO, openGeoLookup, publicAddress, randomIpv4, type GeoLookup } from '../src/geo/lookup.ts';
import { createCourseModalIp, createGlobalModalIp, globalModalIpSql, IP_COUNTS_TABLE } from '../src/geo/modalIp.ts';
import { loadUnRegions, parseUnRegions } from '../src/geo/unRegions.ts';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import type { Cell, ColumnDef, OutputValue } from '../src/warehouse/warehouse.ts';
import { tempDir } from './helpers/logtree.ts';

const IP_COUNTS: ColumnDef[] = [
  { name: 'username', type: 'VARCHAR' }, { name: 'ip', type: 'VARCHAR' }, { name: 'date', type: 'DATE' },
  { name: 'ipcount', type: 'BIGINT' }, { name: 'course_id', type: 'VARCHAR' },
];
const S1 = 'X__A__1';
const S2 = 'X__B__2';
const S3 = 'X__C__3'; // no pcday_ip_counts

let geo: GeoLookup;
let dir: string;
let wh: DuckDBWarehouse;

async function rows(sql: string): Promise<Record<string, OutputValue>[]> {
  const r = await wh.query(sql);
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]!])));
}

beforeAll(async () => {
  geo = await openGeoLookup();
  dir = tempDir('geo');
  wh = await openDuckDBWarehouse(path.join(dir, 'w.duckdb'));
  const ipRow = (c: string) => (u: string, ip: string | null, day: string, n: number): Cell[] => [u, ip, `2015-03-${day}`, n, c];
  const a = ipRow('X/A/1');
  await wh.replaceTable({ schema: S1, table: IP_COUNTS_TABLE }, IP_COUNTS, [
    // alice: 8.8.4.4 = 2+1 = 3 (last 03-02), 1.1.1.1 = 3 (last 03-01): tie, the latest use wins
    // (although 1.1.1.1 is the smaller text)
    a('alice', '8.8.4.4', '01', 2), a('alice', '8.8.4.4', '02', 1), a('alice', '1.1.1.1', '01', 3),
    a('alice', '', '01', 10), a('alice', null, '02', 10), // ignored although the largest
    // bob: 9.9.9.9 and 10.0.0.5 tie on count and date: smallest text wins ('10.…' < '9.…')
    a('bob', '9.9.9.9', '05', 2), a('bob', '10.0.0.5', '05', 2), a('bob', '8.8.8.8', '06', 1),
    // carol: only empty / null IPs → no row
    a('carol', '', '01', 4), a('carol', null, '01', 4),
    a('dave', '5.5.5.5', '03', 1),
  ], { command: 'test', step: 'hand-made rows' });
  const b = ipRow('X/B/2');
  await wh.replaceTable({ schema: S2, table: IP_COUNTS_TABLE }, IP_COUNTS, [
    b('alice', '1.1.1.1', '03', 2), b('alice', '3.3.3.3', '04', 1), // globally 1.1.1.1 = 5 > 8.8.4.4 = 3
    b('bob', '9.9.9.9', '01', 1), // globally 9.9.9.9 = 3 > 10.0.0.5 = 2
    b('carol', '7.7.7.7', '02', 1),
  ], { command: 'test', step: 'hand-made rows' });
  await wh.replaceTable({ schema: S3, table: 'other' }, [{ name: 'x', type: 'INTEGER' }], [[1]], { command: 'test', step: 'x' });
});

afterAll(async () => {
  await wh?.close();
});

describe('record adapter', () => {
  it('maps a flat DB-IP record, filling names from the UN table', () => {
    expect(mapGeoRecord({ city: 'Cambridge', country_code: 'US', latitude: 42.36, longitude: -71.09, postcode: '02139', state1: 'Massachusetts', state2: '', timezone: '' })).toEqual({
      cc_by_ip: 'US', countryLabel: 'United States', continent: 'Americas', city: 'Cambridge', region: null,
      subdivision: 'Massachusetts', postalCode: '02139', latitude: 42.36, longitude: -71.09,
    });
  });

  it('treats empty strings as missing and shortens 32-bit float coordinates', () => {
    const r = mapGeoRecord({ city: '', country_code: 'BR', latitude: Math.fround(-23.5505), longitude: Math.fround(-46.6333), postcode: '', state1: '', state2: '', timezone: '' });
    expect(r).toEqual({ cc_by_ip: 'BR', countryLabel: 'Brazil', continent: 'Americas', city: null, region: null, subdivision: null, postalCode: null, latitude: -23.5505, longitude: -46.6333 });
  });

  it('uses the CLDR English name for codes whose UN name is ambiguous', () => {
    expect(mapGeoRecord({ country_code: 'KR' }).countryLabel).toBe('South Korea');
    expect(mapGeoRecord({ country_code: 'KP' }).countryLabel).toBe('North Korea');
    expect(mapGeoRecord({ country_code: 'CD' }).countryLabel).not.toBe(mapGeoRecord({ country_code: 'CG' }).countryLabel);
  });

  it('maps a GeoIP2 City record (English names, most specific subdivision)', () => {
    const rec = {
      city: { geoname_id: 2653941, names: { en: 'Cambridge', de: 'Cambridge' } },
      continent: { code: 'EU', geoname_id: 6255148, names: { en: 'Europe' } },
      country: { geoname_id: 2635167, iso_code: 'GB', names: { en: 'United Kingdom', fr: 'Royaume-Uni' } },
      location: { accuracy_radius: 20, latitude: 52.2, longitude: 0.1167, time_zone: 'Europe/London' },
      postal: { code: 'CB4' },
      registered_country: { iso_code: 'GB', names: { en: 'United Kingdom' } },
      subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }, { iso_code: 'CAM', names: { en: 'Cambridgeshire' } }],
    };
    expect(mapGeoRecord(rec)).toEqual({
      cc_by_ip: 'GB', countryLabel: 'United Kingdom', continent: 'Europe', city: 'Cambridge', region: 'CAM',
      subdivision: 'Cambridgeshire', postalCode: 'CB4', latitude: 52.2, longitude: 0.1167,
    });
  });

  it('fills a GeoIP2 record without names from the UN table, and keeps its own names otherwise', () => {
    expect(mapGeoRecord({ country: { iso_code: 'DE' }, location: { latitude: 51, longitude: 9 } })).toEqual({
      cc_by_ip: 'DE', countryLabel: 'Germany', continent: 'Europe', city: null, region: null, subdivision: null, postalCode: null, latitude: 51, longitude: 9,
    });
    const us = mapGeoRecord({ country: { iso_code: 'US', names: { en: 'United States of America' } }, continent: { code: 'NA', names: { en: 'North America' } } });
    expect([us.countryLabel, us.continent]).toEqual(['United States of America', 'North America']);
  });

  it('gives all nulls for no record, an empty record or an unknown shape', () => {
    expect(mapGeoRecord(null)).toEqual(NULL_GEO);
    expect(mapGeoRecord({})).toEqual(NULL_GEO);
    expect(mapGeoRecord({ country: {} })).toEqual(NULL_GEO);
    expect(mapGeoRecord('US')).toEqual(NULL_GEO);
  });
});

describe('address checks', () => {
  it('accepts public v4/v6 and IPv4-mapped addresses, rejects the rest', () => {
    expect(publicAddress(' 8.8.8.8 ')).toEqual({ ip: '8.8.8.8', family: 4 });
    expect(publicAddress('::ffff:8.8.8.8')).toEqual({ ip: '8.8.8.8', family: 4 });
    expect(publicAddress('2a00:1450:4001:800::200e')?.family).toBe(6);
    for (const bad of [null, undefined, '', '  ', 'garbage', '1.2.3', '300.1.1.1', '10.0.0.1', '192.168.1.1', '172.20.0.1', '127.0.0.1', '169.254.1.1', '100.64.0.1', '::1', 'fe80::1', 'fd00::1', '2001:db8::1', '224.0.0.1']) {
      expect(publicAddress(bad), String(bad)).toBeNull();
    }
  });

  it('agrees with net.isIP + a BlockList of the reserved IPv4 ranges on range edges and odd spellings', () => {
    // the reserved ranges written out here, checked by Node's own parser and BlockList
    const reserved: Array<[string, number]> = [
      ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
      ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
      ['224.0.0.0', 4], ['240.0.0.0', 4],
    ];
    const list = new net.BlockList();
    for (const [a, p] of reserved) list.addSubnet(a, p, 'ipv4');
    const text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    const num = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
    const samples: string[] = ['01.2.3.4', '1.2.3.04', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.256', '1.2.3.-1', '１.2.3.4', '1.2.3.4 x', '255.255.255.255', '0.0.0.0'];
    for (const [a, p] of reserved) {
      const first = num(a);
      const last = first + 2 ** (32 - p) - 1;
      for (const n of [first - 1, first, first + 1, last - 1, last, last + 1]) if (n >= 0 && n < 2 ** 32) samples.push(text(n));
    }
    for (let k = 0; k < 2000; k++) samples.push(text(Math.floor(Math.random() * 2 ** 32)));
    for (const s of samples) {
      const expected = net.isIP(s) === 4 ? (list.check(s, 'ipv4') ? null : { ip: s, family: 4 }) : net.isIP(s) === 6 ? 'v6' : null;
      const got = publicAddress(s);
      if (expected === 'v6') expect(got?.family ?? null, s).not.toBe(4);
      else expect(got, s).toEqual(expected);
    }
  });
});

describe('real lookups (DB-IP city from npm)', () => {
  it('opens the v4 and v6 files', () => {
    expect(geo.databases.map((d) => [path.basename(d.path), d.ipVersion])).toEqual([
      [path.basename(DBIP_CITY_FILES.ipv4), 4], [path.basename(DBIP_CITY_FILES.ipv6), 6],
    ]);
  });

  it('locates well-known public addresses', () => {
    const g = geo.lookupUncached('8.8.8.8');
    expect(g.cc_by_ip).toBe('US');
    expect(g.countryLabel).toBe('United States');
    expect(g.continent).toBe('Americas');
    expect(typeof g.latitude).toBe('number');
    expect(geo.lookupUncached('1.1.1.1').cc_by_ip).toMatch(/^[A-Z]{2}$/);
    expect(geo.lookupUncached('2a00:1450:4001:800::200e').cc_by_ip).toMatch(/^[A-Z]{2}$/);
    expect(geo.lookupUncached('::ffff:8.8.8.8').cc_by_ip).toBe('US');
  });

  it('gives all nulls for private, invalid and empty addresses without throwing', () => {
    for (const ip of ['10.0.0.1', '192.168.0.1', 'not-an-ip', '', null, undefined, '::1']) expect(geo.lookup(ip)).toEqual(NULL_GEO);
  });

  it('caches per distinct IP, bounded', async () => {
    const g = await openGeoLookup({ cacheSize: 2 });
    g.lookup('8.8.8.8'); g.lookup('8.8.8.8'); g.lookup('8.8.8.8');
    expect(g.stats()).toMatchObject({ calls: 3, dbLookups: 1, cacheHits: 2 });
    g.lookup('1.1.1.1'); g.lookup('9.9.9.9'); // evicts 8.8.8.8 (oldest)
    g.lookup('8.8.8.8');
    expect(g.stats()).toMatchObject({ calls: 6, dbLookups: 4, cacheHits: 2 });
  });

  it('measures lookups per second', () => {
    const r = measureLookups(geo, randomIpv4(2000));
    expect(r.lookups).toBe(2000);
    expect(r.located).toBeGreaterThan(1000);
    expect(r.perSecond).toBeGreaterThan(0);
  });
});

describe('UN regions table', () => {
  const un = loadUnRegions();

  it('has the documented size and group counts', () => {
    const all = [...un.values()];
    expect(all).toHaveLength(239);
    expect(all.filter((r) => r.un_economic_group === 'Developed regions')).toHaveLength(59);
    expect(all.filter((r) => r.un_economic_group === 'Developing_Nations')).toHaveLength(180);
    expect(all.filter((r) => r.un_developing_nation === 'Least developed countries')).toHaveLength(49);
    expect(all.filter((r) => r.un_special_region === 'Sub-Saharan-Africa')).toHaveLength(52);
    expect(all.filter((r) => r.un_special_region === 'Latin America and the Caribbean')).toHaveLength(50);
    expect(all.every((r) => r.un_major_region !== null)).toBe(true);
  });

  it('knows the facts of a few countries', () => {
    expect(un.get('US')).toMatchObject({
      code: '840', name: 'United States', continent: 'Americas', un_major_region: 'Northern America',
      un_economic_group: 'Developed regions', un_developing_nation: null, un_special_region: null,
    });
    expect(un.get('AF')).toMatchObject({ un_major_region: 'Southern Asia', un_economic_group: 'Developing_Nations', un_developing_nation: 'Least developed countries', un_special_region: null });
    expect(un.get('CD')).toMatchObject({ continent: 'Africa', un_developing_nation: 'Least developed countries', un_special_region: 'Sub-Saharan-Africa' });
    expect(un.get('BR')).toMatchObject({ un_major_region: 'South America', un_special_region: 'Latin America and the Caribbean', un_developing_nation: null });
    for (const cc of ['AU', 'NZ', 'NF']) expect(un.get(cc)?.un_major_region).toBe('Australia and New Zealand');
  });

  it('parses quoted fields and rejects a foreign header', () => {
    const t = parseUnRegions('cc,code,name,un_region,continent,econ_group,developing_nation,special_region1\nzz,999,"Land, The ""Big""",R,C,E,,\n');
    expect(t.get('ZZ')).toMatchObject({ name: 'Land, The "Big"', un_major_region: 'R', un_developing_nation: null, un_special_region: null });
    expect(() => parseUnRegions('a,b\n1,2\n')).toThrow(/header/);
  });
});

describe('modal IP SQL', () => {
  it('course_modal_ip: sums over dates, ignores empty/null IPs, breaks ties by latest date then smallest IP', async () => {
    await createCourseModalIp(wh, S1, { command: 'test' });
    expect(await rows(`SELECT * FROM "${S1}".course_modal_ip ORDER BY username`)).toEqual([
      { username: 'alice', modal_ip: '8.8.4.4', ip_count: 3, n_different_ip: 2, n_tied: 2 },
      { username: 'bob', modal_ip: '10.0.0.5', ip_count: 2, n_different_ip: 3, n_tied: 2 },
      { username: 'dave', modal_ip: '5.5.5.5', ip_count: 1, n_different_ip: 1, n_tied: 1 },
    ]);
    const types = await rows(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '${S1}' AND table_name = 'course_modal_ip' ORDER BY ordinal_position`);
    expect(types.map((r) => `${r.column_name} ${r.data_type}`)).toEqual(['username VARCHAR', 'modal_ip VARCHAR', 'ip_count BIGINT', 'n_different_ip BIGINT', 'n_tied BIGINT']);
  });

  it('global_modal_ip: sums across courses, skips schemas without pcday_ip_counts', async () => {
    const r = await createGlobalModalIp(wh, [S1, S2, S3, S1], { command: 'test' });
    expect(r.schemas).toEqual([S1, S2]);
    expect(r.skipped).toEqual([S3]);
    expect(await rows('SELECT * FROM courses.global_modal_ip ORDER BY username')).toEqual([
      { username: 'alice', modal_ip: '1.1.1.1', ip_count: 5, n_different_ip: 3, n_tied: 1 },
      { username: 'bob', modal_ip: '9.9.9.9', ip_count: 3, n_different_ip: 3, n_tied: 1 },
      { username: 'carol', modal_ip: '7.7.7.7', ip_count: 1, n_different_ip: 1, n_tied: 1 },
      { username: 'dave', modal_ip: '5.5.5.5', ip_count: 1, n_different_ip: 1, n_tied: 1 },
    ]);
  });

  it('global SQL quotes every schema and refuses an empty list', () => {
    const sql = globalModalIpSql(wh.dialect, ['a"b', 'c']);
    expect(sql).toContain('"a""b"."pcday_ip_counts"');
    expect(sql).toContain('UNION ALL');
    expect(sql).not.toContain('{{');
    expect(() => globalModalIpSql(wh.dialect, [])).toThrow(/no course schema/);
  });
});

describe('geolocateTable', () => {
  it('writes one row per distinct non-empty IP with geo and UN columns', async () => {
    await wh.replaceTable({ schema: S1, table: 'ips' }, [{ name: 'ip', type: 'VARCHAR' }], [
      ['8.8.8.8'], ['8.8.8.8'], ['10.0.0.1'], [''], [null], ['not-an-ip'], ['2a00:1450:4001:800::200e'],
    ], { command: 'test', step: 'hand-made rows' });
    const res = await geolocateTable(wh, { schema: S1, table: 'ips' }, { schema: S1, table: 'ip_geo' }, { lookup: geo, command: 'test' });
    expect(res.distinctIps).toBe(4);
    expect(res.located).toBe(2);
    expect(res.load.rowsWritten).toBe(4);
    expect(res.lookupsPerSecond).toBeGreaterThan(0);
    const out = await rows(`SELECT * FROM "${S1}".ip_geo ORDER BY ip`);
    expect(Object.keys(out[0]!)).toEqual(GEOIP_COLUMNS.map((c) => c.name));
    const by = new Map(out.map((r) => [r.ip, r]));
    expect(by.get('8.8.8.8')).toMatchObject({
      cc_by_ip: 'US', countryLabel: 'United States', continent: 'Americas', un_major_region: 'Northern America',
      un_economic_group: 'Developed regions', un_developing_nation: null, un_special_region: null,
    });
    expect(by.get('2a00:1450:4001:800::200e')?.cc_by_ip).toMatch(/^[A-Z]{2}$/);
    for (const ip of ['10.0.0.1', 'not-an-ip']) {
      const r = by.get(ip)!;
      expect(Object.entries(r).filter(([k, v]) => k !== 'ip' && v !== null)).toEqual([]);
    }
    const types = await rows(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '${S1}' AND table_name = 'ip_geo' ORDER BY ordinal_position`);
    expect(types.filter((r) => r.data_type !== 'VARCHAR').map((r) => r.column_name)).toEqual(['latitude', 'longitude']);
  });

  it('geolocates a modal-IP table through its modal_ip column', async () => {
    const res = await geolocateTable(wh, { schema: S1, table: 'course_modal_ip' }, { schema: S1, table: 'modal_ip_geo' }, { lookup: geo, ipColumn: 'modal_ip', command: 'test' });
    expect(res.distinctIps).toBe(3); // 8.8.4.4, 10.0.0.5 (private: unlocated), 5.5.5.5
    expect(await rows(`SELECT ip, cc_by_ip IS NOT NULL AS located FROM "${S1}".modal_ip_geo ORDER BY ip`)).toEqual([
      { ip: '10.0.0.5', located: false }, { ip: '5.5.5.5', located: true }, { ip: '8.8.4.4', located: true },
    ]);
  });
});
