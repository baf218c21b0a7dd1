import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildGuests } from '../build.mjs';

const IMAGE_SIZE = 0x10000;
const PARAMS = 0xffe0;
const RESET = 0xfff0;
const FAR_JMP = 0xea;

/** Every guest, its documented defaults (param0, param1) and the text of its output. */
const GUESTS: Record<string, { params: [number, number]; text: string[] }> = {
  'serial-hello': { params: [0, 0], text: ['serial-hello: Hello from quasivm!'] },
  'cpu-loop': { params: [100_000, 0x12345678], text: ['cpu-loop: start', 'cpu-loop: iterations=', ' x=', ' sum='] },
  'pio-loop': { params: [1000, 0x80], text: ['pio-loop: start', 'pio-loop: rounds=', ' sum='] },
  interrupts: { params: [10, 0], text: ['interrupts: waiting', 'interrupts: received='] },
  'triple-fault': { params: [0, 0], text: ['triple-fault: loading an empty IDT'] },
  'two-lines': { params: [200_000, 0], text: ['two-lines: first', 'two-lines: second'] },
  'pit-irq': { params: [11932, 10], text: ['pit-irq: counting', 'pit-irq: received='] },
  'keyboard-echo': { params: [4, 0], text: ['keyboard-echo: ready', 'key='] },
  'vga-echo': { params: [0, 0], text: ['vga-echo: ready', 'key=', 'scancode=0x'] },
  'vga-text': { params: [0, 0], text: ['vga-text: scrolling', 'vga-text: done', 'vga-text: Hello, VGA!', 'passes=0x'] },
  'vga-mode13': { params: [0, 0], text: ['vga-mode13: done'] },
  'vga-vbe': { params: [0, 0], text: ['vga-vbe: filling', 'vga-vbe: done'] },
  'vga-vbe-absurd': { params: [0, 0], text: ['vga-vbe-absurd: 65535x65535x32 -> ', 'vga-vbe-absurd: 1920x1080x32 -> '] },
  'vga-window-modes': { params: [0, 0], text: ['vga-window-modes: done'] },
  'pit-rate': { params: [0, 5], text: ['pit-rate: measuring', 'pit-rate: irqs=', ' seconds='] },
  'pit-ch2-delay': { params: [11932, 0], text: ['pit-ch2-delay: tsc='] },
  'ide-rw': { params: [77, 5], text: ['ide-rw: read lba=', 'ide-rw: wrote lba=', 'ide-rw: beyond', 'ide-rw: unknown'] },
  'ide-identify': { params: [0, 0], text: ['ide-identify: ', ' lba28=', ' lba48=', ' model=[', '] serial=[', 'ide-identify: done'] },
  'ide-chs': { params: [0x00020f3f, 0x00010a01], text: ['ide-chs: init status=', 'ide-chs: read chs=', 'ide-chs: wrote chs=', 'ide-chs: bad sector'] },
  'ide-lba48': { params: [0x10000010, 0], text: ['ide-lba48: read lba=', 'ide-lba48: wrote lba=', 'ide-lba48: beyond'] },
  'ide-multiple': { params: [40, 9], text: ['ide-multiple: set status=', 'ide-multiple: read lba=', 'ide-multiple: wrote lba=', 'ide-multiple: disabled'] },
  'ide-dma': { params: [200, 0xc041], text: ['ide-dma: found ', ' bar4=', 'ide-dma: read lba=', 'ide-dma: wrote lba=', 'ide-dma: read ext'] },
  'ide-read-loop': { params: [128, 64], text: ['ide-read-loop: start', 'ide-read-loop: reads=0x', ' errors=0x', 'ide-read-loop: READ ERROR lba='] },
  'ide-speed': { params: [0, 16], text: ['ide-speed: start method=', 'ide-speed: done sum=', ' errors='] },
  'protected-paging': { params: [0, 0], text: ['protected-paging: entering protected mode', 'protected-paging: ring 0 with paging on', 'protected-paging: #PF at '] },
};

const images = buildGuests({ quiet: true });

describe('guest images', () => {
  it('builds exactly the documented guests', () => {
    expect(Object.keys(images).sort()).toEqual(Object.keys(GUESTS).sort());
  });

  for (const [name, spec] of Object.entries(GUESTS)) {
    describe(name, () => {
      const image = readFileSync(images[name] ?? '');
      it('is a 64 KiB firmware image whose reset vector far-jumps into segment F000 below the parameters', () => {
        expect(image.length).toBe(IMAGE_SIZE);
        expect(image[RESET]).toBe(FAR_JMP);
        const offset = image.readUInt16LE(RESET + 1);
        expect(image.readUInt16LE(RESET + 3)).toBe(0xf000);
        expect(offset).toBeLessThan(PARAMS);
      });

      it('carries the QVMP parameter block with its documented defaults', () => {
        expect(image.subarray(PARAMS, PARAMS + 4).toString('latin1')).toBe('QVMP');
        expect([image.readUInt32LE(PARAMS + 4), image.readUInt32LE(PARAMS + 8)]).toEqual(spec.params);
      });

      it('contains the text of its serial output', () => {
        const text = image.toString('latin1');
        for (const piece of spec.text) expect(text).toContain(piece);
      });
    });
  }
});
