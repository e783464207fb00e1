import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  /** An S3-compatible server (MinIO, s3rver, Ceph...). Unset: AWS. */
  endpoint?: string;
  /** Unset: the SDK's own resolution (AWS_REGION, the profile in ~/.aws/config), else us-east-1. */
  region?: string;
  /** Path-style URLs (http://host/bucket/key), which most S3-compatible servers want. */
  forcePathStyle?: boolean;
  /** Static credentials (tests, programmatic use). Unset: the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export const DEFAULT_REGION = 'us-east-1';

function config(o: S3ClientOptions, region: string | undefined): S3ClientConfig {
  return {
    ...(region ? { region } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    ...(o.forcePathStyle !== undefined ? { forcePathStyle: o.forcePathStyle } : {}),
    // retries are ours (src/s3/retry.ts), around whole operations, body reads included
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 60_000 },
    ...(o.endpoint
      ? {
          endpoint: o.endpoint,
          // S3-compatible servers: the SDK's default flexible checksums (aws-chunked uploads,
          // response checksum checks) are not understood by all of them (s3rver: docs deps.md §6)
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : // on AWS, a bucket in another region than the configured one answers 301: follow it
        { followRegionRedirects: true }),
  };
}

/**
 * Creates the S3 client: credentials from the SDK's default chain (env, ~/.aws, SSO, IMDS/ECS...)
 * unless given, region as the SDK resolves it else us-east-1.
 */
export async function createS3Client(o: S3ClientOptions = {}): Promise<S3Client> {
  if (o.region) return new S3Client(config(o, o.region));
  const c = new S3Client(config(o, undefined));
  try {
    await c.config.region();
    return c;
  } catch {
    c.destroy();
    return new S3Client(config(o, DEFAULT_REGION));
  }
}
