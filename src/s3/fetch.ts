import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3ClientOptions } from './client.ts';
import { isS3Url, keyToRelPath, localPath, parseS3Url, prefixDir, TMP_DIR_NAME } from './keys.ts';
import { ManifestWriter, readManifest } from './manifest.ts';
import { errorMessage, TransientError, withRetry, type RetryOptions } from './retry.ts';

/** One object as listed. */
export interface RemoteObject {
  key: string;
  size: number;
  /** As S3 gives it, quotes included ('"9a0364b9..."'); '' if the server gave none. */
  etag: string;
  lastModified: Date | undefined;
}

/** Counters a progress display reads on a timer. */
export interface FetchProgress {
  phase: 'listing' | 'downloading' | 'done';
  listed: number;
  /** Objects to download (not the up-to-date ones). */
  filesTotal: number;
  filesDone: number;
  filesFailed: number;
  bytesTotal: number;
  /** Bytes of the objects to download that are on disk (a resumed download counts its partial file). */
  bytesDone: number;
}

export function newFetchProgress(): FetchProgress {
  return { phase: 'listing', listed: 0, filesTotal: 0, filesDone: 0, filesFailed: 0, bytesTotal: 0, bytesDone: 0 };
}

export interface FetchOptions extends S3ClientOptions {
  /** Destination directory (created if missing). */
  to: string;
  /**
   * Local path = the whole key (`<to>/<key>`). Default: the key relative to the prefix's
   * directory part (`s3://b/logs/ --to D` puts `logs/x.gz` at `D/x.gz`).
   */
  keepFullKey?: boolean;
  /** Parallel downloads (default 8). */
  concurrency?: number;
  /** MaxKeys of each ListObjectsV2 page (default: the server's, 1000 on S3). */
  pageSize?: number;
  retry?: RetryOptions;
  /** A client to use (not destroyed at the end); default: one made from the options, destroyed at the end. */
  client?: S3Client;
  progress?: FetchProgress;
  /** Warnings (an unreadable manifest). */
  log?: (msg: string) => void;
  /** How often the manifest is written while downloads go on, ms (default 2000). */
  manifestIntervalMs?: number;
}

export interface FetchSummary {
  source: string;
  to: string;
  /** Objects under the prefix. */
  listed: number;
  /** Objects this fetch is about (all listed, but an object whose key equals the prefix alone; directory markers left out). */
  selected: number;
  downloaded: number;
  upToDate: number;
  bytesDownloaded: number;
  /** Downloads that went on from a partial file with a Range request. */
  resumed: number;
  /** Retried requests (listing pages and downloads). */
  retries: number;
  /** Keys that would not be written safely inside the destination. */
  refused: { key: string; reason: string }[];
  failed: { key: string; error: string }[];
  seconds: number;
}

export interface FetchResult {
  summary: FetchSummary;
  /** Absolute local paths of the selected objects now present (downloaded or up to date), in key order. */
  files: string[];
}

/** Lists every object under a prefix: ListObjectsV2, page after page, each page retried. */
export async function listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  o: { pageSize?: number; retry?: RetryOptions; onRetry?: () => void; onPage?: (objects: number) => void } = {},
): Promise<RemoteObject[]> {
  const out: RemoteObject[] = [];
  let token: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await withRetry(
      () => client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: o.pageSize })),
      o.retry,
      o.onRetry,
    );
    for (const c of page.Contents ?? []) {
      if (c.Key === undefined) continue;
      out.push({ key: c.Key, size: c.Size ?? 0, etag: c.ETag ?? '', lastModified: c.LastModified });
    }
    o.onPage?.(out.length);
    if (!page.IsTruncated) break;
    token = page.NextContinuationToken;
    if (!token) throw new Error(`listing s3://${bucket}/${prefix}: the server said the list is truncated but gave no continuation token`);
    if (seen.has(token)) throw new Error(`listing s3://${bucket}/${prefix}: the server repeated a continuation token`);
    seen.add(token);
  }
  return out;
}

