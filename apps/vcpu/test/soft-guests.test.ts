import { afterEach, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildGuests } from '../../../guests/build.mjs';
import { Vm } from '../src/vm.js';

const images = buildGuests({ quiet: true });
const guest = (name: string) => new Uint8Array(readFileSync(images[name]));
let vm: Vm | null = null;

afterEach(async () => {
  await vm?.stop();
  vm = null;
});

test('soft backend: serial-hello prints its line on COM1 and halts with interrupts off', async () => {
  vm = await Vm.create({ id: 'soft-hello', backend: 'soft', firmware: guest('serial-hello'), ramMiB: 2, realtime: false });
  vm.start();
  await vm.waitForSerial('serial-hello: Hello from quasivm!', 20_000);
  expect(await vm.waitForState(['halted'], 10_000)).toBe('halted');
  expect(vm.exitReason).toContain('interrupts disabled');
});

test('soft backend: keys sent to the VM reach the guest through the i8042 as set-1 scan codes', async () => {
  vm = await Vm.create({ id: 'soft-keys', backend: 'soft', firmware: guest('keyboard-echo'), ramMiB: 2, realtime: false });
  vm.start();
  await vm.waitForSerial('keyboard-echo: ready', 20_000);
  const { textToSet2 } = await import('../src/machine/keymap.js');
  vm.sendKeys(textToSet2('aB'));
  const log = await vm.waitForSerial(/(key=\S+\s+){4}/, 20_000);
  // 'a' make/break, then shift make, 'b' make (the guest asked for four bytes)
  expect([...log.matchAll(/key=0x([0-9a-f]+)/g)].map((m) => Number.parseInt(m[1], 16))).toEqual([0x1e, 0x9e, 0x2a, 0x30]);
});
