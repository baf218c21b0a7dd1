/**
 * Serving the exits that are device accesses: KVM_EXIT_IO through the shared IoBus
 * (string I/O, count > 1, as one bus call) and KVM_EXIT_MMIO through device memory
 * windows. The hot path: no allocation for single port accesses.
 */
import type { AccessSize } from '@quasivm/device-sdk';
import type { KvmRun } from '@quasivm/kvm';
import type { IoBus } from '../io-bus.js';
import type { MemoryWindowHandler } from '../soft/soft-cpu-bus.js';

export function serveIo(exit: KvmRun, bus: IoBus, now: number): void {
  const port = exit.ioPort;
  const size = exit.ioSize as AccessSize;
  const count = exit.ioCount;
  if (exit.ioIsOut) {
    if (count === 1) bus.write(port, size, exit.ioValue(0), now);
    else bus.writeString(port, size, exit.ioData().slice(), now);
  } else if (count === 1) {
    exit.setIoValue(bus.read(port, size, now) as number, 0);
  } else {
    exit.ioData().set(bus.readString(port, size, count, now) as Uint8Array);
  }
}

/**
 * Guest-physical accesses outside every memory slot: device windows answer; writes to the
 * read-only firmware alias and accesses to unbacked addresses behave like a PC's
 * (writes dropped, reads all ones). Counted so a user can see what the guest touched.
 */
export class MmioRouter {
  private readonly windows: MemoryWindowHandler[] = [];
  unclaimedReads = 0;
  droppedWrites = 0;

  add(w: MemoryWindowHandler): void {
    this.windows.push(w);
  }

  removeWindows(owner: string): void {
    for (let i = this.windows.length - 1; i >= 0; i--) if (this.windows[i].owner === owner) this.windows.splice(i, 1);
  }

  windowList(): Array<{ base: number; length: number }> {
    return this.windows.map((w) => ({ base: w.base, length: w.length }));
  }

  private window(address: number): MemoryWindowHandler | undefined {
    for (const w of this.windows) if (address >= w.base && address < w.base + w.length) return w;
    return undefined;
  }

  serve(exit: KvmRun, now: number): void {
    const address = exit.mmioPhysAddr;
    const length = exit.mmioLength;
    // 8-byte accesses (movq, cmpxchg8b) reach devices as two 4-byte halves.
    const parts = length === 8 ? 2 : 1;
    const size = (length === 8 ? 4 : length) as AccessSize;
    const data = exit.mmioData();
    const view = new DataView(data.buffer, data.byteOffset, 8);
    for (let i = 0; i < parts; i++) {
      const at = address + i * size;
      const w = this.window(at);
      if (exit.mmioIsWrite) {
        const value = size === 1 ? view.getUint8(i * 4) : size === 2 ? view.getUint16(i * 4, true) : view.getUint32(i * 4, true);
        if (w) w.memWrite(at, size, value, now);
        else this.droppedWrites++;
      } else {
        const value = w ? w.memRead(at, size, now) : size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
        if (!w) this.unclaimedReads++;
        if (size === 1) view.setUint8(i * 4, value);
        else if (size === 2) view.setUint16(i * 4, value, true);
        else view.setUint32(i * 4, value >>> 0, true);
      }
    }
  }
}
