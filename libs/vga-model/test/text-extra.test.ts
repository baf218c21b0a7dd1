import { describe, expect, it } from 'vitest';
import { CP437_TO_UNICODE, cp437ToString } from '../src/index.js';
import { MODE_03H, loadDac, makeFont, makeVga, outb, outw, pixel, setMode } from './helpers.js';

describe('text mode details', () => {
  it('selects the character map by attribute bit 3 through SR03', () => {
    const { vga } = makeVga();
    setMode(vga, MODE_03H);
    loadDac(vga, 0x07, [[63, 63, 63]]);
    loadDac(vga, 0x3f, [[63, 63, 63]]);
    // Map 0 (at 0K): glyph 'X' is blank; map 1 (at 16K): glyph 'X' is solid.
    outw(vga, 0x3c4, 0x0402);
    outw(vga, 0x3c4, 0x0704);
    outw(vga, 0x3ce, 0x0204);
    outw(vga, 0x3ce, 0x0005);
    outw(vga, 0x3ce, 0x0406);
    for (let r = 0; r < 16; r++) vga.memWrite(0xa0000 + 0x4000 + 0x58 * 32 + r, 1, 0xff, 0);
    outw(vga, 0x3c4, 0x0302);
    outw(vga, 0x3c4, 0x0204);
    outw(vga, 0x3ce, 0x0004);
    outw(vga, 0x3ce, 0x1005);
    outw(vga, 0x3ce, 0x0e06);
    outw(vga, 0x3d4, 0x200a);
    vga.memWrite(0xb8000, 2, 0x0758, 0); // attribute bit 3 clear: map B
    vga.memWrite(0xb8002, 2, 0x0f58, 0); // attribute bit 3 set: map A
    outw(vga, 0x3c4, 0x0403); // map A = 1 (bits 5,3,2 = 001), map B = 0
    const f = vga.render(0);
    expect(pixel(f, 3, 5)).toEqual([0, 0, 0, 255]);
    expect(pixel(f, 9 + 3, 5)).toEqual([255, 255, 255, 255]);
  });

  it('derives 80x50 from an 8-line cell and 40x25 from CR01', () => {
    const { vga } = makeVga();
    setMode(vga, MODE_03H);
    outw(vga, 0x3d4, 0x4709); // max scan line 7
    expect(vga.displayMode()).toMatchObject({ columns: 80, rows: 50, cellHeight: 8 });
    expect(vga.screenText()).toHaveLength(50);
    outw(vga, 0x3d4, 0x4f09);
    outw(vga, 0x3d4, 0x0011);
    outw(vga, 0x3d4, 0x2701); // 40 columns
    outw(vga, 0x3d4, 0x1413);
    expect(vga.displayMode()).toMatchObject({ columns: 40, rows: 25, width: 360 });
    vga.memWrite(0xb8000 + 80, 1, 0x41, 0);
    expect(vga.screenText()[1][0]).toBe('A');
  });

  it('loads the palette with rep outsb to 3C9h', () => {
    const { vga } = makeVga();
    outb(vga, 0x3c8, 0x10);
    vga.ioWriteString(0x3c9, 1, Uint8Array.of(1, 2, 3, 4, 5, 6), 0);
    outb(vga, 0x3c7, 0x10);
    expect(Array.from(vga.ioReadString(0x3c9, 1, 6, 0))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(vga.ioReadString(0x3c9, 1, 1e12, 0).length).toBe(0x10000);
  });

  it('maps all 256 CP437 codes to distinct Unicode characters', () => {
    expect(CP437_TO_UNICODE).toHaveLength(256);
    expect(new Set(CP437_TO_UNICODE.slice(1)).size).toBe(255);
    expect(cp437ToString([0x01, 0x41, 0xb3, 0xc4, 0xdb, 0xe1, 0xfb])).toBe('☺A│─█ß√');
  });

  it('makeFont gives distinct glyphs (test scaffolding sanity)', () => {
    const f = makeFont();
    const glyphs = new Set<string>();
    for (let c = 0; c < 256; c++) glyphs.add(Buffer.from(f.subarray(c * 16, c * 16 + 16)).toString('hex'));
    expect(glyphs.size).toBeGreaterThan(250);
  });
});
