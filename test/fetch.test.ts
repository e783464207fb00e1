import crypto, { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { CreateBucketCommand, PutObjectCommand, S3Client, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runFetch } from '../src/commands/fetch.ts';
import { createS3Client } from '../src/s3/client.ts';
import { fetchS3, newFetchProgress, partName, resolveS3Inputs, type FetchOptions } from '../src/s3/fetch.ts';
import { keyToRelPath, MANIFEST_NAME, parseS3Url, prefixDir, TMP_DIR_NAME } from '../src/s3/keys.ts';
import { readManifest } from '../src/s3/manifest.ts';
import { startFetchProgress } from '../src/s3/progress.ts';
import { isTransient } from '../src/s3/retry.ts';

// s3rver in this process, behind a tiny loopback proxy that logs requests and injects faults.

const CREDS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const BUCKET = 'edx';
const FAST_RETRY = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

interface Fault {
  match: (req: http.IncomingMessage) => boolean;
  /** 503 with an S3 error body; or forward and cut the connection after `bytes` of the body. */
  action: { kind: '503' } | { kind: 'cut'; bytes: number };
}

let root: string;
let server: S3rver;
let proxy: http.Server;
let endpoint: string;
let admin: S3Client;
let client: S3Client;
const upstreamAgent = new http.Agent({ keepAlive: false });
const requests: { method: string; url: string; range: string | undefined }[] = [];
let faults: Fault[] = [];

function isGet(key: string) {
  return (req: http.IncomingMessage) => req.method === 'GET' && (req.url ?? '').split('?')[0] === `/${BUCKET}/${key}`;
}
const isList = (req: http.IncomingMessage) => req.method === 'GET' && /[?&]list-type=2/.test(req.url ?? '');
/** Logged GETs of one object (not listings). */
const getsOf = (key: string) => requests.filter((r) => r.method === 'GET' && r.url.split('?')[0] === `/${BUCKET}/${key}`);

async function put(key: string, body: Buffer): Promise<void> {
  await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

function opts(to: string, extra: Partial<FetchOptions> = {}): FetchOptions {
  return { to, client, retry: FAST_RETRY, ...extra };
}

async function tmpDir(name: string): Promise<string> {
  return fs.promises.mkdtemp(path.join(root, `${name}-`));
}

/** Every path under a directory, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const out = await fs.promises.readdir(dir, { recursive: true });
  return out.map((p) => p.split(path.sep).join('/')).sort();
}

const objects: Record<string, Buffer> = {
  'logs/a.log': randomBytes(200_000),
  'logs/sub/b.gz': randomBytes(1_500_000),
  'logs/empty.txt': Buffer.alloc(0),
  'other/c.txt': Buffer.from('not under logs/\n'),
  'exact/x.gz': randomBytes(1000),
  'exact/x.gz.bak': randomBytes(1000),
};

/**
 * s3rver 3.7.1 makes its ListObjectsV2 continuation tokens with DES, which OpenSSL 3 no longer
 * has (ERR_OSSL_EVP_UNSUPPORTED → 500 InternalError on page 2). s3rver runs in this process and
 * calls `crypto.createCipheriv` on the shared module object, so the test swaps 'des' for an
 * identity "cipher" (the token is then iv + plain text, which s3rver only ever reads back itself).
 */
function patchDesForS3rver(): () => void {
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return () => undefined;
  } catch {
    // DES unavailable: patch below
  }
  const identity = { update: (b: Buffer | string) => Buffer.from(b), final: () => Buffer.alloc(0) };
  const c = crypto as unknown as Record<'createCipheriv' | 'createDecipheriv', (...a: unknown[]) => unknown>;
  const { createCipheriv, createDecipheriv } = c;
  c.createCipheriv = (alg: unknown, ...rest: unknown[]) => (alg === 'des' ? identity : createCipheriv(alg, ...rest));
  c.createDecipheriv = (alg: unknown, ...rest: unknown[]) => (alg === 'des' ? identity : createDecipheriv(alg, ...rest));
  return () => {
    c.createCipheriv = createCipheriv;
    c.createDecipheriv = createDecipheriv;
  };
}
let unpatchDes: () => void = () => undefined;

beforeAll(async () => {
  unpatchDes = patchDesForS3rver();
  root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'edx2bq-fetch-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(root, 's3rver') });
  const { port: s3Port } = await server.run();

  proxy = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', range: req.headers.range });
    const i = faults.findIndex((f) => f.match(req));
    const fault = i >= 0 ? faults.splice(i, 1)[0] : undefined; // each fault fires once
    if (fault?.action.kind === '503') {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>injected by the test proxy</Message></Error>');
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: s3Port, method: req.method, path: req.url, headers: req.headers, agent: upstreamAgent }, (ur) => {
      res.writeHead(ur.statusCode ?? 500, ur.headers);
      if (fault?.action.kind === 'cut') {
        const limit = fault.action.bytes;
        let sent = 0;
        ur.on('data', (chunk: Buffer) => {
          if (sent >= limit) return;
          const piece = chunk.subarray(0, limit - sent);
          sent += piece.length;
          if (sent >= limit) {
            ur.destroy();
            res.write(piece, () => res.socket?.destroy());
          } else res.write(piece);
        });
        return;
      }
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const common = { region: 'us-east-1', forcePathStyle: true, credentials: CREDS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const;
  admin = new S3Client({ ...common, endpoint: `http://127.0.0.1:${s3Port}` });
  client = new S3Client({ ...common, endpoint, maxAttempts: 1 });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const [k, v] of Object.entries(objects)) await put(k, v);
});

afterAll(async () => {
  admin?.destroy();
  client?.destroy();
  upstreamAgent.destroy();
  if (proxy) {
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  }
  if (server) {
    server.httpServer?.closeAllConnections();
    await server.close();
  }
  if (root) await fs.promises.rm(root, { recursive: true, force: true });
  unpatchDes();
});

describe('keys and URLs', () => {
  it('parses s3 URLs and prefix dirs', () => {
    expect(parseS3Url('s3://b/logs/x')).toEqual({ bucket: 'b', prefix: 'logs/x' });
    expect(parseS3Url('s3://b')).toEqual({ bucket: 'b', prefix: '' });
    expect(parseS3Url('s3://b/')).toEqual({ bucket: 'b', prefix: '' });
    expect(() => parseS3Url('s3://../x')).toThrow();
    expect(() => parseS3Url('/local/path')).toThrow();
    expect(prefixDir('logs/2024-')).toBe('logs/');
    expect(prefixDir('logs/')).toBe('logs/');
    expect(prefixDir('x')).toBe('');
  });

  it('refuses keys that could leave the destination or clash with its own files', () => {
    const refused = ['../../x', '/abs', 'a/../../x', 'a/./b', '..', 'a//b', 'a/', 'nul\0x', 'new\nline', 'back\\slash', MANIFEST_NAME, `${TMP_DIR_NAME}/p.part`, 'x'.repeat(256)];
    for (const k of refused) expect(keyToRelPath(k, ''), k).toMatchObject({ ok: false });
    expect(keyToRelPath('logs/../../x', 'logs/')).toMatchObject({ ok: false });
    expect(keyToRelPath('logs/a/b.gz', 'logs/')).toEqual({ ok: true, rel: 'a/b.gz' });
    expect(keyToRelPath('..a/b..c/.d', '')).toEqual({ ok: true, rel: '..a/b..c/.d' });
    expect(keyToRelPath('sub/.edx2bq-fetch.json', '')).toEqual({ ok: true, rel: 'sub/.edx2bq-fetch.json' }); // only the top-level name is reserved
  });

  it('tells transient errors from others', () => {
    expect(isTransient(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { name: 'SlowDown', $metadata: { httpStatusCode: 400 } }))).toBe(true);
    expect(isTransient(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(new Error('wrapped', { cause: Object.assign(new Error('t'), { code: 'ETIMEDOUT' }) }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }))).toBe(false);
    expect(isTransient(new Error('plain'))).toBe(false);
  });
});

describe('client', () => {
  it('takes the region from the SDK chain, else us-east-1; relaxes checksums only for an explicit endpoint', async () => {
    const saved = { region: process.env.AWS_REGION, cfg: process.env.AWS_CONFIG_FILE };
    const restore = (k: 'AWS_REGION' | 'AWS_CONFIG_FILE', v: string | undefined) => (v === undefined ? delete process.env[k] : (process.env[k] = v));
    try {
      delete process.env.AWS_REGION;
      process.env.AWS_CONFIG_FILE = path.join(root, 'no-such-aws-config');
      const a = await createS3Client({ credentials: CREDS });
      expect(await a.config.region()).toBe('us-east-1');
      expect(await a.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
      a.destroy();
      process.env.AWS_REGION = 'eu-west-3';
      const b = await createS3Client({ credentials: CREDS, endpoint });
      expect(await b.config.region()).toBe('eu-west-3');
      expect(await b.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
      expect(await b.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
      b.destroy();
      const c = await createS3Client({ region: 'ap-south-1' });
      expect(await c.config.region()).toBe('ap-south-1');
      c.destroy();
    } finally {
      restore('AWS_REGION', saved.region);
      restore('AWS_CONFIG_FILE', saved.cfg);
    }
  });
});

describe('fetch from s3rver', () => {
  let to: string;

  it('downloads everything under the prefix, byte for byte, and writes the manifest', async () => {
    to = await tmpDir('main');
    const { summary, files } = await fetchS3(`s3://${BUCKET}/logs/`, opts(to));
    expect(summary).toMatchObject({ listed: 3, selected: 3, downloaded: 3, upToDate: 0, refused: [], failed: [], bytesDownloaded: 1_700_000 });
    expect(files).toEqual([path.join(to, 'a.log'), path.join(to, 'empty.txt'), path.join(to, 'sub/b.gz')]);
    for (const k of ['logs/a.log', 'logs/sub/b.gz', 'logs/empty.txt']) expect(fs.readFileSync(path.join(to, k.slice(5))).equals(objects[k]!), k).toBe(true);
    expect(await tree(to)).toEqual([MANIFEST_NAME, 'a.log', 'empty.txt', 'sub', 'sub/b.gz']); // no temp dir or part left
    const m = await readManifest(to);
    expect(Object.keys(m.files).sort()).toEqual(['a.log', 'empty.txt', 'sub/b.gz']);
    expect(m.files['sub/b.gz']).toMatchObject({ bucket: BUCKET, key: 'logs/sub/b.gz', size: 1_500_000, etag: expect.stringMatching(/^"[0-9a-f]{32}"$/) });
    expect(m.files['sub/b.gz']!.lastModified).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('downloads nothing the second time', async () => {
    const before = requests.length;
    const { summary } = await fetchS3(`s3://${BUCKET}/logs/`, opts(to));
    expect(summary).toMatchObject({ downloaded: 0, upToDate: 3, failed: [] });
    expect(requests.slice(before).every((r) => /list-type=2/.test(r.url))).toBe(true); // listing only
  });

  it('downloads again a changed object (same size, new content), a new one and a deleted local copy', async () => {
    const changed = randomBytes(200_000);
    objects['logs/a.log'] = changed;
    await put('logs/a.log', changed);
    objects['logs/new.txt'] = Buffer.from('new object\n');
    await put('logs/new.txt', objects['logs/new.txt']);
    await fs.promises.rm(path.join(to, 'empty.txt'));
    const { summary } = await fetchS3(`s3://${BUCKET}/logs/`, opts(to));
    expect(summary).toMatchObject({ selected: 4, downloaded: 3, upToDate: 1, failed: [] });
    expect(fs.readFileSync(path.join(to, 'a.log')).equals(changed)).toBe(true);
    expect(fs.readFileSync(path.join(to, 'new.txt'), 'utf8')).toBe('new object\n');
    expect(fs.statSync(path.join(to, 'empty.txt')).size).toBe(0);
    expect(Object.keys((await readManifest(to)).files).sort()).toEqual(['a.log', 'empty.txt', 'new.txt', 'sub/b.gz']);
  });

  it('filters by prefix: a directory, part of a name, and one exact key', async () => {
    const d1 = await tmpDir('prefix-dir');
    expect((await fetchS3(`s3://${BUCKET}/logs/sub/`, opts(d1))).summary.downloaded).toBe(1);
    expect(await tree(d1)).toEqual([MANIFEST_NAME, 'b.gz']);

    const d2 = await tmpDir('prefix-name');
    await fetchS3(`s3://${BUCKET}/logs/a`, opts(d2));
    expect(await tree(d2)).toEqual([MANIFEST_NAME, 'a.log']);

    const d3 = await tmpDir('prefix-exact');
    const r = await fetchS3(`s3://${BUCKET}/exact/x.gz`, opts(d3));
    expect(r.summary).toMatchObject({ listed: 2, selected: 1, downloaded: 1 });
    expect(await tree(d3)).toEqual([MANIFEST_NAME, 'x.gz']);

    const d4 = await tmpDir('prefix-full');
    await fetchS3(`s3://${BUCKET}/exact/`, opts(d4, { keepFullKey: true }));
    expect(await tree(d4)).toEqual([MANIFEST_NAME, 'exact', 'exact/x.gz', 'exact/x.gz.bak']);
  });

  it('pages through the listing', async () => {
    for (let i = 0; i < 25; i++) await put(`many/k${String(i).padStart(3, '0')}`, Buffer.from(`object ${i}\n`));
    const d = await tmpDir('pages');
    const before = requests.length;
    const { summary } = await fetchS3(`s3://${BUCKET}/many/`, opts(d, { pageSize: 4, concurrency: 3 }));
    expect(summary).toMatchObject({ listed: 25, downloaded: 25 });
    const lists = requests.slice(before).filter((r) => /list-type=2/.test(r.url));
    expect(lists.length).toBe(7);
    expect(lists.slice(1).every((r) => /continuation-token=/.test(r.url))).toBe(true);
    expect(fs.readFileSync(path.join(d, 'k024'), 'utf8')).toBe('object 24\n');
  });

  it('keeps hostile keys from the listing inside the destination', async () => {
    await put('evil/fine.txt', Buffer.from('fine\n'));
    const hostile = ['evil/../../escape.txt', 'evil//abs.txt', 'evil/a/../../../x', 'evil/nul\0x', 'evil/..', 'evil/back\\slash', `evil/${MANIFEST_NAME}`, 'evil/../evil/../../y'];
    // a fake server: the listing of evil/ says there are such keys (s3rver would store them outside its own directory)
    const c = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: CREDS, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const r = await next(args);
        if (context.commandName === 'ListObjectsV2Command') {
          const out = r.output as ListObjectsV2CommandOutput;
          out.Contents = [...(out.Contents ?? []), ...hostile.map((Key) => ({ Key, Size: 5, ETag: '"0"', LastModified: new Date() }))];
        }
        return r;
      },
      { step: 'initialize', name: 'hostileListing' },
    );
    const outer = await tmpDir('hostile');
    const to2 = path.join(outer, 'inner', 'to');
    try {
      const { summary } = await fetchS3(`s3://${BUCKET}/evil/`, { to: to2, client: c, retry: FAST_RETRY });
      expect(summary.downloaded).toBe(1);
      expect(summary.failed).toEqual([]);
      expect(summary.refused.map((r) => r.key).sort()).toEqual([...hostile].sort());
      // with whole keys, evil/.edx2bq-fetch.json is an ordinary name (only the top-level one is
      // reserved): not refused, and its GET fails (s3rver has no such object)
      const r2 = await fetchS3(`s3://${BUCKET}/evil/`, { to: path.join(outer, 'full'), client: c, retry: FAST_RETRY, keepFullKey: true });
      expect(r2.summary.refused.map((r) => r.key).sort()).toEqual(hostile.filter((k) => k !== `evil/${MANIFEST_NAME}`).sort());
      expect(r2.summary.failed.map((r) => r.key)).toEqual([`evil/${MANIFEST_NAME}`]);
      expect(r2.summary.downloaded).toBe(1);
    } finally {
      c.destroy();
    }
    expect(await tree(outer)).toEqual(['full', `full/${MANIFEST_NAME}`, 'full/evil', 'full/evil/fine.txt', 'inner', 'inner/to', `inner/to/${MANIFEST_NAME}`, 'inner/to/fine.txt']);
    expect(fs.existsSync(path.join(root, 'escape.txt'))).toBe(false);
  });

  it('retries a 503 on a listing page and on a download; does not retry a missing bucket', async () => {
    const d = await tmpDir('retry');
    faults = [
      { match: isList, action: { kind: '503' } },
      { match: isGet('logs/sub/b.gz'), action: { kind: '503' } },
    ];
    const before = requests.length;
    const { summary } = await fetchS3(`s3://${BUCKET}/logs/sub/`, opts(d));
    expect(faults).toEqual([]); // both fired
    expect(summary).toMatchObject({ downloaded: 1, retries: 2, failed: [] });
    expect(requests.slice(before).filter((r) => /list-type=2/.test(r.url)).length).toBe(2);
    expect(fs.readFileSync(path.join(d, 'b.gz')).equals(objects['logs/sub/b.gz']!)).toBe(true);

    const n = requests.length;
    await expect(fetchS3('s3://no-such-bucket/x/', opts(await tmpDir('nobucket')))).rejects.toThrow(/bucket/i);
    expect(requests.length - n).toBe(1);
  });

  it('continues a download cut off half way with a Range request', async () => {
    const d = await tmpDir('cut');
    faults = [{ match: isGet('logs/sub/b.gz'), action: { kind: 'cut', bytes: 700_000 } }];
    const before = getsOf('logs/sub/b.gz').length;
    const { summary } = await fetchS3(`s3://${BUCKET}/logs/sub/`, opts(d));
    expect(summary).toMatchObject({ downloaded: 1, resumed: 1, retries: 1, failed: [] });
    const gets = getsOf('logs/sub/b.gz').slice(before);
    expect(gets.length).toBe(2);
    expect(gets[0]!.range).toBeUndefined();
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(700_000);
    expect(fs.readFileSync(path.join(d, 'b.gz')).equals(objects['logs/sub/b.gz']!)).toBe(true);
    expect(await tree(d)).toEqual([MANIFEST_NAME, 'b.gz']);
  });

  it('leaves no partial file under the final name when a run gives up, and the next run finishes it', async () => {
    const d = await tmpDir('interrupted');
    faults = [{ match: isGet('logs/sub/b.gz'), action: { kind: 'cut', bytes: 500_000 } }];
    const r1 = await fetchS3(`s3://${BUCKET}/logs/sub/`, opts(d, { retry: { attempts: 1 } }));
    expect(r1.summary.downloaded).toBe(0);
    expect(r1.summary.failed.map((f) => f.key)).toEqual(['logs/sub/b.gz']);
    expect(r1.files).toEqual([]);
    expect(fs.existsSync(path.join(d, 'b.gz'))).toBe(false);
    const parts = await fs.promises.readdir(path.join(d, TMP_DIR_NAME));
    expect(parts.length).toBe(1);
    const partSize = fs.statSync(path.join(d, TMP_DIR_NAME, parts[0]!)).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThanOrEqual(500_000);
    expect((await readManifest(d)).files['b.gz']).toBeUndefined();

    const before = getsOf('logs/sub/b.gz').length;
    const r2 = await fetchS3(`s3://${BUCKET}/logs/sub/`, opts(d));
    expect(r2.summary).toMatchObject({ downloaded: 1, resumed: 1, failed: [] });
    expect(getsOf('logs/sub/b.gz').slice(before).map((g) => g.range)).toEqual([`bytes=${partSize}-`]);
    expect(fs.readFileSync(path.join(d, 'b.gz')).equals(objects['logs/sub/b.gz']!)).toBe(true);
    expect(await tree(d)).toEqual([MANIFEST_NAME, 'b.gz']);
  });

  it('starts over when a partial file is corrupt (the MD5 ETag does not match)', async () => {
    const d = await tmpDir('corrupt');
    const m = (await fetchS3(`s3://${BUCKET}/logs/sub/`, opts(await tmpDir('corrupt-ref')))).files;
    const etag = (await readManifest(path.dirname(m[0]!))).files['b.gz']!.etag;
    await fs.promises.mkdir(path.join(d, TMP_DIR_NAME));
    await fs.promises.writeFile(path.join(d, TMP_DIR_NAME, partName('b.gz', etag)), randomBytes(300_000)); // not the object's bytes
    await fs.promises.writeFile(path.join(d, TMP_DIR_NAME, partName('b.gz', '"old-version"')), 'stale'); // an older version's part
    const { summary } = await fetchS3(`s3://${BUCKET}/logs/sub/`, opts(d));
    expect(summary).toMatchObject({ downloaded: 1, retries: 1, failed: [] });
    expect(fs.readFileSync(path.join(d, 'b.gz')).equals(objects['logs/sub/b.gz']!)).toBe(true);
    expect(await tree(d)).toEqual([MANIFEST_NAME, 'b.gz']);
  });
});

describe('runFetch, resolveS3Inputs, progress', () => {
  it('runFetch: credentials from the environment, JSON summary, exit code', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = CREDS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = CREDS.secretAccessKey;
    const d = await tmpDir('run');
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    try {
      expect(await runFetch(`s3://${BUCKET}/logs/`, { to: d, endpoint, forcePathStyle: true, progress: false, json: true, concurrency: '2' })).toBe(0);
      expect(JSON.parse(out.join(''))).toMatchObject({ source: `s3://${BUCKET}/logs/`, downloaded: 4, upToDate: 0 });
      out.length = 0;
      expect(await runFetch(`s3://${BUCKET}/logs/`, { to: d, endpoint, forcePathStyle: true, progress: false })).toBe(0);
      expect(out.join('')).toMatch(/0 downloaded .* 4 up to date/);
      await expect(runFetch(`s3://${BUCKET}/logs/`, { to: d, endpoint, progress: false, concurrency: 0 })).rejects.toThrow(/concurrency/);
    } finally {
      spy.mockRestore();
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('resolveS3Inputs replaces s3:// arguments by the fetched files, in a cache per bucket', async () => {
    const cache = await tmpDir('cache');
    const inputs = ['local.log', `s3://${BUCKET}/logs/sub/`, `s3://${BUCKET}/exact/x.gz`, 'other.log'];
    const got = await resolveS3Inputs(inputs, cache, { client, retry: FAST_RETRY });
    expect(got).toEqual(['local.log', path.join(cache, BUCKET, 'logs/sub/b.gz'), path.join(cache, BUCKET, 'exact/x.gz'), 'other.log']);
    expect(fs.readFileSync(got[2]!).equals(objects['exact/x.gz']!)).toBe(true);
    expect(Object.keys((await readManifest(path.join(cache, BUCKET))).files).sort()).toEqual(['exact/x.gz', 'logs/sub/b.gz']);
    expect(await resolveS3Inputs(['a', 'b'], cache)).toEqual(['a', 'b']);
    await expect(resolveS3Inputs([`s3://${BUCKET}/nothing-here/`], cache, { client })).rejects.toThrow(/no objects/);
  });

  it('prints a plain progress line when not on a terminal', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) as unknown as NodeJS.WriteStream;
    const p = { ...newFetchProgress(), phase: 'downloading' as const, filesTotal: 4, filesDone: 1, bytesTotal: 2_000_000, bytesDone: 500_000 };
    const stop = startFetchProgress(p, { tty: false, intervalMs: 10, stream });
    await new Promise((r) => setTimeout(r, 40));
    stop();
    expect(lines[0]).toBe('fetch: 25.0% 500 KB/2.0 MB, files 1/4\n');
  });
});
