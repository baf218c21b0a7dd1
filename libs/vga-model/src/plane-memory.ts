/**
 * The VGA's 256 KiB of display memory as four 64 KiB planes, with the four 8-bit latches,
 * and the CPU read/write datapath of the Graphics Controller (FreeVGA "VGA Memory
 * Organization", "Graphics Registers": write modes 0-3, read modes 0-1, set/reset, data
 * rotate, logical operation, bit mask) under the Sequencer's map mask and addressing
 * (chain-4, odd/even).
 */
import { GraphicsController, GR_BIT_MASK, GR_COLOR_COMPARE, GR_COLOR_DONT_CARE, GR_ENABLE_SET_RESET, GR_SET_RESET, LOGIC_AND, LOGIC_OR, LOGIC_XOR } from './graphics-controller.js';
import { Sequencer } from './sequencer.js';
import { StateReader, saveSparse } from './state-io.js';

export const PLANE_SIZE = 0x10000;
export const PLANE_COUNT = 4;
/** Granule of the sparse saved form. */
const SAVE_PAGE = 0x1000;

/** Where one CPU byte lands: the plane offset and the planes it may touch. */
export interface PlaneTarget {
  offset: number;
  /** Bit p set = plane p is addressed (before the map mask for writes). */
  planes: number;
}

/**
 * Plane offset of chain-4 CPU address `a`: bits 1-0 chose the plane, so address bits
 * 15-14 take their place. This is the inverse of the CRTC's doubleword rotation
 * (Crtc.memoryAddress), so byte a of a mode 13h screen is pixel a.
 */
export function chain4Offset(a: number): number {
  return ((a & 0xfffc) | ((a >> 14) & 3)) & 0xffff;
}

/** Plane offset of odd/even CPU address `a` (bit 0 chose the plane). */
export function oddEvenOffset(a: number): number {
  return a & 0xfffe;
}

export class PlaneMemory {
  /** Plane p occupies [p * PLANE_SIZE, (p + 1) * PLANE_SIZE). */
  readonly vram = new Uint8Array(PLANE_SIZE * PLANE_COUNT);
  readonly latch = new Uint8Array(PLANE_COUNT);

  plane(p: number): Uint8Array {
    return this.vram.subarray(p * PLANE_SIZE, (p + 1) * PLANE_SIZE);
  }

  /**
   * CPU write addressing of window offset `a`: chain-4 selects plane a & 3 (see
   * chain4Offset); odd/even selects planes 0/2 for even and 1/3 for odd addresses at the
   * word-aligned offset; otherwise all planes at offset a.
   */
  static writeTarget(a: number, seq: Sequencer): PlaneTarget {
    if (seq.chain4) return { offset: chain4Offset(a), planes: 1 << (a & 3) };
    if (seq.oddEvenWrites) return { offset: oddEvenOffset(a), planes: a & 1 ? 0b1010 : 0b0101 };
    return { offset: a & 0xffff, planes: 0b1111 };
  }

  /** CPU read addressing: which single plane read mode 0 returns, and the offset. */
  static readTarget(a: number, seq: Sequencer, gc: GraphicsController): { offset: number; plane: number } {
    if (seq.chain4) return { offset: chain4Offset(a), plane: a & 3 };
    if (gc.hostOddEvenReads) return { offset: oddEvenOffset(a), plane: (gc.readMap & 2) | (a & 1) };
    return { offset: a & 0xffff, plane: gc.readMap };
  }

  /** A CPU read of window offset `a`: loads the latches, then read mode 0 or 1. */
  cpuRead(a: number, seq: Sequencer, gc: GraphicsController): number {
    const { offset, plane } = PlaneMemory.readTarget(a, seq, gc);
    const v = this.vram;
    const l = this.latch;
    for (let p = 0; p < PLANE_COUNT; p++) l[p] = v[p * PLANE_SIZE + offset];
    if (gc.readMode === 0) return l[plane];
    // Read mode 1, colour compare: a bit is 1 where every plane not excluded by Color
    // Don't Care matches the Color Compare bit of that plane.
    const compare = gc.regs[GR_COLOR_COMPARE];
    const care = gc.regs[GR_COLOR_DONT_CARE];
    let result = 0xff;
    for (let p = 0; p < PLANE_COUNT; p++) {
      if (!(care & (1 << p))) continue;
      const want = compare & (1 << p) ? 0xff : 0x00;
      result &= ~(l[p] ^ want);
    }
    return result & 0xff;
  }

  /** A CPU write of `value` to window offset `a` through the selected write mode. */
  cpuWrite(a: number, value: number, seq: Sequencer, gc: GraphicsController): void {
    const { offset, planes } = PlaneMemory.writeTarget(a, seq);
    const enabled = planes & seq.mapMask;
    if (!enabled) return;
    const mode = gc.writeMode;
    const l = this.latch;
    const v = this.vram;
    if (mode === 1) {
      for (let p = 0; p < PLANE_COUNT; p++) if (enabled & (1 << p)) v[p * PLANE_SIZE + offset] = l[p];
      return;
    }
    const rot = gc.rotateCount;
    const rotated = ((value >> rot) | (value << (8 - rot))) & 0xff;
    const setReset = gc.regs[GR_SET_RESET];
    let mask = gc.regs[GR_BIT_MASK];
    if (mode === 3) mask &= rotated;
    const op = gc.logicalOp;
    for (let p = 0; p < PLANE_COUNT; p++) {
      if (!(enabled & (1 << p))) continue;
      const bit = 1 << p;
      let d: number;
      if (mode === 0) d = gc.regs[GR_ENABLE_SET_RESET] & bit ? (setReset & bit ? 0xff : 0) : rotated;
      else if (mode === 2) d = value & bit ? 0xff : 0;
      else d = setReset & bit ? 0xff : 0; // mode 3
      if (op === LOGIC_AND) d &= l[p];
      else if (op === LOGIC_OR) d |= l[p];
      else if (op === LOGIC_XOR) d ^= l[p];
      v[p * PLANE_SIZE + offset] = (d & mask) | (l[p] & ~mask & 0xff);
    }
  }

  save(): Record<string, unknown> {
    return { latch: Array.from(this.latch), pages: saveSparse(this.vram, SAVE_PAGE) };
  }

  static load(r: StateReader): PlaneMemory {
    const m = new PlaneMemory();
    m.latch.set(r.regs('latch', PLANE_COUNT));
    m.vram.set(r.sparse('pages', PLANE_SIZE * PLANE_COUNT, SAVE_PAGE));
    return m;
  }
}
