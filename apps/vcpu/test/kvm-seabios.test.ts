/**
 * SeaBIOS (Debian's bios.bin) under the KVM backend through Vm, with the timer service as
 * a real child process: the firmware finds its RAM through fw_cfg/CMOS, sets up PCI,
 * programs the remote PIT, and, with no disk attached, says so on the debug console.
 * Skipped, under a name saying so, without /dev/kvm or without SeaBIOS.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { SEABIOS_PATH } from '../src/machine/firmware.js';
import { kvmUnavailableReason } from '../src/kvm/kvm-device-path.js';
import { Vm } from '../src/vm.js';

const TIMER_MAIN = fileURLToPath(new URL('../../timer/src/main.ts', import.meta.url));
const skip = kvmUnavailableReason() ? 'skipped: /dev/kvm not available' : !existsSync(SEABIOS_PATH) ? `skipped: no SeaBIOS at ${SEABIOS_PATH}` : null;
/** kvm_pvm emulates SeaBIOS's real-mode parts: a few seconds on an idle host, more on a shared one. */
const BOOT_MS = 90_000;

function waitForDebug(vm: Vm, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!vm.debugLog.includes(text)) return;
      clearTimeout(timer);
      vm.off('debug-console', check);
      resolve();
    };
    const timer = setTimeout(() => {
      vm.off('debug-console', check);
      reject(new Error(`debug console did not show "${text}" within ${timeoutMs} ms (state ${vm.state} ${vm.exitReason}); last: ${JSON.stringify(vm.debugLog.slice(-400))}`));
    }, timeoutMs);
    vm.on('debug-console', check);
    check();
  });
}

let timer: ServiceProcess | undefined;
beforeAll(async () => {
  if (!skip) timer = await startServiceProcess(TIMER_MAIN, unixAddress('timer'));
});
afterAll(async () => {
  await timer?.stop('SIGKILL');
});

(skip ? test.skip : test)(
  `SeaBIOS on KVM finds 64 MiB, programs the remote PIT and reports no bootable device${skip ? ` (${skip})` : ''}`,
  async () => {
    const vm = await Vm.create({ id: `kvm-seabios-${process.pid}`, backend: 'kvm', firmware: 'seabios', ramMiB: 64, devices: [{ device: 'timer', address: timer!.address }] });
    try {
      vm.start();
      await waitForDebug(vm, 'No bootable device.', BOOT_MS);
      expect(vm.debugLog).toContain('SeaBIOS (version');
      expect(vm.debugLog).toMatch(/0000000000100000 - 0000000004000000 = 1 RAM/);
      expect(vm.state).toBe('running');
      const stats = await vm.stats();
      expect(stats?.ioCounts.timer.writes).toBeGreaterThanOrEqual(3);
    } finally {
      await vm.stop();
    }
  },
  BOOT_MS + 30_000,
);
