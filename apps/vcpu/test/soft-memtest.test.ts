import { afterAll, beforeAll, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { memtestDiskPath } from '@quasivm/guest-images';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { Vm } from '../src/vm.js';
import { Display } from './support/vga-display.js';

/**
 * Debian's memtest86+ (the 32-bit memtest86+ia32.bin, unmodified) on the soft backend, as a
 * user boots it: SeaBIOS + SeaVGABIOS, syslinux on memtest.img read from the remote IDE
 * service, memtest through the Linux 16-bit boot protocol; it sizes memory from the BIOS's
 * E820 map, identifies the CPU, times itself with the remote PIT and draws its screen on
 * the remote VGA's text mode. The test reads that screen as a user would: the title, the
 * memory size the VM was given, a test that moves on, and no errors.
 */
const apps = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const SEABIOS = '/usr/share/seabios/bios.bin';
const disk = memtestDiskPath();
const missing = !existsSync(disk) ? 'memtest.img not built; run the @quasivm/guest-images build' : !existsSync(SEABIOS) ? "SeaBIOS missing; install Debian's seabios" : null;
const VM_ID = 'memtest';
const RAM_MIB = 64;
let timer: ServiceProcess;
let ide: ServiceProcess;
let vga: ServiceProcess;
let display: Display;
let vm: Vm | null = null;

beforeAll(async () => {
  if (missing) return;
  [timer, ide, vga] = await Promise.all([
    startServiceProcess(apps('timer/src/main.ts'), unixAddress('timer')),
    startServiceProcess(apps('ide/src/main.ts'), unixAddress('ide'), ['--data-dir', path.dirname(disk)]),
    startServiceProcess(apps('vga/src/main.ts'), unixAddress('vga')),
  ]);
  display = new Display(vga.address);
});
afterAll(async () => {
  await vm?.stop();
  await Promise.all([timer?.stop('SIGKILL'), ide?.stop('SIGKILL'), vga?.stop('SIGKILL')]);
});

/** memtest's progress line: "Test 73% ####..." (the current test's share done). */
const TEST_PROGRESS = /Test\s+(\d+)%/;
/** The test in progress: "Test #4  [Moving inversions, 8 bit pattern]". */
const TEST_NUMBER = /Test #(\d+)/;

/** How far memtest is, as one number that only grows while it runs its first pass. */
function progress(rows: string[]): number | undefined {
  const screen = rows.join('\n');
  const percent = TEST_PROGRESS.exec(screen);
  const number = TEST_NUMBER.exec(screen);
  return percent && number ? Number(number[1]) * 1000 + Number(percent[1]) : undefined;
}

async function screenRows(): Promise<string[]> {
  return (await display.text(VM_ID)).rows.map((r) => r.trimEnd());
}

(missing ? test.skip : test)(
  `soft backend: memtest86+ from Debian boots from the remote IDE disk through SeaBIOS and syslinux, and tests memory on the remote VGA screen${missing ? ` (skipped: ${missing})` : ''}`,
  async () => {
    vm = await Vm.create({
      id: VM_ID,
      backend: 'soft',
      firmware: 'seabios',
      ramMiB: RAM_MIB,
      realtime: false,
      devices: [
        { device: 'timer', address: timer.address },
        { device: 'ide', address: ide.address, config: { 'primary.master': path.basename(disk), 'primary.master.mode': 'ro' } },
        { device: 'vga', address: vga.address },
      ],
    });
    vm.start();
    const loader = await vm.waitForSerial(/Loading \/memtest\.bin\.\.\. ?ok/, 90_000);
    expect(loader).toMatch(/SYSLINUX 6\.\d+ /);

    let rows: string[] = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && progress(rows) === undefined) {
      await new Promise((r) => setTimeout(r, 1000));
      rows = await screenRows();
    }
    const screen = rows.join('\n');
    expect(screen, screen).toMatch(/Memtest86\+ v6\.\d+/);
    expect(screen).toMatch(new RegExp(`Memory\\s*:\\s*${RAM_MIB}MB`)); // what SeaBIOS's E820 map says the VM has
    expect(screen).toMatch(/CPU: 1 Cores/);
    const first = progress(rows)!;

    // A few seconds later the test has moved on, still without an error.
    let later = first;
    const until = Date.now() + 60_000;
    while (Date.now() < until && later <= first) {
      await new Promise((r) => setTimeout(r, 1000));
      rows = await screenRows();
      later = progress(rows) ?? later;
    }
    console.log(`memtest86+: progress ${first} -> ${later} (test number x 1000 + percent)\n${rows.filter(Boolean).join('\n')}`);
    expect(later).toBeGreaterThan(first);
    expect(rows.join('\n')).toMatch(/Errors:\s+0\b/);
    expect(vm.state).toBe('running');
  },
  300_000,
);
