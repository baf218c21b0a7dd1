import { describe, expect, it } from 'vitest';
import { LocalDma } from '@quasivm/device-sdk';
import { AtaController, DEFAULT_BUS_MASTER_BASE } from '../src/ide-controller.js';
import { MemoryBlockDevice } from '../src/storage/block-device.js';
import { FakeHost, patternSectors } from './helpers.js';
import { predictDma } from '../src/dma-prediction.js';

/**
 * DMA commands a vCPU carries out itself (proto CommandAhead.dma, DmaServed), against the model
 * alone: two identical machines run the same driver; one sends every access to the model (the
 * DMA moving guest memory through its host), the other follows the model's predictions as the
 * fast-lane proxy does (LocalDma answers the reads it can, serves the START writes it can, and
 * reports them as snapshots and DmaServed). Every value the guest reads, guest memory, the disk
 * and the model's saved state must be the same; the served commands must move no memory through
 * the host.
 */
const BM = DEFAULT_BUS_MASTER_BASE;
const SECTORS = 4096;
const MEM = 1 << 20;

interface Io {
  read(port: number, size: 1 | 2 | 4): Promise<number>;
  write(port: number, size: 1 | 2 | 4, value: number): Promise<void>;
}

function machine() {
  const host = new FakeHost(MEM);
  const disk = new MemoryBlockDevice(patternSectors(0, SECTORS));
  const ide = new AtaController(host, { drives: [{ kind: 'disk', image: disk }, null, null, null], busMasterBase: BM });
  return { host, disk, ide };
}

/** The model alone: a START's transfer runs before the next access (the fast lane holds it until the model is not busy). */
function plain(m: ReturnType<typeof machine>): Io {
  return {
    read: async (port, size) => m.ide.ioRead(port, size, 0),
    write: async (port, size, value) => {
      m.ide.ioWrite(port, size, value, 0);
      await m.ide.whenIdle();
    },
  };
}

/**
 * The model behind a vCPU that carries out predicted DMA commands (remote-io-bridge.ts's logic).
 * `more`: offers of at most `more.bytes` (reads' data), and after each served command the next
 * ones asked for with DmaMore (the device applies it right after the DmaServed), added once those
 * held are used up.
 */
function ahead(m: ReturnType<typeof machine>, stats: { served: number; local: number; extended: number }, more?: { bytes: number }): Io {
  let dma: LocalDma | null = null;
  let pending: { dma: LocalDma; reply: ReturnType<AtaController['dmaMore']> } | null = null;
  const maxBytes = more?.bytes ?? 8 << 20;
  const memory = { bytes: MEM, read: (a: number, n: number) => m.host.memory.slice(a, a + n), write: (a: number, d: Uint8Array) => m.host.memory.set(d, a) };
  return {
    read: async (port, size) => {
      const a = dma?.read(port, size) ?? null;
      if (a) {
        stats.local++;
        if (a.consumed) m.ide.ioRead(port, size, 0); // posted as Consumed: applied as the read it was
        return a.value;
      }
      dma = null;
      const v = m.ide.ioRead(port, size, 0);
      const offer = m.ide.accessAhead(port, 64 * 1024, { dmaMaxBytes: maxBytes });
      dma = offer?.dma ? LocalDma.from(offer.dma.channel, offer.dma.commands, offer.dma.data) : null;
      return v;
    },
    write: async (port, size, value) => {
      if (pending && (pending.dma !== dma || dma.queued === 0)) {
        if (pending.dma === dma && pending.reply?.commands.length && dma.extend(pending.reply.commands, pending.reply.data)) stats.extended++;
        pending = null;
      }
      const r = dma?.write(port, size, value) ?? 'drop';
      if (r === 'start') {
        const before = [m.host.memoryReads, m.host.memoryWrites];
        const served = dma!.serve(memory, value);
        if (served) {
          stats.served++;
          m.ide.memorySnapshot(port, served.table.addr, served.table.data);
          for (const reg of served.regions) m.ide.memorySnapshot(port, reg.addr, reg.data.slice());
          m.ide.dmaServed(port, size, value, served.byteLength, 0);
          expect(m.ide.busy()).toBeNull(); // ended within the write: the lane goes on at once
          expect([m.host.memoryReads, m.host.memoryWrites]).toEqual(before);
          if (more && !pending) {
            const state = JSON.stringify(m.ide.saveState());
            pending = { dma: dma!, reply: m.ide.dmaMore(port, dma!.queued, maxBytes) };
            expect(JSON.stringify(m.ide.saveState())).toBe(state); // asking changes nothing
          }
          return;
        }
      }
      if (r !== 'post') dma = null;
      m.ide.ioWrite(port, size, value, 0);
      await m.ide.whenIdle();
    },
  };
}

