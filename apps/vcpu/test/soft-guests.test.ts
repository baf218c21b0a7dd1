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
