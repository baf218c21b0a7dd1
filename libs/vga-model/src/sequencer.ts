/**
 * VGA Sequencer (FreeVGA "Sequencer Registers"; IBM VGA Technical Reference, Sequencer
 * Registers), index port 3C4h, data port 3C5h. Holds the clocking and CPU memory
 * addressing controls; the planes themselves live in PlaneMemory.
 */
import { StateReader } from './state-io.js';

/** SR00 Reset Register: bit 0 asynchronous reset, bit 1 synchronous reset. */
export const SR_RESET = 0x00;
/** SR01 Clocking Mode Register. */
export const SR_CLOCKING_MODE = 0x01;
/** SR02 Map Mask Register: bits 0-3 enable CPU writes to planes 0-3. */
export const SR_MAP_MASK = 0x02;
/** SR03 Character Map Select Register. */
export const SR_CHARACTER_MAP_SELECT = 0x03;
/** SR04 Sequencer Memory Mode Register. */
export const SR_MEMORY_MODE = 0x04;
export const SR_COUNT = 5;

/** SR01 bits. */
export const SR01_DOT_MODE_8 = 0x01; // 1 = 8-dot character clocks, 0 = 9-dot
export const SR01_DOT_CLOCK_HALF = 0x08; // dot clock divided by two (320/360-pixel modes)
export const SR01_SCREEN_DISABLE = 0x20; // SD: screen blanked, full memory bandwidth to CPU
/** SR04 bits. */
export const SR04_EXTENDED_MEMORY = 0x02;
export const SR04_ODD_EVEN_DISABLE = 0x04; // 0 = host odd/even write addressing
export const SR04_CHAIN_4 = 0x08;

/** Writable bits of each register (undefined bits read back as 0). */
const SR_WRITE_MASK = [0x03, 0x3d, 0x0f, 0x3f, 0x0e] as const;

export class Sequencer {
  /** Sequencer Address Register (3 bits on the VGA). */
  index = 0;
  readonly regs = new Uint8Array(SR_COUNT);

  readIndex(): number {
    return this.index;
  }

  writeIndex(value: number): void {
    this.index = value & 0x07;
  }

  /** Data read at the current index; null when the index names no register. */
  readData(): number | null {
    return this.index < SR_COUNT ? this.regs[this.index] : null;
  }

  /** Returns false when the index names no register (the write is dropped). */
  writeData(value: number): boolean {
    if (this.index >= SR_COUNT) return false;
    this.regs[this.index] = value & SR_WRITE_MASK[this.index];
    return true;
  }

  get mapMask(): number {
    return this.regs[SR_MAP_MASK];
  }
  get chain4(): boolean {
    return (this.regs[SR_MEMORY_MODE] & SR04_CHAIN_4) !== 0;
  }
  /** Host odd/even write addressing (SR04 bit 2 clear). */
  get oddEvenWrites(): boolean {
    return (this.regs[SR_MEMORY_MODE] & SR04_ODD_EVEN_DISABLE) === 0;
  }
  get screenDisabled(): boolean {
    return (this.regs[SR_CLOCKING_MODE] & SR01_SCREEN_DISABLE) !== 0;
  }
  /** Character cell width in dots: 8 or 9 (SR01 bit 0). */
  get charWidth(): 8 | 9 {
    return this.regs[SR_CLOCKING_MODE] & SR01_DOT_MODE_8 ? 8 : 9;
  }

  /**
   * Plane-2 byte offsets of the two character maps (SR03). Map A (attribute bit 3 = 1) is
   * bits 5,3,2; map B is bits 4,1,0. Maps 0-3 start at 0/16/32/48 KiB, maps 4-7 at
   * 8/24/40/56 KiB.
   */
  fontOffsets(): { mapA: number; mapB: number } {
    const r = this.regs[SR_CHARACTER_MAP_SELECT];
    const a = ((r >> 2) & 3) | ((r >> 3) & 4);
    const b = (r & 3) | ((r >> 2) & 4);
    return { mapA: charMapOffset(a), mapB: charMapOffset(b) };
  }

  save(): Record<string, unknown> {
    return { index: this.index, regs: Array.from(this.regs) };
  }

  static load(r: StateReader): Sequencer {
    const s = new Sequencer();
    s.index = r.int('index', 0, 7);
    const regs = r.regs('regs', SR_COUNT);
    regs.forEach((v, i) => (s.regs[i] = v & SR_WRITE_MASK[i]));
    return s;
  }
}

function charMapOffset(map: number): number {
  return (map & 3) * 0x4000 + (map >> 2) * 0x2000;
}
