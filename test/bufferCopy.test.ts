import { describe, expect, it } from 'vitest';
import { copyInto } from '../src/bufferCopy.ts';
import { loadAddon } from '../src/events/nativeScan.ts';

describe('copyInto', () => {
  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

  it('copies between shared and plain memory at any offsets, as set() does', () => {
    for (const [targetShared, sourceShared] of [[true, false], [false, true], [true, true], [false, false]] as const) {
      for (const [targetStart, sourceStart, n] of [[0, 0, 1000], [1, 3, 997], [5, 0, 0], [999, 7, 1]] as const) {
        const target = new Uint8Array(targetShared ? new SharedArrayBuffer(1000) : new ArrayBuffer(1000));
        const sourceAll = new Uint8Array(sourceShared ? new SharedArrayBuffer(1010) : new ArrayBuffer(1010));
        sourceAll.set(bytes(1010, 1));
        const source = sourceAll.subarray(sourceStart, sourceStart + n);
        const expected = new Uint8Array(1000);
        expected.set(source, targetStart);
        copyInto(target, targetStart, source);
        expect(Buffer.from(target).equals(Buffer.from(expected))).toBe(true);
      }
    }
  });

  it('handles an overlapping copy within one shared buffer, and refuses one that does not fit', () => {
    const view = new Uint8Array(new SharedArrayBuffer(100));
    view.set(bytes(100, 5));
    const expected = Uint8Array.from(view);
    expected.copyWithin(0, 10, 90);
    copyInto(view, 0, view.subarray(10, 90));
    expect(Buffer.from(view).equals(Buffer.from(expected))).toBe(true);
    expect(() => copyInto(view, 50, new Uint8Array(51))).toThrow(RangeError);
  });

  it.runIf(loadAddon()?.copyBytes !== undefined)('the native copy checks its bounds itself', () => {
    const copyBytes = loadAddon()!.copyBytes!;
    const target = new Uint8Array(new SharedArrayBuffer(10));
    expect(() => copyBytes(target, 11, new Uint8Array(0))).toThrow(RangeError);
    expect(() => copyBytes(target, -1, new Uint8Array(1))).toThrow(RangeError);
    expect(() => copyBytes(target, 5, new Uint8Array(6))).toThrow(RangeError);
    copyBytes(target, 5, Uint8Array.of(1, 2, 3, 4, 5));
    expect([...target]).toEqual([0, 0, 0, 0, 0, 1, 2, 3, 4, 5]);
  });
});
