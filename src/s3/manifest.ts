import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fsutil.ts';
import { MANIFEST_NAME } from './keys.ts';

/** What fetch knows of one local file: the object it is a copy of. */
export interface ManifestEntry {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  /** The object's Last-Modified, ISO 8601 (null when the listing had none). */
  lastModified: string | null;
  /** When this copy was written, ISO 8601. */
  fetchedAt: string;
}

/** `<to>/.edx2bq-fetch.json`: local path (relative to `<to>`, '/'-separated) → the object it holds. */
export interface FetchManifest {
  version: 1;
  files: Record<string, ManifestEntry>;
}

/** A record without a prototype: keys are untrusted, and `__proto__` is a valid object key. */
function emptyFiles(): Record<string, ManifestEntry> {
  return Object.create(null) as Record<string, ManifestEntry>;
}

export function manifestPath(to: string): string {
  return path.join(to, MANIFEST_NAME);
}

/**
 * Reads the manifest of a destination dir. A missing one is empty; an unreadable one too (with a
 * warning): the cost is downloading again, never trusting a stale copy.
 */
export async function readManifest(to: string, warn: (msg: string) => void = () => undefined): Promise<FetchManifest> {
  const file = manifestPath(to);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, files: emptyFiles() };
    throw err;
  }
  try {
    const m = JSON.parse(text) as Partial<FetchManifest>;
    if (m.version !== 1 || typeof m.files !== 'object' || m.files === null) throw new Error(`unknown manifest version ${String(m.version)}`);
    const files = emptyFiles();
    for (const [rel, e] of Object.entries(m.files)) {
      if (e && typeof e.key === 'string' && typeof e.bucket === 'string' && typeof e.size === 'number' && typeof e.etag === 'string') files[rel] = e;
    }
    return { version: 1, files };
  } catch (err) {
    warn(`ignoring the unreadable fetch manifest ${file} (everything will be checked again): ${(err as Error).message}`);
    return { version: 1, files: emptyFiles() };
  }
}

/**
 * Writes the manifest atomically, at most every `intervalMs` while downloads go on (a crash
 * loses at most that much bookkeeping: those files are downloaded again) and once at the end.
 */
export class ManifestWriter {
  readonly to: string;
  readonly manifest: FetchManifest;
  readonly intervalMs: number;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(to: string, manifest: FetchManifest, intervalMs = 2000) {
    this.to = to;
    this.manifest = manifest;
    this.intervalMs = intervalMs;
  }

  set(rel: string, e: ManifestEntry): void {
    this.manifest.files[rel] = e;
    this.#dirty = true;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush().catch(() => undefined); // the final flush reports errors
    }, this.intervalMs);
  }

  /** Writes if anything changed since the last write; serialised with earlier writes. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#chain = this.#chain.catch(() => undefined).then(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      const sorted = emptyFiles();
      for (const k of Object.keys(this.manifest.files).sort()) sorted[k] = this.manifest.files[k]!;
      try {
        await writeFileAtomic(manifestPath(this.to), JSON.stringify({ version: 1, files: sorted }, null, 1) + '\n');
      } catch (err) {
        this.#dirty = true;
        throw err;
      }
    });
    return this.#chain;
  }
}
