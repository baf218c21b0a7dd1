/**
 * The guest-physical memory map of a KVM VM, as KVM memory slots: the firmware image at
 * the top of the 4 GiB space (slot 0, read-only when KVM can do that: writes then exit as
 * MMIO and are dropped, as on a ROM), guest RAM from 0 (one mmap, cut into slots around
 * device memory windows so accesses there exit as MMIO), and device windows the device
 * lets the vCPU map as RAM (slots of their own with the dirty-page log, inside those holes).
 */
import { Cap, type Kvm, type KvmVm, MappedMemory, MemFlag, PAGE_SIZE } from '@quasivm/kvm';
import { FOUR_GIB } from '../machine/firmware.js';

export interface Window {
  base: number;
  length: number;
}

const FIRMWARE_SLOT = 0;
const FIRST_RAM_SLOT = 1;
/** Mapped device windows take slots from here up; RAM pieces stay below. */
const FIRST_WINDOW_SLOT = 64;

/** [start, end) pieces of [0, size) not touched by any window, page aligned (windows widened to pages). */
export function ramPieces(size: number, windows: readonly Window[]): Array<[number, number]> {
  const holes = windows
    .map((w) => [Math.floor(w.base / PAGE_SIZE) * PAGE_SIZE, Math.ceil((w.base + w.length) / PAGE_SIZE) * PAGE_SIZE] as [number, number])
    .filter(([s, e]) => s < size && e > 0)
    .sort((a, b) => a[0] - b[0]);
  const pieces: Array<[number, number]> = [];
  let at = 0;
  for (const [s, e] of holes) {
    if (s > at) pieces.push([at, s]);
    at = Math.max(at, e);
  }
  if (at < size) pieces.push([at, size]);
  return pieces;
}

export class GuestMemory {
  readonly ram: MappedMemory;
  readonly firmwareAlias: MappedMemory;
  readonly firmwareBase: number;
  /** Whether the firmware alias is read-only for the guest. */
  readonly firmwareReadOnly: boolean;
  private ramSlots = 0;
  private readonly windowSlots = new Set<number>();

  /** Allocates guest RAM and the firmware alias and registers them with the VM. */
  constructor(kvm: Kvm, private readonly vm: KvmVm, ramBytes: number, firmware: Uint8Array, windows: readonly Window[]) {
    if (firmware.length === 0 || firmware.length % PAGE_SIZE !== 0) throw new RangeError(`firmware of ${firmware.length} bytes: KVM maps whole pages, so it must be a multiple of 4 KiB`);
    this.ram = MappedMemory.allocate(ramBytes);
    this.firmwareAlias = MappedMemory.allocate(firmware.length);
    try {
      this.firmwareAlias.load(0, firmware);
      this.firmwareReadOnly = kvm.checkExtension(Cap.READONLY_MEM) > 0;
      this.firmwareBase = FOUR_GIB - this.firmwareAlias.size;
      vm.setUserMemoryRegion({ slot: FIRMWARE_SLOT, guestPhysAddr: this.firmwareBase, memory: this.firmwareAlias, flags: this.firmwareReadOnly ? MemFlag.READONLY : 0 });
      this.mapRam(windows);
    } catch (e) {
      this.free();
      throw e;
    }
  }

  /** (Re)registers RAM around the current device windows. Call between exits only. */
  mapRam(windows: readonly Window[]): void {
    for (let i = 0; i < this.ramSlots; i++) this.vm.deleteUserMemoryRegion(FIRST_RAM_SLOT + i);
    const pieces = ramPieces(this.ram.size, windows);
    if (pieces.length > FIRST_WINDOW_SLOT - FIRST_RAM_SLOT) throw new RangeError(`guest RAM cut into ${pieces.length} pieces by device windows: too many memory slots`);
    pieces.forEach(([start, end], i) => this.vm.setUserMemoryRegion({ slot: FIRST_RAM_SLOT + i, guestPhysAddr: start, memory: this.ram, offset: start, size: end - start }));
    this.ramSlots = pieces.length;
  }

  /**
   * Maps `memory` at guest-physical `base` as RAM with the dirty-page log on (a device
   * window the device lets the vCPU map); returns the slot. It must lie in a hole of RAM's
   * slots (a device window). Call between exits only.
   */
  mapWindow(base: number, memory: MappedMemory): number {
    let slot = FIRST_WINDOW_SLOT;
    while (this.windowSlots.has(slot)) slot++;
    this.vm.setUserMemoryRegion({ slot, guestPhysAddr: base, memory, flags: MemFlag.LOG_DIRTY_PAGES });
    this.windowSlots.add(slot);
    return slot;
  }

  /** Removes a window slot: accesses there exit as MMIO again. */
  unmapWindow(slot: number): void {
    if (!this.windowSlots.delete(slot)) return;
    this.vm.deleteUserMemoryRegion(slot);
  }

  /** Pages (from the slot's start) the guest wrote since the previous call (KVM_GET_DIRTY_LOG). */
  dirtyPages(slot: number): number[] {
    return this.vm.getDirtyLog(slot).dirtyPages();
  }

  free(): void {
    this.ram.free();
    this.firmwareAlias.free();
  }
}