/** Writes a PRD table: [address, bytes (0 = 64 KiB), end of table] entries. */
function prdTable(mem: Uint8Array, at: number, entries: Array<[number, number, boolean]>): void {
  const v = new DataView(mem.buffer);
  entries.forEach(([addr, bytes, eot], i) => {
    v.setUint32(at + i * 8, addr, true);
    v.setUint32(at + i * 8 + 4, ((bytes & 0xfffe) | (eot ? 0x8000_0000 : 0)) >>> 0, true);
  });
}

/** `keepStarted`: the guest neither stops the bus master after this command nor rewrites its command register before the next. */
type Step = { lba: number; sectors: number; write: boolean; ext: boolean; keepStarted?: boolean };

/**
 * A driver moving `steps` through the bus master the way ide-speed does (bus-master set-up,
 * Status poll, task file, command, START, bus-master status poll, stop, Status), or, with
 * `linux`, in libata's order (task file and command first, Alternate Status, then START; in
 * the "interrupt" the bus-master status, stop, Status, and INTERRUPT cleared). Returns every
 * value the guest read.
 */
async function drive(io: Io, mem: Uint8Array, steps: Step[], table: number, linux: boolean, disturb?: (i: number) => Promise<void>): Promise<number[]> {
  const seen: number[] = [];
  const rd = async (port: number, size: 1 | 2 | 4 = 1) => {
    const v = await io.read(port, size);
    seen.push(v);
    return v;
  };
  for (const [i, s] of steps.entries()) {
    await disturb?.(i);
    const dir = s.write ? 0 : 0x08;
    if (s.write) for (let k = 0; k < s.sectors; k += 128) mem.set(Uint8Array.of(i, k & 0xff, 0x5a, 0xa5), 0x10000 + k * 512); // the guest's data
    const taskFile = async () => {
      if (s.ext) {
        await io.write(0x1f6, 1, 0x40);
        await io.write(0x1f2, 1, (s.sectors >> 8) & 0xff);
        await io.write(0x1f2, 1, s.sectors & 0xff);
        await io.write(0x1f3, 1, (s.lba >>> 24) & 0xff);
        await io.write(0x1f4, 1, 0);
        await io.write(0x1f5, 1, 0);
        await io.write(0x1f3, 1, s.lba & 0xff);
        await io.write(0x1f4, 1, (s.lba >> 8) & 0xff);
        await io.write(0x1f5, 1, (s.lba >> 16) & 0xff);
        await io.write(0x1f7, 1, s.write ? 0x35 : 0x25);
      } else {
        await io.write(0x1f6, 1, 0xe0 | ((s.lba >>> 24) & 0x0f));
        await io.write(0x1f2, 1, s.sectors & 0xff);
        await io.write(0x1f3, 1, s.lba & 0xff);
        await io.write(0x1f4, 1, (s.lba >> 8) & 0xff);
        await io.write(0x1f5, 1, (s.lba >> 16) & 0xff);
        await io.write(0x1f7, 1, s.write ? 0xca : 0xc8);
      }
    };
    if (linux) {
      await io.write(BM + 4, 4, table);
      await io.write(BM, 1, dir);
      await taskFile();
      await rd(0x3f6); // ata_sff_pause
      await io.write(BM, 1, dir | 1);
      const st = await rd(BM + 2);
      await io.write(BM, 1, dir);
      await rd(0x3f6);
      await rd(0x1f7);
      await io.write(BM + 2, 1, st & 0x06); // clear INTERRUPT/ERROR as read
    } else {
      if (!steps[i - 1]?.keepStarted) await io.write(BM, 1, dir);
      await io.write(BM + 4, 4, table);
      await io.write(BM + 2, 1, 0x06);
      while ((await rd(0x1f7)) & 0x80);
      await taskFile();
      await io.write(BM, 1, dir | 1);
      for (let n = 0; n < 100 && !((await rd(BM + 2)) & 0x04); n++); // bounded: a wrong answer must not hang the test
      if (!s.keepStarted) await io.write(BM, 1, dir);
      while ((await rd(0x1f7)) & 0x80);
    }
    await rd(BM);
    await rd(BM + 2);
  }
  return seen;
}

