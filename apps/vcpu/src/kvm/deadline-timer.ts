import type { GuestTimeNs } from '@quasivm/device-sdk';
import { IrqDeadlines } from '../machine/deadlines.js';
export { decodeDeadline, encodeDeadline } from '../machine/deadlines.js';
import type { GuestClock } from './guest-clock.js';

/**
 * IRQ deadlines of a KVM VM, delivered from the main thread: the CPU thread sits in
 * KVM_RUN and cannot poll them. A host timer wakes at the next deadline (guest time =
 * host monotonic time while running) and pulses the line with KVM_IRQ_LINE; nothing
 * fires while the guest clock is paused (`clockChanged()` re-arms it on resume).
 */
export class DeadlineTimer {
  private readonly deadlines = new IrqDeadlines();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly clock: GuestClock,
    private readonly pulse: (line: number) => void,
  ) {}

  set(line: number, at: GuestTimeNs | null, periodNs = 0): void {
    this.deadlines.set(line, at, periodNs);
    this.arm();
  }

  /** Call when the guest clock was paused or resumed. */
  clockChanged(): void {
    this.arm();
  }

  /** Periods skipped because the host could not keep up. */
  get skipped(): number {
    return this.deadlines.skipped;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || this.clock.paused) return;
    const next = this.deadlines.next();
    if (next === Infinity) return;
    const delayMs = Math.max(0, (next - this.clock.nowNs()) / 1e6);
    this.timer = setTimeout(this.tick, delayMs);
  }

  private readonly tick = (): void => {
    this.timer = null;
    if (this.stopped || this.clock.paused) return;
    this.deadlines.fire(this.clock.nowNs(), this.pulse);
    this.arm();
  };
}
