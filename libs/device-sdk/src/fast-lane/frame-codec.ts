import protobuf from 'protobufjs';
import path from 'node:path';
import { PROTO_DIR } from '@quasivm/proto';
import type { IoEvent, IoEvent__Input, IoOp__Input, IoRequest, IoRequest__Input } from '@quasivm/proto';

/**
 * The fast lane carries the device protocol's own IoRequest / IoEvent messages (proto/),
 * each as a 4-byte little-endian length followed by the protobuf encoding.
 */
let types: { request: protobuf.Type; event: protobuf.Type } | undefined;

function load() {
  if (!types) {
    // 64-bit fields (guest times, addresses) as plain numbers, not long.js objects: decoding a
    // Long per operation and converting it back (toObject) was ~40 % of decoding a batch. This
    // protobufjs is the lane's own (gRPC's proto-loader has its copy); values stay below 2^53.
    protobuf.util.Long = null as unknown as typeof protobuf.util.Long;
    protobuf.configure();
    const root = protobuf.loadSync(path.join(PROTO_DIR, 'quasivm/device/v1/device.proto'));
    types = { request: root.lookupType('quasivm.device.v1.IoRequest'), event: root.lookupType('quasivm.device.v1.IoEvent') };
    // Every message's encoder and decoder generated now, when the lane opens, rather than each on
    // its first use (protobufjs builds them lazily): the first DMA run of a fresh vCPU otherwise
    // paid ~10-25 ms generating and compiling them for the messages it meets first.
    setupAll(root);
  }
  return types;
}

/**
 * Loads the protocol and generates every codec now (~30-50 ms on a cold process): a device
 * service does this before it listens, so a vCPU's first lane open does not wait for it.
 */
export function prepareCodec(): void {
  load();
}

/** Whether the codec is loaded (prepareCodec or a first frame did it). */
export function codecReady(): boolean {
  return types !== undefined;
}

/** Generates the codec functions of every message type under `ns` (protobufjs Type.setup). */
function setupAll(ns: protobuf.NamespaceBase): void {
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type) o.setup();
    if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) setupAll(o);
  }
}

/**
 * In a Write.more quadruple's size: the entry is not a write but `value` reads of that port the
 * vCPU answered itself (as a Consumed op reports them), applied as the reads they were.
 */
export const MORE_READS = 0x100;

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };

function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  out.set(body, 4);
  return out;
}

export function encodeRequest(req: IoRequest__Input): Buffer {
  const t = load().request;
  return frame(t.encode(req as Record<string, unknown>).finish());
}

export function encodeEvent(ev: IoEvent__Input): Buffer {
  const t = load().event;
  return frame(t.encode(ev as Record<string, unknown>).finish());
}

/**
 * Payloads at least this long travel as a buffer of their own after the rest of the frame
 * (writev), not copied into the encoding: a 64 KiB DMA write cost two 64 KiB allocations and
 * copies in protobufjs and the frame, and the garbage they left (external memory) kept the
 * service's GC busy.
 */
const TAIL_BYTES = 4096;

/** Where a large bytes field may sit: a path of field names from the top message (a repeated field: its last element). */
const EVENT_PAYLOADS = [['memoryRequest', 'writeData'], ['readReply', 'data'], ['readReply', 'dmaAheadData'], ['readReply', 'readAhead', 'data']];
const REQUEST_PAYLOADS = [['memoryReply', 'data'], ['batch', 'ops', 'writeString', 'data'], ['batch', 'ops', 'dataOut', 'data'], ['batch', 'ops', 'memorySnapshot', 'data']];

