/**
 * Input Status #1 timing from guest time. A VGA monitor frame at 640x480 is 525 lines of
 * about 31.78 us (31.469 kHz horizontal, 59.94 Hz vertical); 480 lines carry picture,
 * vertical retrace occupies lines 490-491, and each line displays for 640 of 800 dot
 * clocks (VESA DMT 640x480@60). The model never reads a host clock: everything here is a
 * pure function of the guest's `now`.
 */
import { IS1_DISPLAY_DISABLED, IS1_VERTICAL_RETRACE } from './ports.js';

export const LINE_NS = 1e9 / 31469;
export const LINES_PER_FRAME = 525;
export const FRAME_NS = LINE_NS * LINES_PER_FRAME;
export const VISIBLE_LINES = 480;
export const VRETRACE_FIRST_LINE = 490;
export const VRETRACE_LINES = 2;
/** Fraction of a line during which pixels are displayed (640 of 800 dot clocks). */
export const HORIZONTAL_DISPLAY_FRACTION = 640 / 800;

/** Input Status #1 bits 0 (display disabled) and 3 (vertical retrace) at guest time `now`. */
export function inputStatus1(now: number): number {
  const t = Math.max(0, now);
  const lineNumber = Math.floor(t / LINE_NS);
  const line = lineNumber % LINES_PER_FRAME;
  const inLine = (t - lineNumber * LINE_NS) / LINE_NS;
  let v = 0;
  if (line >= VISIBLE_LINES || inLine >= HORIZONTAL_DISPLAY_FRACTION) v |= IS1_DISPLAY_DISABLED;
  if (line >= VRETRACE_FIRST_LINE && line < VRETRACE_FIRST_LINE + VRETRACE_LINES) v |= IS1_VERTICAL_RETRACE;
  return v;
}

/** Vertical frames elapsed at `now`: drives the cursor (16 frames) and character (32 frames) blink. */
export function frameNumber(now: number): number {
  return Math.floor(Math.max(0, now) / FRAME_NS);
}
