// bench/compose: what the container stack costs a user, measured in one run.
//  1. time from `docker-compose up -d` (images already built) to the guest's first serial line
//     and to its first SCREEN TEXT (vga-text's banner, read through the gateway's ScreenText)
//  2. a port read round trip (RemoteDevice -> timer service, docker/port-read-probe.ts):
//     vcpu container -> timer container, host -> timer container, and two local processes.
// Run: npx tsx bench/compose.ts   (images: `docker-compose build` or scripts/compose-e2e.sh first)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@quasivm/testing';
import { VmClient } from '../docker/vm-client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READS = process.env.READS ?? '2000';
const compose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0 ? ['docker-compose'] : ['docker', 'compose'];
const [httpPort, grpcPort] = [await freePort(), await freePort()];
const env = {
  ...process.env,
  COMPOSE_PROJECT_NAME: 'quasivm-bench',
  QUASIVM_TOKEN: `bench-${randomBytes(12).toString('hex')}`,
  QUASIVM_HTTP_PUBLISH: `127.0.0.1:${httpPort}`,
  QUASIVM_GRPC_PUBLISH: `127.0.0.1:${grpcPort}`,
  ...(process.env.QUASIVM_KVM_GID || !existsKvm() ? {} : { QUASIVM_KVM_GID: execFileSync('stat', ['-c', '%g', '/dev/kvm']).toString().trim() }),
  ...(existsKvm() ? {} : { QUASIVM_KVM_DEVICE: '/dev/null' }),
};
function existsKvm(): boolean {
  return spawnSync('test', ['-e', '/dev/kvm']).status === 0;
}
const dc = (...args: string[]) => execFileSync(compose[0], [...compose.slice(1), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const say = (s: string) => console.error(`bench/compose: ${s}`);

interface Probe { p50Us: number; p99Us: number; meanUs: number }
const probe = (cmd: string, args: string[]): Probe => JSON.parse(execFileSync(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim().split('\n').pop()!);

for (const img of ['nats', 'timer', 'ide', 'vga', 'vcpu', 'gateway'])
  if (spawnSync('docker', ['image', 'inspect', `quasivm/${img}:dev`], { stdio: 'ignore' }).status !== 0) {
    console.error(`bench/compose: image quasivm/${img}:dev is missing; build first: ${compose.join(' ')} build (or scripts/compose-e2e.sh)`);
    process.exit(1);
  }

let result: string[] = [];
try {
  say(`${compose.join(' ')} up -d (project quasivm-bench)`);
  const t0 = performance.now();
  dc('up', '-d');
  const upDone = performance.now() - t0;
  const vms = new VmClient(env.QUASIVM_GRPC_PUBLISH, env.QUASIVM_TOKEN);
  await vms.waitReady(180_000);
  const apiReady = performance.now() - t0;
  const boot = await vms.bootWithSerial({
    name: 'bench', firmware: '/opt/quasivm/guests/build/vga-text.bin', backend: 'soft', ramMib: 16,
    devices: [{ device: 'timer', address: 'timer:50051' }, { device: 'ide', address: 'ide:50052' }, { device: 'vga', address: 'vga:50053' }],
  });
  // Polled every 20 ms: serial from the console stream, the screen through the gateway's ScreenText.
  let firstLine = 0;
  let firstScreen = 0;
  let row0 = '';
  while (!firstLine || !firstScreen) {
    if (performance.now() - t0 > 300_000) throw new Error(`no screen text within 300 s (serial: ${JSON.stringify(boot.serial.text)})`);
    if (!firstLine && boot.serial.text.includes('vga-text: scrolling')) firstLine = performance.now() - t0;
    if (!firstScreen) {
      row0 = (await vms.screenText(boot.vmId).catch(() => ['']))[0] ?? '';
      if (row0.includes('vga-text: Hello, VGA!')) firstScreen = performance.now() - t0;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  boot.serial.close();
  await vms.deleteVm(boot.vmId);
  vms.close();

  say(`port reads: vcpu container -> timer container (${READS} reads)`);
  const c2c = probe(compose[0], [...compose.slice(1), 'exec', '-T', 'vcpu', 'node', '--import', 'tsx', 'docker/port-read-probe.ts', 'timer:50051', READS]);
  const timerId = dc('ps', '-q', 'timer').trim();
  const timerIp = execFileSync('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', timerId]).toString().trim();
  say(`port reads: host -> timer container ${timerIp}`);
  let h2c: Probe | null = null; // container addresses are reachable from a Linux host, not from Docker Desktop
  try {
    h2c = probe(process.execPath, ['--import', 'tsx', 'docker/port-read-probe.ts', `${timerIp}:50051`, READS]);
  } catch {
    say(`host cannot reach ${timerIp}; that row is left out`);
  }

  say('port reads: host process -> local apps/timer process');
  const port = await freePort();
  const timer = spawn(process.execPath, ['--import', 'tsx', 'apps/timer/src/main.ts', '--listen', `127.0.0.1:${port}`], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => timer.stdout!.on('data', (d) => String(d).includes('listening') && resolve()));
  const local = probe(process.execPath, ['--import', 'tsx', 'docker/port-read-probe.ts', `127.0.0.1:${port}`, READS]);
  timer.kill('SIGTERM');

  const row = (name: string, r: Probe) =>
    `  ${name.padEnd(34)} p50 ${r.p50Us.toFixed(0).padStart(5)} us  p99 ${r.p99Us.toFixed(0).padStart(6)} us  mean ${r.meanUs.toFixed(0).padStart(5)} us  (x${(r.p50Us / local.p50Us).toFixed(2)} local p50)`;
  result = [
    `compose bench (${compose.join(' ')}; node ${process.version}; load ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`,
    `  up -d returned                    ${(upDone / 1000).toFixed(1)} s  (waits for nats/timer/ide/vga/vcpu to be healthy)`,
    `  VmControl answering (gateway)     ${(apiReady / 1000).toFixed(1)} s`,
    `  first serial line of the guest    ${(firstLine / 1000).toFixed(1)} s  after docker-compose up`,
    `  first screen text of the guest    ${(firstScreen / 1000).toFixed(1)} s  after docker-compose up ("${row0.trimEnd()}")`,
    `port read round trip, RemoteDevice -> timer service, ${READS} reads:`,
    row('vcpu container -> timer container', c2c),
    ...(h2c ? [row('host -> timer container', h2c)] : []),
    row('local process -> local process', local),
  ];
} finally {
  say(`${compose.join(' ')} down -v`);
  try { dc('down', '-v', '--remove-orphans'); } catch (e) { say(`down failed: ${(e as Error).message}`); }
}
console.log(result.join('\n'));
process.exit(result.length ? 0 : 1);
