import { afterAll, beforeAll, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { initramfsPath, kernelPath } from '@quasivm/guest-images';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { Vm } from '../src/vm.js';

/**
 * Direct kernel boot of Debian's unmodified 686 kernel on the soft backend with the real
 * timer service. The full boot to /init takes minutes at today's soft-CPU speed, so this
 * test stops at milestones the kernel prints early: its banner, the decompressed kernel
 * turning paging on and probing the CPU, and the timer calibrated against the remote PIT.
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
  `soft backend: direct kernel boot of Debian's 686 Linux prints its banner, runs with paging on and calibrates against the remote PIT${missing ? ' (skipped: guest images not built; run the @quasivm/guest-images build)' : ''}`,
  async () => {
    vm = await Vm.create({
      id: 'soft-linux',
      backend: 'soft',
      ramMiB: 128,
      realtime: false,
      kernel,
      initrd,
      cmdline: 'console=ttyS0 earlyprintk=serial,ttyS0',
      devices: [{ device: 'timer', address: timer.address }],
    });
    vm.start();
    const log = await vm.waitForSerial(/Linux version 6\.\S+/, 240_000);
    expect(log).toMatch(/Linux version 6\.1\.\S+-686 /);
    expect(await vm.waitForSerial(/Kernel command line: console=ttyS0 earlyprintk=serial,ttyS0/, 240_000)).toBeTruthy();
    const later = await vm.waitForSerial(/tsc: (Fast TSC calibration using PIT|Detected [\d.]+ MHz processor)/, 400_000);
    console.log(later.split('\n').filter((l) => /tsc:|Linux version|Memory:/.test(l)).join('\n'));
    expect(later).not.toMatch(/Unable to calibrate against PIT/);
    expect(vm.state).toBe('running');
  },
  700_000,
);
