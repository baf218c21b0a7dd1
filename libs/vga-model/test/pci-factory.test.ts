import { describe, expect, it } from 'vitest';
import { vgaDeviceFactory, VgaAdapter } from '../src/index.js';
import { TestHost, makeVga } from './helpers.js';

describe('PCI function', () => {
  it('identifies as a 1234:1111 VGA-compatible display controller', () => {
    const { vga } = makeVga();
    expect(vga.configRead(0x00, 4)).toBe(0x11111234);
    expect(vga.configRead(0x08, 4)).toBe(0x03000002);
    expect(vga.configRead(0x0e, 1)).toBe(0x00);
    expect(vga.configRead(0x2c, 4)).toBe(0x11001af4);
    expect(vga.configRead(0x3d, 1)).toBe(0x00); // no interrupt pin
    vga.configWrite(0x00, 4, 0);
    expect(vga.configRead(0x00, 2)).toBe(0x1234);
    expect(vga.configRead(0x01, 2)).toBe(0xffff); // misaligned
    expect(vga.configRead(0xfe, 4)).toBe(0xffffffff);
    expect(vga.pci.badAccesses).toBe(2);
  });

  it('sizes and moves BAR0, and the LFB follows it', () => {
    const { vga, host } = makeVga();
    expect(vga.configRead(0x10, 4)).toBe(0xe0000008);
    vga.configWrite(0x04, 2, 0x0001); // memory decode off while sizing
    expect(host.ofKind('pci-bars').at(-1)).toMatchObject({ lfb: { base: 0xe0000000, enabled: false } });
    vga.configWrite(0x10, 4, 0xffffffff);
    expect(vga.configRead(0x10, 4)).toBe(0xff000008); // 16 MiB, prefetchable, 32-bit
    vga.configWrite(0x10, 4, 0xc1234567);
    expect(vga.configRead(0x10, 4)).toBe(0xc1000008);
    vga.configWrite(0x04, 2, 0x0003);
    expect(host.ofKind('pci-bars').at(-1)).toMatchObject({ lfb: { base: 0xc1000000, length: 16 << 20, enabled: true } });
    vga.memWrite(0xc1000010, 4, 0xabcdef01, 0);
    expect(vga.memRead(0xc1000010, 4, 0)).toBe(0xabcdef01);
    expect(vga.memRead(0xe0000010, 4, 0)).toBe(0xffffffff);
    expect(vga.configRead(0x18, 4)).toBe(0); // no MMIO BAR unless configured
    vga.configWrite(0x18, 4, 0xffffffff);
    expect(vga.configRead(0x18, 4)).toBe(0);
  });

  it('exposes the MMIO block (VGA ports at 400h, DISPI at 500h) when configured', () => {
    const { vga } = makeVga({ mmio: true, mmioBase: 0xfebf0000 });
    vga.configWrite(0x18, 4, 0xffffffff);
    expect(vga.configRead(0x18, 4)).toBe(0xfffff000);
    vga.configWrite(0x18, 4, 0xfebf0000);
    vga.memWrite(0xfebf0000 + 0x502, 2, 800, 0); // XRES
    vga.ioWrite(0x1ce, 2, 1, 0);
    expect(vga.ioRead(0x1cf, 2, 0)).toBe(800);
    vga.memWrite(0xfebf0000 + 0x400 + 0x06, 1, 0x3f, 0); // 3C6h pixel mask
    expect(vga.ioRead(0x3c6, 1, 0)).toBe(0x3f);
    expect(vga.memRead(0xfebf0000 + 0x514, 2, 0)).toBe(256); // VIDEO_MEMORY_64K
    expect(vga.memRead(0xfebf0000 + 0x800, 4, 0)).toBe(0xffffffff);
  });

  it('decodes the option ROM through the expansion ROM BAR', () => {
    const rom = new Uint8Array(3000);
    rom[0] = 0x55;
    rom[1] = 0xaa;
    rom[2999] = 0x77;
    const { vga } = makeVga({ optionRom: rom });
    vga.configWrite(0x30, 4, 0xfffff800);
    expect(vga.configRead(0x30, 4)).toBe(0xfffff000); // 4 KiB, disabled
    vga.configWrite(0x30, 4, 0xfeb00001);
    expect(vga.memRead(0xfeb00000, 2, 0)).toBe(0xaa55);
    expect(vga.memRead(0xfeb00000 + 2999, 1, 0)).toBe(0x77);
    expect(vga.memRead(0xfeb00000 + 3000, 1, 0)).toBe(0x00);
    vga.memWrite(0xfeb00000, 1, 0, 0); // read-only
    expect(vga.memRead(0xfeb00000, 1, 0)).toBe(0x55);
    vga.configWrite(0x30, 4, 0xfeb00000);
    expect(vga.memRead(0xfeb00000, 1, 0)).toBe(0xff);
  });
});

