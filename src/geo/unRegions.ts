/**
 * The UN M49 classification per country (spec sql-and-person-course.md §7.3), from the shipped
 * `data/geographic_regions_by_country.csv` (see data/README.md for its source and attribution).
 *
 * Column mapping into person_course (spec §7.1 / §7.3, schema person_course.json):
 *   `un_region`         → `un_major_region`  (the M49 sub-region, e.g. `Northern America`; NOT the continent)
 *   `econ_group`        → `un_economic_group` (`Developed regions` | `Developing_Nations`)
 *   `developing_nation` → `un_developing_nation` (`Least developed countries` or null)
 *   `special_region1`   → `un_special_region` (`Latin America and the Caribbean` | `Sub-Saharan-Africa` or null)
 *   `continent`         → fills `continent` when the IP database has none (`Africa`, `Americas`, …)
 *   `name`              → fills `countryLabel` when the IP database has none
 * The CSV's empty cells are "missing" and become null (spec §7.3 REC: treat "" as missing).
 * Values are kept verbatim (including `Developing_Nations` with its underscore), as the original
 * wrote them, so combined tables stay comparable.
 *
 * `name` is ambiguous for KP/KR (`Korea`), CG/CD (`Congo`) and VG/VI (`Virgin Islands`). For every
 * code whose UN name is shared with another code, `countryLabel` is the English CLDR region name
 * (`Intl.DisplayNames`, e.g. `South Korea`, `Congo - Kinshasa`) so the label identifies the country.
 */
import { csvRecords } from '../csv.ts';
import fs from 'node:fs';
import path from 'node:path';

export const UN_REGIONS_CSV = path.join(import.meta.dirname, '..', '..', 'data', 'geographic_regions_by_country.csv');

export interface UnRegion {
  /** ISO-3166 alpha-2, upper case. */
  readonly cc: string;
  /** UN M49 numeric code, zero-padded text (`004`). */
  readonly code: string;
  /** UN short name, verbatim (may be ambiguous, see `countryLabel`). */
  readonly name: string;
  /** What `countryLabel` takes when the IP database has no name: `name`, or the CLDR English name when `name` is shared. */
  readonly countryLabel: string;
  readonly continent: string | null;
  readonly un_major_region: string | null;
  readonly un_economic_group: string | null;
  readonly un_developing_nation: string | null;
  readonly un_special_region: string | null;
}

export type UnRegions = ReadonlyMap<string, UnRegion>;

const EXPECTED_HEADER = ['cc', 'code', 'name', 'un_region', 'continent', 'econ_group', 'developing_nation', 'special_region1'];

const blankToNull = (s: string | undefined): string | null => (s === undefined || s.trim() === '' ? null : s.trim());

/** Parses the CSV text (header required, in the shipped column order). */
export function parseUnRegions(text: string): UnRegions {
  const records = [...csvRecords(text)].filter((r) => r.raw.trim() !== '');
  const bad = records.find((r) => r.error !== undefined);
  if (bad) throw new Error(`UN regions CSV, line ${bad.line}: ${bad.error}`);
  const header = (records[0]?.fields ?? []).map((h) => h.trim());
  if (header.join(',') !== EXPECTED_HEADER.join(',')) throw new Error(`unexpected UN regions header: ${header.join(',')}`);
  const raw = records.slice(1).map((r) => r.fields);
  const nameCount = new Map<string, number>();
  for (const f of raw) nameCount.set(f[2] ?? '', (nameCount.get(f[2] ?? '') ?? 0) + 1);
  const cldr = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  const out = new Map<string, UnRegion>();
  for (const f of raw) {
    const cc = (f[0] ?? '').trim().toUpperCase();
    if (!/^[A-Z]{2}$/.test(cc)) throw new Error(`bad country code in UN regions CSV: ${JSON.stringify(f[0])}`);
    const name = (f[2] ?? '').trim();
    let label = name;
    if ((nameCount.get(f[2] ?? '') ?? 0) > 1) {
      try { label = cldr.of(cc) ?? name; } catch { label = name; }
    }
    out.set(cc, {
      cc, code: (f[1] ?? '').trim(), name, countryLabel: label,
      continent: blankToNull(f[4]),
      un_major_region: blankToNull(f[3]),
      un_economic_group: blankToNull(f[5]),
      un_developing_nation: blankToNull(f[6]),
      un_special_region: blankToNull(f[7]),
    });
  }
  return out;
}

let shipped: UnRegions | undefined;

/** The shipped table (read once), or the table in `file`. */
export function loadUnRegions(file?: string): UnRegions {
  if (file !== undefined) return parseUnRegions(fs.readFileSync(file, 'utf8'));
  shipped ??= parseUnRegions(fs.readFileSync(UN_REGIONS_CSV, 'utf8'));
  return shipped;
}

/** The UN row of a country code (any case), or undefined. */
export function unRegionOf(regions: UnRegions, cc: string | null | undefined): UnRegion | undefined {
  return cc ? regions.get(cc.toUpperCase()) : undefined;
}
