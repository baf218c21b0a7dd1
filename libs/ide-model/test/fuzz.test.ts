import { describe, expect, it } from 'vitest';
import { LocalDma, type AccessAhead, type AccessSize, type CommandAhead, type DeviceHost, type DmaChannelNow, type DmaCommandAhead } from '@quasivm/device-sdk';
import { AtaController, DEFAULT_BUS_MASTER_BASE } from '../src/ide-controller.js';
import { checkRange, MemoryBlockDevice, type BlockDevice } from '../src/storage/block-device.js';

/** A block device that records any access outside its sectors instead of trusting callers. */
class GuardedDisk implements BlockDevice {
  violations: string[] = [];
  reads = 0;
  writes = 0;
  constructor(private readonly inner: MemoryBlockDevice) {}
  get sectorCount() {
    return this.inner.sectorCount;
  }
  get readOnly() {
    return this.inner.readOnly;
  }
  private guard(lba: number, count: number): void {
    try {
      checkRange(this, lba, count);
    } catch (e) {
      this.violations.push((e as Error).message);
      throw e;
    }
  }
  read(lba: number, count: number): Uint8Array {
    this.guard(lba, count);
    this.reads++;
    return this.inner.read(lba, count);
  }
  write(lba: number, data: Uint8Array | readonly Uint8Array[]): void {
    const length = data instanceof Uint8Array ? data.length : data.reduce((n, p) => n + p.length, 0);
    if (length % 512 !== 0) this.violations.push(`partial write of ${length} bytes`);
    this.guard(lba, length / 512);
    this.writes++;
    this.inner.write(lba, data);
  }
  flush(): void {}
  close(): void {}
}

const MEMORY = 1 << 20;
const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * Guest memory of MEMORY bytes that checks every DMA request the model makes. Requests
 * beyond the memory are refused with an error, as the vCPU answers a MemoryRequest it
 * cannot serve. A violation is a request the guest did not ask for:
 *   - any write not described by a PRD entry the model was served (base and byte count),
 *   - a request reaching past the end of memory or past 4 GiB that no PRD entry describes
 *     (the PRD table itself is read only up to its page end, so it never needs to),
 *   - an empty, fractional, negative or over-64-KiB request.
 */
class GuardedHost implements DeviceHost {
  readonly memory = new Uint8Array(MEMORY);
  violations: string[] = [];
  memoryReads = 0;
  memoryWrites = 0;
  refused = 0;
  /** Every PRD entry the guest's memory has shown the model: base -> largest byte count. */
  private readonly named = new Map<number, number>();
  setIrq(): void {}
  setIrqDeadline(): void {}
  emitEvent(): void {}

  private check(addr: number, length: number, write: boolean): boolean {
    const what = `${write ? 'write' : 'read'} of ${length} bytes at ${hex(addr)}`;
    if (!Number.isInteger(addr) || !Number.isInteger(length) || addr < 0 || length <= 0 || length > 0x10000) {
      this.violations.push(`malformed ${what}`);
      return false;
    }
    const describedBy = this.named.get(addr) ?? 0;
    const described = describedBy >= length;
    if (write && !described) this.violations.push(`${what}: no PRD entry describes it`);
    const inside = addr + length <= MEMORY;
    // one 8-byte read may cross: a PRD entry the guest itself placed across the end
    if (!inside && addr < MEMORY && !described && length > 8) this.violations.push(`${what}: crosses the end of guest memory (${hex(MEMORY)})`);
    if (addr + length > 2 ** 32 && !described) this.violations.push(`${what}: beyond 4 GiB`);
    return inside;
  }
  async readMemory(addr: number, length: number): Promise<Uint8Array> {
    await undefined;
    if (!this.check(addr, length, false)) {
      this.refused++;
      throw new RangeError(`guest read outside memory at ${hex(addr)}+${length}`);
    }
    this.memoryReads++;
    const data = this.memory.slice(addr, addr + length);
    if (length <= 128) this.served(data); // possibly (part of) a PRD table
    return data;
  }
  /** Bytes the model was given that may be (part of) a PRD table: remember what its entries describe. */
  served(data: Uint8Array): void {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i + 8 <= data.length; i += 8) {
      const base = (v.getUint32(i, true) & ~1) >>> 0;
      const count = v.getUint32(i + 4, true) & 0xfffe || 0x10000;
      if ((this.named.get(base) ?? 0) < count) this.named.set(base, count);
    }
  }
  async writeMemory(addr: number, data: Uint8Array): Promise<void> {
    await undefined;
    if (!this.check(addr, data.length, true)) {
      this.refused++;
      throw new RangeError(`guest write outside memory at ${hex(addr)}+${data.length}`);
    }
    this.memoryWrites++;
    this.memory.set(data, addr);
  }
}

