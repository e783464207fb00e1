import fs from 'node:fs';
import { once } from 'node:events';
import zlib from 'node:zlib';

/** One line of `_rejects/<stem>.jsonl.gz`. */
export interface RejectRecord {
  /** 1-based line number in the (decompressed) input. */
  line: number;
  reason: string;
  raw: string;
  rawBase64?: string;
}

/** Streams reject records, in input order, to a gzipped JSON-lines file created on first use. */
export class RejectWriter {
  private gz: zlib.Gzip | null = null;
  private done: Promise<unknown> | null = null;
  count = 0;
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  async write(r: RejectRecord): Promise<void> {
    if (this.gz === null) {
      this.gz = zlib.createGzip({ level: 6 });
      const out = fs.createWriteStream(this.file);
      this.gz.pipe(out);
      this.done = once(out, 'close');
    }
    this.count++;
    if (!this.gz.write(JSON.stringify(r) + '\n')) await once(this.gz, 'drain');
  }

  /** Closes the file; returns whether one was written. */
  async close(): Promise<boolean> {
    if (this.gz === null) return false;
    this.gz.end();
    await this.done;
    return true;
  }
}
