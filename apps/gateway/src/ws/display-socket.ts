// The screen over a WebSocket: one binary message per rectangle of a DisplayFrame (a full
// frame first, then the rectangles that changed). Each message is a 12-byte header of
// little-endian u16 [screen width, screen height, x, y, width, height], then width*height*4
// bytes of RGBA, row by row: what a canvas's putImageData takes.
import type { WebSocket } from 'ws';
import type { DisplayFrame, DisplayStream } from '../proto-types.js';
import { closeOnUpstreamEnd, MAX_BUFFERED_BYTES } from './stream-bridge.js';

export const RECT_HEADER_BYTES = 12;

export function encodeRect(screenWidth: number, screenHeight: number, r: { x: number; y: number; width: number; height: number; rgba: Buffer }): Buffer {
  const out = Buffer.alloc(RECT_HEADER_BYTES + r.rgba.length);
  [screenWidth, screenHeight, r.x, r.y, r.width, r.height].forEach((v, i) => out.writeUInt16LE(v, i * 2));
  r.rgba.copy(out, RECT_HEADER_BYTES);
  return out;
}

export function bridgeDisplay(ws: WebSocket, upstream: DisplayStream, done: () => void): void {
  upstream.on('data', (frame: DisplayFrame) => {
    // Dropping a rectangle would leave stale pixels, so a client this far behind is cut off.
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1008, 'client reads the display too slowly');
    for (const r of frame.rects) ws.send(encodeRect(frame.width, frame.height, r), { binary: true });
  });
  ws.on('message', () => ws.close(1003, 'the display stream takes no input (send keys to /api/vms/<id>/keys)'));
  closeOnUpstreamEnd(ws, upstream, 'display stream', done);
}
