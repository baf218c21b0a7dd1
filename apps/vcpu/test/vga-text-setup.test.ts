import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { Cpu, RamBus, StopReason } from '@quasivm/x86';
import { vgaDeviceFactory, type VgaAdapter } from '@quasivm/vga-model';
import { BOOT_CS, BOOT_DS, BOOT_GDT_ADDR, BOOT_PARAMS_ADDR, KERNEL_LOAD_ADDR, TEXT_SETUP_ADDR } from '../src/machine/linux-boot.js';
import { enterLinuxSoft } from '../src/machine/linux-entry.js';
import { SEAVGABIOS_PATH } from '../src/machine/firmware.js';
import { describeTextMode, fontFromVgaBios, textModeSetup } from '../src/machine/vga-text-setup.js';

/**
 * The guest code a direct kernel boot runs first when the VM has a VGA: run on the soft CPU
 * against the VGA model (ports and the A0000h window), from a power-on VGA to the kernel's
 * entry. What Linux's vgacon then relies on must hold: text mode 80x25, the characters it
 * writes at B8000h readable, the font's glyphs drawn, and the boot protocol's registers.
 */
const ESI = 6;
const EBX = 3;
const EDI = 7;
const EBP = 5;

function machine(): { cpu: Cpu; vga: VgaAdapter; bus: RamBus } {
  const host = { setIrq() {}, setIrqDeadline() {}, readMemory: async (_a: number, n: number) => new Uint8Array(n), writeMemory: async () => {}, emitEvent() {} };
  const vga = vgaDeviceFactory.create(host, {}) as VgaAdapter;
  const bus = new RamBus(2 << 20, { ioRead: (port, size) => vga.ioRead(port, size, 0), ioWrite: (port, size, value) => vga.ioWrite(port, size, value, 0) });
  bus.mapMmio(0xa0000, 0x20000, { read: (addr, size) => vga.memRead(addr, size, 0), write: (addr, size, value) => vga.memWrite(addr, size, value, 0) });
  const cpu = new Cpu({ bus, model: 'i686' });
  return { cpu, vga, bus };
}

test('direct kernel boot with a VGA: the loader code sets text mode 3 with the BIOS font, then enters the kernel with the boot protocol registers', () => {
  const font = fontFromVgaBios(new Uint8Array(readFileSync(SEAVGABIOS_PATH)));
  expect(font.length).toBe(256 * 16);
  const { cpu, vga, bus } = machine();
  expect(vga.displayMode()).not.toMatchObject({ columns: 80, rows: 25 }); // power-on: no BIOS has set a mode
  bus.ram.set(textModeSetup(TEXT_SETUP_ADDR, font, BOOT_PARAMS_ADDR, KERNEL_LOAD_ADDR), TEXT_SETUP_ADDR);
  bus.ram[KERNEL_LOAD_ADDR] = 0xf4; // the "kernel": hlt
  bus.ram.set([0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0], BOOT_GDT_ADDR + BOOT_CS);
  bus.ram.set([0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0], BOOT_GDT_ADDR + BOOT_DS);
  enterLinuxSoft(cpu, { eip: TEXT_SETUP_ADDR, esi: BOOT_PARAMS_ADDR, gdtBase: BOOT_GDT_ADDR, gdtLimit: 31, codeSelector: BOOT_CS, dataSelector: BOOT_DS });
  cpu.reg32[EBX] = 0x1234; // whatever the setup code leaves must not reach the kernel

  expect(cpu.run(1_000_000)).toBe(StopReason.Halted);
  expect(cpu.eip).toBe(KERNEL_LOAD_ADDR + 1);
  expect(cpu.reg32[ESI]).toBe(BOOT_PARAMS_ADDR);
  expect([cpu.reg32[EBX], cpu.reg32[EDI], cpu.reg32[EBP]]).toEqual([0, 0, 0]);

  const mode = vga.displayMode();
  expect(mode).toMatchObject({ kind: 'text', columns: 80, rows: 25, width: 720, height: 400 });
  // What vgacon does: characters and attributes at B8000h (odd/even: char, attribute).
  'Linux'.split('').forEach((ch, i) => {
    vga.memWrite(0xb8000 + i * 2, 1, ch.charCodeAt(0), 0);
    vga.memWrite(0xb8000 + i * 2 + 1, 1, 0x07, 0);
  });
  expect(vga.screenText()[0].trimEnd()).toBe('Linux');
  // The font is in plane 2: the first cell shows the glyph of 'L' in light grey on black,
  // and the BIOS's underline cursor (scan lines 13-14, CRTC 0Ah/0Bh) below it.
  const frame = vga.render(0);
  const litIn = (y0: number, y1: number) => {
    let lit = 0;
    for (let y = y0; y < y1; y++) for (let x = 0; x < 9; x++) if (frame.rgba[(y * frame.width + x) * 4] > 0x80) lit++;
    return lit;
  };
  const glyphPixels = [...font.subarray(0x4c * 16, 0x4c * 16 + 13)].reduce((n, row) => n + row.toString(2).split('1').length - 1, 0);
  expect(glyphPixels).toBeGreaterThan(10);
  expect(litIn(0, 13)).toBe(glyphPixels);
  expect(litIn(13, 15)).toBe(18);
});

test('the zero page tells Linux what the setup code left: mode 3, 80x25, colour VGA, 16-line characters', () => {
  const zeroPage = new Uint8Array(4096);
  describeTextMode(zeroPage);
  expect([zeroPage[0x06], zeroPage[0x07], zeroPage[0x0e], zeroPage[0x0f], zeroPage[0x10], zeroPage[0x0a]]).toEqual([3, 80, 25, 1, 16, 3]);
});
