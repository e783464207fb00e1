/** Retries of transient S3 / network errors: bounded attempts, exponential backoff with jitter. */

export interface RetryOptions {
  /** Attempts in all, the first included (default 6). */
  attempts?: number;
  /** Delay before the first retry, ms (default 250); doubles each time. */
  baseDelayMs?: number;
  /** Longest delay, ms (default 20 000). */
  maxDelayMs?: number;
}

/** An error the caller knows to be transient (a short body, a checksum mismatch, an object changed under a resume). */
export class TransientError extends Error {
  readonly transient = true;
}

const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
]);

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  transient?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

/**
 * Whether an error is worth retrying: HTTP 5xx and 429, S3's throttling / timeout / internal
 * error codes, what the SDK marks retryable, connection resets and timeouts (also as the cause
 * of another error), and TransientError. 4xx (access denied, no such bucket...) are not.
 */
export function isTransient(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 4) return false;
  const e = err as ErrorLike;
  if (e.transient === true || e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  if (typeof e.Code === 'string' && TRANSIENT_NAMES.has(e.Code)) return true;
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  return isTransient(e.cause, depth + 1);
}

/** Delay before retry number `retry` (1-based): base·2^(retry-1), capped, with "equal jitter" (half fixed, half random). */
export function backoffMs(retry: number, o: RetryOptions = {}): number {
  const base = o.baseDelayMs ?? 250;
  const cap = o.maxDelayMs ?? 20_000;
  const d = Math.min(cap, base * 2 ** Math.max(0, retry - 1));
  return d / 2 + Math.random() * (d / 2);
}

/**
 * Runs `fn` until it succeeds, a non-transient error, or the attempts are used up; `onRetry`
 * hears of every retry (for counters and logs). `fn` gets the attempt number (1-based).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions = {}, onRetry?: (err: unknown, attempt: number, delayMs: number) => void): Promise<T> {
  const attempts = Math.max(1, o.attempts ?? 6);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !isTransient(err)) throw err;
      const delay = backoffMs(attempt, o);
      onRetry?.(err, attempt, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const e = err as ErrorLike;
    const status = e.$metadata?.httpStatusCode;
    const code = typeof e.code === 'string' ? ` ${e.code}` : '';
    return `${err.name}${code}${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${err.message}`;
  }
  return String(err);
}
