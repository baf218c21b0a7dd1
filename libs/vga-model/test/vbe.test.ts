import { describe, expect, it } from 'vitest';
import { VbeDispi } from '../src/index.js';
import { inw, loadDac, makeVga, outw, pixel } from './helpers.js';
import type { VgaAdapter } from '../src/index.js';

const dispi = (vga: VgaAdapter, index: number, value: number) => {
  outw(vga, 0x1ce, index);
  outw(vga, 0x1cf, value);
};
const dispiRead = (vga: VgaAdapter, index: number) => {
  outw(vga, 0x1ce, index);
  return inw(vga, 0x1cf);
};

function setVbeMode(vga: VgaAdapter, w: number, h: number, bpp: number, flags = 0x41) {
  dispi(vga, 4, 0);
  dispi(vga, 1, w);
  dispi(vga, 2, h);
  dispi(vga, 3, bpp);
  dispi(vga, 4, flags);
}

describe('Bochs VBE DISPI', () => {
  it('identifies itself and reports memory and capabilities', () => {
    const { vga } = makeVga();
    expect(dispiRead(vga, 0)).toBe(0xb0c5);
    dispi(vga, 0, 0xb0c0);
    expect(dispiRead(vga, 0)).toBe(0xb0c0);
    dispi(vga, 0, 0x1234);
    expect(dispiRead(vga, 0)).toBe(0xb0c0);
    expect(dispiRead(vga, 0xa)).toBe(256); // 16 MiB in 64 KiB units
    dispi(vga, 4, 0x02); // GETCAPS
    expect([dispiRead(vga, 1), dispiRead(vga, 2), dispiRead(vga, 3)]).toEqual([2560, 1600, 32]);
    dispi(vga, 4, 0x00);
    expect([dispiRead(vga, 1), dispiRead(vga, 2), dispiRead(vga, 3)]).toEqual([640, 480, 8]);
    expect(vga.ioRead(0x1cf, 1, 0)).toBe(0xff);
    expect(vga.counters.badWidth).toBe(1);
  });

  it('renders a 1024x768x32 mode from LFB writes exactly', () => {
    const { vga, host } = makeVga();
    setVbeMode(vga, 1024, 768, 32);
    expect(dispiRead(vga, 4)).toBe(0x41);
    expect(dispiRead(vga, 6)).toBe(1024);
    expect(dispiRead(vga, 7)).toBe(Math.floor((16 << 20) / 4096));
    const color = (x: number, y: number) => ((x * 0x010203 + y * 0x030201) ^ (x << 13)) & 0xffffff;
    for (let y = 0; y < 768; y++) for (let x = 0; x < 1024; x++) vga.memWrite(0xe0000000 + (y * 1024 + x) * 4, 4, color(x, y), 0);
    const f = vga.render(0);
    expect([f.width, f.height, f.mode.kind]).toEqual([1024, 768, 'vbe']);
    let mismatches = 0;
    for (let y = 0; y < 768; y++) {
      for (let x = 0; x < 1024; x++) {
        const c = color(x, y);
        const o = (y * 1024 + x) * 4;
        if (f.rgba[o] !== ((c >> 16) & 0xff) || f.rgba[o + 1] !== ((c >> 8) & 0xff) || f.rgba[o + 2] !== (c & 0xff) || f.rgba[o + 3] !== 255) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    expect(host.ofKind('display-mode').at(-1)).toMatchObject({ kind: 'vbe', width: 1024, height: 768, bpp: 32 });
    expect(vga.memRead(0xe0000000 + 4 * 1025, 4, 0)).toBe(color(1, 1));
  });

  it('pans with Y_OFFSET and renders 8/15/16/24 bpp', () => {
    const { vga } = makeVga();
    setVbeMode(vga, 640, 480, 32);
    dispi(vga, 9, 480); // second page
    vga.memWrite(0xe0000000 + 480 * 640 * 4, 4, 0x00ff8040, 0);
    expect(pixel(vga.render(0), 0, 0)).toEqual([0xff, 0x80, 0x40, 255]);

    setVbeMode(vga, 320, 200, 16);
    vga.memWrite(0xe0000000, 2, (31 << 11) | (63 << 5) | 0, 0);
    vga.memWrite(0xe0000002, 2, 0x001f, 0);
    let f = vga.render(0);
    expect(pixel(f, 0, 0)).toEqual([255, 255, 0, 255]);
    expect(pixel(f, 1, 0)).toEqual([0, 0, 255, 255]);

    setVbeMode(vga, 320, 200, 15);
    vga.memWrite(0xe0000000, 2, 31 << 10, 0);
    expect(pixel(vga.render(0), 0, 0)).toEqual([255, 0, 0, 255]);

    setVbeMode(vga, 320, 200, 24);
    vga.memWrite(0xe0000000 + 3, 4, 0x00112233, 0); // pixel 1: B=33 G=22 R=11
    f = vga.render(0);
    expect(pixel(f, 1, 0)).toEqual([0x11, 0x22, 0x33, 255]);

    setVbeMode(vga, 320, 200, 8);
    loadDac(vga, 7, [[63, 0, 21]]);
    vga.memWrite(0xe0000000 + 321, 1, 7, 0);
    expect(pixel(vga.render(0), 1, 1)).toEqual([255, 0, 85, 255]);
    // 8-bit DAC switch: components are taken as 8 bits.
    setVbeMode(vga, 320, 200, 8, 0x61);
    loadDac(vga, 7, [[200, 100, 50]]);
    vga.memWrite(0xe0000000 + 321, 1, 7, 0);
    expect(pixel(vga.render(0), 1, 1)).toEqual([200, 100, 50, 255]);
  });

  it('maps banks of VBE memory into the 0A0000h window, directly', () => {
    const { vga, host } = makeVga();
    setVbeMode(vga, 640, 480, 8, 0x01);
    expect(vga.windowMode()).toMatchObject({ mode: 'direct', mapping: 'vbe-bank', bank: 0, length: 0x10000 });
    dispi(vga, 5, 3);
    expect(host.ofKind('window-mode').at(-1)).toMatchObject({ mapping: 'vbe-bank', bank: 3 });
    vga.memWrite(0xa0010, 1, 0x5a, 0);
    expect(vga.memRead(0xe0000000 + 3 * 0x10000 + 0x10, 1, 0)).toBe(0x5a);
    dispi(vga, 5, 256); // beyond 16 MiB: refused
    expect(dispiRead(vga, 5)).toBe(3);
    expect(vga.counters.refusedVbe).toBe(1);
  });

  it('clears memory on enable unless NOCLEARMEM', () => {
    const { vga } = makeVga();
    setVbeMode(vga, 640, 480, 32);
    vga.memWrite(0xe0000000, 4, 0xdeadbeef, 0);
    setVbeMode(vga, 640, 480, 32, 0xc1);
    expect(vga.memRead(0xe0000000, 4, 0)).toBe(0xdeadbeef);
    setVbeMode(vga, 640, 480, 32, 0x41);
    expect(vga.memRead(0xe0000000, 4, 0)).toBe(0);
  });

  it('refuses absurd modes and never allocates beyond the configured memory', () => {
    const { vga } = makeVga({ vbeMemorySize: 4 << 20 });
    dispi(vga, 1, 0xffff);
    dispi(vga, 2, 0xffff);
    dispi(vga, 3, 0xffff);
    expect([dispiRead(vga, 1), dispiRead(vga, 2), dispiRead(vga, 3)]).toEqual([640, 480, 8]);
    dispi(vga, 3, 7);
    expect(dispiRead(vga, 3)).toBe(8);
    // Within the register limits but too big for 4 MiB: ENABLE is refused.
    setVbeMode(vga, 2560, 1600, 32);
    expect(dispiRead(vga, 4) & 1).toBe(0);
    expect(vga.displayMode().kind).not.toBe('vbe');
    // Virtual width and offsets cannot reach past memory either.
    setVbeMode(vga, 1024, 768, 32);
    expect(dispiRead(vga, 4) & 1).toBe(1);
    dispi(vga, 6, 0xffff);
    expect(dispiRead(vga, 6)).toBe(1024);
    dispi(vga, 9, 0xffff);
    expect(dispiRead(vga, 9)).toBe(0);
    dispi(vga, 9, 256); // 1024*4*(256+768) = 4 MiB: just fits
    expect(dispiRead(vga, 9)).toBe(256);
    // Writes far past the LFB end go nowhere; memory stays 4 MiB.
    vga.memWrite(0xe0000000 + (4 << 20) - 4, 4, 0x01020304, 0);
    vga.memWrite(0xe0000000 + (4 << 20), 4, 0x12345678, 0);
    vga.memWrite(0xe0000000 + (256 << 20), 4, 0x12345678, 0);
    expect(vga.memRead(0xe0000000 + (4 << 20), 4, 0)).toBe(0xffffffff);
    expect(vga.vbe.peekMemory()!.length).toBe(4 << 20);
    expect(vga.counters.unmappedMemory).toBeGreaterThan(0);
  });

  it('refuses geometry changes while enabled (a driver disables first)', () => {
    const d = new VbeDispi({ memorySize: 16 << 20, maxXres: 1920, maxYres: 1080 });
    d.index = 1;
    expect(d.writeData(1920)).toBe('ok');
    expect(d.writeData(1921)).toBe('refused');
    d.index = 4;
    d.writeData(1);
    d.index = 1;
    expect(d.writeData(800)).toBe('refused');
    expect(d.xres).toBe(1920);
  });
});
