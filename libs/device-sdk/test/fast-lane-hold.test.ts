import { expect, test } from 'vitest';
import type { IoOp } from '@quasivm/proto';
import type { DeviceFactory, DeviceModel } from '../src/model.js';
import { rawLaneServer, until } from './support/raw-lane.js';

/**
 * The fast lane holds a session's next operation while the model's own work runs
 * (DeviceModel.busy), so a guest's next access sees it finished; work that never ends
 * holds the lane once, for holdMs, and not again.
 */
/** The lane's hold for this test: long enough that a second hold could not hide in scheduling noise. */
const HOLD_MS = 1500;
let release: () => void = () => undefined;
let work: Promise<void> | null = null;
const applied: string[] = [];
const model: DeviceModel = {
  ioRead: (port) => (applied.push(`read ${port}`), work ? 1 : 0),
  ioWrite: (port, _size, value) => {
    applied.push(`write ${port}=${value}`);
    if (port === 1 && value === 1) work = new Promise<void>((r) => (release = () => ((work = null), r())));
    if (port === 1 && value === 2) work = new Promise<void>(() => undefined); // never ends
  },
  busy: () => work,
  saveState: () => ({ device: 'hold', version: 1 }),
  loadState: () => undefined,
};
const factory: DeviceFactory = { describe: () => ({ name: 'hold', version: '1', ports: [{ base: 0, length: 4 }], irqs: [], memoryWindows: [] }), create: () => model };

const lane = rawLaneServer('hold', factory, (s, op, send) => {
  if (op.write) s.model.ioWrite(op.port, 1, op.write.value, 0);
  if (op.read) send({ readReply: { seq: op.read.seq, value: s.model.ioRead(op.port, 1, 0) } });
}, HOLD_MS);
const events = lane.events;

const reply = (seq: number) => events.find((e) => e.readReply?.seq === seq)?.readReply;
const send = (ops: IoOp[]) => lane.send(ops as never);

test('a read behind work the model started waits for it, and then sees it done', async () => {
  send([{ timeNs: 0, port: 1, size: 1, write: { value: 1 } } as IoOp, { timeNs: 0, port: 2, size: 1, read: { seq: 1, aheadMax: 0 } } as IoOp]);
  await new Promise((r) => setTimeout(r, 100));
  expect(reply(1)).toBeUndefined();
  expect(applied).toEqual(['write 1=1']);
  release();
  await until(() => reply(1) !== undefined);
  expect(reply(1)!.value).toBe(0); // applied after the work ended
});

test('work that never ends holds the lane once, for holdMs, and later operations do not wait for it again', async () => {
  send([{ timeNs: 0, port: 1, size: 1, write: { value: 2 } } as IoOp, { timeNs: 0, port: 2, size: 1, read: { seq: 2, aheadMax: 0 } } as IoOp]);
  const t0 = Date.now();
  await until(() => reply(2) !== undefined);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(HOLD_MS - 50);
  expect(reply(2)!.value).toBe(1); // still busy: answered anyway
  const t1 = Date.now();
  send([{ timeNs: 0, port: 3, size: 1, write: { value: 0 } } as IoOp, { timeNs: 0, port: 2, size: 1, read: { seq: 3, aheadMax: 0 } } as IoOp]);
  await until(() => reply(3) !== undefined);
  expect(Date.now() - t1).toBeLessThan(HOLD_MS - 100); // no second hold
  expect(applied.slice(-2)).toEqual(['write 3=0', 'read 2']);
});
