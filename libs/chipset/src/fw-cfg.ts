/**
 * QEMU firmware configuration device (fw_cfg), the x86 I/O-port interface, as described
 * in QEMU's docs/specs/fw_cfg.txt ("Guest-side Hardware Interface"):
 * - Selector register, port 0x510, 16-bit little-endian, write only. Writing it selects an
 *   item and resets the data offset to 0.
 * - Data register, port 0x511, 8-bit. Each read returns the next byte of the selected
 *   item; past its end (or for an item that does not exist) reads return 0. Writes are
 *   ignored, as QEMU >= 2.4 does.
 * - The DMA interface (0x514) is not modelled: the ID item (0x0001) reports only the
 *   traditional interface (bit 0), so SeaBIOS uses port I/O (`rep insb`, which
 *   ioReadString serves in one call).
 *
 * SeaBIOS (src/fw/paravirt.c) also reads the legacy items NUMA (0x000d), ACPI_TABLES
 * (0x8000) and SMBIOS_ENTRIES (0x8001) as counts; absent items read as zeros, which it
 * takes as "none". CPUs present come from CMOS 0x5F or an "etc/boot-cpus" file.
 *
 * Numeric items are little-endian; the file directory (0x0019) is big-endian: a u32 count,
 * then per file { u32 size, u16 select, u16 reserved, char name[56] }. Files get
 * selectors from 0x0020 in the order they are added; the directory lists them by name.
 *
 * Direct kernel boot items 0x0007-0x0018 (KERNEL_ADDR/SIZE, KERNEL_CMDLINE, INITRD_ADDR/SIZE,
 * KERNEL_ENTRY, KERNEL_DATA, INITRD_DATA, CMDLINE_ADDR/SIZE/DATA, SETUP_ADDR/SIZE/DATA) are
 * set by setDirectBoot(); they are read by a boot option ROM (QEMU's linuxboot), not by
 * SeaBIOS itself. Splitting a bzImage into setup and kernel and patching its header is
 * the loader's job, not the device's.
 *
 * State: the selector and the data offset. The items are configuration: the machine
 * builds the same items again before loadState (their sizes are saved to check that).
 * Not state: the items' contents, access counters.
 */