/** Small deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random bytes without a PRNG call per byte: windows of one random pool. */
const POOL = (() => {
  const r = rng(0x5eed);
  return Uint8Array.from({ length: 1 << 16 }, () => Math.floor(r() * 256));
})();
function noise(r: () => number, length: number): Uint8Array {
  const at = Math.floor(r() * (POOL.length - length));
  return POOL.subarray(at, at + length);
}

/** A random address a PRD entry or table may name: anywhere in memory, near its end, or anywhere in 4 GiB. */
function randomAddress(r: () => number): number {
  const roll = r();
  if (roll < 0.6) return Math.floor(r() * MEMORY);
  if (roll < 0.85) return MEMORY - Math.floor(r() * 0x200);
  return Math.floor(r() * 0x1_0000_0000);
}

/**
 * Writes a random PRD table (1-24 entries: addresses anywhere, byte counts of any size
 * including 0 = 64 KiB, end-of-table usually on the last) into guest memory where it fits,
 * and returns the (dword-aligned) address to program, which may be outside memory.
 */
function randomPrdTable(memory: Uint8Array, r: () => number): number {
  const table = (randomAddress(r) & ~3) >>> 0;
  const entries = 1 + Math.floor(r() * 24);
  const view = new DataView(memory.buffer);
  for (let i = 0; i < entries; i++) {
    const at = table + i * 8;
    if (at + 8 > memory.length) break;
    const small = r() < 0.5;
    const count = small ? 512 * Math.floor(r() * 8) : Math.floor(r() * 0x10000);
    const eot = i === entries - 1 ? r() < 0.9 : r() < 0.03;
    view.setUint32(at, randomAddress(r), true);
    view.setUint32(at + 4, (count | (eot ? 0x80000000 : 0)) >>> 0, true);
  }
  return table;
}

const COMMANDS = [
  0x20, 0x24, 0x29, 0x30, 0x34, 0x39, 0x40, 0x42, 0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0x25, 0x35, 0xec, 0xa1, 0xa0, 0xef, 0x91, 0x90,
  0x10, 0x70, 0xe0, 0xe1, 0xe5, 0xe7, 0xea, 0x08, 0x00,
];
const PORTS = [
  ...Array.from({ length: 8 }, (_, i) => 0x1f0 + i), 0x3f6, 0x3f7,
  ...Array.from({ length: 8 }, (_, i) => 0x170 + i), 0x376,
  ...Array.from({ length: 16 }, (_, i) => DEFAULT_BUS_MASTER_BASE + i), 0x80, 0xffff,
];

const DMA_COMMANDS = [0xc8, 0xca, 0x25, 0x35];

/**
 * What a vCPU may send with a write the model's memory hints name (proto MemorySnapshot),
 * from its own random stream: nothing, the hinted PRD table and the regions it describes as
 * guest memory holds them (some cut short), or junk (bytes the model must treat as a table
 * it was served, at the hinted address or elsewhere, on the right port or another).
 */
