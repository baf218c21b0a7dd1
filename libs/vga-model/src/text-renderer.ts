/**
 * Alphanumeric (text) mode scan-out: character/attribute pairs from planes 0/1, glyphs
 * from the character maps in plane 2 (FreeVGA "VGA Text Mode Operation"): 8- or 9-dot
 * cells with the line-graphics 9th column, cursor from CR0A/CR0B/CR0E/CR0F blinking every
 * 16 frames, attribute bit 7 as blink (AR10 bit 3 = 1, every 32 frames) or background
 * intensity.
 */
import { AR10_BLINK, AR10_LINE_GRAPHICS, AR10_MONO } from './attribute-controller.js';
import { cp437ToString } from './cp437.js';
import type { DisplayMode, VgaUnits } from './display-mode.js';
import { PLANE_SIZE } from './plane-memory.js';

export const CURSOR_BLINK_FRAMES = 16;
export const CHAR_BLINK_FRAMES = 32;
/** Bytes per glyph slot in a character map, whatever the cell height. */
export const GLYPH_SLOT = 32;

/** Fill `out` (width x height RGBA words) with the text screen at vertical frame `frame`. */
export function renderText(u: VgaUnits, mode: DisplayMode, out: Uint32Array, frame: number): void {
  const { crtc, seq, ac, dac, planes } = u;
  const width = mode.width;
  const cols = mode.columns!;
  const cw = mode.cellWidth!;
  const ch = mode.cellHeight!;
  const vram = planes.vram;
  const fontPlane = 2 * PLANE_SIZE;
  const { mapA, mapB } = seq.fontOffsets();
  const amc = ac.modeControl;
  const blinkMode = (amc & AR10_BLINK) !== 0;
  const lineGraphics = (amc & AR10_LINE_GRAPHICS) !== 0;
  const mono = (amc & AR10_MONO) !== 0;
  const charBlinkOff = Math.floor(frame / (CHAR_BLINK_FRAMES / 2)) % 2 === 1;
  const cursorOn = !crtc.cursorDisabled && Math.floor(frame / (CURSOR_BLINK_FRAMES / 2)) % 2 === 0;
  const cursorStart = crtc.cursorStart;
  const cursorEnd = crtc.cursorEnd;
  const cursorMa = crtc.cursorLocation;
  const underline = crtc.underlineScanLine;
  const colors = new Uint32Array(16);
  for (let i = 0; i < 16; i++) colors[i] = dac.rgba(ac.dacIndex(i));
  const start = crtc.startAddress;
  const stride = crtc.rowStride;
  const preset = crtc.presetRowScan;

  const split = crtc.splitLine(crtc.scanDoubling ? 2 : 1);

  for (let y = 0; y < mode.height; y++) {
    // Below the Line Compare split the screen restarts at address 0 and row scan 0.
    const below = y >= split;
    const s = below ? y - split : y + preset;
    const row = Math.floor(s / ch);
    const scan = s % ch;
    const rowMa = (below ? 0 : start) + row * stride;
    const lineBase = y * width;
    for (let col = 0; col < cols; col++) {
      const ma = (rowMa + col) & 0xffff;
      const addr = crtc.memoryAddress(ma, 0);
      const code = vram[addr];
      const attr = vram[PLANE_SIZE + addr];
      let fg = attr & 0x0f;
      let bg = attr >> 4;
      if (blinkMode) {
        bg &= 7;
        if (attr & 0x80 && charBlinkOff) fg = bg;
      }
      const font = attr & 0x08 ? mapA : mapB;
      let bits = vram[fontPlane + ((font + code * GLYPH_SLOT + scan) & 0xffff)];
      if (mono && (attr & 0x77) === 0x01 && scan === underline) bits = 0xff;
      let ninth = 0;
      if (cw === 9 && lineGraphics && code >= 0xc0 && code <= 0xdf) ninth = bits & 1;
      if (cursorOn && ma === cursorMa && cursorStart <= cursorEnd && scan >= cursorStart && scan <= cursorEnd) {
        bits = 0xff;
        ninth = 1;
      }
      const fgc = colors[fg];
      const bgc = colors[bg];
      const o = lineBase + col * cw;
      for (let b = 0; b < 8; b++) out[o + b] = bits & (0x80 >> b) ? fgc : bgc;
      if (cw === 9) out[o + 8] = ninth ? fgc : bgc;
    }
  }
}

/** The text rows as Unicode strings (CP437), one per character row, full width. */
export function textRows(u: VgaUnits, mode: DisplayMode): string[] {
  const rows: string[] = [];
  const codes = new Uint8Array(mode.columns!);
  for (let r = 0; r < mode.rows!; r++) {
    for (let c = 0; c < codes.length; c++) {
      const ma = (u.crtc.startAddress + r * u.crtc.rowStride + c) & 0xffff;
      codes[c] = u.planes.vram[u.crtc.memoryAddress(ma, 0)];
    }
    rows.push(cp437ToString(codes));
  }
  return rows;
}
