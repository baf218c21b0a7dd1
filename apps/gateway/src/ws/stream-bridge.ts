// What the console and event sockets share: tie the WebSocket's life to the vcpu's gRPC stream.
import type * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';

/** A client that lets this much pile up unread is cut off rather than buffered without end. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** WebSocket close reasons are limited to 123 bytes. */
function reason(text: string): string {
  const b = Buffer.from(text);
  return b.length <= 123 ? text : b.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '...';
}

export function closeOnUpstreamEnd(ws: WebSocket, upstream: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>, what: string, done: () => void): void {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    upstream.cancel();
    done();
  };
  upstream.on('error', (e: grpc.ServiceError) => {
    if (ws.readyState === WebSocket.OPEN) ws.close(1011, reason(`${what} ended: ${e.details || e.message}`));
    finish();
  });
  upstream.on('end', () => {
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, `${what} ended`);
    finish();
  });
  ws.on('close', finish);
  ws.on('error', finish);
}
