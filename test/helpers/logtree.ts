import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `edx2bq-${prefix}-`));
}

/** Every file under `dir` (relative path → bytes), skipping the lock and tmp leftovers. */
export function readTree(dir: string, skip: (rel: string) => boolean = () => false): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (skip(rel)) continue;
      if (e.isDirectory()) walk(p);
      else out.set(rel, fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Output files compared across runs: markers without their finish time, everything else as bytes. */
export function comparableTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [rel, buf] of readTree(dir, (r) => r === '.lock' || r.startsWith('.tmp'))) {
    if (rel.startsWith('META/')) {
      const m = JSON.parse(buf.toString('utf8'));
      delete m.finishedAt;
      out.set(rel, JSON.stringify(m));
    } else out.set(rel, buf.toString('base64'));
  }
  return out;
}

export function gunzipLines(file: string): string[] {
  const text = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

export function writeGz(file: string, text: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, zlib.gzipSync(text));
}

/** A raw event line of the given course (context form), user and time. */
export function rawEvent(o: { course?: unknown; user?: string; time?: string; type?: string; source?: string; extra?: Record<string, unknown> }): string {
  return JSON.stringify({
    username: o.user ?? 'alice',
    event_source: o.source ?? 'server',
    event_type: o.type ?? '/courses/x/y/z/info',
    event: { POST: {}, GET: {} },
    time: o.time ?? '2015-03-01T10:00:00.000000+00:00',
    ip: '10.0.0.1',
    agent: 'test',
    host: 'h',
    page: null,
    context: { course_id: 'course' in o ? (o.course as string | null) : 'A/B/C', user_id: 7, org_id: 'A', path: '/x' },
    ...(o.extra ?? {}),
  });
}
