// Device traffic over a WebSocket: one text frame per TrafficRecord, as proto3 JSON
// ({"device", "direction", "port", "size", "value", "count", "timeNs", "dropped"}).
// The watch is in place before the WebSocket opens, so nothing the client causes after
// "open" is missed; records that arrive during the handshake are queued.
import { WebSocket } from 'ws';
import type { TrafficRecord } from '../proto-types.js';
import type { TrafficWatch } from '../traffic/traffic-hub.js';
import { MAX_BUFFERED_BYTES } from './stream-bridge.js';

const MAX_QUEUED = 1000;

/** Collects records until a socket takes over. */
export class TrafficQueue {
  private readonly queued: TrafficRecord[] = [];
  private sink: ((r: TrafficRecord) => void) | null = null;

  readonly push = (r: TrafficRecord): void => {
    if (this.sink) this.sink(r);
    else if (this.queued.length < MAX_QUEUED) this.queued.push(r);
  };

  drainTo(sink: (r: TrafficRecord) => void): void {
    for (const r of this.queued.splice(0)) sink(r);
    this.sink = sink;
  }
}

export function bridgeTraffic(ws: WebSocket, watch: TrafficWatch, queue: TrafficQueue, done: () => void): void {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    watch.stop();
    done();
  };
  ws.on('close', finish);
  ws.on('error', finish);
  ws.on('message', () => ws.close(1003, 'the traffic stream takes no input'));
  queue.drainTo((r) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1008, 'client reads the traffic too slowly');
    ws.send(JSON.stringify(r));
  });
}
