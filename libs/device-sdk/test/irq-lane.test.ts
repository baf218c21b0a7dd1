import { expect, test } from 'vitest';
import type { IoEvent__Input } from '@quasivm/proto';
import { DeviceSession } from '../src/session.js';
import type { DeviceFactory, DeviceHost, DeviceModel } from '../src/model.js';

/**
 * IRQ line changes take a fast lane whose vCPU thread applies them (proto OpenStream.irqs_on_lane),
 * behind copies of the changes the gRPC stream carried that the vCPU has not said it applied
 * (IrqLine.resent): applying each seq once, in order, a change never overtakes an earlier one
 * still on its way through the vCPU's main thread.
 */
class LineDevice implements DeviceModel {
  constructor(private readonly host: DeviceHost) {}
  ioRead(): number {
    return 0;
  }
  ioWrite(_port: number, _size: 1 | 2 | 4, value: number): void {
    this.host.setIrq(9, value === 1);
  }
  saveState() {
    return { device: 'line', version: 1 };
  }
  loadState(): void {}
}
const factory: DeviceFactory = { describe: () => ({ name: 'line', version: '1', ports: [{ base: 0, length: 1 }], irqs: [9], memoryWindows: [] }), create: (host) => new LineDevice(host) };

test('a change on the lane comes behind copies of the stream\'s changes the vCPU has not applied; applying each seq once gives every change in order', () => {
  const s = new DeviceSession('vm', factory, {});
  const stream: IoEvent__Input[] = [];
  const lane: IoEvent__Input[] = [];
  s.attachStream((e) => stream.push(e));
  const seqs = (events: IoEvent__Input[]) => events.map((e) => `${e.irq?.seq}${e.irq?.resent ? 'r' : ''}`);

  s.irqLane = (e) => lane.push(e); // the vCPU thread waits on its lane
  s.model.ioWrite(0, 1, 1, 0); // 1: lane
  s.irqLane = null; // the vCPU runs guest code
  s.model.ioWrite(0, 1, 0, 0); // 2: stream
  s.model.ioWrite(0, 1, 1, 0); // 3: stream
  s.irqSeqApplied = 2; // the vCPU has applied 2, not 3
  s.irqLane = (e) => lane.push(e);
  s.model.ioWrite(0, 1, 0, 0); // 4: lane, behind a copy of 3
  s.model.ioWrite(0, 1, 1, 0); // 5: lane

  expect(seqs(stream)).toEqual(['2', '3']);
  expect(seqs(lane)).toEqual(['1', '3r', '4', '5']);
  // The vCPU applies a seq once, whichever copy comes first: here the lane's copy of 3 came before the stream's.
  const applied: boolean[] = [];
  let last = 0;
  for (const e of [...lane.slice(0, 1), stream[0], ...lane.slice(1), stream[1]]) {
    if (Number(e.irq!.seq) > last) {
      last = Number(e.irq!.seq);
      applied.push(e.irq!.level === true);
    }
  }
  expect(applied).toEqual([true, false, true, false, true]);
});

test("a DmaMore's reply does not cut the batch's collapsed IRQ changes: one pulse per batch on the stream, not one per request", async () => {
  const { DeviceService } = await import('../src/device-service.js');
  class MoreDevice extends LineDevice {
    dmaMore() {
      return { commands: [], data: new Uint8Array(0) };
    }
  }
  const more: DeviceFactory = { ...factory, create: (host) => new MoreDevice(host) };
  const service = new DeviceService(more, 'line', { logger: { info() {}, warn() {}, error() {}, debug() {} } as never });
  const s = new DeviceSession('vm', more, {});
  const stream: IoEvent__Input[] = [];
  s.attachStream((e) => stream.push(e));
  const replies: IoEvent__Input[] = [];
  const apply = (op: object) => (service as unknown as { apply(s: DeviceSession, op: object, send: (e: IoEvent__Input) => void): void }).apply(s, { timeNs: 0, port: 0, size: 1, ...op }, (e) => replies.push(e));
  s.applyBatch(() => {
    for (let i = 0; i < 4; i++) {
      apply({ op: 'write', write: { value: 1, more: [] } }); // a served command's completion
      apply({ op: 'write', write: { value: 0, more: [] } }); // the Status read that lowers it
      apply({ op: 'dmaMore', dmaMore: { seq: i + 1, skip: 0, maxBytes: 1 << 20 } });
    }
  });
  expect(replies.map((e) => e.readReply?.seq)).toEqual([1, 2, 3, 4]);
  expect(stream.filter((e) => e.irq).map((e) => e.irq!.level)).toEqual([true, false]);
  service.server.forceShutdown();
});
