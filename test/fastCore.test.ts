import { isUtf8 } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
/**
 * scanCore (src/events/fastCore.ts), the validating field scanner of the aggregate-only fast
 * path, checked against JSON.parse: on generated logs (malformed lines included), on the real
 * fixture lines when present, on hand-written edge cases, and on thousands of random mutations
 * of real-looking lines. The rule everywhere: a non-null answer means JSON.parse succeeds, gives
 * a plain object, and the very same field values. Every check also asks the byte-level entry
 * point and the native scanner (native/fastscan.cc) and requires the very same answer.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_TYPE, scanCore, scanCoreBytes, type CoreFields } from '../src/events/fastCore.ts';
import { preprocessLine } from '../src/events/line.ts';
import { coreAt, lazyCoreAt, lineBounds, nativeScanAvailable, scanChunkNative } from '../src/events/nativeScan.ts';
import { parseTimeMicros } from '../src/events/time.ts';
import { generateLogs } from '../scripts/generate-logs.ts';
import { hasTrackingFixtures, TRACKING_FIXTURES } from './helpers/fixtures.ts';
import { mutate, prng } from './helpers/mutate.ts';

// ---------------------------------------------------------------------------------------------
// the reference: JSON.parse, read the way the slow path reads it

type Ref = { kind: 'throws' } | { kind: 'notObject' } | { kind: 'object'; fields: Record<Exclude<keyof CoreFields, 'timeUs' | 'videoPayload' | 'problemCheckPayload' | 'forumPayload' | 'moduleIdInputs'>, unknown> };

const FIELDS = ['time', 'username', 'event_type', 'event_source', 'page', 'ip', 'course_id', 'context_course_id', 'context_user_id'] as const;

function reference(line: string): Ref {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: 'throws' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { kind: 'notObject' };
  const o = v as Record<string, unknown>;
  const ctx = o['context'];
  const isCtx = typeof ctx === 'object' && ctx !== null && !Array.isArray(ctx);
  const c = ctx as Record<string, unknown>;
  return {
    kind: 'object',
    fields: {
      time: o['time'],
      username: o['username'],
      event_type: o['event_type'],
      event_source: o['event_source'],
      page: o['page'],
      ip: o['ip'],
      course_id: o['course_id'],
      context_course_id: isCtx ? c['course_id'] : undefined,
      context_user_id: isCtx ? c['user_id'] : undefined,
      // the VALUE of `event`; the scanner gives its JSON text (compared by parsing it)
      event_text: o['event'],
    },
  };
}

/** Would the scanner be expected to vouch for these fields (all of a type it returns)? */
function scannable(f: Record<Exclude<keyof CoreFields, 'timeUs' | 'videoPayload' | 'problemCheckPayload' | 'forumPayload' | 'moduleIdInputs'>, unknown>): boolean {
  for (const k of FIELDS) {
    const v = f[k];
    if (v === undefined || v === null || typeof v === 'string') continue;
    if (k === 'context_user_id' && typeof v === 'number') continue;
    return false;
  }
  return true;
}

interface Check {
  /** scanCore gave non-null */
  scanned: boolean;
  /** a problem, or null */
  problem: string | null;
}

/** The contract: non-null ⇒ JSON.parse succeeds, plain object, same fields (Object.is). */
/**
 * The text the native scanner reads of a line with a syslog prefix (line.ts preprocessLine drops
 * the first 26 characters after trim when "localhost {" lies within the first 27 and the line
 * does not start with "{"), in the cases it vouches for: the leading white space ASCII, the 27
 * characters ASCII. Null otherwise (the whole line is scanned, as scanCore scans it).
 */
function syslogRest(line: string): string | null {
  const lead = /^[ \t\r\v\f]*/.exec(line)![0].length;
  const head = line.slice(lead, lead + 27);
  if (line.charCodeAt(lead) === 0x7b || head.length < 27 || !/^[\x00-\x7f]*$/.test(head) || !head.includes('localhost {')) return null;
  return line.slice(lead + 26);
}

