import { describe, expect, it } from 'vitest';
import { MODE_04H, MODE_06H, MODE_12H, MODE_13H, inb, loadDac, makeVga, outb, outw, pixel, rgba6, setMode } from './helpers.js';

type Rgb = [number, number, number];
const gradient = (i: number): Rgb => [i & 63, (i * 5) & 63, (255 - i) & 63];

describe('mode 13h (chain-4, 256 colours)', () => {
  it('renders 320x200 with each byte through the DAC', () => {
    const { vga } = makeVga();
    setMode(vga, MODE_13H);
    loadDac(vga, 0, [...Array(256).keys()].map(gradient));
    for (let y = 0; y < 200; y++) for (let x = 0; x < 320; x++) vga.memWrite(0xa0000 + y * 320 + x, 1, (x * 3 + y * 7) & 0xff, 0);
    expect(vga.memRead(0xa0000 + 199 * 320 + 319, 1, 0)).toBe((319 * 3 + 199 * 7) & 0xff);
    const f = vga.render(0);
    expect([f.width, f.height]).toEqual([320, 200]);
    expect(f.mode.kind).toBe('chain256');
    for (const [x, y] of [[0, 0], [1, 0], [2, 0], [3, 0], [4, 0], [319, 0], [17, 33], [318, 199], [319, 199], [160, 100]]) {
      expect(pixel(f, x, y), `(${x},${y})`).toEqual(rgba6(gradient((x * 3 + y * 7) & 0xff)));
    }
  });

  it('stores chain-4 bytes in plane (address & 3), visible to unchained (mode X) reads', () => {
    const { vga } = makeVga();
    setMode(vga, MODE_13H);
    for (let i = 0; i < 8; i++) vga.memWrite(0xa0000 + i, 1, 0x10 + i, 0);
    outw(vga, 0x3c4, 0x0604); // chain-4 off
    outw(vga, 0x3ce, 0x0104); // read map 1
    expect(vga.memRead(0xa0000, 1, 0)).toBe(0x11);
    expect(vga.memRead(0xa0004, 1, 0)).toBe(0x15);
  });
});

