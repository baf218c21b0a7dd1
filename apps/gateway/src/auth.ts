// Where a client puts its bearer token: the Authorization header (HTTP, gRPC metadata, Node
// WebSocket clients) or, for browsers that cannot set headers on a WebSocket, a
// Sec-WebSocket-Protocol entry "bearer.<token>" next to the real protocol "quasivm.v1".
import type { IncomingHttpHeaders } from 'node:http';

export const WS_PROTOCOL = 'quasivm.v1';
export const WS_TOKEN_PREFIX = 'bearer.';

export function bearerFromAuthorization(value: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value ?? '');
  return m?.[1];
}

export function bearerFromWebSocketProtocols(value: string | undefined): string | undefined {
  const entry = (value ?? '')
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(WS_TOKEN_PREFIX));
  return entry?.slice(WS_TOKEN_PREFIX.length) || undefined;
}

export function bearerFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  return bearerFromAuthorization(headers.authorization) ?? bearerFromWebSocketProtocols(headers['sec-websocket-protocol']);
}
