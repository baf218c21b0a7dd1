import type { ServerResponse } from 'node:http';
import { codeName, httpStatusOf, type ApiError } from '../errors.js';
import { ValidationError } from '../schema/validate.js';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** {"error": {"code": "NOT_FOUND", "message": "...", "field"?: "ramMib"}} with the matching HTTP status. */
export function errorBody(e: ApiError): { error: { code: string; message: string; field?: string } } {
  return { error: { code: codeName(e.code), message: e.message, ...(e instanceof ValidationError ? { field: e.field } : {}) } };
}

export function sendError(res: ServerResponse, e: ApiError, headers: Record<string, string> = {}): void {
  sendJson(res, e.httpStatus ?? httpStatusOf(e.code), errorBody(e), headers);
}

export function sendBytes(res: ServerResponse, status: number, type: string, body: Buffer | string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
