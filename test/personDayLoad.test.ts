/**
 * person-day end to end on hand-made logs: split (or --no-split) → facts → warehouse. Every
 * expected value is worked out by hand from spec tracking-logs.md §5 (REC) in the comments.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFacts } from '../src/aggregate/loadFacts.ts';
import { splitLogs } from '../src/logs/split.ts';
import { openDuckDBWarehouse } from '../src/warehouse/duckdb.ts';
import type { OutputValue } from '../src/warehouse/warehouse.ts';
import { rawEvent, tempDir, writeGz } from './helpers/logtree.ts';

const MIT = 'MITx/6.00x/2015';
const HX = 'course-v1:HarvardX+CS50+X';
const ev = (user: string, time: string, type: string, o: { course?: string; ip?: string } = {}) =>
  rawEvent({ user, time: `2015-03-0${time}+00:00`, type, course: o.course ?? MIT, extra: { ip: o.ip ?? '10.0.0.1' } });

/** The three inputs: prod and edge logs of 03-01 (interleaved), and 03-02 with a late event of 03-01. */
const INPUTS: Record<string, string[]> = {
  'prod-2015-03-01.log.gz': [
    ev('alice', '1T23:58:00', 'play_video'),
    ev('alice', '1T23:59:00', `/courses/${MIT}/progress`),
    ev('alice', '1T23:59:30', `/courses/${MIT}/xblock/block-v1:MITx+6.00x+2015+type@problem+block@p1/handler/xmodule_handler/problem_get`, { ip: '10.0.0.2' }), // not a base event
    ev('bob', '1T10:00:00', 'problem_check'),
    ev('bob', '1T10:05:00', 'seq_goto'), // exactly 300 s after 10:00:00: kept
    ev('bob', '1T10:10:01', `/courses/${MIT}/discussion/forum`), // 301 s: dropped
    ev('', '1T10:00:00', 'seq_goto'), // empty username: not a base event
    ev('carol', '1T12:00:00', `/courses/${HX}/progress`, { course: HX }),
    ev('carol', '1T12:01:00', `/courses/${HX}/discussion/threads/t1/reply`, { course: HX }),
  ],
  'edge-2015-03-01.log.gz': [
    ev('alice', '1T23:58:30', 'seek_video'),
    ev('bob', '1T10:00:00', 'show_answer'), // simultaneous with prod's 10:00:00: a gap of 0
  ],
  'prod-2015-03-02.log.gz': [
    ev('alice', '1T23:59:50', 'pause_video'), // late arrival: belongs to 03-01
    ev('alice', '2T00:01:00', 'seq_goto'), // 70 s after 23:59:50, across midnight
    ev('alice', '2T00:02:30', 'seq_goto'), // 90 s
  ],
};

function writeInputs(dir: string, names = Object.keys(INPUTS), override: Record<string, string[]> = {}): void {
  for (const name of names) writeGz(path.join(dir, name), [...(override[name] ?? INPUTS[name]!)].join('\n') + '\n');
}

const dirs: string[] = [];
function scratch(): { inDir: string; logsDir: string; warehouse: string } {
  const root = tempDir('pday');
  dirs.push(root);
  return { inDir: path.join(root, 'in'), logsDir: path.join(root, 'logs'), warehouse: path.join(root, 'wh.duckdb') };
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function personDay(s: { logsDir: string; warehouse: string }, inputs: string[], o: { noSplit?: boolean; force?: boolean; chunkSize?: number } = {}) {
  const split = inputs.length ? await splitLogs(inputs, { logsDir: s.logsDir, workers: 2, chunkSize: o.chunkSize ?? 1 << 20, gzipLevel: 1, force: Boolean(o.force), writeLogs: !o.noSplit, collectFacts: true }) : null;
  const wh = await openDuckDBWarehouse(s.warehouse);
  try {
    const load = await loadFacts({ logsDir: s.logsDir, warehouse: wh, command: 'person-day' });
    return { split, load };
  } finally {
    await wh.close();
  }
}

async function q(warehouse: string, sql: string): Promise<Record<string, OutputValue>[]> {
  const wh = await openDuckDBWarehouse(warehouse, { readOnly: true });
  try {
    const r = await wh.query(sql);
    return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]!])));
  } finally {
    await wh.close();
  }
}

const PCDAY_SQL = `SELECT username, course_id, strftime(date, '%Y-%m-%d') AS date, nevents, nprogcheck, nshow_answer, nvideo, nproblem_check, nforum,
  nseq_goto, nseek_video, npause_video, strftime(first_event, '%H:%M:%S') AS first, strftime(last_event, '%H:%M:%S') AS last,
  n_dt, sum_dt, max_dt, avg_dt, sdv_dt FROM MITx__6_00x__2015.person_course_day ORDER BY date, username`;