function check(line: string): Check {
  const got = scanCore(line);
  // the byte-level entry point must say exactly the same (on a valid UTF-8 encoding of the line;
  // lone surrogates have none, and the caller rejects such bytes before scanning)
  if (isUtf8(Buffer.from(line)) && Buffer.from(line).toString() === line) {
    const pad = Buffer.concat([Buffer.from('xx'), Buffer.from(line), Buffer.from('\nyy')]);
    const bytes = scanCoreBytes(pad, 2, pad.length - 3);
    if (!isDeepStrictEqual(bytes, got)) return { scanned: got !== null, problem: `scanCoreBytes ${JSON.stringify(bytes)?.slice(0, 200)} vs scanCore ${JSON.stringify(got)?.slice(0, 200)}` };
    // and so must the native scanner, the line being the second of a chunk (a chunk's lines
    // never hold a newline)
    if (nativeScanAvailable() && !line.includes('\n')) {
      const chunk = Buffer.concat([Buffer.from('{"a":1}\n'), Buffer.from(line), Buffer.from('\n{"b":')]);
      const scan = scanChunkNative(chunk)!;
      const native = scan.lines === 3 && lineBounds(scan, 1).join() === `8,${8 + Buffer.byteLength(line)}` ? coreAt(scan, 1, chunk) : 'bad line cut';
      // the native scanner reads a line after the pipeline's syslog fix, where it can vouch for it
      const nativeWant = syslogRest(line) === null ? got : scanCore(syslogRest(line)!);
      if (!isDeepStrictEqual(native, nativeWant)) return { scanned: got !== null, problem: `native ${JSON.stringify(native)?.slice(0, 200)} vs scanCore ${JSON.stringify(nativeWant)?.slice(0, 200)}` };
      // what module_id reads besides the fields above, as JSON.parse sees it
      const inputs = lazyCoreAt(scan, 1, chunk)?.moduleIdInputs;
      if (inputs !== undefined) {
        const o = JSON.parse(syslogRest(line) ?? line) as Record<string, unknown>;
        const ctx = o['context'];
        const isCtx = typeof ctx === 'object' && ctx !== null && !Array.isArray(ctx);
        const path = isCtx ? (ctx as Record<string, unknown>)['path'] : undefined;
        const want = {
          hasId: Object.hasOwn(o, '_id'),
          hasModuleId: Object.hasOwn(o, 'module_id'),
          context: ctx === undefined ? 'absent' : isCtx ? 'object' : 'other',
          path: path === undefined || path === null || typeof path === 'string' ? path : OTHER_TYPE,
        };
        if (!isDeepStrictEqual(inputs, want)) return { scanned: true, problem: `moduleIdInputs ${String(JSON.stringify(inputs))} (path ${String(inputs.path)}) vs ${String(JSON.stringify(want))}` };
      }
      // the time the native code parses is parseTimeMicros' number
      const timeUs = lazyCoreAt(scan, 1, chunk)?.timeUs;
      if (timeUs !== undefined && !(typeof nativeWant?.time === 'string' && Object.is(timeUs, parseTimeMicros(nativeWant.time)))) {
        return { scanned: true, problem: `native time ${timeUs} for ${JSON.stringify(nativeWant?.time)}` };
      }
    }
  }
  const ref = reference(line);
  if (got === null) return { scanned: false, problem: null };
  if (ref.kind !== 'object') return { scanned: true, problem: `non-null for a line JSON.parse ${ref.kind === 'throws' ? 'rejects' : 'reads as a non-object'}` };
  for (const k of FIELDS) {
    if (!Object.is(got[k], ref.fields[k])) return { scanned: true, problem: `${k}: scanCore ${JSON.stringify(got[k])} vs JSON.parse ${JSON.stringify(ref.fields[k])}` };
  }
  const ev = ref.fields.event_text;
  if (ev === undefined ? got.event_text !== undefined : got.event_text === undefined || !isDeepStrictEqual(JSON.parse(got.event_text), ev)) {
    return { scanned: true, problem: `event_text: ${JSON.stringify(got.event_text)?.slice(0, 200)} vs the event value ${JSON.stringify(ev)?.slice(0, 200)}` };
  }
  if (Object.keys(got).length !== FIELDS.length + 1) return { scanned: true, problem: 'unexpected keys' };
  return { scanned: true, problem: null };
}

