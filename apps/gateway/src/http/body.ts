// Reads a request body as JSON, with a size cap; malformed JSON is a 400 that says where it broke.
import * as grpc from '@grpc/grpc-js';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors.js';

export const MAX_BODY_BYTES = 64 * 1024;

export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type && !/^application\/json\b/i.test(type)) throw new ApiError(grpc.status.INVALID_ARGUMENT, `the body must be application/json, not ${type}`, 415);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(grpc.status.INVALID_ARGUMENT, `the body is larger than ${limit} bytes`, 413);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(grpc.status.INVALID_ARGUMENT, `malformed JSON body: ${(e as Error).message}`);
  }
}
