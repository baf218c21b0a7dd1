// bench/timer: the two figures the timer issue asks for.
//  1. A PIT counter read through the stack: latch command (posted) + LSB + MSB reads from a
//     blocking vCPU-style thread over the timer service's fast lane, and over its gRPC stream.
//  2. IRQ 0 delivery jitter at 1000 Hz: actual vs programmed interrupt time.
//     - KVM backend: deadlines are delivered by the IRQ deadline thread (DeadlineThread on the
//       guest clock), which raises the line with KVM_IRQ_LINE; lateness is taken right after
//       the ioctl. Where /dev/kvm does not open, the same thread and loop with a pulse that
//       raises nothing. Beside it, the main-thread setTimeout it replaced.
//     - soft backend: edges are delivered when the instruction count reaches them, so the
//       error is at most one instruction (10 ns of guest time) by construction.
// Run: npx tsx bench/timer.ts
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { RemoteDevice } from '@quasivm/device-sdk';
import { startServiceProcess, unixAddress } from '@quasivm/testing';
import { Kvm, type KvmVm } from '@quasivm/kvm';
import { GuestClock } from '../apps/vcpu/src/kvm/guest-clock.js';
import { DeadlineThread } from '../apps/vcpu/src/kvm/deadline-thread.js';
import { EdgeLog } from '../apps/vcpu/src/kvm/edge-log.js';
import { kvmDevicePath, kvmUnavailableReason } from '../apps/vcpu/src/kvm/kvm-device-path.js';
import { IrqDeadlines } from '../apps/vcpu/src/machine/deadlines.js';

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

// IRQ 0 at 1000 Hz on the KVM backend's delivery path, 3 s of guest time per row.
const PERIOD = 1e9 / (1_193_182 / 1193);
const EDGES = 3000;
const kvmModules = Kvm.backendModules().join(', ') || 'none';
const kvmMissing = kvmUnavailableReason();

/** Now: the IRQ deadline thread (DeadlineThread), raising the line with KVM_IRQ_LINE on a real VM when /dev/kvm opens. */
async function deadlineThreadLateness(): Promise<{ late: number[]; skipped: number }> {
  const clock = GuestClock.create();
  clock.resume();
  const log = EdgeLog.create(EDGES);
  let vm: KvmVm | null = null;
  let kvm: Kvm | null = null;
  if (!kvmMissing) {
    kvm = Kvm.open(kvmDevicePath());
    vm = kvm.createVm();
    vm.createIrqchip();
  }
  const thread = new DeadlineThread(clock, (m) => console.error(m), { edges: log, entry: vm ? undefined : new URL('../apps/vcpu/test/support/dry-deadline-worker.ts', import.meta.url) });
  thread.start(vm?.fd ?? -1);
  const alive = setInterval(() => undefined, 1000);
  await thread.ready;
  thread.set(0, clock.nowNs() + 10e6, PERIOD);
  while (log.count < EDGES) await new Promise((r) => setTimeout(r, 50));
  clearInterval(alive);
  thread.stop();
  vm?.close();
  kvm?.close();
  return { late: log.latenessMicros(), skipped: thread.skipped };
}

/** Before: a main-thread setTimeout on the same guest clock and deadline rules (the DeadlineTimer this replaced). */
async function mainThreadTimerLateness(): Promise<{ late: number[]; skipped: number }> {
  const clock = GuestClock.create();
  clock.resume();
  const deadlines = new IrqDeadlines();
  const late: number[] = [];
  deadlines.set(0, clock.nowNs() + 10e6, PERIOD);
  await new Promise<void>((resolve) => {
    const tick = () => {
      deadlines.fire(clock.nowNs(), (_line, due) => late.push((clock.nowNs() - due) / 1000));
      if (late.length >= EDGES) return resolve();
      setTimeout(tick, Math.max(0, (deadlines.next() - clock.nowNs()) / 1e6));
    };
    tick();
  });
  return { late, skipped: deadlines.skipped };
}

const now = await deadlineThreadLateness();
const before = await mainThreadTimerLateness();

const f = (x: number) => x.toFixed(1);
console.log(`timer bench (load average ${loadavg()[0].toFixed(1)} on 2 cores)`);
console.log(`  counter read (latch + LSB + MSB), fast lane from a blocking thread: p50 ${f(pct(fastLat, 50))} us  p99 ${f(pct(fastLat, 99))} us`);
console.log(`  counter read (latch + LSB + MSB), gRPC stream from the event loop:  p50 ${f(pct(grpcLat, 50))} us  p99 ${f(pct(grpcLat, 99))} us`);
const row = (r: { late: number[]; skipped: number }) => `late by p50 ${f(pct(r.late, 50))} us  p99 ${f(pct(r.late, 99))} us  max ${f(Math.max(...r.late))} us, ${r.skipped} edges skipped`;
const via = kvmMissing ? 'no VM here, its loop with a pulse that raises nothing' : 'KVM_IRQ_LINE on a real VM';
console.log(`  IRQ0 at 1000 Hz, KVM path, IRQ deadline thread (${via}), ${EDGES} edges: ${row(now)}`);
console.log(`  IRQ0 at 1000 Hz, KVM path before it, main-thread setTimeout, ${EDGES} edges:  ${row(before)}`);
console.log(`  KVM modules loaded (/sys/module/kvm_*): ${kvmModules}; ${kvmDevicePath()}: ${kvmMissing ?? 'opens'}`);
console.log(`  IRQ0 at 1000 Hz, soft backend: delivered when the instruction count reaches the edge: error <= 1 instruction (10 ns of guest time)`);
process.stdout.write('', () => process.exit(0));
