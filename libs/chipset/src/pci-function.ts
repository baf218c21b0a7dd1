/**
 * One PCI function's 256-byte configuration space (PCI Local Bus Specification 3.0,
 * chapter 6 "Configuration Space", Figure 6-1 type 0 header), and the interface the
 * PCI host bridge uses to reach any function, wherever its model lives.
 */
import { DeviceStateError, type AccessSize } from '@quasivm/device-sdk';
import { StateReader, toBase64 } from './state-reader.js';

/** Type 0 header offsets (PCI 3.0 section 6.1, 6.2). */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a; // sub-class at 0x0A, base class at 0x0B
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_BAR_COUNT = 6;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
export const PCI_CONFIG_SPACE_SIZE = 256;
/** Device-specific registers start here. */
export const PCI_DEVICE_SPECIFIC = 0x40;

/** Command register bits (6.2.2). */
export const PCI_COMMAND_IO = 0x0001;
export const PCI_COMMAND_MEMORY = 0x0002;
export const PCI_COMMAND_MASTER = 0x0004;
export const PCI_COMMAND_PARITY = 0x0040;
export const PCI_COMMAND_SERR = 0x0100;
export const PCI_COMMAND_INTX_DISABLE = 0x0400;
/** Header type bit 7: the device has more than one function. */
export const PCI_HEADER_TYPE_MULTI_FUNCTION = 0x80;

/** BAR low bits (6.2.5.1). */
export const PCI_BAR_IO = 0x01;
export const PCI_BAR_MEM_TYPE_64 = 0x04;
export const PCI_BAR_MEM_PREFETCH = 0x08;
export const PCI_ROM_ENABLE = 0x01;

/** How the host bridge reaches a function: aligned accesses within its 256 bytes. */
export interface PciFunction {
  /** `offset` is aligned to `size` and below 256. */
  configRead(offset: number, size: AccessSize): number;
  configWrite(offset: number, size: AccessSize, value: number): void;
  /** Optional: the function's config state, saved with the host bridge. */
  saveConfig?(): Record<string, unknown>;
  /** Optional: validate a saved config state; returns the action that applies it. Throws DeviceStateError. */
  prepareLoadConfig?(state: unknown): () => void;
}

export interface PciBarDefinition {
  /** BAR number 0-5; a 64-bit BAR also takes the next one. */
  index: number;
  /** Size in bytes, a power of two (I/O >= 4, memory >= 16). */
  size: number;
  kind: 'io' | 'mem32' | 'mem64';
  prefetchable?: boolean;
}

export interface PciFunctionIdentity {
  vendorId: number;
  deviceId: number;
  revision?: number;
  /** class code as 0xBBSSPP: base class, sub-class, programming interface. */
  classCode: number;
  headerType?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** Interrupt pin 1-4 = INTA#-INTD#, 0 = none. */
  interruptPin?: number;
  status?: number;
  command?: number;
  /** Writable command bits (default I/O, memory, bus master, parity, SERR, INTx disable). */
  commandMask?: number;
  bars?: PciBarDefinition[];
  /** Expansion ROM size in bytes, power of two >= 2 KiB; 0 = none. */
  romSize?: number;
}

/**
 * A plain configuration space with per-byte write masks. BARs have their address bits
 * below the size hard-wired to zero, so writing all ones and reading back gives the size
 * mask (PCI 3.0 section 6.2.5.1). Device-specific bytes 0x40-0xFF are writable unless a
 * subclass says otherwise, and subclasses may react to writes in `afterWrite`.
 */
export class PciConfigFunction implements PciFunction {
  protected readonly config = new Uint8Array(PCI_CONFIG_SPACE_SIZE);
  protected readonly writable = new Uint8Array(PCI_CONFIG_SPACE_SIZE);

