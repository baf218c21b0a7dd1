import { describe, expect, it } from 'vitest';
import type { AccessSize } from '@quasivm/device-sdk';
import { AtaController, DEFAULT_BUS_MASTER_BASE } from '../src/ide-controller.js';
import { checkRange, MemoryBlockDevice, type BlockDevice } from '../src/storage/block-device.js';
import { FakeHost } from './helpers.js';

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
  write(lba: number, data: Uint8Array): void {
    if (data.length % 512 !== 0) this.violations.push(`partial write of ${data.length} bytes`);
    this.guard(lba, data.length / 512);
    this.writes++;
    this.inner.write(lba, data);
  }
  flush(): void {}
  close(): void {}
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

const COMMANDS = [
  0x20, 0x24, 0x29, 0x30, 0x34, 0x39, 0x40, 0x42, 0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0x25, 0x35, 0xec, 0xa1, 0xa0, 0xef, 0x91, 0x90,
  0x10, 0x70, 0xe0, 0xe1, 0xe5, 0xe7, 0xea, 0x08, 0x00,
];
const PORTS = [
  ...Array.from({ length: 8 }, (_, i) => 0x1f0 + i), 0x3f6, 0x3f7,
  ...Array.from({ length: 8 }, (_, i) => 0x170 + i), 0x376,
  ...Array.from({ length: 16 }, (_, i) => DEFAULT_BUS_MASTER_BASE + i), 0x80, 0xffff,
];

const CDB_OPS = [0x00, 0x03, 0x12, 0x1b, 0x1e, 0x25, 0x28, 0x2b, 0x43, 0x46, 0x4a, 0x5a, 0xa8, 0xbb, 0xff];

/**
 * A plausible command with addresses near the ends of the media, so that boundary
 * checks, writes, the slave and the CD-ROM get exercised, not only garbage.
 */
function scenario(ide: AtaController, r: () => number, now: number): void {
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
  const cmd = secondary && r() < 0.8 ? 0xa0 : COMMANDS[Math.floor(r() * COMMANDS.length)];
  out(7, cmd);
  if (cmd === 0xa0) {
    const cdb = new Uint8Array(12).map(() => (r() < 0.7 ? 0 : Math.floor(r() * 256)));
    cdb[0] = CDB_OPS[Math.floor(r() * CDB_OPS.length)];
    const blk = Math.max(0, 40 - 3 + Math.floor(r() * 6) - (r() < 0.5 ? Math.floor(r() * 40) : 0));
    cdb[5] = blk;
    cdb[8] = Math.floor(r() * 4);
    ide.ioWriteString!(base, 2, cdb, now);
  } else if (r() < 0.5) {
    ide.ioWriteString!(base, 2, new Uint8Array(512 * (1 + Math.floor(r() * 3))).fill(now & 0xff), now);
  }
  if ([0xc8, 0xca, 0x25, 0x35].includes(cmd) || (cmd === 0xa0 && r() < 0.5)) {
    // a well-formed bus-master setup: one 64 KiB PRD at 0x80000 (table at 0x800)
    const bm = DEFAULT_BUS_MASTER_BASE + (secondary ? 8 : 0);
    ide.ioWrite(bm, 1, 0, now);
    ide.ioWrite(bm + 4, 4, 0x800, now);
    ide.ioWrite(bm, 1, cmd === 0xca || cmd === 0x35 ? 0x01 : 0x09, now);
  }
  if (r() < 0.5) ide.ioReadString!(base, 2, 256 * Math.floor(r() * 4), now);
}

describe('fuzz', () => {
  it('200,000 random port accesses never throw and never touch sectors outside an image', async () => {
    const seed = 0x1de;
    const r = rng(seed);
    const host = new FakeHost(1 << 20);
    const disks = [
      new GuardedDisk(new MemoryBlockDevice(new Uint8Array(300 * 512))),
      new GuardedDisk(new MemoryBlockDevice(new Uint8Array(17 * 512))),
      new GuardedDisk(new MemoryBlockDevice(new Uint8Array(40 * 2048), true)),
    ];
    const ide = new AtaController(host, {
      drives: [{ kind: 'disk', image: disks[0] }, { kind: 'disk', image: disks[1], lba48: false }, { kind: 'cdrom', image: disks[2] }, null],
      busMasterBase: DEFAULT_BUS_MASTER_BASE,
    });
    // PRD tables pointing anywhere, including outside guest memory
    const view = new DataView(host.memory.buffer);
    for (let i = 0; i < 64; i++) {
      view.setUint32(i * 8, Math.floor(r() * 0x1_0000_0000) & (r() < 0.8 ? 0xfffff : 0xffffffff), true);
      view.setUint32(i * 8 + 4, Math.floor(r() * 0x10000) | (r() < 0.3 ? 0x80000000 : 0), true);
    }
    view.setUint32(0x800, 0x80000, true);
    view.setUint32(0x804, 0x80000000, true);
    const sizes: number[] = [1, 1, 1, 2, 4, 3];
    for (let i = 0; i < 200_000; i++) {
      const port = PORTS[Math.floor(r() * PORTS.length)];
      const size = sizes[Math.floor(r() * sizes.length)] as AccessSize;
      const roll = r();
      if (roll < 0.04) {
        scenario(ide, r, i);
        if (r() < 0.3) await ide.whenIdle();
        continue;
      }
      if ((port & 7) === 7 && roll < 0.5 && port < 0x200) {
        ide.ioWrite(port, 1, r() < 0.8 ? COMMANDS[Math.floor(r() * COMMANDS.length)] : Math.floor(r() * 256), i);
      } else if (roll < 0.45) {
        ide.ioWrite(port, size, Math.floor(r() * 0x1_0000_0000), i);
      } else if (roll < 0.9) {
        ide.ioRead(port, size, i);
      } else if (roll < 0.95) {
        ide.ioReadString!(port, size, Math.floor(r() * 600), i);
      } else {
        ide.ioWriteString!(port, size, new Uint8Array(Math.floor(r() * 1200)).map(() => Math.floor(r() * 256)), i);
      }
      if (i % 2000 === 0) await ide.whenIdle();
    }
    await ide.whenIdle();
    if (process.env.FUZZ_STATS) console.log(disks.map((d) => [d.reads, d.writes]), host.memoryReads, host.memoryWrites, ide.counters.snapshot());
    for (const d of disks) expect(d.violations).toEqual([]);
    // the fuzz did exercise the media
    for (const n of [disks[0].reads, disks[0].writes, disks[1].reads, disks[1].writes, disks[2].reads]) expect(n).toBeGreaterThan(0);
    expect(disks[2].writes).toBe(0);
    expect(host.memoryWrites).toBeGreaterThan(0);
    // and the final state round-trips
    const s = JSON.parse(JSON.stringify(ide.saveState()));
    ide.loadState(s);
    expect(JSON.parse(JSON.stringify(ide.saveState()))).toEqual(s);
  }, 120_000);
});
