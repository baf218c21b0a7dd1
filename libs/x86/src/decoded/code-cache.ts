import type { Cpu } from '../cpu.js';
import type { DecodedBlock } from './decode-block.js';

/** A pre-decoded instruction: runs it with its operands bound (EIP already points past it when it starts). */
export type DecodedInstruction = (cpu: Cpu) => void;

/** What decodeInstruction returns for an instruction it does not handle: the interpreter (or the JIT) runs it. */
export const INTERPRET = 0 as const;

/** What the cache holds for one address: a decoded block (maybe empty), or undefined (not decoded yet). */
export type CacheSlot = DecodedBlock | undefined;

/** After this many invalidations a page is left to the interpreter (code and data sharing a page). */
const MAX_PAGE_INVALIDATIONS = 64;

/**
 * Decoded instructions by physical address, one 4 KiB table per RAM page and
 * code size (16/32-bit code decodes the same bytes differently). A write to
 * bytes of a page that decoded code was made from drops that page's tables, so
 * self-modifying code and code loaded later are decoded afresh; a write to the
 * page's other bytes (data beside code) drops nothing. Writes the CPU makes are
 * seen through LinearMemory (written()); writes from outside (DMA) must be
 * reported with invalidate().
 */
export class CodeCache {
  /** Per RAM page: non-zero while the page has decoded instructions (checked on every RAM write). */
  readonly marks: Uint8Array<ArrayBufferLike>;
  private readonly tables16: (CacheSlot[] | undefined)[];
  private readonly tables32: (CacheSlot[] | undefined)[];
  /** Per page (and code size, by table): arrivals at each offset not decoded yet (see arrivals()). */
  private readonly arrivals16: (Uint8Array | undefined)[];
  private readonly arrivals32: (Uint8Array | undefined)[];
  private readonly invalidations: Uint8Array;
  /**
   * Per page with a table: which of its bytes decoded code (closures, JavaScript blocks) was
   * made from (markCode). Written bytes outside them leave the page's code alone.
   */
  private readonly codeBytes: (Uint8Array | undefined)[];
  /** Per page: every byte counts as code until the page's code is next dropped (markWholePage). */
  private readonly wholePage: Uint8Array;
  /** The pages whose invalidation count is not zero (what decayInvalidations visits, not all of RAM). */
  private invalidatedPages: number[] = [];
  /** Counts invalidations: a block that sees it change stops (its own page may have been rewritten). */
  generation = 0;
  /**
   * Per RAM page: changed whenever its decoded code is dropped or its wasm region is
   * rebuilt, so a remembered way into the page's region (wasm chain table) goes stale.
   */
  readonly regionGenerations: Uint32Array<ArrayBufferLike>;

  constructor(ramPages: number, marks: Uint8Array<ArrayBufferLike> = new Uint8Array(ramPages), regionGenerations: Uint32Array<ArrayBufferLike> = new Uint32Array(ramPages)) {
    this.marks = marks.fill(0);
    this.regionGenerations = regionGenerations;
    this.invalidations = new Uint8Array(ramPages);
    this.codeBytes = new Array(ramPages).fill(undefined);
    this.wholePage = new Uint8Array(ramPages);
    this.tables16 = new Array(ramPages).fill(undefined);
    this.tables32 = new Array(ramPages).fill(undefined);
    this.arrivals16 = new Array(ramPages).fill(undefined);
    this.arrivals32 = new Array(ramPages).fill(undefined);
  }

  /**
   * How many times execution arrived at each offset of a page whose table exists, before
   * that offset was decoded: code that runs once or twice (most of a kernel's
   * initialisation) is cheaper to interpret than to decode (Cpu.lookupBlock).
   */
  arrivals(page: number, codeSize: number): Uint8Array {
    const all = codeSize === 4 ? this.arrivals32 : this.arrivals16;
    let counts = all[page];
    if (counts === undefined) {
      counts = new Uint8Array(4096);
      all[page] = counts;
    }
    return counts;
  }

  /** The table of a page for a code size, or undefined when the page is not cached (INTERPRET only). */
  table(page: number, codeSize: number): CacheSlot[] | undefined {
    const tables = codeSize === 4 ? this.tables32 : this.tables16;
    let table = tables[page];
    if (table === undefined) {
      if (this.invalidations[page] >= MAX_PAGE_INVALIDATIONS) return undefined;
      table = new Array<CacheSlot>(4096).fill(undefined);
      tables[page] = table;
      this.marks[page] = 1;
      this.codeBytes[page] ??= new Uint8Array(4096);
    }
    return table;
  }

