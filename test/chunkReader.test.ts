import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputReadError, readLineChunks, type LineChunk } from '../src/logs/chunkReader.ts';
import { ChunkRing } from '../src/logs/chunkRing.ts';
import { loadAddon } from '../src/events/nativeScan.ts';
import { MAX_LINE_BYTES } from '../src/logs/lines.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edx2bq-chunkreader-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const nativeBuilt = typeof loadAddon()?.gunzipIntoAsync === 'function';
/** The gunzip sources under test: node:zlib's stream always, native/gunzip.cc when built. */
const sources = nativeBuilt ? [true, false] : [false];

/** Lines of many lengths (0 to a few hundred bytes, a few long ones), with non-ASCII text. */
function sampleText(lines: number, seed: number, longEvery = 0, longBytes = 0): Buffer {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = longEvery > 0 && i % longEvery === longEvery - 1 ? longBytes : Math.floor(rnd() * 300);
    parts.push(`${i}:` + 'é…abcdefghij'.repeat(Math.ceil(n / 12)).slice(0, n) + '\n');
  }
  return Buffer.from(parts.join(''));
}

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

interface Read {
  chunks: LineChunk[];
  text: Buffer;
  error: InputReadError | null;
  ring: ChunkRing;
}

/** Reads a file as split does, copying each chunk and releasing its buffer at once. */
async function readAll(file: string, gzip: boolean, ringSize: number, native: boolean): Promise<Read> {
  const ring = new ChunkRing(3, ringSize);
  const chunks: LineChunk[] = [];
  let error: InputReadError | null = null;
  const progress = { bytesRead: 0, textBytes: 0 };
  try {
    for await (const c of readLineChunks(file, gzip, ring, progress, native)) {
      chunks.push({ slot: c.slot, bytes: Buffer.from(c.bytes) });
      if (c.slot >= 0) ring.release(c.slot);
    }
  } catch (e) {
    if (!(e instanceof InputReadError)) throw e;
    error = e;
  }
  const text = Buffer.concat(chunks.map((c) => c.bytes));
  if (error === null) expect(progress.textBytes).toBe(text.length);
  expect(progress.bytesRead).toBe(fs.statSync(file).size);
  return { chunks, text, error, ring };
}

/** Every ring buffer is free again: all of them can be taken without waiting. */
async function expectAllReleased(ring: ChunkRing): Promise<void> {
  const taken = new Set<number>();
  for (let i = 0; i < ring.buffers.length; i++) {
    const got = await Promise.race([ring.acquire(), new Promise<number>((r) => setTimeout(() => r(-1), 50))]);
    expect(got).toBeGreaterThanOrEqual(0);
    taken.add(got);
  }
  expect(taken.size).toBe(ring.buffers.length);
}

function expectWholeLines(r: Read, ringSize: number): void {
  r.chunks.forEach((c, i) => {
    const last = i === r.chunks.length - 1;
    if (c.slot >= 0) {
      expect(c.bytes.length).toBeLessThanOrEqual(ringSize);
      if (!last || r.error !== null) expect(c.bytes[c.bytes.length - 1]).toBe(10);
    } else {
      // a line longer than a ring buffer: one line, cut only beyond MAX_LINE_BYTES
      expect(c.bytes.length).toBeGreaterThan(ringSize);
      const firstNewline = c.bytes.indexOf(10);
      expect(firstNewline === -1 || firstNewline === c.bytes.length - 1).toBe(true);
    }
  });
}

describe('ChunkRing', () => {
  it('hands out each buffer once, and a released one to the oldest waiter', async () => {
    const ring = new ChunkRing(2, 8);
    const a = await ring.acquire();
    const b = await ring.acquire();
    expect(new Set([a, b]).size).toBe(2);
    const order: number[] = [];
    const w1 = ring.acquire().then((s) => order.push(s));
    const w2 = ring.acquire().then((s) => order.push(s));
    ring.release(b);
    ring.release(a);
    await Promise.all([w1, w2]);
    expect(order).toEqual([b, a]);
    expect(ring.view(a, 3).length).toBe(3);
    expect(ring.view(a).buffer).toBe(ring.buffers[a]);
    expect(() => new ChunkRing(0, 8)).toThrow(RangeError);
  });
});

