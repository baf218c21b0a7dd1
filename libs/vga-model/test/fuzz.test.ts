import { describe, expect, it } from 'vitest';
import type { AccessSize } from '@quasivm/device-sdk';
import { makeVga } from './helpers.js';

/** xorshift32: a seeded generator so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

describe('garbage fuzz', () => {
  it('never throws on 1,000,000 random port and memory accesses, and memory stays bounded', () => {
    const { vga } = makeVga({ vbeMemorySize: 8 << 20, mmio: true, mmioBase: 0xfebf0000, optionRom: new Uint8Array(3000).fill(0x55) });
    const next = rng(0xc0ffee);
    const sizes = [1, 2, 4, 1, 2, 4, 0, 3, 8] as AccessSize[];
    const pick = <T,>(xs: T[]) => xs[next() % xs.length];
    const port = () => {
      const r = next() % 16;
      if (r < 10) return 0x3b0 + (next() % 0x30);
      if (r < 14) return 0x1ce + (next() % 2);
      return next() & 0xffff;
    };
    const addr = () => {
      const r = next() % 10;
      if (r < 5) return 0xa0000 + (next() % 0x20000);
      if (r < 7) return 0xe0000000 + (next() % (9 << 20));
      if (r < 8) return 0xfebf0000 + (next() % 0x1000);
      return next();
    };
    const value = () => {
      const r = next() % 8;
      if (r === 0) return next() * 4; // beyond 32 bits
      if (r === 1) return -(next() % 1000);
      if (r === 2) return pick([0xb0c0, 0xb0c5, 0x41, 0xc1, 0xffff, 0x0802, 0x4005]);
      return next();
    };
    const INDEX_PORTS = [0x1ce, 0x3c4, 0x3ce, 0x3d4, 0x3b4, 0x3c0];
    const seen = new Set<string>();
    let now = 0;
    let renders = 0;
    for (let i = 0; i < 1_000_000; i++) {
      now += next() % 5000;
      const op = next() % 10;
      const size = pick(sizes);
      if (op < 4) {
        const p = port();
        // Index registers mostly get small values so the fuzz reaches real registers.
        const v = INDEX_PORTS.includes(p) && next() % 2 ? next() % 24 : value();
        vga.ioWrite(p, p === 0x1ce || p === 0x1cf ? (next() % 8 ? 2 : size) : size, v, now);
      }
      else if (op < 6) vga.ioRead(port(), size, now);
      else if (op < 8) vga.memWrite(addr(), size, value(), now);
      else if (op < 9) vga.memRead(addr(), size, now);
      else if (next() % 64 === 0) vga.configWrite(next() % 260, size, value());
      else vga.configRead(next() % 260, size);
      if (i % 1000 === 0) seen.add(vga.displayMode().kind);
      if (i % 1000 === 0) seen.add(vga.windowMode().mapping);
      if (i % 25_000 === 0) {
        const f = vga.render(now);
        expect(f.rgba.length).toBe(f.width * f.height * 4);
        vga.screenText();
        renders++;
      }
    }
    expect(renders).toBe(40);
    // The fuzz got around: VBE and VGA display kinds, direct and trapped windows.
    for (const k of ['vbe', 'text', 'vbe-bank', 'planar']) expect(seen, [...seen].join()).toContain(k);
    const mem = vga.vbe.peekMemory();
    expect(mem === null || mem.length === 8 << 20).toBe(true);
    const c = vga.counters;
    expect(c.badWidth + c.unknownPort + c.unknownRegister + c.refusedVbe + c.unmappedMemory).toBeGreaterThan(1000);
    // The state is still well-formed and round-trips.
    const s = vga.saveState();
    const { vga: other } = makeVga({ vbeMemorySize: 8 << 20, mmio: true, mmioBase: 0xfebf0000, optionRom: new Uint8Array(3000).fill(0x55) });
    other.loadState(JSON.parse(JSON.stringify(s)));
    expect(JSON.stringify(other.saveState())).toBe(JSON.stringify(s));
  });
});