let snapshotsSent = 0;
function vcpuSnapshots(ide: AtaController, host: GuardedHost, port: number, value: number, r: () => number): void {
  const send = (p: number, addr: number, data: Uint8Array) => {
    snapshotsSent++;
    ide.memorySnapshot(p, addr, data);
  };
  const roll = r();
  if (roll < 0.3) return;
  if (roll < 0.4) {
    const junk = noise(r, Math.floor(r() * 200));
    host.served(junk);
    send(r() < 0.7 ? port : PORTS[Math.floor(r() * PORTS.length)], r() < 0.5 ? (ide.memoryHints()[0]?.addr ?? 0) : randomAddress(r), junk);
    return;
  }
  for (const h of ide.memoryHints()) {
    if (h.port !== port || !(value & h.mask) || h.addr + h.length > MEMORY) continue;
    const table = host.memory.slice(h.addr, h.addr + h.length);
    host.served(table);
    send(port, h.addr, table);
    if (!h.gatherMax || value & (h.gatherUnless ?? 0)) continue;
    const v = new DataView(table.buffer);
    for (let i = 0, total = 0; i + 8 <= table.length; i += 8) {
      const addr = (v.getUint32(i, true) & ~1) >>> 0;
      const flags = v.getUint32(i + 4, true);
      const length = flags & 0xfffe || 0x10000;
      if ((total += length) > h.gatherMax || addr + length > MEMORY) break;
      const cut = r() < 0.1 ? Math.floor(r() * length) : length;
      send(port, addr, host.memory.slice(addr, addr + cut));
      if (flags & 0x80000000) break;
    }
  }
}
const DATA_PORTS = new Set([0x1f0, 0x170]);

const CDB_OPS = [0x00, 0x03, 0x12, 0x1b, 0x1e, 0x25, 0x28, 0x2b, 0x43, 0x46, 0x4a, 0x5a, 0xa8, 0xbb, 0xff];

/**
 * A plausible command with addresses near the ends of the media, so that boundary
 * checks, writes, the slave and the CD-ROM get exercised, not only garbage.
 */
function scenario(ide: AtaController, host: GuardedHost, r: () => number, now: number, rv: () => number): boolean {
  const secondary = r() < 0.35;
  const base = secondary ? 0x170 : 0x1f0;
  const out = (off: number, v: number) => ide.ioWrite(base + off, 1, v, now);
  const dev = secondary ? 0 : r() < 0.4 ? 1 : 0;
  const cap = secondary ? 40 * 4 : dev ? 17 : 300;
  const lba = Math.max(0, cap - 5 + Math.floor(r() * 10) - (r() < 0.5 ? Math.floor(r() * cap) : 0));
  const count = Math.floor(r() * 5);
  out(6, 0xe0 | (dev << 4));
  if (r() < 0.5) {
    out(2, 0);
    out(3, 0);
    out(4, 0);
    out(5, 0);
  }
  out(1, r() < 0.2 ? 1 : 0);
  out(2, count);
  out(3, lba & 0xff);
  out(4, (lba >> 8) & 0xff);
  out(5, secondary ? Math.floor(r() * 256) : 0);
  out(6, 0xe0 | (dev << 4));
  const cmd = secondary && r() < 0.8 ? 0xa0 : r() < 0.4 ? DMA_COMMANDS[Math.floor(r() * DMA_COMMANDS.length)] : COMMANDS[Math.floor(r() * COMMANDS.length)];
  out(7, cmd);
  if (cmd === 0xa0) {
    const cdb = new Uint8Array(12).map(() => (r() < 0.7 ? 0 : Math.floor(r() * 256)));
    cdb[0] = CDB_OPS[Math.floor(r() * CDB_OPS.length)];
    const blk = Math.max(0, 40 - 3 + Math.floor(r() * 6) - (r() < 0.5 ? Math.floor(r() * 40) : 0));
    cdb[5] = blk;
    cdb[8] = Math.floor(r() * 4);
    ide.ioWriteString!(base, 2, cdb, now);
  } else if (r() < 0.5) {
    ide.ioWriteString!(base, 2, noise(r, 512 * (1 + Math.floor(r() * 3))), now);
  }
  let dma = false;
  if (DMA_COMMANDS.includes(cmd) || (cmd === 0xa0 && r() < 0.5)) {
    // a random PRD table, started with the right direction most of the time
    const bm = DEFAULT_BUS_MASTER_BASE + (secondary ? 8 : 0);
    const table = randomPrdTable(host.memory, r);
    ide.ioWrite(bm, 1, 0, now);
    ide.ioWrite(bm + 4, 4, table, now);
    const toMemory = cmd === 0xca || cmd === 0x35 ? r() < 0.2 : r() < 0.8;
    vcpuSnapshots(ide, host, bm, toMemory ? 0x09 : 0x01, rv);
    ide.ioWrite(bm, 1, toMemory ? 0x09 : 0x01, now);
    dma = true;
  }
  if (r() < 0.5) ide.ioReadString!(base, 2, 256 * Math.floor(r() * 4), now);
  return dma;
}

