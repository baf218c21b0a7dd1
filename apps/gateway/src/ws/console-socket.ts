// Serial console over a WebSocket: binary frames out carry the guest's serial output (starting
// with what it printed so far), any frame in is typed into the guest's serial port.
import type { WebSocket } from 'ws';
import type { ConsoleOutput, ConsoleStream } from '../proto-types.js';
import { closeOnUpstreamEnd, MAX_BUFFERED_BYTES } from './stream-bridge.js';

export function bridgeConsole(ws: WebSocket, upstream: ConsoleStream, done: () => void): void {
  upstream.on('data', (out: ConsoleOutput) => {
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1008, 'client reads the console too slowly');
    if (out.data?.length) ws.send(out.data, { binary: true });
  });
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (bytes.length > 0) upstream.write({ data: bytes });
  });
  closeOnUpstreamEnd(ws, upstream, 'console', done);
}
