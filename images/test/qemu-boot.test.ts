// Each image boots a real PC (QEMU, TCG) to the guest's shell: the marker on the serial
// port, then a command typed on the serial console answers. This checks the images on
// their own, before quasivm's own CPU backends boot them.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, KERNEL_CMDLINE, type ImagePaths } from '../src/index.js';
import { QemuGuest, qemuAvailable } from './support/qemu.js';

const BOOT_TIMEOUT_MS = 60_000;
const COMMAND_TIMEOUT_MS = 20_000;
const MARKER = /QUASIVM-GUEST-READY/;
const haveQemu = qemuAvailable();
let paths: ImagePaths;
let guest: QemuGuest | undefined;

beforeAll(async () => {
  if (haveQemu) paths = await buildImages();
}, 300_000);

afterEach(async () => {
  await guest?.stop();
  guest = undefined;
});

/** Boots, waits for the marker and checks the serial shell answers; returns boot seconds. */
async function bootToShell(machineArgs: string[]): Promise<{ seconds: number; cmdline: string; serial: string }> {
  guest = new QemuGuest(machineArgs);
  const seconds = await guest.waitFor(MARKER, BOOT_TIMEOUT_MS);
  const answer = await guest.command('echo QUASIVM-$((6*7))-OK; uname -m; cat /proc/cmdline', /QUASIVM-42-OK\r?\n(\S+)\r?\n(.*)\r?\n/, COMMAND_TIMEOUT_MS);
  const [, machine, cmdline] = /QUASIVM-42-OK\r?\n(\S+)\r?\n(.*)\r?\n/.exec(answer)!;
  expect(machine).toBe('i686');
  console.log(`${machineArgs.join(' ')}: QUASIVM-GUEST-READY after ${seconds.toFixed(1)} s`);
  return { seconds, cmdline, serial: guest.serial };
}

const SUITE = haveQemu
  ? 'QEMU (TCG) boots the images to the guest shell'
  : 'SKIPPED: qemu-system-i386 is not installed (apt-get install qemu-system-x86), QEMU boot checks';

describe.skipIf(!haveQemu)(SUITE, () => {
  it('direct kernel boot (-kernel/-initrd/-append) reaches QUASIVM-GUEST-READY and a serial shell', async () => {
    const { cmdline, serial } = await bootToShell(['-kernel', paths.kernel, '-initrd', paths.initramfs, '-append', KERNEL_CMDLINE]);
    expect(cmdline.trim()).toBe(KERNEL_CMDLINE);
    expect(serial).toMatch(/Linux version 6\.\d+\.\d+-\d+-686/);
  }, BOOT_TIMEOUT_MS + COMMAND_TIMEOUT_MS + 10_000);

  it('the raw disk boots through syslinux to QUASIVM-GUEST-READY and a serial shell', async () => {
    const { cmdline, serial } = await bootToShell(['-drive', `file=${paths.disk},format=raw,if=ide,snapshot=on`, '-boot', 'c']);
    expect(serial).toMatch(/SYSLINUX \d/);
    expect(cmdline).toContain(KERNEL_CMDLINE);
  }, BOOT_TIMEOUT_MS + COMMAND_TIMEOUT_MS + 10_000);

  it('the ISO boots through isolinux (El Torito) to QUASIVM-GUEST-READY and a serial shell', async () => {
    const { cmdline, serial } = await bootToShell(['-cdrom', paths.iso, '-boot', 'd']);
    expect(serial).toMatch(/ISOLINUX \d/);
    expect(cmdline).toContain(KERNEL_CMDLINE);
  }, BOOT_TIMEOUT_MS + COMMAND_TIMEOUT_MS + 10_000);
});