function expectAgree(line: string): Check {
  const r = check(line);
  if (r.problem !== null) expect.fail(`${r.problem}\n  line: ${JSON.stringify(line.length > 400 ? line.slice(0, 400) + '…' : line)}`);
  return r;
}

/** Valid, scannable lines must be scanned (null only when the scanner cannot vouch). */
function expectScannedIfScannable(line: string): void {
  const ref = reference(line);
  if (ref.kind === 'object' && scannable(ref.fields)) {
    if (scanCore(line) === null) expect.fail(`null for a valid, scannable line: ${JSON.stringify(line.slice(0, 400))}`);
  }
}

// ---------------------------------------------------------------------------------------------
// data

let tmp = '';
/** Every line of a generated log set, as read from the files (raw, untrimmed). */
let rawLines: string[] = [];
/** The same after the pipeline's preprocessing (trim, syslog prefix). */
let lines: string[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'edx2bq-fastcore-'));
  await generateLogs({ out: tmp, courses: 3, learners: 60, days: 2, seed: 7, malformedRate: 0.03 });
  for (const f of (await readdir(tmp)).sort()) {
    if (!f.endsWith('.log.gz')) continue;
    const text = gunzipSync(await readFile(join(tmp, f))).toString('utf8');
    for (const raw of text.split('\n')) rawLines.push(raw);
  }
  lines = rawLines.map(preprocessLine);
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('scanCore agrees with JSON.parse on generated logs', () => {
  it('every generated line, raw and preprocessed, malformed ones included', () => {
    expect(lines.length).toBeGreaterThan(1000);
    let scanned = 0;
    let rejectedByParse = 0;
    for (const line of [...rawLines, ...lines]) {
      const r = expectAgree(line);
      if (r.scanned) scanned++;
      if (reference(line).kind === 'throws') rejectedByParse++;
      expectScannedIfScannable(line);
    }
    expect(rejectedByParse).toBeGreaterThan(20); // the generator's malformed lines are in
    // nearly every event line is taken by the fast path
    const objects = lines.filter((l) => reference(l).kind === 'object').length;
    expect(scanned).toBeGreaterThan(objects * 0.99);
  });

  it('reads the generator’s fields (spot check against a plain JSON.parse reading)', () => {
    const line = lines.find((l) => l.includes('"event_source": "browser"') && l.includes('"user_id": '))!;
    expect(line).toBeDefined();
    const got = scanCore(line)!;
    const o = JSON.parse(line) as Record<string, unknown> & { context: Record<string, unknown> };
    expect(got.username).toBe(o['username']);
    expect(got.context_course_id).toBe(o.context['course_id']);
    expect(typeof got.context_user_id).toBe('number');
    expect(got.event_source).toBe('browser');
  });
});

describe.skipIf(!hasTrackingFixtures)('scanCore agrees with JSON.parse on the real fixture logs', () => {
  it('every line of every fixture tracking log', () => {
    const files = existsSync(TRACKING_FIXTURES) ? readdirSync(TRACKING_FIXTURES).filter((f) => f.endsWith('.log')) : [];
    expect(files.length).toBeGreaterThan(0);
    let scanned = 0;
    for (const f of files) {
      for (const raw of readFileSync(join(TRACKING_FIXTURES, f), 'utf8').split('\n')) {
        const line = preprocessLine(raw);
        if (expectAgree(line).scanned) scanned++;
        expectAgree(raw);
        expectScannedIfScannable(line);
      }
    }
    expect(scanned).toBeGreaterThan(50);
  });
});

// ---------------------------------------------------------------------------------------------

/** A typical event line; `over` replaces/adds raw `"key": value` text at the end. */
const BASE = '{"username": "alice", "event_type": "play_video", "ip": "1.2.3.4", "event_source": "browser", "event": "{\\"id\\":\\"v1\\"}", "context": {"user_id": 42, "org_id": "MITx", "course_id": "MITx/6.00x/2015", "path": "/event"}, "time": "2015-03-01T10:00:00+00:00", "page": "https://x/courses/MITx/6.00x/2015/courseware/"}';

