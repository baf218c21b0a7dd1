import { describe, expect, it } from 'vitest';
import { LocalDma, type DmaChannelNow, type DmaCommandAhead } from '../src/index.js';

/** A device's DMA predictions as the vCPU takes them (proto CommandAhead.dma): nonsense is refused, not trusted. */
const channel: DmaChannelNow = { commandBase: 0x1f0, controlPort: 0x3f6, busMasterBase: 0xc000, bmCommand: 0x09, bmStatus: 0x04, prdAddress: 0x7800, status: 0x50 };
const read = (over: Partial<DmaCommandAhead> = {}): DmaCommandAhead => ({
  command: 0xc8, registers: [128, 128, 0, 0, 0xe0], toMemory: true, byteLength: 65536, statusDuring: 0x58, statusAfter: 0x50, ...over,
});
const data = new Uint8Array(65536);

describe('LocalDma.from refuses predictions that make no sense', () => {
  it('takes a well-formed one', () => {
    expect(LocalDma.from(channel, [read()], data)).not.toBeNull();
    expect(LocalDma.from(channel, [read({ toMemory: false, command: 0xca })], new Uint8Array(0))).not.toBeNull();
  });

  it.each([
    ['no channel', null, [read()], data],
    ['no commands', channel, [], data],
    ['data shorter than the reads', channel, [read()], new Uint8Array(512)],
    ['data for a write', channel, [read({ toMemory: false })], data],
    ['a register beyond a byte', channel, [read({ registers: [128, 256, 0, 0, 0xe0] })], data],
    ['six registers', channel, [read({ registers: [1, 2, 3, 4, 5, 6] })], data],
    ['an empty transfer', channel, [read({ byteLength: 0 })], new Uint8Array(0)],
    ['a transfer beyond 65536 sectors', channel, [read({ byteLength: 65537 * 512 })], new Uint8Array(65537 * 512)],
    ['a write beyond 2 MiB (its buffers would not all reach the device)', channel, [read({ toMemory: false, command: 0xca, byteLength: (2 << 20) + 512 })], new Uint8Array(0)],
    ['a status beyond a byte', channel, [read({ statusAfter: 0x150 })], data],
    ['a PRD address not dword aligned', { ...channel, prdAddress: 0x7802 }, [read()], data],
    ['a port beyond 64 Ki', { ...channel, busMasterBase: 0xfffc }, [read()], data],
    ['the bus master over the command block', { ...channel, busMasterBase: 0x1f4 }, [read()], data],
    ['Device Control inside the command block', { ...channel, controlPort: 0x1f7 }, [read()], data],
  ] as Array<[string, DmaChannelNow | null, DmaCommandAhead[], Uint8Array]>)('refuses %s', (_what, ch, commands, bytes) => {
    expect(LocalDma.from(ch, commands, bytes)).toBeNull();
  });

  it('answers only what it follows: the drive Status until the task file is written, the bus master; anything else ends it', () => {
    const d = LocalDma.from(channel, [read()], data)!;
    expect(d.read(0x1f7, 1)).toEqual({ value: 0x50, consumed: true });
    expect(d.read(0x3f6, 1)).toEqual({ value: 0x50, consumed: false });
    expect(d.read(0xc002, 1)).toEqual({ value: 0x04, consumed: false });
    expect(d.read(0x1f7, 2)).toBeNull();
    expect(d.read(0x1f1, 1)).toBeNull(); // Error: the device's to answer
    expect(d.write(0x1f2, 1, 128)).toBe('post');
    expect(d.read(0x1f7, 1)).toBeNull(); // the task file changed: the device knows
    expect(d.write(0x3f6, 1, 0x02)).toBe('drop'); // Device Control
    const e = LocalDma.from(channel, [read()], data)!;
    expect(e.write(0xc000, 1, 0x09)).toBe('post'); // START without the predicted command: not a start
    expect(e.write(0xc000, 1, 0x08)).toBe('post');
    expect(e.write(0xc000, 1, 0x09)).toBe('drop');
    expect(LocalDma.from(channel, [read()], data)!.write(0x1f0, 2, 0)).toBe('drop'); // data port
  });

  it('extend (proto DmaMore): appends well-formed commands after those held, each with its own data; refuses nonsense and keeps what it held', () => {
    const d = LocalDma.from(channel, [read()], data)!;
    expect(d.extend([], new Uint8Array(0))).toBe(false);
    expect(d.extend([read()], new Uint8Array(512))).toBe(false); // data shorter than the reads
    expect(d.extend([read({ registers: [1, 2, 3] })], data)).toBe(false);
    expect(d.queued).toBe(1);
    const second = new Uint8Array(65536).fill(7);
    expect(d.extend([read({ registers: [128, 0, 1, 0, 0xe0] })], second)).toBe(true);
    expect(d.queued).toBe(2);
    // The first command, then the second: the data each carries lands in guest RAM.
    const ram = new Uint8Array(0x20000);
    new DataView(ram.buffer).setUint32(0x7800, 0x10000, true);
    new DataView(ram.buffer).setUint32(0x7804, 0x8000_0000, true); // 64 KiB, end of table
    const memory = { bytes: ram.length, read: (a: number, n: number) => ram.slice(a, a + n), write: (a: number, b: Uint8Array) => ram.set(b, a) };
    const issue = (regs: number[]) => {
      expect(d.write(0xc000, 1, 0x08)).toBe('post');
      regs.forEach((v, i) => expect(d.write(0x1f2 + i, 1, v)).toBe('post'));
      expect(d.write(0x1f7, 1, 0xc8)).toBe('post');
      expect(d.write(0xc000, 1, 0x09)).toBe('start');
      expect(d.serve(memory, 0x09)).not.toBeNull();
    };
    ram.fill(1, 0x10000);
    issue([128, 128, 0, 0, 0xe0]);
    expect(ram[0x10000]).toBe(0);
    issue([128, 0, 1, 0, 0xe0]);
    expect(ram[0x10000]).toBe(7);
    expect(d.queued).toBe(0);
  });

  it('serve says when the command was the last one of its reply to use the reply\'s read data (dataDone: the vCPU may reuse its buffer)', () => {
    const both = new Uint8Array(2 * 65536).fill(3);
    const d = LocalDma.from(channel, [read(), read({ registers: [128, 0, 1, 0, 0xe0] })], both)!;
    const ram = new Uint8Array(0x20000);
    new DataView(ram.buffer).setUint32(0x7800, 0x10000, true);
    new DataView(ram.buffer).setUint32(0x7804, 0x8000_0000, true);
    const memory = { bytes: ram.length, read: (a: number, n: number) => ram.slice(a, a + n), write: (a: number, b: Uint8Array) => ram.set(b, a) };
    const serve = (regs: number[]) => {
      d.write(0xc000, 1, 0x08);
      regs.forEach((v, i) => d.write(0x1f2 + i, 1, v));
      d.write(0x1f7, 1, 0xc8);
      expect(d.write(0xc000, 1, 0x09)).toBe('start');
      return d.serve(memory, 0x09)!;
    };
    expect(serve([128, 128, 0, 0, 0xe0]).dataDone).toBeNull();
    expect(serve([128, 0, 1, 0, 0xe0]).dataDone).toBe(both);
  });
});
