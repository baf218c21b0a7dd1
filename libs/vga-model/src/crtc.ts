/**
 * VGA CRT Controller (FreeVGA "CRT Controller Registers"), index/data at 3B4h/3B5h or
 * 3D4h/3D5h by Miscellaneous Output bit 0. Holds display timing, start address, cursor
 * and the memory address generation controls the renderer follows.
 */
import { StateReader } from './state-io.js';

export const CR_HORIZONTAL_TOTAL = 0x00;
export const CR_END_HORIZONTAL_DISPLAY = 0x01;
export const CR_START_HORIZONTAL_BLANKING = 0x02;
export const CR_END_HORIZONTAL_BLANKING = 0x03;
export const CR_START_HORIZONTAL_RETRACE = 0x04;
export const CR_END_HORIZONTAL_RETRACE = 0x05;
export const CR_VERTICAL_TOTAL = 0x06;
export const CR_OVERFLOW = 0x07;
export const CR_PRESET_ROW_SCAN = 0x08;
export const CR_MAXIMUM_SCAN_LINE = 0x09;
export const CR_CURSOR_START = 0x0a;
export const CR_CURSOR_END = 0x0b;
export const CR_START_ADDRESS_HIGH = 0x0c;
export const CR_START_ADDRESS_LOW = 0x0d;
export const CR_CURSOR_LOCATION_HIGH = 0x0e;
export const CR_CURSOR_LOCATION_LOW = 0x0f;
export const CR_VERTICAL_RETRACE_START = 0x10;
export const CR_VERTICAL_RETRACE_END = 0x11;
export const CR_VERTICAL_DISPLAY_END = 0x12;
export const CR_OFFSET = 0x13;
export const CR_UNDERLINE_LOCATION = 0x14;
export const CR_START_VERTICAL_BLANKING = 0x15;
export const CR_END_VERTICAL_BLANKING = 0x16;
export const CR_MODE_CONTROL = 0x17;
export const CR_LINE_COMPARE = 0x18;
export const CR_COUNT = 0x19;

/** CR07 Overflow bits feeding the 10-bit vertical values. */
export const CR07_VDE_BIT8 = 0x02;
export const CR07_LINE_COMPARE_BIT8 = 0x10;
export const CR07_VDE_BIT9 = 0x40;
/** CR09 Maximum Scan Line bits. */
export const CR09_SCAN_DOUBLING = 0x80;
export const CR09_MAX_SCAN_LINE = 0x1f;
export const CR09_LINE_COMPARE_BIT9 = 0x40;
/** CR0A Cursor Start bits. */
export const CR0A_CURSOR_DISABLE = 0x20;
/** CR11 Vertical Retrace End bit 7: protect CR00-CR07 (except CR07 bit 4). */
export const CR11_PROTECT = 0x80;
/** CR14 Underline Location bits. */
export const CR14_DOUBLEWORD = 0x40;
/** CR17 CRTC Mode Control bits. */
export const CR17_MAP_13 = 0x01; // CMS: 0 = row scan bit 0 replaces address bit 13 (CGA)
export const CR17_MAP_14 = 0x02; // SRS: 0 = row scan bit 1 replaces address bit 14 (Hercules)
export const CR17_ADDRESS_WRAP = 0x20; // AW: word mode wraps with MA15 (1) or MA13 (0)
export const CR17_BYTE_MODE = 0x40; // Word/Byte: 1 = byte mode
export const CR17_SYNC_ENABLE = 0x80;

export type AddressMode = 'byte' | 'word' | 'doubleword';

export class Crtc {
  index = 0;
  readonly regs = new Uint8Array(CR_COUNT);

  readIndex(): number {
    return this.index;
  }

  writeIndex(value: number): void {
    this.index = value & 0x1f;
  }

  readData(): number | null {
    return this.index < CR_COUNT ? this.regs[this.index] : null;
  }

  /**
   * 'unknown' when the index names no register; 'protected' when CR11 bit 7 blocks it
   * (for CR07 only bit 4, line compare bit 8, stays writable).
   */
  writeData(value: number): 'ok' | 'unknown' | 'protected' {
    const i = this.index;
    if (i >= CR_COUNT) return 'unknown';
    if (i <= CR_OVERFLOW && this.regs[CR_VERTICAL_RETRACE_END] & CR11_PROTECT) {
      if (i !== CR_OVERFLOW) return 'protected';
      this.regs[i] = (this.regs[i] & ~CR07_LINE_COMPARE_BIT8) | (value & CR07_LINE_COMPARE_BIT8);
      return 'protected';
    }
    this.regs[i] = value & 0xff;
    return 'ok';
  }

