import { parentPort } from 'node:worker_threads';
import { IrqDeadlines, decodeDeadline } from '../machine/deadlines.js';
import { SharedRing } from '../shared-ring.js';
import { DeadlineControl } from './deadline-control.js';
import { EdgeLog } from './edge-log.js';
import { GuestClock } from './guest-clock.js';

/** What the main thread hands the IRQ deadline thread (DeadlineThread). */
export interface DeadlineWorkerData {
  clock: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** Optional edge log for benches and tests (EdgeLog). */
  edges?: SharedArrayBuffer;
  /** The VM fd whose lines the thread raises (KVM entry only). */
  vmFd?: number;
}

/** Longest sleep without a deadline: the thread looks at its words at least this often. */
const IDLE_MS = 1000;

/**
 * The IRQ deadline thread's whole work: sleep until the next deadline on the guest clock
 * or until woken, take new deadlines from the ring, pulse what is due through `pulse`
 * (unless stopped), count skipped edges. Says `{ ready }` to its parent first. Returns
 * when stopped. Blocks its thread.
 */
export function runDeadlineLoop(data: DeadlineWorkerData, pulse: (line: number) => void): void {
  const control = new DeadlineControl(data.control);
  const clock = new GuestClock(data.clock);
  const ring = new SharedRing(data.ring);
  const deadlines = new IrqDeadlines();
  const log = data.edges ? new EdgeLog(data.edges) : null;
  const fire = (line: number, due: number): void => {
    if (control.whileRunning(() => pulse(line))) log?.add(due, clock.nowNs());
  };
  parentPort?.postMessage({ ready: true });
  while (!control.stopped) {
    const seq = control.sequence;
    let rec: Int32Array | null;
    while ((rec = ring.pop()) !== null) {
      const d = decodeDeadline(rec);
      deadlines.set(d.line, d.at, d.periodNs);
    }
    let sleepMs = IDLE_MS;
    if (!clock.paused) {
      deadlines.fire(clock.nowNs(), fire);
      control.skipped = deadlines.skipped;
      const next = deadlines.next();
      if (next !== Infinity) sleepMs = Math.min(IDLE_MS, (next - clock.nowNs()) / 1e6);
    }
    if (sleepMs > 0) control.sleep(seq, sleepMs);
  }
}
