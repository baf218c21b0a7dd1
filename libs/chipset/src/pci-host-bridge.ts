/**
 * PCI configuration mechanism #1 of the 440FX host bridge (PCI Local Bus Specification
 * 3.0, section 3.2.2.3.2 "Software Generation of Configuration Transactions"):
 * CONFIG_ADDRESS at 0xCF8 (dword accesses only) and CONFIG_DATA at 0xCFC-0xCFF (byte,
 * word and dword accesses into the addressed dword).
 *
 * Only bus 0 exists. Functions are plugged at device N function M by the machine's
 * wiring; a function that is not there reads all ones. By default the bridge holds the
 * i440FX PMC at 00:00.0 and the PIIX3 ISA bridge at 00:01.0, as on QEMU's "pc" machine,
 * which is what SeaBIOS looks for.
 *
 * Byte and word accesses to 0xCF8-0xCFB are not CONFIG_ADDRESS (the 440FX only decodes
 * dword accesses there); they go to `legacy` (the PIIX3 reset control at 0xCF9) when
 * given, for buses that cannot split the range, and are otherwise counted.
 *
 * State: CONFIG_ADDRESS and the configuration state of each plugged function that saves
 * one (keyed "bb:dd.f"). Not state: which functions are plugged (wiring), callbacks, counters.
 */
