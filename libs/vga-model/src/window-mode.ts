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
