/**
 * The memory window protocol on the KVM backend (the device-facing half is
 * WindowedDevice): a window the device calls direct becomes a KVM memory slot with
 * KVM_MEM_LOG_DIRTY_PAGES over host memory filled from the device (MemoryFetch), so the
 * guest's accesses there run without exits. What the guest wrote is found with
 * KVM_GET_DIRTY_LOG (dirty pages) and a shadow copy of what the device has (the changed
 * byte range of each dirty page), and posted with MemorySync before the device's next
 * operation and at the display rate. When a window stops being direct (a planar mode) its
 * bytes are shipped, the slot is removed and accesses exit as MMIO to the device again.
 */
import { MappedMemory, PAGE_SIZE } from '@quasivm/kvm';
import type { BlockingFastLane, GuestTimeNs, PortRange, WindowModeInfo } from '@quasivm/device-sdk';
import type { RemoteIoProxy } from '../remote-io-bridge.js';
import { fetchWindowBytes, WindowedDevice, windowLane } from '../windowed-device.js';
import type { GuestMemory } from './kvm-memory-map.js';

/** MemoryFetch transfers stay well under a service's string limit (1 MiB by default). */
const FETCH_CHUNK = 256 * 1024;
const PAGE_WORDS = PAGE_SIZE / 4;

/** One direct window: host memory in a dirty-logged slot, and what the device last got. */
class SlotWindow {
  private readonly host: MappedMemory;
  private readonly shadow: Uint8Array;
  private readonly hostWords: Int32Array;
  private readonly shadowWords: Int32Array;
  readonly slot: number;

  constructor(
    readonly base: number,
    readonly length: number,
    readonly generation: number,
    private readonly memory: GuestMemory,
    private readonly lane: BlockingFastLane,
    now: GuestTimeNs,
    /** The device says the window reads all zeros: fresh host memory already does. */
    zero = false,
  ) {
    this.host = MappedMemory.allocate(length);
    try {
      // The slot first: KVM refuses one over another (a BAR being sized lands on the firmware) before 16 MiB are fetched for nothing.
      this.slot = memory.mapWindow(base, this.host);
    } catch (e) {
      this.host.free();
      throw e;
    }
    // The guest does not run meanwhile (this is its thread): filling after mapping is the same as before.
    try {
      for (let off = 0; off < length && !zero; off += FETCH_CHUNK) this.host.bytes.set(fetchWindowBytes(lane, base + off, Math.min(FETCH_CHUNK, length - off), now), off);
    } catch (e) {
      this.unmap();
      throw e;
    }
    this.shadow = this.host.bytes.slice();
    this.hostWords = new Int32Array(this.host.bytes.buffer, this.host.bytes.byteOffset, this.host.size / 4);
    this.shadowWords = new Int32Array(this.shadow.buffer);
  }

  /** Posts the changed bytes of every page the guest wrote since the last ship. */
  ship(now: GuestTimeNs): number {
    let bytes = 0;
    for (const page of this.memory.dirtyPages(this.slot)) {
      const w0 = page * PAGE_WORDS;
      let lo = w0;
      let hi = w0 + PAGE_WORDS;
      while (lo < hi && this.hostWords[lo] === this.shadowWords[lo]) lo++;
      if (lo === hi) continue; // written with the bytes it had
      while (this.hostWords[hi - 1] === this.shadowWords[hi - 1]) hi--;
      let start = lo * 4;
      let end = hi * 4;
      while (this.host.bytes[start] === this.shadow[start]) start++;
      while (this.host.bytes[end - 1] === this.shadow[end - 1]) end--;
      const data = this.host.bytes.slice(start, end);
      this.shadow.set(data, start);
      this.lane.post({ timeNs: now, size: 1, memorySync: { addr: this.base + start, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } });
      bytes += end - start;
    }
    return bytes;
  }

  /** Removes the slot (accesses exit as MMIO again) and frees the host memory (KVM has let go of it). */
  unmap(): void {
    this.memory.unmapWindow(this.slot);
    this.host.free();
  }

  /** Frees the host memory only (the VM, and with it the slot, is gone). */
  free(): void {
    this.host.free();
  }
}

/** Whether KVM can map a window: whole pages at a page-aligned address. */
function mappable(m: WindowModeInfo): boolean {
  return m.direct && m.length > 0 && m.base % PAGE_SIZE === 0 && m.length % PAGE_SIZE === 0;
}

/** A remote device behind the KVM backend's exits, with its direct windows in memory slots. */
export class KvmMappedWindows extends WindowedDevice {
  private windows: SlotWindow[] = [];

  constructor(
    proxy: RemoteIoProxy,
    lane: BlockingFastLane,
    modePorts: PortRange[],
    private readonly memory: GuestMemory,
    /** Told how many windows are mapped after each change (the main thread kicks at the display rate while any are). */
    private readonly mappedCount: (n: number) => void,
    /** A window KVM would not take (it keeps trapping). */
    private readonly refused: (reason: string) => void,
  ) {
    super(proxy, lane, modePorts);
  }

  /** A mapper when the device takes part in the protocol and the fast lane is there, else null. */
  static for(proxy: RemoteIoProxy, modePorts: PortRange[] | undefined, memory: GuestMemory, mappedCount: (n: number) => void, refused: (reason: string) => void): KvmMappedWindows | null {
    const lane = windowLane(proxy, modePorts);
    return lane ? new KvmMappedWindows(proxy, lane, modePorts!, memory, mappedCount, refused) : null;
  }

  get mapped(): number {
    return this.windows.length;
  }

  protected applyModes(modes: WindowModeInfo[], now: GuestTimeNs): boolean {
    const wanted = modes.filter(mappable);
    const same = (w: SlotWindow, m: WindowModeInfo) => w.base === m.base && w.length === m.length && w.generation === m.generation;
    const kept = this.windows.filter((w) => wanted.some((m) => same(w, m)));
    const dropped = this.windows.filter((w) => !kept.includes(w));
    // Old slots go first: a new window may overlap one (same place, newer generation).
    for (const w of dropped) w.unmap();
    const next = [...kept];
    for (const m of wanted) {
      if (kept.some((w) => same(w, m))) continue;
      try {
        next.push(new SlotWindow(m.base, m.length, m.generation, this.memory, this.lane, now, m.zero));
      } catch (e) {
        this.refused(`window 0x${m.base.toString(16)}+0x${m.length.toString(16)} stays trapped: ${(e as Error).message}`);
      }
    }
    const changed = dropped.length > 0 || next.length !== kept.length;
    this.windows = next;
    if (changed) this.mappedCount(next.length);
    return changed;
  }

  protected shipDirty(now: GuestTimeNs): number {
    let bytes = 0;
    for (let i = 0; i < this.windows.length; i++) bytes += this.windows[i].ship(now);
    return bytes;
  }

  /** Frees the windows' host memory; call after the VM is closed (a slot must not outlive its memory). */
  free(): void {
    for (const w of this.windows) w.free();
    this.windows = [];
  }
}
