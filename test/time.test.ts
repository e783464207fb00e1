import { describe, expect, it } from 'vitest';
import { daysFromCivil, parseTimeMicros, utcDateOfMicros } from '../src/events/time.ts';

// Expected values are computed by hand: 2015-02-10 is day 16476 since 1970-01-01
// (45 years × 365 + 11 leap days (1972..2012) = 16436, + Jan 31 + 9 days = 16476).
const DAY_2015_02_10 = 16476;
const AT_051708 = (DAY_2015_02_10 * 86400 + 5 * 3600 + 17 * 60 + 8) * 1_000_000;

describe('parseTimeMicros (spec §1.4)', () => {
  it('knows its calendar', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2015, 2, 10)).toBe(DAY_2015_02_10);
    expect(daysFromCivil(2000, 3, 1)).toBe(11017); // 30 years × 365 + 7 leap days + 59 (Jan+Feb 2000, leap)
  });

  it.each([
    ['2015-02-10T05:17:08.011728+00:00', AT_051708 + 11728],
    ['2015-02-10T05:17:08+00:00', AT_051708],
    ['2015-02-10T05:17:08', AT_051708],
    ['2015-02-10 05:17:08', AT_051708],
    ['2015-02-10T05:17:08Z', AT_051708],
    ['2015-02-10T05:17:08.5Z', AT_051708 + 500000],
    ['2015-02-10T05:17:08.', AT_051708],
    ['2015-02-10T05:17:08.123456789+00:00', AT_051708 + 123456],
    ['2015-02-10T05:17:08.011728+0000', AT_051708 + 11728],
    ['2015-02-10T06:17:08+01:00', AT_051708],
    ['2015-02-10T00:17:08-05:00', AT_051708],
    ['2015-02-10T00:47:08-0430', AT_051708],
  ])('%s', (s, us) => {
    expect(parseTimeMicros(s)).toBe(us);
  });

  it('puts …T23:30:00-05:00 on the next UTC day (invariant 10)', () => {
    expect(utcDateOfMicros(parseTimeMicros('2015-02-10T23:30:00-05:00'))).toBe('2015-02-11');
    expect(utcDateOfMicros(parseTimeMicros('2015-02-10T23:59:59.999999+00:00'))).toBe('2015-02-10');
    expect(utcDateOfMicros(parseTimeMicros('1969-12-31T23:59:59.5Z'))).toBe('1969-12-31');
  });

  it.each([
    '', 'not-a-time', '2015-02-10', '2015-02-10T05:17', '2015-13-10T05:17:08', '2015-02-30T05:17:08',
    '2015-02-29T00:00:00', '2015-02-10T24:00:00', '2015-02-10T05:60:08', '2015-02-10T05:17:61',
    '2015-02-10X05:17:08', '2015-02-10T05:17:08+00', '2015-02-10T05:17:08+0:00', '2015-02-10T05:17:08 +00:00',
    '2015-02-10T05:17:08.1234567890Z', '2015-02-10T05:17:08Zjunk', '2015-02-10T05:17:08+25:00', '20150210T051708',
    '2015-2-10T05:17:08',
  ])('rejects %j', (s) => {
    expect(parseTimeMicros(s)).toBeNaN();
  });

  it('accepts 29 February of a leap year only', () => {
    expect(parseTimeMicros('2016-02-29T00:00:00')).toBe(daysFromCivil(2016, 2, 29) * 86400e6);
    expect(parseTimeMicros('2000-02-29T00:00:00')).not.toBeNaN();
    expect(parseTimeMicros('1900-02-29T00:00:00')).toBeNaN();
  });
});
