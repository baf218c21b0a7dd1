/**
 * The device-facing half of the memory window protocol (DESIGN.md "Memory that devices
 * own"; device.proto WindowQuery / MemoryFetch / MemorySync / WindowSynced), shared by both
 * CPU backends: a remote device that names window-mode ports stands behind this on the I/O
 * bus, the PCI bus and its trapped windows. Every operation of the session first ships
 * what the guest wrote to the direct windows, so the device sees memory and port writes in
 * guest order; after a write to a window-mode port or to PCI configuration space the modes
 * are asked again before the guest runs on. How a direct window is held and how its dirty
 * bytes are found is the backend's (soft: a RAM copy with dirty ranges; KVM: a memory slot
 * with the dirty-page log).
 *
 * Works over the fast lane only (the CPU thread talks to the device itself); without one
 * every access traps.
 */
import type { AccessSize, BlockingFastLane, GuestTimeNs, PortRange, WindowModeInfo } from '@quasivm/device-sdk';
import type { IoHandler } from './io-bus.js';
import type { RemoteIoProxy } from './remote-io-bridge.js';

/** Dirty window bytes go out at least this often while the guest runs (host time, ~60 Hz). */
export const DISPLAY_PERIOD_MS = 16;

/** Whether window mapping is on for a device: it takes part in the protocol and has a fast lane. */
export function windowLane(proxy: RemoteIoProxy, modePorts: PortRange[] | undefined): BlockingFastLane | null {
  const lane = proxy.fastLane;
  if (!lane || !modePorts || modePorts.length === 0 || process.env.QUASIVM_MAP_WINDOWS === '0') return null;
  return lane;
}

/** MemoryFetch: the device's current bytes of [addr, addr + length); all ones when it does not answer. */
export function fetchWindowBytes(lane: BlockingFastLane, addr: number, length: number, now: GuestTimeNs): Uint8Array {
  const e = lane.request((seq) => ({ timeNs: now, size: 1, memoryFetch: { seq, addr, length } }));
  const data = e.readReply?.data;
  return data && data.byteLength === length ? new Uint8Array(data) : new Uint8Array(length).fill(0xff);
}

export abstract class WindowedDevice implements IoHandler {
  private lastShip = performance.now();
  /** QUASIVM_DISPLAY_PERIOD_MS changes the display rate (tests set it huge to see that sync requests alone deliver). */
  private readonly periodMs = Number(process.env.QUASIVM_DISPLAY_PERIOD_MS) || DISPLAY_PERIOD_MS;
  /** Window bytes shipped, for stats and benches. */
  shippedBytes = 0;

  constructor(
    protected readonly proxy: RemoteIoProxy,
    protected readonly lane: BlockingFastLane,
    private readonly modePorts: PortRange[],
  ) {}

  /** Posts what the guest wrote to the direct windows since the last ship (bytes posted). */
  protected abstract shipDirty(now: GuestTimeNs): number;

  /** Holds exactly the direct windows of `modes` from now on; true when that set changed. */
  protected abstract applyModes(modes: WindowModeInfo[], now: GuestTimeNs): boolean;

  /** Called after the direct set changed (the soft machine re-registers the device's windows). */
  protected onRemap(): void {}

  /** Posts the dirty window bytes now. */
  ship(now: GuestTimeNs): void {
    this.shippedBytes += this.shipDirty(now);
  }

  /** Between guest runs: ships when a display period has passed (or `force`). */
  tick(now: GuestTimeNs, force = false): void {
    const t = performance.now();
    if (!force && t - this.lastShip < this.periodMs) return;
    this.lastShip = t;
    this.ship(now);
  }

  /** The device's WindowSyncRequest: everything written so far, then WindowSynced, sent now. */
  syncRequested(requestId: number, now: GuestTimeNs): void {
    this.ship(now);
    this.lane.post({ timeNs: now, size: 1, windowSynced: { requestId } });
    this.lane.flush();
  }

  /** Asks the device for its window modes (after shipping) and applies them. */
  refresh(now: GuestTimeNs): void {
    this.ship(now);
    const e = this.lane.request((seq) => ({ timeNs: now, size: 1, windowQuery: { seq } }));
    const modes: WindowModeInfo[] = (e.readReply?.windows ?? []).map((w) => ({ base: Number(w.base), length: Number(w.length), direct: w.direct, generation: Number(w.generation), zero: w.zero }));
    if (this.applyModes(modes, now)) this.onRemap();
  }

  private isModePort(port: number, size: number): boolean {
    return this.modePorts.some((r) => port < r.base + r.length && port + size > r.base);
  }

  // ---- the device's operations, each after the guest's earlier memory writes

  ioRead(port: number, size: AccessSize, now: GuestTimeNs): number {
    this.ship(now);
    return this.proxy.ioRead(port, size, now);
  }

  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.ship(now);
    this.proxy.ioWrite(port, size, value, now);
    if (this.isModePort(port, size)) this.refresh(now);
  }

  ioReadString(port: number, size: AccessSize, count: number, now: GuestTimeNs): Uint8Array {
    this.ship(now);
    return this.proxy.ioReadString(port, size, count, now);
  }

  ioWriteString(port: number, size: AccessSize, data: Uint8Array, now: GuestTimeNs): void {
    this.ship(now);
    this.proxy.ioWriteString(port, size, data, now);
    if (this.isModePort(port, size)) this.refresh(now);
  }

  memRead(addr: number, size: AccessSize, now: GuestTimeNs): number {
    this.ship(now);
    return this.proxy.memRead(addr, size, now);
  }

  memWrite(addr: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.ship(now);
    this.proxy.memWrite(addr, size, value, now);
  }

  pciConfigRead(fn: number, offset: number, size: AccessSize, now: GuestTimeNs): number {
    this.ship(now);
    return this.proxy.pciConfigRead(fn, offset, size, now);
  }

  /** A configuration write may move or (dis)able the LFB BAR: ask the modes again. */
  pciConfigWrite(fn: number, offset: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    this.ship(now);
    this.proxy.pciConfigWrite(fn, offset, size, value, now);
    this.refresh(now);
  }
}