  constructor(identity: PciFunctionIdentity) {
    const c = this.config;
    const put16 = (o: number, v: number) => { c[o] = v & 0xff; c[o + 1] = (v >> 8) & 0xff; };
    put16(PCI_VENDOR_ID, identity.vendorId);
    put16(PCI_DEVICE_ID, identity.deviceId);
    put16(PCI_COMMAND, identity.command ?? 0);
    put16(PCI_STATUS, identity.status ?? 0);
    c[PCI_REVISION_ID] = identity.revision ?? 0;
    c[PCI_CLASS_PROG] = identity.classCode & 0xff;
    c[PCI_CLASS_DEVICE] = (identity.classCode >> 8) & 0xff;
    c[PCI_CLASS_DEVICE + 1] = (identity.classCode >> 16) & 0xff;
    c[PCI_HEADER_TYPE] = identity.headerType ?? 0;
    put16(PCI_SUBSYSTEM_VENDOR_ID, identity.subsystemVendorId ?? 0);
    put16(PCI_SUBSYSTEM_ID, identity.subsystemId ?? 0);
    c[PCI_INTERRUPT_PIN] = identity.interruptPin ?? 0;

    const commandMask = identity.commandMask ?? (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    this.writable[PCI_COMMAND] = commandMask & 0xff;
    this.writable[PCI_COMMAND + 1] = (commandMask >> 8) & 0xff;
    this.writable[PCI_CACHE_LINE_SIZE] = 0xff;
    this.writable[PCI_LATENCY_TIMER] = 0xff;
    this.writable[PCI_INTERRUPT_LINE] = 0xff;
    for (let i = PCI_DEVICE_SPECIFIC; i < PCI_CONFIG_SPACE_SIZE; i++) this.writable[i] = 0xff;

    for (const bar of identity.bars ?? []) this.defineBar(bar);
    if (identity.romSize) {
      if (!isPowerOfTwo(identity.romSize) || identity.romSize < 2048) throw new Error(`PCI ROM size ${identity.romSize} must be a power of two >= 2 KiB`);
      this.setMask32(PCI_ROM_ADDRESS, (~(identity.romSize - 1) & 0xfffff800) | PCI_ROM_ENABLE);
    }
  }

  /** Little-endian value of `size` bytes at `offset` (aligned). */
  configRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.config[offset + i];
    return v;
  }

  configWrite(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const b = Math.floor(value / 2 ** (8 * i)) & 0xff;
      const m = this.writable[o];
      this.config[o] = (this.config[o] & ~m) | (b & m);
    }
    this.afterWrite(offset, size);
  }

  saveConfig(): Record<string, unknown> {
    return { config: toBase64(this.config) };
  }

  prepareLoadConfig(state: unknown): () => void {
    const r = new StateReader(state, 'pci-function', 0, 'function.');
    const bytes = r.bytes('config', PCI_CONFIG_SPACE_SIZE);
    // Read-only bits must match this function: a blob of another device is refused.
    for (let i = 0; i < PCI_CONFIG_SPACE_SIZE; i++) {
      if ((bytes[i] & ~this.writable[i]) !== (this.config[i] & ~this.writable[i])) {
        throw new DeviceStateError(`PCI function state: read-only bits of config byte 0x${i.toString(16)} differ (another device?)`);
      }
    }
    return () => {
      this.config.set(bytes);
      this.afterLoad();
    };
  }

  /** Hook for subclasses: bytes [offset, offset+size) were written. */
  protected afterWrite(_offset: number, _size: number): void {}
  /** Hook for subclasses: the config space was replaced by a saved one. */
  protected afterLoad(): void {}

  protected setMask32(offset: number, mask: number): void {
    for (let i = 0; i < 4; i++) this.writable[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  private defineBar(bar: PciBarDefinition): void {
    const last = bar.kind === 'mem64' ? bar.index + 1 : bar.index;
    if (bar.index < 0 || last >= PCI_BAR_COUNT) throw new Error(`PCI BAR ${bar.index} out of range`);
    const minSize = bar.kind === 'io' ? 4 : 16;
    if (!isPowerOfTwo(bar.size) || bar.size < minSize) throw new Error(`PCI BAR ${bar.index} size ${bar.size} must be a power of two >= ${minSize}`);
    const off = PCI_BAR0 + 4 * bar.index;
    if (bar.kind === 'io') {
      this.setMask32(off, ~(bar.size - 1) & ~0x3);
      this.config[off] = PCI_BAR_IO;
      return;
    }
    const flags = (bar.kind === 'mem64' ? PCI_BAR_MEM_TYPE_64 : 0) | (bar.prefetchable ? PCI_BAR_MEM_PREFETCH : 0);
    this.config[off] = flags;
    const low = bar.size >= 2 ** 32 ? 0 : ~(bar.size - 1) & ~0xf;
    this.setMask32(off, low);
    if (bar.kind === 'mem64') {
      const high = bar.size > 2 ** 32 ? ~(bar.size / 2 ** 32 - 1) : 0xffffffff;
      this.setMask32(off + 4, high);
    }
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