async function compare(steps: Step[], entries: Array<[number, number, boolean]>, linux: boolean, disturb?: (io: Io, i: number) => Promise<void>, more?: { bytes: number }) {
  const a = machine();
  const b = machine();
  for (const m of [a, b]) {
    m.ide.pciConfigWrite(0, 0x04, 2, 0x05); // I/O decode and bus mastering on
    prdTable(m.host.memory, 0x7800, entries);
  }
  const stats = { served: 0, local: 0, extended: 0 };
  const ioA = plain(a);
  const ioB = ahead(b, stats, more);
  const seenA = await drive(ioA, a.host.memory, steps, 0x7800, linux, disturb && ((i) => disturb(ioA, i)));
  const seenB = await drive(ioB, b.host.memory, steps, 0x7800, linux, disturb && ((i) => disturb(ioB, i)));
  expect(seenB).toEqual(seenA);
  expect(Buffer.compare(Buffer.from(b.host.memory), Buffer.from(a.host.memory))).toBe(0);
  expect(Buffer.compare(Buffer.from(b.disk.read(0, SECTORS)), Buffer.from(a.disk.read(0, SECTORS)))).toBe(0);
  expect(b.ide.saveState()).toEqual(a.ide.saveState());
  expect(b.host.level(14)).toBe(a.host.level(14));
  return stats;
}

const run = (first: number, sectors: number, n: number, write: boolean, ext = false): Step[] =>
  Array.from({ length: n }, (_, i) => ({ lba: first + i * sectors, sectors, write, ext }));
const one64k: Array<[number, number, boolean]> = [[0x10000, 0, true]];
const eight64k: Array<[number, number, boolean]> = Array.from({ length: 8 }, (_, i) => [0x10000 * (i + 1), 0, i === 7] as [number, number, boolean]);

