import { describe, expect, it } from 'vitest';
import { AtaController } from '../src/ide-controller.js';
import { Piix3IdeFunction } from '../src/piix3-ide-function.js';
import { MemoryBlockDevice } from '../src/storage/block-device.js';
import { FakeHost } from './helpers.js';

describe('PIIX3 IDE PCI function', () => {
  it('identifies as 8086:7010, class 01 01 80', () => {
    const f = new Piix3IdeFunction();
    expect(f.configRead(0, 4)).toBe(0x70108086);
    expect(f.configRead(0x08, 4) >>> 8).toBe(0x010180);
    expect(f.configRead(0x0b, 1)).toBe(0x01);
    expect(f.configRead(0x0a, 1)).toBe(0x01);
    expect(f.configRead(0x09, 1)).toBe(0x80);
    expect(f.configRead(0x10, 4)).toBe(0); // BAR0-3 unused: legacy channels
    expect(f.configRead(0x20, 4)).toBe(1); // BAR4: I/O, unassigned
  });

  it('BAR4 sizes as 16 bytes of I/O, read-only bytes ignore writes, bad accesses are counted', () => {
    const f = new Piix3IdeFunction();
    f.configWrite(0x20, 4, 0xffffffff);
    expect(f.configRead(0x20, 4)).toBe(0xfffffff1); // SeaBIOS: size = ~(0xfffffff0) + 1 = 16
    f.configWrite(0x00, 4, 0);
    expect(f.configRead(0x00, 2)).toBe(0x8086);
    expect(f.configRead(0x21, 2)).toBe(0xffff); // misaligned
    f.configWrite(0xff, 4, 1);
    expect(f.badAccesses).toBe(2);
  });

  it('the bus-master block follows BAR4 and the I/O enable bit; IDETIM gates the legacy ports', () => {
    const host = new FakeHost();
    const ide = new AtaController(host, { drives: [{ kind: 'disk', image: new MemoryBlockDevice(new Uint8Array(64 * 512)) }, null, null, null] });
    expect(ide.ioRead(0xc004, 4, 0)).toBe(0xffffffff); // not assigned yet
    ide.pci.configWrite(0x20, 4, 0xd000);
    expect(ide.ioRead(0xd004, 4, 0)).toBe(0xffffffff); // I/O space not enabled
    ide.pci.configWrite(0x04, 2, 0x0005);
    ide.ioWrite(0xd004, 4, 0x12345678, 0);
    expect(ide.ioRead(0xd004, 4, 0)).toBe(0x12345678 & ~3);
    expect(ide.ioRead(0xd00c, 4, 0)).toBe(0); // secondary channel's PRD
    expect(ide.pci.busMasterBase).toBe(0xd000);

    expect(ide.ioRead(0x1f7, 1, 0)).toBe(0x50);
    ide.pci.configWrite(0x40, 2, 0x0000); // primary decode off
    expect(ide.ioRead(0x1f7, 1, 0)).toBe(0xff);
    expect(ide.counters.unknownPort).toBeGreaterThan(0);
  });

  it('config state survives saveConfig / prepareLoadConfig and is validated', () => {
    const f = new Piix3IdeFunction(0xc000);
    const saved = JSON.parse(JSON.stringify(f.saveConfig()));
    const g = new Piix3IdeFunction();
    g.prepareLoadConfig(saved)();
    expect(g.busMasterBase).toBe(0xc000);
    expect(() => g.prepareLoadConfig({ ...saved, space: Buffer.alloc(256).toString('base64') })).toThrow(/read-only/);
  });
});