/** Whether `op` carries a payload that travels uncopied when it is the last operation of its frame. */
export function hasLargePayload(op: IoOp__Input): boolean {
  const data = op.writeString?.data ?? op.dataOut?.data ?? op.memorySnapshot?.data;
  return data instanceof Uint8Array && data.byteLength >= TAIL_BYTES;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function payloadAt(msg: unknown, path: string[]): Uint8Array | null {
  let v = msg as Record<string, unknown> | undefined;
  for (const name of path) {
    const next: unknown = v?.[name];
    v = (Array.isArray(next) ? next[next.length - 1] : next) as Record<string, unknown> | undefined;
  }
  return v instanceof Uint8Array && v.byteLength >= TAIL_BYTES ? v : null;
}

/**
 * The encoding of `msg` without the bytes field at `path`, followed by that field's tag and
 * length: the field's bytes, appended, complete the message. Protobuf fields may come in
 * any order and a repeated field's elements are separate entries, so the field (and the
 * messages around it) can be written last.
 */
function headOf(type: protobuf.Type, msg: Record<string, unknown>, path: string[], tailLength: number): Uint8Array {
  const [name, ...rest] = path;
  const field = type.fields[name];
  const value = msg[name];
  const others: Record<string, unknown> = { ...msg };
  let last: unknown = value;
  if (field.repeated) {
    const list = value as unknown[];
    others[name] = list.slice(0, -1);
    last = list[list.length - 1];
  } else others[name] = undefined; // not encoded (a field is when != null); `delete` left a slow dictionary object
  const before = type.encode(others).finish();
  const inner = rest.length ? headOf(field.resolvedType as protobuf.Type, last as Record<string, unknown>, rest, tailLength) : new Uint8Array(0);
  const header = [...varint((field.id << 3) | 2), ...varint(inner.length + tailLength)];
  const out = new Uint8Array(before.length + header.length + inner.length);
  out.set(before, 0);
  out.set(header, before.length);
  out.set(inner, before.length + header.length);
  return out;
}

/** A frame as buffers to write in order (writev): a large payload is the last one, as it is (no copy). */
function frameParts(t: protobuf.Type, msg: Record<string, unknown>, payloads: string[][]): Buffer[] {
  for (const path of payloads) {
    const tail = payloadAt(msg, path);
    if (!tail) continue;
    const head = headOf(t, msg, path, tail.byteLength);
    const first = Buffer.allocUnsafe(4 + head.length);
    first.writeUInt32LE(head.length + tail.byteLength, 0);
    first.set(head, 4);
    return [first, Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength)];
  }
  return [frame(t.encode(msg).finish())];
}

/** encodeRequest as buffers to write in order, a large payload (DMA data, string output) not copied. */
export function encodeRequestParts(req: IoRequest__Input): Buffer[] {
  return frameParts(load().request, req as Record<string, unknown>, REQUEST_PAYLOADS);
}

/** encodeEvent as buffers to write in order, a large payload (DMA data, string input) not copied. */
export function encodeEventParts(ev: IoEvent__Input): Buffer[] {
  return frameParts(load().event, ev as Record<string, unknown>, EVENT_PAYLOADS);
}

/**
 * The decoded message as it is, not converted to a plain object (toObject, which copied every
 * operation again: ~40 % of decoding a WRITE DMA command's four operations). It reads the same:
 * an unset field's default and a oneof's name (`op.op`) come from the message's prototype, and
 * 64-bit fields are numbers (load()); the device proto has no enums (which toObject would name).
 */
export function decodeRequest(body: Uint8Array): IoRequest {
  return load().request.decode(body) as unknown as IoRequest;
}

export function decodeEvent(body: Uint8Array): IoEvent {
  const t = load().event;
  return t.toObject(t.decode(body), TO_OBJECT) as IoEvent;
}

/** Largest frame accepted (a string I/O of a few MiB plus headers). */
export const MAX_FRAME_BYTES = 16 << 20;

/** Splits a byte stream into frame bodies. */
export class FrameSplitter {
  /** Bytes received and not yet returned, in order; joined only once a frame they hold is complete. */
  private chunks: Buffer[] = [];
  private length = 0;

  /** Returns the complete frame bodies in `chunk` (plus what was pending); throws on an oversized frame. */
  push(chunk: Buffer): Buffer[] {
    // A large frame arrives in many chunks: joining them as they come copied it over and over.
    if (chunk.length) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    const out: Buffer[] = [];
    while (this.length >= 4) {
      if (this.chunks[0].length < 4) this.join();
      const len = this.chunks[0].readUInt32LE(0);
      if (len > MAX_FRAME_BYTES) throw new Error(`fast-lane frame of ${len} bytes exceeds ${MAX_FRAME_BYTES}`);
      if (this.length < 4 + len) break;
      if (this.chunks[0].length < 4 + len) this.join();
      const first = this.chunks[0];
      out.push(first.subarray(4, 4 + len));
      this.length -= 4 + len;
      if (first.length === 4 + len) this.chunks.shift();
      else this.chunks[0] = first.subarray(4 + len);
    }
    return out;
  }

  /**
   * When a frame's length is in and the frame is not: its whole size (with the length) and
   * how many of its bytes are held. A reader may then complete it itself (takeHeld).
   */
  incomplete(): { frameBytes: number; held: number } | null {
    if (this.length < 4) return null;
    if (this.chunks[0].length < 4) this.join();
    const len = this.chunks[0].readUInt32LE(0);
    if (len > MAX_FRAME_BYTES || this.length >= 4 + len) return null; // push() says what is wrong, or returns it
    return { frameBytes: 4 + len, held: this.length };
  }

  /** Copies the bytes held (all of one incomplete frame) to the start of `into` and forgets them; returns how many. */
  takeHeld(into: Buffer): number {
    let at = 0;
    for (const c of this.chunks) {
      c.copy(into, at);
      at += c.length;
    }
    this.chunks = [];
    this.length = 0;
    return at;
  }

  private join(): void {
    this.chunks = [Buffer.concat(this.chunks, this.length)];
  }
}
