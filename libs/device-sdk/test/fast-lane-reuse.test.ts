import { expect, test } from 'vitest';
import type { IoOp } from '@quasivm/proto';
import type { DeviceFactory, DeviceModel } from '../src/model.js';
import { rawLaneServer, until } from './support/raw-lane.js';

/**
 * A large frame (a WRITE DMA's buffers as memory snapshots) is read into a buffer of its own;
 * the lane reads later frames into that buffer again only once the model says it keeps none of
 * their bytes (DeviceModel.holdsMessageBytes): snapshots it keeps stay as they came.
 */
const SNAPSHOT_BYTES = 64 * 1024;
let holding = true;
const kept: Uint8Array[] = [];
const model: DeviceModel = {
  ioRead: () => 0,
  ioWrite: () => undefined,
  memorySnapshot: (_port, _addr, data) => void kept.push(data),
  holdsMessageBytes: () => holding,
  saveState: () => ({ device: 'keeper', version: 1 }),
  loadState: () => undefined,
};
const factory: DeviceFactory = { describe: () => ({ name: 'keeper', version: '1', ports: [{ base: 0, length: 4 }], irqs: [], memoryWindows: [] }), create: () => model };

const lane = rawLaneServer('reuse', factory, (s, op, send) => {
  if (op.memorySnapshot) s.model.memorySnapshot!(op.port, Number(op.memorySnapshot.addr), op.memorySnapshot.data);
  if (op.read) send({ readReply: { seq: op.read.seq, value: 0 } });
});
const events = lane.events;

let seq = 0;
/** A frame with a snapshot whose bytes are all `fill`, and a read after it; resolves once the read is answered. */
async function sendSnapshot(fill: number): Promise<Uint8Array> {
  const s = ++seq;
  const ops = [
    { timeNs: 0, port: 0, size: 1, memorySnapshot: { addr: 0x10000, data: Buffer.alloc(SNAPSHOT_BYTES, fill) } },
    { timeNs: 0, port: 1, size: 1, read: { seq: s, aheadMax: 0 } },
  ] as IoOp[];
  lane.send(ops as never);
  await until(() => events.some((e) => e.readReply?.seq === s));
  return kept[kept.length - 1];
}

test('snapshots the model keeps are not overwritten by later frames; once it keeps none, their buffers take the next frames', async () => {
  const first = await sendSnapshot(1);
  const second = await sendSnapshot(2);
  const third = await sendSnapshot(3);
  for (const [data, fill] of [[first, 1], [second, 2], [third, 3]] as const) {
    expect(data.length).toBe(SNAPSHOT_BYTES);
    expect(data.every((b) => b === fill)).toBe(true);
  }
  expect(new Set([first.buffer, second.buffer, third.buffer]).size).toBe(3);

  holding = false; // the model let go of them: the frame that follows ends a drain that recycles
  const fourth = await sendSnapshot(4);
  const fifth = await sendSnapshot(5);
  expect(fifth.every((b) => b === 5)).toBe(true);
  expect([first.buffer, second.buffer, third.buffer, fourth.buffer]).toContain(fifth.buffer);
});
