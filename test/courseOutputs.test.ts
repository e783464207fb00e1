import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Piscina } from 'piscina';
import { CourseOutputs, MEMBER_BYTES, partFileName } from '../src/logs/courseOutputs.ts';
import { createLogPool } from '../src/logs/pool.ts';
import { Rng } from '../scripts/gen/rng.ts';

/** The member rule, computed independently: cut at the first line end at or after MEMBER_BYTES - 1. */
function expectedFile(lines: string[]): Buffer {
  const stream = Buffer.from(lines.join(''));
  const members: Buffer[] = [];
  let start = 0;
  while (stream.length - start >= MEMBER_BYTES) {
    const nl = stream.indexOf(10, start + MEMBER_BYTES - 1);
    if (nl < 0) break;
    members.push(gzipSync(stream.subarray(start, nl + 1), { level: 1, memLevel: 9 }));
    start = nl + 1;
  }
  if (start < stream.length) members.push(gzipSync(stream.subarray(start), { level: 1, memLevel: 9 }));
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
