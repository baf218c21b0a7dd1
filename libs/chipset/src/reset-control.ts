/**
 * PIIX3 Reset Control Register (port 0xCF9; Intel 82371SB PIIX3 datasheet, "RC - Reset
 * Control Register"): bit 2 (RCPU) going 0 -> 1 resets the system, bit 1 (SRST) selects
 * a hard reset instead of a soft (INIT) one, and bit 3 (FULL_RST, ICH and later) asks for
 * a full power cycle. Linux writes 0x02 then 0x06 (or 0x0E). The model reports the reset
 * through a callback; what it does is the machine's business.
 * Only byte accesses decode here: wider accesses at 0xCF8 belong to the PCI host bridge.
 * Not state: callbacks, access counters.
 */
import { allOnes, DeviceStateError, type AccessSize, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { RESET_CONTROL_PORTS } from './ports.js';
import { AccessCounters, StateReader } from './state-reader.js';

export const RC_SYSTEM_RESET = 0x02; // SRST: 1 = hard reset, 0 = soft reset
export const RC_RESET_CPU = 0x04; // RCPU: 0 -> 1 starts the reset
export const RC_FULL_RESET = 0x08; // FULL_RST: full power cycle
/** Bits kept in the register (RCPU is an action, it reads back 0). */
export const RC_KEPT_BITS = RC_SYSTEM_RESET | RC_FULL_RESET;

export type ResetKind = 'soft' | 'hard' | 'full';

export interface ResetControlConfig {
  base?: number;
  onReset?: (kind: ResetKind) => void;
}

const STATE_NAME = 'reset-control';
const STATE_VERSION = 1;

export class ResetControl implements DeviceModel {
  readonly base: number;
  readonly counters = new AccessCounters();
  private readonly onReset: (kind: ResetKind) => void;
  private value = 0;

  constructor(config: ResetControlConfig = {}) {
    this.base = config.base ?? RESET_CONTROL_PORTS.base;
    this.onReset = config.onReset ?? (() => {});
  }

  ioRead(port: number, size: AccessSize, _now: GuestTimeNs): number {
    if (!this.accept(port, size)) return allOnes(size);
    return this.value;
  }

  ioWrite(port: number, size: AccessSize, value: number, _now: GuestTimeNs): void {
    if (!this.accept(port, size)) return;
    this.value = value & RC_KEPT_BITS;
    if (value & RC_RESET_CPU) {
      this.onReset(value & RC_FULL_RESET ? 'full' : value & RC_SYSTEM_RESET ? 'hard' : 'soft');
    }
  }

  saveState(): DeviceState {
    return { device: STATE_NAME, version: STATE_VERSION, value: this.value };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const value = r.byte('value');
    if (value & ~RC_KEPT_BITS) throw new DeviceStateError('reset-control: value may only hold SRST and FULL_RST');
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