/** Hand-computed person_course_day of MITx/6.00x/2015 for the three inputs. */
const EXPECTED_MIT = [
  // bob 03-01: 10:00:00 ×2 (prod problem_check, edge show_answer), 10:05:00, 10:10:01 → gaps 0, 300 kept, 301 dropped.
  // sample SD of [0, 300]: mean 150, (150² + 150²) / 1 = 45000 → √45000
  { username: 'bob', date: '2015-03-01', nevents: 4, nprogcheck: 0, nshow_answer: 1, nvideo: 0, nproblem_check: 1, nforum: 1, nseq_goto: 1, nseek_video: 0, npause_video: 0, first: '10:00:00', last: '10:10:01', n_dt: 2, sum_dt: 300, max_dt: 300, avg_dt: 150, sdv: Math.sqrt(45000) },
  // alice 03-01: 23:58:00, 23:58:30 (edge), 23:59:00, 23:59:50 (from the 03-02 file); the xblock event is not a base event
  // → gaps 30, 30, 50: mean 110/3, SD √(((30−110/3)²·2 + (50−110/3)²) / 2) = √(133.33…)
  { username: 'alice', date: '2015-03-01', nevents: 4, nprogcheck: 1, nshow_answer: 0, nvideo: 1, nproblem_check: 0, nforum: 0, nseq_goto: 0, nseek_video: 1, npause_video: 1, first: '23:58:00', last: '23:59:50', n_dt: 3, sum_dt: 110, max_dt: 50, avg_dt: 110 / 3, sdv: Math.sqrt(400 / 3) },
  // alice 03-02: 00:01:00 (70 s after 23:59:50, across midnight and files), 00:02:30 (90 s) → SD of [70, 90] = √200
  { username: 'alice', date: '2015-03-02', nevents: 2, nprogcheck: 0, nshow_answer: 0, nvideo: 0, nproblem_check: 0, nforum: 0, nseq_goto: 2, nseek_video: 0, npause_video: 0, first: '00:01:00', last: '00:02:30', n_dt: 2, sum_dt: 160, max_dt: 90, avg_dt: 80, sdv: Math.sqrt(200) },
].sort((a, b) => (a.date + a.username < b.date + b.username ? -1 : 1));

function expectMitRows(rows: Record<string, OutputValue>[]): void {
  expect(rows).toHaveLength(EXPECTED_MIT.length);
  rows.forEach((r, i) => {
    const { sdv, avg_dt, ...exact } = EXPECTED_MIT[i]!;
    expect(r).toMatchObject({ ...exact, course_id: MIT });
    expect(r.avg_dt as number).toBeCloseTo(avg_dt, 9);
    expect(r.sdv_dt as number).toBeCloseTo(sdv, 9);
  });
}