function sha(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** The temporary file of a download: in `<to>/.edx2bq-tmp/`, named after the local path and the ETag (a new version never continues an old one's bytes). */
export function partName(rel: string, etag: string): string {
  return `${sha(rel, 32)}-${sha(etag, 16)}.part`;
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** An ETag that is the MD5 of the content: single-part upload, and not SSE-KMS / SSE-C encrypted. */
function md5OfEtag(etag: string, resp: GetObjectCommandOutput): string | null {
  const m = /^"?([0-9a-f]{32})"?$/.exec(etag);
  if (!m) return null;
  if (resp.SSECustomerAlgorithm || (resp.ServerSideEncryption && resp.ServerSideEncryption.startsWith('aws:kms'))) return null;
  return m[1]!;
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

interface DownloadContext {
  client: S3Client;
  bucket: string;
  tmpDir: string;
  retry: RetryOptions | undefined;
  progress: FetchProgress;
  onRetry: () => void;
}

/**
 * Downloads one object to `dest` through `<tmpDir>/<partName>`, renamed into place only when
 * complete and checked (size; MD5 where the ETag is one). A partial file left by an earlier
 * attempt or run is continued with `Range: bytes=<its size>-` and `If-Match: <etag>`; if the
 * object changed, or the server ignores the range, the download starts over. Returns whether it
 * resumed.
 */
async function downloadObject(ctx: DownloadContext, o: RemoteObject, dest: string, part: string): Promise<{ resumed: boolean }> {
  const p = ctx.progress;
  let counted = 0; // bytes of this object counted in p.bytesDone
  const setCounted = (n: number) => {
    p.bytesDone += n - counted;
    counted = n;
  };
  let resumed = false;
  try {
    await withRetry(
      async () => {
        let offset = (await sizeOf(part)) ?? 0;
        if (offset >= o.size && offset > 0) {
          // complete but never renamed (or too long): its check did not run or failed; start over
          await fs.promises.rm(part, { force: true });
          offset = 0;
        }
        setCounted(offset);
        let resp: GetObjectCommandOutput;
        try {
          resp = await ctx.client.send(
            new GetObjectCommand({
              Bucket: ctx.bucket,
              Key: o.key,
              ...(o.etag ? { IfMatch: o.etag } : {}),
              ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
            }),
          );
        } catch (err) {
          if (statusOf(err) === 412 || statusOf(err) === 416) {
            if (offset > 0) {
              await fs.promises.rm(part, { force: true });
              throw new TransientError(`the object changed since the partial download (HTTP ${statusOf(err)}): starting over`);
            }
            throw new Error(`the object changed since it was listed (HTTP ${statusOf(err)}); run fetch again`, { cause: err });
          }
          throw err;
        }
        const body = resp.Body;
        if (!(body instanceof Readable)) throw new Error('GetObject gave no Node.js stream body');
        try {
          if (o.etag && resp.ETag && resp.ETag !== o.etag) {
            if (offset > 0) {
              await fs.promises.rm(part, { force: true });
              throw new TransientError(`the object changed since the partial download (ETag ${o.etag} → ${resp.ETag}): starting over`);
            }
            throw new Error(`the object changed since it was listed (ETag ${o.etag} → ${resp.ETag}); run fetch again`);
          }
          // where this body starts: a 206 says so in Content-Range; a 200 is the whole object
          let start = 0;
          if (offset > 0 && resp.$metadata.httpStatusCode === 206) {
            const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(resp.ContentRange ?? '');
            if (!m || Number(m[1]) !== offset || (m[3] !== '*' && Number(m[3]) !== o.size)) {
              await fs.promises.rm(part, { force: true });
              throw new TransientError(`unexpected Content-Range ${JSON.stringify(resp.ContentRange)} for a request from byte ${offset} of ${o.size}: starting over`);
            }
            start = offset;
            resumed = true;
          }
          setCounted(start);
          const md5Hex = md5OfEtag(o.etag, resp);
          const md5 = md5Hex ? createHash('md5') : null;
          if (md5 && start > 0) {
            for await (const chunk of fs.createReadStream(part, { end: start - 1 })) md5.update(chunk as Buffer);
          }
          await pipeline(
            body,
            async function* (src: AsyncIterable<Buffer>) {
              for await (const chunk of src) {
                md5?.update(chunk);
                setCounted(counted + chunk.length);
                yield chunk;
              }
            },
            fs.createWriteStream(part, { flags: start > 0 ? 'a' : 'w' }),
          );
          const got = (await sizeOf(part)) ?? 0;
          if (got < o.size) throw new TransientError(`short body: ${got} of ${o.size} bytes`); // the next attempt continues it
          if (got > o.size) {
            await fs.promises.rm(part, { force: true });
            throw new TransientError(`long body: ${got} bytes, the listing said ${o.size}: starting over`);
          }
          if (md5 && md5.digest('hex') !== md5Hex) {
            await fs.promises.rm(part, { force: true });
            throw new TransientError(`MD5 of the download differs from the ETag ${o.etag}: starting over`);
          }
        } finally {
          body.destroy();
        }
      },
      ctx.retry,
      ctx.onRetry,
    );
    if (o.lastModified) await fs.promises.utimes(part, new Date(), o.lastModified);
    await fs.promises.mkdir(path.dirname(dest), { recursive: true });
    await fs.promises.rename(part, dest);
    return { resumed };
  } catch (err) {
    setCounted(0);
    throw err;
  }
}

/**
 * Fetches `s3://bucket/prefix` into `o.to`: lists the prefix, downloads what the manifest
 * (`<to>/.edx2bq-fetch.json`) does not record with the same size and ETag (or whose local copy
 * is missing or of another size), `o.concurrency` at a time. Per-object failures and refused keys
 * are in the summary, not thrown; a listing failure is thrown.
 */
export async function fetchS3(url: string, o: FetchOptions): Promise<FetchResult> {
  const t0 = performance.now();
  const { bucket, prefix } = parseS3Url(url);
  const to = path.resolve(o.to);
  const p = o.progress ?? newFetchProgress();
  const client = o.client ?? (await createS3Client(o));
  const summary: FetchSummary = {
    source: url,
    to,
    listed: 0,
    selected: 0,
    downloaded: 0,
    upToDate: 0,
    bytesDownloaded: 0,
    resumed: 0,
    retries: 0,
    refused: [],
    failed: [],
    seconds: 0,
  };
  const onRetry = () => void summary.retries++;
  try {
    p.phase = 'listing';
    const listed = await listObjects(client, bucket, prefix, { pageSize: o.pageSize, retry: o.retry, onRetry, onPage: (n) => (p.listed = n) });
    summary.listed = listed.length;

    // an object whose key is the whole prefix means "this file", not "everything starting so"
    const exact = prefix !== '' && !prefix.endsWith('/') ? listed.find((x) => x.key === prefix) : undefined;
    const selected = (exact ? [exact] : listed).filter((x) => !(x.key.endsWith('/') && x.size === 0)); // directory markers
    selected.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    summary.selected = selected.length;

    await fs.promises.mkdir(to, { recursive: true });
    const writer = new ManifestWriter(to, await readManifest(to, o.log), o.manifestIntervalMs);
    const base = o.keepFullKey ? '' : prefixDir(prefix);
    const present = new Map<string, string>(); // key → local path
    const todo: { obj: RemoteObject; rel: string; dest: string }[] = [];
    for (const obj of selected) {
      const m = keyToRelPath(obj.key, base);
      if (!m.ok) {
        summary.refused.push({ key: obj.key, reason: m.reason });
        continue;
      }
      let dest: string;
      try {
        dest = localPath(to, m.rel);
      } catch (err) {
        summary.refused.push({ key: obj.key, reason: (err as Error).message });
        continue;
      }
      const e = writer.manifest.files[m.rel];
      const lm = obj.lastModified?.toISOString() ?? null;
      if (e && e.bucket === bucket && e.key === obj.key && e.size === obj.size && e.etag === obj.etag && (obj.etag !== '' || e.lastModified === lm) && (await sizeOf(dest)) === obj.size) {
        summary.upToDate++;
        present.set(obj.key, dest);
      } else {
        todo.push({ obj, rel: m.rel, dest });
      }
    }

    p.phase = 'downloading';
    p.filesTotal = todo.length;
    p.bytesTotal = todo.reduce((s, t) => s + t.obj.size, 0);
    const tmpDir = path.join(to, TMP_DIR_NAME);
    if (todo.length > 0) await fs.promises.mkdir(tmpDir, { recursive: true });
    // parts of earlier versions of the objects to download: removed (their bytes are of no use)
    const parts = todo.length > 0 ? await fs.promises.readdir(tmpDir) : [];
    const partsByRel = new Map<string, string[]>();
    for (const n of parts) {
      const h = n.slice(0, 32);
      partsByRel.set(h, [...(partsByRel.get(h) ?? []), n]);
    }
    const ctx: DownloadContext = { client, bucket, tmpDir, retry: o.retry, progress: p, onRetry };
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const t = todo[next++]!;
        const name = partName(t.rel, t.obj.etag);
        try {
          for (const old of partsByRel.get(name.slice(0, 32)) ?? []) if (old !== name) await fs.promises.rm(path.join(tmpDir, old), { force: true });
          const r = await downloadObject(ctx, t.obj, t.dest, path.join(tmpDir, name));
          writer.set(t.rel, { bucket, key: t.obj.key, size: t.obj.size, etag: t.obj.etag, lastModified: t.obj.lastModified?.toISOString() ?? null, fetchedAt: new Date().toISOString() });
          summary.downloaded++;
          summary.bytesDownloaded += t.obj.size;
          if (r.resumed) summary.resumed++;
          p.filesDone++;
          present.set(t.obj.key, t.dest);
        } catch (err) {
          summary.failed.push({ key: t.obj.key, error: errorMessage(err) });
          p.filesFailed++;
          p.bytesTotal -= t.obj.size;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 8, todo.length)) }, worker));
    } finally {
      await writer.flush();
    }
    // an empty temporary dir is removed; parts of failed downloads stay for the next run
    if (todo.length > 0) await fs.promises.rmdir(tmpDir).catch(() => undefined);
    p.phase = 'done';
    summary.failed.sort((a, b) => (a.key < b.key ? -1 : 1));
    summary.seconds = (performance.now() - t0) / 1000;
    const files = selected.flatMap((x) => (present.has(x.key) ? [present.get(x.key)!] : []));
    return { summary, files };
  } finally {
    if (!o.client) client.destroy();
  }
}

