/**
 * VGA Attribute Controller (FreeVGA "Attribute Controller Registers"). One port, 3C0h,
 * takes address and data alternately through a flip-flop that reading Input Status #1
 * resets to "address"; 3C1h reads the data. Maps 4-bit pixel/attribute values to DAC
 * indexes through the 16 palette registers.
 */
import { StateReader } from './state-io.js';

/** AR00-AR0F Palette registers (6 bits). */
export const AR_PALETTE_0 = 0x00;
export const AR_PALETTE_COUNT = 16;
export const AR_MODE_CONTROL = 0x10;
export const AR_OVERSCAN_COLOR = 0x11;
export const AR_COLOR_PLANE_ENABLE = 0x12;
export const AR_HORIZONTAL_PIXEL_PANNING = 0x13;
export const AR_COLOR_SELECT = 0x14;
export const AR_COUNT = 0x15;

/** Address register bit 5, Palette Address Source: 1 = normal display, 0 = palette loading (screen blanked). */
export const AR_INDEX_PAS = 0x20;

/** AR10 Attribute Mode Control bits. */
export const AR10_GRAPHICS = 0x01; // ATGE
export const AR10_MONO = 0x02; // monochrome emulation (underline)
export const AR10_LINE_GRAPHICS = 0x04; // LGE: 9th column repeats for C0h-DFh
export const AR10_BLINK = 0x08; // 1 = attribute bit 7 blinks, 0 = bright background
export const AR10_PIXEL_PANNING_MODE = 0x20;
export const AR10_8BIT = 0x40; // 256-colour: two dot clocks per pixel
export const AR10_P54S = 0x80; // palette bits 5-4 from AR14 bits 1-0

const AR_WRITE_MASK = [
  0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
  0xef, 0xff, 0x3f, 0x0f, 0x0f,
] as const;

export type AcWriteResult = 'index' | 'ok' | 'unknown' | 'protected';

export class AttributeController {
  /** Address register as written: bits 0-4 index, bit 5 PAS. */
  index = 0;
  /** Flip-flop: true when the next 3C0h write is data. */
  dataNext = false;
  readonly regs = new Uint8Array(AR_COUNT);

  /** Reading Input Status #1 sets the flip-flop to "address". */
  resetFlipFlop(): void {
    this.dataNext = false;
  }

  readIndex(): number {
    return this.index;
  }

  readData(): number | null {
    const i = this.index & 0x1f;
    return i < AR_COUNT ? this.regs[i] : null;
  }

  write(value: number): AcWriteResult {
    if (!this.dataNext) {
      this.index = value & 0x3f;
      this.dataNext = true;
      return 'index';
    }
    this.dataNext = false;
    const i = this.index & 0x1f;
    if (i >= AR_COUNT) return 'unknown';
    // Palette registers only take new values while PAS = 0 (the CPU owns the palette).
    if (i < AR_PALETTE_COUNT && this.index & AR_INDEX_PAS) return 'protected';
    this.regs[i] = value & AR_WRITE_MASK[i];
    return 'ok';
  }

  /** With PAS = 0 the display shows the overscan colour only. */
  get displayEnabled(): boolean {
    return (this.index & AR_INDEX_PAS) !== 0;
  }
  get modeControl(): number {
    return this.regs[AR_MODE_CONTROL];
  }

  /** DAC index of a 4-bit pixel or attribute colour value (Color Plane Enable, palette, Color Select). */
  dacIndex(value: number): number {
    const p = this.regs[value & this.regs[AR_COLOR_PLANE_ENABLE] & 0x0f];
    const sel = this.regs[AR_COLOR_SELECT];
    const low = this.regs[AR_MODE_CONTROL] & AR10_P54S ? (p & 0x0f) | ((sel & 0x03) << 4) : p & 0x3f;
    return low | ((sel & 0x0c) << 4);
  }

  save(): Record<string, unknown> {
    return { index: this.index, dataNext: this.dataNext, regs: Array.from(this.regs) };
  }

  static load(r: StateReader): AttributeController {
    const a = new AttributeController();
    a.index = r.int('index', 0, 0x3f);
    a.dataNext = r.bool('dataNext');
    const regs = r.regs('regs', AR_COUNT);
    regs.forEach((v, i) => (a.regs[i] = v & AR_WRITE_MASK[i]));
    return a;
  }
}
