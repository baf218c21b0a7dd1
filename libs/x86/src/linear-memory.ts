import type { CpuBus } from './cpu-bus.js';
import { MMIO_PAGE_SHIFT } from './cpu-bus.js';

/**
 * Byte, word and dword access by linear address: translation to a physical
 * address, then RAM or a device window. Paging (CR3 walk, TLB) will live
 * here, so segmentation in Cpu never needs to know about it.
 */
export class LinearMemory {
  private readonly ram: Uint8Array;
  private readonly mmioPages: Uint8Array;
  /** RAM pages that mmioPages describes; accesses beyond go to the bus's MMIO handler. */
  private readonly ramPages: number;

  constructor(
    private readonly bus: CpuBus,
    /** The CPU's own address width (20 bits on the 8086), ANDed with the bus's A20 mask. */
    private readonly addressMask: number,
  ) {
    this.ram = bus.ram;
    this.mmioPages = bus.mmioPages;
    this.ramPages = Math.min(this.mmioPages.length, this.ram.length >>> MMIO_PAGE_SHIFT);
  }

  /** Linear to physical: paging will slot in here; for now only the A20/bus mask applies. */
  toPhysical(linear: number): number {
    return (linear & this.bus.a20Mask & this.addressMask) >>> 0;
  }

  read8(linear: number): number {
    const p = this.toPhysical(linear);
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page < this.ramPages && this.mmioPages[page] === 0) return this.ram[p];
    return this.bus.mmio.read(p, 1) & 0xff;
  }

  write8(linear: number, value: number): void {
    const p = this.toPhysical(linear);
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page < this.ramPages && this.mmioPages[page] === 0) this.ram[p] = value;
    else this.bus.mmio.write(p, 1, value & 0xff);
  }

  read16(linear: number): number {
    if ((linear & 0xfff) !== 0xfff) {
      const p = this.toPhysical(linear);
      const page = p >>> MMIO_PAGE_SHIFT;
      if (page < this.ramPages && this.mmioPages[page] === 0) return this.ram[p] | (this.ram[p + 1] << 8);
      return this.bus.mmio.read(p, 2) & 0xffff;
    }
    return this.read8(linear) | (this.read8(linear + 1) << 8);
  }

  write16(linear: number, value: number): void {
    if ((linear & 0xfff) !== 0xfff) {
      const p = this.toPhysical(linear);
      const page = p >>> MMIO_PAGE_SHIFT;
      if (page < this.ramPages && this.mmioPages[page] === 0) {
        this.ram[p] = value;
        this.ram[p + 1] = value >>> 8;
      } else {
        this.bus.mmio.write(p, 2, value & 0xffff);
      }
      return;
    }
    this.write8(linear, value);
    this.write8(linear + 1, value >>> 8);
  }

  read32(linear: number): number {
    if ((linear & 0xfff) <= 0xffc) {
      const p = this.toPhysical(linear);
      const page = p >>> MMIO_PAGE_SHIFT;
      if (page < this.ramPages && this.mmioPages[page] === 0) {
        const ram = this.ram;
        return (ram[p] | (ram[p + 1] << 8) | (ram[p + 2] << 16) | (ram[p + 3] << 24)) >>> 0;
      }
      return this.bus.mmio.read(p, 4) >>> 0;
    }
    return (this.read16(linear) | (this.read16(linear + 2) << 16)) >>> 0;
  }

  write32(linear: number, value: number): void {
    if ((linear & 0xfff) <= 0xffc) {
      const p = this.toPhysical(linear);
      const page = p >>> MMIO_PAGE_SHIFT;
      if (page < this.ramPages && this.mmioPages[page] === 0) {
        const ram = this.ram;
        ram[p] = value;
        ram[p + 1] = value >>> 8;
        ram[p + 2] = value >>> 16;
        ram[p + 3] = value >>> 24;
      } else {
        this.bus.mmio.write(p, 4, value >>> 0);
      }
      return;
    }
    this.write16(linear, value);
    this.write16(linear + 2, value >>> 16);
  }
}
