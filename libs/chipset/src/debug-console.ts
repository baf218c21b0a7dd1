/**
 * The QEMU/Bochs debug console ("port E9" hack): each byte written is debug output.
 * SeaBIOS on QEMU writes its log to port 0x402 and only after reading that port back
 * and seeing 0xE9 (QEMU's isa-debugcon readback value), so reads return 0xE9.
 * The model listens on several ports at once (default 0x402 and 0xE9).
 * State: the unterminated line not yet given to onLine.
 * Not state: callbacks, access counters.
 */
import { allOnes, DeviceStateError, type AccessSize, type DeviceModel, type DeviceState, type GuestTimeNs } from '@quasivm/device-sdk';
import { BOCHS_DEBUG_PORTS, DEBUG_CONSOLE_PORTS } from './ports.js';
import { AccessCounters, StateReader } from './state-reader.js';

/** What a read of the port returns: QEMU isa-debugcon's default readback. */
export const DEBUGCON_READBACK = 0xe9;
/** A line longer than this is handed to onLine in pieces. */
export const DEBUGCON_MAX_LINE = 4096;

export interface DebugConsoleConfig {
  /** Ports that accept output (default 0x402 and 0xE9). */
  ports?: number[];
  /** Every byte written, in order. */
  onOutput?: (byte: number) => void;
  /** Each complete line (without the newline), decoded as Latin-1. */
  onLine?: (line: string) => void;
}

const STATE_NAME = 'debug-console';
const STATE_VERSION = 1;

export class DebugConsole implements DeviceModel {
  readonly ports: readonly number[];
  readonly counters = new AccessCounters();
  private readonly onOutput: (byte: number) => void;
  private readonly onLine: (line: string) => void;
  private pendingLine = '';

  constructor(config: DebugConsoleConfig = {}) {
    this.ports = config.ports ?? [DEBUG_CONSOLE_PORTS.base, BOCHS_DEBUG_PORTS.base];
    this.onOutput = config.onOutput ?? (() => {});
    this.onLine = config.onLine ?? (() => {});
  }

  ioRead(port: number, size: AccessSize, _now: GuestTimeNs): number {
    if (!this.accept(port, size)) return allOnes(size);
    return DEBUGCON_READBACK;
  }

  ioWrite(port: number, size: AccessSize, value: number, _now: GuestTimeNs): void {
    if (!this.accept(port, size)) return;
    const byte = value & 0xff;
    this.onOutput(byte);
    if (byte === 0x0a) {
      this.flushLine();
    } else if (byte !== 0x0d) {
      this.pendingLine += String.fromCharCode(byte);
      if (this.pendingLine.length >= DEBUGCON_MAX_LINE) this.flushLine();
    }
  }

  saveState(): DeviceState {
    return { device: STATE_NAME, version: STATE_VERSION, pendingLine: this.pendingLine };
  }

  loadState(state: DeviceState): void {
    const r = new StateReader(state, STATE_NAME, STATE_VERSION);
    const pendingLine = r.str('pendingLine', DEBUGCON_MAX_LINE - 1);
    if (!/^[\x00-\xff]*$/.test(pendingLine)) throw new DeviceStateError('debug-console: pendingLine must hold bytes (Latin-1)');
    this.pendingLine = pendingLine;
  }

  private flushLine(): void {
    const line = this.pendingLine;
    this.pendingLine = '';
    this.onLine(line);
  }

  private accept(port: number, size: AccessSize): boolean {
    if (!this.ports.includes(port)) {
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
