import { describe, expect, it } from 'vitest';
import { FRAME_NS, LINE_NS } from '../src/index.js';
import { inb, inw, makeVga, outb, outw } from './helpers.js';

describe('external registers', () => {
  it('writes Misc Output at 3C2h and reads it back at 3CCh', () => {
    const { vga } = makeVga();
    outb(vga, 0x3c2, 0x67);
    expect(inb(vga, 0x3cc)).toBe(0x67);
    expect(inb(vga, 0x3c2)).toBe(0x00); // Input Status #0
  });

  it('moves the CRTC and Input Status #1 between 3Bxh and 3Dxh by Misc Output bit 0', () => {
    const { vga } = makeVga();
    outb(vga, 0x3c2, 0x67); // colour
    outw(vga, 0x3d4, 0x550c);
    expect(inb(vga, 0x3d4)).toBe(0x0c);
    expect(inb(vga, 0x3d5)).toBe(0x55);
    expect(inb(vga, 0x3b5)).toBe(0xff);
    outw(vga, 0x3b4, 0x660c); // ignored: mono ports are inactive
    expect(vga.counters.inactivePort).toBe(3);
    outb(vga, 0x3c2, 0x66); // monochrome
    expect(inb(vga, 0x3b4)).toBe(0x0c);
    expect(inb(vga, 0x3b5)).toBe(0x55);
    outw(vga, 0x3b4, 0x770d);
    expect(inb(vga, 0x3d5)).toBe(0xff);
    outb(vga, 0x3c2, 0x67);
    outb(vga, 0x3d4, 0x0d);
    expect(inb(vga, 0x3d5)).toBe(0x77);
  });

  it('honours the CRTC protect bit for CR00-CR07 except line compare bit 8', () => {
    const { vga } = makeVga();
    outb(vga, 0x3c2, 0x67);
    outw(vga, 0x3d4, 0x5f00);
    outw(vga, 0x3d4, 0x0007);
    outw(vga, 0x3d4, 0x8011); // protect on
    outw(vga, 0x3d4, 0x1200);
    outw(vga, 0x3d4, 0xff07);
    outb(vga, 0x3d4, 0x00);
    expect(inb(vga, 0x3d5)).toBe(0x5f);
    outb(vga, 0x3d4, 0x07);
    expect(inb(vga, 0x3d5)).toBe(0x10);
    expect(vga.counters.protectedWrite).toBe(2);
    outw(vga, 0x3d4, 0x2809); // CR09 is not protected
    outb(vga, 0x3d4, 0x09);
    expect(inb(vga, 0x3d5)).toBe(0x28);
    outw(vga, 0x3d4, 0x0011);
    outw(vga, 0x3d4, 0x1200);
    outb(vga, 0x3d4, 0x00);
    expect(inb(vga, 0x3d5)).toBe(0x12);
  });

  it('takes 16-bit writes to index/data pairs as index then data', () => {
    const { vga } = makeVga();
    outw(vga, 0x3c4, 0x0f02);
    outw(vga, 0x3ce, 0x5508);
    expect(inb(vga, 0x3c4)).toBe(0x02);
    expect(inb(vga, 0x3c5)).toBe(0x0f);
    expect(inw(vga, 0x3ce)).toBe(0x5508);
    // Unwritable bits read back as 0 (SR02 has 4 bits).
    outw(vga, 0x3c4, 0xff02);
    expect(inb(vga, 0x3c5)).toBe(0x0f);
  });

  it('counts unknown registers and ports instead of failing', () => {
    const { vga } = makeVga();
    outw(vga, 0x3c4, 0x1207);
    expect(inb(vga, 0x3c5)).toBe(0xff);
    outw(vga, 0x3ce, 0x120c);
    outb(vga, 0x3c2, 0x67);
    outw(vga, 0x3d4, 0x121f);
    expect(vga.counters.unknownRegister).toBe(4);
    expect(inb(vga, 0x3b0)).toBe(0xff);
    outb(vga, 0x3cc, 1); // read-only
    expect(vga.counters.unknownPort).toBe(2);
    expect(vga.ioRead(0x3c4, 3 as 1, 0)).toBe(0xffffffff);
    expect(vga.counters.badWidth).toBe(1);
  });
});

