import { AtaReg, DeviceBit } from './ata-registers.js';
import { num, obj, type Json } from './state-check.js';

/** A Device register value with its head bits (3:0; in LBA28 the address's bits 27-24) set to `head`. */
export function deviceWithHead(device: number, head: number): number {
  return (device & ~DeviceBit.HeadMask) | (head & DeviceBit.HeadMask);
}

/**
 * One device's copy of the command block registers (ATA-6 7.1). Both devices on a channel
 * see every register write; each keeps its own copy and answers reads when selected.
 *
 * The 48-bit registers (Features, Sector Count, LBA Low/Mid/High) are two bytes deep
 * (ATA-6 6.20 "48-bit Address feature set"): each write pushes the previous value into
 * the "previous content" byte, read back with Device Control HOB = 1.
 */
export class TaskFile {
  features = 0;
  hobFeatures = 0;
  count = 0;
  hobCount = 0;
  lbaLow = 0;
  hobLbaLow = 0;
  lbaMid = 0;
  hobLbaMid = 0;
  lbaHigh = 0;
  hobLbaHigh = 0;
  device = 0;

  /** A host write to a command block register (offsets 1-6). */
  write(reg: AtaReg, value: number): void {
    const v = value & 0xff;
    switch (reg) {
      case AtaReg.ErrorFeatures:
        this.hobFeatures = this.features;
        this.features = v;
        break;
      case AtaReg.SectorCount:
        this.hobCount = this.count;
        this.count = v;
        break;
      case AtaReg.LbaLow:
        this.hobLbaLow = this.lbaLow;
        this.lbaLow = v;
        break;
      case AtaReg.LbaMid:
        this.hobLbaMid = this.lbaMid;
        this.lbaMid = v;
        break;
      case AtaReg.LbaHigh:
        this.hobLbaHigh = this.lbaHigh;
        this.lbaHigh = v;
        break;
      case AtaReg.Device:
        this.device = v;
        break;
      default:
        break;
    }
  }

  /** A host read of offsets 2-6; `hob` selects the previous content (Device Control bit 7). */
  read(reg: AtaReg, hob: boolean): number {
    switch (reg) {
      case AtaReg.SectorCount:
        return hob ? this.hobCount : this.count;
      case AtaReg.LbaLow:
        return hob ? this.hobLbaLow : this.lbaLow;
      case AtaReg.LbaMid:
        return hob ? this.hobLbaMid : this.lbaMid;
      case AtaReg.LbaHigh:
        return hob ? this.hobLbaHigh : this.lbaHigh;
      case AtaReg.Device:
        return this.device;
      default:
        return 0xff;
    }
  }

  get isLba(): boolean {
    return (this.device & DeviceBit.LBA) !== 0;
  }

  lba28(): number {
    return ((this.device & DeviceBit.HeadMask) << 24) | (this.lbaHigh << 16) | (this.lbaMid << 8) | this.lbaLow;
  }

  lba48(): number {
    // 48 bits exceed int32: build with multiplication.
    const hi = (this.hobLbaHigh << 16) | (this.hobLbaMid << 8) | this.hobLbaLow;
    const lo = (this.lbaHigh << 16) | (this.lbaMid << 8) | this.lbaLow;
    return hi * 0x1000000 + lo;
  }

  /** Sector count of a 28-bit command: 0 means 256 (ATA-6 8.27). */
  count28(): number {
    return this.count === 0 ? 256 : this.count;
  }

  /** Sector count of a 48-bit command: 0 means 65536 (ATA-6 8.28). */
  count48(): number {
    const c = (this.hobCount << 8) | this.count;
    return c === 0 ? 65536 : c;
  }

  setLba28(lba: number): void {
    this.lbaLow = lba & 0xff;
    this.lbaMid = (lba >>> 8) & 0xff;
    this.lbaHigh = (lba >>> 16) & 0xff;
    this.device = deviceWithHead(this.device, lba >>> 24);
  }

  setLba48(lba: number): void {
    const lo = lba % 0x1000000;
    const hi = Math.floor(lba / 0x1000000);
    this.lbaLow = lo & 0xff;
    this.lbaMid = (lo >>> 8) & 0xff;
    this.lbaHigh = (lo >>> 16) & 0xff;
    this.hobLbaLow = hi & 0xff;
    this.hobLbaMid = (hi >>> 8) & 0xff;
    this.hobLbaHigh = (hi >>> 16) & 0xff;
  }

  /** CHS fields: cylinder in LBA Mid/High, head in Device 3:0, sector in LBA Low. */
  get cylinder(): number {
    return (this.lbaHigh << 8) | this.lbaMid;
  }
  get head(): number {
    return this.device & DeviceBit.HeadMask;
  }
  get sector(): number {
    return this.lbaLow;
  }
  setChs(cylinder: number, head: number, sector: number): void {
    this.lbaMid = cylinder & 0xff;
    this.lbaHigh = (cylinder >>> 8) & 0xff;
    this.device = deviceWithHead(this.device, head);
    this.lbaLow = sector & 0xff;
  }

  save(): TaskFileState {
    return {
      features: this.features,
      hobFeatures: this.hobFeatures,
      count: this.count,
      hobCount: this.hobCount,
      lbaLow: this.lbaLow,
      hobLbaLow: this.hobLbaLow,
      lbaMid: this.lbaMid,
      hobLbaMid: this.hobLbaMid,
      lbaHigh: this.lbaHigh,
      hobLbaHigh: this.hobLbaHigh,
      device: this.device,
    };
  }

  static check(value: Json, where: string): TaskFileState {
    const o = obj(value, where);
    const out = {} as Record<keyof TaskFileState, number>;
    for (const k of TASK_FILE_FIELDS) out[k] = num(o[k], `${where}.${k}`, 0, 0xff);
    return out;
  }

  restore(s: TaskFileState): void {
    Object.assign(this, s);
  }
}

export interface TaskFileState {
  features: number;
  hobFeatures: number;
  count: number;
  hobCount: number;
  lbaLow: number;
  hobLbaLow: number;
  lbaMid: number;
  hobLbaMid: number;
  lbaHigh: number;
  hobLbaHigh: number;
  device: number;
}

const TASK_FILE_FIELDS: (keyof TaskFileState)[] = [
  'features', 'hobFeatures', 'count', 'hobCount', 'lbaLow', 'hobLbaLow',
  'lbaMid', 'hobLbaMid', 'lbaHigh', 'hobLbaHigh', 'device',
];
