import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError, type DeviceModel } from '@quasivm/device-sdk';
import { VgaAdapter } from '../src/index.js';
import { MODE_03H, MODE_12H, loadFont, makeFont, makeVga, outb, outw, setMode } from './helpers.js';

function textScreen() {
  const { vga, host } = makeVga();
  setMode(vga, MODE_03H);
  loadFont(vga, makeFont());
  for (let i = 0; i < 80; i++) vga.memWrite(0xb8000 + i * 2, 2, 0x1f00 | (0x41 + (i % 26)), 0);
  return { vga, host };
}

describe('save and restore', () => {
  it('passes the shared contract for register changes', () => {
    const { vga } = textScreen();
    expect(checkSaveRestore(vga, (m) => {
      m.ioWrite(0x3d4, 2, 0x200a, 0);
      m.ioWrite(0x3c8, 1, 4, 0);
      m.ioWrite(0x3c9, 1, 0x3f, 0);
      m.ioWrite(0x3c0, 1, 0x11, 0); // flip-flop state is state too
    })).toBeNull();
  });

  it('passes the shared contract for memory and VBE changes', () => {
    const { vga } = textScreen();
    expect(checkSaveRestore(vga, (m: DeviceModel) => {
      m.memWrite!(0xb8000 + 400, 2, 0x4e21, 0);
      m.ioWrite(0x1ce, 2, 4, 0);
      m.ioWrite(0x1cf, 2, 0x41, 0);
      m.memWrite!(0xe0000000 + 12345, 4, 0xcafebabe, 0);
    })).toBeNull();
  });

  it('passes the shared contract for PCI configuration changes, and re-announces moved BARs', () => {
    const { vga, host } = textScreen();
    const before = vga.saveState();
    expect(checkSaveRestore(vga, () => {
      vga.configWrite(0x10, 4, 0xd0000000);
      vga.configWrite(0x3c, 1, 11);
    })).toBeNull();
    vga.configWrite(0x10, 4, 0xd0000000);
    host.events.length = 0;
    vga.loadState(before);
    expect(host.ofKind('pci-bars')).toEqual([expect.objectContaining({ lfb: { base: 0xe0000000, length: 16 << 20, enabled: true } })]);
    expect(vga.configRead(0x10, 4)).toBe(0xe0000008);
  });

  it('restores into a fresh adapter that renders the same picture', () => {
    const { vga } = textScreen();
    const f1 = vga.render(0);
    const copy = Uint8Array.from(f1.rgba);
    const state = JSON.parse(JSON.stringify(vga.saveState()));
    expect(state).toMatchObject({ device: 'vga', version: 1 });
    const { vga: fresh, host } = makeVga();
    fresh.loadState(state);
    expect(Buffer.from(fresh.render(0).rgba).equals(Buffer.from(copy))).toBe(true);
    expect(fresh.screenText()[0]).toBe(vga.screenText()[0]);
    expect(host.ofKind('window-mode').at(-1)).toMatchObject({ mode: 'direct', mapping: 'odd-even' });
  });

  it('rejects malformed blobs with DeviceStateError and stays unchanged', () => {
    const { vga } = textScreen();
    const before = JSON.stringify(vga.saveState());
    const good = JSON.parse(before);
    const bad: unknown[] = [
      null,
      {},
      { ...good, device: 'ide' },
      { ...good, version: 2 },
      { ...good, misc: 256 },
      { ...good, crtc: { ...good.crtc, regs: [1, 2, 3] } },
      { ...good, sequencer: { ...good.sequencer, index: 'x' } },
      { ...good, dac: { ...good.dac, palette: 'not base64!' } },
      { ...good, planes: { ...good.planes, pages: { 99999: 'AAAA' } } },
      { ...good, planes: { ...good.planes, pages: { 0: 'AAAA' } } },
      { ...good, vbe: { ...good.vbe, memorySize: 1 << 30 } },
      { ...good, vbe: { ...good.vbe, bpp: 12 } },
      { ...good, vbe: { ...good.vbe, bank: 256 } },
      { ...good, vbe: { ...good.vbe, xres: 4000 } },
      { ...good, pci: { config: Buffer.alloc(256).toString('base64') } },
      { ...good, window: { generation: -1, lastDirect: null } },
      { ...good, window: { generation: 5, directHistory: [{ mapping: 'planar', base: 0xa0000, length: 1, bank: 0, generation: 1 }] } },
      { ...good, window: { generation: 5, directHistory: [{ mapping: 'chain-4', base: 0xa0000, length: 1, bank: 0, generation: 6 }] } },
      { ...good, window: { generation: 5, directHistory: {} } },
    ];
    for (const [i, b] of bad.entries()) {
      expect(() => vga.loadState(b as never), `bad blob #${i}`).toThrow(DeviceStateError);
      expect(JSON.stringify(vga.saveState())).toBe(before);
    }
  });

  it('keeps big VBE memory sparse in the saved state', () => {
    const { vga } = makeVga();
    vga.memWrite(0xe0000000 + (8 << 20), 4, 0x11223344, 0);
    const s = vga.saveState() as unknown as { vbe: { memory: Record<string, string> } };
    expect(Object.keys(s.vbe.memory)).toEqual([String((8 << 20) >> 16)]);
    expect(JSON.stringify(s).length).toBeLessThan(200_000);
  });

  it('two adapters in one process share nothing', () => {
    const a = makeVga().vga;
    const b = makeVga().vga;
    setMode(a, MODE_12H);
    outb(a, 0x3c6, 0x0f);
    a.memWrite(0xa0000, 1, 0xff, 0);
    b.ioRead(0x3b0, 1, 0);
    expect(b.ioRead(0x3c6, 1, 0)).toBe(0xff);
    expect(b.counters.unknownPort).toBe(1);
    expect(a.counters.unknownPort).toBe(0);
    expect(b.planes.vram[0]).toBe(0);
    expect(a).toBeInstanceOf(VgaAdapter);
    outw(b, 0x3c4, 0x0f02);
  });
});