import { allOnes, DeviceStateError, type AccessSize, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { FW_CFG_PORTS } from './ports.js';
import { FOUR_GIB, type RamSplit } from './ram-layout.js';
import { AccessCounters, StateReader } from './state-reader.js';

/** Port offsets from 0x510. */
export const FW_CFG_SELECTOR_OFFSET = 0;
export const FW_CFG_DATA_OFFSET = 1;

/** Selector keys (fw_cfg.txt, "Selector (Control) Register" and the item list). */
export const FW_CFG_SIGNATURE = 0x0000;
export const FW_CFG_ID = 0x0001;
export const FW_CFG_UUID = 0x0002;
export const FW_CFG_RAM_SIZE = 0x0003;
export const FW_CFG_NOGRAPHIC = 0x0004;
export const FW_CFG_NB_CPUS = 0x0005;
export const FW_CFG_MACHINE_ID = 0x0006;
export const FW_CFG_KERNEL_ADDR = 0x0007;
export const FW_CFG_KERNEL_SIZE = 0x0008;
export const FW_CFG_KERNEL_CMDLINE = 0x0009;
export const FW_CFG_INITRD_ADDR = 0x000a;
export const FW_CFG_INITRD_SIZE = 0x000b;
export const FW_CFG_BOOT_DEVICE = 0x000c;
export const FW_CFG_NUMA = 0x000d;
export const FW_CFG_BOOT_MENU = 0x000e;
export const FW_CFG_MAX_CPUS = 0x000f;
export const FW_CFG_KERNEL_ENTRY = 0x0010;
export const FW_CFG_KERNEL_DATA = 0x0011;
export const FW_CFG_INITRD_DATA = 0x0012;
export const FW_CFG_CMDLINE_ADDR = 0x0013;
export const FW_CFG_CMDLINE_SIZE = 0x0014;
export const FW_CFG_CMDLINE_DATA = 0x0015;
export const FW_CFG_SETUP_ADDR = 0x0016;
export const FW_CFG_SETUP_SIZE = 0x0017;
export const FW_CFG_SETUP_DATA = 0x0018;
export const FW_CFG_FILE_DIR = 0x0019;
export const FW_CFG_FILE_FIRST = 0x0020;
/** x86 architecture-local items (QEMU's FW_CFG_ARCH_LOCAL + n, as SeaBIOS reads them). */
export const FW_CFG_ACPI_TABLES = 0x8000;
export const FW_CFG_SMBIOS_ENTRIES = 0x8001;
export const FW_CFG_IRQ0_OVERRIDE = 0x8002;
export const FW_CFG_E820_TABLE = 0x8003;
/** Selector bit 14: write mode (writes are ignored anyway); bit 15: architecture-specific item. */
export const FW_CFG_WRITE_CHANNEL = 0x4000;
export const FW_CFG_ARCH_LOCAL = 0x8000;
/** Keys below this are items; the write-channel bit is not part of the key. */
export const FW_CFG_KEY_MASK = 0xbfff;
/** ID item feature bits. */
export const FW_CFG_VERSION_TRADITIONAL = 0x01;
export const FW_CFG_VERSION_DMA = 0x02;
/** Directory entry layout. */
export const FW_CFG_FILE_ENTRY_SIZE = 64;
export const FW_CFG_MAX_FILE_NAME = 56;
/** Files have selectors 0x0020 up to (not including) the write-channel bit. */
export const FW_CFG_MAX_FILES = FW_CFG_WRITE_CHANNEL - FW_CFG_FILE_FIRST;

/** e820 entry types (ACPI "Address Range Types"). */
export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;
/** An entry of QEMU's "etc/e820" file: { u64 address, u64 length, u32 type } little-endian. */
export interface E820Entry {
  address: number;
  length: number;
  type: number;
}
export const E820_ENTRY_SIZE = 20;

export interface FwCfgConfig {
  base?: number;
  /** Bytes of guest RAM (item 0x0003). */
  ramSize: number;
  /** CPUs present at boot (0x0005) and the maximum (0x000f, default = cpuCount). */
  cpuCount: number;
  maxCpus?: number;
  /** 16 bytes, item 0x0002 (default all zero). */
  uuid?: Uint8Array;
  /** 0x0004: 1 when the machine has no display. */
  noGraphic?: boolean;
  /** 0x000e: 1 to let the firmware show its boot menu. */
  bootMenu?: boolean;
  /**
   * 0x8002: 1 when ISA IRQ0 reaches I/O APIC pin 2 (the usual PC wiring), so the firmware
   * writes an interrupt source override into its MP/ACPI tables. Default true.
   */
  irq0Override?: boolean;
}

export interface DirectBootItems {
  kernelAddr?: number;
  kernel?: Uint8Array;
  kernelEntry?: number;
  initrdAddr?: number;
  initrd?: Uint8Array;
  cmdlineAddr?: number;
  /** The command line, stored NUL-terminated. */
  cmdline?: string;
  setupAddr?: number;
  setup?: Uint8Array;
}

const STATE_NAME = 'fw-cfg';
const STATE_VERSION = 1;

export class FwCfg implements DeviceModel {
  readonly base: number;
  readonly counters = new AccessCounters();
  private readonly items = new Map<number, Uint8Array>();
  private readonly files: Array<{ name: string; select: number }> = [];
  private selector = 0;
  private offset = 0;

  constructor(config: FwCfgConfig) {
    this.base = config.base ?? FW_CFG_PORTS.base;
    this.setItem(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.setItem(FW_CFG_ID, le(FW_CFG_VERSION_TRADITIONAL, 4));
    const uuid = config.uuid ?? new Uint8Array(16);
    if (uuid.length !== 16) throw new Error('FwCfg: uuid must be 16 bytes');
    this.setItem(FW_CFG_UUID, uuid);
    this.setItem(FW_CFG_RAM_SIZE, le(config.ramSize, 8));
    this.setItem(FW_CFG_NOGRAPHIC, le(config.noGraphic ? 1 : 0, 2));
    this.setItem(FW_CFG_NB_CPUS, le(config.cpuCount, 2));
    this.setItem(FW_CFG_MAX_CPUS, le(config.maxCpus ?? config.cpuCount, 2));
    this.setItem(FW_CFG_BOOT_MENU, le(config.bootMenu ? 1 : 0, 2));
    this.setItem(FW_CFG_IRQ0_OVERRIDE, le(config.irq0Override === false ? 0 : 1, 1));
    this.rebuildDirectory();
  }

  /** Set a fixed-key item (not a file). Wiring-time. */
  setItem(key: number, data: Uint8Array): void {
    if (!Number.isInteger(key) || key < 0 || key > 0xffff || (key & FW_CFG_WRITE_CHANNEL) !== 0) throw new Error(`FwCfg: bad item key 0x${key.toString(16)}`);
    if (key === FW_CFG_FILE_DIR || (key >= FW_CFG_FILE_FIRST && key < FW_CFG_WRITE_CHANNEL)) throw new Error('FwCfg: the file directory and file keys are managed by addFile');
    this.items.set(key, data.slice());
  }

  /** Add a named file (e.g. "etc/e820", "bootorder"); returns its selector. Replaces a file of the same name. */
  addFile(name: string, data: Uint8Array): number {
    const nameBytes = new TextEncoder().encode(name);
    if (nameBytes.length === 0 || nameBytes.length >= FW_CFG_MAX_FILE_NAME) throw new Error(`FwCfg: file name "${name}" must be 1-55 bytes`);
    let entry = this.files.find((f) => f.name === name);
    if (!entry) {
      if (this.files.length >= FW_CFG_MAX_FILES) throw new Error('FwCfg: too many files');
      entry = { name, select: FW_CFG_FILE_FIRST + this.files.length };
      this.files.push(entry);
    }
    this.items.set(entry.select, data.slice());
    this.rebuildDirectory();
    return entry.select;
  }

  /** The data of an item, for the wiring and tests. */
  item(key: number): Uint8Array | undefined {
    return this.items.get(key);
  }

  /** Fill the direct kernel boot items 0x0007-0x0018 (fw_cfg.txt item list). */
  setDirectBoot(boot: DirectBootItems): void {
    const cmdline = boot.cmdline === undefined ? undefined : new TextEncoder().encode(`${boot.cmdline}\0`);
    const put32 = (key: number, v: number | undefined) => { if (v !== undefined) this.setItem(key, le(v, 4)); };
    put32(FW_CFG_KERNEL_ADDR, boot.kernelAddr);
    put32(FW_CFG_KERNEL_ENTRY, boot.kernelEntry);
    if (boot.kernel) {
      put32(FW_CFG_KERNEL_SIZE, boot.kernel.length);
      this.setItem(FW_CFG_KERNEL_DATA, boot.kernel);
    }
    put32(FW_CFG_INITRD_ADDR, boot.initrdAddr);
    if (boot.initrd) {
      put32(FW_CFG_INITRD_SIZE, boot.initrd.length);
      this.setItem(FW_CFG_INITRD_DATA, boot.initrd);
    }
    put32(FW_CFG_CMDLINE_ADDR, boot.cmdlineAddr);
    put32(FW_CFG_KERNEL_CMDLINE, boot.cmdlineAddr); // the legacy key holds the address too
    if (cmdline) {
      put32(FW_CFG_CMDLINE_SIZE, cmdline.length);
      this.setItem(FW_CFG_CMDLINE_DATA, cmdline);
    }
    put32(FW_CFG_SETUP_ADDR, boot.setupAddr);
    if (boot.setup) {
      put32(FW_CFG_SETUP_SIZE, boot.setup.length);
      this.setItem(FW_CFG_SETUP_DATA, boot.setup);
    }
  }

  ioRead(port: number, size: AccessSize, _now: GuestTimeNs): number {
    const offset = port - this.base;
    if (offset !== FW_CFG_DATA_OFFSET) {
      this.counters.unknownRegister++; // the selector is write-only
      return allOnes(size);
    }
    if (size !== 1) {
      this.counters.badWidth++;
      return allOnes(size);
    }
    return this.nextByte();
  }

  ioReadString(port: number, size: AccessSize, count: number, _now: GuestTimeNs): Uint8Array {
    const out = new Uint8Array(count * size);
    if (port - this.base !== FW_CFG_DATA_OFFSET || size !== 1) {
      out.fill(0xff);
      if (port - this.base !== FW_CFG_DATA_OFFSET) this.counters.unknownRegister++;
      else this.counters.badWidth++;
      return out;
    }
    const data = this.items.get(this.selector & FW_CFG_KEY_MASK);
    if (data && this.offset < data.length) {
      const n = Math.min(count, data.length - this.offset);
      out.set(data.subarray(this.offset, this.offset + n));
    }
    this.offset = Math.min(this.offset + count, 0xffff_ffff);
    return out;
  }

  ioWrite(port: number, size: AccessSize, value: number, _now: GuestTimeNs): void {
    const offset = port - this.base;
    if (offset === FW_CFG_SELECTOR_OFFSET) {
      if (size !== 2) {
        this.counters.badWidth++;
        return;
      }
      this.selector = value & 0xffff;
      this.offset = 0;
      return;
    }
    if (offset === FW_CFG_DATA_OFFSET) return; // data writes are ignored (QEMU >= 2.4)
    this.counters.unknownRegister++;
  }

  saveState(): DeviceState {
    const itemSizes: Record<string, number> = {};
    for (const key of [...this.items.keys()].sort((a, b) => a - b)) itemSizes[hexKey(key)] = this.items.get(key)!.length;
    return { device: STATE_NAME, version: STATE_VERSION, selector: this.selector, offset: this.offset, itemSizes };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const selector = r.int('selector', 0, 0xffff);
    const offset = r.int('offset', 0, 0xffff_ffff);
    r.obj('itemSizes');
    const sizes = state.itemSizes as Record<string, unknown>;
    const data = this.items.get(selector & FW_CFG_KEY_MASK);
    // The selected item must be the same one: a blob from another configuration is refused.
    if ((data?.length ?? null) !== (sizes[hexKey(selector & FW_CFG_KEY_MASK)] ?? null)) {
      throw new DeviceStateError(`fw-cfg: selected item ${hexKey(selector)} differs from this machine's configuration`);
    }
    this.selector = selector;
    this.offset = offset;
  }

  private nextByte(): number {
    const data = this.items.get(this.selector & FW_CFG_KEY_MASK);
    const value = data && this.offset < data.length ? data[this.offset] : 0;
    if (this.offset < 0xffff_ffff) this.offset++;
    return value;
  }

  private rebuildDirectory(): void {
    const sorted = [...this.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const dir = new Uint8Array(4 + sorted.length * FW_CFG_FILE_ENTRY_SIZE);
    const view = new DataView(dir.buffer);
    view.setUint32(0, sorted.length, false);
    sorted.forEach((f, i) => {
      const at = 4 + i * FW_CFG_FILE_ENTRY_SIZE;
      view.setUint32(at, this.items.get(f.select)!.length, false);
      view.setUint16(at + 4, f.select, false);
      view.setUint16(at + 6, 0, false);
      dir.set(new TextEncoder().encode(f.name), at + 8);
    });
    this.items.set(FW_CFG_FILE_DIR, dir);
  }
}

/** Encode "etc/e820" entries: { u64 address, u64 length, u32 type } little-endian, packed. */
export function encodeE820(entries: readonly E820Entry[]): Uint8Array {
  const out = new Uint8Array(entries.length * E820_ENTRY_SIZE);
  const view = new DataView(out.buffer);
  entries.forEach((e, i) => {
    const at = i * E820_ENTRY_SIZE;
    view.setBigUint64(at, BigInt(e.address), true);
    view.setBigUint64(at + 8, BigInt(e.length), true);
    view.setUint32(at + 16, e.type, true);
  });
  return out;
}

/** The RAM entries of a QEMU-like i440FX machine: low RAM from 0, the rest above 4 GiB. */
export function ramE820Entries(split: RamSplit): E820Entry[] {
  const entries: E820Entry[] = [{ address: 0, length: split.below4G, type: E820_RAM }];
  if (split.above4G > 0) entries.push({ address: FOUR_GIB, length: split.above4G, type: E820_RAM });
  return entries;
}

/** SeaBIOS "bootorder" file: one OpenFirmware device path per line. */
export function encodeBootOrder(paths: readonly string[]): Uint8Array {
  return new TextEncoder().encode(paths.map((p) => `${p}\n`).join(''));
}

function le(value: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = BigInt(value);
  for (let i = 0; i < bytes; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function hexKey(key: number): string {
  return `0x${key.toString(16).padStart(4, '0')}`;
}
