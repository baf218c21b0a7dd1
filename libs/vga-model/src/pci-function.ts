/**
 * The adapter's PCI function (PCI Local Bus Specification 3.0, ch. 6 "Configuration
 * Space"): the Bochs/QEMU standard VGA identity 1234h:1111h, class 03h (display)
 * subclass 00h (VGA-compatible) prog-if 00h. BAR0 is the linear framebuffer (32-bit,
 * prefetchable memory, sized to the VBE memory), BAR2 an optional 4 KiB MMIO register
 * block, and the expansion ROM BAR exposes the option ROM image given in the config.
 * Configuration accesses never throw: misaligned or out-of-range ones are counted no-ops.
 */
import { allOnes, type AccessSize } from '@quasivm/device-sdk';
import { StateReader, encodeBase64 } from './state-io.js';

export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_BAR2 = 0x18;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
export const PCI_CONFIG_SIZE = 256;

export const PCI_COMMAND_IO = 0x0001;
export const PCI_COMMAND_MEMORY = 0x0002;
export const PCI_COMMAND_VGA_PALETTE_SNOOP = 0x0020;
export const PCI_COMMAND_INTX_DISABLE = 0x0400;
export const PCI_BAR_MEM_PREFETCH = 0x08;
export const PCI_ROM_ENABLE = 0x01;

export const VGA_PCI_VENDOR = 0x1234;
export const VGA_PCI_DEVICE = 0x1111;
export const VGA_PCI_SUBSYSTEM_VENDOR = 0x1af4;
export const VGA_PCI_SUBSYSTEM = 0x1100;
export const VGA_PCI_REVISION = 0x02;
export const VGA_PCI_CLASS_DISPLAY = 0x03;
export const VGA_PCI_SUBCLASS_VGA = 0x00;
export const VGA_MMIO_SIZE = 0x1000;
/** Smallest expansion ROM decode the spec allows (address bits 31-11). */
export const PCI_ROM_MIN_SIZE = 0x800;

export interface PciBar {
  base: number;
  length: number;
  /** Memory decoding is on (command bit 1, and for the ROM its enable bit). */
  enabled: boolean;
}

export interface VgaPciConfig {
  lfbSize: number;
  lfbBase: number;
  mmio: boolean;
  mmioBase: number;
  rom: Uint8Array | null;
}

export class VgaPciFunction {
  readonly config = new Uint8Array(PCI_CONFIG_SIZE);
  private readonly writeMask = new Uint8Array(PCI_CONFIG_SIZE);
  readonly romSize: number;
  /** Misaligned / out-of-range configuration accesses. */
  badAccesses = 0;

