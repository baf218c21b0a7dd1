import { afterAll, beforeAll, expect, test } from 'vitest';
import { RemoteDevice } from '@quasivm/device-sdk';
import { startScratchService, type ChildService } from '../../../libs/device-sdk/test/fixtures/child-service.js';
import { createBridgeBuffers, RemoteIoPump } from '../src/remote-io-bridge.js';
import { startTsWorker } from '../src/ts-worker.js';

let svc: ChildService;
beforeAll(async () => {
  svc = await startScratchService();
});
afterAll(() => {
  svc.child.kill('SIGKILL');
});

test('a CPU thread blocks on remote reads while the main thread talks gRPC; order and string I/O hold', async () => {
  const dev = await RemoteDevice.connect(svc.address, 'vm-bridge', {});
  const buffers = createBridgeBuffers();
  const pump = new RemoteIoPump(buffers, [dev]);
  pump.start();
  const worker = startTsWorker(new URL('./fixtures/bridge-worker.ts', import.meta.url), { workerData: { buffers } });
  const result = await new Promise<{ reads: number[]; stringOk: boolean; p50: number }>((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
  });
  pump.stop();
  dev.close();
  await worker.terminate();
  expect(result.reads).toEqual([...Array(100).keys()]);
  expect(result.stringOk).toBe(true);
  console.log(`remote read through the CPU-thread bridge: p50 ${result.p50.toFixed(0)} us`);
});

test('a read from a device that is gone answers all ones and reports the failure once', async () => {
  const buffers = createBridgeBuffers();
  const errors: string[] = [];
  const failing = {
    ioRead: async () => {
      throw new Error('device service unavailable');
    },
    ioWrite: () => undefined,
    ioReadString: async () => new Uint8Array(),
    ioWriteString: () => undefined,
  };
  const pump = new RemoteIoPump(buffers, [failing], (i, e) => errors.push(`${i}: ${e.message}`));
  pump.start();
  const proxyWorker = startTsWorker(new URL('./fixtures/bridge-failing-worker.ts', import.meta.url), { workerData: { buffers } });
  const values = await new Promise<number[]>((resolve, reject) => {
    proxyWorker.on('message', resolve);
    proxyWorker.on('error', reject);
  });
  pump.stop();
  await proxyWorker.terminate();
  expect(values).toEqual([0xff, 0xffff]);
  expect(errors).toEqual(['0: device service unavailable']);
});
