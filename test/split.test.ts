import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { splitLogs, type SplitOptions } from '../src/logs/split.ts';
import { courseDirName } from '../src/ids.ts';
import { comparableTree, gunzipLines, rawEvent, readTree, tempDir, writeGz } from './helpers/logtree.ts';
import { hasTrackingFixtures, TRACKING_FIXTURES } from './helpers/fixtures.ts';

const dirs: string[] = [];
function dir(name: string): string {
  const d = tempDir(name);
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const base = (logsDir: string, extra: Partial<SplitOptions> = {}): SplitOptions => ({ logsDir, workers: 2, chunkSize: 1 << 20, gzipLevel: 1, force: false, ...extra });

/** Deterministic pseudo-random lines for `courses` courses, ~300 B each. */
function manyLines(n: number, courses: string[], seed = 1): string[] {
  let x = seed;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = courses[Math.floor(rnd() * courses.length)]!;
    const s = String(i % 60).padStart(2, '0');
    lines.push(rawEvent({ course: c, user: `u${Math.floor(rnd() * 500)}`, time: `2015-03-01T1${i % 10}:${s}:${s}.${String(i % 1e6).padStart(6, '0')}+00:00`, extra: { session: rnd().toString(36) } }));
  }
  return lines;
}

describe('split: every line is an event or a reject', () => {
  it('accounts for good, bad and odd lines, with line numbers and raw text', async () => {
    const inDir = dir('in');
    const out = dir('out');
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"a":"\xff\xfe"}
    const lines: Array<string | Buffer> = [
      rawEvent({ course: 'course-v1:MITx+6.002x+1T2015' }), // 1 good
      '{"username": "x", "time": ', // 2 truncated JSON
      '', // 3 empty
      '[1, 2]', // 4 not an object
      JSON.stringify({ username: 'x', event_type: 'e', event_source: 'server' }), // 5 missing time
      rawEvent({ time: 'not-a-time' }), // 6 bad time
      bad, // 7 invalid UTF-8
      `Sep  9 00:00:48 localhost ${rawEvent({ course: 'A/B/C' })}`, // 8 syslog prefix: good
      rawEvent({ course: '', source: 'server', type: '/dashboard' }), // 9 no course: unknown
      rawEvent({ course: null, source: 'browser', extra: { page: 'https://x.org/courses/course-v1:G+H+I/courseware/a/b/' } }), // 10 guessed G/H/I
      '   ', // 11 blank
      rawEvent({ course: 'A/B/C' }), // 12 good, no final newline
    ];
    const body = Buffer.concat(lines.map((l, i) => Buffer.concat([typeof l === 'string' ? Buffer.from(l) : l, Buffer.from(i === lines.length - 1 ? '' : '\n')])));
    writeGz(path.join(inDir, 'x-edx-events-2015-03-01.log.gz'), body);
    const s = await splitLogs([inDir], base(out));
    expect(s.lines).toBe(12);
    expect(s.events).toBe(5);
    expect(s.rejects).toBe(7);
    expect(s.unknown).toBe(1);
    expect(s.perCourse).toEqual({ 'A/B/C': 2, 'G/H/I': 1, 'MITx/6.002x/1T2015': 1 });
    expect(s.events + s.rejects).toBe(s.lines);
    const rejects = gunzipLines(path.join(out, '_rejects', 'x-edx-events-2015-03-01.jsonl.gz')).map((l) => JSON.parse(l));
    expect(rejects.map((r) => r.line)).toEqual([2, 3, 4, 5, 6, 7, 11]);
    expect(rejects[0].raw).toBe('{"username": "x", "time": ');
    expect(rejects[0].reason).toMatch(/^bad JSON/);
    expect(rejects[1].reason).toBe('empty line');
    expect(rejects[2].reason).toMatch(/not a JSON object/);
    expect(rejects[3].reason).toBe('missing time');
    expect(rejects[4].reason).toMatch(/unparseable time/);
    expect(rejects[5].reason).toBe('invalid UTF-8');
    expect(Buffer.from(rejects[5].rawBase64, 'base64').equals(bad)).toBe(true);
    expect(rejects[6].raw).toBe('   ');
    const abc = gunzipLines(path.join(out, 'A__B__C', 'tracklog-2015-03-01.json.gz')).map((l) => JSON.parse(l));
    expect(abc).toHaveLength(2);
    expect(abc.every((r) => r.course_id === 'A/B/C')).toBe(true);
    expect(gunzipLines(path.join(out, 'MITx__6.002x__1T2015', 'tracklog-2015-03-01.json.gz'))).toHaveLength(1);
    expect(gunzipLines(path.join(out, 'G__H__I', 'tracklog-2015-03-01.json.gz'))).toHaveLength(1);
    expect(gunzipLines(path.join(out, '_unknown', 'tracklog-2015-03-01.json.gz'))).toHaveLength(1);
    const marker = JSON.parse(fs.readFileSync(path.join(out, 'META', 'x-edx-events-2015-03-01.json'), 'utf8'));
    expect(marker).toMatchObject({ status: 'done', lines: 12, events: 5, rejects: 7, unknown: 1, date: '2015-03-01' });
  });
});

