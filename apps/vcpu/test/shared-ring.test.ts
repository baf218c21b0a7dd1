import { expect, test } from 'vitest';
import { SharedRing } from '../src/shared-ring.js';
import { startTsWorker } from '../src/ts-worker.js';

test('records come out in order, including across the wrap', () => {
  const ring = SharedRing.create(16);
  const out: number[][] = [];
  for (let i = 0; i < 100; i++) {
    expect(ring.tryPush([i, i * 2, i * 3].slice(0, (i % 3) + 1))).toBe(true);
    out.push([...ring.pop()!]);
  }
  expect(out[5]).toEqual([5, 10, 15]);
  expect(out[99]).toEqual([99]);
  expect(ring.pop()).toBeNull();
});

test('a full ring refuses a push until the consumer frees space', () => {
  const ring = SharedRing.create(8);
  expect(ring.tryPush([1, 2, 3])).toBe(true);
  expect(ring.tryPush([4, 5, 6])).toBe(true);
  expect(ring.tryPush([7])).toBe(false);
  expect([...ring.pop()!]).toEqual([1, 2, 3]);
  expect(ring.tryPush([7])).toBe(true);
  expect(() => ring.tryPush(new Array(20).fill(0))).toThrow(/exceeds/);
});

test('a worker thread and the main thread exchange 20,000 records without busy-waiting', async () => {
  const toWorker = SharedRing.create(256);
  const toMain = SharedRing.create(256);
  const worker = startTsWorker(new URL('./fixtures/echo-ring-worker.ts', import.meta.url), {
    workerData: { a: toWorker.buffer, b: toMain.buffer, count: 20000 },
  });
  const failed = new Promise((_, reject) => worker.on('error', reject));
  failed.catch(() => undefined);
  let sum = 0;
  for (let i = 0; i < 20000; i++) {
    expect(toWorker.tryPush([i])).toBe(true);
    let rec: Int32Array | null;
    while ((rec = toMain.pop()) === null) await Promise.race([toMain.waitForDataAsync(100), failed]);
    expect(rec[0]).toBe(i + 1);
    sum += rec[0];
  }
  expect(sum).toBe((20000 * 20001) / 2);
  await worker.terminate();
});
