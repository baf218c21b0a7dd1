/**
 * The VGA through the real stack: nasm guests drive the remote VGA service (a child
 * process) from the vCPU, on the soft backend always and on KVM where /dev/kvm opens, and
 * the test reads back what a user sees through the service's Display API: screen text and
 * screenshot pixels. The guests need no VGA BIOS (they program the registers and load the
 * font themselves), so the checks do not depend on SeaVGABIOS.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { guestImage } from '../../../libs/kvm/test/support/guest-images.js';
import { kvmUnavailableReason } from '../src/kvm/kvm-device-path.js';
import { Vm } from '../src/vm.js';
import { dac8, Display, guestFont } from './support/vga-display.js';

const VGA_MAIN = fileURLToPath(new URL('../../vga/src/main.ts', import.meta.url));
const kvmMissing = kvmUnavailableReason();
let vga: ServiceProcess;
let display: Display;
let vm: Vm | null = null;

beforeAll(async () => {
  vga = await startServiceProcess(VGA_MAIN, unixAddress('vga'));
  display = new Display(vga.address);
});
afterEach(async () => {
  await vm?.stop();
  vm = null;
});
afterAll(async () => {
  display?.close();
  await vga?.stop('SIGKILL');
});

async function boot(backend: 'soft' | 'kvm', name: string, image: Uint8Array): Promise<Vm> {
  vm = await Vm.create({ id: `${name}-${backend}`, backend, firmware: image, ramMiB: 2, realtime: false, devices: [{ device: 'vga', address: vga.address }] });
  vm.start();
  return vm;
}

/** Resident memory of the VGA service process, in MiB. */
function serviceRssMiB(): number {
  const status = readFileSync(`/proc/${vga.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const font = guestFont();
const WHITE: [number, number, number] = [255, 255, 255];
const BLUE: [number, number, number] = [0, 0, dac8(42)];
const RED: [number, number, number] = [dac8(42), 0, 0];

for (const backend of ['soft', 'kvm'] as const) {
  const skip = backend === 'kvm' && kvmMissing ? ` (skipped: ${kvmMissing})` : '';
  const t = skip ? test.skip : test;
  // kvm_pvm traps every VGA access through a slow exit path; the guests stay small for it.
  const budget = backend === 'kvm' ? 120_000 : 60_000;

  describe(`${backend} backend: VGA guests through the remote VGA service${skip}`, () => {
    t('text written to 0xB8000 shows in the screen text, and the screenshot has the glyphs in their colours', async () => {
      const v = await boot(backend, 'vga-text', guestImage('vga-text', { param0: 2 }));
      await v.waitForSerial('vga-text: done', budget);
      const rows = await display.waitForText(v.id, (r) => r[0]?.startsWith('vga-text: Hello, VGA!') && r[24]?.startsWith('passes='), 10_000);
      expect(rows[0].trimEnd()).toBe('vga-text: Hello, VGA!');
      expect(rows[1].trimEnd()).toBe('\u2588'); // CP437 DBh, the full block
      expect(rows[24].trimEnd()).toBe('passes=0x00000002');
      expect(rows.slice(2, 24).every((r) => r.trim() === '')).toBe(true);

      const shot = await display.screenshot(v.id);
      expect([shot.width, shot.height]).toEqual([720, 400]);
      // Every pixel of the banner's cells: glyph bits bright white, the rest (and the 9th
      // column, as for any character outside C0h-DFh) blue.
      const banner = 'vga-text: Hello, VGA!';
      let wrong = 0;
      for (let c = 0; c < banner.length; c++) {
        const glyph = font[banner.charCodeAt(c)];
        for (let y = 0; y < 16; y++)
          for (let x = 0; x < 9; x++) {
            const on = x < 8 && (glyph[y] & (0x80 >> x)) !== 0;
            if (shot.px(c * 9 + x, y).join() !== (on ? WHITE : BLUE).join()) wrong++;
          }
      }
      expect(wrong).toBe(0);
      // The full block on row 1 is red in all nine columns (line graphics repeat column 8).
      for (const x of [0, 4, 7, 8]) expect(shot.px(x, 16 + 7)).toEqual(RED);
      expect(shot.px(9, 16 + 7)).toEqual([0, 0, 0]);
    }, budget + 30_000);

    t('mode 13h set through the registers with a DAC palette: the screenshot pixels are the bands and the rectangle', async () => {
      const v = await boot(backend, 'vga-mode13', guestImage('vga-mode13'));
      await v.waitForSerial('vga-mode13: done', budget);
      await display.waitForText(v.id, () => true, 1000);
      let shot = await display.screenshot(v.id);
      for (let i = 0; i < 50 && shot.px(319, 199).join() !== [dac8(60), dac8(3), dac8(30)].join(); i++) {
        await new Promise((r) => setTimeout(r, 100));
        shot = await display.screenshot(v.id);
      }
      expect([shot.width, shot.height]).toEqual([320, 200]);
      expect((await display.text(v.id)).mode).toBe('chain256');
      const band = (i: number) => [dac8(4 * i), dac8(63 - 4 * i), dac8(2 * i)];
      let wrong = 0;
      for (let y = 0; y < 200; y += 7)
        for (let x = 0; x < 320; x++) {
          const inRect = x >= 100 && x < 150 && y >= 50 && y < 90;
          if (shot.px(x, y).join() !== (inRect ? [255, 255, 0] : band(Math.floor(x / 20))).join()) wrong++;
        }
      expect(wrong).toBe(0);
      expect(shot.px(100, 50)).toEqual([255, 255, 0]);
      expect(shot.px(149, 89)).toEqual([255, 255, 0]);
      expect(shot.px(150, 89)).toEqual(band(7));
    }, budget + 30_000);

    t('1024x768x32 through Bochs DISPI, drawn in the linear framebuffer found in PCI BAR0: the pixels match', async () => {
      const v = await boot(backend, 'vga-vbe', guestImage('vga-vbe'));
      const log = await v.waitForSerial('vga-vbe: done', budget);
      expect(log).toContain('vga-vbe: id=0x11111234 lfb=0xe0000000 dispi=0x0000b0c5');
      expect(log).toContain('vga-vbe: mode=0x00000400 0x00000300 0x00000020');
      let shot = await display.screenshot(v.id);
      for (let i = 0; i < 50 && shot.px(1023, 767).join() !== '0,0,255'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        shot = await display.screenshot(v.id);
      }
      expect([shot.width, shot.height]).toEqual([1024, 768]);
      expect(shot.px(100, 100)).toEqual([255, 0, 0]);
      expect(shot.px(163, 163)).toEqual([255, 0, 0]);
      expect(shot.px(164, 100)).toEqual([0, 0, 0]);
      expect(shot.px(99, 163)).toEqual([0, 0, 0]);
      for (const x of [0, 512, 1023]) expect(shot.px(x, 700)).toEqual([0, 255, 0]);
      expect(shot.px(0, 699)).toEqual([0, 0, 0]);
      expect(shot.px(1023, 767)).toEqual([0, 0, 255]);
      expect(shot.px(0, 0)).toEqual([0, 0, 0]);
    }, budget + 30_000);

    t('absurd VBE modes are refused and the service memory stays bounded; a real mode is then taken', async () => {
      const before = serviceRssMiB();
      const v = await boot(backend, 'vga-vbe-absurd', guestImage('vga-vbe-absurd'));
      const log = await v.waitForSerial('vga-vbe-absurd: done', budget);
      const readback = (label: string) => {
        const m = new RegExp(`${label} -> 0x(\\w+) 0x(\\w+) 0x(\\w+) 0x(\\w+)`).exec(log);
        return m!.slice(1).map((h) => Number.parseInt(h, 16));
      };
      // Whatever was kept fits the adapter: at most 2560x1600, a real depth, within 16 MiB.
      for (const label of ['65535x65535x32', '4096x4096x32', '1024x768x64']) {
        const [x, y, bpp] = readback(label);
        expect(x, label).toBeLessThanOrEqual(2560);
        expect(y, label).toBeLessThanOrEqual(1600);
        expect([8, 15, 16, 24, 32], label).toContain(bpp);
        expect(x * y * Math.ceil(bpp / 8), label).toBeLessThanOrEqual(16 << 20);
      }
      expect(readback('65535x65535x32').slice(0, 2)).not.toEqual([65535, 65535]);
      expect(readback('1920x1080x32')).toEqual([1920, 1080, 32, 0x41]);
      const shot = await display.screenshot(v.id);
      expect([shot.width, shot.height]).toEqual([1920, 1080]);
      // 16 MiB of VBE memory, a 1920x1080 frame and its PNG: well under 200 MiB more.
      expect(serviceRssMiB() - before).toBeLessThan(200);
    }, budget + 30_000);
  });
}
