import { expect, test } from 'vitest';
import { DeviceService } from '../src/device-service.js';
import type { DeviceFactory, DeviceModel } from '../src/model.js';
import pino from 'pino';
import { rawLaneSession } from './support/raw-lane.js';

/**
 * Writes posted back to back as one operation (proto Write.more, which the fast-lane client
 * builds): the service applies each as the write it is, in order and at its own guest time,
 * and refuses a malformed run without applying any of it.
 */
const BASE = 0x40;
const calls: string[] = [];
const model: DeviceModel = {
  // Reads of BASE are the test's own (the read each exchange ends with): not logged.
  ioRead: (port, size, now) => (port !== BASE && calls.push(`${port.toString(16)}/${size}?@${now}`), 0),
  ioWrite: (port, size, value, now) => void calls.push(`${port.toString(16)}/${size}=${value}@${now}`),
  saveState: () => ({ device: 'runs', version: 1 }),
  loadState: () => undefined,
};
const factory: DeviceFactory = { describe: () => ({ name: 'runs', version: '1', ports: [{ base: BASE, length: 8 }], irqs: [], memoryWindows: [] }), create: () => model };

const service = new DeviceService(factory, 'runs', { logger: pino({ level: 'silent' }) });
const { exchange } = rawLaneSession(service, { name: 'runs', readPort: BASE });

test('a write and the writes that followed it are applied in order, each at its own time', async () => {
  calls.length = 0;
  await exchange([{ timeNs: 1000, port: BASE + 6, size: 1, write: { value: 0xe0, more: [BASE + 2, 1, 128, 5, BASE + 3, 1, 7, 0, BASE + 4, 4, 0x12345678, 3_000_000_000] } }]);
  expect(calls).toEqual(['46/1=224@1000', '42/1=128@1005', '43/1=7@1005', '44/4=305419896@3000001005']);
});

test('a run with a port the device does not claim, a bad size or a partial quadruple is refused, none of it applied', async () => {
  for (const more of [[BASE + 2, 1, 1, 0, 0x80, 1, 2, 0], [BASE + 2, 3, 1, 0], [BASE + 2, 1, 1]]) {
    calls.length = 0;
    const out = await exchange([{ timeNs: 0, port: BASE, size: 1, write: { value: 9, more } }]);
    expect(out.some((e) => e.error)).toBe(true);
    expect(calls).toEqual([]);
  }
});

test('reads the vCPU answered, joined to the writes (size | 0x100, count in value), are applied as reads in their place, each run at its time', async () => {
  calls.length = 0;
  await exchange([{ timeNs: 1000, port: BASE + 6, size: 1, write: { value: 0xe0, more: [BASE + 7, 0x101, 1, 5, BASE + 2, 1, 128, 5, BASE + 7, 0x101, 3, 10] } }]);
  expect(calls).toEqual(['46/1=224@1000', '47/1?@1005', '42/1=128@1010', '47/1?@1020', '47/1?@1020', '47/1?@1020']);
});

test('joined reads on a port the device does not claim, with a bad size or too many bytes are refused, none of the run applied', async () => {
  for (const more of [[0x80, 0x101, 1, 0], [BASE + 7, 0x103, 1, 0], [BASE + 7, 0x301, 1, 0], [BASE + 7, 0x104, 1 << 20, 0]]) {
    calls.length = 0;
    const out = await exchange([{ timeNs: 0, port: BASE, size: 1, write: { value: 9, more } }]);
    expect(out.some((e) => e.error)).toBe(true);
    expect(calls).toEqual([]);
  }
});
