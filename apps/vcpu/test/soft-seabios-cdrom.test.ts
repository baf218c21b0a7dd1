import { afterAll, beforeAll, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isoPath } from '@quasivm/guest-images';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { Vm } from '../src/vm.js';

/**
 * El Torito boot from an ATAPI CD-ROM: SeaBIOS on the soft backend finds the PIIX3 IDE
 * function, probes the remote IDE service's secondary master (Debian-built guest.iso, read
 * only) as a CD-ROM, boots its no-emulation image, and ISOLINUX takes over and prints its
 * banner on COM1 (the ISO's isolinux.cfg says SERIAL 0), then loads the kernel and initrd
 * through the BIOS's int 13h, i.e. ATAPI READ(10) through the service. No boot order needs
 * setting: SeaBIOS on QEMU-style hardware takes it from the CMOS boot flags (0x3D/0x38),
 * which say disk, CD-ROM, floppy; with no hard disk attached the CD-ROM is tried first.
 */
const apps = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const SEABIOS = '/usr/share/seabios/bios.bin';
const iso = isoPath();
const missing = !existsSync(iso) ? 'guest images not built; run the @quasivm/guest-images build' : !existsSync(SEABIOS) ? "SeaBIOS missing; install Debian's seabios" : null;
let timer: ServiceProcess;
let ide: ServiceProcess;
let vm: Vm | null = null;

beforeAll(async () => {
  if (missing) return;
  [timer, ide] = await Promise.all([
    startServiceProcess(apps('timer/src/main.ts'), unixAddress('timer')),
    startServiceProcess(apps('ide/src/main.ts'), unixAddress('ide'), ['--data-dir', path.dirname(iso)]),
  ]);
});
afterAll(async () => {
  await vm?.stop();
  await Promise.all([timer?.stop('SIGKILL'), ide?.stop('SIGKILL')]);
});

(missing ? test.skip : test)(
  `soft backend: SeaBIOS boots guest.iso from the remote IDE service's ATAPI CD-ROM; ISOLINUX prints its banner, loads the kernel and initrd over ATAPI, and Linux starts with isolinux.cfg's command line${missing ? ` (skipped: ${missing})` : ''}`,
  async () => {
    vm = await Vm.create({
      id: 'seabios-cdrom',
      backend: 'soft',
      firmware: 'seabios',
      ramMiB: 128,
      realtime: false,
      devices: [
        { device: 'timer', address: timer.address },
        { device: 'ide', address: ide.address, config: { 'secondary.master': path.basename(iso) } },
      ],
    });
    vm.start();
    // The boot loader: a few seconds (SeaBIOS POST, then ~7 MB read through int 13h).
    const loader = await vm.waitForSerial(/Loading \/initrd\.gz\.\.\. ?ok/, 90_000);
    expect(loader).toMatch(/ISOLINUX 6\.\d+ \d+ +Copyright \(C\) 1994-\d+ H\. Peter Anvin et al\r\nLoading \/vmlinuz\.\.\. ?ok\r\n/);
    // SeaBIOS says (on its debug console) what it found and what it booted.
    expect(vm.debugLog).toMatch(/DVD\/CD \[ata1-0: QUASIVM DVD-ROM ATAPI-6 DVD\/CD\]/);
    expect(vm.debugLog).toContain('Booting from DVD/CD...');
    // The kernel decompresses itself on the soft CPU (about two minutes today), then prints its banner.
    const kernel = await vm.waitForSerial(/Kernel command line: .*\r\n/, 240_000);
    expect(kernel).toMatch(/Linux version 6\.1\.\S+-686 /);
    expect(kernel).toMatch(/Kernel command line: BOOT_IMAGE=\/vmlinuz console=ttyS0 console=tty0 initrd=\/initrd\.gz\r\n/);
    expect(vm.state).toBe('running');
  },
  360_000,
);