describe('split: untrusted course ids stay inside the logs directory', () => {
  it('writes nothing outside, whatever the id says', async () => {
    const root = dir('hostile');
    const inDir = path.join(root, 'in');
    const out = path.join(root, 'logs');
    const ids = ['../../escape', '/abs/path', '..', '.', 'a\u0000b', 'x/../../y', 'META', '_unknown', '_rejects', '.tmp', '..\\..\\win', '\u001b[31mred', 'course-v1:../..+x+y', '', 'a'.repeat(600)];
    writeGz(path.join(inDir, 'h-2015-03-01.log.gz'), ids.map((c) => rawEvent({ course: c, type: '/dashboard' })).join('\n') + '\n');
    const before = new Set(fs.readdirSync(root));
    const s = await splitLogs([inDir], base(out));
    expect(new Set(fs.readdirSync(root))).toEqual(new Set([...before, 'logs']));
    expect(s.events).toBe(ids.length);
    const files = [...readTree(out).keys()];
    for (const f of files) {
      expect(path.resolve(out, f).startsWith(out + path.sep)).toBe(true);
      expect(f).not.toMatch(/[\u0000-\u001f]/);
    }
    // every id but '' (which has no course) got its own directory directly under the logs dir
    const courseDirs = new Set(files.filter((f) => f.endsWith('tracklog-2015-03-01.json.gz')).map((f) => path.dirname(f)));
    expect(courseDirs.size).toBe(ids.length - 1 + 1); // + _unknown for ''
    for (const d of courseDirs) expect(d.includes(path.sep)).toBe(false);
    expect(courseDirs.has(courseDirName('META'))).toBe(true);
    expect(courseDirs.has('_unknown')).toBe(true);
  });
});

