/** Past this many filled entries a flush clears the whole table instead of walking the list. */
const MAX_TRACKED = 1 << 14;
const PAGES = 1 << 20;

/**
 * Linear page -> RAM page for one privilege level: the fast path of every
 * memory access. An entry is the RAM offset of the physical page (a multiple
 * of 4096) or -1. Entries are filled after a successful translation to RAM
 * (for writes: after the page walk granted the write and set the dirty bit)
 * and dropped whenever the translation could change: CR0/CR3/CR4 writes,
 * INVLPG, the A20 gate, device windows moving. Device pages are never
 * entered, so MMIO always takes the slow path.
 */
export class FastPages {
  readonly read: Int32Array<ArrayBufferLike>;
  readonly write: Int32Array<ArrayBufferLike>;
  private filledRead: number[] = [];
  private filledWrite: number[] = [];

  /** The tables may live elsewhere (wasm memory, wasm/wasm-state.ts); they are filled with -1 here. */
  constructor(read: Int32Array<ArrayBufferLike> = new Int32Array(PAGES), write: Int32Array<ArrayBufferLike> = new Int32Array(PAGES)) {
    this.read = read.fill(-1);
    this.write = write.fill(-1);
  }

  fillRead(page: number, ramOffset: number): void {
    if (this.read[page] === -1) this.track(this.filledRead, this.read, page);
    this.read[page] = ramOffset;
  }

  fillWrite(page: number, ramOffset: number): void {
    if (this.write[page] === -1) this.track(this.filledWrite, this.write, page);
    this.write[page] = ramOffset;
  }

  private track(list: number[], table: Int32Array, page: number): void {
    if (list.length >= MAX_TRACKED) {
      table.fill(-1);
      list.length = 0;
    }
    list.push(page);
  }

  invalidate(page: number): void {
    this.read[page] = -1;
    this.write[page] = -1;
  }

  flush(): void {
    // The tables are read once, outside the loops: a loop body that had not run yet when V8
    // optimized flush() left no feedback for them, and the optimized code was thrown away
    // (24 times in a Linux boot).
    const read = this.read;
    const write = this.write;
    const filledRead = this.filledRead;
    const filledWrite = this.filledWrite;
    for (let i = 0; i < filledRead.length; i++) read[filledRead[i]] = -1;
    for (let i = 0; i < filledWrite.length; i++) write[filledWrite[i]] = -1;
    filledRead.length = 0;
    filledWrite.length = 0;
  }
}
