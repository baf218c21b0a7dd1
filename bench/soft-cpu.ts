// bench/soft-cpu: guest instructions per second of the soft CPU backend on the CPU-bound
// test guest (guests/src/cpu-loop.asm, 12 instructions per iteration), beside KVM (when
// the vcpu service can use it) and QEMU's TCG on the same guest binary, in one run.
// Run: npx tsx bench/soft-cpu.ts [iterations]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import path from 'node:path';
import { buildGuests } from '../guests/build.mjs';
import { Vm } from '../apps/vcpu/src/vm.js';

// Iterations per engine, so each runs long enough to time (PVM's KVM is ~1-2 MIPS here) and
// the soft CPU's figure is its steady state, not V8 compiling the loop (TCG runs 500 M).
const ITERATIONS = { soft: Number(process.argv[2] ?? 200_000_000), kvm: Number(process.argv[3] ?? 200_000), tcg: Number(process.argv[4] ?? 500_000_000) };
const INSTRUCTIONS_PER_ITERATION = 12;
const PARAMS_OFFSET = 0xffe0;

function patchedGuest(iterations: number): Uint8Array {
  const image = new Uint8Array(readFileSync(buildGuests({ quiet: true })['cpu-loop']));
  const view = new DataView(image.buffer);
  if (String.fromCharCode(...image.subarray(PARAMS_OFFSET, PARAMS_OFFSET + 4)) !== 'QVMP') throw new Error('cpu-loop has no parameter block');
  view.setUint32(PARAMS_OFFSET + 4, iterations, true);
  return image;
}

/** Seconds between the guest's "start" line and its result line, as seen on serial. */
async function timeOnQuasivm(backend: 'soft' | 'kvm', image: Uint8Array): Promise<{ seconds: number; result: string }> {
  const vm = await Vm.create({ id: `bench-${backend}`, backend, firmware: image, ramMiB: 2, realtime: false });
  let t0 = 0;
  vm.on('serial', () => {
    if (!t0 && vm.serialLog.includes('cpu-loop: start')) t0 = performance.now();
  });
  vm.start();
  try {
    const log = await vm.waitForSerial(/iterations=\S+ x=\S+ sum=\S+/, 600_000);
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, result: /iterations=\S+ x=\S+ sum=\S+/.exec(log)![0] };
  } finally {
    await vm.stop();
  }
}

/** QEMU prints both lines within one pipe read for short runs: time the whole run instead, minus an empty run. */
async function timeOnQemuTcg(image: Uint8Array): Promise<{ seconds: number; result: string } | null> {
  if (spawnSync('qemu-system-i386', ['--version']).status !== 0) return null;
  const dir = mkdtempSync(path.join(tmpdir(), 'qvm-bench-'));
  const bios = path.join(dir, 'cpu-loop.bin');
  writeFileSync(bios, image);
  const qemu = spawn('qemu-system-i386', ['-accel', 'tcg', '-bios', bios, '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-m', '16'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  let t0 = 0;
  t0 = performance.now();
  return new Promise((resolve) => {
    qemu.stdout.on('data', (d) => {
      out += d;
      const m = /iterations=\S+ x=\S+ sum=\S+/.exec(out);
      if (m) {
        const seconds = (performance.now() - t0) / 1000;
        qemu.kill();
        resolve({ seconds, result: m[0] });
      }
    });
    qemu.on('exit', () => resolve(null));
  });
}

const mips = (iterations: number, s: number) => (iterations * INSTRUCTIONS_PER_ITERATION) / s / 1e6;
const soft = await timeOnQuasivm('soft', patchedGuest(ITERATIONS.soft));
let kvm: { seconds: number; result: string } | null = null;
let kvmNote = '';
try {
  kvm = await timeOnQuasivm('kvm', patchedGuest(ITERATIONS.kvm));
  kvmNote = (await import('node:fs')).readdirSync('/sys/module').filter((m) => m.startsWith('kvm_')).join(',') || 'kvm';
} catch (e) {
  kvmNote = `not measured: ${(e as Error).message.split('\n')[0]}`;
}
let tcg: { seconds: number; result: string } | null = null;
const tcgFull = await timeOnQemuTcg(patchedGuest(ITERATIONS.tcg));
const tcgEmpty = tcgFull ? await timeOnQemuTcg(patchedGuest(0)) : null;
if (tcgFull && tcgEmpty) tcg = { seconds: Math.max(1e-6, tcgFull.seconds - tcgEmpty.seconds), result: tcgFull.result };

console.log(`soft-cpu: cpu-loop guest (12 instructions per iteration; load average ${loadavg()[0].toFixed(1)} on this 2-core machine)`);
const softMips = mips(ITERATIONS.soft, soft.seconds);
console.log(`  soft backend   ${softMips.toFixed(1)} MIPS  (${ITERATIONS.soft.toLocaleString('en')} iterations in ${soft.seconds.toFixed(2)} s)  ${soft.result}`);
if (kvm) {
  const kvmMips = mips(ITERATIONS.kvm, kvm.seconds);
  console.log(`  kvm backend    ${kvmMips.toFixed(1)} MIPS  (${ITERATIONS.kvm.toLocaleString('en')} iterations in ${kvm.seconds.toFixed(2)} s, served by ${kvmNote})  soft/kvm = ${(softMips / kvmMips).toFixed(2)}x`);
} else console.log(`  kvm backend    ${kvmNote}`);
if (tcg) {
  const tcgMips = mips(ITERATIONS.tcg, tcg.seconds);
  console.log(`  QEMU TCG       ${tcgMips.toFixed(1)} MIPS  (${ITERATIONS.tcg.toLocaleString('en')} iterations in ${tcg.seconds.toFixed(2)} s beyond an empty run)  ${tcg.result}`);
  console.log(`  soft / TCG     ${(softMips / tcgMips).toFixed(3)}x   (target >= 0.5x)`);
} else console.log('  QEMU TCG       not measured: qemu-system-i386 not installed (apt-get install qemu-system-x86)');
process.stdout.write('', () => process.exit(0));
