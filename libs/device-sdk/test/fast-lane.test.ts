import { afterAll, beforeAll, expect, test } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { RemoteDevice } from '../src/index.js';
import { startScratchService, type ChildService } from './fixtures/child-service.js';

let svc: ChildService;
beforeAll(async () => {
  svc = await startScratchService();
});
afterAll(() => {
  svc.child.kill('SIGKILL');
});

export function runFastLaneWorker(path: string, sessionId: string, extra: Record<string, number> = {}) {
  const worker = new Worker(new URL('./fixtures/tsx-worker.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/fast-lane-worker.ts', import.meta.url).href, path, sessionId, ...extra },
  });
  return new Promise<{ reads: number[]; refused: number | null; p50: number; p99: number; writesPerSec: number }>((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
  });
}

test('a blocking vCPU thread reads over the fast lane in order with posted writes, bypassing HTTP/2', async () => {
  const dev = await RemoteDevice.connect(svc.address, 'vm-fast', {});
  expect(dev.fastLanePath).toBe(`${fileURLToPath(new URL(svc.address.replace('unix:', 'file://')))}.io`);
  const r = await runFastLaneWorker(dev.fastLanePath, dev.sessionId, { samples: 500, writes: 20_000 });
  expect(r.reads).toEqual([...Array(200).keys()]);
  expect(r.refused).toBeNull(); // a port the device does not claim is refused, not answered
  console.log(`fast lane from a blocking thread: read p50 ${r.p50.toFixed(0)} us, p99 ${r.p99.toFixed(0)} us, ${Math.round(r.writesPerSec)} posted writes/s`);
  // Events still flow on the gRPC stream of the same session.
  expect(await dev.ioRead(0x500, 1, 0)).toBe(0);
  dev.close();
});

test('the fast lane refuses an unknown session', async () => {
  const dev = await RemoteDevice.connect(svc.address, 'vm-fast2', {});
  await expect(runFastLaneWorker(dev.fastLanePath, 'no-such-session')).rejects.toThrow(/unknown session/);
  dev.close();
});
