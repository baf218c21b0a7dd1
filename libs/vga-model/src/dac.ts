/**
 * VGA DAC / colour palette (FreeVGA "DAC Operation" and "Color Registers"): 256 entries of
 * red, green, blue. Writing 3C8h (write mode) or 3C7h (read mode) sets the address; 3C9h
 * then moves one component per access, red-green-blue, and the address advances after the
 * third. Components are 6 bits, or 8 bits while the VBE 8-bit DAC switch is on.
 */
import { StateReader, encodeBase64 } from './state-io.js';

export const DAC_ENTRIES = 256;
/** DAC State Register (3C7h read): 00b after a write-address, 11b after a read-address. */
export const DAC_STATE_WRITE = 0x00;
export const DAC_STATE_READ = 0x03;

export class Dac {
  /** 3C6h Pixel Mask, ANDed with every pixel's DAC index. */
  pixelMask = 0xff;
  writeIndex = 0;
  readIndex = 0;
  /** Which component (0 red, 1 green, 2 blue) the next 3C9h access moves. */
  writeStep = 0;
  readStep = 0;
  /** Last address register written: 3C7h (read) or 3C8h (write). */
  readMode = false;
  /** Components latched by 3C9h writes until the third completes the entry. */
  readonly pending = new Uint8Array(3);
  /** R, G, B per entry, as stored (6 or 8 bits). */
  readonly palette = new Uint8Array(DAC_ENTRIES * 3);
  /** Set by VBE DISPI ENABLE bit 5: components are 8 bits wide. */
  eightBit = false;

  setWriteIndex(v: number): void {
    this.writeIndex = v & 0xff;
    this.writeStep = 0;
    this.readMode = false;
  }

  setReadIndex(v: number): void {
    this.readIndex = v & 0xff;
    this.readStep = 0;
    this.readMode = true;
  }

  get state(): number {
    return this.readMode ? DAC_STATE_READ : DAC_STATE_WRITE;
  }

  writeData(v: number): void {
    this.pending[this.writeStep] = this.eightBit ? v & 0xff : v & 0x3f;
    if (++this.writeStep === 3) {
      this.palette.set(this.pending, this.writeIndex * 3);
      this.writeIndex = (this.writeIndex + 1) & 0xff;
      this.writeStep = 0;
    }
  }

  readData(): number {
    const v = this.palette[this.readIndex * 3 + this.readStep];
    if (++this.readStep === 3) {
      this.readIndex = (this.readIndex + 1) & 0xff;
      this.readStep = 0;
    }
    return v;
  }

  /** Colour of DAC entry `i` (after the pixel mask) as 0xAABBGGRR for a little-endian RGBA buffer. */
  rgba(i: number): number {
    const e = (i & this.pixelMask) * 3;
    const p = this.palette;
    if (this.eightBit) return (0xff000000 | (p[e + 2] << 16) | (p[e + 1] << 8) | p[e]) >>> 0;
    return (0xff000000 | (expand6(p[e + 2]) << 16) | (expand6(p[e + 1]) << 8) | expand6(p[e])) >>> 0;
  }

  /** All 256 entries as RGBA words, for a renderer's inner loop. */
  table(): Uint32Array {
    const t = new Uint32Array(DAC_ENTRIES);
    for (let i = 0; i < DAC_ENTRIES; i++) t[i] = this.rgba(i);
    return t;
  }

  save(): Record<string, unknown> {
    return {
      pixelMask: this.pixelMask,
      writeIndex: this.writeIndex,
      readIndex: this.readIndex,
      writeStep: this.writeStep,
      readStep: this.readStep,
      readMode: this.readMode,
      pending: Array.from(this.pending),
      eightBit: this.eightBit,
      palette: encodeBase64(this.palette),
    };
  }

  static load(r: StateReader): Dac {
    const d = new Dac();
    d.pixelMask = r.byte('pixelMask');
    d.writeIndex = r.byte('writeIndex');
    d.readIndex = r.byte('readIndex');
    d.writeStep = r.int('writeStep', 0, 2);
    d.readStep = r.int('readStep', 0, 2);
    d.readMode = r.bool('readMode');
    d.pending.set(r.regs('pending', 3));
    d.eightBit = r.bool('eightBit');
    d.palette.set(r.bytes('palette', DAC_ENTRIES * 3));
    return d;
  }
}

/** 6-bit DAC component to 8 bits, replicating the top bits into the bottom. */
export function expand6(v: number): number {
  const c = v & 0x3f;
  return (c << 2) | (c >> 4);
}
