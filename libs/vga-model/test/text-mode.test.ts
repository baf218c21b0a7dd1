import { describe, expect, it } from 'vitest';
import { FRAME_NS } from '../src/index.js';
import { MODE_03H, inb, loadDac, loadFont, makeFont, makeVga, outb, outw, pixel, rgba6, setMode } from './helpers.js';

type Rgb = [number, number, number];
/** DAC colours for the indexes the mode 03h attribute palette points at. */
const DAC: Record<number, Rgb> = {
  0x00: [0, 0, 0],
  0x01: [0, 0, 42],
  0x02: [0, 42, 0],
  0x04: [42, 0, 0],
  0x07: [42, 42, 42],
  0x14: [42, 21, 0],
  0x3e: [63, 63, 21],
  0x3f: [63, 63, 63],
  0x39: [21, 21, 63],
};

function textVga() {
  const { vga, host } = makeVga();
  setMode(vga, MODE_03H);
  const font = makeFont();
  loadFont(vga, font);
  for (const [i, c] of Object.entries(DAC)) loadDac(vga, Number(i), [c]);
  return { vga, host, font };
}

function putText(vga: ReturnType<typeof makeVga>['vga'], row: number, col: number, text: string, attr: number) {
  for (let i = 0; i < text.length; i++) {
    const a = 0xb8000 + (row * 80 + col + i) * 2;
    vga.memWrite(a, 2, text.charCodeAt(i) | (attr << 8), 0);
  }
}

