// A per-client cap on how many traffic records a second one stream delivers. What goes over
// is dropped and counted; the next record delivered says how many were skipped before it.
export class RateLimit {
  private windowStart = 0;
  private sent = 0;
  private skipped = 0;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(perSecond) || perSecond < 1) throw new Error(`records per second must be a positive integer, got ${perSecond}`);
  }

  /** null: drop this record; otherwise the number dropped since the last one let through. */
  admit(): number | null {
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.sent = 0;
    }
    if (this.sent >= this.perSecond) {
      this.skipped++;
      return null;
    }
    this.sent++;
    const dropped = this.skipped;
    this.skipped = 0;
    return dropped;
  }
}
