/**
 * Serial and debug-console bytes from the CPU thread of a KVM VM to the main thread,
 * through a SharedRing instead of postMessage: the CPU thread may block in KVM_RUN for
 * good right after a byte (a prompt, then HLT handled in the kernel), so output cannot
 * wait for a later flush on that thread. The main thread drains as soon as bytes arrive.
 *
 * Order with the CPU thread's messages (state changes, events) is kept: before posting a
 * message the CPU thread puts a marker in the ring, and the main thread hands out bytes
 * past marker k only after message k.
 * Records: [kind, byte, byte, ...] or [Marker].
 */
import type { FromCpu } from '../machine/worker-messages.js';
import { SharedRing } from '../shared-ring.js';

export const enum OutputKind {
  Serial = 1,
  DebugConsole = 2,
  Marker = 3,
}

/** Ring size in words: one word per byte, so 64K bytes may be in flight. */
export const CONSOLE_RING_WORDS = 1 << 16;

/** CPU-thread side. */
export class ConsoleWriter {
  private readonly ring: SharedRing;
  private readonly one = [0, 0];
  private readonly marker = [OutputKind.Marker];

  constructor(buffer: SharedArrayBuffer) {
    this.ring = new SharedRing(buffer);
  }

  /** Posts one byte; waits only if the main thread has fallen 64K bytes behind. */
  byte(kind: OutputKind, value: number): void {
    this.one[0] = kind;
    this.one[1] = value;
    this.ring.pushBlocking(this.one);
  }

  /** Call right before posting a message to the main thread. */
  beforeMessage(): void {
    this.ring.pushBlocking(this.marker);
  }
}

/** Main-thread side: turns the ring into 'serial' / 'debug-console' messages, in order with the other messages. */
export class ConsoleReader {
  private readonly ring: SharedRing;
  private markersSeen = 0;
  private messagesSeen = 0;
  /** Stopped at a marker whose message has not arrived yet. */
  private stalled = false;
  private wakeOnMessage: (() => void) | null = null;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly deliver: (m: FromCpu) => void,
  ) {
    this.ring = new SharedRing(buffer);
  }

  get words(): Int32Array {
    return this.ring.words;
  }

  /** Resolves when drain() may deliver something new (never at once while stalled: no busy loop). */
  waitForData(timeoutMs: number): Promise<void> {
    if (!this.stalled) return this.ring.waitForDataAsync(timeoutMs);
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs).unref();
      this.wakeOnMessage = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Delivers the bytes that may go out now. */
  drain(): void {
    if (this.stalled) return;
    let kind = 0;
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) this.deliver({ type: kind === OutputKind.Serial ? 'serial' : 'debug-console', data: Uint8Array.from(bytes) });
      bytes = [];
    };
    let rec: Int32Array | null;
    while ((rec = this.ring.pop()) !== null) {
      if (rec[0] === OutputKind.Marker) {
        if (++this.markersSeen > this.messagesSeen) {
          this.stalled = true;
          break;
        }
        continue;
      }
      if (rec[0] !== kind) flush();
      kind = rec[0];
      for (let i = 1; i < rec.length; i++) bytes.push(rec[i] & 0xff);
    }
    flush();
  }

  /** A message of the CPU thread: the bytes written before it, the message, then what may follow. */
  message(m: FromCpu): void {
    this.drain(); // stops at this message's marker (the CPU thread wrote it before posting)
    this.messagesSeen++;
    this.stalled = false;
    this.deliver(m);
    this.drain();
    this.wakeOnMessage?.();
    this.wakeOnMessage = null;
  }
}