describe('80x25 text mode', () => {
  it('reports the geometry the CRTC and sequencer describe', () => {
    const { vga } = textVga();
    const m = vga.displayMode();
    expect(m).toMatchObject({ kind: 'text', width: 720, height: 400, columns: 80, rows: 25, cellWidth: 9, cellHeight: 16, visible: true });
  });

  it('reads back text and attributes written to 0B8000h and shows them in screenText()', () => {
    const { vga } = textVga();
    for (let i = 0; i < 80 * 25; i++) vga.memWrite(0xb8000 + i * 2, 2, 0x0720, 0);
    putText(vga, 0, 0, 'Hello, VGA!', 0x1e);
    putText(vga, 24, 70, 'bottom', 0x07);
    vga.memWrite(0xb8000 + 2 * 80 + 0, 1, 0xc9, 0); // CP437 box corner
    vga.memWrite(0xb8000 + 2 * 80 + 2, 1, 0x82, 0); // e acute
    expect(vga.memRead(0xb8000, 2, 0)).toBe(0x1e48);
    expect(vga.memRead(0xb8001, 1, 0)).toBe(0x1e);
    const rows = vga.screenText();
    expect(rows).toHaveLength(25);
    expect(rows[0]).toBe('Hello, VGA!'.padEnd(80));
    expect(rows[1]).toBe('╔é'.padEnd(80));
    expect(rows[24].trimEnd()).toBe(' '.repeat(70) + 'bottom');
  });

  it('renders glyph pixels from the plane-2 font in the palette colours, with the 9th column', () => {
    const { vga, font } = textVga();
    putText(vga, 3, 5, 'A', 0x1e); // yellow (palette 0E -> DAC 3E) on blue (01 -> DAC 01)
    putText(vga, 3, 6, '\u00c4', 0x47); // 0xC4 line graphics: grey on red
    putText(vga, 3, 7, 'Z', 0x47);
    outw(vga, 0x3d4, 0x200a); // cursor off for this check
    const f = vga.render(0);
    expect(f.width).toBe(720);
    expect(f.height).toBe(400);
    const fg = rgba6(DAC[0x3e]);
    const bg = rgba6(DAC[0x01]);
    for (let r = 0; r < 16; r++) {
      for (let b = 0; b < 9; b++) {
        const on = b < 8 && (font[0x41 * 16 + r] & (0x80 >> b)) !== 0;
        expect(pixel(f, 5 * 9 + b, 3 * 16 + r), `A row ${r} dot ${b}`).toEqual(on ? fg : bg);
      }
    }
    // Line graphics enabled (AR10 = 0Ch): the 9th dot repeats the 8th for C0h-DFh only.
    const grey = rgba6(DAC[0x07]);
    const red = rgba6(DAC[0x04]);
    expect(pixel(f, 6 * 9 + 8, 3 * 16 + 7)).toEqual(grey);
    expect(pixel(f, 6 * 9 + 8, 3 * 16 + 6)).toEqual(red);
    const zRow = [...Array(16).keys()].find((r) => font[0x5a * 16 + r] & 1)!;
    expect(pixel(f, 7 * 9 + 7, 3 * 16 + zRow)).toEqual(grey);
    expect(pixel(f, 7 * 9 + 8, 3 * 16 + zRow)).toEqual(red);
  });

  it('uses 8-dot cells when SR01 bit 0 is set', () => {
    const { vga, font } = textVga();
    outw(vga, 0x3c4, 0x0101);
    putText(vga, 0, 1, 'B', 0x07);
    const f = vga.render(0);
    expect(f.width).toBe(640);
    const row = [...Array(16).keys()].find((r) => font[0x42 * 16 + r] & 0x80)!;
    expect(pixel(f, 8, row)).toEqual(rgba6(DAC[0x07]));
  });

  it('draws the cursor from CR0A/CR0B at CR0E/CR0F and blinks it with guest time', () => {
    const { vga } = textVga();
    putText(vga, 10, 20, ' ', 0x07);
    const loc = 10 * 80 + 20;
    outw(vga, 0x3d4, 0x0e | ((loc >> 8) << 8));
    outw(vga, 0x3d4, 0x0f | ((loc & 0xff) << 8));
    const on = vga.render(0);
    const x = 20 * 9 + 3;
    expect(pixel(on, x, 10 * 16 + 13)).toEqual(rgba6(DAC[0x07]));
    expect(pixel(on, x, 10 * 16 + 14)).toEqual(rgba6(DAC[0x07]));
    expect(pixel(on, x, 10 * 16 + 12)).toEqual(rgba6(DAC[0x00]));
    expect(vga.textCursor()).toEqual({ row: 10, column: 20, visible: true });
    const off = vga.render(8 * FRAME_NS + 1);
    expect(pixel(off, x, 10 * 16 + 13)).toEqual(rgba6(DAC[0x00]));
    expect(off.dirty.length).toBeGreaterThan(0);
    const back = vga.render(16 * FRAME_NS + 1);
    expect(pixel(back, x, 10 * 16 + 13)).toEqual(rgba6(DAC[0x07]));
    // Cursor start > end, or the disable bit: no cursor.
    outw(vga, 0x3d4, 0x200a);
    expect(pixel(vga.render(0), x, 10 * 16 + 13)).toEqual(rgba6(DAC[0x00]));
    expect(vga.textCursor()).toEqual({ row: 10, column: 20, visible: false });
  });

  it('treats attribute bit 7 as blink or bright background by AR10 bit 3', () => {
    const { vga } = textVga();
    outw(vga, 0x3d4, 0x200a);
    putText(vga, 0, 0, '\u00db', 0x97); // full block, grey on blue+bright/blink
    const x = 2;
    const blinkOn = vga.render(0);
    expect(pixel(blinkOn, x, 0)).toEqual(rgba6(DAC[0x07]));
    const blinkOff = vga.render(16 * FRAME_NS + 1); // second half of the 32-frame period
    expect(pixel(blinkOff, x, 0)).toEqual(rgba6(DAC[0x01])); // shows the background
    // Bright background: AR10 bit 3 off; attribute 97h background is palette 9 (DAC 39h).
    inb(vga, 0x3da);
    outb(vga, 0x3c0, 0x10);
    outb(vga, 0x3c0, 0x04);
    outb(vga, 0x3c0, 0x20);
    putText(vga, 0, 1, ' ', 0x97);
    const bright = vga.render(16 * FRAME_NS + 1);
    expect(pixel(bright, 9 + 2, 0)).toEqual(rgba6(DAC[0x39]));
    expect(pixel(bright, x, 0)).toEqual(rgba6(DAC[0x07])); // no blinking now
  });

  it('follows the start address (scrolling) and the row offset', () => {
    const { vga } = textVga();
    putText(vga, 1, 0, 'second row', 0x07);
    outw(vga, 0x3d4, 0x0c | (0 << 8));
    outw(vga, 0x3d4, 0x0d | (80 << 8));
    expect(vga.screenText()[0].trimEnd()).toBe('second row');
  });

  it('blanks the screen while the attribute controller has the palette (PAS = 0)', () => {
    const { vga } = textVga();
    putText(vga, 0, 0, '\u00db', 0x07);
    inb(vga, 0x3da);
    outb(vga, 0x3c0, 0x00);
    const f = vga.render(0);
    expect(f.mode.visible).toBe(false);
    expect(pixel(f, 0, 0)).toEqual([0, 0, 0, 255]);
  });

  it('returns dirty rectangles covering exactly the changed cells', () => {
    const { vga } = textVga();
    outw(vga, 0x3d4, 0x200a);
    const first = vga.render(0);
    expect(first.dirty).toEqual([{ x: 0, y: 0, width: 720, height: 400 }]);
    const same = vga.render(0, first.frame);
    expect(same.dirty).toEqual([]);
    putText(vga, 12, 40, '\u00db', 0x07);
    const next = vga.render(0, same.frame);
    expect(next.dirty).toHaveLength(1);
    const d = next.dirty[0];
    expect(d.x).toBeLessThanOrEqual(360);
    expect(d.x + d.width).toBeGreaterThanOrEqual(369);
    expect(d.y).toBeLessThanOrEqual(192);
    expect(d.y + d.height).toBeGreaterThanOrEqual(208);
    expect(d.width * d.height).toBeLessThanOrEqual(64 * 32);
    // A caller that skipped a frame gets the whole screen.
    expect(vga.render(0, next.frame - 1).dirty).toEqual([{ x: 0, y: 0, width: 720, height: 400 }]);
  });
});
