// VM events over a WebSocket: one text frame per VmEvent, as proto3 JSON
// ({"vmId", "kind", "detailJson", "timeMs"}).
import type { WebSocket } from 'ws';
import type { EventStream, VmEvent } from '../proto-types.js';
import { closeOnUpstreamEnd, MAX_BUFFERED_BYTES } from './stream-bridge.js';

export function bridgeEvents(ws: WebSocket, upstream: EventStream, done: () => void): void {
  upstream.on('data', (event: VmEvent) => {
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1008, 'client reads events too slowly');
    ws.send(JSON.stringify(event));
  });
  ws.on('message', () => ws.close(1003, 'the event stream takes no input'));
  closeOnUpstreamEnd(ws, upstream, 'event stream', done);
}
