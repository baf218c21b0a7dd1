/**
 * The main thread's side of a KVM VM. The CPU thread blocks in KVM_RUN, so whatever must
 * reach the guest while it runs or halts is done from here, on the VM's own fds:
 * IRQ lines (KVM_IRQ_LINE; IRQ deadlines go to a thread of their own, DeadlineThread),
 * kicks (immediate_exit + a signal to the CPU thread), guest RAM for device DMA (a view of the CPU thread's mmap, which is
 * process-wide), and console output drained from a ring.
 */
import koffi from 'koffi';
import { KvmRun, kickThread } from '@quasivm/kvm';
import type { GuestTimeNs } from '@quasivm/device-sdk';
import type { FromCpu } from '../machine/worker-messages.js';
import { SharedRing } from '../shared-ring.js';
import { CONSOLE_RING_WORDS, ConsoleReader } from './console-output.js';
import { decodeDeadline } from '../machine/deadlines.js';
import { DeadlineThread } from './deadline-thread.js';
import { GuestClock } from './guest-clock.js';
import { IrqLine } from './irq-line.js';
import { KvmHandshake } from './kvm-handshake.js';
import { DISPLAY_PERIOD_MS } from '../windowed-device.js';

/** Shared memory between the two sides, passed to the CPU thread in workerData. */
export interface KvmLinkBuffers {
  handshake: SharedArrayBuffer;
  clock: SharedArrayBuffer;
  /** CPU thread -> main: IRQ deadlines of local models (encodeDeadline records). */
  deadlines: SharedArrayBuffer;
  /** CPU thread -> main: console bytes. */
  console: SharedArrayBuffer;
  /** CPU thread -> main: one Int32, how many device windows are mapped as RAM now. */
  mappedWindows: SharedArrayBuffer;
}

const TERMINAL = new Set(['crashed', 'shut-down']);
/**
 * How often a running guest is kicked so the CPU thread can look whether the kernel holds
 * it in HLT with interrupts off (which no exit would ever report). One exit per interval.
 */
const HALT_PROBE_MS = 1000;

export class KvmVmLink {
  readonly buffers: KvmLinkBuffers;
  private readonly handshake = KvmHandshake.create();
  private readonly clock = GuestClock.create();
  private readonly deadlineRing = SharedRing.create(1 << 12);
  private readonly console: ConsoleReader;
  private readonly mappedWindows = new Int32Array(new SharedArrayBuffer(4));
  private lastProbe = 0;
  private readonly timer: DeadlineThread;
  private irq: IrqLine | null = null;
  private run: KvmRun | null = null;
  private ram: Uint8Array | null = null;
  private tid = 0;
  private released = false;
  private failed = false;
  private running = false;
  private probe: NodeJS.Timeout | null = null;
  /** Line levels set before the CPU thread had created the VM. */
  private readonly earlyLevels = new Map<number, boolean>();

  constructor(
    private readonly deliver: (m: FromCpu) => void,
    private readonly onError: (message: string) => void,
  ) {
    const consoleBuffer = SharedRing.create(CONSOLE_RING_WORDS).buffer;
    this.console = new ConsoleReader(consoleBuffer, deliver);
    this.buffers = { handshake: this.handshake.buffer, clock: this.clock.buffer, deadlines: this.deadlineRing.buffer, console: consoleBuffer, mappedWindows: this.mappedWindows.buffer as SharedArrayBuffer };
    this.timer = new DeadlineThread(this.clock, (message) => this.reportOnce(message));
  }

  /** Starts listening for the CPU thread; call right after starting it. */
  start(): void {
    void this.attach();
    void this.pumpDeadlines();
    void this.pumpConsole();
    this.probe = setInterval(() => this.probeTick(), DISPLAY_PERIOD_MS).unref();
  }

  /**
   * A running guest is kicked once a second (the halt probe), and at the display rate
   * while the CPU thread maps device windows as RAM: a guest writing only there makes no
   * exits, and its bytes are shipped on the CPU thread between exits.
   */
  private probeTick(): void {
    if (!this.running) return;
    const t = performance.now();
    if (Atomics.load(this.mappedWindows, 0) === 0 && t - this.lastProbe < HALT_PROBE_MS) return;
    this.lastProbe = t;
    this.kick();
  }

  private async attach(): Promise<void> {
    const p = await this.handshake.published();
    if (!p || this.released) return;
    this.tid = p.tid;
    this.irq = new IrqLine(p.vmFd);
    this.timer.start(p.vmFd);
    this.run = new KvmRun(new Uint8Array(koffi.view(p.runAddress, p.runSize)));
    this.ram = new Uint8Array(koffi.view(p.ramAddress, p.ramSize));
    for (const [line, level] of this.earlyLevels) this.irqLine(line, level);
    this.earlyLevels.clear();
    this.kick(); // a control record pushed before the views existed was not kicked for
  }

  /** Guest RAM as the CPU thread mapped it. */
  guestRam(): Uint8Array {
    if (!this.ram || this.released) throw new Error('guest RAM is not mapped (the KVM VM is not running)');
    return this.ram;
  }

  irqLine(line: number, level: boolean): void {
    if (this.released) return;
    if (!this.irq) {
      this.earlyLevels.set(line, level);
      return;
    }
    try {
      this.irq.set(line, level);
    } catch (e) {
      this.reportOnce(`IRQ ${line} could not be delivered: ${(e as Error).message}`);
    }
  }

  setDeadline(line: number, at: GuestTimeNs | null, periodNs = 0): void {
    this.timer.set(line, at, periodNs);
  }

  /** Gets the CPU thread out of KVM_RUN so it reads the control ring (race-free: immediate_exit first). */
  kick(): void {
    if (!this.run || this.released) return;
    this.run.immediateExit = true;
    try {
      kickThread(this.tid);
    } catch (e) {
      this.reportOnce(`cannot kick the CPU thread: ${(e as Error).message}`);
    }
  }

  /** Every message of the CPU thread passes here: console bytes written before it come first. */
  onWorkerMessage(m: FromCpu): void {
    this.console.message(m);
    if (m.type !== 'state') return;
    this.running = m.state === 'running';
    this.timer.clockChanged();
    if (TERMINAL.has(m.state)) this.release();
  }

  /** Drops every view and lets the CPU thread free the VM. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.timer.stop();
    if (this.probe) clearInterval(this.probe);
    this.irq = null;
    this.run = null;
    this.ram = null;
    this.handshake.release();
    this.console.drain();
    Atomics.notify(this.deadlineRing.words, 0);
    Atomics.notify(this.console.words, 0);
  }

  private async pumpDeadlines(): Promise<void> {
    while (!this.released) {
      let rec: Int32Array | null;
      while ((rec = this.deadlineRing.pop()) !== null) {
        const d = decodeDeadline(rec);
        this.timer.set(d.line, d.at, d.periodNs);
      }
      await this.deadlineRing.waitForDataAsync(1000);
    }
  }

  private async pumpConsole(): Promise<void> {
    while (!this.released) {
      this.console.drain();
      await this.console.waitForData(1000);
    }
  }

  private reportOnce(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(message);
  }
}
