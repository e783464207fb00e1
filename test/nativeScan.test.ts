/**
 * The native chunk scanner (native/fastscan.cc via src/events/nativeScan.ts): that `npm ci` built
 * it, and how it cuts a chunk into lines, which must be exactly `forEachLine`'s cut. Its field
 * values are checked against the JavaScript scanner and JSON.parse on every line of
 * test/fastCore.test.ts, and the facts of the aggregate-only pass with it against the full parse
 * in test/personDay-generated.test.ts.
 */
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { scanCoreBytes, type CoreFields } from '../src/events/fastCore.ts';
import { coreAt, lazyCoreAt, lineBounds, nativeScanAvailable, scanChunkNative } from '../src/events/nativeScan.ts';
import { forEachLine } from '../src/logs/lines.ts';
import { parseTimeMicros } from '../src/events/time.ts';
import { videoRecord } from '../src/aggregate/eventRows.ts';
import { videoPayloadRow } from '../src/logs/chunkTasks.ts';
import { keyTouchedByR17 } from '../src/events/rephrase.ts';

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

/** The members `keys` of a parsed payload that it has, as JSON.parse gave them. */
/**
 * A server event of `type` with `event`, whose facts the native code leaves to JavaScript (it has
 * an `_id`), so that the scanner hands over the payload's members.
 */
function memberLine(type: string, event: string): string {
  return `{"event_type": "${type}", "event_source": "server", "event": ${event}, "context": {"course_id": "a/b/c"}, "time": "2015-03-01T10:00:00Z", "_id": "x"}`;
}

