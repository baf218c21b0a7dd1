import { expect, test } from 'vitest';
import { FrameReceiver } from '../src/fast-lane/frame-receiver.js';

/** A frame: 4-byte little-endian length, then `n` bytes of a pattern `seed` picks. */
function frame(n: number, seed: number): { wire: Buffer; body: Buffer } {
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  const wire = Buffer.alloc(4 + n);
  wire.writeUInt32LE(n, 0);
  body.copy(wire, 4);
  return { wire, body };
}

/** Feeds `stream` to a receiver in reads of the sizes `sizes` cycles through (each at most what space() allows); returns the bodies in order. */
function receiveAll(stream: Buffer, sizes: number[]): Buffer[] {
  const r = new FrameReceiver();
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const space = r.space();
    const n = Math.min(space.length, sizes[i % sizes.length], stream.length - at);
    stream.copy(space, 0, at, at + n);
    at += n;
    out.push(...r.received(n));
  }
  return out;
}

test('frames of every size come out whole and in order, whatever the sizes of the reads', () => {
  const frames = [frame(10, 1), frame(70_000, 2), frame(3, 3), frame(1 << 20, 4), frame(16 * 1024 + 1, 5), frame(0, 6), frame(65_536 + 40, 7)];
  const stream = Buffer.concat(frames.map((f) => f.wire));
  for (const sizes of [[1], [7, 4096, 3], [100_000], [stream.length], [8192, 1, 65_536]]) {
    const got = receiveAll(stream, sizes);
    expect(got.map((b) => b.length)).toEqual(frames.map((f) => f.body.length));
    got.forEach((b, i) => expect(b.equals(frames[i].body)).toBe(true));
  }
});

test('a large frame keeps its bytes while later frames are read (no buffer of a frame handed out is reused)', () => {
  // Every body is checked only after the whole stream was read: a receiver that read later
  // frames into a buffer it had already returned (the reused read buffer, a reused frame
  // buffer) would hand the guest their bytes instead.
  const frames = Array.from({ length: 12 }, (_, i) => frame(i % 3 === 0 ? 20 : 200_000 + i * 8, i));
  const got = receiveAll(Buffer.concat(frames.map((f) => f.wire)), [65_536, 8192, 5]);
  expect(got).toHaveLength(frames.length);
  got.forEach((b, i) => expect(b.equals(frames[i].body)).toBe(true));
  const large = got.filter((b) => b.length > 100_000);
  expect(new Set(large.map((b) => b.buffer)).size).toBe(large.length); // each in a buffer of its own
});

test('the rest of a large frame is read straight into its own buffer, its payload 8-byte aligned at the end', () => {
  const r = new FrameReceiver();
  const f = frame(65_536 + 13, 9);
  const first = r.space();
  f.wire.copy(first, 0, 0, first.length);
  expect(r.received(first.length)).toEqual([]);
  const rest = r.space();
  expect(rest.length).toBe(f.wire.length - first.length); // nothing past the frame's end
  f.wire.copy(rest, 0, first.length);
  const [body] = r.received(rest.length);
  expect(body.equals(f.body)).toBe(true);
  expect((body.byteOffset + body.length) % 8).toBe(0);
});

/** Reads `wire` through `r` as a socket would (at most space().length at a time): the frame bodies it completes. */
function readThrough(r: FrameReceiver, wire: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < wire.length; ) {
    const space = r.space();
    const n = Math.min(space.length, wire.length - at);
    wire.copy(space, 0, at, at + n);
    at += n;
    out.push(...r.received(n));
  }
  return out;
}

test('a large frame its reader hands back (recycle) holds a later large frame: same memory, right bytes; small or foreign buffers are not taken', () => {
  const r = new FrameReceiver();
  const read = (wire: Buffer) => readThrough(r, wire);
  const a = frame((1 << 20) + 100, 1);
  const [first] = read(a.wire);
  expect(first.equals(a.body)).toBe(true);
  r.recycle(first.subarray(10, 20)); // any view of the frame hands back the whole buffer
  const b = frame((1 << 20) + 60, 2);
  const [second] = read(b.wire);
  expect(second.buffer).toBe(first.buffer);
  expect(second.equals(b.body)).toBe(true);
  // Not recycled: the next large frame gets fresh memory.
  const c = frame(1 << 20, 3);
  const [third] = read(c.wire);
  expect(third.buffer).not.toBe(second.buffer);
  expect(second.equals(b.body)).toBe(true);
  // A buffer the receiver did not take for a large frame is ignored.
  r.recycle(Buffer.alloc(2 << 20));
  const [fourth] = read(frame(1 << 20, 4).wire);
  expect(fourth.buffer.byteLength).toBeLessThan(2 << 20);
});

test('a batch of spent ~64 KiB frames (a 2 MiB run of served WRITE DMAs) is kept whole: the next batch takes no fresh memory', () => {
  const r = new FrameReceiver();
  const read = (wire: Buffer) => readThrough(r, wire);
  const batch = (fill: number) => [...Array(32).keys()].map((i) => read(frame(64 * 1024 + 40, (fill + i) & 0xff).wire)[0]);
  const first = batch(1);
  for (const body of first) r.recycle(body);
  const second = batch(100);
  const firstMemory = new Set(first.map((b) => b.buffer));
  expect(second.every((b) => firstMemory.has(b.buffer))).toBe(true);
  second.forEach((b, i) => expect(b.equals(frame(64 * 1024 + 40, (100 + i) & 0xff).body)).toBe(true));
});