describe('split: inputs sharing a date, re-runs, changes', () => {
  it('merges prod and edge logs of one date instead of overwriting', async () => {
    const inDir = dir('in');
    const out = dir('out');
    writeGz(path.join(inDir, 'prod-edx-events-2015-03-01.log.gz'), [rawEvent({ user: 'p1' }), rawEvent({ user: 'p2' })].join('\n') + '\n');
    writeGz(path.join(inDir, 'edge-edx-events-2015-03-01.log.gz'), rawEvent({ user: 'e1' }) + '\n');
    await splitLogs([inDir], base(out));
    const users = gunzipLines(path.join(out, 'A__B__C', 'tracklog-2015-03-01.json.gz')).map((l) => JSON.parse(l).username);
    expect(users).toEqual(['e1', 'p1', 'p2']); // inputs in stem order: edge before prod
  });

  it('skips finished inputs, redoes changed ones, and drops courses an input no longer has', async () => {
    const inDir = dir('in');
    const out = dir('out');
    const file = path.join(inDir, 'x-2015-03-01.log');
    fs.writeFileSync(file, [rawEvent({ course: 'A/B/C' }), rawEvent({ course: 'D/E/F' })].join('\n') + '\n');
    const first = await splitLogs([inDir], base(out));
    expect(first.files.done).toBe(1);
    const tree = comparableTree(out);
    const again = await splitLogs([inDir], base(out));
    expect(again.files.skipped).toBe(1);
    expect(again.events).toBe(2);
    expect(comparableTree(out)).toEqual(tree);
    fs.writeFileSync(file, [rawEvent({ course: 'A/B/C', user: 'bob' }), rawEvent({ course: 'A/B/C', user: 'carol' })].join('\n') + '\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const changed = await splitLogs([inDir], base(out));
    expect(changed.files.done).toBe(1);
    expect(changed.perCourse).toEqual({ 'A/B/C': 2 });
    expect(fs.existsSync(path.join(out, 'D__E__F', 'tracklog-2015-03-01.json.gz'))).toBe(false);
    expect(gunzipLines(path.join(out, 'A__B__C', 'tracklog-2015-03-01.json.gz')).map((l) => JSON.parse(l).username)).toEqual(['bob', 'carol']);
    const forced = await splitLogs([inDir], base(out, { force: true }));
    expect(forced.files.done).toBe(1);
  });

  it('refuses an input without a date in its name unless --date is given', async () => {
    const inDir = dir('in');
    const out = dir('out');
    fs.writeFileSync(path.join(inDir, 'undated.log'), rawEvent({}) + '\n');
    const s = await splitLogs([inDir], base(out));
    expect(s.files.failed).toBe(1);
    expect(s.inputs[0]!.error).toMatch(/date/);
    const t = await splitLogs([inDir], base(out, { date: '2015-03-02' }));
    expect(t.files.done).toBe(1);
    expect(fs.existsSync(path.join(out, 'A__B__C', 'tracklog-2015-03-02.json.gz'))).toBe(true);
  });
});

describe('split: determinism', () => {
  it('gives the same bytes for any worker count and chunk size', async () => {
    const inDir = dir('in');
    const lines = manyLines(24_000, ['A/B/C', 'course-v1:D+E+F', 'G/H/I']);
    writeGz(path.join(inDir, 'a-2015-03-01.log.gz'), lines.slice(0, 16_000).join('\n') + '\n');
    fs.writeFileSync(path.join(inDir, 'b-2015-03-02.log'), lines.slice(16_000).join('\n') + '\n');
    const runs: Array<Map<string, string>> = [];
    for (const [workers, chunkSize] of [[1, 1 << 22], [2, 50_000], [2, 777_777], [3, 4096]] as const) {
      const out = dir('det');
      const s = await splitLogs([inDir], base(out, { workers, chunkSize }));
      expect(s.events).toBe(24_000);
      runs.push(comparableTree(out));
    }
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
    // the per-course outputs really are multi-member gzip (> 256 KiB of text per course)
    const abc = [...runs[0]!.keys()].find((k) => k.startsWith('A__B__C/'))!;
    const bytes = Buffer.from(runs[0]!.get(abc)!, 'base64');
    let members = 0;
    for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0x1f && bytes[i + 1] === 0x8b && bytes[i + 2] === 8) members++;
    expect(members).toBeGreaterThan(1);
    expect(zlib.gunzipSync(bytes).toString().split('\n').filter(Boolean).length).toBeGreaterThan(4000);
  });
});

