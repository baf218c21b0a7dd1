import { afterAll, beforeAll, expect, test } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { loadDisplayProto, type DisplayClient } from '@quasivm/proto';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { Vm } from '../src/vm.js';

/**
 * SeaBIOS with SeaVGABIOS (Debian's vgabios-stdvga.bin, found through the remote VGA's PCI
 * function 1234:1111) on the soft backend, with the timer and VGA as separate services:
 * the banner and the boot messages are read back as screen text and as a screenshot.
 */
const apps = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
let timer: ServiceProcess;
let vga: ServiceProcess;
let display: DisplayClient;
let vm: Vm | null = null;

beforeAll(async () => {
  [timer, vga] = await Promise.all([startServiceProcess(apps('timer/src/main.ts'), unixAddress('timer')), startServiceProcess(apps('vga/src/main.ts'), unixAddress('vga'))]);
  display = new (loadDisplayProto().quasivm.display.v1.Display)(vga.address, grpc.credentials.createInsecure());
});
afterAll(async () => {
  await vm?.stop();
  display?.close();
  await Promise.all([timer?.stop('SIGKILL'), vga?.stop('SIGKILL')]);
});

const screenText = () => new Promise<{ rows: string[]; mode: string }>((res, rej) => display.ScreenText({ vmId: 'seabios-vga' }, (e, r) => (e ? rej(e) : res(r!))));

test('soft backend: SeaBIOS + SeaVGABIOS show the banner and boot messages on the remote VGA', async () => {
  vm = await Vm.create({
    id: 'seabios-vga',
    backend: 'soft',
    firmware: 'seabios',
    ramMiB: 32,
    realtime: false,
    devices: [
      { device: 'timer', address: timer.address },
      { device: 'vga', address: vga.address },
    ],
  });
  vm.start();
  let rows: string[] = [];
  for (let i = 0; i < 120 && !rows.some((r) => r.includes('No bootable device')); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    rows = (await screenText()).rows.map((r) => r.trimEnd());
  }
  expect(rows[0]).toMatch(/^SeaBIOS \(version 1\.\d+/);
  expect(rows.join('\n')).toContain('No bootable device');
  const shot = await new Promise<{ png: Buffer }>((res, rej) => display.Screenshot({ vmId: 'seabios-vga' }, (e, r) => (e ? rej(e) : res(r!))));
  const png = PNG.sync.read(shot.png);
  expect([png.width, png.height]).toEqual([720, 400]);
  let lit = 0;
  for (let i = 0; i < png.data.length; i += 4) if (png.data[i] > 0x80) lit++;
  expect(lit).toBeGreaterThan(1000); // the glyphs of the banner are drawn in light grey
}, 180_000);
