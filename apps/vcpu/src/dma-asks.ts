import type { LocalDma } from '@quasivm/device-sdk';

/**
 * Read data one DmaMore asks for: a reply is usable only once all of it crossed, so small
 * replies in a row (taken one by one as the commands held run out) keep the guest going where
 * one large reply made it wait for its last byte.
 */
export const DMA_ASK_BYTES = 1 << 20;
/**
 * Read data held or asked for ahead of the guest: enough to cover the device's turnaround many
 * times over, requests riding with batches of up to 4 MiB served (remote-io-bridge.ts).
 */
export const DMA_WINDOW_BYTES = 16 << 20;
/** Most commands a device predicts in one reply (proto CommandAhead.dma). */
const MAX_PER_REPLY = 256;

/**
 * The DmaMore requests a vCPU keeps in flight for one run of predicted DMA commands (proto
 * DmaMore): each asks for the commands after those held and those already asked for (`skip`),
 * about DMA_ASK_BYTES of read data, until about DMA_WINDOW_BYTES are held or on their way.
 * Replies are taken in order as the commands held run out. Each request assumes the ones
 * before it bring as many commands as asked: a reply with fewer (the disk's end, a media
 * error) ends the asks, and the requests after it are dropped (they would not continue the run).
 */
export class DmaAsks {
  private readonly pending: Array<{ seq: number; count: number }> = [];
  /** Commands the pending requests bring. */
  private coming = 0;

  private constructor(
    readonly dma: LocalDma,
    /** Commands one request asks for (0: ask no more). */
    private per: number,
    /** Commands to hold or have coming. */
    private readonly window: number,
    /** Read data one request may carry (proto DmaMore.max_bytes). */
    readonly maxBytes: number,
  ) {}

  /** The asks for a run whose commands move `byteLength` each, to memory (reads) or to the drive. */
  static for(dma: LocalDma, toMemory: boolean, byteLength: number): DmaAsks {
    // Writes carry no data: a device predicts as many as it predicts at all.
    if (!toMemory) return new DmaAsks(dma, MAX_PER_REPLY, MAX_PER_REPLY, DMA_ASK_BYTES);
    const per = Math.max(1, Math.min(MAX_PER_REPLY, Math.floor(DMA_ASK_BYTES / byteLength)));
    return new DmaAsks(dma, per, Math.max(per, Math.floor(DMA_WINDOW_BYTES / byteLength)), per * byteLength);
  }

  /**
   * Posts the requests due now through `post(skip)` (which returns the request's seq); only
   * right after a DMA command completed (a DmaServed, or the read whose reply predicted the run).
   * Returns how many it posted.
   */
  ask(post: (skip: number) => number): number {
    let n = 0;
    while (this.per > 0 && this.dma.queued + this.coming < this.window) {
      this.pending.push({ seq: post(this.dma.queued + this.coming), count: this.per });
      this.coming += this.per;
      n++;
    }
    return n;
  }

  /** The next reply to take (the commands held ran out), or null: none is due or asked for. */
  due(): { seq: number; count: number } | null {
    if (this.dma.queued > 0 || !this.pending.length) return null;
    const next = this.pending.shift()!;
    this.coming -= next.count;
    return next;
  }

  /** Stops asking; the seqs of the requests in flight, which the caller forgets. */
  stop(): number[] {
    this.per = 0;
    this.coming = 0;
    return this.pending.splice(0).map((p) => p.seq);
  }
}
