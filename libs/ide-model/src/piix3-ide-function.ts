import { allOnes, type AccessSize } from '@quasivm/device-sdk';
import { bytes, num, obj, str, toBase64, type Json } from './state-check.js';
import { DeviceStateError } from '@quasivm/device-sdk';

/**
 * PCI configuration space of the PIIX3 IDE function (Intel 82371SB datasheet, 2.7
 * "PCI configuration registers, IDE interface", function 1): 8086:7010, class code
 * 01 01 80 (mass storage, IDE, bus-master capable, legacy-mode channels).
 */
export const PIIX3_IDE_VENDOR_ID = 0x8086;
export const PIIX3_IDE_DEVICE_ID = 0x7010;

export enum PciReg {
  VendorId = 0x00,
  DeviceId = 0x02,
  Command = 0x04,
  Status = 0x06,
  RevisionId = 0x08,
  ProgIf = 0x09,
  SubClass = 0x0a,
  ClassCode = 0x0b,
  LatencyTimer = 0x0d,
  HeaderType = 0x0e,
  /** BMIBA: bus-master interface base address (BAR4), 16 bytes of I/O. */
  Bar4 = 0x20,
  /** IDETIM primary / secondary (16 bits each); bit 15 = IDE decode enable. */
  IdeTimPrimary = 0x40,
  IdeTimSecondary = 0x42,
  /** SIDETIM slave timing. */
  SideTim = 0x44,
}

export enum PciCommand {
  IO_SPACE = 0x0001,
  BUS_MASTER = 0x0004,
}

export const IDETIM_DECODE_ENABLE = 0x8000;
export const BUS_MASTER_BLOCK_SIZE = 16;

export class Piix3IdeFunction {
  private readonly space = new Uint8Array(256);
  private readonly writable = new Uint8Array(256);
  /** Config accesses that were misaligned or out of range (no-op). */
  badAccesses = 0;

  /** `busMasterBase`: initial BAR4 (0 = unassigned); legacy decode starts enabled. */
  constructor(busMasterBase = 0) {
    const s = this.space;
    put(s, PciReg.VendorId, 2, PIIX3_IDE_VENDOR_ID);
    put(s, PciReg.DeviceId, 2, PIIX3_IDE_DEVICE_ID);
    put(s, PciReg.Status, 2, 0x0280); // fast back-to-back capable, medium DEVSEL
    s[PciReg.ProgIf] = 0x80;
    s[PciReg.SubClass] = 0x01;
    s[PciReg.ClassCode] = 0x01;
    put(s, PciReg.Bar4, 4, 0x00000001); // I/O space indicator
    put(this.writable, PciReg.Command, 2, PciCommand.IO_SPACE | PciCommand.BUS_MASTER);
    this.writable[PciReg.LatencyTimer] = 0xf8;
    // All 32 bits of an I/O BAR take the written address above its size, as on a PCI device
    // (PCI 3.0 6.2.5.1): writing ones reads back 0xFFFFFFF1, so firmware sizes it as 16 ports.
    put(this.writable, PciReg.Bar4, 4, 0xfffffff0);
    put(this.writable, PciReg.IdeTimPrimary, 2, 0xf3ff);
    put(this.writable, PciReg.IdeTimSecondary, 2, 0xf3ff);
    this.writable[PciReg.SideTim] = 0xff;
    put(s, PciReg.IdeTimPrimary, 2, IDETIM_DECODE_ENABLE);
    put(s, PciReg.IdeTimSecondary, 2, IDETIM_DECODE_ENABLE);
    if (busMasterBase) {
      this.configWrite(PciReg.Bar4, 4, busMasterBase);
      this.configWrite(PciReg.Command, 2, PciCommand.IO_SPACE | PciCommand.BUS_MASTER);
    }
  }

  configRead(offset: number, size: AccessSize): number {
    if (!validAccess(offset, size)) {
      this.badAccesses++;
      return allOnes(size);
    }
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.space[offset + i] << (8 * i);
    return v >>> 0;
  }

  configWrite(offset: number, size: AccessSize, value: number): void {
    if (!validAccess(offset, size)) {
      this.badAccesses++;
      return;
    }
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const m = this.writable[o];
      this.space[o] = (this.space[o] & ~m) | ((value >>> (8 * i)) & m);
    }
  }

  /** I/O base of the bus-master registers, or null while not decoded. */
  get busMasterBase(): number | null {
    const base = (this.space[PciReg.Bar4] | (this.space[PciReg.Bar4 + 1] << 8)) & 0xfff0;
    return (this.space[PciReg.Command] & PciCommand.IO_SPACE) && base ? base : null;
  }

  get busMasterEnabled(): boolean {
    return (this.space[PciReg.Command] & PciCommand.BUS_MASTER) !== 0;
  }

  /** IDETIM bit 15 for channel 0 (primary) or 1 (secondary). */
  legacyDecodeEnabled(channel: 0 | 1): boolean {
    const off = channel === 0 ? PciReg.IdeTimPrimary : PciReg.IdeTimSecondary;
    return (this.space[off + 1] & 0x80) !== 0;
  }

  /** For a PCI host bridge that saves its functions' config (chipset PciFunction). */
  saveConfig(): Record<string, unknown> {
    return { device: 'piix3-ide-config', version: 1, space: this.save() };
  }

  prepareLoadConfig(state: unknown): () => void {
    const o = obj(state, 'pciConfig');
    str(o.device, 'pciConfig.device', ['piix3-ide-config']);
    num(o.version, 'pciConfig.version', 1, 1);
    const b = this.check(o.space, 'pciConfig.space');
    return () => this.restore(b);
  }

  save(): string {
    return toBase64(this.space);
  }

  /** Validates a saved space: same size, same read-only bytes. */
  check(v: Json, where: string): Uint8Array {
    const b = bytes(v, where, 256);
    if (b.length !== 256) throw new DeviceStateError(`${where}: expected 256 bytes of config space`);
    for (let i = 0; i < 256; i++) {
      if ((b[i] & ~this.writable[i]) !== (this.space[i] & ~this.writable[i])) {
        throw new DeviceStateError(`${where}: read-only byte 0x${i.toString(16)} differs (not a PIIX3 IDE config space)`);
      }
    }
    return b;
  }

  restore(b: Uint8Array): void {
    this.space.set(b);
  }
}

function put(a: Uint8Array, off: number, size: number, v: number): void {
  for (let i = 0; i < size; i++) a[off + i] = (v >>> (8 * i)) & 0xff;
}

function validAccess(offset: number, size: number): boolean {
  return Number.isInteger(offset) && offset >= 0 && offset + size <= 256 && (size === 1 || size === 2 || size === 4) && offset % size === 0;
}