describe('mode 12h (640x480 16-colour planar)', () => {
  const palette: Rgb[] = [...Array(64).keys()].map((i) => [(i * 9) & 63, (i * 3) & 63, i]);

  function mode12() {
    const { vga, host } = makeVga();
    setMode(vga, MODE_12H);
    loadDac(vga, 0, palette);
    return { vga, host };
  }
  /** The DAC colour of 4-bit pixel value v through the mode 12h attribute palette. */
  const colour = (v: number) => rgba6(palette[MODE_12H.ac[v]]);

  it('write mode 0 with map mask and set/reset, read mode 0 per plane', () => {
    const { vga } = mode12();
    outw(vga, 0x3c4, 0x0502); // planes 0 and 2
    vga.memWrite(0xa0000, 1, 0xf0, 0); // left 4 pixels = 0101b = 5
    outw(vga, 0x3c4, 0x0f02);
    outw(vga, 0x3ce, 0x0f01); // enable set/reset on all planes
    outw(vga, 0x3ce, 0x0c00); // set/reset = 1100b
    outw(vga, 0x3ce, 0x0308); // bit mask: two rightmost pixels
    vga.memRead(0xa0000, 1, 0); // load latches
    vga.memWrite(0xa0000, 1, 0x00, 0);
    outw(vga, 0x3ce, 0x0001);
    outw(vga, 0x3ce, 0xff08);
    const f = vga.render(0);
    expect([f.width, f.height]).toEqual([640, 480]);
    expect(pixel(f, 0, 0)).toEqual(colour(5));
    expect(pixel(f, 3, 0)).toEqual(colour(5));
    expect(pixel(f, 4, 0)).toEqual(colour(0));
    expect(pixel(f, 6, 0)).toEqual(colour(12));
    expect(pixel(f, 7, 0)).toEqual(colour(12));
    for (const [plane, want] of [[0, 0xf0], [1, 0x00], [2, 0xf3], [3, 0x03]]) {
      outw(vga, 0x3ce, 0x0004 | (plane << 8));
      expect(vga.memRead(0xa0000, 1, 0), `plane ${plane}`).toBe(want);
    }
  });

  it('write mode 2 spreads colour bits under the bit mask; rotate + XOR in write mode 0', () => {
    const { vga } = mode12();
    outw(vga, 0x3ce, 0x0205); // write mode 2
    outw(vga, 0x3ce, 0x8008); // leftmost pixel only
    const addr = 0xa0000 + 10 * 80 + 2; // row 10, pixels 16-23
    vga.memRead(addr, 1, 0);
    vga.memWrite(addr, 1, 0x09, 0);
    outw(vga, 0x3ce, 0x0108);
    vga.memRead(addr, 1, 0);
    vga.memWrite(addr, 1, 0x0e, 0);
    outw(vga, 0x3ce, 0xff08);
    outw(vga, 0x3ce, 0x0005);
    let f = vga.render(0);
    expect(pixel(f, 16, 10)).toEqual(colour(9));
    expect(pixel(f, 23, 10)).toEqual(colour(14));
    expect(pixel(f, 17, 10)).toEqual(colour(0));
    // Write mode 0, rotate right by 4 and XOR with the latches on plane 0.
    outw(vga, 0x3c4, 0x0102);
    outw(vga, 0x3ce, 0x1c03); // XOR, rotate 4
    vga.memRead(addr, 1, 0);
    vga.memWrite(addr, 1, 0x18, 0); // rotated: 0x81 -> toggles pixels 16 and 23 on plane 0
    outw(vga, 0x3ce, 0x0003);
    outw(vga, 0x3c4, 0x0f02);
    f = vga.render(0);
    expect(pixel(f, 16, 10)).toEqual(colour(8));
    expect(pixel(f, 23, 10)).toEqual(colour(15));
  });

  it('write mode 1 copies the latches; write mode 3 uses rotated data as the bit mask', () => {
    const { vga } = mode12();
    outw(vga, 0x3ce, 0x0205);
    vga.memWrite(0xa0000, 1, 0x0b, 0); // 8 pixels of colour 11
    outw(vga, 0x3ce, 0x0105); // write mode 1
    vga.memRead(0xa0000, 1, 0);
    vga.memWrite(0xa0000 + 80, 1, 0x00, 0);
    outw(vga, 0x3ce, 0x0305); // write mode 3
    outw(vga, 0x3ce, 0x0600); // set/reset colour 6
    vga.memRead(0xa0000 + 160, 1, 0);
    vga.memWrite(0xa0000 + 160, 1, 0xc0, 0);
    outw(vga, 0x3ce, 0x0005);
    const f = vga.render(0);
    for (let x = 0; x < 8; x++) expect(pixel(f, x, 1)).toEqual(colour(11));
    expect(pixel(f, 0, 2)).toEqual(colour(6));
    expect(pixel(f, 1, 2)).toEqual(colour(6));
    expect(pixel(f, 2, 2)).toEqual(colour(0));
  });

  it('read mode 1 compares colours with colour don\'t care', () => {
    const { vga } = mode12();
    outw(vga, 0x3ce, 0x0205);
    outw(vga, 0x3ce, 0xf008);
    vga.memRead(0xa0000, 1, 0);
    vga.memWrite(0xa0000, 1, 0x0c, 0); // pixels 0-3 colour 12
    outw(vga, 0x3ce, 0x0f08);
    vga.memRead(0xa0000, 1, 0);
    vga.memWrite(0xa0000, 1, 0x04, 0); // pixels 4-7 colour 4
    outw(vga, 0x3ce, 0xff08);
    outw(vga, 0x3ce, 0x0805); // read mode 1, write mode 0
    outw(vga, 0x3ce, 0x0c02); // compare with 12
    outw(vga, 0x3ce, 0x0f07);
    expect(vga.memRead(0xa0000, 1, 0)).toBe(0xf0);
    outw(vga, 0x3ce, 0x0402); // compare with 4
    expect(vga.memRead(0xa0000, 1, 0)).toBe(0x0f);
    outw(vga, 0x3ce, 0x0707); // ignore plane 3: 12 and 4 both match 4
    expect(vga.memRead(0xa0000, 1, 0)).toBe(0xff);
    outw(vga, 0x3ce, 0x0007); // all don't care
    expect(vga.memRead(0xa0000 + 500, 1, 0)).toBe(0xff);
  });

  it('splits the screen at Line Compare and pans by AR13', () => {
    const { vga } = mode12();
    outw(vga, 0x3ce, 0x0205); // write mode 2
    vga.memWrite(0xa0000, 1, 0x03, 0); // address 0: colour 3
    vga.memWrite(0xa0000 + 100 * 80, 1, 0x0a, 0); // row 100: colour 10
    outw(vga, 0x3ce, 0x0005);
    outw(vga, 0x3d4, 0x0c | (0x1f << 8)); // start address 8000 = row 100
    outw(vga, 0x3d4, 0x0d | (0x40 << 8));
    outw(vga, 0x3d4, 0xef18); // line compare 239 (CR07 bit 4 and CR09 bit 6 clear)
    outw(vga, 0x3d4, 0x2e07); // CR07 is protected (CR11 bit 7) except bit 4, which this clears
    outw(vga, 0x3d4, 0x0009);
    let f = vga.render(0);
    expect(pixel(f, 0, 0)).toEqual(colour(10));
    expect(pixel(f, 0, 239)).toEqual(colour(0));
    expect(pixel(f, 0, 240)).toEqual(colour(3));
    // Pan left by 3 pixels: pixel 8+0 of a byte at column 1 appears at x = 5, also below the split.
    outw(vga, 0x3ce, 0x0205);
    outw(vga, 0x3ce, 0x8008);
    vga.memRead(0xa0000 + 1, 1, 0);
    vga.memWrite(0xa0000 + 1, 1, 0x0c, 0);
    outw(vga, 0x3ce, 0xff08);
    outw(vga, 0x3ce, 0x0005);
    inb(vga, 0x3da);
    outb(vga, 0x3c0, 0x33); // AR13 with PAS = 1
    outb(vga, 0x3c0, 0x03);
    f = vga.render(0);
    expect(pixel(f, 5, 240)).toEqual(colour(12));
    expect(pixel(f, 4, 240)).toEqual(colour(3));
    expect(pixel(f, 6, 240)).toEqual(colour(0));
  });

  it('traps the window, while text and chain-4 modes map it directly', () => {
    const { vga, host } = mode12();
    expect(vga.windowMode()).toMatchObject({ mode: 'trap', mapping: 'planar', base: 0xa0000, length: 0x10000 });
    setMode(vga, MODE_13H);
    expect(vga.windowMode()).toMatchObject({ mode: 'direct', mapping: 'chain-4', base: 0xa0000, length: 0x10000 });
    const events = host.ofKind('window-mode');
    expect(events.at(-1)).toMatchObject({ mode: 'direct', mapping: 'chain-4' });
    const gens = events.map((e) => e.generation as number);
    expect(gens).toEqual([...gens].sort((a, b) => a - b));
    expect(new Set(gens).size).toBe(gens.length);
    inb(vga, 0x3da);
  });
});

