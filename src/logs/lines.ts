/**
 * Longest input line that is parsed. A longer one is a reject (its raw text kept): no real event
 * comes near it, and it keeps a worker's memory bounded whatever the input holds.
 */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

/** Iteration over the lines of a chunk of bytes (whole lines; the last may lack its newline). */
export function forEachLine(buf: Buffer, fn: (start: number, end: number, index: number) => void): number {
  let start = 0;
  let index = 0;
  const n = buf.length;
  while (start < n) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = n;
    fn(start, end, index++);
    start = end + 1;
  }
  return index;
}

export function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}
