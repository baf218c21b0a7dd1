/**
 * Graphics mode scan-out (FreeVGA "Graphics Registers" GR05 shift register modes, "CRT
 * Controller Registers" address generation): 16-colour planar, CGA-compatible 2-bit
 * interleaved, 256-colour (chain-4 or unchained), and VBE packed-pixel modes from the
 * DISPI registers.
 */
import { AR10_PIXEL_PANNING_MODE, AR_HORIZONTAL_PIXEL_PANNING } from './attribute-controller.js';
import type { DisplayMode, VgaUnits } from './display-mode.js';
import { PLANE_SIZE } from './plane-memory.js';

/** 16-colour planar, CGA 4-colour/2-colour and 256-colour modes from the planes. */
export function renderPlanes(u: VgaUnits, mode: DisplayMode, out: Uint32Array): void {
  const { crtc, ac, dac, planes } = u;
  const vram = planes.vram;
  const dacTable = dac.table();
  const colors = new Uint32Array(16);
  for (let i = 0; i < 16; i++) colors[i] = dacTable[ac.dacIndex(i)];
  const clocks = crtc.displayedCharClocks;
  const cellHeight = crtc.maxScanLine + 1;
  const banked = crtc.cgaBanking || crtc.herculesBanking;
  const start = crtc.startAddress;
  const stride = crtc.rowStride;
  const width = mode.width;
  const P1 = PLANE_SIZE;
  const P2 = 2 * PLANE_SIZE;
  const P3 = 3 * PLANE_SIZE;

  const perClock = mode.kind === 'chain256' ? 4 : 8;
  const split = crtc.splitLine((crtc.scanDoubling ? 2 : 1) * (banked ? 1 : cellHeight));
  // Horizontal pixel panning (AR13): 0-7 pixels, in 256-colour modes in steps of two dots.
  const panRegister = ac.regs[AR_HORIZONTAL_PIXEL_PANNING] & 0x0f;
  const pan = mode.kind === 'chain256' ? (panRegister >> 1) & 3 : panRegister & 7;
  const panAfterSplit = ac.modeControl & AR10_PIXEL_PANNING_MODE ? 0 : pan;
  const line = new Uint32Array((clocks + 1) * perClock);

  for (let y = 0; y < mode.height; y++) {
    const below = y >= split;
    const ly = below ? y - split : y; // line counted from the top of its part of the screen
    const row = banked ? Math.floor(ly / cellHeight) : ly;
    const scan = banked ? ly % cellHeight : 0;
    const rowMa = (below ? 0 : start) + row * stride;
    let o = 0;
    for (let c = 0; c <= clocks; c++) {
      const a = crtc.memoryAddress((rowMa + c) & 0xffff, scan);
      const p0 = vram[a];
      const p1 = vram[P1 + a];
      const p2 = vram[P2 + a];
      const p3 = vram[P3 + a];
      if (mode.kind === 'chain256') {
        line[o++] = dacTable[p0];
        line[o++] = dacTable[p1];
        line[o++] = dacTable[p2];
        line[o++] = dacTable[p3];
      } else if (mode.kind === 'cga') {
        // Shift register interleave: 2 bits per pixel, first from plane 0 (and 2), then plane 1 (and 3).
        for (let i = 0; i < 4; i++) {
          const sh = 6 - 2 * i;
          line[o++] = colors[((p0 >> sh) & 3) | (((p2 >> sh) & 3) << 2)];
        }
        for (let i = 0; i < 4; i++) {
          const sh = 6 - 2 * i;
          line[o++] = colors[((p1 >> sh) & 3) | (((p3 >> sh) & 3) << 2)];
        }
      } else {
        for (let b = 7; b >= 0; b--) {
          line[o++] = colors[((p0 >> b) & 1) | (((p1 >> b) & 1) << 1) | (((p2 >> b) & 1) << 2) | (((p3 >> b) & 1) << 3)];
        }
      }
    }
    const shift = below ? panAfterSplit : pan;
    out.set(line.subarray(shift, shift + width), y * width);
  }
}

/** VBE packed-pixel modes: 8 bpp through the DAC, 15/16 bpp 5:5:5/5:6:5, 24/32 bpp B,G,R(,X). */
export function renderVbe(u: VgaUnits, mode: DisplayMode, out: Uint32Array): void {
  const vbe = u.vbe;
  const mem = vbe.peekMemory();
  if (!mem) {
    out.fill(u.vbe.bpp === 8 ? u.dac.rgba(0) : 0xff000000);
    return;
  }
  const { width, height } = mode;
  const bpp = vbe.bpp;
  const bytes = vbe.bytesPerPixel;
  const pitch = vbe.pitch;
  const startOffset = vbe.displayStart;
  const dacTable = bpp === 8 ? u.dac.table() : null;
  for (let y = 0; y < height; y++) {
    let src = startOffset + y * pitch;
    let o = y * width;
    if (src + width * bytes > mem.length) {
      out.fill(0xff000000, o, o + width);
      continue;
    }
    switch (bpp) {
      case 8:
        for (let x = 0; x < width; x++) out[o++] = dacTable![mem[src++]];
        break;
      case 15:
        for (let x = 0; x < width; x++, src += 2) {
          const v = mem[src] | (mem[src + 1] << 8);
          out[o++] = rgb(expand5((v >> 10) & 0x1f), expand5((v >> 5) & 0x1f), expand5(v & 0x1f));
        }
        break;
      case 16:
        for (let x = 0; x < width; x++, src += 2) {
          const v = mem[src] | (mem[src + 1] << 8);
          out[o++] = rgb(expand5((v >> 11) & 0x1f), expand6((v >> 5) & 0x3f), expand5(v & 0x1f));
        }
        break;
      case 24:
        for (let x = 0; x < width; x++, src += 3) out[o++] = rgb(mem[src + 2], mem[src + 1], mem[src]);
        break;
      default:
        for (let x = 0; x < width; x++, src += 4) out[o++] = rgb(mem[src + 2], mem[src + 1], mem[src]);
    }
  }
}

/** An opaque pixel as a little-endian RGBA word. */
function rgb(r: number, g: number, b: number): number {
  return (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
}

function expand5(v: number): number {
  return (v << 3) | (v >> 2);
}

function expand6(v: number): number {
  return (v << 2) | (v >> 4);
}