describe('vgaDeviceFactory', () => {
  it('describes the ports and memory windows', () => {
    expect(vgaDeviceFactory.describe({})).toEqual({
      name: 'vga',
      version: '1',
      ports: [{ base: 0x3b0, length: 0x30 }, { base: 0x1ce, length: 2 }],
      irqs: [],
      memoryWindows: [{ base: 0xa0000, length: 0x20000 }, { base: 0xe0000000, length: 16 << 20 }],
      pciFunctions: [{ device: 2, function: 0 }],
      // Misc output, sequencer data, graphics controller data, DISPI data.
      windowModePorts: [{ base: 0x3c2, length: 1 }, { base: 0x3c5, length: 1 }, { base: 0x3cf, length: 1 }, { base: 0x1cf, length: 1 }],
    });
  });

  it('a BAR moved through the device protocol reports the memory the adapter decodes now', () => {
    const host = new TestHost();
    const claims: Array<Array<{ base: number; length: number }>> = [];
    host.claimsChanged = (_ports, windows) => void claims.push(windows);
    const vga = vgaDeviceFactory.create(host, {}) as VgaAdapter;
    expect(vga.pciConfigRead(0, 0, 4)).toBe(0x11111234);
    vga.pciConfigWrite(0, 0x04, 2, 0x0003); // I/O + memory decoding on
    vga.pciConfigWrite(0, 0x10, 4, 0xd0000000); // BAR0 (LFB) -> 0xD0000000
    expect(claims.at(-1)).toContainEqual({ base: 0xd0000000, length: 16 << 20 });
    expect(claims.at(-1)).toContainEqual({ base: 0xa0000, length: 0x20000 });
    expect(vga.pciConfigRead(1, 0, 4)).toBe(0xffffffff);
  });

  it('creates adapters from string config and rejects unusable config', () => {
    const rom = Buffer.from([0x55, 0xaa, 1]).toString('base64');
    const vga = vgaDeviceFactory.create(new TestHost(), { vbeMemoryMiB: '4', lfbBase: '0xd0000000', optionRom: rom }) as VgaAdapter;
    vga.ioWrite(0x1ce, 2, 0xa, 0);
    expect(vga.ioRead(0x1cf, 2, 0)).toBe(64);
    expect(vga.configRead(0x10, 4)).toBe(0xd0000008);
    expect(vga.bars().rom).toMatchObject({ length: 2048 });
    const bads: Record<string, string>[] = [{ vbeMemoryMiB: '3' }, { vbeMemoryMiB: '512' }, { lfbBase: 'xyz' }, { lfbBase: '0xd0001000' }, { colour: 'red' }, { mmio: 'yes' }, { optionRom: '***' }, { maxXres: '10' }];
    for (const bad of bads) {
      expect(() => vgaDeviceFactory.create(new TestHost(), bad), JSON.stringify(bad)).toThrow(/vga:/);
    }
  });
});
