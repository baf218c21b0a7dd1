// KeyboardEvent.code -> PS/2 scan code set 2 (what a keyboard sends), for the screen's
// keyboard capture. Extended keys carry the E0 prefix; a release is F0 before the code.
const BASE: Record<string, number> = {
  KeyA: 0x1c, KeyB: 0x32, KeyC: 0x21, KeyD: 0x23, KeyE: 0x24, KeyF: 0x2b, KeyG: 0x34, KeyH: 0x33, KeyI: 0x43,
  KeyJ: 0x3b, KeyK: 0x42, KeyL: 0x4b, KeyM: 0x3a, KeyN: 0x31, KeyO: 0x44, KeyP: 0x4d, KeyQ: 0x15, KeyR: 0x2d,
  KeyS: 0x1b, KeyT: 0x2c, KeyU: 0x3c, KeyV: 0x2a, KeyW: 0x1d, KeyX: 0x22, KeyY: 0x35, KeyZ: 0x1a,
  Digit1: 0x16, Digit2: 0x1e, Digit3: 0x26, Digit4: 0x25, Digit5: 0x2e, Digit6: 0x36, Digit7: 0x3d, Digit8: 0x3e, Digit9: 0x46, Digit0: 0x45,
  Minus: 0x4e, Equal: 0x55, Backspace: 0x66, Tab: 0x0d, BracketLeft: 0x54, BracketRight: 0x5b, Enter: 0x5a,
  ControlLeft: 0x14, Semicolon: 0x4c, Quote: 0x52, Backquote: 0x0e, ShiftLeft: 0x12, Backslash: 0x5d,
  Comma: 0x41, Period: 0x49, Slash: 0x4a, ShiftRight: 0x59, AltLeft: 0x11, Space: 0x29, CapsLock: 0x58, Escape: 0x76,
  F1: 0x05, F2: 0x06, F3: 0x04, F4: 0x0c, F5: 0x03, F6: 0x0b, F7: 0x83, F8: 0x0a, F9: 0x01, F10: 0x09, F11: 0x78, F12: 0x07,
};
const EXTENDED: Record<string, number> = {
  ArrowUp: 0x75, ArrowDown: 0x72, ArrowLeft: 0x6b, ArrowRight: 0x74, Home: 0x6c, End: 0x69, PageUp: 0x7d, PageDown: 0x7a,
  Insert: 0x70, Delete: 0x71, ControlRight: 0x14, AltRight: 0x11, NumpadEnter: 0x5a,
};

/** The bytes a PS/2 keyboard sends for pressing (down) or releasing a key; null for keys it has no code for. */
export function set2Bytes(code: string, down: boolean): number[] | null {
  const base = BASE[code];
  if (base !== undefined) return down ? [base] : [0xf0, base];
  const ext = EXTENDED[code];
  if (ext !== undefined) return down ? [0xe0, ext] : [0xe0, 0xf0, ext];
  return null;
}
