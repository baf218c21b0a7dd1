/**
 * Motorola MC146818A real-time clock with 128 bytes of CMOS RAM, as on the PC/AT
 * (index port 0x70, data port 0x71, IRQ8). Register references are to the MC146818A
 * datasheet ("Address Map" Figure 4 / Table 2, "Register A".."Register D"); the CMOS
 * RAM layout is the IBM PC/AT BIOS convention as SeaBIOS and QEMU use it.
 *
 * Time: the wall clock is `baseEpochMs` (config) at guest time 0, advanced by the guest
 * time `now` of each access. The model never reads a host clock. The guest may set the
 * clock (SET bit, then writes to the time registers); the clock is kept as "epoch second
 * S at guest time T", and time registers are encoded from it on every read, so a switch
 * of data mode (DM) or 12/24h takes effect at once (the chip would not convert).
 *
 * Interrupts: IRQ8 is edge-triggered on the PC/AT, so the model pulses it. Timed events
 * (periodic, update-ended, alarm) are delivered by the host through setIrqDeadline, one
 * deadline for the line: the periodic rate when PIE is set, else every second for UIE,
 * else the next alarm match for AIE. Register C flags are computed from guest time at
 * each access, independent of the enables, as the datasheet describes.
 *
 * Not modelled: the divider-chain bits (DV) other than as stored bits, square-wave
 * output, daylight saving (DSE is stored only), per-field invalid time values (a write
 * of an out-of-range field is normalised through the calendar).
 * Not state: the host, the access counters, the last deadline given to the host.
 */
