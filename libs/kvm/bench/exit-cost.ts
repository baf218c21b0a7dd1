/**
 * Measures one port-I/O exit round trip from Node through koffi: the pio-loop guest does
 * N out + N in on port 0x80; time per exit = wall time of the loop / exits. Also the bare
 * cost of a koffi ioctl that does no work (KVM_CHECK_EXTENSION), and cpu-loop speed.
 * Run: npx tsx libs/kvm/bench/exit-cost.ts [rounds] [repeats]
 */
import { Cap, Kvm } from '../src/index.js';
import { TestMachine } from '../test/support/test-machine.js';

const rounds = Number(process.argv[2] ?? 20_000);
const repeats = Number(process.argv[3] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function pioExitMicros(): number {
  const m = new TestMachine({ guest: 'pio-loop', params: { param0: rounds, param1: 0x80 } });
  try {
    // Skip the start line so only the loop (2 exits per round) and the result line count.
    m.runSync(60_000, () => m.lines.length === 1);
    const exitsBefore = m.exitCount;
    const start = process.hrtime.bigint();
    if (m.runSync(600_000) !== 'hlt') throw new Error('pio-loop did not halt');
    const ns = Number(process.hrtime.bigint() - start);
    return ns / 1000 / (m.exitCount - exitsBefore);
  } finally {
    m.close();
  }
}

function bareIoctlMicros(kvm: Kvm, n = 200_000): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) kvm.checkExtension(Cap.USER_MEMORY);
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

function cpuLoopMips(iterations = 100_000): number {
  const m = new TestMachine({ guest: 'cpu-loop', params: { param0: iterations } });
  try {
    m.runSync(60_000, () => m.lines.length === 1);
    const start = process.hrtime.bigint();
    m.vcpu.run();
    const ns = Number(process.hrtime.bigint() - start);
    return (iterations * 12 * 1000) / ns;
  } finally {
    m.close();
  }
}

const kvm = Kvm.open();
const pio = Array.from({ length: repeats }, pioExitMicros);
const bare = Array.from({ length: repeats }, () => bareIoctlMicros(kvm));
const mips = Array.from({ length: Math.min(repeats, 3) }, () => cpuLoopMips());
kvm.close();

console.log(`backend module(s): ${Kvm.backendModules().join(', ') || 'unknown'}`);
console.log(`port-I/O exit round trip: median ${median(pio).toFixed(2)} us (runs: ${pio.map((x) => x.toFixed(2)).join(', ')}; ${2 * rounds} exits each)`);
console.log(`bare koffi ioctl (KVM_CHECK_EXTENSION): median ${median(bare).toFixed(3)} us`);
console.log(`cpu-loop: median ${median(mips).toFixed(2)} M guest instructions/s`);
