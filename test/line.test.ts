import { describe, expect, it } from 'vitest';
import { preprocessLine } from '../src/events/line.ts';

describe('line pre-processing (spec §1.2)', () => {
  it('drops the 26-character syslog prefix of 2012 lines', () => {
    expect(preprocessLine('Sep  9 00:00:48 localhost {"a": 1}')).toBe('{"a": 1}');
    expect(preprocessLine('  Sep  9 00:00:48 localhost {"a": 1}  \r')).toBe('{"a": 1}');
  });
  it('only when "localhost {" lies wholly within the first 27 characters', () => {
    // "localhost {" starting at index 17 ends at 28: outside the first 27 characters
    const later = 'Sep  9 00:00:48  localhost {"a": 1}';
    expect(preprocessLine(later)).toBe(later);
    expect(preprocessLine('{"host": "localhost {"}')).toBe('{"host": "localhost {"}');
    expect(preprocessLine('garbage')).toBe('garbage');
  });
});
