/**
 * Translation lookaside buffer: one Int32 per 4 KiB linear page, holding the
 * physical frame (bits 12-31) and which accesses it already allows. An
 * access whose permission bits are not all present goes to the page walk,
 * which refills the entry (that is also how dirty bits get set: write bits
 * are only granted once the PTE is dirty).
 */
export const TLB_VALID = 1;
/** Supervisor write allowed and the page already dirty. */
export const TLB_SUPERVISOR_WRITE = 2;
export const TLB_USER_READ = 4;
/** User write allowed and the page already dirty. */
export const TLB_USER_WRITE = 8;
/** From a global page (CR4.PGE): survives CR3 writes. */
export const TLB_GLOBAL = 16;

/** Bits an access needs, indexed by (user ? 2 : 0) | (write ? 1 : 0). */
export const TLB_NEED: readonly number[] = [
  TLB_VALID,
  TLB_VALID | TLB_SUPERVISOR_WRITE,
  TLB_VALID | TLB_USER_READ,
  TLB_VALID | TLB_USER_WRITE,
];

/** Past this many filled pages a flush clears the whole table instead of walking the list. */
const MAX_TRACKED = 1 << 16;

export class Tlb {
  readonly entries = new Int32Array(1 << 20);
  private filled: number[] = [];
  private filledGlobal: number[] = [];

  fill(page: number, entry: number): void {
    if (this.entries[page] === 0) {
      const list = (entry & TLB_GLOBAL) !== 0 ? this.filledGlobal : this.filled;
      list.push(page);
      if (list.length > MAX_TRACKED) {
        this.flush(true);
        this.filled.push(page);
      }
    }
    this.entries[page] = entry;
  }

  /** Drops every entry, or (includeGlobal false) every entry not from a global page. */
  flush(includeGlobal: boolean): void {
    const entries = this.entries;
    if (includeGlobal && this.filled.length + this.filledGlobal.length > MAX_TRACKED / 4) {
      entries.fill(0);
    } else {
      for (const page of this.filled) entries[page] = 0;
      if (includeGlobal) for (const page of this.filledGlobal) entries[page] = 0;
    }
    this.filled = [];
    if (includeGlobal) this.filledGlobal = [];
  }

  /** INVLPG: drops the entry for one linear page, global or not. */
  invalidate(page: number): void {
    this.entries[page] = 0;
  }
}
