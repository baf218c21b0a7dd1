// The display WebSocket's message: a 12-byte header of little-endian u16 [screen width,
// screen height, x, y, width, height], then width*height*4 bytes of RGBA, row by row (what a
// canvas's putImageData takes).
export const RECT_HEADER_BYTES = 12;

export function encodeRect(screenWidth: number, screenHeight: number, r: { x: number; y: number; width: number; height: number; rgba: Buffer }): Buffer {
  const out = Buffer.alloc(RECT_HEADER_BYTES + r.width * r.height * 4);
  [screenWidth, screenHeight, r.x, r.y, r.width, r.height].forEach((v, i) => out.writeUInt16LE(v, i * 2));
  r.rgba.copy(out, RECT_HEADER_BYTES, 0, r.width * r.height * 4);
  return out;
}
