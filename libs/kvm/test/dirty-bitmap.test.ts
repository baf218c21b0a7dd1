import { describe, expect, it } from 'vitest';
import { DirtyLog } from '../src/index.js';

describe('DirtyLog bitmap', () => {
  it('sizes bitmaps in whole 64-bit longs', () => {
    expect([DirtyLog.bitmapBytes(1), DirtyLog.bitmapBytes(64), DirtyLog.bitmapBytes(65), DirtyLog.bitmapBytes(256)]).toEqual([8, 8, 16, 32]);
  });

  it('reads bit n of the little-endian bitmap as page n', () => {
    const bitmap = new Uint8Array(16);
    bitmap[0] = 0b0100_0001; // pages 0 and 6
    bitmap[9] = 0b1000_0000; // page 79
    bitmap[15] = 0xff; // pages 120..127, beyond a 100-page slot
    const log = new DirtyLog(bitmap, 100);
    expect(log.dirtyPages()).toEqual([0, 6, 79]);
    expect([log.isDirty(6), log.isDirty(7), log.isDirty(120)]).toEqual([true, false, false]);
  });
});
