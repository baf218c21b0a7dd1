/**
 * The POST diagnostic port (0x80): firmware writes progress codes here, and a POST card
 * shows the last one. Reading returns the last code written (as the PC/AT DMA page
 * register behind this port does).
 * Not state: the onCode callback, the access counters.
 */
import { allOnes, type AccessSize, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { POST_CODE_PORTS } from './ports.js';
import { AccessCounters, StateReader } from './state-reader.js';

export const POST_CODE_DEFAULT_HISTORY = 256;

export interface PostCodePortConfig {
  base?: number;
  /** How many codes the history keeps, oldest dropped first (default 256). */
  historyLength?: number;
  /** Each code as it is written, with the guest time. */
  onCode?: (code: number, now: GuestTimeNs) => void;
}

const STATE_NAME = 'post-code-port';
const STATE_VERSION = 1;

export class PostCodePort implements DeviceModel {
  readonly base: number;
  readonly counters = new AccessCounters();
  private readonly historyLength: number;
  private readonly onCode: (code: number, now: GuestTimeNs) => void;
  private last: number | null = null;
  private codes: number[] = [];

  constructor(config: PostCodePortConfig = {}) {
    this.base = config.base ?? POST_CODE_PORTS.base;
    this.historyLength = config.historyLength ?? POST_CODE_DEFAULT_HISTORY;
    this.onCode = config.onCode ?? (() => {});
  }

  /** The last code written, or null if none yet. */
  get lastCode(): number | null {
    return this.last;
  }

  /** Codes written so far, oldest first (at most historyLength). */
  get history(): readonly number[] {
    return this.codes.slice();
  }

  ioRead(port: number, size: AccessSize, _now: GuestTimeNs): number {
    if (!this.accept(port, size)) return allOnes(size);
    return this.last ?? 0xff;
  }

  ioWrite(port: number, size: AccessSize, value: number, now: GuestTimeNs): void {
    if (!this.accept(port, size)) return;
    const code = value & 0xff;
    this.last = code;
    this.codes.push(code);
    if (this.codes.length > this.historyLength) this.codes.splice(0, this.codes.length - this.historyLength);
    this.onCode(code, now);
  }

  saveState(): DeviceState {
    return { device: STATE_NAME, version: STATE_VERSION, lastCode: this.last, history: this.codes.slice() };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const last = state.lastCode === null ? null : r.byte('lastCode');
    const codes = r.intArray('history', this.historyLength);
    this.last = last;
    this.codes = codes;
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