/**
 * What a vCPU answers from the model's offers (accessAhead), checked against what the model
 * itself answers: after every read the fuzz takes the offer a service would attach, follows
 * it as the fast-lane proxy does (reads it covers are predicted; writes to its registers, or
 * anything it does not cover, end it) and records every prediction the real access contradicts.
 */
class OfferOracle {
  offer: AccessAhead | null = null;
  pos = 0;
  written = 0;
  /** The commands the last offer predicted (CommandAhead), matched as the vCPU's CommandsAhead does, and the registers written since. */
  commands: CommandAhead[] = [];
  regs = [-1, -1, -1, -1, -1];
  followed = 0;
  checked = 0;
  readonly mismatches: string[] = [];
  /** DMA commands the last offer predicted (CommandAhead.dma), followed and served as the proxy does (LocalDma). */
  dma: LocalDma | null = null;
  dmaChannel: DmaChannelNow | null = null;
  dmaNext: DmaCommandAhead[] = [];
  dmaServed = 0;
  dmaOffers = 0;
  constructor(private readonly r: () => number) {}

  dropDma(): void {
    this.dma = null;
    this.dmaNext = [];
  }

  /** A read the DMA predictions answer (null: they end, ask the model). */
  dmaRead(port: number, size: AccessSize): number | null {
    const a = this.dma?.read(port, size) ?? null;
    if (!a) this.dropDma();
    return a?.value ?? null;
  }

  /**
   * A write as the proxy sends it with DMA predictions: true when it was a START the vCPU
   * carried out (snapshots and dmaServed sent instead of the write); then the model must have
   * moved no memory and must answer the bus master's and the drive's registers as the vCPU does.
   */
  dmaWrite(ide: AtaController, host: GuardedHost, port: number, size: AccessSize, value: number, now: number): boolean {
    const d = this.dma;
    if (!d) return false;
    const r = d.write(port, size, value);
    if (r === 'start') {
      const served = d.serve({ bytes: MEMORY, read: (a, n) => host.memory.slice(a, a + n), write: (a, data) => host.memory.set(data, a) }, value);
      if (served) {
        this.dmaServed++;
        host.served(served.table.data);
        ide.memorySnapshot(port, served.table.addr, served.table.data);
        for (const g of served.regions) ide.memorySnapshot(port, g.addr, g.data.slice());
        const before = host.memoryReads + host.memoryWrites + host.refused;
        ide.dmaServed(port, size, value, served.byteLength, now);
        if (host.memoryReads + host.memoryWrites + host.refused !== before || ide.busy()) this.mismatch(`served DMA at ${now} went to guest memory`);
        const ch = this.dmaChannel!;
        for (const p of [ch.busMasterBase + 2, ch.busMasterBase, ch.controlPort]) this.check(d.read(p, 1)?.value ?? null, ide.ioRead(p, 1, now), `after served DMA, read 0x${p.toString(16)} at ${now}`);
        return true;
      }
    }
    if (r === 'post' && port === this.dmaChannel!.commandBase + 7) this.dmaNext.shift(); // it was the predicted command
    if (r !== 'post') this.dropDma();
    return false;
  }

