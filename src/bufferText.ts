/**
 * Buffer's own text methods, which @types/node leaves out: long-standing methods that skip the
 * encoding dispatch of `toString` / `write` (the fallbacks, should a Node version lack them).
 */
type Native = Buffer & {
  utf8Write?(s: string, offset: number): number;
  latin1Slice?(start: number, end: number): string;
  utf8Slice?(start: number, end: number): string;
};
const proto = Buffer.prototype as Native;

/**
 * Writes `s` as UTF-8 at `offset`; returns the bytes written. The caller has made room for 3
 * bytes a UTF-16 code unit. Measured (60 characters): 31 ns, against 69 ns for `encodeInto` of a
 * `subarray` (Buffer's species constructor per call) and 106 ns for `buf.write`.
 */
export const utf8Write: (buf: Buffer, s: string, offset: number) => number =
  typeof proto.utf8Write === 'function' ? (buf, s, offset) => (buf as Native).utf8Write!(s, offset) : (buf, s, offset) => buf.write(s, offset);

/** The bytes [start, end) as Latin-1 (for ASCII bytes, the same string as UTF-8). */
export const latin1: (buf: Buffer, start: number, end: number) => string =
  typeof proto.latin1Slice === 'function' ? (buf, s, e) => (buf as Native).latin1Slice!(s, e) : (buf, s, e) => buf.toString('latin1', s, e);

/** The bytes [start, end) as UTF-8. */
export const utf8: (buf: Buffer, start: number, end: number) => string =
  typeof proto.utf8Slice === 'function' ? (buf, s, e) => (buf as Native).utf8Slice!(s, e) : (buf, s, e) => buf.toString('utf8', s, e);
