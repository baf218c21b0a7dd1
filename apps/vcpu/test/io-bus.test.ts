import { describe, expect, test } from 'vitest';
import { IoBus, type IoHandler } from '../src/io-bus.js';

function recorder(): IoHandler & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    ioRead: (port, size) => {
      log.push(`r ${port.toString(16)}/${size}`);
      return port & 0xff;
    },
    ioWrite: (port, size, value) => void log.push(`w ${port.toString(16)}/${size}=${value.toString(16)}`),
  };
}

describe('IoBus', () => {
  test('dispatches claimed ports to their handler', () => {
    const bus = new IoBus();
    const uart = recorder();
    bus.insert(uart, 0x3f8, 8, 'uart');
    expect(bus.read(0x3fd, 1, 0)).toBe(0xfd);
    bus.write(0x3f8, 1, 0x41, 0);
    expect(uart.log).toEqual(['r 3fd/1', 'w 3f8/1=41']);
    expect(bus.accessCounts.get('uart')).toEqual({ reads: 1, writes: 1 });
  });

  test('unclaimed ports read all ones for the width, ignore writes, and are counted per port', () => {
    const bus = new IoBus();
    expect(bus.read(0x1234, 1, 0)).toBe(0xff);
    expect(bus.read(0x1234, 2, 0)).toBe(0xffff);
    expect(bus.read(0x99, 4, 0)).toBe(0xffffffff);
    bus.write(0x99, 1, 0, 0);
    expect(bus.unclaimedReads.get(0x1234)).toBe(2);
    expect(bus.unclaimedWrites.get(0x99)).toBe(1);
  });

  test('zero-length, overflowing and overlapping ranges are refused at insert', () => {
    const bus = new IoBus();
    bus.insert(recorder(), 0x40, 4, 'pit');
    expect(() => bus.insert(recorder(), 0x60, 0, 'kbd')).toThrow(/positive/);
    expect(() => bus.insert(recorder(), 0xfffe, 4, 'edge')).toThrow(/overflows/);
    expect(() => bus.insert(recorder(), 0x43, 2, 'clash')).toThrow(/overlap pit/);
    expect(bus.describe()).toEqual([{ name: 'pit', base: 0x40, length: 4 }]);
  });

  test('string I/O goes to the handler in one call when it can, else is unrolled once', async () => {
    const bus = new IoBus();
    const calls: number[] = [];
    bus.insert({ ioRead: () => 0xabcd, ioWrite: () => {}, ioReadString: (_p, size, count) => (calls.push(count), new Uint8Array(size * count).fill(7)) }, 0x1f0, 8, 'ide');
    bus.insert(recorder(), 0x80, 1, 'post');
    expect((bus.readString(0x1f0, 2, 256, 0) as Uint8Array).length).toBe(512);
    expect(calls).toEqual([256]);
    expect([...(bus.readString(0x80, 2, 2, 0) as Uint8Array)]).toEqual([0x80, 0, 0x80, 0]);
  });

  test('a remote handler answers reads with a promise', async () => {
    const bus = new IoBus();
    bus.insert({ ioRead: async () => 0x5a, ioWrite: () => {} }, 0x1ce, 2, 'vga-dispi');
    expect(await bus.read(0x1cf, 2, 0)).toBe(0x5a);
    expect(await bus.readString(0x1cf, 1, 3, 0)).toEqual(new Uint8Array([0x5a, 0x5a, 0x5a]));
  });

  test('a device can be removed and its ports inserted again (swap to another endpoint)', () => {
    const bus = new IoBus();
    bus.insert(recorder(), 0x1f0, 8, 'ide');
    bus.remove('ide');
    expect(bus.owner(0x1f0)).toBeUndefined();
    bus.insert(recorder(), 0x1f0, 8, 'ide');
    expect(bus.owner(0x1f7)).toBe('ide');
  });
});
