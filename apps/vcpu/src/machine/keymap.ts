/**
 * Text to PS/2 scan code set 2 make/break sequences for a US keyboard layout (the set a
 * keyboard sends; the i8042 translates to set 1 for the guest when asked). Characters with
 * no key on a US keyboard are refused with a clear error.
 */
const LSHIFT = 0x12;
const BREAK = 0xf0;

/** Unshifted key -> set-2 make code. */
const PLAIN: Record<string, number> = {
  a: 0x1c, b: 0x32, c: 0x21, d: 0x23, e: 0x24, f: 0x2b, g: 0x34, h: 0x33, i: 0x43, j: 0x3b, k: 0x42, l: 0x4b, m: 0x3a,
  n: 0x31, o: 0x44, p: 0x4d, q: 0x15, r: 0x2d, s: 0x1b, t: 0x2c, u: 0x3c, v: 0x2a, w: 0x1d, x: 0x22, y: 0x35, z: 0x1a,
  '1': 0x16, '2': 0x1e, '3': 0x26, '4': 0x25, '5': 0x2e, '6': 0x36, '7': 0x3d, '8': 0x3e, '9': 0x46, '0': 0x45,
  '-': 0x4e, '=': 0x55, '[': 0x54, ']': 0x5b, '\\': 0x5d, ';': 0x4c, "'": 0x52, '`': 0x0e, ',': 0x41, '.': 0x49, '/': 0x4a,
  ' ': 0x29, '\n': 0x5a, '\r': 0x5a, '\t': 0x0d, '\b': 0x66, '\x1b': 0x76,
};

/** Shifted characters -> the unshifted key they share. */
const SHIFTED: Record<string, string> = {
  '!': '1', '@': '2', '#': '3', $: '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0',
  _: '-', '+': '=', '{': '[', '}': ']', '|': '\\', ':': ';', '"': "'", '~': '`', '<': ',', '>': '.', '?': '/',
};

export function textToSet2(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const lower = ch.toLowerCase();
    const shifted = SHIFTED[ch] ?? (ch !== lower ? lower : undefined);
    const key = shifted !== undefined ? PLAIN[shifted] : PLAIN[ch];
    if (key === undefined) throw new Error(`no key on a US keyboard types ${JSON.stringify(ch)}`);
    if (shifted !== undefined) out.push(LSHIFT);
    out.push(key, BREAK, key);
    if (shifted !== undefined) out.push(BREAK, LSHIFT);
  }
  return out;
}
