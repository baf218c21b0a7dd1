/**
 * Whether the 0A0000h window behaves like plain RAM (DESIGN.md "Memory that devices own").
 * It does when every CPU byte lands in exactly one place and reads return what was
 * written: write mode 0 with no set/reset, rotate, logical operation or bit mask, read
 * mode 0, and either chain-4 with all planes enabled (mode 13h), or host odd/even on
 * planes 0/1 (text and CGA modes), or a VBE mode (banked window over VBE memory). Then the
 * vCPU maps the window as RAM with dirty tracking; otherwise (planar modes) it traps.
 */
import { GR_BIT_MASK, GR_DATA_ROTATE, GR_ENABLE_SET_RESET, GR_GRAPHICS_MODE } from './graphics-controller.js';
import type { GraphicsController } from './graphics-controller.js';
import { MISC_RAM_ENABLE, VGA_WINDOW_BASE, VGA_WINDOW_LENGTH } from './ports.js';
import type { Sequencer } from './sequencer.js';
import type { VbeDispi } from './vbe-dispi.js';
import { VBE_BANK_SIZE } from './vbe-dispi.js';
import { chain4Offset, oddEvenOffset, PLANE_SIZE } from './plane-memory.js';
import type { StateReader } from './state-io.js';

/** How window bytes map to device memory. */
export type WindowMapping = 'odd-even' | 'chain-4' | 'vbe-bank' | 'planar' | 'disabled';

export interface WindowMode {
  mode: 'direct' | 'trap';
  /** The guest-physical range the mapping covers; the rest of 0A0000h-0BFFFFh is unmapped. */
  base: number;
  length: number;
  mapping: WindowMapping;
  /** VBE bank (64 KiB units) shown in the window; 0 for other mappings. */
  bank: number;
  /** Increments on every change, so a late sync can be matched to its mapping. */
  generation: number;
}

export function computeWindowMode(misc: number, seq: Sequencer, gc: GraphicsController, vbe: VbeDispi): Omit<WindowMode, 'generation'> {
  if (vbe.enabled) return { mode: 'direct', base: VGA_WINDOW_BASE, length: VBE_BANK_SIZE, mapping: 'vbe-bank', bank: vbe.bank };
  if (!(misc & MISC_RAM_ENABLE)) return { mode: 'trap', base: VGA_WINDOW_BASE, length: VGA_WINDOW_LENGTH, mapping: 'disabled', bank: 0 };
  const { base, length } = gc.memoryMap;
  const r = gc.regs;
  const plain = (r[GR_GRAPHICS_MODE] & 0x0b) === 0 && r[GR_ENABLE_SET_RESET] === 0 && r[GR_DATA_ROTATE] === 0 && r[GR_BIT_MASK] === 0xff;
  if (plain && seq.chain4 && seq.mapMask === 0x0f) return { mode: 'direct', base, length, mapping: 'chain-4', bank: 0 };
  if (plain && !seq.chain4 && seq.oddEvenWrites && gc.hostOddEvenReads && seq.mapMask === 0x03 && (gc.readMap & 2) === 0) {
    return { mode: 'direct', base, length, mapping: 'odd-even', bank: 0 };
  }
  return { mode: 'trap', base, length, mapping: 'planar', bank: 0 };
}

export function sameWindow(a: Omit<WindowMode, 'generation'>, b: Omit<WindowMode, 'generation'>): boolean {
  return a.mode === b.mode && a.base === b.base && a.length === b.length && a.mapping === b.mapping && a.bank === b.bank;
}

/** How many past direct mappings syncWindow can still apply pages through. */
export const DIRECT_HISTORY = 8;
const DIRECT_MAPPINGS: readonly WindowMapping[] = ['odd-even', 'chain-4', 'vbe-bank'];

/**
 * The current window mode with a generation counter, and the most recent direct mappings
 * (newest last) so dirty pages the vCPU ships late still land where the guest wrote them.
 */
export class WindowTracker {
  current: WindowMode;
  history: WindowMode[] = [];

  constructor(initial: Omit<WindowMode, 'generation'>, generation = 0) {
    this.current = { ...initial, generation };
  }

  /** Adopt `next`; returns the new mode when it differs from the current one, else null. */
  update(next: Omit<WindowMode, 'generation'>): WindowMode | null {
    if (sameWindow(next, this.current)) return null;
    this.current = { ...next, generation: this.current.generation + 1 };
    if (this.current.mode === 'direct') {
      this.history.push({ ...this.current });
      if (this.history.length > DIRECT_HISTORY) this.history.shift();
    }
    return { ...this.current };
  }

  /** The direct mapping of `generation`, or the newest one. */
  direct(generation?: number): WindowMode | undefined {
    return generation === undefined ? this.history.at(-1) : this.history.find((d) => d.generation === generation);
  }

  save(): Record<string, unknown> {
    return {
      generation: this.current.generation,
      directHistory: this.history.map((m) => ({ mapping: m.mapping, base: m.base, length: m.length, bank: m.bank, generation: m.generation })),
    };
  }

  /** Parses a saved tracker; the current mode itself is recomputed from the registers. */
  static load(r: StateReader, current: Omit<WindowMode, 'generation'>, vbeMemorySize: number): WindowTracker {
    const generation = r.int('generation', 0, Number.MAX_SAFE_INTEGER);
    const t = new WindowTracker(current, generation);
    t.history = r.objArray('directHistory', DIRECT_HISTORY).map((m) => ({
      mode: 'direct' as const,
      mapping: m.oneOf('mapping', DIRECT_MAPPINGS),
      base: m.int('base', VGA_WINDOW_BASE, VGA_WINDOW_BASE + VGA_WINDOW_LENGTH - 1),
      length: m.int('length', 1, VGA_WINDOW_LENGTH),
      bank: m.int('bank', 0, vbeMemorySize / VBE_BANK_SIZE - 1),
      generation: m.int('generation', 0, generation),
    }));
    return t;
  }
}

/** Where window offset `a` of a direct mapping lives: plane memory (plane * 64K + offset) or VBE memory. */
export function directOffset(mapping: WindowMapping, a: number, bank: number): { vbe: boolean; offset: number } {
  if (mapping === 'vbe-bank') return { vbe: true, offset: bank * VBE_BANK_SIZE + a };
  if (mapping === 'chain-4') return { vbe: false, offset: (a & 3) * PLANE_SIZE + chain4Offset(a) };
  return { vbe: false, offset: (a & 1) * PLANE_SIZE + oddEvenOffset(a) }; // odd-even, planes 0/1
}
