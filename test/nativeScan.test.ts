/**
 * The native chunk scanner (native/fastscan.cc via src/events/nativeScan.ts): that `npm ci` built
 * it, and how it cuts a chunk into lines, which must be exactly `forEachLine`'s cut. Its field
 * values are checked against the JavaScript scanner and JSON.parse on every line of
 * test/fastCore.test.ts, and the facts of the aggregate-only pass with it against the full parse
 * in test/personDay-generated.test.ts.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { scanCoreBytes, type CoreFields } from '../src/events/fastCore.ts';
import { coreAt, lazyCoreAt, lineBounds, nativeScanAvailable, scanChunkNative } from '../src/events/nativeScan.ts';
import { forEachLine } from '../src/logs/lines.ts';

// EDX2BQ_NATIVE=0 is the one way to run the suite without the addon (its JavaScript twin is then
// what every other test exercises)
const off = process.env.EDX2BQ_NATIVE === '0';

/** forEachLine's cut of a chunk, as [start, end] pairs. */
function jsCut(buf: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  forEachLine(buf, (s, e) => out.push([s, e]));
  return out;
}

function nativeCut(buf: Buffer): Array<[number, number]> {
  const scan = scanChunkNative(buf)!;
  return Array.from({ length: scan.lines }, (_, i) => lineBounds(scan, i));
}

describe.skipIf(off)('the native scanner', () => {
  it('is built by the install and loaded (run `npm run build:native` if this fails)', () => {
    expect(nativeScanAvailable()).toBe(true);
  });

  it('cuts a chunk into the lines forEachLine cuts', () => {
    const chunks = ['', '\n', '\n\n', '{}', '{}\n', '{}\n{}', '\n{}\n\n{"a":1}\r\n', 'x\ny\n\nz', '{"username":"é"}\n{"username":"€𝄞"}'];
    for (const c of chunks) {
      const buf = Buffer.from(c);
      expect(nativeCut(buf), JSON.stringify(c)).toEqual(jsCut(buf));
    }
  });

  it('answers each line as scanCoreBytes does, wherever it sits in the chunk', () => {
    const lines = [
      '{"username": "a", "time": "2015-03-01T10:00:00Z", "context": {"course_id": "MITx/1/2", "user_id": 7}}',
      '',
      'not json',
      '  {"event_type": "x\\u00e9", "ip": null}  ',
      '{"username": "bé", "event": {"a": [1, 2, {"b": "c"}]}, "page": "p"}',
      '{"context": {"user_id": -1.5e3}}',
      '{"a": 1} {"b": 2}',
      '{"username": "x"}\r',
    ];
    const buf = Buffer.from(lines.join('\n'));
    const scan = scanChunkNative(buf)!;
    expect(scan.lines).toBe(lines.length);
    jsCut(buf).forEach(([s, e], i) => {
      const eager = coreAt(scan, i, buf);
      expect(eager, lines[i]).toEqual(scanCoreBytes(buf, s, e));
      // the pass's lazy form reads the same values, field by field
      const lazy = lazyCoreAt(scan, i, buf);
      if (eager === null) expect(lazy).toBeNull();
      else for (const k of Object.keys(eager) as Array<keyof CoreFields>) expect(lazy?.[k], `${k} of ${lines[i]}`).toEqual(eager[k]);
    });
    // spot checks against plain reading
    expect(coreAt(scan, 0, buf)).toMatchObject({ username: 'a', context_course_id: 'MITx/1/2', context_user_id: 7 });
    expect(coreAt(scan, 3, buf)).toMatchObject({ event_type: 'xé', ip: null });
    expect(coreAt(scan, 5, buf)?.context_user_id).toBe(-1500);
    expect(coreAt(scan, 6, buf)).toBeNull();
  });

  it('grows its result records for a chunk of many lines', () => {
    const n = 50_000;
    const buf = Buffer.from(Array.from({ length: n }, (_, i) => `{"username":"u${i}"}`).join('\n'));
    const scan = scanChunkNative(buf)!;
    expect(scan.lines).toBe(n);
    expect(coreAt(scan, n - 1, buf)?.username).toBe(`u${n - 1}`);
    expect(coreAt(scan, 12_345, buf)?.username).toBe('u12345');
  });

  it('leaves a line over 1 MB to the JavaScript path, as scanCoreBytes does', () => {
    const long = `{"username":"a","event":"${'x'.repeat(1 << 20)}"}`;
    const buf = Buffer.from(`{"username":"b"}\n${long}\n{"username":"c"}`);
    const scan = scanChunkNative(buf)!;
    const [s, e] = lineBounds(scan, 1);
    expect(scanCoreBytes(buf, s, e)).toBeNull();
    expect(coreAt(scan, 1, buf)).toBeNull();
    expect(coreAt(scan, 2, buf)?.username).toBe('c');
  });

  it('refuses arguments of the wrong types', () => {
    const addon = createRequire(import.meta.url)('../build/native/fastscan.node') as { scanChunk(a: unknown, b: unknown): number };
    expect(() => addon.scanChunk('text', new Int32Array(33))).toThrow(TypeError);
    expect(() => addon.scanChunk(Buffer.from('{}'), new Float64Array(33))).toThrow(TypeError);
    // too small a record array: nothing written, minus the number of lines
    expect(addon.scanChunk(Buffer.from('{}\n{}'), new Int32Array(33))).toBe(-2);
  });
});
