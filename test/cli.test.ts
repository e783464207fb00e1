import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeWarehouse } from '../src/warehouse/probe.ts';
import { WarehouseLockedError } from '../src/warehouse/warehouse.ts';
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

  it('person-day stops before the pass when another process holds the warehouse, and runs once it is free', async () => {
    const d = tempDir('cli-lock');
    dirs.push(d);
    writeGz(path.join(d, 'in', 'x-2015-03-01.log.gz'), [rawEvent({}), rawEvent({ user: 'bob' })].join('\n') + '\n');
    const warehouse = path.join(d, 'wh.duckdb');
    const args = ['person-day', path.join(d, 'in'), '--logs-dir', path.join(d, 'logs'), '--warehouse', warehouse];
    // another process writes to the warehouse and keeps it open
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `
      import { DuckDBInstance } from '@duckdb/node-api';
      const db = await DuckDBInstance.create(process.argv[1]);
      await (await db.connect()).run('CREATE TABLE held (x INTEGER)');
      console.log('ready');
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));`, warehouse], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
        holder.once('exit', (code) => reject(new Error(`the lock holder stopped (${code})`)));
      });
      await expect(probeWarehouse(warehouse)).rejects.toBeInstanceOf(WarehouseLockedError);
      const locked = run(args);
      expect(locked.status).not.toBe(0);
      expect(locked.stderr).toMatch(/in use by another process/);
      expect(fs.existsSync(path.join(d, 'logs', '_parts'))).toBe(false); // the pass never started
    } finally {
      holder.stdin.end();
      await new Promise((r) => holder.once('close', r));
    }
    await probeWarehouse(warehouse);
    const free = run(args);
    expect(free.status).toBe(0);
    expect(free.stdout).toMatch(/person_course_day/);
    expect(fs.existsSync(path.join(d, 'logs', '_parts'))).toBe(true);
  });
});