  /**
   * Notes that decoded code was made from [physical, physical + length) (the part in
   * physical's page: an instruction running on into the next page is checked there itself).
   */
  markCode(physical: number, length: number): void {
    const bytes = this.codeBytes[physical >>> 12];
    if (bytes === undefined || length <= 0) return;
    const start = physical & 0xfff;
    bytes.fill(1, start, Math.min(4096, start + length));
  }

  /**
   * Every byte of the page counts as code until its code is next dropped: a wasm region is
   * compiled from it elsewhere, from bytes this thread does not know.
   */
  markWholePage(page: number): void {
    if (this.marks[page] !== 0) this.wholePage[page] = 1;
  }

  /**
   * The CPU wrote `length` bytes at `physical`, inside one page: its decoded code is dropped
   * if any of those bytes is one it was made from.
   */
  written(physical: number, length: number): void {
    const page = physical >>> 12;
    if (this.marks[page] === 0) return;
    const bytes = this.codeBytes[page];
    if (this.wholePage[page] === 0 && bytes !== undefined) {
      const start = physical & 0xfff;
      const end = Math.min(4096, start + length);
      let i = start;
      while (i < end && bytes[i] === 0) i++;
      if (i === end) return; // data beside the code
    }
    this.invalidatePage(page);
  }

  /** The table of a page for a code size if it has one (never creates it). */
  existingTable(page: number, codeSize: number): CacheSlot[] | undefined {
    return (codeSize === 4 ? this.tables32 : this.tables16)[page];
  }

  /** Drops the decoded instructions of one page (a write hit it). */
  invalidatePage(page: number): void {
    if (this.marks[page] === 0) return;
    this.generation++;
    this.regionGenerations[page]++;
    this.marks[page] = 0;
    bury(this.tables16[page]);
    bury(this.tables32[page]);
    this.tables16[page] = undefined;
    this.tables32[page] = undefined;
    this.arrivals16[page] = undefined;
    this.arrivals32[page] = undefined;
    this.codeBytes[page] = undefined;
    this.wholePage[page] = 0;
    const count = this.invalidations[page];
    if (count === 0) this.invalidatedPages.push(page);
    if (count < 255) this.invalidations[page] = count + 1;
  }

  /** Drops the decoded instructions overlapping [physical, physical + length). */
  invalidate(physical: number, length: number): void {
    if (length <= 0) return;
    const first = Math.max(0, Math.floor(physical / 4096));
    const last = Math.min(this.marks.length - 1, Math.floor((physical + length - 1) / 4096));
    for (let page = first; page <= last; page++) this.invalidatePage(page);
  }

  /**
   * Halves every page's invalidation count. Called now and then (Cpu.run), so a page
   * that was patched many times once (Linux rewrites its own text while booting:
   * alternatives, jump labels) is decoded again, while a page that keeps mixing code
   * and data writes keeps going back to the interpreter.
   */
  decayInvalidations(): void {
    const counts = this.invalidations;
    this.invalidatedPages = this.invalidatedPages.filter((page) => (counts[page] >>>= 1) !== 0);
  }

  /** Drops everything (and forgets which pages were written often). */
  clear(): void {
    this.generation++;
    for (let page = 0; page < this.regionGenerations.length; page++) this.regionGenerations[page]++;
    this.tables16.forEach(bury);
    this.tables32.forEach(bury);
    this.marks.fill(0);
    this.invalidations.fill(0);
    this.invalidatedPages = [];
    this.tables16.fill(undefined);
    this.tables32.fill(undefined);
    this.arrivals16.fill(undefined);
    this.arrivals32.fill(undefined);
    this.codeBytes.fill(undefined);
    this.wholePage.fill(0);
  }
}

/** Marks a dropped table's blocks dead, so a link or jump-cache entry to one is not followed. */
function bury(table: CacheSlot[] | undefined): void {
  if (table === undefined) return;
  for (let i = 0; i < table.length; i++) {
    const block = table[i];
    if (block !== undefined) block.alive = false;
  }
}