  /** Character clocks of display per scan line (CR01 + 1). */
  get displayedCharClocks(): number {
    return this.regs[CR_END_HORIZONTAL_DISPLAY] + 1;
  }
  /** Displayed scan lines: 10-bit Vertical Display End + 1. */
  get displayedScanLines(): number {
    const ov = this.regs[CR_OVERFLOW];
    return (this.regs[CR_VERTICAL_DISPLAY_END] | (ov & CR07_VDE_BIT8 ? 0x100 : 0) | (ov & CR07_VDE_BIT9 ? 0x200 : 0)) + 1;
  }
  /** 10-bit Line Compare: after this scan line the display restarts at address 0 (split screen). */
  get lineCompare(): number {
    return this.regs[CR_LINE_COMPARE] | (this.regs[CR_OVERFLOW] & CR07_LINE_COMPARE_BIT8 ? 0x100 : 0) |
      (this.regs[CR_MAXIMUM_SCAN_LINE] & CR09_LINE_COMPARE_BIT9 ? 0x200 : 0);
  }
  /**
   * First output line below the split for a picture whose output lines each span
   * `scanLinesPerLine` scan lines, or Infinity when Line Compare lies below the display.
   */
  splitLine(scanLinesPerLine: number): number {
    const lc = this.lineCompare;
    return lc + 1 >= this.displayedScanLines ? Infinity : Math.floor(lc / scanLinesPerLine) + 1;
  }
  get maxScanLine(): number {
    return this.regs[CR_MAXIMUM_SCAN_LINE] & CR09_MAX_SCAN_LINE;
  }
  get scanDoubling(): boolean {
    return (this.regs[CR_MAXIMUM_SCAN_LINE] & CR09_SCAN_DOUBLING) !== 0;
  }
  get startAddress(): number {
    return (this.regs[CR_START_ADDRESS_HIGH] << 8) | this.regs[CR_START_ADDRESS_LOW];
  }
  get cursorLocation(): number {
    return (this.regs[CR_CURSOR_LOCATION_HIGH] << 8) | this.regs[CR_CURSOR_LOCATION_LOW];
  }
  get cursorStart(): number {
    return this.regs[CR_CURSOR_START] & 0x1f;
  }
  get cursorEnd(): number {
    return this.regs[CR_CURSOR_END] & 0x1f;
  }
  get cursorDisabled(): boolean {
    return (this.regs[CR_CURSOR_START] & CR0A_CURSOR_DISABLE) !== 0;
  }
  get presetRowScan(): number {
    return this.regs[CR_PRESET_ROW_SCAN] & 0x1f;
  }
  get underlineScanLine(): number {
    return this.regs[CR_UNDERLINE_LOCATION] & 0x1f;
  }
  /** Memory address units from one character row to the next: CR13 * 2. */
  get rowStride(): number {
    return this.regs[CR_OFFSET] * 2;
  }
  get addressMode(): AddressMode {
    if (this.regs[CR_UNDERLINE_LOCATION] & CR14_DOUBLEWORD) return 'doubleword';
    return this.regs[CR_MODE_CONTROL] & CR17_BYTE_MODE ? 'byte' : 'word';
  }
  get cgaBanking(): boolean {
    return (this.regs[CR_MODE_CONTROL] & CR17_MAP_13) === 0;
  }
  get herculesBanking(): boolean {
    return (this.regs[CR_MODE_CONTROL] & CR17_MAP_14) === 0;
  }

  /**
   * The plane offset the CRTC fetches for memory address counter value `ma` on row scan
   * `scan`: byte mode uses MA as is; word mode rotates left by one (bit 0 from MA13 or
   * MA15 by CR17 bit 5); doubleword mode rotates left by two. CR17 bits 0/1 clear replace
   * address bits 13/14 with row scan bits 0/1 (CGA/Hercules interleaved banks).
   */
  memoryAddress(ma: number, scan: number): number {
    let a: number;
    const cr17 = this.regs[CR_MODE_CONTROL];
    if (this.regs[CR_UNDERLINE_LOCATION] & CR14_DOUBLEWORD) a = (ma << 2) | ((ma >> 12) & 3);
    else if (cr17 & CR17_BYTE_MODE) a = ma;
    else a = (ma << 1) | ((cr17 & CR17_ADDRESS_WRAP ? ma >> 15 : ma >> 13) & 1);
    if (!(cr17 & CR17_MAP_13)) a = (a & ~0x2000) | ((scan & 1) << 13);
    if (!(cr17 & CR17_MAP_14)) a = (a & ~0x4000) | ((scan & 2) << 13);
    return a & 0xffff;
  }

  save(): Record<string, unknown> {
    return { index: this.index, regs: Array.from(this.regs) };
  }

  static load(r: StateReader): Crtc {
    const c = new Crtc();
    c.index = r.int('index', 0, 0x1f);
    c.regs.set(r.regs('regs', CR_COUNT));
    return c;
  }
}
