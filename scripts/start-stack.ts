// Runs every service of a local quasivm stack as a child process, creates the default VM
// and streams its serial console to this terminal. Ctrl-C stops the stack.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Command } from 'commander';
import { loadVmProto, type VmControlClient } from '@quasivm/proto';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const program = new Command('start')
  .option('--firmware <path>', 'boot this firmware instead of Linux: seabios, or a flat image such as guests/build/two-lines.bin')
  .option('--backend <kind>', 'soft, kvm or auto', 'soft')
  .option('--ram <mib>', 'guest RAM in MiB', '128')
  .option('--no-vm', 'start the services only')
  .option('--no-gateway', 'do not start the gateway (web page and HTTP API)')
  .parse();
const opts = program.opts<{ firmware?: string; backend: string; ram: string; vm: boolean; gateway: boolean }>();

const ports = { nats: 4222, vcpu: 50050, timer: 50051, ide: 50052, vga: 50053, gateway: 8080, gatewayGrpc: 50060 };
const children: ChildProcess[] = [];

function start(name: string, cmd: string, args: string[], ready: string, env: NodeJS.ProcessEnv = {}, show?: RegExp): Promise<void> {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const prefix = `[${name}] `;
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      const text = d.toString();
      if (process.env.QUASIVM_VERBOSE) process.stderr.write(text.replace(/^/gm, prefix));
      else if (show) for (const line of text.split('\n')) if (show.test(line) && !line.startsWith('{')) console.log(`${prefix}${line}`);
      if (text.includes(ready)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}); run with QUASIVM_VERBOSE=1 to see its log`)));
  });
}

const tsService = (name: string, port: number, extra: string[] = []) =>
  start(name, process.execPath, ['--import', 'tsx', `apps/${name}/src/main.ts`, '--listen', `127.0.0.1:${port}`, ...extra], 'listening');

function stopAll(code = 0): never {
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500);
  return undefined as never;
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

try {
  await start('nats', 'nats-server', ['-a', '127.0.0.1', '-p', String(ports.nats)], 'Server is ready');
  const dataDir = path.join(root, 'data/disks');
  mkdirSync(dataDir, { recursive: true });
  await Promise.all([tsService('timer', ports.timer), tsService('ide', ports.ide, ['--data-dir', dataDir]), tsService('vga', ports.vga)]);
  await tsService('vcpu', ports.vcpu, ['--nats', `nats://127.0.0.1:${ports.nats}`]);
  if (opts.gateway && existsSync(path.join(root, 'apps/gateway/src/main.ts')))
    await start(
      'gateway',
      process.execPath,
      ['--import', 'tsx', 'apps/gateway/src/main.ts', '--port', String(ports.gateway), '--grpc-port', String(ports.gatewayGrpc), '--vcpu', `127.0.0.1:${ports.vcpu}`, '--nats', `nats://127.0.0.1:${ports.nats}`, '--state-dir', path.join(root, 'data/gateway')],
      'listening',
      {},
      /API token|listening/,
    );
  if (opts.gateway) console.log(`web page: http://127.0.0.1:${ports.gateway}/  (gateway gRPC 127.0.0.1:${ports.gatewayGrpc}; CLI: npx tsx apps/gateway/src/cli.ts --state-dir data/gateway list)`);
  console.log(`quasivm stack up: vcpu 127.0.0.1:${ports.vcpu}, timer :${ports.timer}, ide :${ports.ide}, vga :${ports.vga}, NATS nats://127.0.0.1:${ports.nats}`);
  if (!opts.vm) await new Promise(() => undefined);

  const VmControl = loadVmProto().quasivm.vm.v1.VmControl;
  const client: VmControlClient = new VmControl(`127.0.0.1:${ports.vcpu}`, grpc.credentials.createInsecure());
  const unary = <Req, Res>(fn: (r: Req, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void, req: Req) =>
    new Promise<Res>((resolve, reject) => fn.call(client, req, (e, r) => (e ? reject(e) : resolve(r as Res))));
  const kernel = path.join(root, '.cache/images/vmlinuz');
  const initrd = path.join(root, '.cache/images/initramfs.cpio.gz');
  const linux = !opts.firmware && existsSync(kernel) && existsSync(initrd);
  const firmware = !opts.firmware || opts.firmware === 'seabios' ? 'seabios' : path.resolve(opts.firmware);
  const what = linux
    ? "Debian's 686 Linux (direct kernel boot, console on ttyS0; on the soft CPU the kernel's first line comes after it has decompressed itself, a minute or two)"
    : `firmware ${opts.firmware ?? 'seabios'}`;
  const vm = await unary<object, { id: string }>(client.CreateVm, {
    name: 'default',
    ramMib: Number(opts.ram),
    backend: opts.backend === 'kvm' ? 'CPU_BACKEND_KVM' : opts.backend === 'auto' ? 'CPU_BACKEND_AUTO' : 'CPU_BACKEND_SOFT',
    firmware,
    // earlyprintk: the kernel's log shows on the terminal from its first line, not only
    // once the serial driver is up (minutes in on the soft CPU).
    ...(linux ? { kernel, initrd, cmdline: 'earlyprintk=serial,ttyS0 console=ttyS0' } : {}),
    devices: [
      { device: 'timer', address: `127.0.0.1:${ports.timer}` },
      { device: 'vga', address: `127.0.0.1:${ports.vga}` },
      { device: 'ide', address: `127.0.0.1:${ports.ide}` },
    ],
  });
  await unary(client.StartVm, { id: vm.id });
  console.log(`default VM ${vm.id} started (${opts.backend} CPU, ${what}); its serial console follows${process.stdin.isTTY ? ' (type to it; Ctrl-C stops everything)' : ''}. Device traffic: nats sub 'vm.${vm.id}.>'`);
  const console$ = client.Console();
  console$.on('data', (m: { data: Buffer }) => process.stdout.write(m.data));
  console$.on('error', (e: Error) => console.error(`\nquasivm: serial console closed (${e.message})`));
  console$.write({ id: vm.id });
  if (process.stdin.isTTY) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', (d: Buffer) => (d.includes(3) ? stopAll(0) : console$.write({ id: vm.id, data: d })));
  }
  const events = client.WatchEvents({ id: vm.id });
  events.on('data', (e: { kind: string; detailJson: string }) => console.log(`[vm ${vm.id}] ${e.kind} ${e.detailJson}`));
  events.on('error', () => undefined);
} catch (e) {
  console.error(`quasivm: ${(e as Error).message}`);
  stopAll(1);
}
