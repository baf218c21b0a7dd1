// The screen over a WebSocket: one binary message per rectangle (display/rect-encoding.ts),
// the current picture first, then the rectangles that change, shared with every other
// viewer of the VM through the DisplayHub. Messages that come during the handshake wait.
import { WebSocket } from 'ws';
import type { DisplayViewer } from '../display/display-hub.js';
import { MAX_BUFFERED_BYTES } from './stream-bridge.js';

/** A viewer that holds what arrives until a socket takes over. */
export class PendingViewer implements DisplayViewer {
  private readonly queued: Buffer[] = [];
  private ended: { reason?: string } | null = null;
  private target: DisplayViewer | null = null;

  rect(message: Buffer): void {
    if (this.target) return this.target.rect(message);
    this.queued.push(message);
  }

  end(reason?: string): void {
    if (this.target) return this.target.end(reason);
    this.ended = { reason };
  }

  attach(target: DisplayViewer): void {
    for (const m of this.queued.splice(0)) target.rect(m);
    this.target = target;
    if (this.ended) target.end(this.ended.reason);
  }
}

export function bridgeDisplay(ws: WebSocket, viewer: PendingViewer, leave: () => void, done: () => void): void {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    leave();
    done();
  };
  ws.on('close', finish);
  ws.on('error', finish);
  ws.on('message', () => ws.close(1003, 'the display stream takes no input (send keys to /api/vms/<id>/keys)'));
  viewer.attach({
    rect: (m) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // Dropping a rectangle would leave stale pixels, so a client this far behind is cut off.
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1008, 'client reads the display too slowly');
      ws.send(m, { binary: true });
    },
    end: (reason) => {
      if (ws.readyState === WebSocket.OPEN) ws.close(reason ? 1011 : 1000, (reason ? `display stream ended: ${reason}` : 'display stream ended').slice(0, 120));
      finish();
    },
  });
}
