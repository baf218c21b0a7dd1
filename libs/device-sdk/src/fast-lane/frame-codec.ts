import protobuf from 'protobufjs';
import path from 'node:path';
import { PROTO_DIR } from '@quasivm/proto';
import type { IoEvent, IoEvent__Input, IoRequest, IoRequest__Input } from '@quasivm/proto';

/**
 * The fast lane carries the device protocol's own IoRequest / IoEvent messages (proto/),
 * each as a 4-byte little-endian length followed by the protobuf encoding.
 */
let types: { request: protobuf.Type; event: protobuf.Type } | undefined;

function load() {
  if (!types) {
    const root = protobuf.loadSync(path.join(PROTO_DIR, 'quasivm/device/v1/device.proto'));
    types = { request: root.lookupType('quasivm.device.v1.IoRequest'), event: root.lookupType('quasivm.device.v1.IoEvent') };
  }
  return types;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };

function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  out.set(body, 4);
  return out;
}

export function encodeRequest(req: IoRequest__Input): Buffer {
  const t = load().request;
  return frame(t.encode(t.fromObject(req as Record<string, unknown>)).finish());
}

export function encodeEvent(ev: IoEvent__Input): Buffer {
  const t = load().event;
  return frame(t.encode(t.fromObject(ev as Record<string, unknown>)).finish());
}

export function decodeRequest(body: Uint8Array): IoRequest {
  const t = load().request;
  return t.toObject(t.decode(body), TO_OBJECT) as IoRequest;
}

export function decodeEvent(body: Uint8Array): IoEvent {
  const t = load().event;
  return t.toObject(t.decode(body), TO_OBJECT) as IoEvent;
}

/** Largest frame accepted (a string I/O of a few MiB plus headers). */
export const MAX_FRAME_BYTES = 16 << 20;

/** Splits a byte stream into frame bodies. */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** Returns the complete frame bodies in `chunk` (plus what was pending); throws on an oversized frame. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.pending.length >= 4) {
      const len = this.pending.readUInt32LE(0);
      if (len > MAX_FRAME_BYTES) throw new Error(`fast-lane frame of ${len} bytes exceeds ${MAX_FRAME_BYTES}`);
      if (this.pending.length < 4 + len) break;
      out.push(this.pending.subarray(4, 4 + len));
      this.pending = this.pending.subarray(4 + len);
    }
    return out;
  }
}
