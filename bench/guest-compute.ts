// bench/guest-compute: guest compute speed under the KVM backend against the same loop as
// native code on this host, in the same run, plus the soft backend on the same guest.
// The guest is cpu-loop (12 instructions per xorshift32 iteration), run through Vm as the
// vcpu service runs it; its speed is timed between its two serial lines. The native loop
// is the same 12 instructions assembled by nasm (-f bin, bits 64) into an executable mmap
// and called through koffi, timed around the call.
// Target on a real host: KVM/native >= 0.95. Run: npx tsx bench/guest-compute.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import koffi from 'koffi';
import { Kvm } from '@quasivm/kvm';
import { guestImage } from '../libs/kvm/test/support/guest-images.js';
import { Vm } from '../apps/vcpu/src/vm.js';

const INSTRUCTIONS_PER_ITERATION = 12;
const TARGET_SECONDS = Number(process.env.SECONDS ?? 2);
const MAX_ITERATIONS = 0xffff_ffff;

/** Runs cpu-loop for `iterations` on a backend; guest instructions per second between its two lines. */
async function guestSpeed(backend: 'kvm' | 'soft', iterations: number): Promise<{ ips: number; line: string }> {
  const vm = await Vm.create({ id: `bench-${backend}`, backend, firmware: guestImage('cpu-loop', { param0: iterations }), ramMiB: 2, realtime: false });
  try {
    vm.start();
    await vm.waitForSerial('cpu-loop: start\r\n', 60_000);
    const t0 = performance.now();
    await vm.waitForSerial('iterations=', 600_000);
    const seconds = (performance.now() - t0) / 1000;
    const log = await vm.waitForSerial(/sum=0x[0-9a-f]{8}\r\n/, 10_000);
    return { ips: (iterations * INSTRUCTIONS_PER_ITERATION) / seconds, line: log.trim().split('\r\n').pop()! };
  } finally {
    await vm.stop();
  }
}

/** A short run, then one sized to take about TARGET_SECONDS. */
async function measureGuest(backend: 'kvm' | 'soft', probe: number): Promise<{ ips: number; line: string; iterations: number }> {
  const first = await guestSpeed(backend, probe);
  const iterations = Math.min(MAX_ITERATIONS, Math.max(probe, Math.round((first.ips * TARGET_SECONDS) / INSTRUCTIONS_PER_ITERATION)));
  return { ...(await guestSpeed(backend, iterations)), iterations };
}

const NATIVE_LOOP = `
bits 64
; uint32_t loop(uint32_t n, uint32_t x, uint32_t *x_out): the cpu-loop body, SysV ABI
    push rbx
    mov r10, rdx
    mov ecx, edi
    mov ebx, esi
    xor edx, edx
    test ecx, ecx
    jz .done
.loop:                      ; the guest's 12 instructions, same registers
    mov eax, ebx
    shl eax, 13
    xor ebx, eax
    mov eax, ebx
    shr eax, 17
    xor ebx, eax
    mov eax, ebx
    shl eax, 5
    xor ebx, eax
    add edx, ebx
    dec ecx
    jnz .loop
.done:
    mov [r10], ebx
    mov eax, edx
    pop rbx
    ret
`;

function nativeLoop(): (n: number, x: number) => { sum: number; x: number } {
  const dir = mkdtempSync(path.join(tmpdir(), 'qvm-native-'));
  writeFileSync(path.join(dir, 'loop.asm'), NATIVE_LOOP);
  execFileSync('nasm', ['-f', 'bin', '-o', path.join(dir, 'loop.bin'), path.join(dir, 'loop.asm')]);
  const code = readFileSync(path.join(dir, 'loop.bin'));
  const libc = koffi.load('libc.so.6');
  const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)');
  const mprotect = libc.func('int mprotect(void *addr, size_t len, int prot)');
  const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, MAP_PRIVATE_ANONYMOUS = 0x22;
  const page = mmap(null, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0);
  new Uint8Array(koffi.view(page, 4096)).set(code);
  if (mprotect(page, 4096, PROT_READ | PROT_EXEC) !== 0) throw new Error('mprotect(PROT_EXEC) refused: cannot run native code here');
  const proto = koffi.proto('uint32_t cpu_loop(uint32_t n, uint32_t x, _Out_ uint32_t *x_out)');
  return (n, x) => {
    const out = [0];
    const sum = koffi.call(page, proto, n, x, out) as number;
    return { sum, x: out[0] };
  };
}

function measureNative(): { ips: number; iterations: number; result: string } {
  const run = nativeLoop();
  run(1_000_000, 0x12345678); // warm up
  let iterations = 10_000_000;
  for (;;) {
    const t0 = performance.now();
    const r = run(iterations, 0x12345678);
    const seconds = (performance.now() - t0) / 1000;
    if (seconds > TARGET_SECONDS / 4 || iterations === MAX_ITERATIONS) {
      const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
      return { ips: (iterations * INSTRUCTIONS_PER_ITERATION) / seconds, iterations, result: `x=${hex(r.x)} sum=${hex(r.sum)}` };
    }
    iterations = Math.min(MAX_ITERATIONS, iterations * 4);
  }
}

const mips = (ips: number) => `${(ips / 1e6).toFixed(ips < 1e7 ? 2 : 0)} M instructions/s`;
const modules = Kvm.backendModules().join(', ') || 'unknown';

const native = measureNative();
console.log(`native (nasm -f bin loop called through koffi): ${mips(native.ips)} (${native.iterations} iterations, ${native.result})`);
if (Kvm.isAvailable()) {
  const kvm = await measureGuest('kvm', 20_000);
  console.log(`kvm backend (${modules}), cpu-loop through Vm: ${mips(kvm.ips)} (${kvm.iterations} iterations; guest printed "${kvm.line}")`);
  console.log(`ratio kvm/native: ${(kvm.ips / native.ips).toFixed(4)} (target >= 0.95 on hardware KVM; served by ${modules})`);
} else {
  console.log('kvm backend: skipped, /dev/kvm not available');
}
const soft = await measureGuest('soft', 200_000);
console.log(`soft backend, cpu-loop through Vm: ${mips(soft.ips)} (${soft.iterations} iterations; guest printed "${soft.line}")`);
console.log(`ratio soft/native: ${(soft.ips / native.ips).toFixed(4)}`);
process.exit(0);