export interface ResolveS3Options extends S3ClientOptions {
  concurrency?: number;
  retry?: RetryOptions;
  client?: S3Client;
  log?: (msg: string) => void;
  /** Called with each fetch's summary (for a progress line or a report). */
  onFetched?: (s: FetchSummary) => void;
}

/**
 * For commands that take inputs: every `s3://bucket/prefix` argument is fetched into
 * `<cacheDir>/<bucket>/<key>` (one manifest per bucket, so later runs download only what is new)
 * and replaced, in place, by the local paths of its objects in key order; other arguments are
 * returned unchanged. Throws if an S3 argument matches no object, or if any of its objects could
 * not be fetched (refused or failed): a silently partial input set is worse than an error.
 */
export async function resolveS3Inputs(inputs: string[], cacheDir: string, o: ResolveS3Options = {}): Promise<string[]> {
  if (!inputs.some(isS3Url)) return [...inputs];
  const client = o.client ?? (await createS3Client(o));
  const done = new Map<string, string[]>();
  try {
    const out: string[] = [];
    for (const input of inputs) {
      if (!isS3Url(input)) {
        out.push(input);
        continue;
      }
      let files = done.get(input);
      if (!files) {
        const { bucket } = parseS3Url(input);
        const r = await fetchS3(input, { to: path.join(cacheDir, bucket), keepFullKey: true, client, concurrency: o.concurrency, retry: o.retry, log: o.log });
        o.onFetched?.(r.summary);
        const bad = [...r.summary.refused.map((x) => `${x.key}: refused (${x.reason})`), ...r.summary.failed.map((x) => `${x.key}: ${x.error}`)];
        if (bad.length > 0) throw new Error(`fetching ${input}: ${bad.length} object(s) not fetched:\n  ${bad.slice(0, 20).join('\n  ')}${bad.length > 20 ? '\n  ...' : ''}`);
        if (r.files.length === 0) throw new Error(`no objects under ${input}`);
        files = r.files;
        done.set(input, files);
      }
      out.push(...files);
    }
    return out;
  } finally {
    if (!o.client) client.destroy();
  }
}
