import { afterAll, beforeAll, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { initramfsPath, kernelPath } from '@quasivm/guest-images';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { Vm } from '../src/vm.js';
import { interruptCount, typeAndWait } from './support/linux-shell.js';

/**
 * Direct kernel boot (like QEMU's -kernel: no BIOS, the CPU enters the kernel's 32-bit entry
 * with the zero page filled in) of Debian's unmodified 686 kernel and the busybox initramfs
 * on the soft backend, with its clock from the real timer service. Early milestones on the
 * way (banner, command line, TSC calibrated against the remote PIT), then /init's marker on
 * serial, and a user at the serial shell: `uname -r` and `/proc/interrupts`, whose timer
 * line (IRQ 0 through the 8259 PIC) counts up between two looks.
 * (The images are built by the @quasivm/guest-images build, which Nx runs first.)
 */
const TIMER_MAIN = fileURLToPath(new URL('../../timer/src/main.ts', import.meta.url));
const kernel = kernelPath();
const initrd = initramfsPath();
const missing = !existsSync(kernel) || !existsSync(initrd);
let timer: ServiceProcess;
let vm: Vm | null = null;

beforeAll(async () => {
  if (!missing) timer = await startServiceProcess(TIMER_MAIN, unixAddress('timer'));
});
afterAll(async () => {
  await vm?.stop();
  await timer?.stop('SIGKILL');
});

(missing ? test.skip : test)(
  `soft backend: direct kernel boot of Debian's 686 Linux to the busybox shell on serial; uname -r and a growing timer count in /proc/interrupts; hot pages compiled on the VM's compile thread${missing ? ' (skipped: guest images not built; run the @quasivm/guest-images build)' : ''}`,
  async () => {
    const t0 = Date.now();
    const cmdline = 'console=ttyS0';
    vm = await Vm.create({
      id: 'soft-linux',
      backend: 'soft',
      ramMiB: 128,
      realtime: false,
      kernel,
      initrd,
      cmdline,
      devices: [{ device: 'timer', address: timer.address }],
    });
    vm.start();
    // The TSC is calibrated against the PIT before or after the command line is printed
    // (before it when the quick calibration works): wait for both.
    await vm.waitForSerial(/tsc: (Fast TSC calibration using PIT|Detected [\d.]+ MHz processor)/, 200_000);
    const early = await vm.waitForSerial(`Kernel command line: ${cmdline}`, 200_000);
    expect(early).toMatch(/Linux version 6\.1\.\S+-686 /);
    expect(early).toContain(`Kernel command line: ${cmdline}`);
    expect(early).not.toMatch(/Unable to calibrate against PIT/);
    const tEarly = Date.now();

    const booted = await vm.waitForSerial(/QUASIVM-GUEST-READY/, 240_000);
    const tReady = Date.now();
    const version = /Linux version (6\.1\.\S+-686) /.exec(booted)![1];
    expect(booted).not.toMatch(/Kernel panic|Oops|BUG:/);

    const first = await typeAndWait(vm, 'uname -r; cat /proc/interrupts\n', /^\s*0:\s+\d+\s+XT-PIC\s+timer\s*$/m, 60_000);
    expect(first).toContain(`\n${version}\r\n`); // uname -r prints the running kernel's release
    const before = interruptCount(first, 0);
    expect(first).toMatch(/^\s+CPU0\s*$/m);
    // a moment of guest time later (the shell idles; guest time runs on to the next tick)
    await new Promise((r) => setTimeout(r, 2000));
    const second = await typeAndWait(vm, 'cat /proc/interrupts\n', /^\s*0:\s+\d+\s+XT-PIC\s+timer\s*$/m, 60_000);
    const after = interruptCount(second, 0);
    console.log(
      `direct boot: TSC calibrated at ${((tEarly - t0) / 1000).toFixed(0)} s, marker at ${((tReady - t0) / 1000).toFixed(0)} s; ${version}; timer IRQ count ${before} -> ${after}\n` +
        second.split('\n').slice(0, 5).join('\n'),
    );
    expect(after).toBeGreaterThan(before);
    expect(vm.state).toBe('running');
    // The kernel's hot pages ran as wasm regions, compiled on the VM's compile thread.
    const stats = await vm.stats();
    expect(stats?.wasmRegions, 'pages compiled to wasm').toBeGreaterThan(100);
    expect(stats?.wasmRegionsCompiledElsewhere, 'compiled on the compile thread').toBe(stats?.wasmRegions);
  },
  400_000,
);
