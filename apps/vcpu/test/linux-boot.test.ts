import { expect, test } from 'vitest';
import { BOOT_PARAMS_ADDR, CMDLINE_ADDR, KERNEL_LOAD_ADDR, loadLinux, parseBzImage } from '../src/machine/linux-boot.js';

/** A synthetic bzImage: boot flag, "HdrS" v2.12, LOADED_HIGH, 4 setup sectors, a payload. */
function fakeBzImage(payload: number[]): Uint8Array {
  const k = new Uint8Array(5 * 512 + payload.length);
  k[0x1f1] = 4;
  k[0x1fe] = 0x55;
  k[0x1ff] = 0xaa;
  k[0x201] = 0x66; // header runs to 0x268
  k.set([0x48, 0x64, 0x72, 0x53], 0x202);
  k[0x206] = 0x0c;
  k[0x207] = 0x02;
  k[0x211] = 0x01;
  k.set([0xff, 0xff, 0xff, 0x37], 0x22c); // initrd_addr_max 0x37ffffff
  k.set([0xff, 0x07, 0, 0], 0x238); // cmdline_size 2047
  k.set(payload, 5 * 512);
  return k;
}

test('a bzImage is laid out as the 32-bit boot protocol says', () => {
  const ram = new Uint8Array(64 << 20);
  const entry = loadLinux(ram, { kernel: fakeBzImage([0xde, 0xad, 0xbe, 0xef]), initrd: new Uint8Array([1, 2, 3]), cmdline: 'console=ttyS0', ramBytes: ram.length });
  expect([...ram.subarray(KERNEL_LOAD_ADDR, KERNEL_LOAD_ADDR + 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
  expect(new TextDecoder().decode(ram.subarray(CMDLINE_ADDR, CMDLINE_ADDR + 13))).toBe('console=ttyS0');
  const bp = new DataView(ram.buffer, BOOT_PARAMS_ADDR, 4096);
  expect(bp.getUint32(0x202, true)).toBe(0x53726448); // the header was copied
  expect(bp.getUint8(0x210)).toBe(0xff); // type_of_loader
  expect(bp.getUint32(0x228, true)).toBe(CMDLINE_ADDR);
  const initrdAddr = bp.getUint32(0x218, true);
  expect(bp.getUint32(0x21c, true)).toBe(3);
  expect([...ram.subarray(initrdAddr, initrdAddr + 3)]).toEqual([1, 2, 3]);
  expect(initrdAddr % 4096).toBe(0);
  expect(bp.getUint8(0x1e8)).toBe(3); // e820 entries
  expect(Number(bp.getBigUint64(0x2d0 + 40 + 8, true))).toBe((64 << 20) - 0x100000);
  expect(entry).toMatchObject({ eip: 0x100000, esi: BOOT_PARAMS_ADDR, codeSelector: 0x10, dataSelector: 0x18 });
});

test('things that are not a usable bzImage are refused clearly', () => {
  expect(() => parseBzImage(new Uint8Array(100))).toThrow(/too small/);
  expect(() => parseBzImage(new Uint8Array(8192))).toThrow(/not a bzImage/);
  const ram = new Uint8Array(2 << 20);
  expect(() => loadLinux(ram, { kernel: fakeBzImage(new Array(3 << 20).fill(0)), ramBytes: ram.length })).toThrow(/does not fit/);
  expect(() => loadLinux(new Uint8Array(64 << 20), { kernel: fakeBzImage([0]), cmdline: 'x'.repeat(5000), ramBytes: 64 << 20 })).toThrow(/command line/);
});
