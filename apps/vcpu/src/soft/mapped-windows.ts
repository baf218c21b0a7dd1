/**
 * The memory window protocol on the soft backend (DESIGN.md "Memory that devices own";
 * the device-facing half is WindowedDevice): a direct window is a RAM copy on the CPU
 * thread, filled page by page from the device on first touch, with the byte range the
 * guest wrote in each page remembered; the dirty ranges go to the device (posted) before
 * any later operation of the session and at the display rate. Windows the device does
 * not call direct keep trapping through the proxy.
 */
import type { AccessSize, BlockingFastLane, GuestTimeNs, PortRange, WindowModeInfo } from '@quasivm/device-sdk';
import type { RemoteIoProxy } from '../remote-io-bridge.js';
import { fetchWindowBytes, WindowedDevice, windowLane } from '../windowed-device.js';
import type { MemoryWindowHandler } from './soft-cpu-bus.js';

const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;

/** One direct window: a lazily filled RAM copy with a dirty byte range per page. */
class LocalWindow {
  private mem: Uint8Array | null = null;
  private readonly present: Uint8Array;
  private readonly dirtyLo: Int32Array;
  private readonly dirtyHi: Int32Array;
  /** Pages with a dirty range, in the order they were first dirtied. */
  private dirtyPages: number[] = [];

  constructor(
    readonly base: number,
    readonly length: number,
    readonly generation: number,
    private readonly lane: BlockingFastLane,
    private readonly onDirty: () => void,
    /** The device says the window reads all zeros: no page needs fetching. */
    zero = false,
  ) {
    const pages = Math.ceil(length / PAGE);
    this.present = new Uint8Array(pages).fill(zero ? 1 : 0);
    this.dirtyLo = new Int32Array(pages).fill(PAGE);
    this.dirtyHi = new Int32Array(pages);
  }

  get dirty(): boolean {
    return this.dirtyPages.length > 0;
  }

  private page(off: number, now: GuestTimeNs): Uint8Array {
    const mem = (this.mem ??= new Uint8Array(this.length));
    const p = off >>> PAGE_SHIFT;
    if (!this.present[p]) {
      const start = p << PAGE_SHIFT;
      const length = Math.min(PAGE, this.length - start);
      mem.set(fetchWindowBytes(this.lane, this.base + start, length, now), start);
      this.present[p] = 1;
    }
    return mem;
  }

  read(addr: number, size: AccessSize, now: GuestTimeNs): number {
    const off = addr - this.base;
    if (off + size > this.length || ((off & (PAGE - 1)) + size > PAGE)) return this.readBytes(off, size, now);
    const mem = this.page(off, now);
    if (size === 1) return mem[off];
    if (size === 2) return mem[off] | (mem[off + 1] << 8);
    return (mem[off] | (mem[off + 1] << 8) | (mem[off + 2] << 16) | (mem[off + 3] << 24)) >>> 0;
  }

  private readBytes(off: number, size: number, now: GuestTimeNs): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= (off + i < this.length ? this.page(off + i, now)[off + i] : 0xff) << (8 * i);
    return v >>> 0;
  }

  write(addr: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    const off = addr - this.base;
    for (let i = 0; i < size; i++) {
      const o = off + i;
      if (o >= this.length) return;
      const mem = i === 0 || (o & (PAGE - 1)) === 0 ? this.page(o, now) : this.mem!;
      mem[o] = (value >>> (8 * i)) & 0xff;
      const p = o >>> PAGE_SHIFT;
      const inPage = o & (PAGE - 1);
      if (this.dirtyLo[p] === PAGE) {
        if (this.dirtyPages.length === 0) this.onDirty();
        this.dirtyPages.push(p);
      }
      if (inPage < this.dirtyLo[p]) this.dirtyLo[p] = inPage;
      if (inPage + 1 > this.dirtyHi[p]) this.dirtyHi[p] = inPage + 1;
    }
  }

  /** Posts every dirty range to the device and forgets them. */
  ship(now: GuestTimeNs): number {
    let bytes = 0;
    for (const p of this.dirtyPages) {
      const start = (p << PAGE_SHIFT) + this.dirtyLo[p];
      const end = (p << PAGE_SHIFT) + this.dirtyHi[p];
      this.lane.post({ timeNs: now, size: 1, memorySync: { addr: this.base + start, data: Buffer.from(this.mem!.subarray(start, end)) } });
      bytes += end - start;
      this.dirtyLo[p] = PAGE;
      this.dirtyHi[p] = 0;
    }
    this.dirtyPages = [];
    return bytes;
  }
}

/**
 * A remote device seen through its direct windows on the soft backend: stands in for the
 * proxy (WindowedDevice ships before each operation) and hands the soft bus its window
 * handlers, local ones first.
 */
export class MappedWindows extends WindowedDevice {
  private windows: LocalWindow[] = [];
  private anyDirty = false;

  constructor(
    proxy: RemoteIoProxy,
    lane: BlockingFastLane,
    modePorts: PortRange[],
    /** Called when the set of direct windows changed: the machine re-registers the device's windows. */
    private readonly remap: () => void,
  ) {
    super(proxy, lane, modePorts);
  }

  /** A mapper when the device takes part in the protocol and the fast lane is there, else null. */
  static for(proxy: RemoteIoProxy, modePorts: PortRange[] | undefined, remap: () => void): MappedWindows | null {
    const lane = windowLane(proxy, modePorts);
    return lane ? new MappedWindows(proxy, lane, modePorts!, remap) : null;
  }

  protected applyModes(modes: WindowModeInfo[]): boolean {
    const next: LocalWindow[] = [];
    for (const m of modes) {
      if (!m.direct || m.length <= 0) continue;
      const same = this.windows.find((w) => w.base === m.base && w.length === m.length && w.generation === m.generation);
      next.push(same ?? new LocalWindow(m.base, m.length, m.generation, this.lane, () => (this.anyDirty = true), m.zero));
    }
    const changed = next.length !== this.windows.length || next.some((w, i) => w !== this.windows[i]);
    this.windows = next;
    return changed;
  }

  protected onRemap(): void {
    this.remap();
  }

  /** Local handlers for the direct windows; the soft bus must try them before the proxy's. */
  handlers(owner: string): MemoryWindowHandler[] {
    return this.windows.map((w) => ({
      owner,
      base: w.base,
      length: w.length,
      memRead: (a, s, t) => w.read(a, s, t),
      memWrite: (a, s, v, t) => w.write(a, s, v, t),
    }));
  }

  /** Posts the dirty ranges of every window (no-op when nothing was written). */
  protected shipDirty(now: GuestTimeNs): number {
    if (!this.anyDirty) return 0;
    this.anyDirty = false;
    let bytes = 0;
    for (const w of this.windows) if (w.dirty) bytes += w.ship(now);
    return bytes;
  }
}
