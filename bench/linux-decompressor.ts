// bench/linux-decompressor: the soft CPU on real code - Debian's 686 kernel unpacking itself
// (direct kernel boot, paging off, no devices but a serial port) on the main thread, without
// the machine around it. Prints millions of guest instructions per second, with the JIT
// (default) and, with --no-jit, the decoded closures and the interpreter only.
// Needs the guest images (npm run build -w @quasivm/guest-images).
// --wasm: hot pages compiled to WebAssembly (the wasm JIT) instead of hot blocks to JavaScript.
// Run: npx tsx bench/linux-decompressor.ts [instructions=300e6] [--no-jit] [--wasm]
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { kernelPath } from '@quasivm/guest-images';
import { Cpu, RamBus } from '@quasivm/x86';
import { loadLinux } from '../apps/vcpu/src/machine/linux-boot.js';
import { enterLinuxSoft } from '../apps/vcpu/src/machine/linux-entry.js';

const limit = Number(process.argv.find((a, i) => i > 1 && !a.startsWith('--')) ?? 300e6);
const jit = !process.argv.includes('--no-jit');
const wasmJit = process.argv.includes('--wasm');
const kernel = kernelPath();
if (!existsSync(kernel)) {
  console.log(`linux-decompressor: ${kernel} not built; run npm run build -w @quasivm/guest-images`);
  process.exit(0);
}
const RAM = 128 << 20;
// COM1's line status always says "transmitter empty"; everything else is an open bus.
const bus = new RamBus(RAM, { ioRead: (port) => (port === 0x3fd ? 0x60 : 0xff) }, { wasm: wasmJit });
const cpu = new Cpu({ bus, model: 'i686', jitThreshold: jit ? undefined : Infinity, wasmJit });
enterLinuxSoft(cpu, loadLinux(bus.ram, { kernel: new Uint8Array(readFileSync(kernel)), cmdline: 'console=ttyS0', ramBytes: RAM }));
const t0 = performance.now();
while (cpu.instructionCount < limit) cpu.run(100_000);
const seconds = (performance.now() - t0) / 1000;
console.log(`linux-decompressor (${!jit ? 'no JIT' : wasmJit ? `wasm JIT, ${cpu.wasmJit?.compiled} regions` : 'JavaScript JIT'}; load average ${loadavg()[0].toFixed(1)} on this machine): ${(cpu.instructionCount / 1e6).toFixed(0)} M guest instructions in ${seconds.toFixed(1)} s = ${(cpu.instructionCount / seconds / 1e6).toFixed(1)} MIPS (EIP 0x${cpu.eip.toString(16)})`);