  /** The writes that issue the next predicted DMA command and start it (a fresh PRD table for it, most of the time). */
  dmaIssue(host: GuardedHost, r: () => number): Array<[number, AccessSize, number]> | null {
    const next = this.dmaNext[0];
    const ch = this.dmaChannel;
    if (!next || !ch) return null;
    const out: Array<[number, AccessSize, number]> = [];
    if (r() < 0.7) {
      // A table of 64 KiB entries inside memory describing the transfer, in a page with room for it.
      const entries = Math.ceil(next.byteLength / 0x10000) + (r() < 0.2 ? 1 : 0);
      const table = (Math.floor(r() * (MEMORY / 0x1000)) * 0x1000 + Math.floor(r() * 16) * 8) >>> 0;
      const view = new DataView(host.memory.buffer);
      for (let e = 0; e < entries && table + e * 8 + 8 <= MEMORY; e++) {
        view.setUint32(table + e * 8, Math.floor(r() * (MEMORY - 0x10000)) & ~1, true);
        view.setUint32(table + e * 8 + 4, e === entries - 1 && r() < 0.9 ? 0x8000_0000 : 0, true);
      }
      out.push([ch.busMasterBase + 4, 4, table]);
    }
    const dir = next.toMemory ? 0x08 : 0;
    if (r() < 0.9) out.push([ch.busMasterBase, 1, dir]);
    const regs = next.registers;
    if (regs.length === 9) for (let k = 0; k < 4; k++) out.push([ch.commandBase + 2 + k, 1, regs[5 + k]]);
    for (let k = 0; k < 5; k++) out.push([ch.commandBase + 2 + k, 1, regs[k]]);
    out.push([ch.commandBase + 7, 1, next.command]);
    if (r() < 0.9) out.push([ch.busMasterBase, 1, dir | (r() < 0.95 ? 1 : 0x09 ^ dir)]);
    return out;
  }

  private mismatch(what: string): void {
    if (this.mismatches.length < 10) this.mismatches.push(`${what} (offer ${JSON.stringify({ ...this.offer, data: undefined })}, pos ${this.pos}, written ${this.written})`);
  }

  /** Before a read: the value the offer predicts, or null (the offer then ends). */
  predictRead(port: number, size: AccessSize): number | null {
    const a = this.offer;
    if (!a) return null;
    if (a.kind === 'read' && port === a.dataPort && size !== 1 && this.pos + size <= a.data.length) {
      let v = 0;
      for (let i = 0; i < size; i++) v |= a.data[this.pos + i] << (8 * i);
      this.pos += size;
      return v >>> 0;
    }
    if ((port === a.statusPort || port === a.altStatusPort) && size === 1) {
      const left = a.kind === 'read' ? this.pos < a.data.length : this.written < a.length;
      if (left) return a.statusDuring;
      if (a.kind === 'read' && a.complete) return a.statusAfter;
      if (a.kind === 'write' && a.statusAfter !== undefined) return a.statusAfter;
    }
    this.offer = null;
    return null;
  }

  predictString(port: number, size: AccessSize, count: number): Uint8Array | null {
    const a = this.offer;
    if (!a) return null;
    if (a.kind === 'read' && port === a.dataPort && size !== 1 && this.pos + count * size <= a.data.length) {
      const out = a.data.slice(this.pos, this.pos + count * size);
      this.pos += count * size;
      return out;
    }
    this.offer = null;
    return null;
  }

  /** A write of `value` (a string write: null) as the vCPU sees it. */
  write(port: number, size: AccessSize, bytes: number, value: number | null): void {
    const a = this.offer;
    if (a) {
      if (a.kind === 'write' && port === a.dataPort && size !== 1 && this.written + bytes <= a.length) this.written += bytes;
      else if (!a.registers || port === a.altStatusPort || (port >= a.registers.base && port < a.registers.base + a.registers.length)) this.offer = null;
    }
    this.matchCommand(port, size, value);
  }

  private matchCommand(port: number, size: AccessSize, value: number | null): void {
    const first = this.commands[0]?.phase;
    if (!first?.registers) return;
    const offset = port - first.registers.base;
    if (port === first.altStatusPort || (value === null && offset > 0 && offset <= 7)) return void (this.commands = []);
    if (value === null || offset < 2 || offset > 7) return;
    if (size !== 1) return void (this.commands = []);
    if (offset < 7) return void (this.regs[offset - 2] = value & 0xff);
    const next = this.commands.shift()!;
    if (next.command !== (value & 0xff) || next.registers.some((r, i) => this.regs[i] !== r)) return void (this.commands = []);
    this.regs.fill(-1);
    this.offer = next.phase;
    this.pos = 0;
    this.written = 0;
    this.followed++;
  }

  /** The writes that issue the next predicted command, when there is one. */
  predictedIssue(): Array<[number, number]> | null {
    const next = this.commands[0];
    if (!next?.phase.registers) return null;
    const base = next.phase.registers.base;
    return [...next.registers.map((v, i): [number, number] => [base + 2 + i, v]), [base + 7, next.command]];
  }

