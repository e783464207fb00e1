import fs from 'node:fs';
import { isValidDate } from './events/time.ts';
import { slashCourseId } from './ids.ts';
import path from 'node:path';
import { defaultWorkerCount } from './logs/pool.ts';

/**
 * Settings from, in increasing precedence: built-in defaults, the config file
 * (`--config FILE`, `EDX2BQ_CONFIG`, or `./edx2bq.config.json` when present), environment
 * variables, command-line flags.
 */
export interface Config {
  logsDir: string;
  /** The embedded DuckDB warehouse file. */
  warehouse: string;
  workers: number;
  chunkSizeMB: number;
  gzipLevel: number;
  /** The course SQL dirs of the weekly dumps (spec §1.5): `waldofy` writes there. */
  sqlDir: string;
  /** Where `s3://` inputs of split, person-day and waldofy are fetched to (only new objects are downloaded again). */
  s3CacheDir: string;
  /**
   * Pinned dump dates (spec §1.6, `course_axis_pin_dates`): course id (either form) → the
   * `YYYY-MM-DD` dump setup-sql and axis use instead of the latest. Config file only.
   */
  dumpDates: Record<string, string>;
  /** `s3://bucket/prefix` of the weekly dumps and of the daily logs (`edx2bq fetch --dumps` / `--logs`). */
  s3Dumps: string;
  s3Logs: string;
  /** A MaxMind GeoLite2/GeoIP2 City `.mmdb` to use instead of the DB-IP database from npm ('' = DB-IP). */
  mmdb: string;
}

export const DEFAULTS: Config = {
  logsDir: path.join('edx2bq-data', 'logs'),
  warehouse: path.join('edx2bq-data', 'warehouse.duckdb'),
  workers: defaultWorkerCount(),
  chunkSizeMB: 1,
  gzipLevel: 1,
  sqlDir: path.join('edx2bq-data', 'sql'),
  s3CacheDir: path.join('edx2bq-data', 's3-cache'),
  dumpDates: {},
  s3Dumps: '',
  s3Logs: '',
  mmdb: '',
};

const ENV: Partial<Record<keyof Config, string>> = {
  logsDir: 'EDX2BQ_LOGS_DIR',
  warehouse: 'EDX2BQ_WAREHOUSE',
  workers: 'EDX2BQ_WORKERS',
  chunkSizeMB: 'EDX2BQ_CHUNK_MB',
  gzipLevel: 'EDX2BQ_GZIP_LEVEL',
  sqlDir: 'EDX2BQ_SQL_DIR',
  s3CacheDir: 'EDX2BQ_S3_CACHE',
  s3Dumps: 'EDX2BQ_S3_DUMPS',
  s3Logs: 'EDX2BQ_S3_LOGS',
  mmdb: 'EDX2BQ_MMDB',
};

export class ConfigError extends Error {}

function checkInt(name: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function checkNumber(name: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function validate(raw: Record<string, unknown>, where: string): Partial<Config> {
  const out: Partial<Config> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    const name = `${k} (${where})`;
    switch (k) {
      case 'logsDir':
      case 'warehouse':
      case 'sqlDir':
      case 's3CacheDir':
      case 'mmdb':
        if (typeof v !== 'string' || v === '') throw new ConfigError(`${name} must be a non-empty path`);
        out[k] = v;
        break;
      case 's3Dumps':
      case 's3Logs':
        if (typeof v !== 'string' || !/^s3:\/\/[^/]+/.test(v)) throw new ConfigError(`${name} must be an s3://bucket/prefix URL, got ${JSON.stringify(v)}`);
        out[k] = v;
        break;
      case 'workers':
        out.workers = checkInt(name, v, 1, 256);
        break;
      case 'chunkSizeMB':
        out.chunkSizeMB = checkNumber(name, v, 0.001, 1024);
        break;
      case 'gzipLevel':
        out.gzipLevel = checkInt(name, v, 0, 9);
        break;
      case 'dumpDates': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${name} must be an object: course id → YYYY-MM-DD`);
        const dates: Record<string, string> = {};
        for (const [course, date] of Object.entries(v as Record<string, unknown>)) {
          const m = typeof date === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(date) : null;
          if (!m || !isValidDate(Number(m[1]), Number(m[2]), Number(m[3]))) throw new ConfigError(`${name}: the date of ${course} must be a real date YYYY-MM-DD, got ${JSON.stringify(date)}`);
          dates[slashCourseId(course)] = date as string;
        }
        out.dumpDates = dates;
        break;
      }
      default:
        throw new ConfigError(`unknown setting "${k}" in ${where}; known: ${Object.keys(DEFAULTS).join(', ')}`);
    }
  }
  return out;
}

function readConfigFile(file: string | undefined): Partial<Config> {
  const explicit = file ?? process.env.EDX2BQ_CONFIG;
  const candidate = explicit ?? 'edx2bq.config.json';
  if (!fs.existsSync(candidate)) {
    if (explicit) throw new ConfigError(`config file not found: ${explicit}`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(candidate, 'utf8'));
  } catch (e) {
    throw new ConfigError(`config file ${candidate} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`config file ${candidate} must hold a JSON object`);
  return validate(parsed as Record<string, unknown>, candidate);
}

/** Resolves the configuration for one command. `flags` are the command-line values (undefined = not given). */
export function loadConfig(flags: Partial<Record<keyof Config, unknown>> & { config?: string }, env: NodeJS.ProcessEnv = process.env): Config {
  const fromFile = readConfigFile(flags.config);
  const fromEnv: Record<string, unknown> = {};
  for (const [k, name] of Object.entries(ENV)) if (env[name] !== undefined && env[name] !== '') fromEnv[k] = env[name];
  const { config: _ignored, ...flagValues } = flags;
  void _ignored;
  return { ...DEFAULTS, ...fromFile, ...validate(fromEnv, 'environment'), ...validate(flagValues, 'command line') };
}