import { allOnes, DeviceStateError, type AccessSize, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { I440fxPmc, type I440fxPmcConfig } from './i440fx-pmc.js';
import type { PciFunction } from './pci-function.js';
import { Piix3IsaBridge, type Piix3IsaBridgeConfig } from './piix3-isa-bridge.js';
import { PCI_CONFIG_ADDRESS_PORTS } from './ports.js';
import { AccessCounters, StateReader } from './state-reader.js';

/** Offsets from 0xCF8. */
export const PCI_CONFIG_ADDRESS_OFFSET = 0;
export const PCI_CONFIG_DATA_OFFSET = 4;
/** CONFIG_ADDRESS fields (PCI 3.0 Figure 3-2). */
export const CONFIG_ADDRESS_ENABLE = 0x8000_0000;
export const CONFIG_ADDRESS_BUS_SHIFT = 16;
export const CONFIG_ADDRESS_DEVICE_SHIFT = 11;
export const CONFIG_ADDRESS_FUNCTION_SHIFT = 8;
/** Bits that hold a value: enable, bus, device, function, register (bits 1:0 read 0). */
export const CONFIG_ADDRESS_MASK = 0x80ff_fffc;
export const PCI_DEVICES_PER_BUS = 32;
export const PCI_FUNCTIONS_PER_DEVICE = 8;
/** Where the default chipset functions sit. */
export const I440FX_PCI_DEVICE = 0;
export const PIIX3_PCI_DEVICE = 1;

export interface PciHostBridgeConfig {
  /** First port (default 0xCF8); the bridge decodes base..base+7. */
  base?: number;
  /** Plug the i440FX PMC at 00:00.0 and PIIX3 at 00:01.0 (default true). */
  chipsetFunctions?: boolean;
  i440fx?: I440fxPmcConfig;
  piix3?: Piix3IsaBridgeConfig;
  /** Receives byte/word accesses to 0xCF8-0xCFB (e.g. ResetControl at 0xCF9). */
  legacy?: DeviceModel;
}

const STATE_NAME = 'pci-host-bridge';
const STATE_VERSION = 1;

export function pciAddressName(device: number, fn: number): string {
  return `00:${device.toString(16).padStart(2, '0')}.${fn}`;
}

export class PciHostBridge implements DeviceModel {
  readonly base: number;
  readonly counters = new AccessCounters();
  /** The chipset functions, when plugged by default. */
  readonly i440fx?: I440fxPmc;
  readonly piix3?: Piix3IsaBridge;
  private readonly legacy?: DeviceModel;
  private readonly functions = new Map<number, PciFunction>();
  private address = 0;

  constructor(config: PciHostBridgeConfig = {}) {
    this.base = config.base ?? PCI_CONFIG_ADDRESS_PORTS.base;
    this.legacy = config.legacy;
    if (config.chipsetFunctions ?? true) {
      this.i440fx = new I440fxPmc(config.i440fx);
      this.piix3 = new Piix3IsaBridge(config.piix3);
      this.plug(I440FX_PCI_DEVICE, 0, this.i440fx);
      this.plug(PIIX3_PCI_DEVICE, 0, this.piix3);
    }
  }

  /** Plug a function at bus 0, `device`, `fn`. Wiring-time; throws on a taken slot. */
  plug(device: number, fn: number, f: PciFunction): void {
    if (!Number.isInteger(device) || device < 0 || device >= PCI_DEVICES_PER_BUS) throw new Error(`PCI device number ${device} out of range`);
    if (!Number.isInteger(fn) || fn < 0 || fn >= PCI_FUNCTIONS_PER_DEVICE) throw new Error(`PCI function number ${fn} out of range`);
    const key = device * PCI_FUNCTIONS_PER_DEVICE + fn;
    if (this.functions.has(key)) throw new Error(`PCI slot ${pciAddressName(device, fn)} is already taken`);
    this.functions.set(key, f);
  }

  /** The function at bus 0 `device` `fn`, if plugged. */
  functionAt(device: number, fn: number): PciFunction | undefined {
    return this.functions.get(device * PCI_FUNCTIONS_PER_DEVICE + fn);
  }

  /** The current CONFIG_ADDRESS value. */
  get configAddress(): number {
    return this.address;
  }

  ioRead(port: number, size: AccessSize, now: GuestTimeNs): number {
    const offset = port - this.base;
    if (offset >= PCI_CONFIG_ADDRESS_OFFSET && offset < PCI_CONFIG_DATA_OFFSET) {
      if (offset === 0 && size === 4) return this.address;
      if (this.legacy) return this.legacy.ioRead(port, size, now);
      this.counters.badWidth++;
      return allOnes(size);
    }
    const target = this.dataTarget(offset, size);
    if (target === null) return allOnes(size);
    const f = target.f;
    return f ? f.configRead(target.register, size) : allOnes(size);
  }

  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    const offset = port - this.base;
    if (offset >= PCI_CONFIG_ADDRESS_OFFSET && offset < PCI_CONFIG_DATA_OFFSET) {
      if (offset === 0 && size === 4) {
        this.address = (value & CONFIG_ADDRESS_MASK) >>> 0;
        return;
      }
      if (this.legacy) return this.legacy.ioWrite(port, size, value, now);
      this.counters.badWidth++;
      return;
    }
    const target = this.dataTarget(offset, size);
    if (target === null || !target.f) return;
    target.f.configWrite(target.register, size, size === 4 ? value >>> 0 : value & allOnes(size));
  }

  saveState(): DeviceState {
    const functions: Record<string, unknown> = {};
    for (const [key, f] of [...this.functions].sort((a, b) => a[0] - b[0])) {
      if (f.saveConfig) functions[pciAddressName(key >> 3, key & 7)] = f.saveConfig();
    }
    return { device: STATE_NAME, version: STATE_VERSION, configAddress: this.address, functions };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const address = r.int('configAddress', 0, 0xffffffff);
    if ((address & ~CONFIG_ADDRESS_MASK) !== 0) throw new DeviceStateError('pci-host-bridge: configAddress has reserved bits set');
    r.obj('functions'); // must be an object
    const savedFunctions = state.functions as Record<string, unknown>;
    const apply: Array<() => void> = [];
    const expected = new Set<string>();
    for (const [key, f] of this.functions) {
      if (!f.prepareLoadConfig) continue;
      const name = pciAddressName(key >> 3, key & 7);
      expected.add(name);
      if (!(name in savedFunctions)) throw new DeviceStateError(`pci-host-bridge: no saved state for ${name}`);
      apply.push(f.prepareLoadConfig(savedFunctions[name]));
    }
    for (const name of Object.keys(savedFunctions)) {
      if (!expected.has(name)) throw new DeviceStateError(`pci-host-bridge: saved state for ${name}, which is not plugged here`);
    }
    this.address = address;
    for (const a of apply) a();
  }

  /** The function and register a CONFIG_DATA access hits, or null for a bad access. */
  private dataTarget(offset: number, size: AccessSize): { f: PciFunction | undefined; register: number } | null {
    const byte = offset - PCI_CONFIG_DATA_OFFSET;
    if (byte < 0 || byte > 3) {
      this.counters.unknownRegister++;
      return null;
    }
    if (byte + size > 4 || byte % size !== 0) {
      this.counters.badWidth++; // would cross the dword or is misaligned
      return null;
    }
    const a = this.address;
    if (!(a & CONFIG_ADDRESS_ENABLE)) return { f: undefined, register: 0 }; // not a config cycle
    const bus = (a >>> CONFIG_ADDRESS_BUS_SHIFT) & 0xff;
    if (bus !== 0) return { f: undefined, register: 0 };
    const device = (a >>> CONFIG_ADDRESS_DEVICE_SHIFT) & 0x1f;
    const fn = (a >>> CONFIG_ADDRESS_FUNCTION_SHIFT) & 0x7;
    return { f: this.functionAt(device, fn), register: (a & 0xfc) + byte };
  }
}