  /** After a read the device answered: the offer a service would attach to its reply. */
  take(ide: AtaController, port: number): void {
    this.offer = ide.accessAhead(port, 512 + Math.floor(this.r() * 16384), { dmaMaxBytes: Math.floor(this.r() * (1 << 20)) });
    this.pos = 0;
    this.written = 0;
    this.commands = this.offer?.next ? [...this.offer.next] : [];
    this.regs.fill(-1);
    const d = this.offer?.dma;
    this.dma = d ? LocalDma.from(d.channel, d.commands, d.data) : null;
    this.dmaChannel = d?.channel ?? null;
    this.dmaNext = this.dma ? [...d!.commands] : [];
    if (d) this.dmaOffers++;
    if (this.dma) this.offer = null; // the proxy answers the drive's Status from the DMA predictions then
  }

  check(predicted: number | null, actual: number, what: string): void {
    if (predicted === null) return;
    this.checked++;
    if (predicted !== actual) this.mismatch(`${what}: offer said 0x${predicted.toString(16)}, the model 0x${actual.toString(16)}`);
  }

  checkBytes(predicted: Uint8Array | null, actual: Uint8Array, what: string): void {
    if (predicted === null) return;
    this.checked++;
    if (Buffer.compare(Buffer.from(predicted), Buffer.from(actual)) !== 0) this.mismatch(`${what}: bytes differ`);
  }
}

function validSize(size: number): size is AccessSize {
  return size === 1 || size === 2 || size === 4;
}

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x1de);

