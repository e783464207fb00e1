import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLogs, type Truth } from '../scripts/generate-logs.ts';
import { splitLogs, type SplitSummary } from '../src/logs/split.ts';
import { courseDirName } from '../src/ids.ts';
import { gunzipLines, tempDir } from './helpers/logtree.ts';

// Generated logs checked against the generator's own truth: counts the generator decided on,
// never counts derived from the code under test.
let root: string;
let truth: Truth;
let summary: SplitSummary;
let logsDir: string;

beforeAll(async () => {
  root = tempDir('gen');
  truth = await generateLogs({ out: path.join(root, 'raw'), courses: 5, learners: 300, days: 3, seed: 11, malformedRate: 0.01 });
  logsDir = path.join(root, 'logs');
  summary = await splitLogs([path.join(root, 'raw')], { logsDir, workers: 2, chunkSize: 200_000, gzipLevel: 1, force: false });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const nonZero = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).filter(([, n]) => n > 0));

describe('split on generated logs', () => {
  it('produces, per input, exactly the counts the generator wrote', () => {
    const files = Object.entries(truth.files);
    expect(summary.inputs).toHaveLength(files.length);
    for (const [name, t] of files) {
      const s = summary.inputs.find((i) => path.basename(i.input) === name)!;
      expect(s.status).toBe('done');
      expect(s.date).toBe(t.date);
      expect(s.lines).toBe(t.lines);
      expect(s.events).toBe(t.events);
      expect(s.rejects).toBe(t.rejects);
      expect(s.unknown).toBe(t.unknown);
      expect(s.perCourse).toEqual(nonZero(t.perCourse));
      expect(s.events + s.rejects).toBe(s.lines);
    }
    expect(summary.rejects).toBeGreaterThan(0);
  });

  it('writes every event to its course file, rewritten to the schema', () => {
    for (const [name, t] of Object.entries(truth.files)) {
      for (const [course, n] of Object.entries(nonZero(t.perCourse))) {
        const rows = gunzipLines(path.join(logsDir, courseDirName(course), `tracklog-${t.date}.json.gz`)).map((l) => JSON.parse(l));
        expect(rows, `${name} ${course}`).toHaveLength(n);
        for (const r of rows) {
          expect(r.course_id).toBe(course);
          expect(typeof r.event).toBe('string');
          expect(typeof r.mongoid).toBe('string');
          expect(Object.keys(r).every((k) => !k.includes('.') && !k.includes('-'))).toBe(true);
        }
        // base events (non-empty username, not /xblock/) as the generator counted them
        const base = rows.filter((r) => r.username !== '' && typeof r.event_type === 'string' && !r.event_type.includes('/xblock/')).length;
        expect(base, `${name} ${course} base events`).toBe(t.baseEvents[course] ?? 0);
      }
      expect(gunzipLines(path.join(logsDir, '_unknown', `tracklog-${t.date}.json.gz`))).toHaveLength(t.unknown);
    }
  });

  it('puts every malformed line in the reject file with its reason', () => {
    for (const [name, t] of Object.entries(truth.files)) {
      const stem = name.replace(/\.log\.gz$/, '');
      const rejects = gunzipLines(path.join(logsDir, '_rejects', `${stem}.jsonl.gz`)).map((l) => JSON.parse(l));
      expect(rejects).toHaveLength(t.rejects);
      const lines = rejects.map((r) => r.line);
      expect(new Set(lines).size).toBe(lines.length);
      expect(Math.max(...lines)).toBeLessThanOrEqual(t.lines);
      expect(rejects.filter((r) => r.reason === 'invalid UTF-8')).toHaveLength(t.malformed.invalidUtf8 ?? 0);
      expect(rejects.filter((r) => r.reason === 'missing time')).toHaveLength(t.malformed.missingTime ?? 0);
      expect(rejects.filter((r) => r.reason === 'empty line')).toHaveLength(t.malformed.empty ?? 0);
    }
  });
});
