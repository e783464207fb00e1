/**
 * Reused buffers that carry bytes between the main thread and the workers: chunks of log lines
 * to the workers, their results back, blocks to gzip. Each is a SharedArrayBuffer the workers
 * receive once, when the pool starts (src/logs/pool.ts), so a task names a buffer by its index
 * and no ArrayBuffer is made, moved or collected per task. A new Buffer per task is external
 * memory to V8: a 1M-event split made the main thread run ~40 full garbage collections for
 * them, and each worker ~15 (docs/benchmarks.md).
 */
export class ChunkRing {
  readonly buffers: SharedArrayBuffer[];
  private readonly free: number[];
  private readonly waiting: Array<(slot: number) => void> = [];

  constructor(count: number, size: number) {
    if (!(count >= 1 && size >= 1)) throw new RangeError(`a chunk ring needs at least one buffer of at least one byte (${count} × ${size})`);
    this.buffers = Array.from({ length: count }, () => new SharedArrayBuffer(size));
    this.free = this.buffers.map((_, i) => i).reverse();
  }

  get size(): number {
    return this.buffers[0]!.byteLength;
  }

  /** A free buffer's index; waits for one to be released when all are in use. */
  acquire(): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A free buffer's index, or -1 when all are in use (for callers that can do without one). */
  tryAcquire(): number {
    return this.free.pop() ?? -1;
  }

  release(slot: number): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }

  /** The first `length` bytes of buffer `slot`. */
  view(slot: number, length = this.size): Buffer {
    return Buffer.from(this.buffers[slot]!, 0, length);
  }
}