describe('fuzz', () => {
  it(`${ITERATIONS.toLocaleString('en')} random port accesses and random PRD tables never throw and never touch sectors outside an image or memory outside the guest's`, async () => {
    const r = rng(SEED);
    const host = new GuardedHost();
    const disks = [
      // every sector different, so a prediction of the wrong sectors shows
      new GuardedDisk(new MemoryBlockDevice(Uint8Array.from({ length: 300 * 512 }, (_, i) => (i >> 9) ^ (i & 0xff)))),
      new GuardedDisk(new MemoryBlockDevice(new Uint8Array(17 * 512))),
      new GuardedDisk(new MemoryBlockDevice(new Uint8Array(40 * 2048), true)),
    ];
    const ide = new AtaController(host, {
      drives: [{ kind: 'disk', image: disks[0] }, { kind: 'disk', image: disks[1], lba48: false }, { kind: 'cdrom', image: disks[2] }, null],
      busMasterBase: DEFAULT_BUS_MASTER_BASE,
    });
    // random PRD tables at the start of memory too, for the random bus-master writes to find
    for (let t = 0; t < 8; t++) randomPrdTable(host.memory, r);
    const sizes: number[] = [1, 1, 1, 2, 4, 3];
    // Its own random stream, so the fuzz's accesses are the same with and without it.
    const oracle = new OfferOracle(rng(SEED ^ 0x5a5a));
    const vcpu = rng(SEED ^ 0xa5a5); // the same, for the memory a vCPU sends with bus-master writes
    const dmaR = rng(SEED ^ 0x3c3c); // and for the DMA commands a driver issues as predicted
    for (let i = 0; i < ITERATIONS; i++) {
      const port = PORTS[Math.floor(r() * PORTS.length)];
      const size = sizes[Math.floor(r() * sizes.length)] as AccessSize;
      const roll = r();
      if (roll < 0.04) {
        // let a transfer it started run before random accesses disturb it, most of the time
        oracle.offer = null; // the scenario writes registers itself
        oracle.commands = [];
        oracle.dropDma();
        if (scenario(ide, host, r, i, vcpu) ? r() < 0.8 : r() < 0.3) await ide.whenIdle();
        continue;
      }
      // A guest write as the proxy sends it: a START of a predicted DMA command it serves goes as dmaServed.
      const write = (p: number, sz: AccessSize, v: number) => {
        if (!oracle.dmaWrite(ide, host, p, sz, v, i)) ide.ioWrite(p, sz, v, i);
      };
      const dmaIssue = oracle.dmaIssue(host, dmaR);
      if (dmaIssue && roll < 0.3) {
        // a driver going on with the DMA run the offer predicted
        for (const [p, sz, v] of dmaIssue) {
          oracle.write(p, sz, sz, v);
          write(p, sz, v);
        }
        continue;
      }
      const issue = oracle.predictedIssue();
      if (issue && roll < 0.3) {
        // a driver going on with the sequence the offer predicted: the next reads check its phase
        for (const [p, v] of issue) {
          oracle.write(p, 1, 1, v);
          write(p, 1, v);
        }
        continue;
      }
      if ((port & 7) === 7 && roll < 0.5 && port < 0x200) {
        const command = r() < 0.8 ? COMMANDS[Math.floor(r() * COMMANDS.length)] : Math.floor(r() * 256);
        oracle.write(port, 1, 1, command);
        write(port, 1, command);
      } else if (roll < 0.45) {
        const value = Math.floor(r() * 0x1_0000_0000);
        oracle.write(port, size, size, value);
        vcpuSnapshots(ide, host, port, value, vcpu);
        if (validSize(size)) write(port, size, value);
        else ide.ioWrite(port, size, value, i);
      } else if (roll < 0.9) {
        const fromDma = oracle.dma && validSize(size) ? oracle.dmaRead(port, size) : (oracle.dropDma(), null);
        const predicted = fromDma ?? (validSize(size) ? oracle.predictRead(port, size) : ((oracle.offer = null), null));
        oracle.check(predicted, ide.ioRead(port, size, i), `read 0x${port.toString(16)} size ${size} at ${i}`);
        if (predicted === null) oracle.take(ide, port);
      } else if (roll < 0.95) {
        // rep ins: whole blocks on a data port (one call in the model), a few elements
        // elsewhere (the model does those one access at a time, so long ones only cost time)
        const count = Math.floor(r() * (DATA_PORTS.has(port) ? 600 : 16));
        oracle.dropDma();
        const predicted = validSize(size) ? oracle.predictString(port, size, count) : ((oracle.offer = null), null);
        oracle.checkBytes(predicted, ide.ioReadString!(port, size, count, i), `rep ins 0x${port.toString(16)} x${count} at ${i}`);
      } else {
        const data = noise(r, Math.floor(r() * (DATA_PORTS.has(port) ? 1200 : 32)));
        oracle.write(port, size, data.length - (data.length % size), null);
        oracle.dropDma();
        ide.ioWriteString!(port, size, data, i);
      }
      if (i % 2000 === 0) await ide.whenIdle();
    }
    await ide.whenIdle();
    const stats = { disks: disks.map((d) => [d.reads, d.writes]), memoryReads: host.memoryReads, memoryWrites: host.memoryWrites, refused: host.refused };
    if (process.env.FUZZ_STATS) console.log(stats, ide.counters.snapshot(), { offerChecks: oracle.checked, predictedCommandsFollowed: oracle.followed, dmaOffers: oracle.dmaOffers, dmaServed: oracle.dmaServed });
    for (const d of disks) expect(d.violations).toEqual([]);
    // every access a vCPU would have answered from an offer got the model's own answer
    expect(oracle.mismatches).toEqual([]);
    expect(oracle.checked).toBeGreaterThan(1000);
    expect(oracle.followed).toBeGreaterThan(10); // predicted commands issued, and their phases checked
    expect(oracle.dmaServed).toBeGreaterThan(10); // predicted DMA commands carried out as a vCPU does, the model following
    expect(host.violations.slice(0, 10)).toEqual([]);
    // the fuzz did exercise the media, DMA both ways, and refused requests
    for (const n of [disks[0].reads, disks[0].writes, disks[1].reads, disks[1].writes, disks[2].reads]) expect(n).toBeGreaterThan(0);
    expect(disks[2].writes).toBe(0);
    expect(host.memoryWrites).toBeGreaterThan(0);
    expect(host.memoryReads).toBeGreaterThan(0);
    expect(host.refused).toBeGreaterThan(0);
    expect(ide.counters.snapshot().dmaErrors).toBeGreaterThan(0);
    expect(snapshotsSent).toBeGreaterThan(1000); // tables and buffers sent with bus-master writes, and junk
    // and the final state round-trips
    const s = JSON.parse(JSON.stringify(ide.saveState()));
    ide.loadState(s);
    expect(JSON.parse(JSON.stringify(ide.saveState()))).toEqual(s);
  });
});
