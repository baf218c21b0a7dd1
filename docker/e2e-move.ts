// End-to-end check of moving a running VM's IDE session between replicas, against the
// containerised stack, run on the host through the gateway's VmControl gRPC API: boots
// ide-read-loop (it reads and checks sectors of loop.img forever and keeps its count on the
// screen), waits for its SCREEN TEXT to count reads, then moves the IDE session to each
// --move-to endpoint in turn while the guest reads, and after each move waits for the
// screen to count on. Exit 0 only when every move succeeded, the screen kept counting, its
// error count stayed 0 and no READ ERROR line came on the serial console.
//   e2e-move.ts --address 127.0.0.1:50050 --ide 172.18.0.5:50052 --move-to 172.18.0.6:50052 --move-to 172.18.0.7:50052
//               [--backend soft|kvm|auto] [--image loop.img] [--reads 256] [--timeout-s 120]   (token: QUASIVM_TOKEN)
import { Command } from 'commander';
import { VmClient } from './vm-client.js';

const many = (v: string, prev: string[]) => [...prev, v];
const opts = new Command('e2e-move')
  .option('--address <host:port>', "VmControl endpoint (the gateway's gRPC port)", '127.0.0.1:50050')
  .option('--firmware <path>', 'firmware path inside the vcpu container', '/opt/quasivm/guests/build/ide-read-loop.bin')
  .option('--backend <kind>', 'soft, kvm or auto', 'soft')
  .option('--ide <address>', 'the IDE service the VM starts on', 'ide:50052')
  .option('--move-to <address>', 'an IDE service to move the session to (repeat: moved in order)', many, [] as string[])
  .option('--image <name>', "disk image in the IDE services' data directory", 'loop.img')
  .option('--reads <n>', 'reads the screen must count before and after each move', '256')
  .option('--timeout-s <s>', 'how long each wait may take', '120')
  .parse()
  .opts<{ address: string; firmware: string; backend: 'soft' | 'kvm' | 'auto'; ide: string; moveTo: string[]; image: string; reads: string; timeoutS: string }>();
const say = (s: string) => console.log(`e2e-move: ${s}`);
const timeoutMs = Number(opts.timeoutS) * 1000;
const reads = Number(opts.reads);
const COUNT = /ide-read-loop: reads=0x([0-9a-f]{8}) errors=0x([0-9a-f]{8})/;

const vms = new VmClient(opts.address, process.env.QUASIVM_TOKEN);

async function screenCount(id: string): Promise<{ reads: number; errors: number; row: string } | null> {
  const rows = await vms.screenText(id);
  const m = COUNT.exec(rows[0] ?? '');
  return m ? { reads: parseInt(m[1], 16), errors: parseInt(m[2], 16), row: rows[0].trimEnd() } : null;
}

/** Waits until the screen counts `more` reads beyond what it shows now; returns the last count. */
async function screenCountsOn(id: string, more: number, serial: { text: string }): Promise<{ reads: number; errors: number; row: string }> {
  const start = (await screenCount(id))?.reads ?? 0;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await screenCount(id);
    if (serial.text.includes('READ ERROR')) throw new Error(`the guest reported a read error: ${serial.text.slice(serial.text.indexOf('ide-read-loop: READ ERROR')).split('\r\n')[0]}`);
    if (c && c.errors !== 0) throw new Error(`the screen counts ${c.errors} read errors: "${c.row}"`);
    if (c && c.reads >= start + more) return c;
    if (Date.now() > until) throw new Error(`the screen did not count ${more} more reads within ${timeoutMs} ms (row 0: ${JSON.stringify(c?.row ?? '')}; serial: ${JSON.stringify(serial.text.slice(-200))})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let run: Awaited<ReturnType<VmClient['bootWithSerial']>> | undefined;
try {
  await vms.waitReady(60_000);
  const t0 = performance.now();
  run = await vms.bootWithSerial({
    name: 'compose-e2e-move',
    firmware: opts.firmware,
    backend: opts.backend,
    ramMib: 16,
    devices: [
      { device: 'timer', address: 'timer:50051' },
      { device: 'ide', address: opts.ide },
      { device: 'vga', address: 'vga:50053' },
    ],
    disks: [{ slot: 'primary-master', image: opts.image }],
  });
  say(`VM ${run.vmId} started (${opts.backend}) with ide at ${opts.ide}, disk ${opts.image}`);
  const first = await screenCountsOn(run.vmId, reads, run.serial);
  say(`screen text after ${Math.round(performance.now() - t0)} ms: "${first.row}"`);
  let at = opts.ide;
  for (const to of opts.moveTo) {
    const before = (await screenCount(run.vmId))!;
    const m = await vms.moveDevice(run.vmId, 'ide', to);
    say(`moved ide ${m.fromAddress} -> ${m.toAddress} while the guest read (at ${before.reads} reads): I/O held ${m.heldMs.toFixed(1)} ms, ${m.stateBytes} bytes of state`);
    if (m.fromAddress !== at || m.toAddress !== to) throw new Error(`the move answered ${m.fromAddress} -> ${m.toAddress}, expected ${at} -> ${to}`);
    at = to;
    const after = await screenCountsOn(run.vmId, reads, run.serial);
    say(`screen text on ${to}: "${after.row}"`);
  }
  const vm = await vms.getVm(run.vmId);
  say(`no read error; VM ${run.vmId} ${vm.state} on the ${vm.backend} backend`);
  run.serial.close();
  await vms.deleteVm(run.vmId);
  say('VM deleted');
  vms.close();
  process.exit(0);
} catch (e) {
  say(`FAILED: ${(e as Error).message}`);
  run?.serial.close();
  vms.close();
  process.exit(1);
}