describe('attribute controller', () => {
  it('alternates address and data on 3C0h and resets the flip-flop on an Input Status #1 read', () => {
    const { vga } = makeVga();
    outb(vga, 0x3c2, 0x67);
    inb(vga, 0x3da);
    outb(vga, 0x3c0, 0x03);
    outb(vga, 0x3c0, 0x2a);
    expect(inb(vga, 0x3c1)).toBe(0x2a);
    outb(vga, 0x3c0, 0x11); // address again
    outb(vga, 0x3c0, 0x33); // overscan colour
    expect(inb(vga, 0x3c0)).toBe(0x11);
    expect(inb(vga, 0x3c1)).toBe(0x33);
    outb(vga, 0x3c0, 0x12); // now an address write
    inb(vga, 0x3da); // ... reset: the next write is an address again
    outb(vga, 0x3c0, 0x13);
    outb(vga, 0x3c0, 0x05);
    expect(inb(vga, 0x3c1)).toBe(0x05);
    expect(inb(vga, 0x3c0)).toBe(0x13);
  });

  it('protects the palette registers while PAS = 1', () => {
    const { vga } = makeVga();
    outb(vga, 0x3c2, 0x67);
    inb(vga, 0x3da);
    outb(vga, 0x3c0, 0x01);
    outb(vga, 0x3c0, 0x11);
    outb(vga, 0x3c0, 0x21);
    outb(vga, 0x3c0, 0x22);
    outb(vga, 0x3c0, 0x21);
    expect(inb(vga, 0x3c1)).toBe(0x11);
    expect(vga.counters.protectedWrite).toBe(1);
  });
});

describe('DAC', () => {
  it('cycles red, green, blue with 6-bit components and auto-increments', () => {
    const { vga } = makeVga();
    outb(vga, 0x3c8, 0xfe);
    for (const v of [0x3f, 0x41, 0x12, 0x01, 0x02, 0x03, 0x04]) outb(vga, 0x3c9, v);
    expect(inb(vga, 0x3c8)).toBe(0x00); // wrapped past FFh, one component pending
    outb(vga, 0x3c7, 0xfe);
    expect(inb(vga, 0x3c7)).toBe(0x03);
    expect([0, 0, 0, 0, 0, 0].map(() => inb(vga, 0x3c9))).toEqual([0x3f, 0x01, 0x12, 0x01, 0x02, 0x03]);
    expect(inb(vga, 0x3c9)).toBe(0); // entry 0 untouched: its write was incomplete
    outb(vga, 0x3c8, 0x00);
    expect(inb(vga, 0x3c7)).toBe(0x00);
  });

  it('applies the pixel mask 3C6h', () => {
    const { vga } = makeVga();
    outb(vga, 0x3c6, 0x0f);
    expect(inb(vga, 0x3c6)).toBe(0x0f);
    outb(vga, 0x3c8, 0x05);
    outb(vga, 0x3c9, 63);
    outb(vga, 0x3c9, 0);
    outb(vga, 0x3c9, 0);
    expect(vga.dac.rgba(0xf5)).toBe(vga.dac.rgba(0x05));
    expect(vga.dac.rgba(0x05)).toBe(0xff0000ff);
  });
});

describe('input status timing', () => {
  it('shows vertical retrace about 60 times a second and display enable at the line rate', () => {
    const { vga } = makeVga();
    outb(vga, 0x3c2, 0x67);
    let retraceStarts = 0;
    let prev = false;
    let ddTransitions = 0;
    let prevDd = 0;
    const step = LINE_NS / 8;
    for (let t = 0; t < 1e9; t += step) {
      const v = inb(vga, 0x3da, t);
      const vr = (v & 0x08) !== 0;
      if (vr && !prev) retraceStarts++;
      prev = vr;
      if ((v & 1) !== prevDd && t < 10e6) ddTransitions++;
      prevDd = v & 1;
      if (vr) expect(v & 1).toBe(1); // retrace lies in blanking
    }
    expect(retraceStarts).toBeGreaterThanOrEqual(59);
    expect(retraceStarts).toBeLessThanOrEqual(61);
    // ~31.5 kHz: over 10 ms about 315 lines, two transitions each while displaying.
    expect(ddTransitions).toBeGreaterThan(500);
    expect(ddTransitions).toBeLessThan(700);
    expect(FRAME_NS).toBeCloseTo(1e9 / 59.94, -5);
  });
});
