/**
 * Turns the adapter's current state into an RGBA picture and tells callers which parts
 * changed. Frames are numbered; dirty rectangles are relative to the previous frame, and
 * a caller that missed frames (or the first frame, or a mode change) gets the whole
 * screen. The renderer's buffers are caches, not device state.
 */
import { displayMode, sameMode, type DisplayMode, type VgaUnits } from './display-mode.js';
import { frameNumber } from './display-timing.js';
import { renderPlanes, renderVbe } from './graphics-renderer.js';
import { renderText } from './text-renderer.js';

export interface DirtyRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RenderedFrame {
  /** Increments on every render() call; pass it back as `sinceFrame` next time. */
  frame: number;
  width: number;
  height: number;
  /** width * height * 4 bytes, R,G,B,A. Owned by the renderer: valid until the next render(). */
  rgba: Uint8Array;
  /** Changed regions since frame `sinceFrame` (or since the previous frame). */
  dirty: DirtyRect[];
  mode: DisplayMode;
}

/** Dirty tracking granule in pixels. */
export const TILE_WIDTH = 32;
export const TILE_HEIGHT = 16;

export class Renderer {
  private frame = 0;
  private current = new Uint32Array(0);
  private previous = new Uint32Array(0);
  private lastMode: DisplayMode | null = null;

  /** Last frame number handed out (0 before the first render). */
  get frameCount(): number {
    return this.frame;
  }

  render(u: VgaUnits, now: number, sinceFrame?: number): RenderedFrame {
    const mode = displayMode(u);
    const pixels = mode.width * mode.height;
    // Swap buffers: the one handed out last time becomes the comparison base.
    const prev = this.current;
    let out = this.previous;
    if (out.length !== pixels) out = new Uint32Array(pixels);
    if (!mode.visible) out.fill(0xff000000);
    else if (mode.kind === 'text') renderText(u, mode, out, frameNumber(now));
    else if (mode.kind === 'vbe') renderVbe(u, mode, out);
    else renderPlanes(u, mode, out);

    const full = !this.lastMode || !sameMode(this.lastMode, mode) || prev.length !== pixels ||
      (sinceFrame !== undefined && sinceFrame !== this.frame);
    const dirty = full ? [{ x: 0, y: 0, width: mode.width, height: mode.height }] : diffRects(prev, out, mode.width, mode.height);
    this.previous = prev;
    this.current = out;
    this.lastMode = mode;
    this.frame++;
    return {
      frame: this.frame,
      width: mode.width,
      height: mode.height,
      rgba: new Uint8Array(out.buffer, out.byteOffset, out.byteLength),
      dirty,
      mode,
    };
  }
}

/**
 * Rectangles covering every tile that differs between two frames of the same size:
 * dirty tiles are joined into runs along a tile row, and runs with the same columns on
 * consecutive tile rows are joined downwards.
 */
export function diffRects(a: Uint32Array, b: Uint32Array, width: number, height: number): DirtyRect[] {
  const rects: DirtyRect[] = [];
  let open: DirtyRect[] = [];
  for (let ty = 0; ty < height; ty += TILE_HEIGHT) {
    const th = Math.min(TILE_HEIGHT, height - ty);
    const runs: DirtyRect[] = [];
    let runStart = -1;
    for (let tx = 0; tx < width + TILE_WIDTH; tx += TILE_WIDTH) {
      const dirty = tx < width && tileDiffers(a, b, width, tx, ty, Math.min(TILE_WIDTH, width - tx), th);
      if (dirty && runStart < 0) runStart = tx;
      if (!dirty && runStart >= 0) {
        runs.push({ x: runStart, y: ty, width: Math.min(tx, width) - runStart, height: th });
        runStart = -1;
      }
    }
    const next: DirtyRect[] = [];
    for (const run of runs) {
      const above = open.find((r) => r.x === run.x && r.width === run.width && r.y + r.height === ty);
      if (above) {
        above.height += th;
        next.push(above);
      } else {
        rects.push(run);
        next.push(run);
      }
    }
    open = next;
  }
  return rects;
}

function tileDiffers(a: Uint32Array, b: Uint32Array, width: number, x: number, y: number, w: number, h: number): boolean {
  for (let j = 0; j < h; j++) {
    const base = (y + j) * width + x;
    for (let i = 0; i < w; i++) if (a[base + i] !== b[base + i]) return true;
  }
  return false;
}
