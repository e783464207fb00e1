/**
 * Buffer's own UTF-8 writer, without the argument handling of `buf.write` (a third of the cost
 * for short strings). `utf8Write` is a long-standing Buffer method that @types/node omits; the
 * caller has reserved room for 3 bytes a UTF-16 code unit, so nothing is cut.
 */
const utf8Write = (buf: Buffer, s: string, offset: number): number => (buf as unknown as { utf8Write(s: string, o: number): number }).utf8Write(s, offset);

/** A growable byte buffer of output lines (one course's rewritten lines of a chunk). */
export class LineSink {
  buf: Buffer;
  /** Bytes used. */
  len = 0;
  /** Complete lines written. */
  count = 0;
  constructor(initial: number) {
    this.buf = Buffer.allocUnsafeSlow(initial);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Appends a string's UTF-8 bytes (no newline). */
  write(s: string): void {
    this.reserve(s.length * 3); // a UTF-16 code unit never takes more than 3 UTF-8 bytes
    this.len += utf8Write(this.buf, s, this.len);
  }

  /** Appends bytes src[a, e). */
  copy(src: Buffer, a: number, e: number): void {
    const n = e - a;
    this.reserve(n);
    if (n > 48) {
      this.len += src.copy(this.buf, this.len, a, e);
      return;
    }
    // a short span: a loop costs less than the native call
    const out = this.buf;
    let o = this.len;
    for (let i = a; i < e; i++) out[o++] = src[i]!;
    this.len = o;
  }

  /** Appends one line and its newline. */
  push(line: string): void {
    this.reserve(line.length * 3 + 1);
    this.len += utf8Write(this.buf, line, this.len);
    this.buf[this.len++] = 10;
    this.count++;
  }
}
