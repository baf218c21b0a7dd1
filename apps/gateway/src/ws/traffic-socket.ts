// Device traffic over a WebSocket: one text frame per TrafficRecord, as proto3 JSON
// ({"device", "direction", "port", "size", "value", "count", "timeNs", "dropped"}).
import { WebSocket } from 'ws';
import type { TrafficRecord } from '../proto-types.js';
import type { TrafficFilter } from '../traffic/traffic-filter.js';
import type { TrafficHub } from '../traffic/traffic-hub.js';
import { MAX_BUFFERED_BYTES } from './stream-bridge.js';

export function bridgeTraffic(ws: WebSocket, hub: TrafficHub, vmId: string, filter: TrafficFilter, done: () => void): void {
  let stop: (() => void) | null = null;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    stop?.();
    done();
  };
  ws.on('close', finish);
  ws.on('error', finish);
  ws.on('message', () => ws.close(1003, 'the traffic stream takes no input'));
  const send = (r: TrafficRecord) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1008, 'client reads the traffic too slowly');
    ws.send(JSON.stringify(r));
  };
  hub.watch(vmId, filter, send).then(
    (w) => {
      stop = () => w.stop();
      if (finished) w.stop();
    },
    (e: Error) => {
      if (ws.readyState === WebSocket.OPEN) ws.close(1011, e.message.slice(0, 120));
      finish();
    },
  );
}
