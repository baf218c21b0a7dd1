import { afterEach, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { buildGuests } from '../../../guests/build.mjs';
import { Vm } from '../src/vm.js';

const SEABIOS = '/usr/share/seabios/bios.bin';
let vm: Vm | null = null;

afterEach(async () => {
  await vm?.stop();
  vm = null;
});

/** Polls the debug console (port 0x402) until `text` shows up, the VM crashes, or time runs out. */
async function waitForDebug(v: Vm, text: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!v.debugLog.includes(text)) {
    if (v.state === 'crashed' || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!v.debugLog.includes(text)) {
    throw new Error(`"${text}" not on the debug console (state ${v.state}, ${v.exitReason ?? 'no exit reason'}); log tail:\n${v.debugLog.slice(-1500)}`);
  }
}

test.skipIf(!existsSync(SEABIOS))(
  'soft backend: SeaBIOS enters protected mode, prints its banner and gets through POST to "No bootable device"',
  async () => {
    vm = await Vm.create({ id: 'soft-seabios', backend: 'soft', firmware: 'seabios', ramMiB: 32, realtime: false });
    vm.start();
    await waitForDebug(vm, 'SeaBIOS (version', 60_000);
    expect(vm.debugLog).toMatch(/SeaBIOS \(version [^)]+\)/);
    // Protected-mode C code ran: PCI probing and the e820 map come from 32-bit code.
    await waitForDebug(vm, 'Found 2 PCI devices', 60_000);
    await waitForDebug(vm, 'e820 map has', 120_000);
    // With no disks attached the boot menu gives up; the BIOS then waits for a timer that is not there.
    await waitForDebug(vm, 'No bootable device', 120_000);
    expect(vm.state).not.toBe('crashed');
  },
  240_000,
);

test('soft backend: protected-paging enters protected mode, prints from ring 0 with paging on and reports its #PF', async () => {
  const image = new Uint8Array(readFileSync(buildGuests({ quiet: true })['protected-paging']));
  vm = await Vm.create({ id: 'soft-protected-paging', backend: 'soft', firmware: image, ramMiB: 16, realtime: false });
  vm.start();
  await vm.waitForSerial('protected-paging: ring 0 with paging on', 20_000);
  await vm.waitForSerial('protected-paging: #PF at 0x00800000 code 0x00000002', 20_000);
  expect(await vm.waitForState(['halted'], 10_000)).toBe('halted');
  expect(vm.serialLog).not.toContain('no page fault');
});

test('soft backend: the triple-fault guest ends crashed with the reason "triple fault"', async () => {
  const image = new Uint8Array(readFileSync(buildGuests({ quiet: true })['triple-fault']));
  vm = await Vm.create({ id: 'soft-triple-fault', backend: 'soft', firmware: image, ramMiB: 2, realtime: false });
  vm.start();
  await vm.waitForSerial('triple-fault: loading an empty IDT', 20_000);
  expect(await vm.waitForState(['crashed'], 10_000)).toBe('crashed');
  expect(vm.exitReason).toMatch(/triple fault/);
  expect(vm.serialLog).not.toContain('survived');
});
