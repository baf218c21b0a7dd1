import { expect, test } from 'vitest';
import type { IoOp__Input } from '@quasivm/proto';
import { DeviceService } from '../src/device-service.js';
import { encodeRequestParts } from '../src/fast-lane/frame-codec.js';
import type { DeviceFactory, DeviceHost, DeviceModel } from '../src/model.js';
import pino from 'pino';
import { rawLaneSession, until } from './support/raw-lane.js';

/**
 * A data-out phase as one operation (proto DataOut): the service applies its string writes
 * and the Status reads the vCPU answered between them in their order, and refuses a
 * malformed one without applying any of it.
 */
const DATA = 0x10;
const STATUS = 0x17;
const IRQ_PORT = 0x11;
const IRQ_LINE = 5;
let host: DeviceHost;
const calls: string[] = [];
const written: number[] = [];
const model: DeviceModel = {
  ioRead: (port) => (calls.push(`read ${port.toString(16)}`), 0x58),
  ioWrite: (port, _size, value) => {
    calls.push(`write ${port.toString(16)}=${value}`);
    if (port === IRQ_PORT) host.setIrq(IRQ_LINE, value === 1);
  },
  ioWriteString: (port, size, data) => {
    calls.push(`writeString ${port.toString(16)} size ${size} bytes ${data.byteLength}`);
    written.push(...data);
  },
  ioReadString: (port, _size, count) => (calls.push(`readString ${port.toString(16)} x${count}`), new Uint8Array(count)),
  saveState: () => ({ device: 'out', version: 1 }),
  loadState: () => undefined,
};
const factory: DeviceFactory = { describe: () => ({ name: 'out', version: '1', ports: [{ base: DATA, length: 8 }], irqs: [IRQ_LINE], memoryWindows: [] }), create: (h) => ((host = h), model) };

const service = new DeviceService(factory, 'out', { logger: pino({ level: 'silent' }) });
const irqs: Array<[number, boolean]> = [];
const lane = rawLaneSession(service, { name: 'out', readPort: STATUS, device: { onIrq: (line, level) => irqs.push([line, level]) } });
const { events, exchange } = lane;

const block = (n: number, fill: number) => new Uint8Array(n).fill(fill);

test('a DataOut applies its writes and the Status reads between them in order, each block with its own bytes', async () => {
  calls.length = 0;
  written.length = 0;
  const data = new Uint8Array([...block(512, 1), ...block(512, 2), ...block(8192, 3)]);
  const runs = [DATA, 2, 256, 1, STATUS, 1, 1, 0, DATA, 2, 256, 1, STATUS, 1, 2, 0, DATA, 4, 2048, 1];
  await exchange([{ timeNs: 5, port: DATA, size: 2, dataOut: { data: Buffer.from(data), runs } }]);
  expect(calls).toEqual([
    'writeString 10 size 2 bytes 512',
    'read 17',
    'writeString 10 size 2 bytes 512',
    'readString 17 x2',
    'writeString 10 size 4 bytes 8192',
    'read 17', // the read behind it
  ]);
  expect(Buffer.from(written)).toEqual(Buffer.from(data));
});

test('a malformed DataOut is refused and none of it is applied', async () => {
  const bad: Array<[string, number[], number]> = [
    ['runs that write fewer bytes than it carries', [DATA, 2, 255, 1], 512],
    ['runs that write more bytes than it carries', [DATA, 2, 257, 1], 512],
    ['a port the device does not claim', [DATA, 2, 256, 1, 0x40, 1, 1, 0], 512],
    ['a bad access size', [DATA, 3, 1, 1], 3],
    ['runs that are not quadruples', [DATA, 2, 256], 512],
    ['a run kind other than 0 or 1', [DATA, 2, 256, 2], 512],
  ];
  for (const [what, runs, bytes] of bad) {
    calls.length = 0;
    const got = await exchange([{ timeNs: 0, port: DATA, size: 2, dataOut: { data: Buffer.from(block(bytes, 9)), runs } }]);
    expect(got.some((e) => e.error), what).toBe(true);
    expect(calls, what).toEqual(['read 17']);
  }
});

test('frames that arrive together are applied as one batch: the IRQ changes they cause collapse as within one frame', async () => {
  irqs.length = 0;
  const s = lane.nextSeq();
  const w = (value: number): IoOp__Input => ({ timeNs: 0, port: IRQ_PORT, size: 1, write: { value } });
  // What a vCPU sends when it cuts a batch after a large payload: two frames, one write.
  const first = encodeRequestParts({ batch: { ops: [w(1), w(0), w(1), { timeNs: 0, port: DATA, size: 2, writeString: { data: Buffer.from(block(8192, 1)) } }] } });
  const second = encodeRequestParts({ batch: { ops: [w(0), { timeNs: 0, port: STATUS, size: 1, read: { seq: s } }] } });
  expect(first).toHaveLength(2); // the payload went out as its own buffer
  lane.socket.write(Buffer.concat([...first, ...second]));
  await until(() => events.some((e) => e.readReply?.seq === s));
  await until(() => irqs.length >= 2);
  await new Promise((r) => setTimeout(r, 100));
  // Levels 1, 0, 1, 0 in one batch: the last edge and the final level (two changes), not one batch's worth each.
  expect(irqs).toEqual([[IRQ_LINE, true], [IRQ_LINE, false]]);
});
