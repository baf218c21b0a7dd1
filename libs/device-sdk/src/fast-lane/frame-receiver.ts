import { FrameSplitter } from './frame-codec.js';

/** A frame with at least this much still to come is read straight into a buffer of its own. */
const DIRECT_READ_BYTES = 16 * 1024;
/** Most bytes read at once otherwise: a large frame's start is copied out of the read buffer, at most this much of it. */
const SMALL_READ_BYTES = 8 * 1024;
/** Large frames' buffers are sizes in these steps. */
const ROUND_BYTES = 64 * 1024;
/**
 * Most bytes of recycled buffers kept: a 2 MiB batch of served WRITE DMAs is 32 frames of ~64 KiB
 * (each cut after its buffer), all spent at once, and every one not kept is a fresh allocation
 * for the next batch (external memory, which starts V8's major GCs).
 */
const MAX_SPARE_BYTES = 16 << 20;

/**
 * Where a socket's bytes are read to, and the frames they complete. Small frames are read a
 * few KiB at a time into one reused buffer and copied out; the rest of a large frame (DMA
 * data, a WRITE DMA's buffers) is read straight into a buffer of its size: no copy out of a
 * read buffer, no joining of 64 KiB pieces (Buffer.concat), nothing past its end.
 * Use: read at most `space().length` bytes into `space()`, then `received(n)`.
 */
export class FrameReceiver {
  private readonly splitter = new FrameSplitter();
  private readonly small = Buffer.allocUnsafe(SMALL_READ_BYTES);
  /** A large frame being read straight into its own buffer: its bytes so far. */
  private large: { frame: Buffer; at: number } | null = null;
  /**
   * Buffers of large frames their reader is done with (recycle), taken again for the next ones:
   * a vCPU reading 1 MiB DMA replies otherwise faulted in fresh pages for every one of them
   * (64 MiB READ DMA: ~16,000 page faults).
   */
  private readonly spare: ArrayBuffer[] = [];
  private spareBytes = 0;
  /** The buffers this receiver took for large frames (one frame each): the only ones recycle() takes. */
  private readonly own = new WeakSet<ArrayBuffer>();

  /** Where the next read goes (its length: the most it may take). */
  space(): Buffer {
    if (!this.large) {
      const inc = this.splitter.incomplete();
      if (inc && inc.frameBytes - inc.held >= DIRECT_READ_BYTES) {
        // Placed so the frame ends on an 8-byte boundary: its large payload, which ends the frame
        // (encodeEventParts), then starts on one when its length is a multiple of 8 (DMA data
        // is whole sectors). Copying it into guest RAM (a shared WebAssembly.Memory) from an
        // unaligned source took ~5x as long (64 KiB: ~22 us instead of ~4.6 us).
        const pad = (8 - (inc.frameBytes % 8)) % 8;
        const need = inc.frameBytes + pad;
        const i = this.spare.findIndex((b) => b.byteLength >= need);
        if (i >= 0) this.spareBytes -= this.spare[i].byteLength;
        // Rounded up: replies of about the same size fit in each other's buffers.
        const memory = i >= 0 ? this.spare.splice(i, 1)[0] : Buffer.allocUnsafeSlow(Math.ceil(need / ROUND_BYTES) * ROUND_BYTES).buffer;
        this.own.add(memory);
        const frame = Buffer.from(memory, pad, inc.frameBytes);
        this.large = { frame, at: this.splitter.takeHeld(frame) };
      }
    }
    const f = this.large;
    return f ? f.frame.subarray(f.at) : this.small;
  }

  /**
   * The frame `data` lies in (a large one read straight into its own buffer) is not used any more,
   * not any of its bytes, by anyone: its buffer may hold a later frame. Anything else is ignored.
   */
  recycle(data: Uint8Array): void {
    const b = data.buffer;
    if (!(b instanceof ArrayBuffer) || !this.own.has(b) || this.spareBytes + b.byteLength > MAX_SPARE_BYTES || this.spare.includes(b)) return;
    if (this.large?.frame.buffer === b) return;
    this.spare.push(b);
    this.spareBytes += b.byteLength;
  }

  /** `n` bytes were read into the last space(): the frame bodies they complete (throws on an oversized frame). */
  received(n: number): Buffer[] {
    const f = this.large;
    if (!f) return this.splitter.push(Buffer.from(this.small.subarray(0, n)));
    f.at += n;
    if (f.at < f.frame.length) return [];
    this.large = null;
    return this.splitter.push(f.frame);
  }
}