  constructor(private readonly cfg: VgaPciConfig) {
    const c = this.config;
    put(c, PCI_VENDOR_ID, 2, VGA_PCI_VENDOR);
    put(c, PCI_DEVICE_ID, 2, VGA_PCI_DEVICE);
    put(c, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    c[PCI_REVISION_ID] = VGA_PCI_REVISION;
    c[PCI_CLASS_PROG] = 0x00;
    c[PCI_CLASS_DEVICE] = VGA_PCI_SUBCLASS_VGA;
    c[PCI_CLASS_DEVICE + 1] = VGA_PCI_CLASS_DISPLAY;
    put(c, PCI_SUBSYSTEM_VENDOR_ID, 2, VGA_PCI_SUBSYSTEM_VENDOR);
    put(c, PCI_SUBSYSTEM_ID, 2, VGA_PCI_SUBSYSTEM);
    const m = this.writeMask;
    put(m, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_VGA_PALETTE_SNOOP | PCI_COMMAND_INTX_DISABLE);
    m[PCI_CACHE_LINE_SIZE] = 0xff;
    m[PCI_LATENCY_TIMER] = 0xff;
    m[PCI_INTERRUPT_LINE] = 0xff;
    put(m, PCI_BAR0, 4, ~(cfg.lfbSize - 1) >>> 0);
    put(c, PCI_BAR0, 4, ((cfg.lfbBase & ~(cfg.lfbSize - 1)) | PCI_BAR_MEM_PREFETCH) >>> 0);
    if (cfg.mmio) {
      put(m, PCI_BAR2, 4, ~(VGA_MMIO_SIZE - 1) >>> 0);
      put(c, PCI_BAR2, 4, (cfg.mmioBase & ~(VGA_MMIO_SIZE - 1)) >>> 0);
    }
    this.romSize = cfg.rom && cfg.rom.length > 0 ? pow2AtLeast(Math.max(cfg.rom.length, PCI_ROM_MIN_SIZE)) : 0;
    if (this.romSize) put(m, PCI_ROM_ADDRESS, 4, ((~(this.romSize - 1) & 0xfffff800) | PCI_ROM_ENABLE) >>> 0);
  }

  configRead(offset: number, size: AccessSize): number {
    if (!aligned(offset, size)) {
      this.badAccesses++;
      return allOnes(size);
    }
    return get(this.config, offset, size);
  }

  configWrite(offset: number, size: AccessSize, value: number): void {
    if (!aligned(offset, size)) {
      this.badAccesses++;
      return;
    }
    for (let i = 0; i < size; i++) {
      const m = this.writeMask[offset + i];
      const b = (value >>> (8 * i)) & 0xff;
      this.config[offset + i] = (this.config[offset + i] & ~m) | (b & m);
    }
  }

  get command(): number {
    return get(this.config, PCI_COMMAND, 2);
  }

  /** The linear framebuffer as BAR0 places it. */
  lfb(): PciBar {
    return { base: (get(this.config, PCI_BAR0, 4) & ~0xf) >>> 0, length: this.cfg.lfbSize, enabled: (this.command & PCI_COMMAND_MEMORY) !== 0 };
  }

  /** BAR2 MMIO block, or null when the config left it out. */
  mmio(): PciBar | null {
    if (!this.cfg.mmio) return null;
    const base = (get(this.config, PCI_BAR2, 4) & ~0xf) >>> 0;
    return { base, length: VGA_MMIO_SIZE, enabled: base !== 0 && (this.command & PCI_COMMAND_MEMORY) !== 0 };
  }

  /** The expansion ROM, or null without an image. */
  rom(): PciBar | null {
    if (!this.romSize) return null;
    const v = get(this.config, PCI_ROM_ADDRESS, 4);
    return { base: (v & 0xfffff800) >>> 0, length: this.romSize, enabled: (v & PCI_ROM_ENABLE) !== 0 && (this.command & PCI_COMMAND_MEMORY) !== 0 };
  }

  /** A byte of the option ROM image; beyond the image (up to the decoded size) reads 0. */
  romByte(offset: number): number {
    const rom = this.cfg.rom;
    return rom && offset >= 0 && offset < rom.length ? rom[offset] : 0;
  }

  save(): Record<string, unknown> {
    return { config: encodeBase64(this.config) };
  }

  /** Restores the writable bits only; identity and read-only bits stay this function's own. */
  load(r: StateReader): Uint8Array {
    const saved = r.bytes('config', PCI_CONFIG_SIZE);
    const out = this.config.slice();
    for (let i = 0; i < PCI_CONFIG_SIZE; i++) out[i] = (out[i] & ~this.writeMask[i]) | (saved[i] & this.writeMask[i]);
    if (get(saved, PCI_VENDOR_ID, 2) !== VGA_PCI_VENDOR || get(saved, PCI_DEVICE_ID, 2) !== VGA_PCI_DEVICE) {
      r.fail('config', 'is not the configuration space of a 1234:1111 VGA function');
    }
    return out;
  }

  /** Second half of a restore, once the whole blob parsed. */
  apply(config: Uint8Array): void {
    this.config.set(config);
  }
}

function aligned(offset: number, size: number): boolean {
  return Number.isInteger(offset) && (size === 1 || size === 2 || size === 4) && offset >= 0 && offset + size <= PCI_CONFIG_SIZE && offset % size === 0;
}

function get(b: Uint8Array, offset: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = (v * 256) + b[offset + i];
  return v >>> 0;
}

function put(b: Uint8Array, offset: number, size: number, value: number): void {
  for (let i = 0; i < size; i++) b[offset + i] = (value >>> (8 * i)) & 0xff;
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
