/**
 * The words the main thread and the IRQ deadline thread share (beside the guest clock and
 * a ring of deadline records): a wake sequence the thread sleeps on, the stop flag, the
 * busy flag that makes stopping safe, and the skipped-edge count the thread reports.
 *
 * Stopping is a Dekker handshake on sequentially consistent Atomics: the thread sets BUSY
 * and only then looks at STOP before each KVM_IRQ_LINE; the main thread sets STOP and then
 * waits while BUSY is set. So once `stop()` returns, the thread touches the VM fd no more
 * and the CPU thread may close it.
 */
const WAKE = 0;
const STOP = 1;
const BUSY = 2;
const SKIPPED = 3;

export class DeadlineControl {
  readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(16)) {
    this.words = new Int32Array(buffer);
  }

  /** Main thread: wakes the sleeping thread (deadlines, the clock or the stop flag changed). */
  wake(): void {
    Atomics.add(this.words, WAKE, 1);
    Atomics.notify(this.words, WAKE);
  }

  /** Deadline thread: the wake sequence to sleep on. */
  get sequence(): number {
    return Atomics.load(this.words, WAKE);
  }

  /** Deadline thread: sleeps until woken or `ms` have passed (Infinity: until woken). */
  sleep(sequence: number, ms: number): void {
    Atomics.wait(this.words, WAKE, sequence, ms);
  }

  get stopped(): boolean {
    return Atomics.load(this.words, STOP) === 1;
  }

  /** Main thread: after this returns the deadline thread raises no line again. */
  stop(): void {
    Atomics.store(this.words, STOP, 1);
    this.wake();
    while (Atomics.load(this.words, BUSY) === 1); // one KVM_IRQ_LINE pair at most: microseconds
  }

  /** Deadline thread: runs `raise` unless stopped; returns false when stopped. */
  whileRunning(raise: () => void): boolean {
    Atomics.store(this.words, BUSY, 1);
    try {
      if (Atomics.load(this.words, STOP) === 1) return false;
      raise();
      return true;
    } finally {
      Atomics.store(this.words, BUSY, 0);
    }
  }

  get skipped(): number {
    return Atomics.load(this.words, SKIPPED);
  }

  set skipped(n: number) {
    Atomics.store(this.words, SKIPPED, n);
  }
}