describe('CGA-compatible modes', () => {
  it('mode 04h: 320x200 2-bit pixels with even/odd scan line banks at 0B8000h/0BA000h', () => {
    const { vga } = makeVga();
    setMode(vga, MODE_04H);
    const cga: Rgb[] = [[0, 0, 0], [0, 42, 42], [42, 0, 42], [42, 42, 42]];
    for (let i = 0; i < 4; i++) loadDac(vga, MODE_04H.ac[i], [cga[i]]);
    vga.memWrite(0xb8000, 1, 0b00011011, 0); // y=0: pixels 0..3 = 0,1,2,3
    vga.memWrite(0xba000, 1, 0b11100100, 0); // y=1: pixels 0..3 = 3,2,1,0
    vga.memWrite(0xb8000 + 80 + 1, 1, 0b11000000, 0); // y=2: pixel 4 = 3
    const f = vga.render(0);
    expect([f.width, f.height, f.mode.kind]).toEqual([320, 200, 'cga']);
    expect([0, 1, 2, 3].map((x) => pixel(f, x, 0))).toEqual([0, 1, 2, 3].map((v) => rgba6(cga[v])));
    expect([0, 1, 2, 3].map((x) => pixel(f, x, 1))).toEqual([3, 2, 1, 0].map((v) => rgba6(cga[v])));
    expect(pixel(f, 4, 2)).toEqual(rgba6(cga[3]));
    expect(pixel(f, 5, 2)).toEqual(rgba6(cga[0]));
    expect(vga.windowMode()).toMatchObject({ mode: 'direct', mapping: 'odd-even', base: 0xb8000, length: 0x8000 });
  });

  it('mode 06h: 640x200 1-bit pixels', () => {
    const { vga } = makeVga();
    setMode(vga, MODE_06H);
    loadDac(vga, 0x17, [[63, 63, 63]]);
    vga.memWrite(0xb8000, 1, 0x81, 0);
    vga.memWrite(0xba000 + 79, 1, 0x01, 0);
    const f = vga.render(0);
    expect([f.width, f.height]).toEqual([640, 200]);
    expect(pixel(f, 0, 0)).toEqual([255, 255, 255, 255]);
    expect(pixel(f, 1, 0)).toEqual([0, 0, 0, 255]);
    expect(pixel(f, 7, 0)).toEqual([255, 255, 255, 255]);
    expect(pixel(f, 639, 1)).toEqual([255, 255, 255, 255]);
    expect(pixel(f, 639, 0)).toEqual([0, 0, 0, 255]);
  });
});
