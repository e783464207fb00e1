import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Piscina } from 'piscina';
import { CourseOutputs, MEMBER_BYTES, partFileName } from '../src/logs/courseOutputs.ts';
import { createLogPool } from '../src/logs/pool.ts';
import { compressBlocks } from '../src/logs/chunkTasks.ts';
import { loadAddon } from '../src/events/nativeScan.ts';
import { Rng } from '../scripts/gen/rng.ts';

/** One gzip member of `block`, as the workers make them (compressBlocks, tested below). */
function member(block: Buffer): Buffer {
  return Buffer.from(compressBlocks({ data: block, offsets: [0, block.length], level: 1 }).data);
}

/** The member rule, computed independently: cut at the first line end at or after MEMBER_BYTES - 1. */
function expectedFile(lines: string[]): Buffer {
  const stream = Buffer.from(lines.join(''));
  const members: Buffer[] = [];
  let start = 0;
  while (stream.length - start >= MEMBER_BYTES) {
    const nl = stream.indexOf(10, start + MEMBER_BYTES - 1);
    if (nl < 0) break;
    members.push(member(stream.subarray(start, nl + 1)));
    start = nl + 1;
  }
  if (start < stream.length) members.push(member(stream.subarray(start)));
  return Buffer.concat(members);
}

describe('CourseOutputs', () => {
  let pool: Piscina;
  let dir: string;
  beforeAll(() => {
    pool = createLogPool(2);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edx2bq-outputs-'));
  });
  afterAll(async () => {
    await pool.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // 40 courses (more than the open-file limit), two big ones, the rest sparse: one or two lines
  // now and then, as rare courses are in real logs
  const rng = new Rng(42);
  const random = () => rng.next();
  const courses = Array.from({ length: 40 }, (_, i) => `Org/C${i}/Run`);
  const lines = new Map<string, string[]>(courses.map((c) => [c, []]));
  const sequence: Array<[string, string]> = [];
  for (let n = 0; n < 9000; n++) {
    const c = random() < 0.9 ? courses[random() < 0.5 ? 0 : 1]! : courses[2 + Math.floor(random() * 38)]!;
    const line = `{"n":${n},"pad":"${'x'.repeat(Math.floor(random() * 400))}","é":"ü"}\n`;
    lines.get(c)!.push(line);
    sequence.push([c, line]);
  }

  /** Feeds the sequence in chunks cut at `cuts` lines, as split does: per chunk, one part per course. */
  async function run(sub: string, chunkLines: () => number): Promise<Map<string, Buffer>> {
    const out = path.join(dir, sub);
    fs.mkdirSync(out);
    const outputs = new CourseOutputs(out, pool, 1, 2);
    for (let i = 0; i < sequence.length; ) {
      const n = chunkLines();
      const byCourse = new Map<string, string>();
      for (const [c, line] of sequence.slice(i, i + n)) byCourse.set(c, (byCourse.get(c) ?? '') + line);
      // each chunk's parts are views of one shared buffer, like a worker's result
      const whole = Buffer.from([...byCourse.values()].join(''));
      let off = 0;
      const parts = [...byCourse].map(([courseId, text]) => {
        const len = Buffer.byteLength(text);
        const bytes = whole.subarray(off, off + len);
        off += len;
        return { courseId, bytes };
      });
      await outputs.add(parts);
      // the outputs must hold copies, not views that keep a whole result buffer alive for a
      // few lines of a rare course: overwriting the buffer after add() must change nothing
      whole.fill(0x5a);
      i += n;
    }
    await outputs.finish();
    return new Map(courses.map((c) => [c, fs.readFileSync(path.join(out, partFileName(c)))]));
  }

  it('writes each course as gzip members cut by the member rule, whatever the chunking, from copies of the lines', async () => {
    const small = await run('small', () => 7);
    const r = new Rng(7);
    const uneven = await run('uneven', () => 1 + r.int(900));
    for (const c of courses) {
      const expected = expectedFile(lines.get(c)!);
      expect(small.get(c)!.equals(expected), c).toBe(true);
      expect(uneven.get(c)!.equals(expected), c).toBe(true);
      expect(gunzipSync(small.get(c)!).toString()).toBe(lines.get(c)!.join(''));
    }
    // the big courses really span several members
    expect(Buffer.byteLength(lines.get(courses[0]!)!.join(''))).toBeGreaterThan(3 * MEMBER_BYTES);
  });
});

describe('compressBlocks', () => {
  it('makes one gzip member per block that gunzips to the block alone, with libdeflate (native) and with node:zlib', () => {
    const rng = new Rng(3);
    const text = Buffer.from(Array.from({ length: 3000 }, (_, i) => `{"n":${i},"s":"${'abé'.repeat(rng.int(200))}"}\n`).join(''));
    const cuts = [0, 0, 1, 1000, 1000, 50_000, text.length];
    const blocks = cuts.slice(1).map((end, i) => text.subarray(cuts[i], end));
    const native = compressBlocks({ data: text, offsets: cuts, level: 1 });
    const addon = loadAddon();
    const gzipMembers = addon?.gzipMembers;
    let js: ReturnType<typeof compressBlocks>;
    try {
      // the node:zlib path, as without the addon
      if (addon) delete (addon as { gzipMembers?: unknown }).gzipMembers;
      js = compressBlocks({ data: text, offsets: cuts, level: 1 });
    } finally {
      if (addon && gzipMembers) addon.gzipMembers = gzipMembers;
    }
    for (const r of [native, js]) {
      expect(r.offsets.length).toBe(cuts.length);
      expect(r.offsets[r.offsets.length - 1]).toBe(r.data.length);
      blocks.forEach((b, i) => {
        const m = Buffer.from(r.data).subarray(r.offsets[i], r.offsets[i + 1]);
        expect([m[0], m[1]]).toEqual([0x1f, 0x8b]);
        expect(m.readUInt32LE(4)).toBe(0); // mtime 0: the bytes depend only on the block
        expect(gunzipSync(m).equals(b)).toBe(true);
      });
      expect(gunzipSync(Buffer.from(r.data)).equals(text)).toBe(true);
    }
    if (gzipMembers) {
      // libdeflate, not zlib, made the native members (and a batch is deterministic)
      expect(Buffer.from(native.data).equals(Buffer.from(js!.data))).toBe(false);
      expect(Buffer.from(compressBlocks({ data: text, offsets: cuts, level: 1 }).data).equals(Buffer.from(native.data))).toBe(true);
    }
  });
});
