// Refuses a WebSocket upgrade with a plain HTTP response (the socket is not a WebSocket yet).
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { httpStatusOf, type ApiError } from '../errors.js';
import { errorBody } from '../http/respond.js';

export function rejectUpgrade(socket: Duplex, e: ApiError, extraHeaders: Record<string, string> = {}): void {
  const status = e.httpStatus ?? httpStatusOf(e.code);
  const body = JSON.stringify(errorBody(e));
  const headers = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close', ...extraHeaders };
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  socket.end(`${head}\r\n\r\n${body}`);
}
