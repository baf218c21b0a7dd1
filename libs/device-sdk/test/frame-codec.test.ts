import { expect, test } from 'vitest';
import {
  decodeEvent, decodeRequest, encodeEvent, encodeEventParts, encodeRequest, encodeRequestParts, FrameSplitter,
} from '../src/fast-lane/frame-codec.js';

const payload = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

/** The frame bodies a reader gets from `parts` written one after the other. */
function bodies(parts: Buffer[]): Buffer[] {
  return new FrameSplitter().push(Buffer.concat(parts));
}

test('a large payload travels as its own buffer, uncopied, and decodes to the same message as the one-buffer encoding', () => {
  const data = payload(65536);
  const ev = { memoryRequest: { requestId: 0, addr: 0x10000, length: data.length, isWrite: true, posted: true, writeData: data } };
  const parts = encodeEventParts(ev);
  expect(parts).toHaveLength(2);
  expect(parts[1].buffer).toBe(data.buffer); // the DMA data itself, not a copy
  expect(decodeEvent(bodies(parts)[0])).toEqual(decodeEvent(encodeEvent(ev).subarray(4)));

  const ahead = { readReply: { seq: 9, value: 0x58, readAhead: { dataPort: 0x1f0, statusPort: 0x1f7, altStatusPort: 0x3f6, data, statusDuring: 0x58, statusAfter: 0x50, complete: true, registers: { base: 0x1f0, length: 8 } } } };
  expect(decodeEvent(bodies(encodeEventParts(ahead))[0])).toEqual(decodeEvent(encodeEvent(ahead).subarray(4)));

  const reply = { memoryReply: { requestId: 3, data } };
  expect(encodeRequestParts(reply)).toHaveLength(2);
  expect(decodeRequest(bodies(encodeRequestParts(reply))[0])).toEqual(decodeRequest(encodeRequest(reply).subarray(4)));
});

test('a batch whose last operation carries a large string output keeps every operation, in order', () => {
  const req = {
    batch: {
      ops: [
        { timeNs: 5, port: 0x1f2, size: 1, write: { value: 3 } },
        { timeNs: 6, port: 0x1f0, size: 2, writeString: { data: payload(512) } },
        { timeNs: 7, port: 0x1f0, size: 2, writeString: { data: payload(8192) } },
      ],
    },
  };
  const parts = encodeRequestParts(req);
  expect(parts).toHaveLength(2);
  const got = decodeRequest(bodies(parts)[0]);
  expect(got).toEqual(decodeRequest(encodeRequest(req).subarray(4)));
  expect(got.batch!.ops.map((o) => o.op)).toEqual(['write', 'writeString', 'writeString']);
  expect(Buffer.from(got.batch!.ops[2].writeString!.data)).toEqual(payload(8192));
});

test('small messages stay one buffer', () => {
  expect(encodeEventParts({ readReply: { seq: 1, value: 0x50 } })).toHaveLength(1);
  expect(encodeRequestParts({ memoryReply: { requestId: 1, data: payload(128) } })).toHaveLength(1);
});

test('the splitter returns every frame whole however the stream is cut: byte by byte, headers split, a large frame in 64 KiB pieces', () => {
  const frames = [payload(3), payload(0), payload(300_000), payload(17), payload(65_536)];
  const stream = Buffer.concat(frames.flatMap((f) => {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(f.length);
    return [h, f];
  }));
  for (const cut of [1, 3, 5, 4096, 65_536, stream.length]) {
    const s = new FrameSplitter();
    const got: Buffer[] = [];
    for (let at = 0; at < stream.length; at += cut) got.push(...s.push(stream.subarray(at, Math.min(at + cut, stream.length))).map((b) => Buffer.from(b)));
    expect(got, `pieces of ${cut}`).toEqual(frames);
  }
  expect(() => new FrameSplitter().push(Buffer.from([0xff, 0xff, 0xff, 0x7f]))).toThrow(/exceeds/);
});

test('a reader may complete an incomplete frame itself: the splitter says its size and hands over what it holds', () => {
  const big = payload(200_000);
  const head = Buffer.alloc(4);
  head.writeUInt32LE(big.length);
  const small = Buffer.from([1, 0, 0, 0, 42]); // a 1-byte frame before it
  const s = new FrameSplitter();
  expect(s.incomplete()).toBeNull();
  expect(s.push(Buffer.concat([small, head.subarray(0, 2)]))).toEqual([Buffer.from([42])]);
  expect(s.incomplete()).toBeNull(); // the length is not in yet
  expect(s.push(Buffer.concat([head.subarray(2), big.subarray(0, 1000)]))).toEqual([]);
  expect(s.incomplete()).toEqual({ frameBytes: 4 + big.length, held: 1004 });
  const frame = Buffer.alloc(4 + big.length);
  expect(s.takeHeld(frame)).toBe(1004);
  big.copy(frame, 1004, 1000); // what the reader reads into the rest
  expect(s.push(frame)).toEqual([big]);
  expect(s.incomplete()).toBeNull();
});

test('64-bit fields (guest time, addresses) decode as plain numbers, exact up to 2^53', () => {
  const t = 2 ** 52 + 12345;
  const req = decodeRequest(encodeRequest({ batch: { ops: [{ timeNs: t, port: 0xc000, size: 1, memorySnapshot: { addr: 0xffff_fff0, data: Buffer.alloc(8) } }], irqSeqApplied: 7 } }).subarray(4));
  const op = req.batch!.ops[0];
  expect(op.timeNs).toBe(t);
  expect(typeof op.timeNs).toBe('number');
  expect(op.memorySnapshot!.addr).toBe(0xffff_fff0);
  expect(req.batch!.irqSeqApplied).toBe(7);
  const ev = decodeEvent(encodeEvent({ irq: { line: 14, level: true, timeNs: t, seq: 3, resent: false } }).subarray(4));
  expect(ev.irq!.timeNs).toBe(t);
  expect(typeof ev.irq!.seq).toBe('number');
});

test('a decoded request reads as a plain one: unset fields give their defaults, oneofs their set field', () => {
  // decodeRequest returns protobufjs's message, not toObject's copy: the lane and the service
  // rely on defaults (0, [], null for an unset message) and the oneof names (req.kind, op.op).
  const req = decodeRequest(encodeRequest({ batch: { ops: [{ port: 0x1f7, size: 1, write: { value: 0xca } }, { port: 0xc000, size: 1, dmaServed: { value: 9, byteLength: 65536 } }] } }).subarray(4));
  expect(req.kind).toBe('batch');
  expect(req.open ?? null).toBeNull();
  expect(req.batch!.more).toBe(false);
  expect(req.batch!.irqSeqApplied).toBe(0);
  const [w, d] = req.batch!.ops;
  expect(w.op).toBe('write');
  expect(w.timeNs).toBe(0);
  expect(w.write!.value).toBe(0xca);
  expect(w.write!.more ?? []).toEqual([]);
  expect(w.read ?? null).toBeNull();
  expect(w.read?.seq ?? w.dmaMore?.seq ?? 0).toBe(0);
  expect(d.op).toBe('dmaServed');
  expect(d.dmaServed).toMatchObject({ value: 9, byteLength: 65536 });
  expect(d.write ?? null).toBeNull();
  const open = decodeRequest(encodeRequest({ open: { sessionId: 's1', servesMemory: true } }).subarray(4));
  expect(open.kind).toBe('open');
  expect(open.open!.sessionId).toBe('s1');
  expect(open.open!.irqsOnLane).toBe(false);
  expect(Number(open.open!.memoryBytes ?? 0)).toBe(0);
  expect(open.batch ?? undefined).toBeUndefined();
});
