import type { Worker } from 'node:worker_threads';
import type { GuestTimeNs } from '@quasivm/device-sdk';
import { encodeDeadline } from '../machine/deadlines.js';
import { SharedRing } from '../shared-ring.js';
import { startTsWorker } from '../ts-worker.js';
import { DeadlineControl } from './deadline-control.js';
import type { DeadlineWorkerData } from './deadline-loop.js';
import type { EdgeLog } from './edge-log.js';
import type { GuestClock } from './guest-clock.js';

/** The thread's entry: raises lines with KVM_IRQ_LINE. Tests and benches without /dev/kvm pass one that records edges instead. */
const KVM_ENTRY = new URL('./deadline-worker.ts', import.meta.url);

export interface DeadlineThreadOptions {
  /** For benches and tests: the thread logs every edge it pulsed there (EdgeLog). */
  edges?: EdgeLog;
  /** The thread's module; default: the one raising lines with KVM_IRQ_LINE. */
  entry?: URL;
}

/**
 * IRQ deadlines of a KVM VM ("pulse IRQ 0 at t, then every p ns"), delivered by a thread
 * of their own: the CPU thread sits in KVM_RUN, and main-thread timers (1 ms granularity,
 * queued behind gRPC and console work) were 2-3 ms late at 1000 Hz. The thread sleeps in Atomics.wait until
 * the next edge on the guest clock (guest time = host monotonic time while running) and
 * raises the line itself with KVM_IRQ_LINE on the VM fd, which any thread of the process
 * may use. Deadline changes travel on a ring and wake it early; nothing fires while the
 * guest clock is paused (`clockChanged()` wakes it on resume). The thread is unref'ed,
 * so it never keeps the process alive.
 */
export class DeadlineThread {
  private readonly ring = SharedRing.create(1 << 12);
  private readonly control = new DeadlineControl();
  private worker: Worker | null = null;
  private stopped = false;
  private onReady: () => void = () => undefined;
  /** Resolves once the thread runs (starting one takes a few hundred ms: tsx in a new isolate). */
  readonly ready = new Promise<void>((resolve) => (this.onReady = resolve));

  constructor(
    private readonly clock: GuestClock,
    private readonly onError: (message: string) => void,
    private readonly options: DeadlineThreadOptions = {},
  ) {}

  /** Starts delivering on `vmFd`; deadlines set before are kept and delivered from now on. */
  start(vmFd: number): void {
    if (this.worker || this.stopped) return;
    const workerData: DeadlineWorkerData = { vmFd, clock: this.clock.buffer, ring: this.ring.buffer, control: this.control.buffer, edges: this.options.edges?.buffer };
    const worker = startTsWorker(this.options.entry ?? KVM_ENTRY, { workerData, name: 'irq-deadlines' });
    worker.on('message', (m: { ready?: boolean; error?: string }) => (m.error ? this.onError(`IRQ deadline thread failed: ${m.error}`) : this.onReady()));
    worker.on('error', (e) => this.onError(`IRQ deadline thread failed: ${e.message}`));
    worker.unref(); // after the listeners: adding a 'message' listener refs the worker again
    this.worker = worker;
  }

  set(line: number, at: GuestTimeNs | null, periodNs = 0): void {
    if (this.stopped) return;
    if (!this.ring.tryPush(encodeDeadline(line, at, periodNs))) this.onError(`IRQ deadline ring full: deadline of IRQ ${line} dropped`);
    this.control.wake();
  }

  /** Call when the guest clock was paused or resumed. */
  clockChanged(): void {
    this.control.wake();
  }

  /** Periods skipped because the host could not keep up. */
  get skipped(): number {
    return this.control.skipped;
  }

  /** Once this returns, no line is raised again (the VM fd may be closed); the thread ends by itself. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.control.stop();
  }
}
