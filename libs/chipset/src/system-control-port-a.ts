/**
 * System control port A (port 0x92, "PS/2 port 92"; Intel PIIX/ICH datasheets,
 * "PORT92 - Fast A20 and Init Register"): bit 1 gates address line A20 without going
 * through the keyboard controller, bit 0 resets the processor when written 0 -> 1.
 * The model only reports: A20 changes and reset requests go to callbacks; the machine
 * (wiring) decides what they do, and combines A20 with the 8042's output port.
 * Not state: callbacks, access counters.
 */
import { allOnes, DeviceStateError, type AccessSize, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { SYSTEM_CONTROL_PORT_A_PORTS } from './ports.js';
import { AccessCounters, StateReader } from './state-reader.js';

export const PORT92_FAST_RESET = 0x01; // bit 0: INIT_NOW, 0 -> 1 resets the CPU
export const PORT92_FAST_A20 = 0x02; // bit 1: ALT_A20_GATE
/** Bits kept as written (bit 3 password lock, bits 7:6 activity lights on PS/2 machines). */
export const PORT92_WRITABLE = 0xfe;

export interface SystemControlPortAConfig {
  base?: number;
  /** Called when bit 1 changes: true = A20 enabled. */
  onA20Change?: (enabled: boolean) => void;
  /** Called on a 0 -> 1 write of bit 0. */
  onReset?: () => void;
}

const STATE_NAME = 'system-control-port-a';
const STATE_VERSION = 1;

export class SystemControlPortA implements DeviceModel {
  readonly base: number;
  readonly counters = new AccessCounters();
  private readonly onA20Change: (enabled: boolean) => void;
  private readonly onReset: () => void;
  private value = 0;

  constructor(config: SystemControlPortAConfig = {}) {
    this.base = config.base ?? SYSTEM_CONTROL_PORT_A_PORTS.base;
    this.onA20Change = config.onA20Change ?? (() => {});
    this.onReset = config.onReset ?? (() => {});
  }

  /** Whether this port currently enables A20 (the machine ORs it with the 8042's). */
  get a20Enabled(): boolean {
    return (this.value & PORT92_FAST_A20) !== 0;
  }

  ioRead(port: number, size: AccessSize, _now: GuestTimeNs): number {
    if (!this.accept(port, size)) return allOnes(size);
    return this.value;
  }

  ioWrite(port: number, size: AccessSize, value: number, _now: GuestTimeNs): void {
    if (!this.accept(port, size)) return;
    const old = this.value;
    // INIT_NOW self-clears once the reset has been signalled.
    this.value = value & PORT92_WRITABLE;
    if ((old ^ value) & PORT92_FAST_A20) this.onA20Change((value & PORT92_FAST_A20) !== 0);
    if (value & PORT92_FAST_RESET && !(old & PORT92_FAST_RESET)) this.onReset();
  }

  saveState(): DeviceState {
    return { device: STATE_NAME, version: STATE_VERSION, value: this.value };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const value = r.byte('value');
    if (value & PORT92_FAST_RESET) throw new DeviceStateError('system-control-port-a: bit 0 (INIT_NOW) is never held');
    this.value = value;
  }

  private accept(port: number, size: AccessSize): boolean {
    if (port !== this.base) {
      this.counters.unknownRegister++;
      return false;
    }
    if (size !== 1) {
      this.counters.badWidth++;
      return false;
    }
    return true;
  }
}
