import { expect, test } from 'vitest';
import { EDI, ECX, EDX } from '../src/registers.js';
import { machineWith, DATA_SEGMENT } from './support/machine.js';

/** rep insw (F3 6D) / rep outsw (F3 6F) with a bus that can move a block in one call. */
function withStringBus(code: number[]) {
  const m = machineWith(code);
  const calls: string[] = [];
  let next = 0;
  Object.assign(m.bus, {
    ioReadString(port: number, size: number, count: number) {
      calls.push(`in ${port.toString(16)} ${size}x${count}`);
      const out = new Uint8Array(size * count);
      for (let i = 0; i < out.length; i++) out[i] = next++ & 0xff;
      return out;
    },
    ioWriteString(port: number, size: number, data: Uint8Array) {
      calls.push(`out ${port.toString(16)} ${size}x${data.length / size} first=${data[0]}`);
    },
  });
  return { ...m, calls };
}

test('rep insw moves a block per page through the bus in one transfer, into the right memory', () => {
  const m = withStringBus([0xf3, 0x6d]);
  m.cpu.reg16[EDX << 1] = 0x1f0;
  m.cpu.reg16[ECX << 1] = 256; // one sector
  m.cpu.reg16[EDI << 1] = 0xf00; // crosses a page boundary 256 bytes in
  m.cpu.step();
  expect(m.calls).toEqual(['in 1f0 2x128', 'in 1f0 2x128']);
  const base = DATA_SEGMENT * 16 + 0xf00;
  expect([...m.bus.ram.subarray(base, base + 4)]).toEqual([0, 1, 2, 3]);
  expect(m.bus.ram[base + 511]).toBe(511 & 0xff);
  expect(m.cpu.reg16[ECX << 1]).toBe(0);
  expect(m.cpu.reg16[EDI << 1]).toBe(0x1100);
});

test('rep outsw sends the memory block in one transfer per page', () => {
  const m = withStringBus([0xf3, 0x6f]);
  m.bus.ram[DATA_SEGMENT * 16 + 0x100] = 0x42;
  m.cpu.reg16[EDX << 1] = 0x1f0;
  m.cpu.reg16[ECX << 1] = 256;
  m.cpu.reg16[6 << 1] = 0x100; // SI
  m.cpu.step();
  expect(m.calls).toEqual(['out 1f0 2x256 first=66']);
  expect(m.cpu.reg16[ECX << 1]).toBe(0);
});
