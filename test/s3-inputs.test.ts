/**
 * split / person-day take s3:// inputs: the objects are fetched into the cache (only new ones on a
 * re-run) and processed like local files. Against s3rver on 127.0.0.1, started and stopped here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLogs, type Truth } from '../scripts/generate-logs.ts';
import { localInputs } from '../src/commands/localInputs.ts';
import { splitLogs } from '../src/logs/split.ts';
import { tempDir } from './helpers/logtree.ts';

let root: string;
let server: S3rver;
let endpoint: string;
let truth: Truth;

beforeAll(async () => {
  root = tempDir('s3in');
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(root, 's3') });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  const admin = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await admin.send(new CreateBucketCommand({ Bucket: 'edx-logs' }));
  truth = await generateLogs({ out: path.join(root, 'gen'), courses: 2, learners: 50, days: 2, seed: 3, malformedRate: 0.01 });
  for (const name of Object.keys(truth.files)) {
    await admin.send(new PutObjectCommand({ Bucket: 'edx-logs', Key: `prod/${name}`, Body: fs.readFileSync(path.join(root, 'gen', name)) }));
  }
  admin.destroy();
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('fetch --logs', () => {
  it('fetches the daily logs URL named in the configuration', async () => {
    const { execFile } = await import('node:child_process');
    const to = path.join(root, 'fetched');
    const env = { ...process.env, EDX2BQ_S3_LOGS: 's3://edx-logs/prod/', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', CI: 'true' };
    const code = await new Promise<number>((resolve) => {
      execFile(process.execPath, [path.resolve('src/cli.ts'), 'fetch', '--logs', '--to', to, '--endpoint', endpoint, '--force-path-style', '--no-progress'], { env }, (err) => resolve(err ? Number((err as { code?: number }).code ?? 1) : 0));
    });
    expect(code).toBe(0);
    expect(fs.readdirSync(to).filter((n) => n.endsWith('.gz')).sort()).toEqual(Object.keys(truth.files).sort());
  });
});

describe('s3:// inputs', () => {
  it('are fetched into the cache and split like local files; a re-run fetches nothing new', async () => {
    const env = { ...process.env, EDX2BQ_S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
    const saved = { ...process.env };
    Object.assign(process.env, env); // the SDK's credential chain reads the process environment
    try {
      const cache = path.join(root, 'cache');
      const local = await localInputs(['s3://edx-logs/prod/'], cache, env);
      expect(local.map((f) => path.basename(f)).sort()).toEqual(Object.keys(truth.files).sort());
      const s = await splitLogs(local, { logsDir: path.join(root, 'logs'), workers: 1, chunkSize: 1 << 20, gzipLevel: 1, force: false });
      expect(s.events).toBe(Object.values(truth.files).reduce((a, f) => a + f.events, 0));
      const mtimes = local.map((f) => fs.statSync(f).mtimeMs);
      const again = await localInputs(['s3://edx-logs/prod/'], cache, env);
      expect(again).toEqual(local);
      expect(again.map((f) => fs.statSync(f).mtimeMs)).toEqual(mtimes); // not downloaded again
    } finally {
      for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
