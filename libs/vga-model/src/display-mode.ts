/**
 * What the adapter currently displays, derived from the registers the way the CRTC,
 * sequencer and attribute controller scan memory out (FreeVGA "CRT Controller
 * Registers", "Attribute Controller Registers"). Shared by the renderer and screenText().
 */
import type { AttributeController } from './attribute-controller.js';
import type { Crtc } from './crtc.js';
import type { Dac } from './dac.js';
import type { GraphicsController } from './graphics-controller.js';
import type { PlaneMemory } from './plane-memory.js';
import type { Sequencer } from './sequencer.js';
import type { VbeDispi } from './vbe-dispi.js';

/** The units a renderer reads; the adapter hands over its current ones. */
export interface VgaUnits {
  seq: Sequencer;
  crtc: Crtc;
  gc: GraphicsController;
  ac: AttributeController;
  dac: Dac;
  planes: PlaneMemory;
  vbe: VbeDispi;
}

export type DisplayKind = 'text' | 'planar' | 'cga' | 'chain256' | 'vbe';

export interface DisplayMode {
  kind: DisplayKind;
  width: number;
  height: number;
  /** False while the sequencer or attribute controller blanks the screen. */
  visible: boolean;
  /** Text modes: character columns/rows and cell size. */
  columns?: number;
  rows?: number;
  cellWidth?: number;
  cellHeight?: number;
  /** VBE modes: bits per pixel. */
  bpp?: number;
}

export function displayMode(u: VgaUnits): DisplayMode {
  if (u.vbe.enabled) {
    return { kind: 'vbe', width: u.vbe.xres, height: u.vbe.yres, visible: true, bpp: u.vbe.bpp };
  }
  const visible = !u.seq.screenDisabled && u.ac.displayEnabled;
  const clocks = u.crtc.displayedCharClocks;
  const lines = Math.max(1, Math.floor(u.crtc.displayedScanLines / (u.crtc.scanDoubling ? 2 : 1)));
  const cellHeight = u.crtc.maxScanLine + 1;
  if (!u.gc.graphicsMode) {
    const cellWidth = u.seq.charWidth;
    const rows = Math.max(1, Math.floor(lines / cellHeight));
    return { kind: 'text', width: clocks * cellWidth, height: lines, visible, columns: clocks, rows, cellWidth, cellHeight };
  }
  // Graphics: when the scan counter does not feed address bits 13/14, every scan line of
  // a character row shows the same memory, so a row is one picture line.
  const banked = u.crtc.cgaBanking || u.crtc.herculesBanking;
  const height = banked ? lines : Math.max(1, Math.ceil(lines / cellHeight));
  if (u.gc.shift256) return { kind: 'chain256', width: clocks * 4, height, visible };
  if (u.gc.shiftInterleave) return { kind: 'cga', width: clocks * 8, height, visible };
  return { kind: 'planar', width: clocks * 8, height, visible };
}

export function sameMode(a: DisplayMode, b: DisplayMode): boolean {
  return a.kind === b.kind && a.width === b.width && a.height === b.height && a.bpp === b.bpp;
}
