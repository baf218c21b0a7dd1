import { expect, test } from 'vitest';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { IoRequest } from '@quasivm/proto';
import { decodeRequest, encodeEvent, encodeEventParts, FrameSplitter } from '../src/fast-lane/frame-codec.js';

/**
 * The vCPU side's reused buffers (BlockingFastLane): copies posted with copyOut come from one
 * data-out buffer used again after each flush, and must reach the device as they were copied
 * (not as a later copy or the changed source left them); replies read early with drain() must
 * come out whole and in order. A plain socket stands in for the device service.
 */
test('copies posted with copyOut arrive as copied across flushes that reuse the buffer; drained replies arrive whole', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qvm-lane-buffers-'));
  const lanePath = path.join(dir, 'lane.io');
  const snapshots: Array<{ addr: number; data: Buffer }> = [];
  const server = net.createServer((socket) => {
    const splitter = new FrameSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const body of splitter.push(chunk)) {
        const req: IoRequest = decodeRequest(body);
        if (req.open) socket.write(encodeEvent({ opened: { sessionId: 's' } }));
        for (const op of req.batch?.ops ?? []) {
          if (op.memorySnapshot) snapshots.push({ addr: Number(op.memorySnapshot.addr), data: Buffer.from(op.memorySnapshot.data) });
          if (op.read) {
            const i = op.read.seq - 1;
            for (const p of encodeEventParts({ readReply: { seq: op.read.seq, data: Buffer.alloc((1 << 20) + i * 8, i + 1) } })) socket.write(p);
          }
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(lanePath, r));
  const worker = new Worker(new URL('./fixtures/tsx-worker.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/copy-out-worker.ts', import.meta.url).href, path: lanePath },
  });
  const r = await new Promise<{ distinctBuffers: number; replies: boolean[] }>((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
  });
  server.close();
  expect(r.distinctBuffers).toBe(1); // the buffer was reused: what follows checks it was not too soon
  expect(snapshots.map((s) => s.addr)).toEqual([...Array(12).keys()]);
  snapshots.forEach((s, n) => {
    expect(s.data.length).toBe(64 * 1024);
    expect(s.data.every((b) => b === n + 1)).toBe(true);
  });
  expect(r.replies).toEqual([true, true, true]);
});
