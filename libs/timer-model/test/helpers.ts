import type { DeviceHost, GuestTimeNs } from '@quasivm/device-sdk';
import { timeOfPulse } from '../src/clock.js';
import { TimerDevice } from '../src/timer-device.js';

export interface DeadlineCall {
  line: number;
  at: GuestTimeNs | null;
  periodNs?: number;
  /** Guest time of the access during which the call was made. */
  now: number;
}

/** A DeviceHost that records what the model asks of it. */
export class RecordingHost implements DeviceHost {
  deadlines: DeadlineCall[] = [];
  events: { kind: string; detail: Record<string, unknown> }[] = [];
  irqLevels: { line: number; level: boolean }[] = [];
  now = 0;

  setIrq(line: number, level: boolean): void {
    this.irqLevels.push({ line, level });
  }
  setIrqDeadline(line: number, at: GuestTimeNs | null, periodNs?: number): void {
    this.deadlines.push({ line, at, periodNs, now: this.now });
  }
  async readMemory(_addr: number, length: number): Promise<Uint8Array> {
    return new Uint8Array(length);
  }
  async writeMemory(): Promise<void> {}
  emitEvent(kind: string, detail: Record<string, unknown>): void {
    this.events.push({ kind, detail });
  }
  get lastDeadline(): DeadlineCall | undefined {
    return this.deadlines[this.deadlines.length - 1];
  }
}

/** Drives a TimerDevice through its ports at times given in whole PIT clock pulses. */
export class Rig {
  readonly host = new RecordingHost();
  readonly dev = new TimerDevice(this.host);
  pulse = 0;

  /** Move to just after clock pulse `p` (exact multiple of the clock period, rounded up to a whole ns). */
  at(p: number): this {
    this.pulse = p;
    this.host.now = timeOfPulse(p);
    return this;
  }
  out(port: number, value: number): this {
    this.dev.ioWrite(port, 1, value, timeOfPulse(this.pulse));
    return this;
  }
  in(port: number): number {
    return this.dev.ioRead(port, 1, timeOfPulse(this.pulse));
  }
  /** Read-back of one counter's status and count, as the datasheet's timing diagrams show them. */
  sample(ch: number): { status: number; count: number; out: boolean } {
    this.out(0x43, 0xc0 | (2 << ch));
    const status = this.in(0x40 + ch);
    const rw = (status >> 4) & 3;
    let count: number;
    if (rw === 3) count = this.in(0x40 + ch) | (this.in(0x40 + ch) << 8);
    else count = this.in(0x40 + ch);
    return { status, count, out: (status & 0x80) !== 0 };
  }
}
