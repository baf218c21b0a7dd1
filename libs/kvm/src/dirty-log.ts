/** The result of KVM_GET_DIRTY_LOG: one bit per page of a memory slot, bit 0 = first page. */
export class DirtyLog {
  /** A copy of the kernel's bitmap (little-endian longs = plain byte order on x86). */
  readonly bitmap: Uint8Array;
  readonly pageCount: number;

  constructor(bitmap: Uint8Array, pageCount: number) {
    this.bitmap = bitmap;
    this.pageCount = pageCount;
  }

  /** Bytes a bitmap for `pageCount` pages occupies: rounded up to whole 64-bit longs. */
  static bitmapBytes(pageCount: number): number {
    return Math.ceil(pageCount / 64) * 8;
  }

  /** Whether page `page` (index from the slot start) was written since the previous read. */
  isDirty(page: number): boolean {
    if (page < 0 || page >= this.pageCount) return false;
    return (this.bitmap[page >>> 3] & (1 << (page & 7))) !== 0;
  }

  /** Indices of all dirty pages, ascending. */
  dirtyPages(): number[] {
    const pages: number[] = [];
    for (let byte = 0; byte < this.bitmap.length; byte++) {
      const bits = this.bitmap[byte];
      if (bits === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        const page = byte * 8 + bit;
        if (bits & (1 << bit) && page < this.pageCount) pages.push(page);
      }
    }
    return pages;
  }
}
