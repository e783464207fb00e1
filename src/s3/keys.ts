import path from 'node:path';
import { assertInside } from '../fsutil.ts';

/** Names that fetch keeps for itself at the top of a destination directory. */
export const MANIFEST_NAME = '.edx2bq-fetch.json';
export const TMP_DIR_NAME = '.edx2bq-tmp';

export interface S3Url {
  bucket: string;
  /** Everything after `s3://bucket/`, as given (may be empty). */
  prefix: string;
}

/** Parses `s3://bucket[/prefix]`. The prefix is taken literally (no percent-decoding), as the AWS CLI does. */
export function parseS3Url(url: string): S3Url {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/s.exec(url);
  if (!m) throw new Error(`not an S3 URL (want s3://bucket/prefix): ${JSON.stringify(url)}`);
  const bucket = m[1] ?? '';
  // bucket names: 3-63 of [a-z0-9.-]; accept a little more (legacy upper case / underscores), never '/', NUL or blanks
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(bucket)) throw new Error(`bad bucket name in ${JSON.stringify(url)}`);
  return { bucket, prefix: m[2] ?? '' };
}

export function isS3Url(s: string): boolean {
  return s.startsWith('s3://');
}

/**
 * The part of a prefix that is a "directory": up to and including its last '/'. `logs/2024-` →
 * `logs/`; `logs/` → `logs/`; `x` → ''. Keys are written relative to it, so `fetch s3://b/logs/
 * --to D` puts `logs/a.gz` at `D/a.gz`, and `fetch s3://b/logs/tracking- --to D` puts
 * `logs/tracking-1.gz` at `D/tracking-1.gz`.
 */
export function prefixDir(prefix: string): string {
  const i = prefix.lastIndexOf('/');
  return i < 0 ? '' : prefix.slice(0, i + 1);
}

export type KeyMapping = { ok: true; rel: string } | { ok: false; reason: string };

/**
 * Maps an (untrusted) object key to a relative local path, '/'-separated, or says why it
 * refuses. `base` is the prefix dir stripped from the key ('' to keep the whole key). Refused:
 * NUL and other control characters, backslashes, absolute keys and empty segments ('a//b'),
 * '.' and '..' segments, and names fetch keeps for itself. Nothing is rewritten: two keys can
 * never land on one file, and a refused key is reported, not silently renamed.
 */
export function keyToRelPath(key: string, base: string): KeyMapping {
  if (!key.startsWith(base)) return { ok: false, reason: `key is not under ${JSON.stringify(base)}` };
  const rel = key.slice(base.length);
  if (rel === '') return { ok: false, reason: 'empty file name' };
  if (/[\u0000-\u001f\u007f]/.test(rel)) return { ok: false, reason: 'control character (NUL, newline, ...) in the key' };
  if (rel.includes('\\')) return { ok: false, reason: 'backslash in the key' };
  const segs = rel.split('/');
  for (const s of segs) {
    if (s === '') return { ok: false, reason: rel.startsWith('/') ? 'absolute key' : 'empty path segment (// or a trailing /)' };
    if (s === '.' || s === '..') return { ok: false, reason: `"${s}" path segment` };
    if (Buffer.byteLength(s) > 255) return { ok: false, reason: 'path segment longer than 255 bytes' };
  }
  if (segs[0] === MANIFEST_NAME || segs[0] === TMP_DIR_NAME) return { ok: false, reason: `name reserved by fetch (${segs[0]})` };
  return { ok: true, rel };
}

/** The absolute local path of a relative path from keyToRelPath, checked to lie inside `to`. */
export function localPath(to: string, rel: string): string {
  return assertInside(to, path.join(path.resolve(to), ...rel.split('/')));
}
