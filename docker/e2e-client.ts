// End-to-end check against the containerised stack, run on the host: creates a VM through
// VmControl (gateway or vcpu published port) with its devices named by compose service,
// waits for the expected serial lines, deletes the VM. Exit 0 only when every line came.
//   e2e-client.ts [--address 127.0.0.1:50050] [--firmware /opt/quasivm/guests/build/two-lines.bin]
//                 [--backend soft|kvm|auto] [--expect text]... [--timeout-s 120]   (token: QUASIVM_TOKEN)
import { Command } from 'commander';
import { VmClient } from './vm-client.js';

const opts = new Command('e2e-client')
  .option('--address <host:port>', 'VmControl endpoint (the gateway\'s gRPC port)', '127.0.0.1:50050')
  .option('--firmware <path>', 'firmware path inside the vcpu container', '/opt/quasivm/guests/build/two-lines.bin')
  .option('--backend <kind>', 'soft, kvm or auto', 'auto')
  .option('--expect <text>', 'a serial line to wait for (repeat)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--timeout-s <s>', 'how long to wait for the lines', '120')
  .parse()
  .opts<{ address: string; firmware: string; backend: 'soft' | 'kvm' | 'auto'; expect: string[]; timeoutS: string }>();
if (!['soft', 'kvm', 'auto'].includes(opts.backend)) {
  console.error(`e2e-client: --backend must be soft, kvm or auto (got "${opts.backend}")`);
  process.exit(2);
}
const expect = opts.expect.length ? opts.expect : ['two-lines: first', 'two-lines: second'];
const say = (s: string) => console.log(`e2e-client: ${s}`);

const vms = new VmClient(opts.address, process.env.QUASIVM_TOKEN);
try {
  await vms.waitReady(60_000);
  say(`VmControl answers at ${opts.address}; creating a VM (${opts.backend}, ${opts.firmware}) with devices timer:50051, ide:50052, vga:50053`);
  const run = await vms.bootAndWait(
    {
      name: 'compose-e2e',
      firmware: opts.firmware,
      backend: opts.backend,
      ramMib: 16,
      devices: [
        { device: 'timer', address: 'timer:50051' },
        { device: 'ide', address: 'ide:50052' },
        { device: 'vga', address: 'vga:50053' },
      ],
    },
    expect,
    Number(opts.timeoutS) * 1000,
  );
  const vm = await vms.getVm(run.vmId);
  expect.forEach((line, i) => say(`serial: "${line}" after ${Math.round(run.seenAtMs[i])} ms`));
  say(`VM ${run.vmId} ran on the ${vm.backend} backend, state ${vm.state}`);
  await vms.deleteVm(run.vmId);
  say('VM deleted');
  vms.close();
  process.exit(0);
} catch (e) {
  say(`FAILED: ${(e as Error).message}`);
  vms.close();
  process.exit(1);
}
