/**
 * VGA Graphics Controller (FreeVGA "Graphics Registers"), index 3CEh, data 3CFh.
 * Controls how CPU reads and writes are combined with the latches and planes
 * (PlaneMemory applies them) and where the memory window appears.
 */
import { StateReader } from './state-io.js';

export const GR_SET_RESET = 0x00;
export const GR_ENABLE_SET_RESET = 0x01;
export const GR_COLOR_COMPARE = 0x02;
/** GR03 Data Rotate: bits 0-2 rotate count, bits 3-4 logical operation. */
export const GR_DATA_ROTATE = 0x03;
export const GR_READ_MAP_SELECT = 0x04;
/** GR05 Graphics Mode: bits 0-1 write mode, bit 3 read mode, bit 4 host odd/even, bit 5 shift interleave, bit 6 256-colour shift. */
export const GR_GRAPHICS_MODE = 0x05;
/** GR06 Miscellaneous Graphics: bit 0 alphanumerics disable, bit 1 chain odd/even, bits 2-3 memory map select. */
export const GR_MISC = 0x06;
export const GR_COLOR_DONT_CARE = 0x07;
export const GR_BIT_MASK = 0x08;
export const GR_COUNT = 9;

export const GR05_READ_MODE_1 = 0x08;
export const GR05_HOST_ODD_EVEN = 0x10;
export const GR05_SHIFT_INTERLEAVE = 0x20;
export const GR05_SHIFT_256 = 0x40;
export const GR06_GRAPHICS = 0x01;

/** Logical operations of GR03 bits 3-4. */
export const LOGIC_NONE = 0;
export const LOGIC_AND = 1;
export const LOGIC_OR = 2;
export const LOGIC_XOR = 3;

/** Memory map select (GR06 bits 2-3): base and length of the CPU window. */
export const MEMORY_MAPS: readonly { base: number; length: number }[] = [
  { base: 0xa0000, length: 0x20000 },
  { base: 0xa0000, length: 0x10000 },
  { base: 0xb0000, length: 0x8000 },
  { base: 0xb8000, length: 0x8000 },
];

const GR_WRITE_MASK = [0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff] as const;

export class GraphicsController {
  index = 0;
  readonly regs = new Uint8Array(GR_COUNT);

  readIndex(): number {
    return this.index;
  }

  writeIndex(value: number): void {
    this.index = value & 0x0f;
  }

  readData(): number | null {
    return this.index < GR_COUNT ? this.regs[this.index] : null;
  }

  writeData(value: number): boolean {
    if (this.index >= GR_COUNT) return false;
    this.regs[this.index] = value & GR_WRITE_MASK[this.index];
    return true;
  }

  get writeMode(): number {
    return this.regs[GR_GRAPHICS_MODE] & 3;
  }
  get readMode(): number {
    return this.regs[GR_GRAPHICS_MODE] & GR05_READ_MODE_1 ? 1 : 0;
  }
  get hostOddEvenReads(): boolean {
    return (this.regs[GR_GRAPHICS_MODE] & GR05_HOST_ODD_EVEN) !== 0;
  }
  get rotateCount(): number {
    return this.regs[GR_DATA_ROTATE] & 7;
  }
  get logicalOp(): number {
    return (this.regs[GR_DATA_ROTATE] >> 3) & 3;
  }
  get readMap(): number {
    return this.regs[GR_READ_MAP_SELECT] & 3;
  }
  get memoryMap(): { base: number; length: number } {
    return MEMORY_MAPS[(this.regs[GR_MISC] >> 2) & 3];
  }
  get graphicsMode(): boolean {
    return (this.regs[GR_MISC] & GR06_GRAPHICS) !== 0;
  }
  get shift256(): boolean {
    return (this.regs[GR_GRAPHICS_MODE] & GR05_SHIFT_256) !== 0;
  }
  get shiftInterleave(): boolean {
    return (this.regs[GR_GRAPHICS_MODE] & GR05_SHIFT_INTERLEAVE) !== 0;
  }

  save(): Record<string, unknown> {
    return { index: this.index, regs: Array.from(this.regs) };
  }

  static load(r: StateReader): GraphicsController {
    const g = new GraphicsController();
    g.index = r.int('index', 0, 0x0f);
    const regs = r.regs('regs', GR_COUNT);
    regs.forEach((v, i) => (g.regs[i] = v & GR_WRITE_MASK[i]));
    return g;
  }
}
