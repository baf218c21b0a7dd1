import { expect, test } from 'vitest';
import type { IoEvent__Input } from '@quasivm/proto';
import { DeviceSession } from '../src/session.js';
import type { DeviceFactory, DeviceHost, DeviceModel } from '../src/model.js';

/**
 * IRQ line changes take a fast lane whose vCPU thread applies them (proto OpenStream.irqs_on_lane)
 * only when every change sent through the gRPC stream has been applied: a change never
 * overtakes an earlier one that is still on its way through the vCPU's main thread.
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

test('a line change goes on the lane only once the vCPU has applied every change the stream carried, and all are numbered in order', () => {
  const s = new DeviceSession('vm', factory, {});
  const stream: IoEvent__Input[] = [];
  const lane: IoEvent__Input[] = [];
  s.attachStream((e) => stream.push(e));
  const seqs = (events: IoEvent__Input[]) => events.map((e) => Number(e.irq?.seq));

  s.irqLane = (e) => lane.push(e); // the vCPU thread waits on its lane
  s.model.ioWrite(0, 1, 1, 0); // 1: nothing earlier is outstanding -> lane
  s.irqLane = null; // the vCPU runs guest code
  s.model.ioWrite(0, 1, 0, 0); // 2: stream
  s.irqLane = (e) => lane.push(e);
  s.irqSeqApplied = 1; // it has not applied 2 yet
  s.model.ioWrite(0, 1, 1, 0); // 3: stream, behind 2
  s.irqSeqApplied = 3;
  s.model.ioWrite(0, 1, 0, 0); // 4: lane
  s.model.ioWrite(0, 1, 1, 0); // 5: lane, behind 4 on the same lane

  expect(seqs(lane)).toEqual([1, 4, 5]);
  expect(seqs(stream)).toEqual([2, 3]);
  expect([...lane, ...stream].sort((a, b) => Number(a.irq!.seq) - Number(b.irq!.seq)).map((e) => e.irq!.level)).toEqual([true, false, true, false, true]);
});