describe('DMA commands carried out by the vCPU read, write and leave the model exactly as the model alone does', () => {
  it('sequential READ DMA of 64 KiB (one PRD entry), as ide-speed polls: served after the first', async () => {
    const s = await compare(run(0, 128, 6, false), one64k, false);
    expect(s.served).toBe(5);
    expect(s.local).toBeGreaterThan(10);
  });

  it('sequential WRITE DMA of 64 KiB with the write cache on: the image gets what the guest wrote', async () => {
    const s = await compare(run(128, 128, 6, true), one64k, false);
    expect(s.served).toBe(5);
  });

  it('READ/WRITE DMA EXT of 512 KiB through eight entries (48-bit registers, each written twice), in libata order', async () => {
    expect((await compare(run(0, 1024, 3, false, true), eight64k, true)).served).toBe(2);
    expect((await compare(run(1024, 1024, 3, true, true), eight64k, true)).served).toBe(2);
  });

  it('a table that describes more than the command moves (ACTIVE stays set), and one that ends exactly without end-of-table', async () => {
    // 32 KiB + 64 KiB for a 32 KiB command: the bus master leaves ACTIVE set (SFF-8038i 2.1.2).
    expect((await compare(run(0, 64, 4, false), [[0x10000, 0x8000, false], [0x30000, 0, true]], false)).served).toBe(3);
    // exactly 64 KiB in two entries without EOT: the next (junk) entry says the table is longer.
    expect((await compare(run(0, 128, 4, false), [[0x10000, 0x8000, false], [0x18000, 0x8000, false], [0x40000, 0x200, true]], true)).served).toBe(3);
  });

  it('DmaMore: the commands after those the vCPU holds, asked for after each served one, continue the run where they end', async () => {
    // Offers of two READ DMAs' data: 12 commands need the first offer and five extensions.
    const reads = await compare(run(0, 128, 12, false), one64k, false, undefined, { bytes: 128 << 10 });
    expect(reads).toMatchObject({ served: 11, extended: 5 });
    // READ DMA EXT of 512 KiB, one per offer, to the disk's end (4096 sectors).
    const ext = await compare(run(0, 1024, 4, false, true), eight64k, true, undefined, { bytes: 512 << 10 });
    expect(ext).toMatchObject({ served: 3, extended: 2 });
    // Writes carry no data: one extension predicts as many as fit the disk (up to 256).
    const writes = await compare(run(128, 128, 8, true), one64k, false, undefined, { bytes: 128 << 10 });
    expect(writes).toMatchObject({ served: 7 });
    // A jump in LBA drops the predictions and their extension; the run after it is served again.
    const steps = run(0, 128, 10, false);
    for (const [i, st] of steps.entries()) if (i >= 5) st.lba = 2048 + (i - 5) * 128;
    expect(await compare(steps, one64k, false, undefined, { bytes: 128 << 10 })).toMatchObject({ served: 8 });
  });

  it('DmaMore right after the read whose reply predicted the run, several in a row: each continues where the ones before end, changing nothing, until the next command', async () => {
    const m = machine();
    m.ide.pciConfigWrite(0, 0x04, 2, 0x05);
    prdTable(m.host.memory, 0x7800, one64k);
    // One READ DMA of 128 sectors at LBA 0 through the model, then the poll that sees it done.
    await drive(plain(m), m.host.memory, run(0, 128, 1, false), 0x7800, false);
    const offer = m.ide.accessAhead(BM + 2, 64 * 1024, { dmaMaxBytes: 1 << 20, dmaFirstBytes: 256 << 10 });
    expect(offer?.dma?.commands.length).toBe(4); // commands 1-4 (LBA 128...)
    const state = JSON.stringify(m.ide.saveState());
    const lbaOf = (r: number[]) => r[1] | (r[2] << 8) | (r[3] << 16);
    const a = m.ide.dmaMore(BM, 4, 256 << 10)!;
    const b = m.ide.dmaMore(BM, 8, 256 << 10)!;
    expect(a.commands.map((c) => lbaOf(c.registers))).toEqual([5, 6, 7, 8].map((i) => i * 128));
    expect(b.commands.map((c) => lbaOf(c.registers))).toEqual([9, 10, 11, 12].map((i) => i * 128));
    expect(Buffer.from(b.data).equals(Buffer.from(m.disk.read(9 * 128, 4 * 128)))).toBe(true);
    expect(JSON.stringify(m.ide.saveState())).toBe(state);
    // A read's reply offers them once; only DmaMore asks again.
    expect(m.ide.accessAhead(BM + 2, 64 * 1024, { dmaMaxBytes: 1 << 20 })?.dma).toBeUndefined();
    // The next command ends it.
    m.ide.ioWrite(0x1f7, 1, 0xc8, 0);
    expect(m.ide.dmaMore(BM, 0, 1 << 20)).toBeNull();
  });

  it('DmaMore past the end of the disk, or not right after a served command, predicts nothing', () => {
    const m = machine();
    m.ide.pciConfigWrite(0, 0x04, 2, 0x05);
    expect(m.ide.dmaMore(BM, 0, 1 << 20)).toBeNull(); // no command completed
    expect(m.ide.dmaMore(0x1f7, 0, 1 << 20)).toBeNull(); // not a bus master's command register
  });

  it('what it cannot follow goes to the model: another LBA, nIEN, a table too short for the command', async () => {
    // A jump in LBA at the third command, nIEN set before the fifth: those are not served.
    const steps = run(0, 128, 6, false);
    steps[2].lba = 2048;
    const s = await compare(steps, one64k, false, async (io, i) => {
      if (i === 4) await io.write(0x3f6, 1, 0x02);
    });
    expect(s.served).toBe(2);
    // START left set from the command before: the model starts the transfer at the command write itself.
    const started = run(0, 128, 4, false);
    started[1].keepStarted = true;
    expect((await compare(started, one64k, false)).served).toBe(2);
    // 16 KiB described for a 64 KiB command: the model fails it (ERROR), the vCPU never serves it.
    expect((await compare(run(0, 128, 3, false), [[0x10000, 0x4000, true]], false)).served).toBe(0);
  });
});

describe('the first predictions stop early when asked (proto Read.dma_ahead_first)', () => {
  const disk = new MemoryBlockDevice(patternSectors(0, 1 << 16));
  const read = (sectors: number, lba = 0) => ({ command: 0xc8, toMemory: true, ext: false, count: sectors & 0xff, device: 0xe0, lba, sectors });

  it('reads stop once their data holds firstBytes, with at least one command; their data is the disk after the done one', () => {
    const p = predictDma(read(128), disk, 8 << 20, true, 0, 1 << 20);
    expect(p.commands).toHaveLength(16);
    expect(Buffer.from(p.data).equals(Buffer.from(disk.read(128, 16 * 128)))).toBe(true);
    expect(predictDma(read(128), disk, 8 << 20, true, 0, 100 * 1024).commands).toHaveLength(2); // 64 KiB < 100 KiB: one more
    expect(predictDma(read(4096), disk, 8 << 20, true, 0, 1 << 20).commands).toHaveLength(1); // a 2 MiB command still comes
    expect(predictDma(read(128), disk, 8 << 20, true, 0, 0).commands).toHaveLength(128); // 0: only maxBytes bounds them
  });

  it('writes carry no data: firstBytes does not bound them', () => {
    const write = { ...read(128), command: 0xca, toMemory: false };
    expect(predictDma(write, disk, 8 << 20, true, 0, 1 << 20).commands).toHaveLength(256);
  });
});
