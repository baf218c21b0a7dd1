import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DeviceHost } from '@quasivm/device-sdk';
import { AtaController, type AtaControllerOptions } from '../src/ide-controller.js';
import { MemoryBlockDevice } from '../src/storage/block-device.js';

/** A DeviceHost that records IRQ line changes and serves a Uint8Array as guest memory. */
export class FakeHost implements DeviceHost {
  readonly irq = new Map<number, boolean>();
  readonly irqLog: [number, boolean][] = [];
  readonly memory: Uint8Array;
  memoryReads = 0;
  memoryWrites = 0;

  constructor(memorySize = 1 << 20) {
    this.memory = new Uint8Array(memorySize);
  }
  setIrq(line: number, level: boolean): void {
    this.irq.set(line, level);
    this.irqLog.push([line, level]);
  }
  setIrqDeadline(): void {}
  async readMemory(addr: number, length: number): Promise<Uint8Array> {
    await Promise.resolve();
    this.memoryReads++;
    if (addr < 0 || addr + length > this.memory.length) throw new RangeError(`guest read outside memory at ${addr}+${length}`);
    return this.memory.slice(addr, addr + length);
  }
  async writeMemory(addr: number, data: Uint8Array): Promise<void> {
    await Promise.resolve();
    this.memoryWrites++;
    if (addr < 0 || addr + data.length > this.memory.length) throw new RangeError(`guest write outside memory at ${addr}`);
    this.memory.set(data, addr);
  }
  emitEvent(): void {}
  level(line: number): boolean {
    return this.irq.get(line) ?? false;
  }
  /** Number of rising edges seen on `line`. */
  raises(line: number): number {
    return this.irqLog.filter(([l, v]) => l === line && v).length;
  }
}

export function tempDir(prefix = 'ide-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A file of `sectors` 512-byte sectors where each sector is filled with a known pattern. */
export function makeImage(dir: string, name: string, sectors: number, fill: (lba: number) => number = (lba) => lba & 0xff): string {
  const p = path.join(dir, name);
  const buf = Buffer.alloc(sectors * 512);
  for (let s = 0; s < sectors; s++) {
    for (let i = 0; i < 512; i++) buf[s * 512 + i] = (fill(s) + i * 7) & 0xff;
  }
  fs.writeFileSync(p, buf);
  return p;
}

export function patternSector(lba: number): Uint8Array {
  const b = new Uint8Array(512);
  for (let i = 0; i < 512; i++) b[i] = ((lba & 0xff) + i * 7) & 0xff;
  return b;
}

/** Sectors first..first+count-1 of patternSector, back to back. */
export function patternSectors(first: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 512);
  for (let i = 0; i < count; i++) out.set(patternSector(first + i), i * 512);
  return out;
}

/** A controller with one in-memory disk of `sectors` patternSector sectors as primary master, and its ports. */
export function memoryDiskRig(sectors: number) {
  const disk = new MemoryBlockDevice(patternSectors(0, sectors));
  const host = new FakeHost();
  const ide = new AtaController(host, { drives: [{ kind: 'disk', image: disk }, null, null, null] });
  return { host, disk, ide, p: new Ports(ide) };
}

export function readFileSectors(p: string, lba: number, count: number): Uint8Array {
  const fd = fs.openSync(p, 'r');
  try {
    const b = Buffer.alloc(count * 512);
    fs.readSync(fd, b, 0, b.length, lba * 512);
    return new Uint8Array(b);
  } finally {
    fs.closeSync(fd);
  }
}

/** Port-level helpers for one channel, the way a driver talks to it. */
export class Ports {
  constructor(
    readonly ide: AtaController,
    readonly base = 0x1f0,
    readonly ctrl = 0x3f6,
  ) {}
  in8(off: number): number {
    return this.ide.ioRead(this.base + off, 1, 0);
  }
  out8(off: number, v: number): void {
    this.ide.ioWrite(this.base + off, 1, v, 0);
  }
  status(): number {
    return this.in8(7);
  }
  altStatus(): number {
    return this.ide.ioRead(this.ctrl, 1, 0);
  }
  error(): number {
    return this.in8(1);
  }
  devctl(v: number): void {
    this.ide.ioWrite(this.ctrl, 1, v, 0);
  }
  select(dev: 0 | 1, extra = 0): void {
    this.out8(6, 0xa0 | (dev << 4) | extra);
  }
  command(cmd: number): void {
    this.out8(7, cmd);
  }
  lba28(lba: number, count: number, dev: 0 | 1 = 0): void {
    this.out8(2, count & 0xff);
    this.out8(3, lba & 0xff);
    this.out8(4, (lba >>> 8) & 0xff);
    this.out8(5, (lba >>> 16) & 0xff);
    this.out8(6, 0xe0 | (dev << 4) | ((lba >>> 24) & 0x0f));
  }
  lba48(lba: number, count: number, dev: 0 | 1 = 0): void {
    const hi = Math.floor(lba / 0x1000000);
    this.out8(2, (count >>> 8) & 0xff);
    this.out8(3, hi & 0xff);
    this.out8(4, (hi >>> 8) & 0xff);
    this.out8(5, (hi >>> 16) & 0xff);
    this.out8(2, count & 0xff);
    this.out8(3, lba & 0xff);
    this.out8(4, (lba >>> 8) & 0xff);
    this.out8(5, (lba >>> 16) & 0xff);
    this.out8(6, 0x40 | (dev << 4));
  }
  chs(c: number, h: number, s: number, count: number, dev: 0 | 1 = 0): void {
    this.out8(2, count);
    this.out8(3, s);
    this.out8(4, c & 0xff);
    this.out8(5, c >>> 8);
    this.out8(6, 0xa0 | (dev << 4) | h);
  }
  /** `rep insw` of `bytes` bytes. */
  readData(bytes: number): Uint8Array {
    return this.ide.ioReadString!(this.base, 2, bytes / 2, 0);
  }
  writeData(data: Uint8Array): void {
    this.ide.ioWriteString!(this.base, 2, data, 0);
  }
  /** Word-by-word read, as a driver without string I/O would. */
  readWords(words: number): Uint16Array {
    const out = new Uint16Array(words);
    for (let i = 0; i < words; i++) out[i] = this.ide.ioRead(this.base, 2, 0);
    return out;
  }
}

export function makeController(host: FakeHost, opts: AtaControllerOptions): AtaController {
  return new AtaController(host, opts);
}

export function identifyString(words: Uint16Array, first: number, count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) s += String.fromCharCode(words[first + i] >> 8, words[first + i] & 0xff);
  return s;
}

export function bytesToWords(b: Uint8Array): Uint16Array {
  const w = new Uint16Array(b.length / 2);
  for (let i = 0; i < w.length; i++) w[i] = b[2 * i] | (b[2 * i + 1] << 8);
  return w;
}
