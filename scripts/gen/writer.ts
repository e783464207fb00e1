/**
 * Line sink. Each line is encoded straight into a 1 MB buffer (no big string ropes to flatten);
 * full buffers are transferred to a worker thread that gzips them (level 1, one gzip stream) and
 * writes the file. Backpressure: at most MAX_IN_FLIGHT buffers are handed over and not yet consumed
 * by gzip; beyond that the generator awaits. So memory stays bounded and compression runs on its
 * own core, overlapping generation, without needing event-loop turns from the generating thread.
 */
import { Worker } from 'node:worker_threads';

const CAP = 1 << 20;
const MAX_IN_FLIGHT = 8;

/** Worker body (plain JS, evaluated as CommonJS, so it runs the same under node and vitest). */
const WORKER_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const fs = require('node:fs');
const gz = zlib.createGzip({ level: 1, chunkSize: 256 * 1024 });
const out = fs.createWriteStream(workerData.path, { highWaterMark: 1 << 20 });
let failed = false;
const fail = (e) => { if (!failed) { failed = true; parentPort.postMessage({ error: String(e && e.message || e) }); } };
gz.on('error', fail);
out.on('error', fail);
out.on('finish', () => { if (!failed) parentPort.postMessage({ done: true }); });
gz.pipe(out);
parentPort.on('message', (m) => {
  if (m === null) { gz.end(); return; }
  gz.write(Buffer.from(m.ab, 0, m.len), (err) => { if (err) fail(err); else parentPort.postMessage({ ack: 1 }); });
});
`;

interface WorkerMsg {
  ack?: number;
  done?: boolean;
  error?: string;
}

export class GzLineWriter {
  /** Uncompressed bytes written so far (including the pending buffer). */
  get bytes(): number {
    return this.handed + this.off;
  }
  /** True when the caller should `await flush()` (too many buffers waiting for gzip). */
  get full(): boolean {
    return this.inFlight >= MAX_IN_FLIGHT || this.error !== null;
  }
  private handed = 0;
  private cur: Buffer = Buffer.from(new ArrayBuffer(CAP));
  private off = 0;
  private inFlight = 0;
  private error: Error | null = null;
  private finished = false;
  private wake: (() => void) | null = null;
  private readonly worker: Worker;
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.worker = new Worker(WORKER_SRC, { eval: true, workerData: { path } });
    this.worker.on('message', (m: WorkerMsg) => {
      if (m.ack) this.inFlight -= m.ack;
      if (m.done) this.finished = true;
      if (m.error) this.error = new Error(`writing ${this.path}: ${m.error}`);
      this.notify();
    });
    this.worker.on('error', (e) => {
      this.error = new Error(`writing ${this.path}: ${e.message}`);
      this.notify();
    });
    this.worker.on('exit', () => {
      if (!this.finished && !this.error) this.error = new Error(`writing ${this.path}: compression worker exited early`);
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  /** Append one line (a newline is added). */
  line(s: string): void {
    if (this.off + s.length * 3 + 1 > CAP) this.hand();
    this.off += this.cur.write(s, this.off);
    this.cur[this.off++] = 10;
  }

  /** Append raw bytes (used for lines that must contain invalid UTF-8); `b` includes its newline. */
  raw(b: Buffer): void {
    if (b.length > CAP) throw new Error('raw line too long');
    if (this.off + b.length > CAP) this.hand();
    b.copy(this.cur, this.off);
    this.off += b.length;
  }

  private hand(): void {
    if (this.off === 0) return;
    const ab = this.cur.buffer as ArrayBuffer;
    this.worker.postMessage({ ab, len: this.off }, [ab]);
    this.handed += this.off;
    this.inFlight++;
    this.cur = Buffer.from(new ArrayBuffer(CAP));
    this.off = 0;
  }

  /** Wait until gzip has caught up enough (or fail). */
  async flush(): Promise<void> {
    while (this.inFlight >= MAX_IN_FLIGHT && this.error === null) await this.wait();
    if (this.error) {
      await this.abort();
      throw this.error;
    }
  }

  /** Hand the pending buffer, end the gzip stream and wait until the file is complete. */
  async close(): Promise<void> {
    this.hand();
    this.worker.postMessage(null);
    while (!this.finished && this.error === null) await this.wait();
    await this.abort();
    if (this.error) throw this.error;
  }

  /** Stop the compression worker (the file is left incomplete unless close() finished it). */
  async abort(): Promise<void> {
    this.finished = true; // its exit is expected from now on
    await this.worker.terminate();
  }
}
