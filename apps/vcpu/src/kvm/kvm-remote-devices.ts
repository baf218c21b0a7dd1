/**
 * Remote devices on a KVM machine, plugged exactly as the soft machine plugs them: each
 * device's RemoteIoProxy on the IoBus at its ports, its PCI functions on the host bridge,
 * its memory windows on the MMIO router (and out of guest RAM's slots); and re-routed
 * when the device decodes other ports or memory (Control.ClaimsChanged). A device in the
 * memory window protocol stands behind its KvmMappedWindows instead of the bare proxy.
 */
import type { IoBus } from '../io-bus.js';
import type { Chipset } from '../machine/chipset-wiring.js';
import type { MachineConfig } from '../machine/vm-config.js';
import type { FromCpu } from '../machine/worker-messages.js';
import { RemoteIoProxy, type BridgeBuffers } from '../remote-io-bridge.js';
import type { MmioRouter } from './kvm-io-exits.js';
import { KvmMappedWindows } from './kvm-mapped-windows.js';
import type { GuestMemory, Window } from './kvm-memory-map.js';

const TWO32 = 0x1_0000_0000;

type RemoteHandler = RemoteIoProxy | KvmMappedWindows;

export class KvmRemoteDevices {
  readonly proxies: RemoteIoProxy[] = [];
  /** Devices whose windows may be mapped as RAM, by device index. */
  private readonly mapped = new Map<number, KvmMappedWindows>();
  /** Windows mapped now, per device index (the main thread kicks at the display rate while any are). */
  private readonly mappedCounts = new Map<number, number>();

  constructor(
    private readonly config: MachineConfig,
    private readonly io: IoBus,
    private readonly mmio: MmioRouter,
    private readonly memory: GuestMemory,
    /** Called with every device window whenever one moves, so RAM slots leave them out. */
    private readonly windowsChanged: (all: Window[]) => void,
    /** Called with the number of windows mapped as RAM whenever it changes. */
    private readonly mappedWindows: (n: number) => void,
    private readonly send: (m: FromCpu) => void,
  ) {}

  plug(bridge: BridgeBuffers, chipset: Chipset, now: () => number): void {
    for (const slot of this.config.remoteDevices) {
      const proxy = new RemoteIoProxy(bridge, slot.index, slot.fastLane);
      this.proxies.push(proxy);
      const mapper = KvmMappedWindows.for(
        proxy,
        slot.windowModePorts,
        this.memory,
        (n) => this.countMapped(slot.index, n),
        (reason) => this.send({ type: 'event', kind: 'window-refused', detail: { device: slot.name, reason } }),
      );
      if (mapper) this.mapped.set(slot.index, mapper);
      const device: RemoteHandler = mapper ?? proxy;
      for (const r of slot.ports) this.io.insert(device, r.base, r.length, slot.name);
      (slot.pciFunctions ?? []).forEach((f, fn) =>
        chipset.pci.plug(f.device, f.function, {
          configRead: (offset, size) => device.pciConfigRead(fn, offset, size, now()),
          configWrite: (offset, size, value) => device.pciConfigWrite(fn, offset, size, value, now()),
        }),
      );
      this.mapWindows(slot.name, device, slot.memoryWindows);
    }
    for (const m of this.mapped.values()) m.refresh(now());
  }

  private countMapped(index: number, n: number): void {
    this.mappedCounts.set(index, n);
    this.mappedWindows([...this.mappedCounts.values()].reduce((a, b) => a + b, 0));
  }

  private mapWindows(owner: string, device: RemoteHandler, windows: Window[]): void {
    for (const w of windows) this.mmio.add({ owner, base: w.base, length: w.length, memRead: (a, s, t) => device.memRead(a, s, t), memWrite: (a, s, v, t) => device.memWrite(a, s, v, t) });
  }

  /** Between exits: ships mapped windows' dirty bytes when a display period has passed (or `force`). */
  tick(now: number, force = false): void {
    for (const m of this.mapped.values()) m.tick(now, force);
  }

  /** A device's WindowSyncRequest: its mapped windows' bytes, then WindowSynced, on its fast lane. */
  syncWindows(index: number, requestId: number, now: number): void {
    const mapper = this.mapped.get(index);
    if (mapper) return mapper.syncRequested(requestId, now);
    const lane = this.proxies.find((p) => p.deviceIndex === index)?.fastLane;
    lane?.post({ timeNs: now, size: 1, windowSynced: { requestId } });
    lane?.flush();
  }

  /** A Control.ClaimsChanged record: [index, portCount, (base, length)..., windowCount, (baseLo, baseHi, length)...]. */
  rerouteFromRecord(rec: Int32Array): void {
    const ports = rec.subarray(3, 3 + rec[2] * 2);
    const w = 3 + rec[2] * 2;
    const windows: Window[] = [];
    for (let i = 0; i < (rec[w] ?? 0); i++) windows.push({ base: (rec[w + 1 + i * 3] >>> 0) + rec[w + 2 + i * 3] * TWO32, length: rec[w + 3 + i * 3] >>> 0 });
    this.reroute(rec[1], ports, windows);
  }

  /** A remote device decodes other ports and memory now: route exactly those to it. */
  reroute(index: number, ranges: Int32Array, windows: Window[]): void {
    const slot = this.config.remoteDevices.find((d) => d.index === index);
    const proxy = this.proxies.find((p) => p.deviceIndex === index);
    if (!slot || !proxy) return;
    this.io.remove(slot.name);
    const device: RemoteHandler = this.mapped.get(index) ?? proxy;
    for (let i = 0; i < ranges.length; i += 2) {
      try {
        this.io.insert(device, ranges[i], ranges[i + 1], slot.name);
      } catch (e) {
        this.send({ type: 'event', kind: 'claims-refused', detail: { device: slot.name, reason: (e as Error).message } });
      }
    }
    this.mmio.removeWindows(slot.name);
    this.mapWindows(slot.name, device, windows);
    this.windowsChanged(this.mmio.windowList());
  }

  /**
   * Sends posted writes on the fast lanes now. Called before every KVM_RUN: the guest may
   * halt in the kernel next, and a write held back (programming a timer) would never go.
   */
  flush(): void {
    for (let i = 0; i < this.proxies.length; i++) this.proxies[i].flush();
  }

  close(): void {
    for (const p of this.proxies) p.close();
  }

  /** Frees mapped windows' host memory; after the VM is closed. */
  freeWindows(): void {
    for (const m of this.mapped.values()) m.free();
  }

  /** Time the CPU thread spent blocked on remote reads, ms. */
  get blockedMs(): number {
    return this.proxies.reduce((s, p) => s + p.blockedMs, 0);
  }
}
