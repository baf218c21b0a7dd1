// bench/io-roundtrip: the cost of a port read that crosses processes (device SDK over
// gRPC on a unix socket and over TCP), posted-write throughput, and the same figures for
// the model called in-process, printed as a ratio. Run: npx tsx bench/io-roundtrip.ts
import { performance } from 'node:perf_hooks';
import { RemoteDevice, type DeviceHost } from '@quasivm/device-sdk';
import { ScratchDevice, FIFO_PORT, SCRATCH_BASE } from '../libs/device-sdk/test/fixtures/scratch-device.js';
import { startScratchService } from '../libs/device-sdk/test/fixtures/child-service.js';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@quasivm/testing';
import { Worker } from 'node:worker_threads';

/** The vCPU's real path: a blocking CPU thread reading over the service's fast lane. */
function measureFastLane(path: string, sessionId: string): Promise<{ p50: number; p99: number; writesPerSec: number }> {
  const fixtures = new URL('../libs/device-sdk/test/fixtures/', import.meta.url);
  const worker = new Worker(new URL('tsx-worker.mjs', fixtures), {
    workerData: { entry: new URL('fast-lane-worker.ts', fixtures).href, path, sessionId, samples: READS, writes: WRITES },
  });
  return new Promise((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
  });
}

const READS = Number(process.env.READS ?? 5000);
const WRITES = Number(process.env.WRITES ?? 300_000);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measureRemote(dev: RemoteDevice) {
  for (let i = 0; i < 500; i++) await dev.ioRead(SCRATCH_BASE, 1, i); // warm-up
  const lat: number[] = [];
  for (let i = 0; i < READS; i++) {
    const t0 = performance.now();
    await dev.ioRead(SCRATCH_BASE, 1, i);
    lat.push((performance.now() - t0) * 1000);
  }
  lat.sort((a, b) => a - b);
  const t0 = performance.now();
  for (let i = 0; i < WRITES; i++) dev.ioWrite(SCRATCH_BASE + 1, 1, i & 0xff, i);
  await dev.ioRead(SCRATCH_BASE + 1, 1, WRITES); // completes after every write was applied
  const secs = (performance.now() - t0) / 1000;
  return { p50: pct(lat, 50), p99: pct(lat, 99), writesPerSec: WRITES / secs };
}

function measureLocal() {
  const host: DeviceHost = { setIrq() {}, setIrqDeadline() {}, readMemory: async () => new Uint8Array(), writeMemory: async () => {}, emitEvent() {} };
  const dev = new ScratchDevice(host);
  const lat: number[] = [];
  let sink = 0;
  for (let i = 0; i < READS; i++) {
    const t0 = performance.now();
    for (let j = 0; j < 100; j++) sink += dev.ioRead(SCRATCH_BASE, 1, i);
    lat.push(((performance.now() - t0) * 1000) / 100);
  }
  lat.sort((a, b) => a - b);
  const t0 = performance.now();
  for (let i = 0; i < WRITES; i++) dev.ioWrite(FIFO_PORT - 4, 1, i & 0xff, i);
  const secs = (performance.now() - t0) / 1000;
  return { p50: pct(lat, 50), p99: pct(lat, 99), writesPerSec: WRITES / secs, sink };
}

async function tcpService() {
  const port = await freePort();
  const here = path.dirname(fileURLToPath(import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, '../libs/device-sdk/test/fixtures/serve-scratch.ts'), `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => child.stdout!.on('data', (d) => String(d).includes('listening') && resolve()));
  return { child, address: `127.0.0.1:${port}` };
}

const local = measureLocal();
const unixSvc = await startScratchService();
const unixDev = await RemoteDevice.connect(unixSvc.address, 'bench-unix', {});
const unix = await measureRemote(unixDev);
const fast = await measureFastLane(unixDev.fastLanePath, unixDev.sessionId);
const tcpSvc = await tcpService();
const tcpDev = await RemoteDevice.connect(tcpSvc.address, 'bench-tcp', {});
const tcp = await measureRemote(tcpDev);
unixDev.close();
tcpDev.close();
unixSvc.child.kill();
tcpSvc.child.kill();

const f = (n: number) => n.toFixed(n < 10 ? 2 : 0);
console.log(`io-roundtrip (${READS} reads, ${WRITES} posted writes; node ${process.version})`);
console.log(`  in-process model       read p50 ${(local.p50 * 1000).toFixed(0)} ns  p99 ${(local.p99 * 1000).toFixed(0)} ns  writes ${Math.round(local.writesPerSec).toLocaleString('en')}/s`);
for (const [name, r] of [['gRPC stream, unix', unix], ['gRPC stream, TCP', tcp], ['fast lane (vCPU path)', fast]] as const) {
  console.log(
    `  ${name.padEnd(20)} read p50 ${f(r.p50)} us  p99 ${f(r.p99)} us  writes ${Math.round(r.writesPerSec).toLocaleString('en')}/s` +
      `  (process boundary: read x${Math.round(r.p50 / Math.max(local.p50, 0.001))}, writes /${f(local.writesPerSec / r.writesPerSec)})`,
  );
}
console.log(`  targets: remote read p50 <= 60 us; posted writes >= 200,000/s; load average now ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).cpus().length} cores`);
process.stdout.write("", () => process.exit(0));