function scanned(line: string): CoreFields {
  const r = expectAgree(line);
  if (!r.scanned) expect.fail(`expected a non-null scan of ${JSON.stringify(line)}`);
  return scanCore(line)!;
}
function rejected(line: string): void {
  expectAgree(line);
  expect(scanCore(line), JSON.stringify(line)).toBeNull();
}

describe('scanCore edge cases', () => {
  it('a typical line', () => {
    expect(scanned(BASE)).toEqual({
      time: '2015-03-01T10:00:00+00:00',
      username: 'alice',
      event_type: 'play_video',
      event_source: 'browser',
      page: 'https://x/courses/MITx/6.00x/2015/courseware/',
      ip: '1.2.3.4',
      course_id: undefined,
      context_course_id: 'MITx/6.00x/2015',
      context_user_id: 42,
      event_text: '"{\\"id\\":\\"v1\\"}"', // the JSON text of the event value: a string holding JSON
    });
  });

  it('empty object, absent keys, null values', () => {
    expect(scanned('{}')).toEqual({ time: undefined, username: undefined, event_type: undefined, event_source: undefined, page: undefined, ip: undefined, course_id: undefined, context_course_id: undefined, context_user_id: undefined, event_text: undefined });
    expect(scanned('{"event": {"a": [1, 2.5e3, "x\\u00e9"]}, "event": null}').event_text).toBe('null'); // the last one wins
    expect(scanned('{"ev\\u0065nt": {"POST": {}}}').event_text).toBe('{"POST": {}}'); // an escaped key
    scanned(' {  } ');
    scanned('{"time": null, "username": null, "event_type": null, "event_source": null, "page": null, "ip": null, "course_id": null, "context": {"course_id": null, "user_id": null}}');
    expect(scanned('{"page": null}').page).toBeNull();
  });

  it('duplicate keys: the last one wins, as in JSON.parse', () => {
    expect(scanned('{"username": "a", "username": "b"}').username).toBe('b');
    expect(scanned('{"username": "a", "x": 1, "username": null}').username).toBeNull();
    expect(scanned('{"context": {"course_id": "a", "course_id": "b", "user_id": 1, "user_id": "u"}}')).toMatchObject({ context_course_id: 'b', context_user_id: 'u' });
    // a later `context` replaces the earlier one entirely
    expect(scanned('{"context": {"course_id": "a", "user_id": 1}, "context": {"path": "/"}}')).toMatchObject({ context_course_id: undefined, context_user_id: undefined });
    expect(scanned('{"context": {"course_id": "a"}, "context": "str"}').context_course_id).toBeUndefined();
    expect(scanned('{"context": "str", "context": {"course_id": "a"}}').context_course_id).toBe('a');
    // a duplicate of another type: null (slow path) or the JSON.parse answer, never the first value
    expectAgree('{"username": 5, "username": "b"}');
    expectAgree('{"username": "b", "username": 5}');
  });

  it('escaped keys are the keys JSON.parse sees', () => {
    expect(scanned('{"user\\u006eame": "a"}').username).toBe('a');
    expect(scanned('{"\\u0074ime": "t", "ti\\u006De": "u"}').time).toBe('u');
    expect(scanned('{"username": "a", "user\\u006eame": "b"}').username).toBe('b');
    expect(scanned('{"con\\u0074ext": {"course\\u005fid": "c", "user\\u005Fid": 3}}')).toMatchObject({ context_course_id: 'c', context_user_id: 3 });
    expect(scanned('{"user\\/name": "a"}').username).toBeUndefined(); // "user/name"
    expect(scanned('{"username\\u0000": "a"}').username).toBeUndefined();
    expect(scanned('{"usernam": "a", "usernamee": "b", "Username": "c", "username ": "d"}').username).toBeUndefined();
  });

  it('course_id: top level, context level, and nothing deeper or elsewhere', () => {
    const f = scanned('{"course_id": "top", "event": {"course_id": "ev", "context": {"course_id": "deep"}}, "context": {"module": {"course_id": "nested", "user_id": 9}, "x": ["course_id", {"course_id": "arr"}]}}');
    expect(f.course_id).toBe('top');
    expect(f.context_course_id).toBeUndefined();
    expect(f.context_user_id).toBeUndefined();
    expect(scanned('{"event": {"course_id": "ev"}, "context": {"path": "/"}}').context_course_id).toBeUndefined();
    expect(scanned('{"event": "\\"course_id\\": \\"s\\"", "page": "course_id", "context": {"path": "\\"course_id\\":\\"x\\""}}').context_course_id).toBeUndefined();
    expect(scanned('{"context": {"course_id": "c"}, "event": {"context": {"course_id": "d"}}}').context_course_id).toBe('c');
    expect(scanned('{"username": "course_id", "context": {"user_id": "course_id"}}')).toMatchObject({ username: 'course_id', context_user_id: 'course_id', context_course_id: undefined });
  });

  it('what module_id reads besides: _id, module_id, the kind of context and its path (checked on every line by expectAgree)', () => {
    for (const line of [
      '{"_id": {"$oid": "5"}, "username": "a"}', '{"\\u005fid": 1}', '{"module_id": null}', '{"module_id": "m", "module_id": 2}',
      '{"context": 5}', '{"context": null}', '{"context": [1]}', '{"context": {"path": 3}}', '{"context": {"path": null}}',
      '{"context": {"path": {"a": [1]}}}', '{"context": {"path": "/x"}, "context": []}', '{"context": [], "context": {"path": "/y"}}',
      '{"context": {"pa\\u0074h": "/e\\u00e9"}}', '{"context": {"path": "/a", "path": true}}', '{"context": {"path": "/ü"}}',
    ]) {
      scanned(line);
    }
  });

  it('context that is not an object', () => {
    for (const v of ['null', '"c"', '[{"course_id": "a"}]', '1', 'true', 'false', '[]']) {
      expect(scanned(`{"context": ${v}, "course_id": "t"}`)).toMatchObject({ context_course_id: undefined, context_user_id: undefined, course_id: 't' });
    }
    expect(scanned('{"context": {}}')).toMatchObject({ context_course_id: undefined, context_user_id: undefined });
  });

  it('needed fields of other types go to the slow path', () => {
    for (const v of ['1', '-2.5', 'true', 'false', '{}', '[]', '{"a": "b"}', '["x"]']) {
      for (const k of ['time', 'username', 'event_type', 'event_source', 'page', 'ip', 'course_id']) rejected(`{"${k}": ${v}}`);
      rejected(`{"context": {"course_id": ${v}}}`);
    }
    for (const v of ['true', 'false', '{}', '[]', '[1]']) rejected(`{"context": {"user_id": ${v}}}`);
    // other fields may hold anything
    scanned('{"event": {"a": [1, 2.5e-3, true, false, null, {"b": []}]}, "n": -0, "username": "u"}');
  });

  it('context.user_id: numbers in every JSON form, and strings', () => {
    for (const n of ['0', '-0', '7', '-7', '42', '1.5', '-0.0', '1e3', '1E3', '1e+3', '1e-3', '-1.25E-2', '123456789012345', '1234567890123456789', '9007199254740993', '1e400', '-1e400', '0.1e1', '2.00']) {
      const f = scanned(`{"context": {"user_id": ${n}}}`);
      expect(Object.is(f.context_user_id, JSON.parse(n) as number), n).toBe(true);
    }
    expect(Object.is(scanned('{"context": {"user_id": -0}}').context_user_id, -0)).toBe(true);
    expect(scanned('{"context": {"user_id": "17"}}').context_user_id).toBe('17');
    expect(scanned('{"context": {"user_id": ""}}').context_user_id).toBe('');
  });

  it('invalid numbers are rejected wherever they are', () => {
    for (const n of ['01', '-01', '1.', '.5', '+1', '-', '1e', '1e+', '1.e3', '0x10', 'NaN', 'Infinity', '-Infinity', '1_000', '1..2', '1ee3', '--1', '00', '1.5.', '.']) {
      rejected(`{"context": {"user_id": ${n}}}`);
      rejected(`{"event": ${n}, "username": "u"}`);
      rejected(`{"event": [${n}]}`);
      rejected(`{"a": {"b": ${n}}}`);
    }
  });

  it('syntax errors are rejected', () => {
    for (const bad of [
      '',
      ' ',
      '{',
      '}',
      '{"a": 1,}',
      '{"a": [1, 2,]}',
      '{"a": {"b": 1,}}',
      '{"a": {"b": 1,}, "username": "u"}',
      '{"a": [{"b": [1,],}]}',
      '{"a": [,1]}',
      '{"a": {,"b": 1}}',
      '{"context": {"path": "/",}}',
      '{"context": {"user_id": 1,}}',
      '{"context": {,"user_id": 1}}',
      '{"context": {"user_id": }}',
      '{"context": {"course_id": ,}}',
      '{"context": {"course_id" "c"}}',
      '{"context": {course_id: "c"}}',
      '{"a": }',
      '{"a": {"b": }}',
      '{"a": {"b" 1}}',
      '{"a": {"b": 1 "c": 2}}',
      '{"a": {b: 1}}',
      '{"a": [1 , , 2]}',
      '{,"a": 1}',
      '{"a" 1}',
      '{"a": 1 "b": 2}',
      '{"a": 1,, "b": 2}',
      '{a: 1}',
      "{'a': 1}",
      "{\"a\": 'b'}",
      '{"a": tru}',
      '{"a": True}',
      '{"a": nul}',
      '{"a": undefined}',
      '{"a": falsey}',
      '{"a": [1 2]}',
      '{"a": [}',
      '{"a": {]}',
      '{"a": [1, {"b": 2]}}',
      '{"a": 1}}',
      '{"a": 1} {"b": 2}',
      '{"a": 1}x',
      '{"a": 1},',
      '{"a": 1}\u0000',
      '{"a": 1}\u00a0',
      '\u00a0{"a": 1}',
      '\ufeff{"a": 1}',
      '{"a": 1',
      '{"username": "a"',
      '{"username": "a',
      '{"username": "a\\',
      '{"username": "a\\"}',
      '{"a": "b"}"',
      '[1, 2]',
      '"str"',
      'null',
      '1',
      '{"a": 1}/* c */',
      '{"a": 1, // c\n"b": 2}',
      '{"a":\u00a01}',
      '{"a":\u20281}',
      '{"a": [1, 2]]}',
      '{"context": {"user_id": 1}',
      '{"context": {"user_id": 1}}}',
      '{"context": {"course_id": "a"}}, "x": 1}',
    ]) {
      rejected(bad);
    }
  });

  it('raw control characters: illegal in strings, legal only as whitespace', () => {
    for (const c of ['\u0000', '\u0001', '\t', '\n', '\r', '\u001f', '\b', '\f']) {
      rejected(`{"username": "a${c}b"}`);
      rejected(`{"event": "a${c}b", "username": "u"}`);
      rejected(`{"a${c}": 1}`);
      rejected(`{"context": {"path": "${c}"}}`);
    }
    for (const c of ['\u0000', '\u0001', '\u001f', '\b', '\f', '\v']) rejected(`{"a":${c}1}`);
    // the four JSON whitespace characters, everywhere whitespace may go
    const f = scanned('\t{\n"username"\r:\t"u" ,\n"context" : { "user_id" :\r\n5 , "course_id":"c"\t}\r\n, "x" : [ 1 , { } , [ ] ] } \n\t\r');
    expect(f).toMatchObject({ username: 'u', context_user_id: 5, context_course_id: 'c' });
    // U+007F and above are ordinary characters
    expect(scanned('{"username": "\u007f\u0080\u00ff"}').username).toBe('\u007f\u0080\u00ff');
  });

  it('escapes are validated and decoded exactly as JSON.parse does', () => {
    const f = scanned('{"username": "\\u00e9\\/\\\\\\"\\b\\f\\n\\r\\t\\u0000\\u001F\\uD83D\\uDE00\\ud800x\\udc00", "page": "a\\/b"}');
    expect(f.username).toBe('é/\\"\b\f\n\r\t\u0000\u001f😀\ud800x\udc00');
    expect(f.page).toBe('a/b');
    for (const bad of ['\\x41', '\\u12', '\\u12G4', '\\u', '\\U0041', '\\a', "\\'", '\\0', '\\ ', '\\\n', '\\u00e', '\\u{41}', '\\v']) {
      rejected(`{"username": "${bad}"}`);
      rejected(`{"event": "${bad}", "username": "u"}`);
      rejected(`{"ev${bad}": 1}`);
    }
    scanned('{"event": "\\"\\\\\\"", "username": "x\\\\"}');
  });

  it('unicode: values after multi-byte characters, surrogate pairs and lone surrogates', () => {
    const f = scanned('{"agent": "žluťoučký 中文 😀😀", "username": "学生599", "event": "\ud800 lone \udfff", "page": "é\ud83d\ude00é", "context": {"path": "ü", "course_id": "c😀"}, "time": "t\ud800"}');
    expect(f).toMatchObject({ username: '学生599', page: 'é😀é', context_course_id: 'c😀', time: 't\ud800' });
    expect(scanned('{"😀": "😀", "username": "\udc00\ud800"}').username).toBe('\udc00\ud800');
    expect(scanned('{"username": "fran\\u00e7ois", "ip": "ü"}')).toMatchObject({ username: 'françois', ip: 'ü' });
    // non-ASCII is never whitespace or structure
    rejected('{"username": "a"\u3000}');
    rejected('{"username"\u00a0: "a"}');
    rejected('{"username": "a"}\u2028');
  });

  it('nesting: deep is fine, too deep goes to the slow path', () => {
    const deep = (d: number) => `{"event": ${'['.repeat(d)}${']'.repeat(d)}, "a": ${'{"b": '.repeat(d)}1${'}'.repeat(d)}, "username": "u"}`;
    expect(scanned(deep(100)).username).toBe('u');
    expectAgree(deep(5000));
    expect(scanCore(deep(5000))).toBeNull();
    rejected(`{"event": ${'['.repeat(100)}${']'.repeat(99)}, "username": "u"}`);
    rejected(`{"event": ${'['.repeat(99)}${']'.repeat(100)}, "username": "u"}`);
  });

  it('long lines (scratch buffer growth) and very long ones', () => {
    const long = `{"event": "${'x'.repeat(200_000)}", "username": "${'é'.repeat(50_000)}", "context": {"course_id": "c"}}`;
    expect(scanned(long).username).toBe('é'.repeat(50_000));
    expect(scanned(BASE).username).toBe('alice'); // still right after the growth
    const huge = `{"event": "${'x'.repeat(1_100_000)}", "username": "u"}`;
    expectAgree(huge); // null allowed (left to JSON.parse)
  });

  it('the lines of the pipeline: syslog prefix and untrimmed text', () => {
    rejected(`Mar  1 15:25:57 localhost ${BASE}`);
    expect(scanned(preprocessLine(`Mar  1 15:25:57 localhost ${BASE}`)).username).toBe('alice');
    expect(scanned(`  ${BASE}\r`).username).toBe('alice');
  });

  it.skipIf(!nativeScanAvailable())('the native scanner reads a syslog-prefixed line after the prefix, as preprocessLine does', () => {
    const cases: Array<[string, string | null]> = [
      [`Mar  1 15:25:57 localhost ${BASE}`, 'alice'], [` \tMar  1 15:25:57 localhost ${BASE}`, 'alice'], [`Mar 11 15:25:57 localhost ${BASE}`, 'alice'],
      [`Mar  1 15:25:57 localhost  ${BASE}`, null], [`Mar  1 15:2:57 localhost ${BASE}`, null], [`Mär  1 15:25:57 localhost ${BASE}`, null], [`Mä  1 15:25:57 localhost ${BASE}`, null],
      [`xMar  1 15:25:57 localhost ${BASE}`, null], [`\u00a0Mar  1 15:25:57 localhost ${BASE}`, null], [`Mar  1 15:25:57 localhos ${BASE}`, null],
      [`0123456789abcde localhost ${BASE}`, 'alice'], [`0123456789abcdef localhost ${BASE}`, null], [`Mar  1 15:25:57 localhost ${BASE} \v`, null],
    ];
    for (const [line, user] of cases) {
      const chunk = Buffer.from(`{"a":1}\n${line}\n`);
      const scan = scanChunkNative(chunk)!;
      // the JavaScript pipeline's view: what preprocessLine leaves, scanned
      const js = scanCore(preprocessLine(line));
      expect(coreAt(scan, 1, chunk)?.username ?? null, JSON.stringify(line)).toBe(user);
      if (user !== null) expect(coreAt(scan, 1, chunk), JSON.stringify(line)).toEqual(js);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('scanCore under mutation fuzz', () => {
  it('non-null ⇒ JSON.parse agrees, over thousands of random edits of real-looking lines', () => {
    const rnd = prng(20150301);
    const pool = lines.filter((l) => reference(l).kind === 'object');
    const bases: string[] = [];
    for (let k = 0; k < 300; k++) bases.push(pool[Math.floor(rnd() * pool.length)]!);
    bases.push(BASE, '{"user\\u006eame": "a", "context": {"course_id": "c", "user_id": -1.5e3}}', '{"username": "é😀", "context": {"course_id": "\\u00e9"}}');
    let scannedCount = 0;
    let parseOk = 0;
    const N = 30_000;
    for (let k = 0; k < N; k++) {
      const m = mutate(bases[k % bases.length]!, rnd);
      const r = expectAgree(m);
      if (r.scanned) scannedCount++;
      if (reference(m).kind !== 'throws') parseOk++;
    }
    // the fuzz exercises both sides: lines the scanner takes, lines it (and JSON.parse) refuses
    expect(scannedCount).toBeGreaterThan(N * 0.05);
    expect(N - parseOk).toBeGreaterThan(N * 0.3);
  });

  it('random unicode text around and inside the fields read (offsets of non-ASCII lines)', () => {
    const rnd = prng(42);
    // pieces of JSON string text: raw characters of 1 to 4 UTF-8 bytes, lone surrogates, escapes
    const pieces = ['a', 'Z', ' ', '~', '\u007f', '\u00e9', 'é', 'ß', 'ÿ', 'Ā', 'ż', '中', '学', '\uffff', '\ufffd', '😀', '𝄞', '\ud800', '\udfff', '\\"', '\\\\', '\\u00e9', '\\ud83d\\ude00', '\\n'];
    const text = (): string => {
      let t = '';
      const len = Math.floor(rnd() * 12);
      for (let k = 0; k < len; k++) t += pieces[Math.floor(rnd() * pieces.length)]!;
      return JSON.parse(`"${t}"`) as string;
    };
    const hex = (m: string): string => '\\u' + m.charCodeAt(0).toString(16).padStart(4, '0');
    // the JSON text of a string: non-ASCII raw (lone surrogates included), or all of it escaped
    const q = (t: string): string =>
      rnd() < 0.5 ? `"${t.replace(/[\\"\u0000-\u001f]/g, (m) => (m === '"' || m === '\\' ? '\\' + m : hex(m)))}"` : JSON.stringify(t).replace(/[^\x20-\x7e]/g, hex);
    for (let k = 0; k < 3000; k++) {
      const keys: string[] = [];
      const want: Record<string, string> = {};
      for (const f of ['agent', 'username', 'event', 'page', 'host', 'time', 'ip']) {
        if (rnd() < 0.2) continue;
        const v = text();
        want[f] = v;
        keys.push(`${q(f)}: ${q(v)}`);
      }
      const cc = text();
      keys.push(`"context": {${q('path')}: ${q(text())}, "course_id": ${q(cc)}, "user_id": ${q(text())}}`);
      const line = `{${keys.join(', ')}}`;
      const f = scanned(line);
      expect(f.username).toBe(want['username']);
      expect(f.page).toBe(want['page']);
      expect(f.context_course_id).toBe(cc);
    }
  });
});