function membersOf(ev: object, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => Object.hasOwn(ev, k)).map((k) => [k, (ev as Record<string, unknown>)[k]]));
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
      // common sources and types come from a table of constants: same values
      '{"event_source": "browser", "event_type": "play_video"}', '{"event_source": "browse", "event_type": "play_videos"}',
      '{"event_source": "serve\\u0072", "event_type": "seq_got\\u006f"}', '{"event_type": "edx.course.enrollment.mode_changed", "event_source": "mobile"}',
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
    expect(coreAt(scan, 8, buf)).toMatchObject({ event_source: 'browser', event_type: 'play_video' });
    expect(coreAt(scan, 9, buf)).toMatchObject({ event_source: 'browse', event_type: 'play_videos' });
    expect(coreAt(scan, 10, buf)).toMatchObject({ event_source: 'server', event_type: 'seq_goto' });
  });

  it('parses times as parseTimeMicros does (hand-checked in time.test.ts), and leaves escaped ones to it', () => {
    const times = [
      '2015-02-10T05:17:08.011728+00:00', '2015-02-10T05:17:08+00:00', '2015-02-10T05:17:08', '2015-02-10 05:17:08', '2015-02-10T05:17:08Z',
      '2015-02-10T05:17:08.5Z', '2015-02-10T05:17:08.', '2015-02-10T05:17:08.123456789+00:00', '2015-02-10T05:17:08.1234567890Z',
      '2015-02-10T05:17:08.011728+0000', '2015-02-10T06:17:08+01:00', '2015-02-10T00:17:08-05:00', '2015-02-10T00:47:08-0430',
      '2016-02-29T00:00:00Z', '2015-02-29T00:00:00Z', '2000-02-29T23:59:59Z', '1900-02-29T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z',
      '1969-12-31T23:59:59.5Z', '2015-13-10T05:17:08', '2015-02-10T24:00:00', '2015-02-10T05:60:08', '2015-02-10T05:17:60', '2015-02-10T05:17:08+', '2015-02-10T05:17:08+01',
      '2015-02-10T05:17:08+01:0', '2015-02-10T05:17:08+24:00', '2015-02-10T05:17:08+01:60', '2015-02-10T05:17:08z', '2015-02-10T05:17:08Z ', '2015-02-10', '', 'x',
      '2015-02-10t05:17:08', '2015/02/10T05:17:08', '-015-02-10T05:17:08', '2015-02-10T05:17:08.12a', '2015-02-10T05:17:08 +00:00',
    ];
    // and random ones: digits and separators in the places that matter
    let rnd = 99;
    const next = (n: number) => ((rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) % n);
    const alphabet = '0123456789-:T .Z+z';
    for (let i = 0; i < 3000; i++) {
      const base = times[next(13)]!.split('');
      for (let k = next(3); k > 0; k--) base[next(base.length)] = alphabet[next(alphabet.length)]!;
      times.push(base.join('').slice(0, 19 + next(20)));
    }
    const buf = Buffer.from(times.map((t) => JSON.stringify({ time: t })).join('\n'));
    const scan = scanChunkNative(buf)!;
    let valid = 0;
    times.forEach((t, i) => {
      const got = lazyCoreAt(scan, i, buf)!;
      expect(got.time).toBe(t);
      expect(Object.is(got.timeUs, parseTimeMicros(t)), `${t}: ${got.timeUs} vs ${parseTimeMicros(t)}`).toBe(true);
      if (!Number.isNaN(got.timeUs)) valid++;
    });
    expect(valid).toBeGreaterThan(100);
    // spot check against the hand-computed value of time.test.ts
    expect(lazyCoreAt(scan, 0, buf)!.timeUs).toBe((16476 * 86400 + 5 * 3600 + 17 * 60 + 8) * 1_000_000 + 11728);
    // escaped or non-ASCII text: JavaScript parses it
    const other = Buffer.from('{"time": "2015-02-10T05:17:08\\u005a"}\n{"time": "2015-02-10T05:17:08é"}');
    const s2 = scanChunkNative(other)!;
    expect(lazyCoreAt(s2, 0, other)!.timeUs).toBeUndefined();
    expect(lazyCoreAt(s2, 0, other)!.time).toBe('2015-02-10T05:17:08Z');
    expect(lazyCoreAt(s2, 1, other)!.timeUs).toBeUndefined();
  });

  it('reads a video payload only when videoPayloadRow would, and then to the same video facts', () => {
    const payloads: unknown[] = [
      { id: 'i4x-MITx-6_00x-video-Video_6', currentTime: 187.11, code: 'aFaL3z9FtDe' },
      { id: 'block-v1:MITx+6.002x+3T2014+type@video+block@abc', currentTime: 0, speed: '1.0' },
      { id: 'v1', new_time: 12.5, old_time: 3, type: 'onSlideSeek' },
      { id: 'v1', currentTime: -0, speed: 1.5 }, { id: 'v1', currentTime: 1e21 }, { id: 'v1', currentTime: 1.7976931348623157e308 },
      { id: null, currentTime: null, new_time: null, speed: null }, {}, { id: 'é€𝄞' }, { id: 'a"b\\c' }, { id: '' },
      { id: 7 }, { id: true }, { id: ['v'] }, { id: { a: 1 } }, { currentTime: '12.5' }, { currentTime: '-12' }, { currentTime: '1e5' },
      { currentTime: ' 1.5' }, { currentTime: '1.' }, { currentTime: '.5' }, { currentTime: '1234567890123456' }, { currentTime: '123456789012345.123456789012345' },
      { speed: true }, { speed: [1] }, { speed: { x: 1 } }, { new_time: 'abc' }, [1, 2], 'text', 42, null,
      { id: 'v', id2: { deep: [1, { a: null }] }, currentTime: 3 }, { nested: { id: 'inner' }, id: 'outer' },
    ];
    // raw payload texts JSON.stringify cannot make: duplicate keys, exponents, escapes, bad JSON
    const rawTexts = [
      '{"id":"a","id":"b","currentTime":1,"currentTime":2}', '{"id":"a","id":5}', '{"currentTime":1E3,"speed":2e-2}', '{"currentTime":1e400}',
      '{"currentTime":1e-400}', '{"\\u0069d":"escaped key"}', '{"id":"\\u0041"}', '{"currentTime":"\\u0031"}', '  {"id":"ws"}  ', '{"id":"x",}',
      '{"id":"x"} x', '{"id":"x"', '', '{"id":"\\ud800"}', '{"currentTime":01}', '{"currentTime":-}', '{"id":"a\\u0000b"}',
    ];
    const texts = [...payloads.map((p) => JSON.stringify(p)), ...rawTexts];
    // each payload as a string (browser events: JSON text in a JSON string) and, when an object, as the event itself
    const events: string[] = [];
    for (const t of texts) {
      events.push(JSON.stringify(t));
      if (t.trim().startsWith('{')) events.push(t);
    }
    events.push('"{\\"id\\":\\"a\\ud83d\\ude00\\"}"', '"{\\"id\\":\\"lone\\ud800\\"}"', '"{\\u0022id\\u0022:\\u0022u\\u0022}"', '"\\u0000{}"', 'null', '[]', '12');
    const types = ['play_video', 'pause_video', 'stop_video', 'seek_video', 'load_video'];
    const lines: string[] = [];
    const cases: Array<[string, string]> = [];
    for (const type of types) {
      for (const ev of events) {
        lines.push(`{"event_type": "${type}", "event": ${ev}, "username": "u"}`);
        cases.push([type, ev]);
      }
    }
    const buf = Buffer.from(lines.join('\n'));
    const scan = scanChunkNative(buf)!;
    let read = 0;
    cases.forEach(([type, ev], i) => {
      const lazy = lazyCoreAt(scan, i, buf);
      if (lazy === null) return; // an event text the line scanner refuses (not valid JSON)
      const payload = lazy.videoPayload;
      if (payload === undefined) return; // left to JavaScript: always allowed
      read++;
      const js = videoPayloadRow(type, lazy.event_text);
      expect(js, `native read a payload videoPayloadRow refuses: ${ev}`).not.toBeNull();
      const native = videoRecord({ event_type: type, event: '', event_struct: payload });
      expect(native, ev).toEqual(videoRecord(js!));
      expect(type).not.toBe('load_video');
    });
    // the plain payloads are read natively (strings, and objects)
    expect(read).toBeGreaterThan(100);
    const plain = lazyCoreAt(scan, 0, buf)!.videoPayload;
    expect(plain).toEqual({ id: 'i4x-MITx-6_00x-video-Video_6', currentTime: 187.11 });
  });

  it('reads a problem_check payload only when R17 touches none of its keys, and then as JSON.parse does', () => {
    const READ = ['answers', 'attempts', 'success', 'grade', 'max_grade', 'id', 'problem_id', 'new', 'POST'];
    const payloads = [
      '{"answers": {"i4x-a-b-problem-p_2_1": ["choice_1", "é"]}, "attempts": 2, "success": "correct", "grade": 1, "max_grade": 2.5, "state": {"x": [1, {"y": null}]}}',
      '{"problem_id": "i4x://a/b/problem/p", "problem_id": "p2", "id": 5, "new": {"a": 1}, "POST": {"position": ["3"]}}', '{}', '{ "attempts" : -0 , "grade":1e400 }',
      '{"answers": "\\u00e9\\n", "success": null}', '{"a-b": 1}', '{"a.b": 1}', '{"1x": 1}', '{"i4x-x": 1}', '{"xblock.y": 1}', '{"": 1}', '{"\\u0061nswers": {}}',
      '{"x\\u002dy": 1}', '{"answers": {"a-b": 1, "1": 2}, "attempts": "3"}', '{"éclair": 1, "grade": "0.5"}', '"{\\"attempts\\": 1}"', '[1]', 'null', '{"answers": 1}',
    ];
    const lines: string[] = [];
    for (const type of ['problem_check', 'save_problem_check', 'problem_graded', 'problem_checks']) {
      for (const p of payloads) lines.push(memberLine(type, p));
    }
    const buf = Buffer.from(lines.join('\n'));
    const scan = scanChunkNative(buf)!;
    let read = 0;
    for (let i = 0; i < lines.length; i++) {
      const o = JSON.parse(lines[i]!) as { event_type: string; event: unknown };
      const got = lazyCoreAt(scan, i, buf)!.problemCheckPayload;
      const ev = o.event;
      const isObj = typeof ev === 'object' && ev !== null && !Array.isArray(ev);
      // a key written with an escape is left to JavaScript, touched or not
      const escapedKey = lines[i]!.includes('"\\u0061nswers"') || lines[i]!.includes('"x\\u002dy"');
      const plainKeys = isObj && Object.keys(ev).every((k) => !keyTouchedByR17(k)) && !escapedKey;
      const typed = o.event_type === 'problem_check' || o.event_type === 'save_problem_check';
      if (!typed || !isObj || !plainKeys) {
        expect(got, lines[i]).toBeUndefined();
        continue;
      }
      expect(got, lines[i]).toBeDefined();
      read++;
      const want = membersOf(ev, READ);
      expect(got, lines[i]).toEqual(want);
      // toEqual does not tell -0 from 0
      for (const k of Object.keys(want)) if (typeof want[k] === 'number') expect(Object.is(got![k], want[k]), `${k} of ${lines[i]}`).toBe(true);
    }
    expect(read).toBe(2 * 8);
  });

  it('reads the members of a forum payload as JSON.parse does', () => {
    const READ = ['GET', 'POST', 'query', 'id', 'problem_id', 'new'];
    const payloads = [
      '{"POST": {"body": ["é \\" x"]}, "GET": {}, "query": "q"}', '{"\\u0047ET": {"x": 1}, "GET": "dup"}', '{}', '{"id": "56aa", "new": 3, "body": "long"}',
      '{"GET": null, "query": null, "problem_id": ["x"]}', '{ "POST" : [1, {"a": -0}] }',
    ];
    const lines: string[] = [];
    for (const type of ['edx.forum.thread.created', '/courses/a/b/c/discussion/threads/t/reply', 'play_video', 'edx.forum.searched']) {
      for (const p of payloads) lines.push(memberLine(type, p));
      lines.push(`{"event_type": "${type}", "event": "{}", "context": {"course_id": "a/b/c"}, "time": "2015-03-01T10:00:00Z", "_id": "x"}`);
    }
    const buf = Buffer.from(lines.join('\n'));
    const scan = scanChunkNative(buf)!;
    let read = 0;
    for (let i = 0; i < lines.length; i++) {
      const o = JSON.parse(lines[i]!) as { event_type: string; event: unknown };
      const got = lazyCoreAt(scan, i, buf)!.forumPayload;
      const ev = o.event;
      if (o.event_type === 'play_video' || typeof ev !== 'object' || ev === null) {
        expect(got, lines[i]).toBeUndefined();
        continue;
      }
      read++;
      expect(got, lines[i]).toEqual(membersOf(ev, READ));
    }
    expect(read).toBe(3 * payloads.length);
  });

  it('survives random bytes and truncated tokens, and agrees with scanCoreBytes on every UTF-8 line', () => {
    // lines cut in the middle of every kind of token, NUL and high bytes, deep nesting: the
    // scanner must never read past a line (a crash kills the test run) and must agree with the
    // JavaScript scanner wherever the caller would use its answer (valid UTF-8 lines)
    const pieces = ['{', '}', '[', ']', '"', '\\', '\\u', '\\u12', '\\ud83d', ':', ',', ' ', 'null', 'nul', 'true', '-', '1e', '0.', '12345678901234567890',
      '"time"', '"username"', '"event"', '"context"', '"event_type"', '"play_video"', '"path"', '"_id"', '"module_id"', '"id"', '"currentTime"',
      '"2015-03-01T10:00:00Z"', 'é', '\u0000', '\u0001', '\u00ff', '\uffff', '"{\\"id\\":1}"', '{"a":'.repeat(40)];
    let rnd = 7;
    const next = (n: number) => ((rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) % n);
    let utf8Lines = 0;
    for (let round = 0; round < 300; round++) {
      const lines: Buffer[] = [];
      for (let l = 0; l < 12; l++) {
        const parts: Buffer[] = [];
        for (let k = next(30); k > 0; k--) parts.push(next(5) === 0 ? Buffer.from([next(256)]) : Buffer.from(pieces[next(pieces.length)]!));
        lines.push(Buffer.concat(parts));
      }
      const chunk = Buffer.concat(lines.flatMap((b, i) => (i === 0 ? [b] : [Buffer.from('\n'), b])));
      const scan = scanChunkNative(chunk)!;
      jsCut(chunk).forEach(([s, e], i) => {
        expect(lineBounds(scan, i)).toEqual([s, e]);
        if (!isUtf8(chunk.subarray(s, e))) return;
        utf8Lines++;
        expect(coreAt(scan, i, chunk), chunk.toString('utf8', s, e)).toEqual(scanCoreBytes(chunk, s, e));
      });
    }
    expect(utf8Lines).toBeGreaterThan(1000);
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
    const addon = createRequire(import.meta.url)('../build/native/fastscan.node') as { scanChunk(a: unknown, b: unknown, c?: unknown, d?: unknown): number; stride: number };
    const side = new Uint8Array(16);
    const table = new Int32Array(64);
    expect(() => addon.scanChunk('text', new Int32Array(addon.stride), side, table)).toThrow(TypeError);
    expect(() => addon.scanChunk(Buffer.from('{}'), new Float64Array(addon.stride), side, table)).toThrow(TypeError);
    expect(() => addon.scanChunk(Buffer.from('{}'), new Int32Array(addon.stride), side)).toThrow(TypeError);
    expect(() => addon.scanChunk(Buffer.from('{}'), new Int32Array(addon.stride), side, new Float64Array(64))).toThrow(TypeError);
    // too small a record array or string table: nothing written, minus the number of lines
    expect(addon.scanChunk(Buffer.from('{}\n{}'), new Int32Array(addon.stride), side, table)).toBe(-2);
    expect(addon.scanChunk(Buffer.from('{}\n{}'), new Int32Array(2 * addon.stride), side, new Int32Array(72))).toBe(-2);
    expect(addon.scanChunk(Buffer.from('{}\n{}'), new Int32Array(2 * addon.stride), side, new Int32Array(73))).toBe(2);
  });
});
