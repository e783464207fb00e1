/**
 * Copies between byte arrays when one lies in a SharedArrayBuffer (the chunk rings,
 * src/logs/chunkRing.ts). V8 copies shared memory with relaxed atomics, byte by byte when the
 * two offsets are not aligned alike: ~3.4 GB/s, which cost split ~0.6 CPU-s per 1M events for
 * its rows. The native addon's memmove does it at memory speed; without the addon, set().
 */
import { loadAddon } from './events/nativeScan.ts';

const copyBytes = loadAddon()?.copyBytes;

export function copyInto(target: Uint8Array, targetStart: number, source: Uint8Array): void {
  if (copyBytes !== undefined && (target.buffer instanceof SharedArrayBuffer || source.buffer instanceof SharedArrayBuffer)) copyBytes(target, targetStart, source);
  else target.set(source, targetStart);
}