describe('split: damaged input', () => {
  it('keeps what a truncated gzip held, reports it, does not mark it done, and still does the other files', async () => {
    const inDir = dir('in');
    const out = dir('out');
    const lines = manyLines(20_000, ['A/B/C']);
    const gz = zlib.gzipSync(lines.join('\n') + '\n');
    fs.writeFileSync(path.join(inDir, 'cut-2015-03-01.log.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    writeGz(path.join(inDir, 'good-2015-03-01.log.gz'), lines.slice(0, 10).join('\n') + '\n');
    const s = await splitLogs([inDir], base(out));
    const cut = s.inputs.find((i) => i.input.includes('cut-'))!;
    expect(cut.status).toBe('partial');
    expect(cut.error).toMatch(/gzip/);
    expect(cut.events).toBeGreaterThan(1000);
    expect(cut.events).toBeLessThan(20_000);
    expect(cut.events + cut.rejects).toBe(cut.lines);
    expect(s.inputs.find((i) => i.input.includes('good-'))!.status).toBe('done');
    const marker = JSON.parse(fs.readFileSync(path.join(out, 'META', 'cut-2015-03-01.json'), 'utf8'));
    expect(marker.status).toBe('partial');
    // what was read is in the course file, next to the good input's lines
    expect(gunzipLines(path.join(out, 'A__B__C', 'tracklog-2015-03-01.json.gz'))).toHaveLength(cut.events + 10);
    const again = await splitLogs([inDir], base(out));
    expect(again.inputs.find((i) => i.input.includes('cut-'))!.status).toBe('partial'); // tried again, not skipped
    expect(again.inputs.find((i) => i.input.includes('good-'))!.status).toBe('skipped');
  });

  it('reports a corrupt gzip stream clearly', async () => {
    const inDir = dir('in');
    const out = dir('out');
    const gz = Buffer.from(zlib.gzipSync(manyLines(5000, ['A/B/C']).join('\n') + '\n'));
    for (let i = Math.floor(gz.length / 2); i < Math.floor(gz.length / 2) + 64; i++) gz[i] = 0xff - gz[i]!;
    fs.writeFileSync(path.join(inDir, 'bad-2015-03-01.log.gz'), gz);
    const s = await splitLogs([inDir], base(out));
    expect(s.files.partial).toBe(1);
    expect(s.inputs[0]!.error).toMatch(/corrupt or truncated gzip/);
    expect(s.events + s.rejects).toBe(s.lines);
  });
});

describe('split: killed mid-run and restarted', () => {
  it('ends byte-identical to an uninterrupted run', async () => {
    const inDir = dir('in');
    const courses = ['A/B/C', 'course-v1:D+E+F', 'G/H/I', 'J/K/L'];
    for (let d = 1; d <= 6; d++) writeGz(path.join(inDir, `x-2015-03-0${d}.log.gz`), manyLines(30_000, courses, d).join('\n') + '\n');
    const clean = dir('clean');
    await splitLogs([inDir], base(clean));
    const killed = dir('killed');
    const cli = path.resolve('src/cli.ts');
    const child = spawn(process.execPath, [cli, 'split', inDir, '--logs-dir', killed, '--workers', '2', '--no-progress'], { stdio: 'ignore' });
    const metaDir = path.join(killed, 'META');
    const deadline = Date.now() + 60_000;
    // kill once the first input is committed and the second is under way
    const markers = () => (fs.existsSync(metaDir) ? fs.readdirSync(metaDir).filter((n) => n.endsWith('.json')).length : 0);
    while (Date.now() < deadline && markers() < 1) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const markersAtKill = markers();
    expect(markersAtKill).toBeGreaterThanOrEqual(1);
    expect(markersAtKill).toBeLessThan(6); // the kill really landed mid-run
    const s = await splitLogs([inDir], base(killed));
    expect(s.files.skipped).toBe(markersAtKill);
    expect(comparableTree(killed)).toEqual(comparableTree(clean));
  });
});

describe('split on the real edX sample lines', () => {
  it.skipIf(!hasTrackingFixtures)('accounts for every fixture line and keeps every event', async () => {
    const out = dir('fixtures');
    const s = await splitLogs([TRACKING_FIXTURES], base(out, { date: '2014-08-01' }));
    let lines = 0;
    for (const f of fs.readdirSync(TRACKING_FIXTURES)) {
      const text = fs.readFileSync(path.join(TRACKING_FIXTURES, f), 'utf8');
      lines += text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    }
    expect(s.lines).toBe(lines);
    expect(s.events + s.rejects).toBe(lines);
    expect(s.files.done).toBe(fs.readdirSync(TRACKING_FIXTURES).length);
    // the fixtures' only non-JSON lines are comments and blank lines
    const reasons = s.inputs.flatMap((i) => (i.rejects ? gunzipLines(path.join(out, '_rejects', `${i.stem}.jsonl.gz`)).map((l) => JSON.parse(l)) : []));
    for (const r of reasons) expect(r.raw.trim() === '' || r.raw.trim().startsWith('#')).toBe(true);
  });
});

describe('split: a line far longer than any event', () => {
  it('becomes rejects holding every byte of it, and the lines around it still count', async () => {
    const inDir = dir('in');
    const out = dir('out');
    const long = `{"username": "x", "event": "${'é'.repeat(6 * 1024 * 1024)}"}`; // 12 MB of UTF-8
    writeGz(path.join(inDir, 'long-2015-03-01.log.gz'), [rawEvent({ user: 'before' }), long, rawEvent({ user: 'after' })].join('\n') + '\n');
    const s = await splitLogs([inDir], base(out, { chunkSize: 1 << 20 }));
    expect(s.events).toBe(2);
    expect(s.events + s.rejects).toBe(s.lines);
    const rejects = gunzipLines(path.join(out, '_rejects', 'long-2015-03-01.jsonl.gz')).map((l) => JSON.parse(l));
    expect(rejects.length).toBeGreaterThanOrEqual(1);
    // the first piece says why; later pieces of the same cut line are rejects of their own kind
    expect(rejects[0].reason).toMatch(/^line longer than 8 MB/);
    const bytes = Buffer.concat(rejects.map((r) => (r.rawBase64 ? Buffer.from(r.rawBase64, 'base64') : Buffer.from(r.raw, 'utf8'))));
    expect(bytes.equals(Buffer.from(long))).toBe(true);
    const users = gunzipLines(path.join(out, 'A__B__C', 'tracklog-2015-03-01.json.gz')).map((l) => JSON.parse(l).username);
    expect(users).toEqual(['before', 'after']);
  });
});
