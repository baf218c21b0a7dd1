// bench/pio-exit: the cost of one port-I/O exit under the KVM backend, through Vm as the
// vcpu service runs it. The pio-loop guest does `out dx, al` then `in al, dx` per round;
// the rounds are timed between its two serial lines.
//  - local model: port 0x80 (the POST port, in the CPU thread's IoBus). Target <= 15 us per exit (kvm_pvm).
//  - remote model: port 0x61 of the timer service, a real child process (port B: the write
//    is posted, the read waits for the service). Target <= 60 us per read.
// Run: npx tsx bench/pio-exit.ts   (ROUNDS=n to change the loop length)
import { fileURLToPath } from 'node:url';
import { Kvm } from '@quasivm/kvm';
import { startServiceProcess, unixAddress } from '@quasivm/testing';
import { guestImage } from '../libs/kvm/test/support/guest-images.js';
import { Vm, type RemoteDeviceSpec } from '../apps/vcpu/src/vm.js';

const ROUNDS = Number(process.env.ROUNDS ?? 20_000);
const REPEATS = 3;
const POST_PORT = 0x80;
const PORT_B = 0x61;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Microseconds per round (one out + one in) of pio-loop on `port`. */
async function roundMicros(port: number, devices: RemoteDeviceSpec[] = []): Promise<number> {
  const vm = await Vm.create({ id: `bench-pio-${port}`, backend: 'kvm', firmware: guestImage('pio-loop', { param0: ROUNDS, param1: port }), ramMiB: 2, devices });
  try {
    vm.start();
    await vm.waitForSerial('pio-loop: start\r\n', 60_000);
    const t0 = performance.now();
    await vm.waitForSerial('rounds=', 600_000);
    return ((performance.now() - t0) * 1000) / ROUNDS;
  } finally {
    await vm.stop();
  }
}

if (!Kvm.isAvailable()) {
  console.log('pio-exit: skipped, /dev/kvm not available');
  process.exit(0);
}
const modules = Kvm.backendModules().join(', ') || 'unknown';
const local: number[] = [];
for (let i = 0; i < REPEATS; i++) local.push((await roundMicros(POST_PORT)) / 2);
const localExit = median(local);
console.log(`backend module: ${modules}; ${ROUNDS} rounds of out+in per run, median of ${REPEATS} runs`);
console.log(`local model (POST port 0x80, in-process): ${localExit.toFixed(2)} us per port-I/O exit (target <= 15 us; runs ${local.map((x) => x.toFixed(2)).join(', ')})`);

const timer = await startServiceProcess(fileURLToPath(new URL('../apps/timer/src/main.ts', import.meta.url)), unixAddress('timer'));
try {
  const remote: number[] = [];
  for (let i = 0; i < REPEATS; i++) remote.push(await roundMicros(PORT_B, [{ device: 'timer', address: timer.address }]));
  const round = median(remote);
  // The posted write costs at least a local exit (plus handing it to the service); what is left is the read.
  const read = round - localExit;
  console.log(`remote model (timer service process, port 0x61): ${round.toFixed(2)} us per round (posted out + in; runs ${remote.map((x) => x.toFixed(2)).join(', ')})`);
  console.log(`remote port read: ~${read.toFixed(2)} us (round minus one local exit; target <= 60 us)`);
} finally {
  await timer.stop('SIGKILL');
}
process.exit(0);
