/**
 * Geolocates every distinct IP of a warehouse table (e.g. the modal IPs) into a lookup table the
 * person_course step joins on `ip` (spec sql-and-person-course.md §7.2–§7.3).
 *
 * Output table columns, in person_course order (names as in schemas/person_course.json):
 *   ip VARCHAR, cc_by_ip VARCHAR, countryLabel VARCHAR, continent VARCHAR, city VARCHAR,
 *   region VARCHAR, subdivision VARCHAR, postalCode VARCHAR, latitude DOUBLE, longitude DOUBLE,
 *   un_major_region VARCHAR, un_economic_group VARCHAR, un_developing_nation VARCHAR,
 *   un_special_region VARCHAR.
 * One row per distinct non-empty `ip` of the source, located or not (unlocated: all geo null).
 * The UN columns are filled from the country's row in the UN table (null when the country is
 * unknown or the UN value is empty).
 */
import type { ColumnDef, LoadResult, TableRef, Warehouse } from '../warehouse/warehouse.ts';
import { GEO_FIELDS, openGeoLookup, type GeoDatabaseInfo, type GeoLookup, type GeoLookupOptions } from './lookup.ts';
import { loadUnRegions, unRegionOf, type UnRegions } from './unRegions.ts';

export const UN_FIELDS = ['un_major_region', 'un_economic_group', 'un_developing_nation', 'un_special_region'] as const;

export const GEOIP_COLUMNS: readonly ColumnDef[] = [
  { name: 'ip', type: 'VARCHAR' },
  ...GEO_FIELDS.map((name): ColumnDef => ({ name, type: name === 'latitude' || name === 'longitude' ? 'DOUBLE' : 'VARCHAR' })),
  ...UN_FIELDS.map((name): ColumnDef => ({ name, type: 'VARCHAR' })),
];

export interface GeolocateOptions {
  /** The IP column of the source table (default `ip`). */
  readonly ipColumn?: string;
  /** An open lookup to reuse; else one is opened with `lookupOptions` (default DB-IP city). */
  readonly lookup?: GeoLookup;
  readonly lookupOptions?: GeoLookupOptions;
  readonly unRegions?: UnRegions;
  /** Provenance command (default `person-course`). */
  readonly command?: string;
}

export interface GeolocateResult {
  readonly load: LoadResult;
  /** Distinct non-empty IPs in the source (= rows written). */
  readonly distinctIps: number;
  /** Of those, how many got a country. */
  readonly located: number;
  /** Time spent in the lookups only, and the rate. */
  readonly lookupSeconds: number;
  readonly lookupsPerSecond: number;
  readonly databases: readonly GeoDatabaseInfo[];
}

/**
 * Reads the distinct IPs of `source.<ipColumn>`, looks each up once and writes `target` with
 * `warehouse.replaceTable` (one transaction; provenance names the databases and their build dates).
 */
export async function geolocateTable(wh: Warehouse, source: TableRef, target: TableRef, options: GeolocateOptions = {}): Promise<GeolocateResult> {
  const d = wh.dialect;
  const col = d.quoteIdentifier(options.ipColumn ?? 'ip');
  const ips: string[] = [];
  await wh.queryStream(
    `SELECT DISTINCT CAST(${col} AS VARCHAR) AS ip FROM ${d.tableRef(source.schema, source.table)} WHERE ${col} IS NOT NULL AND CAST(${col} AS VARCHAR) <> '' ORDER BY 1`,
    {
      columns() {},
      rows(batch) {
        for (const r of batch) if (typeof r[0] === 'string') ips.push(r[0]);
      },
    },
  );

  const geo = options.lookup ?? (await openGeoLookup(options.lookupOptions));
  const un = options.unRegions ?? options.lookupOptions?.unRegions ?? loadUnRegions();
  const n = ips.length;
  const columns: (string | number | null)[][] = GEOIP_COLUMNS.map(() => new Array<string | number | null>(n));
  let located = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const ip = ips[i]!;
    const rec = geo.lookup(ip);
    columns[0]![i] = ip;
    for (let f = 0; f < GEO_FIELDS.length; f++) columns[f + 1]![i] = rec[GEO_FIELDS[f]!];
    const u = unRegionOf(un, rec.cc_by_ip);
    for (let f = 0; f < UN_FIELDS.length; f++) columns[f + 1 + GEO_FIELDS.length]![i] = u ? u[UN_FIELDS[f]!] : null;
    if (rec.cc_by_ip !== null) located++;
  }
  const lookupSeconds = (performance.now() - t0) / 1000;

  const load = await wh.replaceTable(target, GEOIP_COLUMNS, { columns }, {
    command: options.command ?? 'person-course',
    step: `geolocate ${source.schema}.${source.table}.${options.ipColumn ?? 'ip'}`,
    inputs: [`${source.schema}.${source.table}`, ...geo.databases.map((db) => `${db.path} (${db.databaseType}, built ${db.buildDate})`)],
  });
  return {
    load, distinctIps: n, located, lookupSeconds,
    lookupsPerSecond: lookupSeconds > 0 ? n / lookupSeconds : n === 0 ? 0 : Infinity,
    databases: geo.databases,
  };
}
