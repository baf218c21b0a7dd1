import { afterAll, beforeAll, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { RemoteDevice } from '@quasivm/device-sdk';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const PIT_HZ = 1_193_182;
let svc: ServiceProcess;

beforeAll(async () => {
  svc = await startServiceProcess(MAIN, unixAddress('timer'));
});
afterAll(async () => {
  await svc?.stop('SIGKILL');
});

async function programRate(dev: RemoteDevice, reload: number, now: number) {
  dev.ioWrite(0x43, 1, 0x34, now); // channel 0, LSB then MSB, mode 2 (rate generator), binary
  dev.ioWrite(0x40, 1, reload & 0xff, now);
  dev.ioWrite(0x40, 1, reload >> 8, now);
  await dev.ioRead(0x61, 1, now); // a round trip: the writes have been applied
}

test('the timer service sends IRQ0 deadlines at the programmed rate (18.2 Hz and 1000 Hz)', async () => {
  const deadlines: Array<{ at: number | null; period: number }> = [];
  const dev = await RemoteDevice.connect(svc.address, 'vm-timer-rate', {}, { onIrqDeadline: (_l, at, period) => deadlines.push({ at, period }) });
  expect(dev.description!.ports).toEqual([
    { base: 0x40, length: 4 },
    { base: 0x61, length: 1 },
  ]);
  await programRate(dev, 0, 1_000_000); // 0 = 65536: the BIOS default 18.2 Hz
  await programRate(dev, 1193, 2_000_000); // ~1000 Hz
  await new Promise((r) => setTimeout(r, 50));
  const [slow, fast] = deadlines.filter((d) => d.at !== null && d.period > 0).slice(-2);
  expect(1e9 / slow.period).toBeCloseTo(PIT_HZ / 65536, 1);
  expect(Math.abs(1e9 / fast.period - PIT_HZ / 1193) / (PIT_HZ / 1193)).toBeLessThan(0.001);
  expect(fast.at!).toBeGreaterThan(2_000_000);
  dev.close();
});

test('a counter read through the service counts down with guest time', async () => {
  const dev = await RemoteDevice.connect(svc.address, 'vm-timer-count', {});
  await programRate(dev, 10000, 0);
  const read = async (t: number) => {
    dev.ioWrite(0x43, 1, 0x00, t); // latch channel 0
    const lo = await dev.ioRead(0x40, 1, t);
    const hi = await dev.ioRead(0x40, 1, t);
    return lo | (hi << 8);
  };
  const a = await read(1_000_000); // 1 ms of guest time
  const b = await read(2_000_000);
  const ticks = (a - b + 10000) % 10000;
  expect(Math.abs(ticks - PIT_HZ / 1000)).toBeLessThan(3);
  dev.close();
});

test('a restarted timer service continues where the old one stopped (SaveState -> LoadState)', async () => {
  const dev = await RemoteDevice.connect(svc.address, 'vm-timer-move', {});
  await programRate(dev, 5000, 0);
  const saved = await dev.saveState();
  dev.close();
  const other = await startServiceProcess(MAIN, unixAddress('timer2'));
  try {
    const moved = await RemoteDevice.connect(other.address, 'vm-timer-move', {});
    await moved.loadState(saved);
    moved.ioWrite(0x43, 1, 0x00, 1_000_000);
    const lo = await moved.ioRead(0x40, 1, 1_000_000);
    const hi = await moved.ioRead(0x40, 1, 1_000_000);
    const expected = 5000 - (Math.floor((1_000_000 * PIT_HZ) / 1e9) % 5000);
    expect(Math.abs((lo | (hi << 8)) - expected)).toBeLessThan(3);
    moved.close();
  } finally {
    await other.stop();
  }
});

test('SIGTERM stops the service with exit code 0', async () => {
  const own = await startServiceProcess(MAIN, unixAddress('timer3'));
  expect(await own.stop('SIGTERM')).toBe(0);
});
