import { describe, expect, it } from 'vitest';
import { checkSaveRestore, DeviceStateError } from '@quasivm/device-sdk';
import {
  encodeBootOrder, encodeE820, FwCfg, ramE820Entries, FW_CFG_CMDLINE_DATA, FW_CFG_CMDLINE_SIZE, FW_CFG_FILE_DIR,
  FW_CFG_KERNEL_SIZE, E820_RAM,
} from './fw-cfg.js';
import { splitGuestRam } from './ram-layout.js';

const GiB = 1024 ** 3;

function setup() {
  const fw = new FwCfg({ ramSize: 5 * GiB, cpuCount: 2, maxCpus: 4 });
  const select = (key: number) => fw.ioWrite(0x510, 2, key, 0);
  const bytes = (n: number) => Array.from({ length: n }, () => fw.ioRead(0x511, 1, 0));
  const le = (b: number[]) => b.reduce((acc, x, i) => acc + x * 2 ** (8 * i), 0);
  const be = (b: number[]) => b.reduce((acc, x) => acc * 256 + x, 0);
  return { fw, select, bytes, le, be };
}

describe('FwCfg', () => {
  it('signature "QEMU", then zeros past the end', () => {
    const { select, bytes } = setup();
    select(0x0000);
    expect(String.fromCharCode(...bytes(4))).toBe('QEMU');
    expect(bytes(2)).toEqual([0, 0]);
  });

  it('ID reports the traditional interface only (no DMA)', () => {
    const { select, bytes, le } = setup();
    select(0x0001);
    expect(le(bytes(4))).toBe(1);
  });

  it('RAM size, CPU counts as little-endian numbers', () => {
    const { select, bytes, le } = setup();
    select(0x0003);
    expect(le(bytes(8))).toBe(5 * GiB);
    select(0x0005);
    expect(le(bytes(2))).toBe(2);
    select(0x000f);
    expect(le(bytes(2))).toBe(4);
    select(0x8002);
    expect(bytes(2)).toEqual([1, 0]);
    select(0x8000); // no ACPI tables: a zero count
    expect(le(bytes(2))).toBe(0);
  });

  it('selecting again restarts at offset 0; unknown items read zeros', () => {
    const { select, bytes } = setup();
    select(0x0000);
    bytes(2);
    select(0x0000);
    expect(bytes(1)).toEqual([0x51]);
    select(0x1234);
    expect(bytes(3)).toEqual([0, 0, 0]);
  });

  it('file directory: big-endian count and entries sorted by name; files readable by selector', () => {
    const { fw, select, bytes, be } = setup();
    const e820 = encodeE820(ramE820Entries(splitGuestRam(5 * GiB)));
    const selE820 = fw.addFile('etc/e820', e820);
    const selBoot = fw.addFile('bootorder', encodeBootOrder(['/pci@i0cf8/ide@1,1/drive@0/disk@0']));
    expect(selE820).toBe(0x20);
    expect(selBoot).toBe(0x21);
    select(FW_CFG_FILE_DIR);
    expect(be(bytes(4))).toBe(2);
    const entry = () => {
      const size = be(bytes(4));
      const sel = be(bytes(2));
      bytes(2);
      const name = String.fromCharCode(...bytes(56)).replace(/\0+$/, '');
      return { size, sel, name };
    };
    expect(entry()).toEqual({ size: 34, sel: 0x21, name: 'bootorder' });
    expect(entry()).toEqual({ size: 40, sel: 0x20, name: 'etc/e820' });
    select(0x20);
    const raw = Uint8Array.from(bytes(40));
    const view = new DataView(raw.buffer);
    expect([view.getBigUint64(0, true), view.getBigUint64(8, true), view.getUint32(16, true)]).toEqual([0n, 3n * BigInt(GiB), E820_RAM]);
    expect([view.getBigUint64(20, true), view.getBigUint64(28, true)]).toEqual([4n * BigInt(GiB), 2n * BigInt(GiB)]);
  });

  it('replacing a file keeps its selector and updates the directory size', () => {
    const { fw, select, bytes, be } = setup();
    fw.addFile('etc/x', new Uint8Array(3));
    expect(fw.addFile('etc/x', new Uint8Array(7))).toBe(0x20);
    select(FW_CFG_FILE_DIR);
    expect(be(bytes(4))).toBe(1);
    expect(be(bytes(4))).toBe(7);
    expect(() => fw.addFile('x'.repeat(56), new Uint8Array(1))).toThrow();
  });

  it('rep insb reads the same bytes as single reads and pads with zeros', () => {
    const { fw, select } = setup();
    select(0x0000);
    expect(Array.from(fw.ioReadString(0x511, 1, 6, 0))).toEqual([0x51, 0x45, 0x4d, 0x55, 0, 0]);
    select(0x0000);
    fw.ioRead(0x511, 1, 0);
    expect(Array.from(fw.ioReadString(0x511, 1, 2, 0))).toEqual([0x45, 0x4d]);
  });

  it('direct boot items', () => {
    const { fw, select, bytes, le } = setup();
    fw.setDirectBoot({ kernel: new Uint8Array([1, 2, 3]), kernelAddr: 0x100000, cmdline: 'console=ttyS0' });
    select(FW_CFG_KERNEL_SIZE);
    expect(le(bytes(4))).toBe(3);
    select(FW_CFG_CMDLINE_SIZE);
    expect(le(bytes(4))).toBe(14);
    select(FW_CFG_CMDLINE_DATA);
    expect(String.fromCharCode(...bytes(14))).toBe('console=ttyS0\0');
  });

  it('byte writes to the selector, reads of it and wide data reads are counted no-ops', () => {
    const { fw, select, bytes } = setup();
    select(0x0000);
    fw.ioWrite(0x510, 1, 0x05, 0);
    expect(fw.ioRead(0x510, 2, 0)).toBe(0xffff);
    expect(fw.ioRead(0x511, 4, 0)).toBe(0xffffffff);
    expect(bytes(1)).toEqual([0x51]);
    fw.ioWrite(0x511, 1, 0x99, 0); // ignored data write
    expect(bytes(1)).toEqual([0x45]);
    expect(fw.counters).toMatchObject({ badWidth: 2, unknownRegister: 1 });
  });

  it('save/restore contract: selector and offset', () => {
    const { fw, select, bytes } = setup();
    select(0x0000);
    bytes(1);
    expect(checkSaveRestore(fw, (m) => m.ioRead(0x511, 1, 0))).toBeNull();
    expect(bytes(1)).toEqual([0x45]);
  });

  it('refuses state whose selected item is not this configuration', () => {
    const a = setup();
    a.fw.addFile('etc/e820', new Uint8Array(20));
    a.select(0x20);
    const saved = a.fw.saveState();
    const b = setup();
    expect(() => b.fw.loadState(saved)).toThrow(DeviceStateError);
    expect(() => b.fw.loadState({ ...saved, offset: -1 })).toThrow(DeviceStateError);
    b.fw.addFile('etc/e820', new Uint8Array(20));
    b.fw.loadState(saved);
    expect(b.fw.saveState()).toEqual(saved);
  });
});