import { allOnes, DeviceStateError, type AccessSize, type DeviceHost, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { CMOS_RTC_IRQ, CMOS_RTC_PORTS } from './ports.js';
import { splitGuestRam, DEFAULT_LOW_RAM_LIMIT } from './ram-layout.js';
import { AccessCounters, StateReader, toBase64 } from './state-reader.js';

/** Port offsets. */
export const CMOS_INDEX_PORT_OFFSET = 0; // 0x70: index, bit 7 = NMI disable (PC/AT)
export const CMOS_DATA_PORT_OFFSET = 1; // 0x71
export const CMOS_NMI_DISABLE = 0x80;

/** MC146818A address map (datasheet Table 2). */
export const RTC_SECONDS = 0x00;
export const RTC_SECONDS_ALARM = 0x01;
export const RTC_MINUTES = 0x02;
export const RTC_MINUTES_ALARM = 0x03;
export const RTC_HOURS = 0x04;
export const RTC_HOURS_ALARM = 0x05;
export const RTC_DAY_OF_WEEK = 0x06;
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;

/** Register A bits. */
export const REG_A_UIP = 0x80; // update in progress
export const REG_A_DV_MASK = 0x70; // divider select; 010 = 32.768 kHz time base
export const REG_A_RS_MASK = 0x0f; // periodic rate select
/** Register B bits. */
export const REG_B_SET = 0x80;
export const REG_B_PIE = 0x40;
export const REG_B_AIE = 0x20;
export const REG_B_UIE = 0x10;
export const REG_B_SQWE = 0x08;
export const REG_B_DM_BINARY = 0x04;
export const REG_B_24H = 0x02;
export const REG_B_DSE = 0x01;
/** Register C bits (read clears). */
export const REG_C_IRQF = 0x80;
export const REG_C_PF = 0x40;
export const REG_C_AF = 0x20;
export const REG_C_UF = 0x10;
/** Register D: valid RAM and time. */
export const REG_D_VRT = 0x80;
/** Hours register bit 7 in 12-hour mode. */
export const HOURS_PM = 0x80;
/** Alarm byte values 0xC0-0xFF match any value ("don't care"). */
export const ALARM_DONT_CARE = 0xc0;

/** Update cycle timing (datasheet "Update Cycle"): UIP rises 244 us before, cycle lasts 1984 us. */
export const UIP_LEAD_NS = 244_000;
export const UPDATE_CYCLE_NS = 1_984_000;
/** Time base of the periodic interrupt and divider chain. */
export const RTC_TIME_BASE_HZ = 32_768;

/** PC/AT CMOS RAM layout (IBM AT Technical Reference; SeaBIOS src/hw/rtc.h names). */
export const CMOS_SHUTDOWN_STATUS = 0x0f;
export const CMOS_FLOPPY_DRIVE_TYPE = 0x10;
export const CMOS_DISK_DATA = 0x12;
export const CMOS_EQUIPMENT_INFO = 0x14;
export const CMOS_MEM_BASE_LOW = 0x15;
export const CMOS_MEM_BASE_HIGH = 0x16;
export const CMOS_MEM_EXTMEM_LOW = 0x17;
export const CMOS_MEM_EXTMEM_HIGH = 0x18;
export const CMOS_DISK_DRIVE1_TYPE = 0x19;
export const CMOS_DISK_DRIVE2_TYPE = 0x1a;
export const CMOS_CHECKSUM_HIGH = 0x2e;
export const CMOS_CHECKSUM_LOW = 0x2f;
export const CMOS_MEM_EXTMEM2_LOW = 0x30;
export const CMOS_MEM_EXTMEM2_HIGH = 0x31;
export const CMOS_CENTURY = 0x32;
export const CMOS_MEM_ABOVE_16M_LOW = 0x34;
export const CMOS_MEM_ABOVE_16M_HIGH = 0x35;
export const CMOS_BIOS_BOOTFLAG1 = 0x38;
export const CMOS_BIOS_BOOTFLAG2 = 0x3d;
export const CMOS_MEM_HIGHMEM_LOW = 0x5b;
export const CMOS_MEM_HIGHMEM_MID = 0x5c;
export const CMOS_MEM_HIGHMEM_HIGH = 0x5d;
export const CMOS_BIOS_SMP_COUNT = 0x5f;
/** The standard checksum covers 0x10-0x2D and is stored big-endian at 0x2E/0x2F. */
export const CMOS_CHECKSUM_FIRST = 0x10;
export const CMOS_CHECKSUM_LAST = 0x2d;
export const CMOS_SIZE = 128;

/** Equipment byte 0x14 bits (AT Technical Reference). */
export const EQUIPMENT_FLOPPY_PRESENT = 0x01;
export const EQUIPMENT_FPU = 0x02;
export const EQUIPMENT_PS2_MOUSE = 0x04; // QEMU sets it; not in the original AT layout
/** Diskette types for 0x10 nibbles. */
export const FLOPPY_TYPE = { none: 0, '360K': 1, '1.2M': 2, '720K': 3, '1.44M': 4, '2.88M': 5 } as const;
export type FloppyType = keyof typeof FLOPPY_TYPE;
/** Boot device nibbles of 0x3D/0x38 as SeaBIOS reads them on QEMU. */
export const BOOT_DEVICE_CODE = { floppy: 1, disk: 2, cdrom: 3, network: 4 } as const;
export type BootDevice = keyof typeof BOOT_DEVICE_CODE;
/** Fixed disk type 47: user-defined, as QEMU reports a present disk in 0x19/0x1A. */
export const DISK_TYPE_USER_DEFINED = 47;

export interface CmosRtcConfig {
  base?: number;
  irq?: number;
  /** Wall-clock time at guest time 0, in ms since the Unix epoch (UTC or local, caller's choice). */
  baseEpochMs: number;
  /** Total guest RAM in bytes. */
  ramSize: number;
  /** Where RAM stops below 4 GiB (start of the PCI hole); default 3 GiB. */
  lowRamLimit?: number;
  cpuCount?: number;
  floppies?: FloppyType[];
  /** Number of IDE hard disks on the primary channel (0-2), reported in 0x12/0x19/0x1A. */
  hardDisks?: number;
  /** Up to three boot devices, first first (default disk, cdrom, floppy as QEMU's "cad"). */
  bootOrder?: BootDevice[];
  /** Whether the BIOS should check the floppy boot signature (0x38 bit 0 clear). Default true. */
  floppySignatureCheck?: boolean;
}

const STATE_NAME = 'cmos-rtc';
const STATE_VERSION = 1;
const NS_PER_S = 1_000_000_000;

interface Clock {
  /** Epoch second shown at guest time `atNs` (the start of that second). */
  epochSec: number;
  atNs: number;
  /** While SET is on, the clock is stopped at this epoch second. */
  frozenSec: number | null;
}

export class CmosRtc implements DeviceModel {
  readonly base: number;
  readonly irq: number;
  readonly counters = new AccessCounters();

  private cmos = new Uint8Array(CMOS_SIZE);
  private index = 0;
  private nmiDisabled = false;
  private clock: Clock;
  private regC = 0;
  /** Guest time up to which register C flags have been brought. */
  private flagsNs = 0;
  private lastDeadline: { at: number | null; period?: number } = { at: null };

  constructor(private readonly host: DeviceHost, config: CmosRtcConfig) {
    this.base = config.base ?? CMOS_RTC_PORTS.base;
    this.irq = config.irq ?? CMOS_RTC_IRQ;
    if (!Number.isFinite(config.baseEpochMs)) throw new Error('CmosRtc: baseEpochMs must be a number of ms since the epoch');
    const baseMs = Math.floor(config.baseEpochMs);
    this.clock = { epochSec: Math.floor(baseMs / 1000), atNs: -mod(baseMs, 1000) * 1_000_000, frozenSec: null };
    this.cmos[RTC_REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    this.cmos[RTC_REG_B] = REG_B_24H; // BCD, 24-hour
    this.cmos[RTC_REG_D] = REG_D_VRT;
    this.fillConfiguration(config);
  }

  /** Whether NMIs are masked by bit 7 of the last index write (PC/AT convention). */
  get nmiMasked(): boolean {
    return this.nmiDisabled;
  }

  /** The wall-clock time the RTC shows at guest time `now`, ms since the epoch. */
  epochMsAt(now: GuestTimeNs): number {
    return this.currentSec(now) * 1000;
  }

  /** Direct CMOS byte access for the wiring/tests (no side effects, clock bytes excluded). */
  peekByte(index: number): number {
    return this.cmos[index & 0x7f];
  }

  ioRead(port: number, size: AccessSize, now: GuestTimeNs): number {
    const offset = port - this.base;
    if (offset !== CMOS_INDEX_PORT_OFFSET && offset !== CMOS_DATA_PORT_OFFSET) {
      this.counters.unknownRegister++;
      return allOnes(size);
    }
    if (size !== 1) {
      this.counters.badWidth++;
      return allOnes(size);
    }
    if (offset === CMOS_INDEX_PORT_OFFSET) return 0xff; // the index register is write-only
    return this.readRegister(this.index, now);
  }

  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    const offset = port - this.base;
    if (offset !== CMOS_INDEX_PORT_OFFSET && offset !== CMOS_DATA_PORT_OFFSET) {
      this.counters.unknownRegister++;
      return;
    }
    if (size !== 1) {
      this.counters.badWidth++;
      return;
    }
    value &= 0xff;
    if (offset === CMOS_INDEX_PORT_OFFSET) {
      this.index = value & 0x7f;
      this.nmiDisabled = (value & CMOS_NMI_DISABLE) !== 0;
      return;
    }
    this.writeRegister(this.index, value, now);
  }

  saveState(): DeviceState {
    return {
      device: STATE_NAME,
      version: STATE_VERSION,
      cmos: toBase64(this.cmos),
      index: this.index,
      nmiDisabled: this.nmiDisabled,
      clockEpochSec: this.clock.epochSec,
      clockAtNs: this.clock.atNs,
      frozenSec: this.clock.frozenSec,
      regC: this.regC,
      flagsNs: this.flagsNs,
    };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const cmos = r.bytes('cmos', CMOS_SIZE);
    const index = r.int('index', 0, 0x7f);
    const nmiDisabled = r.bool('nmiDisabled');
    const epochSec = r.int('clockEpochSec', -1e13, 1e13);
    const atNs = r.num('clockAtNs', -Number.MAX_VALUE, Number.MAX_VALUE);
    const frozenSec = state.frozenSec === null ? null : r.int('frozenSec', -1e13, 1e13);
    const regC = r.int('regC', 0, 0x70);
    const flagsNs = r.num('flagsNs', -Number.MAX_VALUE, Number.MAX_VALUE);
    if ((frozenSec === null) !== ((cmos[RTC_REG_B] & REG_B_SET) === 0)) {
      throw new DeviceStateError('cmos-rtc: frozenSec must be set exactly when register B has SET');
    }
    this.cmos = cmos;
    this.index = index;
    this.nmiDisabled = nmiDisabled;
    this.clock = { epochSec, atNs, frozenSec };
    this.regC = regC;
    this.flagsNs = flagsNs;
    this.scheduleDeadline(flagsNs);
  }

  // --- registers ---

  private readRegister(reg: number, now: GuestTimeNs): number {
    switch (reg) {
      case RTC_SECONDS:
      case RTC_MINUTES:
      case RTC_HOURS:
      case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH:
      case RTC_MONTH:
      case RTC_YEAR:
      case CMOS_CENTURY:
        return this.timeRegisters(this.currentSec(now))[reg];
      case RTC_REG_A:
        return (this.cmos[RTC_REG_A] & ~REG_A_UIP) | (this.updateInProgress(now) ? REG_A_UIP : 0);
      case RTC_REG_C: {
        this.advanceFlags(now);
        const value = this.regC | (this.irqFlag() ? REG_C_IRQF : 0);
        this.regC = 0; // reading C clears all flags and IRQF
        this.scheduleDeadline(now);
        return value;
      }
      case RTC_REG_D:
        return REG_D_VRT;
      default:
        return this.cmos[reg];
    }
  }

  private writeRegister(reg: number, value: number, now: GuestTimeNs): void {
    switch (reg) {
      case RTC_SECONDS:
      case RTC_MINUTES:
      case RTC_HOURS:
      case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH:
      case RTC_MONTH:
      case RTC_YEAR:
      case CMOS_CENTURY:
        this.advanceFlags(now);
        this.setTimeField(reg, value, now);
        this.scheduleDeadline(now);
        return;
      case RTC_REG_A:
        this.advanceFlags(now);
        this.cmos[RTC_REG_A] = value & ~REG_A_UIP; // UIP is read-only
        this.scheduleDeadline(now);
        return;
      case RTC_REG_B:
        this.writeRegisterB(value, now);
        return;
      case RTC_REG_C:
      case RTC_REG_D:
        this.counters.unknownRegister++; // read-only registers
        return;
      default:
        this.cmos[reg] = value;
    }
  }

  private writeRegisterB(value: number, now: GuestTimeNs): void {
    this.advanceFlags(now);
    const old = this.cmos[RTC_REG_B];
    if (value & REG_B_SET) value &= ~REG_B_UIE; // "UIE is cleared when SET goes high"
    if (value & REG_B_SET && !(old & REG_B_SET)) {
      this.clock.frozenSec = this.currentSec(now);
    } else if (!(value & REG_B_SET) && old & REG_B_SET) {
      // The divider restarts: the next update is one second after SET is cleared.
      this.clock = { epochSec: this.clock.frozenSec!, atNs: now, frozenSec: null };
    }
    const wasIrq = this.irqFlag();
    this.cmos[RTC_REG_B] = value;
    this.flagsNs = now;
    // An enable for a flag that is already set asserts IRQF, and the IRQ, at once.
    if (this.irqFlag() && !wasIrq) this.pulseIrq();
    this.scheduleDeadline(now);
  }

  private irqFlag(): boolean {
    // IRQF = PF.PIE + AF.AIE + UF.UIE; the flag and enable bits share positions.
    return (this.regC & this.cmos[RTC_REG_B] & (REG_B_PIE | REG_B_AIE | REG_B_UIE)) !== 0;
  }

  private pulseIrq(): void {
    this.host.setIrq(this.irq, true);
    this.host.setIrq(this.irq, false);
  }

  // --- time ---

  private currentSec(now: GuestTimeNs): number {
    if (this.clock.frozenSec !== null) return this.clock.frozenSec;
    return this.clock.epochSec + Math.floor((now - this.clock.atNs) / NS_PER_S);
  }

  private updateInProgress(now: GuestTimeNs): boolean {
    if (this.clock.frozenSec !== null) return false;
    const phase = mod(now - this.clock.atNs, NS_PER_S);
    return phase >= NS_PER_S - UIP_LEAD_NS || phase < UPDATE_CYCLE_NS - UIP_LEAD_NS;
  }

  private get binary(): boolean {
    return (this.cmos[RTC_REG_B] & REG_B_DM_BINARY) !== 0;
  }

  private encode(v: number): number {
    return this.binary ? v : toBcd(v);
  }

  private decode(v: number): number {
    return this.binary ? v : fromBcd(v);
  }

  private encodeHours(h: number): number {
    if (this.cmos[RTC_REG_B] & REG_B_24H) return this.encode(h);
    return this.encode(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? HOURS_PM : 0);
  }

  private decodeHours(v: number): number {
    if (this.cmos[RTC_REG_B] & REG_B_24H) return this.decode(v);
    const h12 = this.decode(v & ~HOURS_PM) % 12;
    return v & HOURS_PM ? h12 + 12 : h12;
  }

  /** The time registers, indexed by register number, for an epoch second. */
  private timeRegisters(sec: number): Record<number, number> {
    const d = new Date(sec * 1000);
    const year = d.getUTCFullYear();
    return {
      [RTC_SECONDS]: this.encode(d.getUTCSeconds()),
      [RTC_MINUTES]: this.encode(d.getUTCMinutes()),
      [RTC_HOURS]: this.encodeHours(d.getUTCHours()),
      [RTC_DAY_OF_WEEK]: this.encode(d.getUTCDay() + 1), // 1 = Sunday
      [RTC_DAY_OF_MONTH]: this.encode(d.getUTCDate()),
      [RTC_MONTH]: this.encode(d.getUTCMonth() + 1),
      [RTC_YEAR]: this.encode(mod(year, 100)),
      [CMOS_CENTURY]: this.encode(Math.floor(year / 100)),
    };
  }

  private setTimeField(reg: number, value: number, now: GuestTimeNs): void {
    const sec = this.currentSec(now);
    const d = new Date(sec * 1000);
    let [year, month, day, h, m, s] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    switch (reg) {
      case RTC_SECONDS: s = this.decode(value); break;
      case RTC_MINUTES: m = this.decode(value); break;
      case RTC_HOURS: h = this.decodeHours(value); break;
      case RTC_DAY_OF_WEEK: return; // derived from the date in this model
      case RTC_DAY_OF_MONTH: day = this.decode(value); break;
      case RTC_MONTH: month = this.decode(value) - 1; break;
      case RTC_YEAR: year = Math.floor(year / 100) * 100 + this.decode(value); break;
      case CMOS_CENTURY: year = this.decode(value) * 100 + mod(year, 100); break;
    }
    const date = new Date(0);
    date.setUTCFullYear(year, month, day);
    date.setUTCHours(h, m, s, 0);
    const newSec = Math.floor(date.getTime() / 1000);
    if (!Number.isFinite(newSec)) return;
    if (this.clock.frozenSec !== null) this.clock.frozenSec = newSec;
    else this.clock.epochSec += newSec - sec; // keep the phase of the divider chain
  }

  // --- flags and interrupts ---

  private periodicRateShift(): number | null {
    const rs = this.cmos[RTC_REG_A] & REG_A_RS_MASK;
    if (rs === 0) return null;
    // RS 1 and 2 give 256 and 128 Hz, the same as RS 8 and 9 (datasheet Table 5).
    return rs <= 2 ? rs + 6 : rs - 1;
  }

  /** Periodic ticks counted in 32.768 kHz units since the clock's reference. */
  private periodicIndex(now: GuestTimeNs, shift: number): number {
    return Math.floor(((now - this.clock.atNs) * RTC_TIME_BASE_HZ) / NS_PER_S / (1 << shift));
  }

  /** Bring register C up to guest time `now`: PF, UF and AF for every event in (flagsNs, now]. */
  private advanceFlags(now: GuestTimeNs): void {
    const from = this.flagsNs;
    if (now <= from) return;
    this.flagsNs = now;
    if (this.clock.frozenSec !== null) return; // SET stops updates
    const shift = this.periodicRateShift();
    if (shift !== null && this.periodicIndex(now, shift) > this.periodicIndex(from, shift)) this.regC |= REG_C_PF;
    const firstSec = this.currentSec(from) + 1;
    const lastSec = this.currentSec(now);
    if (lastSec >= firstSec) {
      this.regC |= REG_C_UF;
      for (let sec = firstSec, n = 0; sec <= lastSec && n < 86_400; sec++, n++) {
        if (this.alarmMatches(sec)) {
          this.regC |= REG_C_AF;
          break;
        }
      }
    }
  }

  private alarmMatches(sec: number): boolean {
    const t = this.timeRegisters(sec);
    const match = (alarm: number, value: number) => alarm >= ALARM_DONT_CARE || alarm === value;
    return (
      match(this.cmos[RTC_SECONDS_ALARM], t[RTC_SECONDS]) &&
      match(this.cmos[RTC_MINUTES_ALARM], t[RTC_MINUTES]) &&
      match(this.cmos[RTC_HOURS_ALARM], t[RTC_HOURS])
    );
  }

  /** Tell the host when IRQ8 must next be pulsed (one deadline for the line). */
  private scheduleDeadline(now: GuestTimeNs): void {
    const b = this.cmos[RTC_REG_B];
    let at: number | null = null;
    let period: number | undefined;
    const shift = this.periodicRateShift();
    if (this.clock.frozenSec === null) {
      if (b & REG_B_PIE && shift !== null) {
        const periodNs = ((1 << shift) * NS_PER_S) / RTC_TIME_BASE_HZ;
        at = Math.ceil(this.clock.atNs + (this.periodicIndex(now, shift) + 1) * periodNs);
        period = Math.round(periodNs);
      } else if (b & REG_B_UIE) {
        at = this.clock.atNs + (this.currentSec(now) - this.clock.epochSec + 1) * NS_PER_S;
        period = NS_PER_S;
      } else if (b & REG_B_AIE) {
        const sec = this.currentSec(now);
        for (let next = sec + 1; next <= sec + 86_400; next++) {
          if (this.alarmMatches(next)) {
            at = this.clock.atNs + (next - this.clock.epochSec) * NS_PER_S;
            break;
          }
        }
      }
    }
    if (at === this.lastDeadline.at && period === this.lastDeadline.period) return;
    if (period !== undefined && at !== null && this.lastDeadline.period === period && this.lastDeadline.at !== null) {
      // Same periodic train already running: its phase is the clock's, nothing to change.
      if (at > this.lastDeadline.at && (at - this.lastDeadline.at) % period < 2) return;
    }
    this.lastDeadline = { at, period };
    this.host.setIrqDeadline(this.irq, at, period);
  }

  // --- configuration ---

  private fillConfiguration(config: CmosRtcConfig): void {
    const c = this.cmos;
    const { below4G, above4G } = splitGuestRam(config.ramSize, config.lowRamLimit ?? DEFAULT_LOW_RAM_LIMIT);
    const put16 = (lo: number, v: number) => {
      c[lo] = v & 0xff;
      c[lo + 1] = (v >> 8) & 0xff;
    };
    put16(CMOS_MEM_BASE_LOW, Math.min(Math.floor(below4G / 1024), 640));
    const extKb = Math.min(Math.max(0, Math.floor((below4G - 0x10_0000) / 1024)), 0xffff);
    put16(CMOS_MEM_EXTMEM_LOW, extKb);
    put16(CMOS_MEM_EXTMEM2_LOW, extKb);
    put16(CMOS_MEM_ABOVE_16M_LOW, Math.min(Math.max(0, Math.floor((below4G - 0x100_0000) / 0x1_0000)), 0xffff));
    const high64k = Math.min(Math.floor(above4G / 0x1_0000), 0xff_ffff);
    c[CMOS_MEM_HIGHMEM_LOW] = high64k & 0xff;
    c[CMOS_MEM_HIGHMEM_MID] = (high64k >> 8) & 0xff;
    c[CMOS_MEM_HIGHMEM_HIGH] = (high64k >> 16) & 0xff;
    c[CMOS_BIOS_SMP_COUNT] = Math.max(1, config.cpuCount ?? 1) - 1;

    const floppies = config.floppies ?? [];
    if (floppies.length > 2) throw new Error('CmosRtc: at most two floppy drives');
    const fd = floppies.map((t) => FLOPPY_TYPE[t]);
    c[CMOS_FLOPPY_DRIVE_TYPE] = ((fd[0] ?? 0) << 4) | (fd[1] ?? 0);
    const fdCount = fd.filter((t) => t !== 0).length;
    let equipment = EQUIPMENT_FPU | EQUIPMENT_PS2_MOUSE; // display bits 5:4 = 00: VGA with its own BIOS
    if (fdCount > 0) equipment |= EQUIPMENT_FLOPPY_PRESENT | ((fdCount - 1) << 6);
    c[CMOS_EQUIPMENT_INFO] = equipment;

    const disks = config.hardDisks ?? 0;
    if (disks < 0 || disks > 2) throw new Error('CmosRtc: hardDisks must be 0, 1 or 2');
    c[CMOS_DISK_DATA] = (disks >= 1 ? 0xf0 : 0) | (disks >= 2 ? 0x0f : 0);
    if (disks >= 1) c[CMOS_DISK_DRIVE1_TYPE] = DISK_TYPE_USER_DEFINED;
    if (disks >= 2) c[CMOS_DISK_DRIVE2_TYPE] = DISK_TYPE_USER_DEFINED;

    const order = (config.bootOrder ?? ['disk', 'cdrom', 'floppy']).map((d) => BOOT_DEVICE_CODE[d]);
    if (order.length > 3) throw new Error('CmosRtc: at most three boot devices');
    c[CMOS_BIOS_BOOTFLAG2] = (order[0] ?? 0) | ((order[1] ?? 0) << 4);
    c[CMOS_BIOS_BOOTFLAG1] = ((order[2] ?? 0) << 4) | (config.floppySignatureCheck === false ? 1 : 0);

    let sum = 0;
    for (let i = CMOS_CHECKSUM_FIRST; i <= CMOS_CHECKSUM_LAST; i++) sum += c[i];
    c[CMOS_CHECKSUM_HIGH] = (sum >> 8) & 0xff;
    c[CMOS_CHECKSUM_LOW] = sum & 0xff;
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

export function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | v % 10;
}

export function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0x0f);
}