describe('person-day: person_course_day from hand-made logs (spec §5, REC)', () => {
  it('computes every column exactly across files, midnight, duplicates and the cutoff; both course id forms', async () => {
    const s = scratch();
    writeInputs(s.inDir);
    const { split, load } = await personDay(s, [s.inDir]);
    expect(split!.files.done).toBe(3);
    expect(load.courses.map((c) => c.course)).toEqual(['HarvardX/CS50/X', MIT]);
    expectMitRows(await q(s.warehouse, PCDAY_SQL));
    // course-v1 course: progress and discussion URLs count in the opaque form too (REC)
    const hx = await q(s.warehouse, 'SELECT username, nevents, nprogcheck, nforum, n_dt, sum_dt, sdv_dt FROM HarvardX__CS50__X.person_course_day');
    expect(hx).toEqual([{ username: 'carol', nevents: 2, nprogcheck: 1, nforum: 1, n_dt: 1, sum_dt: 60, sdv_dt: null }]);
    // IP counts include /xblock/ events, exclude empty usernames (spec §9.1)
    const ips = await q(s.warehouse, `SELECT username, ip, strftime(date, '%Y-%m-%d') AS date, ipcount FROM MITx__6_00x__2015.pcday_ip_counts ORDER BY ALL`);
    expect(ips).toEqual([
      { username: 'alice', ip: '10.0.0.1', date: '2015-03-01', ipcount: 4 },
      { username: 'alice', ip: '10.0.0.1', date: '2015-03-02', ipcount: 2 },
      { username: 'alice', ip: '10.0.0.2', date: '2015-03-01', ipcount: 1 },
      { username: 'bob', ip: '10.0.0.1', date: '2015-03-01', ipcount: 4 },
    ]);
    // provenance: every loaded and derived table records what made it
    const prov = await q(s.warehouse, `SELECT DISTINCT table_name, command, inputs FROM main._edx2bq WHERE schema_name = 'MITx__6_00x__2015' ORDER BY 1`);
    expect(prov.map((p) => p.table_name)).toEqual(expect.arrayContaining(['person_course_day', 'pcday_intraday', 'pcday_ip_counts', 'video_stats_day', 'forum_events', 'enrollment_events', 'person_enrollment_verified', 'pcday_trlang_counts']));
    expect(new Set(prov.map((p) => p.command))).toEqual(new Set(['person-day']));
    const pcdayInputs = prov.find((p) => p.table_name === 'pcday_intraday')!.inputs as string;
    expect(JSON.parse(pcdayInputs).map((f: string) => path.basename(f)).sort()).toEqual(Object.keys(INPUTS).sort());
  });

  it('gives the same rows when every line is a chunk of its own (events spread over chunks and workers)', async () => {
    for (const noSplit of [false, true]) {
      const s = scratch();
      writeInputs(s.inDir);
      await personDay(s, [s.inDir], { chunkSize: 1, noSplit });
      expectMitRows(await q(s.warehouse, PCDAY_SQL));
    }
  });

  it('re-running loads nothing and duplicates nothing; --force reloads to the same rows', async () => {
    const s = scratch();
    writeInputs(s.inDir);
    await personDay(s, [s.inDir]);
    const before = await q(s.warehouse, PCDAY_SQL);
    const again = await personDay(s, [s.inDir]);
    expect(again.split!.files.skipped).toBe(3);
    expect(again.load.courses).toEqual([]);
    expect(await q(s.warehouse, PCDAY_SQL)).toEqual(before);
    const forced = await personDay(s, [s.inDir], { force: true });
    expect(forced.load.courses.length).toBe(2);
    expect(await q(s.warehouse, PCDAY_SQL)).toEqual(before);
    const counts = await q(s.warehouse, 'SELECT count(*) AS n FROM MITx__6_00x__2015.pcday_intraday');
    expect(counts[0]!.n).toBe(3);
  });

  it('gives the same rows whatever the order the inputs arrive in (a later file completing an earlier day)', async () => {
    const s = scratch();
    writeInputs(s.inDir, ['prod-2015-03-02.log.gz']);
    await personDay(s, [s.inDir]);
    // alone, 03-02's file gives a 03-01 row of one event, and 03-02 still gets its cross-midnight gap
    const partial = await q(s.warehouse, PCDAY_SQL);
    expect(partial.map((r) => [r.username, r.date, r.nevents, r.n_dt])).toEqual([['alice', '2015-03-01', 1, 0], ['alice', '2015-03-02', 2, 2]]);
    writeInputs(s.inDir, ['edge-2015-03-01.log.gz']);
    await personDay(s, [s.inDir]);
    writeInputs(s.inDir, ['prod-2015-03-01.log.gz']);
    await personDay(s, [s.inDir]);
    expectMitRows(await q(s.warehouse, PCDAY_SQL));
  });

  it('--no-split gives the same tables without writing per-course logs; a changed input updates its days', async () => {
    const a = scratch();
    const b = scratch();
    writeInputs(a.inDir);
    writeInputs(b.inDir);
    await personDay(a, [a.inDir]);
    await personDay(b, [b.inDir], { noSplit: true });
    expect(fs.existsSync(path.join(b.logsDir, 'MITx__6.00x__2015'))).toBe(false);
    expect(fs.existsSync(path.join(a.logsDir, 'MITx__6.00x__2015'))).toBe(true);
    for (const table of ['person_course_day', 'pcday_ip_counts', 'video_stats_day', 'forum_events', 'problem_check', 'show_answer', 'enrollment_events', 'transcript_events']) {
      const sql = `SELECT * FROM MITx__6_00x__2015.${table} ORDER BY ALL`;
      expect(await q(b.warehouse, sql), table).toEqual(await q(a.warehouse, sql));
    }
    // the edge file loses bob's simultaneous event: only bob's 03-01 row changes
    const edge = path.join(b.inDir, 'edge-2015-03-01.log.gz');
    writeInputs(b.inDir, ['edge-2015-03-01.log.gz'], { 'edge-2015-03-01.log.gz': [INPUTS['edge-2015-03-01.log.gz']![0]!] });
    fs.utimesSync(edge, new Date(), new Date(Date.now() + 5000));
    await personDay(b, [b.inDir], { noSplit: true });
    const rows = await q(b.warehouse, PCDAY_SQL);
    const bob = rows.find((r) => r.username === 'bob')!;
    // 10:00:00, 10:05:00, 10:10:01 → gap 300 kept, 301 dropped
    expect(bob).toMatchObject({ nevents: 3, nshow_answer: 0, n_dt: 1, sum_dt: 300, sdv_dt: null });
    expect(rows.filter((r) => r.username === 'alice')).toEqual((await q(a.warehouse, PCDAY_SQL)).filter((r) => r.username === 'alice'));
    // and a later plain split of the same inputs writes their logs (the facts are kept)
    const split = await splitLogs([b.inDir], { logsDir: b.logsDir, workers: 1, chunkSize: 1 << 20, gzipLevel: 1, force: false });
    expect(split.files.done).toBe(3);
    expect(fs.existsSync(path.join(b.logsDir, 'MITx__6.00x__2015', 'tracklog-2015-03-01.json.gz'))).toBe(true);
    const again = await personDay(b, [b.inDir], { noSplit: true });
    expect(again.split!.files.skipped).toBe(3);
  });
});
