// bench/timer: the two figures the timer issue asks for.
//  1. A PIT counter read through the stack: latch command (posted) + LSB + MSB reads from a
//     blocking vCPU-style thread over the timer service's fast lane, and over its gRPC stream.
//  2. IRQ 0 delivery jitter at 1000 Hz: actual vs programmed interrupt time.
//     - KVM backend: deadlines are delivered by a main-thread host timer (DeadlineTimer on the
//       guest clock); measured here on the real DeadlineTimer and GuestClock.
//     - soft backend: edges are delivered when the instruction count reaches them, so the
//       error is at most one instruction (10 ns of guest time) by construction.
// Run: npx tsx bench/timer.ts
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { RemoteDevice } from '@quasivm/device-sdk';
import { startServiceProcess, unixAddress } from '@quasivm/testing';
import { GuestClock } from '../apps/vcpu/src/kvm/guest-clock.js';
import { DeadlineTimer } from '../apps/vcpu/src/kvm/deadline-timer.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const READS = 3000;

const timer = await startServiceProcess(fileURLToPath(new URL('../apps/timer/src/main.ts', import.meta.url)), unixAddress('timer'));
const dev = await RemoteDevice.connect(timer.address, 'bench-timer', {});
// Channel 0 running at 1000 Hz so the counter moves.
dev.ioWrite(0x43, 1, 0x34, 0);
dev.ioWrite(0x40, 1, 1193 & 0xff, 0);
dev.ioWrite(0x40, 1, 1193 >> 8, 0);

const grpcLat: number[] = [];
for (let i = 0; i < READS; i++) {
  const t0 = performance.now();
  dev.ioWrite(0x43, 1, 0x00, i * 1000);
  await dev.ioRead(0x40, 1, i * 1000);
  await dev.ioRead(0x40, 1, i * 1000);
  grpcLat.push((performance.now() - t0) * 1000);
}

const workerSrc = `
  const { parentPort, workerData } = require('node:worker_threads');
  require('tsx/cjs/api').register();
  const { BlockingFastLane } = require(workerData.sdk);
  const lane = new BlockingFastLane(workerData.path, workerData.sessionId);
  const lat = [];
  for (let i = 0; i < workerData.reads; i++) {
    const t0 = performance.now();
    lane.write(0x43, 1, 0x00, 5e9 + i * 1000);
    lane.read(0x40, 1, 5e9 + i * 1000);
    lane.read(0x40, 1, 5e9 + i * 1000);
    lat.push((performance.now() - t0) * 1000);
  }
  lane.close();
  parentPort.postMessage(lat);
`;
const fastLat: number[] = await new Promise((resolve, reject) => {
  const w = new Worker(workerSrc, { eval: true, workerData: { sdk: fileURLToPath(new URL('../libs/device-sdk/src/index.ts', import.meta.url)), path: dev.fastLanePath, sessionId: dev.sessionId, reads: READS } });
  w.on('message', resolve);
  w.on('error', reject);
});
dev.close();
await timer.stop('SIGKILL');

// IRQ 0 at 1000 Hz through the KVM backend's delivery path, for 3 s of guest time.
const clock = GuestClock.create();
clock.resume();
const PERIOD = 1e9 / (1_193_182 / 1193);
const first = clock.nowNs() + 10e6;
const lateness: number[] = [];
let skipped = 0;
const done = new Promise<void>((resolve) => {
  const deadlines = new DeadlineTimer(clock, () => {
    // Lateness behind the latest edge due (edges the host could not keep up with are skipped and counted).
    lateness.push(((clock.nowNs() - first) % PERIOD) / 1000);
    if (lateness.length === 3000) {
      skipped = deadlines.skipped;
      deadlines.stop();
      resolve();
    }
  });
  deadlines.set(0, first, PERIOD);
});
await done;

const f = (x: number) => x.toFixed(1);
console.log(`timer bench (load average ${loadavg()[0].toFixed(1)} on 2 cores)`);
console.log(`  counter read (latch + LSB + MSB), fast lane from a blocking thread: p50 ${f(pct(fastLat, 50))} us  p99 ${f(pct(fastLat, 99))} us`);
console.log(`  counter read (latch + LSB + MSB), gRPC stream from the event loop:  p50 ${f(pct(grpcLat, 50))} us  p99 ${f(pct(grpcLat, 99))} us`);
console.log(`  IRQ0 at 1000 Hz, KVM delivery path (host timer on the guest clock), ${lateness.length} edges: late by p50 ${f(pct(lateness, 50))} us  p99 ${f(pct(lateness, 99))} us  max ${f(Math.max(...lateness))} us, ${skipped} edges skipped`);
console.log(`  IRQ0 at 1000 Hz, soft backend: delivered when the instruction count reaches the edge: error <= 1 instruction (10 ns of guest time)`);
process.stdout.write('', () => process.exit(0));
