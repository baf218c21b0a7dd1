// Times guest port reads against a timer device service through RemoteDevice (the vCPU's
// client), and prints one JSON line: {"address","reads","p50Us","p99Us","meanUs"}.
// Used by bench/compose.ts both inside the vcpu container and on the host.
//   port-read-probe.ts <host:port> [reads]
import { performance } from 'node:perf_hooks';
import { RemoteDevice } from '@quasivm/device-sdk';

const PORT_B = 0x61; // system control port B, answered by the timer service
const address = process.argv[2];
const reads = Number(process.argv[3] ?? 2000);
if (!address || !(reads > 0)) {
  console.error('usage: port-read-probe.ts <host:port> [reads]');
  process.exit(2);
}

const dev = await RemoteDevice.connect(address, `probe-${process.pid}-${Date.now()}`, {});
for (let i = 0; i < 200; i++) await dev.ioRead(PORT_B, 1, i); // warm-up
const us: number[] = [];
for (let i = 0; i < reads; i++) {
  const t0 = performance.now();
  await dev.ioRead(PORT_B, 1, 1000 + i);
  us.push((performance.now() - t0) * 1000);
}
await dev.detach();
dev.close();
us.sort((a, b) => a - b);
const at = (p: number) => us[Math.min(us.length - 1, Math.floor(p * us.length))];
const round = (n: number) => Math.round(n * 10) / 10;
console.log(JSON.stringify({ address, reads, p50Us: round(at(0.5)), p99Us: round(at(0.99)), meanUs: round(us.reduce((a, b) => a + b, 0) / us.length) }));
process.exit(0);
