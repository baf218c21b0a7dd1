import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { IoEvent, IoOp__Input } from '@quasivm/proto';
import { DeviceService } from '../src/device-service.js';
import { RemoteDevice } from '../src/remote-device.js';
import { decodeEvent, encodeRequestParts, FrameSplitter } from '../src/fast-lane/frame-codec.js';
import type { DeviceFactory, DeviceHost, DeviceModel } from '../src/model.js';
import pino from 'pino';

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

const dir = mkdtempSync(path.join(os.tmpdir(), 'qvm-dataout-'));
const service = new DeviceService(factory, 'out', { logger: pino({ level: 'silent' }) });
let dev: RemoteDevice;
let socket: net.Socket;
const events: IoEvent[] = [];
const irqs: Array<[number, boolean]> = [];
let seq = 1;

beforeAll(async () => {
  await service.listen(`unix:${path.join(dir, 'out.sock')}`);
  dev = await RemoteDevice.connect(`unix:${path.join(dir, 'out.sock')}`, 'vm', {}, { onIrq: (line, level) => irqs.push([line, level]) });
  socket = net.connect(dev.fastLanePath);
  const splitter = new FrameSplitter();
  socket.on('data', (d: Buffer) => events.push(...splitter.push(d).map(decodeEvent)));
  socket.write(Buffer.concat(encodeRequestParts({ open: { sessionId: dev.sessionId } })));
  await until(() => events.some((e) => e.opened));
});
afterAll(async () => {
  socket?.destroy();
  dev?.close();
  await service.shutdown(100);
  rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Sends `ops` and a read behind them; resolves with the events that came back for them. */
async function exchange(ops: IoOp__Input[]): Promise<IoEvent[]> {
  const s = seq++;
  const from = events.length;
  for (const p of encodeRequestParts({ batch: { ops: [...ops, { timeNs: 0, port: STATUS, size: 1, read: { seq: s } }] } })) socket.write(p);
  await until(() => events.some((e) => e.readReply?.seq === s));
  return events.slice(from);
}

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
  const s = seq++;
  const w = (value: number): IoOp__Input => ({ timeNs: 0, port: IRQ_PORT, size: 1, write: { value } });
  // What a vCPU sends when it cuts a batch after a large payload: two frames, one write.
  const first = encodeRequestParts({ batch: { ops: [w(1), w(0), w(1), { timeNs: 0, port: DATA, size: 2, writeString: { data: Buffer.from(block(8192, 1)) } }] } });
  const second = encodeRequestParts({ batch: { ops: [w(0), { timeNs: 0, port: STATUS, size: 1, read: { seq: s } }] } });
  expect(first).toHaveLength(2); // the payload went out as its own buffer
  socket.write(Buffer.concat([...first, ...second]));
  await until(() => events.some((e) => e.readReply?.seq === s));
  await until(() => irqs.length >= 2);
  await new Promise((r) => setTimeout(r, 100));
  // Levels 1, 0, 1, 0 in one batch: the last edge and the final level (two changes), not one batch's worth each.
  expect(irqs).toEqual([[IRQ_LINE, true], [IRQ_LINE, false]]);
});