describe('readLineChunks', () => {
  const text = sampleText(3000, 7, 500, 5000);

  for (const native of sources) {
    const kind = native ? 'native gunzip' : 'node:zlib stream';
    for (const ringSize of [64, 1000, 1 << 16]) {
      it(`${kind}, ring buffers of ${ringSize} bytes: every byte once, in order, cut at line ends`, async () => {
        const file = write(`one-${ringSize}-${native}.log.gz`, zlib.gzipSync(text, { level: 1 }));
        const r = await readAll(file, true, ringSize, native);
        expect(r.error).toBeNull();
        expect(r.text.equals(text)).toBe(true);
        expectWholeLines(r, ringSize);
        await expectAllReleased(r.ring);
      });
    }

    it(`${kind}: concatenated members, zero padding between and after them`, async () => {
      const a = text.subarray(0, 100_001);
      const b = text.subarray(100_001);
      const file = write(`members-${native}.log.gz`, Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b), Buffer.alloc(7)]));
      const r = await readAll(file, true, 1000, native);
      expect(r.error).toBeNull();
      expect(r.text.equals(text)).toBe(true);
      if (native) {
        // node:zlib stops at zero padding; native/gunzip.cc reads a member after it
        const padded = write('padded.log.gz', Buffer.concat([zlib.gzipSync(a), Buffer.alloc(5), zlib.gzipSync(b)]));
        expect((await readAll(padded, true, 1000, native)).text.equals(text)).toBe(true);
      }
    });

    it(`${kind}: a truncated file gives its complete lines, then the error with the rest`, async () => {
      const gz = zlib.gzipSync(text);
      const file = write(`trunc-${native}.log.gz`, gz.subarray(0, Math.floor(gz.length * 0.6)));
      const r = await readAll(file, true, 1000, native);
      expect(r.error?.message).toBe('corrupt or truncated gzip: unexpected end of file (Z_BUF_ERROR)');
      const got = Buffer.concat([r.text, r.error!.tail]);
      expect(got.length).toBeGreaterThan(0);
      expect(text.subarray(0, got.length).equals(got)).toBe(true);
      if (r.text.length > 0) expect(r.text[r.text.length - 1]).toBe(10);
      expect(r.error!.tail.indexOf(10)).toBe(-1);
      await expectAllReleased(r.ring);
    });

    it(`${kind}: data that is not gzip, and garbage after a member`, async () => {
      const notGzip = write(`plain-${native}.log.gz`, text.subarray(0, 5000));
      const r = await readAll(notGzip, true, 1000, native);
      expect(r.error?.message).toBe('corrupt or truncated gzip: incorrect header check (Z_DATA_ERROR)');
      expect(r.text.length).toBe(0);
      const small = text.subarray(0, 2000);
      const garbage = write(`garbage-${native}.log.gz`, Buffer.concat([zlib.gzipSync(small), Buffer.from('not gzip')]));
      const g = await readAll(garbage, true, 1000, native);
      expect(g.error?.message).toBe('corrupt or truncated gzip: incorrect header check (Z_DATA_ERROR)');
      // what was read before the fault is kept (node:zlib may have read none of it)
      expect(small.subarray(0, g.text.length).equals(g.text)).toBe(true);
      if (native) expect(Buffer.concat([g.text, g.error!.tail]).equals(small)).toBe(true);
      await expectAllReleased(g.ring);
    });
  }

  for (const native of sources) {
    const kind = native ? 'native gunzip' : 'node:zlib stream';
    it(`${kind}: a member whose trailer's CRC or length is wrong is corrupt`, async () => {
      const a = text.subarray(0, 50_001);
      const b = text.subarray(50_001);
      for (const [byte, message] of [[0, 'incorrect data check'], [3, 'incorrect data check'], [4, 'incorrect length check'], [7, 'incorrect length check']] as const) {
        const first = zlib.gzipSync(a);
        first[first.length - 8 + byte]! ^= 0x10;
        const r = await readAll(write(`trailer-${byte}-${native}.log.gz`, Buffer.concat([first, zlib.gzipSync(b)])), true, 1000, native);
        expect(r.error?.message).toBe(`corrupt or truncated gzip: ${message} (Z_DATA_ERROR)`);
        // the bytes of the member are all there (node:zlib may drop its last piece), none of the member after it
        const got = Buffer.concat([r.text, r.error!.tail]);
        if (native) expect(got.equals(a)).toBe(true);
        else expect(a.subarray(0, got.length).equals(got)).toBe(true);
        await expectAllReleased(r.ring);
      }
    });
  }

  if (nativeBuilt) {
    it('native gunzip: a trailer that straddles two reads of the file is checked whole', async () => {
      // NativeGunzip reads the file 1 MiB at a time: stored (level 0) members make the first
      // member's 8-byte trailer start k bytes before that boundary, for every k of 1..7
      const line = Buffer.from('{"event_type": "x"}\n');
      for (let k = 1; k <= 7; k++) {
        const trailerAt = (1 << 20) - k;
        let n = trailerAt - 1000;
        let first = zlib.gzipSync(Buffer.alloc(n, line.toString()), { level: 0 });
        for (let i = 0; i < 100 && first.length - 8 !== trailerAt; i++) {
          n += trailerAt - (first.length - 8);
          first = zlib.gzipSync(Buffer.alloc(n, line.toString()), { level: 0 });
        }
        expect(first.length - 8).toBe(trailerAt);
        const second = zlib.gzipSync(text);
        const whole = Buffer.concat([Buffer.alloc(n, line.toString()), text]);
        const good = await readAll(write(`straddle-${k}.log.gz`, Buffer.concat([first, second])), true, 1 << 16, true);
        expect(good.error).toBeNull();
        expect(good.text.equals(whole)).toBe(true);
        first[first.length - 1]! ^= 1; // the length's last byte, in the second read
        const bad = await readAll(write(`straddle-bad-${k}.log.gz`, Buffer.concat([first, second])), true, 1 << 16, true);
        expect(bad.error?.message).toBe('corrupt or truncated gzip: incorrect length check (Z_DATA_ERROR)');
        first[first.length - 1]! ^= 1;
        first[first.length - 8]! ^= 1; // the CRC's first byte, in the first read
        const badCrc = await readAll(write(`straddle-crc-${k}.log.gz`, Buffer.concat([first, second])), true, 1 << 16, true);
        expect(badCrc.error?.message).toBe('corrupt or truncated gzip: incorrect data check (Z_DATA_ERROR)');
      }
    });
  }

  it('a plain file gives the same chunks as its gzip', async () => {
    const plain = write('same.log', text);
    const gz = write('same.log.gz', zlib.gzipSync(text));
    for (const native of sources) {
      const a = await readAll(plain, false, 777, native);
      const b = await readAll(gz, true, 777, native);
      expect(a.chunks.map((c) => c.bytes.length)).toEqual(b.chunks.map((c) => c.bytes.length));
      expect(a.text.equals(text)).toBe(true);
    }
  });

  it('an empty gzip file is an error; an empty plain file gives nothing', async () => {
    for (const native of sources) {
      const r = await readAll(write(`empty-${native}.log.gz`, Buffer.alloc(0)), true, 100, native);
      expect(r.error?.message).toBe('corrupt or truncated gzip: unexpected end of file (Z_BUF_ERROR)');
    }
    const p = await readAll(write('empty.log', Buffer.alloc(0)), false, 100, true);
    expect(p.error).toBeNull();
    expect(p.chunks).toEqual([]);
  });

  it('a line beyond MAX_LINE_BYTES comes in pieces, the lines around it whole', async () => {
    const giant = Buffer.alloc(MAX_LINE_BYTES + 2_500_000, 0x61);
    const big = Buffer.concat([Buffer.from('before\n'), giant, Buffer.from('\nafter\n')]);
    const file = write('giant.log.gz', zlib.gzipSync(big, { level: 1 }));
    for (const native of sources) {
      const r = await readAll(file, true, 1 << 20, native);
      expect(r.error).toBeNull();
      expect(r.text.equals(big)).toBe(true);
      const own = r.chunks.filter((c) => c.slot < 0);
      // the giant line: one piece of just over MAX_LINE_BYTES, then the rest of it with its newline
      expect(own.length).toBe(2);
      expect(own[0]!.bytes.length).toBeGreaterThan(MAX_LINE_BYTES);
      expect(own[0]!.bytes.length).toBeLessThanOrEqual(MAX_LINE_BYTES + (1 << 20));
      expect(own[1]!.bytes[own[1]!.bytes.length - 1]).toBe(10);
      expect(r.chunks[r.chunks.length - 1]!.bytes.toString()).toBe('after\n');
      await expectAllReleased(r.ring);
    }
  });

  it.runIf(nativeBuilt)('the native gunzip gives node:zlib\'s bytes for a generated day', async () => {
    const day = sampleText(20_000, 99);
    const file = write('day.log.gz', zlib.gzipSync(day, { level: 6 }));
    const a = await readAll(file, true, 1 << 16, true);
    const b = await readAll(file, true, 1 << 16, false);
    expect(a.text.equals(day)).toBe(true);
    expect(b.text.equals(day)).toBe(true);
  });
});
