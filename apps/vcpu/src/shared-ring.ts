/**
 * A single-producer single-consumer ring of 32-bit-word records in a SharedArrayBuffer:
 * how the vCPU thread and the main thread hand each other port I/O and events without
 * copying through postMessage and without busy-waiting (Atomics.wait / waitAsync).
 *
 * Layout (Int32Array): [0] write cursor, [1] read cursor, [2..] data words.
 * Cursors count words and only grow (mod 2^31 wrap is handled by masking the slot index).
 * A record is [length-in-words, ...payload]; a record never wraps: when it does not fit
 * before the end, the producer writes a skip marker (-1) and starts at slot 0.
 */
const WRITE = 0;
const READ = 1;
const HEADER = 2;
const SKIP = -1;

export class SharedRing {
  readonly words: Int32Array;
  private readonly capacity: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.capacity = this.words.length - HEADER;
  }

  static create(capacityWords: number): SharedRing {
    return new SharedRing(new SharedArrayBuffer((capacityWords + HEADER) * 4));
  }

  /** Free words the producer may still write. */
  private free(): number {
    return this.capacity - (Atomics.load(this.words, WRITE) - Atomics.load(this.words, READ));
  }

  /**
   * Appends a record; returns false when it does not fit now (the caller waits with
   * waitForSpace and retries). Throws only for a record larger than the whole ring.
   */
  tryPush(payload: ArrayLike<number>): boolean {
    const need = payload.length + 1;
    if (need > this.capacity / 2) throw new RangeError(`record of ${need} words exceeds the ring (${this.capacity} words)`);
    let w = Atomics.load(this.words, WRITE);
    let slot = w % this.capacity;
    const tail = this.capacity - slot;
    const extra = need > tail ? tail : 0;
    if (this.free() < need + extra) return false;
    if (extra) {
      this.words[HEADER + slot] = SKIP;
      w += tail;
      slot = 0;
    }
    this.words[HEADER + slot] = payload.length;
    for (let i = 0; i < payload.length; i++) this.words[HEADER + slot + 1 + i] = payload[i];
    Atomics.store(this.words, WRITE, w + need);
    Atomics.notify(this.words, WRITE);
    return true;
  }

  /** Pushes, blocking (Atomics.wait) while the ring is full. Only for non-main threads. */
  pushBlocking(payload: ArrayLike<number>): void {
    while (!this.tryPush(payload)) Atomics.wait(this.words, READ, Atomics.load(this.words, READ), 100);
  }

  /** Takes the next record, or null when empty. */
  pop(): Int32Array | null {
    let r = Atomics.load(this.words, READ);
    if (r === Atomics.load(this.words, WRITE)) return null;
    let slot = r % this.capacity;
    if (this.words[HEADER + slot] === SKIP) {
      r += this.capacity - slot;
      slot = 0;
    }
    const len = this.words[HEADER + slot];
    const rec = this.words.slice(HEADER + slot + 1, HEADER + slot + 1 + len);
    Atomics.store(this.words, READ, r + len + 1);
    Atomics.notify(this.words, READ);
    return rec;
  }

  isEmpty(): boolean {
    return Atomics.load(this.words, READ) === Atomics.load(this.words, WRITE);
  }

  /** Blocks the calling (non-main) thread until a record may be there or `timeoutMs` passes. */
  waitForData(timeoutMs: number): void {
    const w = Atomics.load(this.words, WRITE);
    if (w !== Atomics.load(this.words, READ)) return;
    Atomics.wait(this.words, WRITE, w, timeoutMs);
  }

  /** Resolves when a record may be there; for the main thread (never blocks its event loop). */
  async waitForDataAsync(timeoutMs?: number): Promise<void> {
    const w = Atomics.load(this.words, WRITE);
    if (w !== Atomics.load(this.words, READ)) return;
    const res = Atomics.waitAsync(this.words, WRITE, w, timeoutMs);
    if (res.async) await res.value;
  }
}
