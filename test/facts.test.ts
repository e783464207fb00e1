/**
 * The facts columns: merging batches with different string tables, and the per-date rows computed
 * from several inputs' facts. Expected values are worked out by hand.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addEventFacts, FactsBuilder, NULL_STRING, VIDEO_TYPES } from '../src/aggregate/facts.ts';
import { decodeFacts, decodeRecord, encodeFacts, factsRecords, FactsFileError, FactsWriter, readFactsFile } from '../src/aggregate/factsFile.ts';
import { ipCountRows, pcdayIntradayRows, videoStatsDayRows } from '../src/aggregate/tables.ts';
import { MICROS_PER_DAY, parseTimeMicros } from '../src/events/time.ts';
import { tempDir } from './helpers/logtree.ts';

const C = 'A/B/C';
const t = (s: string) => parseTimeMicros(`2015-03-${s}Z`);
const day = (d: string) => Math.floor(t(`${d}T00:00:00`) / MICROS_PER_DAY);
const type = (x: (typeof VIDEO_TYPES)[number]) => VIDEO_TYPES.indexOf(x);

describe('FactsBuilder.merge', () => {
  it('re-interns strings: the same learner from two batches is one learner; null stays null', () => {
    const a = new FactsBuilder(C);
    a.addIp(a.intern('bob'), a.intern('1.1.1.1'), day('01'));
    a.addIp(a.intern('alice'), NULL_STRING, day('01'));
    const b = new FactsBuilder(C);
    b.addIp(b.intern('alice'), NULL_STRING, day('01')); // alice is index 0 here, 1 in a
    b.addIp(b.intern('alice'), b.intern('1.1.1.1'), day('01'));
    const merged = new FactsBuilder(C);
    merged.merge(a.build());
    merged.merge(b.build());
    const rows = ipCountRows({ course: C, days: new Set([day('01')]), facts: [merged.build()] });
    expect(rows.sort()).toEqual(
      [
        ['alice', '1.1.1.1', '2015-03-01', 1, C],
        ['alice', null, '2015-03-01', 2, C],
        ['bob', '1.1.1.1', '2015-03-01', 1, C],
      ].sort(),
    );
  });
});

describe('per-date rows from several inputs', () => {
  it('video_stats_day: highest position and speed, counts per type, seeks make no rows, only the asked dates', () => {
    const prod = new FactsBuilder(C);
    const edge = new FactsBuilder(C);
    const v = (f: FactsBuilder, user: string, video: string | null, time: string, ty: (typeof VIDEO_TYPES)[number], pos: number, speed: number) =>
      f.addVideo(f.intern(user), f.intern(video), t(time), type(ty), pos, speed);
    v(prod, 'alice', 'v1', '01T10:00:00', 'play', 10, 1);
    v(edge, 'alice', 'v1', '01T10:01:00', 'pause', 42.5, NaN); // edge log, same learner-video-day
    v(prod, 'alice', 'v1', '01T10:02:00', 'stop', NaN, 1.5);
    v(prod, 'alice', 'v1', '01T10:03:00', 'seek', 500, 2); // a seek: no effect
    v(prod, '', null, '01T11:00:00', 'play', NaN, NaN); // empty username and null id are kept (§7.2)
    v(prod, 'alice', 'v1', '02T10:00:00', 'play', 1, 1); // another date, not asked for
    const rows = videoStatsDayRows({ course: C, days: new Set([day('01')]), facts: [prod.build(), edge.build()] });
    expect(rows.sort()).toEqual(
      [
        ['2015-03-01', 'alice', 'v1', 42.5, 1, 1, 1, 1.5, C],
        ['2015-03-01', '', null, null, 1, 0, 0, null, C],
      ].sort(),
    );
  });

  it('pcday_intraday: events of one learner-day from two inputs interleave in time; gaps stay within the day', () => {
    const prod = new FactsBuilder(C);
    const edge = new FactsBuilder(C);
    prod.addBase(prod.intern('alice'), t('01T23:59:00'), 0);
    edge.addBase(edge.intern('alice'), t('01T23:59:10'), 0);
    prod.addBase(prod.intern('alice'), t('01T23:59:40'), 0);
    prod.addBase(prod.intern('alice'), t('02T00:00:20'), 0); // next day: its own row, no gap here
    const rows = pcdayIntradayRows({ course: C, days: new Set([day('01'), day('02')]), facts: [prod.build(), edge.build()] });
    const byDate = Object.fromEntries(rows.map((r) => [r[2], r]));
    // 03-01: gaps 10, 30 → n 2, Σ 40, Σ² 1000, max 30; first/last in µs
    expect(byDate['2015-03-01']!.slice(-6)).toEqual([t('01T23:59:00'), t('01T23:59:40'), 2, 40, 1000, 30]);
    // 03-02: one event, the 40 s gap from 23:59:40 is added later, in SQL
    expect(byDate['2015-03-02']!.slice(-6)).toEqual([t('02T00:00:20'), t('02T00:00:20'), 0, null, null, null]);
  });
});

describe('facts records', () => {
  const batch = (course: string, user: string) => {
    const b = new FactsBuilder(course);
    addEventFacts(b, { username: user, eventType: 'seq_goto', eventSource: 'browser', ip: '8.8.8.8' }, parseTimeMicros('2015-03-01T10:00:00Z'), 0, null);
    return b.build();
  };

  it('name their course in the head, so a course can be decoded alone; the body must agree with the head', () => {
    const courses = ['MITx/6.002x/2013_Spring', 'course-with-ünïcödé/x/y', 'MITx/6.002x/2013_Spring'];
    const encoded = encodeFacts(courses.map((c, i) => batch(c, `u${i}`)));
    const records = factsRecords(encoded.bytes);
    expect(records.map((r) => r.course)).toEqual(courses);
    const decoded = records.map(decodeRecord);
    expect(decoded.map((f) => f.course)).toEqual(courses);
    expect(decoded.map((f) => f.strings.includes(`u${decoded.indexOf(f)}`))).toEqual([true, true, true]);
    expect(decodeFacts(encoded.bytes)).toEqual(decoded);

    // a head that names another course than its body is refused
    const wrongHead = { ...records[1]!, course: 'MITx/other/run' };
    expect(() => decodeRecord(wrongHead)).toThrow(FactsFileError);
    // a record cut short is refused
    expect(() => factsRecords(encoded.bytes.subarray(0, encoded.bytes.length - 1))).toThrow(/truncated facts/);
  });

  it('keep every column value through the raw-bytes body: base, IP, video, and the event rows', () => {
    const b = new FactsBuilder(C);
    const alice = b.intern('alice');
    const bob = b.intern('bob');
    b.addBase(alice, t('01T10:00:00.123456'), 0x1234);
    b.addBase(bob, t('02T23:59:59.999999'), 0xffff);
    b.addIp(alice, b.intern('10.0.0.1'), day('01'), 3);
    b.addIp(bob, NULL_STRING, day('02'));
    b.addVideo(alice, b.intern('vid-1'), t('01T10:00:05'), type('seek'), 12.5, NaN);
    b.addVideo(bob, b.intern('vid-2'), t('02T11:00:00'), type('play'), NaN, 1.5);
    b.forum.push({ username: 'alice', timeUs: t('01T10:01:00'), forum_action: 'created_thread' } as never);
    b.addDay(day('01'));
    b.addDay(day('02'));
    const [f] = decodeFacts(encodeFacts([b.build()]).bytes);
    expect(f!.strings).toEqual(['alice', 'bob', '10.0.0.1', 'vid-1', 'vid-2']);
    expect([...f!.base.user]).toEqual([0, 1]);
    expect([...f!.base.time]).toEqual([t('01T10:00:00.123456'), t('02T23:59:59.999999')]);
    expect([...f!.base.flags]).toEqual([0x1234, 0xffff]);
    expect(f!.base.time).toBeInstanceOf(Float64Array);
    expect(f!.base.flags).toBeInstanceOf(Uint16Array);
    // IP rows by day, then as added; a null IP stays null
    expect([...f!.ip.user]).toEqual([0, 1]);
    expect([...f!.ip.ip]).toEqual([2, NULL_STRING]);
    expect([...f!.ip.day]).toEqual([day('01'), day('02')]);
    expect([...f!.ip.count]).toEqual([3, 1]);
    expect([...f!.video.video]).toEqual([3, 4]);
    expect([...f!.video.type]).toEqual([type('seek'), type('play')]);
    expect([...f!.video.position]).toEqual([12.5, NaN]);
    expect([...f!.video.speed]).toEqual([NaN, 1.5]);
    expect(f!.forum).toEqual([{ username: 'alice', timeUs: t('01T10:01:00'), forum_action: 'created_thread' }]);
    expect(f!.days).toEqual([day('01'), day('02')]);

    // a body whose columns are cut short is refused
    const [r] = factsRecords(encodeFacts([b.build()]).bytes);
    expect(() => decodeRecord({ ...r!, body: r!.body.subarray(0, r!.body.length - 1) })).toThrow(FactsFileError);
    expect(() => decodeRecord({ ...r!, body: Buffer.concat([r!.body, Buffer.from([0])]) })).toThrow(/bytes after the columns/);
  });
});

describe('FactsWriter', () => {
  it('writes every batch once, in order, whatever their sizes against its block; an empty writer leaves an empty facts file', async () => {
    const dir = tempDir('factswriter');
    try {
      // batches of a few bytes up to several times the 4 MB block
      const sizes = [10, 3_000_000, 200, 9_000_000, 1_500_000, 2_600_000, 1, 0];
      const batches = sizes.map((n, i) => {
        const b = new FactsBuilder(`C/${i}/x`);
        for (let k = 0; k < n / 14; k++) b.addBase(b.intern(`u${k % 7}`), k, 1);
        return encodeFacts([b.build()]);
      });
      const file = path.join(dir, 'facts.v8');
      const w = new FactsWriter(file);
      for (const b of batches) await w.add(b);
      const days = await w.close();
      expect(days).toEqual({});
      const back = await readFactsFile(file);
      expect(back.map((f) => f.course)).toEqual(sizes.map((_, i) => `C/${i}/x`));
      expect(back.map((f) => f.base.user.length)).toEqual(batches.map((b) => decodeFacts(b.bytes)[0]!.base.user.length));
      const empty = path.join(dir, 'empty.v8');
      await new FactsWriter(empty).close();
      expect(await readFactsFile(empty)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
