import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { buildGuests } from '../../../guests/build.mjs';
import { Vm } from '../src/vm.js';
import { DEFAULT_NS_PER_INSTRUCTION } from '../src/machine/vm-config.js';

/**
 * The timer issue's rate check, through the real stack: the pit-rate guest programs the
 * remote 8254 and counts IRQ 0 (delivered by the vCPU from the timer service's deadlines)
 * against the CMOS clock's seconds. Soft backend, guest time from the instruction count
 * (kvm-timer-rate.test.ts runs the same guests under KVM).
 */
const TIMER_MAIN = fileURLToPath(new URL('../../timer/src/main.ts', import.meta.url));
const PIT_HZ = 1_193_182;
const PARAMS = 0xffe0;
let timer: ServiceProcess;
let vm: Vm | null = null;

beforeAll(async () => {
  timer = await startServiceProcess(TIMER_MAIN, unixAddress('timer'));
});
afterEach(async () => {
  await vm?.stop();
  vm = null;
});
afterAll(async () => {
  await timer?.stop('SIGKILL');
});

function pitRateGuest(reload: number, seconds: number): Uint8Array {
  const image = new Uint8Array(readFileSync(buildGuests({ quiet: true })['pit-rate']));
  const view = new DataView(image.buffer);
  view.setUint32(PARAMS + 4, reload, true);
  view.setUint32(PARAMS + 8, seconds, true);
  return image;
}

for (const { name, reload, seconds } of [
  { name: 'the BIOS default 18.2 Hz', reload: 0, seconds: 5 },
  { name: '1000 Hz', reload: 1193, seconds: 1 },
]) {
  test(`IRQ 0 from the remote timer service arrives at ${name}, within 2 % of the programmed rate`, async () => {
    vm = await Vm.create({ id: `pit-rate-${reload}`, backend: 'soft', ramMiB: 2, realtime: false, firmware: pitRateGuest(reload, seconds), devices: [{ device: 'timer', address: timer.address }] });
    vm.start();
    const log = await vm.waitForSerial(/pit-rate: irqs=0x([0-9a-f]+) seconds=0x([0-9a-f]+)/, 120_000);
    const [, irqs] = /irqs=0x([0-9a-f]+)/.exec(log)!;
    const measured = Number.parseInt(irqs, 16) / seconds;
    const programmed = PIT_HZ / (reload || 65536);
    console.log(`pit-rate: programmed ${programmed.toFixed(3)} Hz, counted ${measured.toFixed(3)} Hz over ${seconds} s of guest time`);
    expect(Math.abs(measured - programmed) / programmed).toBeLessThan(0.02);
  }, 150_000);
}

test('a guest busy-waiting on channel 2 through port 0x61 measures 10 ms within 2 %, every one of its 3 tries (the BIOS/Linux calibration pattern)', async () => {
  const image = new Uint8Array(readFileSync(buildGuests({ quiet: true })['pit-ch2-delay']));
  new DataView(image.buffer).setUint32(PARAMS + 8, 3, true);
  vm = await Vm.create({ id: 'pit-ch2', backend: 'soft', ramMiB: 2, realtime: false, firmware: image, devices: [{ device: 'timer', address: timer.address }] });
  vm.start();
  const log = await vm.waitForSerial(/(pit-ch2-delay: tsc=0x[0-9a-f]{8}\r\n){3}/, 120_000);
  // The soft CPU's TSC counts guest ns / ns-per-instruction.
  const ms = [...log.matchAll(/tsc=0x([0-9a-f]{8})/g)].map((m) => (Number.parseInt(m[1], 16) * DEFAULT_NS_PER_INSTRUCTION) / 1e6);
  const expected = (11932 / PIT_HZ) * 1000;
  console.log(`pit-ch2-delay: measured ${ms.map((x) => x.toFixed(4)).join(', ')} ms, programmed ${expected.toFixed(4)} ms`);
  expect(ms).toHaveLength(3);
  for (const x of ms) expect(Math.abs(x - expected) / expected).toBeLessThan(0.02);
}, 150_000);
