/**
 * The guest clock of a KVM VM (DESIGN.md, Time): guest time follows the host monotonic
 * clock while the VM runs and stands still while it is paused. It lives in a
 * SharedArrayBuffer so the CPU thread (stamps port I/O) and the main thread (delivers IRQ
 * deadlines while the CPU thread is blocked in KVM_RUN) read the same time. Only the CPU
 * thread changes it (start, pause, resume).
 *
 * Layout: Float64 [0] host ms at guest time 0, [1] guest ns frozen while paused;
 * Int32 [4] 1 while paused. Aligned 8-byte stores are single moves on x86-64, and a
 * reader looks at the paused flag first, so a reader never mixes the two halves.
 */
const ORIGIN = 0;
const FROZEN = 1;
const PAUSED = 4;

/**
 * Host monotonic time in ms, the same in every thread: performance.now() counts from a
 * per-thread origin, so it is shifted once by that thread's CLOCK_MONOTONIC reading.
 */
const monotonicShiftMs = Number(process.hrtime.bigint()) / 1e6 - performance.now();
export const hostMonotonicMs = (): number => performance.now() + monotonicShiftMs;

export class GuestClock {
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
  }

  /** A clock at guest time 0, paused until the CPU thread starts the guest. */
  static create(): GuestClock {
    const clock = new GuestClock(new SharedArrayBuffer(24));
    Atomics.store(clock.i32, PAUSED, 1);
    return clock;
  }

  get paused(): boolean {
    return Atomics.load(this.i32, PAUSED) === 1;
  }

  /** Guest time in ns. */
  nowNs(): number {
    if (Atomics.load(this.i32, PAUSED) === 1) return this.f64[FROZEN];
    return (hostMonotonicMs() - this.f64[ORIGIN]) * 1e6;
  }

  /** Stops guest time where it is (CPU thread). */
  pause(): void {
    if (this.paused) return;
    this.f64[FROZEN] = this.nowNs();
    Atomics.store(this.i32, PAUSED, 1);
  }

  /** Lets guest time run on from where it stopped (CPU thread). */
  resume(): void {
    if (!this.paused) return;
    this.f64[ORIGIN] = hostMonotonicMs() - this.f64[FROZEN] / 1e6;
    Atomics.store(this.i32, PAUSED, 0);
  }
}
