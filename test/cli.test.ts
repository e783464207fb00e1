import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rawEvent, tempDir, writeGz } from './helpers/logtree.ts';

const BIN = path.resolve('bin/edx2bq.js');
const run = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('edx2bq command line', () => {
  it('answers --help for the program and each command', () => {
    const top = run(['--help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/split/);
    expect(top.stdout).toMatch(/rephrase/);
    const split = run(['split', '--help']);
    expect(split.status).toBe(0);
    expect(split.stdout).toMatch(/--logs-dir/);
    expect(split.stdout).toMatch(/_rejects/);
    expect(run(['rephrase', '--help']).stdout).toMatch(/line for line/);
  });

  it('rephrase: line for line, bad lines on stderr with their number', () => {
    const input = [rawEvent({ course: 'course-v1:X+Y+Z' }), '{broken', rawEvent({ user: 'bob' })].join('\n') + '\n';
    const r = run(['rephrase'], input);
    expect(r.status).toBe(1);
    const out = r.stdout.split('\n');
    expect(out).toHaveLength(4); // three lines and the final newline
    expect(JSON.parse(out[0]!).course_id).toBe('X/Y/Z');
    expect(out[1]).toBe('');
    expect(JSON.parse(out[2]!).username).toBe('bob');
    expect(r.stderr).toMatch(/^line 2: bad JSON/m);
  });

  it('split --json prints a summary, and exits 2 on bad usage', () => {
    const d = tempDir('cli');
    dirs.push(d);
    writeGz(path.join(d, 'in', 'x-2015-03-01.log.gz'), [rawEvent({}), 'junk'].join('\n') + '\n');
    const r = run(['split', path.join(d, 'in'), '--logs-dir', path.join(d, 'out'), '--json']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ lines: 2, events: 1, rejects: 1, perCourse: { 'A/B/C': 1 } });
    expect(run(['split', path.join(d, 'missing')]).status).toBe(2);
    expect(run(['split', path.join(d, 'in'), '--workers', 'zero']).status).not.toBe(0);
    const bad = run(['split', path.join(d, 'in'), '--gzip-level', '12', '--logs-dir', path.join(d, 'o2')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/gzipLevel/);
  });
});
