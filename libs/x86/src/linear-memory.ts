import type { CpuBus } from './cpu-bus.js';
import { MMIO_PAGE_SHIFT } from './cpu-bus.js';
import { walkPage, type PhysicalMemory } from './paging/page-walk.js';
import { Tlb, TLB_NEED } from './paging/tlb.js';
import { CodeCache } from './decoded/code-cache.js';
import { widenNumberFields } from './wide-fields.js';
import { FastPages } from './paging/fast-pages.js';
import { STATE, stateLayout } from './wasm/wasm-state.js';

const CR0_PG = 1 << 31;

/**
 * Byte, word and dword access by linear address: translation to a physical
 * address (paging through a TLB when CR0.PG is set, then the A20 mask), then
 * RAM or a device window. Segmentation in Cpu never needs to know about it.
 */
export class LinearMemory implements PhysicalMemory {
  /** Guest RAM (compiled blocks read and write it directly through the fast tables). */
  readonly ram: Uint8Array;
  private readonly mmioPages: Uint8Array;
  /** RAM pages that mmioPages describes; accesses beyond go to the bus's MMIO handler. */
  private readonly ramPages: number;
  readonly tlb = new Tlb();
  private paging = false;
  private cr0 = 0;
  private cr3 = 0;
  private cr4 = 0;
  /** Accesses are checked as CPL 3 ones (the Cpu keeps this in step with its CPL through setUserMode). */
  userMode = false;
  /**
   * Instruction fetch cache: the linear page code was last fetched from, the
   * RAM offset of its physical page, and the A20 mask it was translated under.
   * Only RAM pages are cached; bytes are still read from RAM on every fetch,
   * so self-modifying code needs no invalidation. -1: nothing cached.
   */
  private codePage = -1;
  private codeBase = 0;
  private codeA20 = 0;
  /**
   * Changes whenever where an EIP's code is may have changed (paging, INVLPG, A20,
   * windows, privilege level; the CPU adds CS loads): a block the CPU found to run at an
   * EIP under the current value still does (Cpu.runsAt checks again after a change).
   */
  codeMapping = 0;
  /** Decoded instructions by physical page; RAM writes to a page holding some drop them. */
  readonly codeCache: CodeCache;
  /** Per RAM page: non-zero while it holds decoded code (a write there must go the slow way). */
  readonly codeMarks: Uint8Array;
  /** Fast linear->RAM tables for supervisor and user accesses. */
  private readonly supervisorPages: FastPages;
  private readonly userPages: FastPages;
  /**
   * With a wasm memory (CpuBus.wasmMemory): the state area's words, where the byte
   * offsets of the current fast tables are kept for compiled wasm (wasm/wasm-state.ts).
   */
  private readonly stateWords: Int32Array | undefined;
  private readonly tableOffsets: readonly number[] = [];
  /**
   * The current privilege's fast tables: RAM offset of each linear page, or -1 (take the
   * slow path). Compiled blocks read them directly (jit/instruction-emitter.ts); they are
   * replaced only when the CPL changes, which ends a block.
   */
  fastRead: Int32Array;
  fastWrite: Int32Array;
  /** RAM as little-endian words at any byte offset. */
  readonly view: DataView;
  /** The bus's A20 mask and window layout the fast tables were filled under. */
  private fastA20 = 0;
  private fastMapping = 0;

  constructor(
    private readonly bus: CpuBus,
    /** The CPU's own address width (20 bits on the 8086), ANDed with the bus's A20 mask. */
    private readonly addressMask: number,
  ) {
    this.ram = bus.ram;
    this.mmioPages = bus.mmioPages;
    this.ramPages = Math.min(this.mmioPages.length, this.ram.length >>> MMIO_PAGE_SHIFT);
    const wasm = bus.wasmMemory;
    if (wasm !== undefined) {
      const layout = stateLayout(this.ram.length);
      const table = (n: number): Int32Array => new Int32Array(wasm.buffer, layout.tables[n], 1 << 20);
      this.codeCache = new CodeCache(this.ramPages, new Uint8Array(wasm.buffer, layout.base + STATE.codeMarks, this.ramPages), new Uint32Array(wasm.buffer, layout.regionGenerations, this.ramPages));
      this.supervisorPages = new FastPages(table(0), table(1));
      this.userPages = new FastPages(table(2), table(3));
      this.stateWords = new Int32Array(wasm.buffer, layout.base, STATE.codeMarks / 4);
      this.tableOffsets = layout.tables;
    } else {
      this.codeCache = new CodeCache(this.ramPages);
      this.supervisorPages = new FastPages();
      this.userPages = new FastPages();
    }
    this.codeMarks = this.codeCache.marks;
    this.view = new DataView(this.ram.buffer, this.ram.byteOffset, this.ram.byteLength);
    this.fastRead = this.supervisorPages.read;
    this.fastWrite = this.supervisorPages.write;
    this.publishTables(false);
    this.fastA20 = bus.a20Mask;
    this.fastMapping = bus.mappingVersion ?? 0;
    // CR0 with PG set and A20 masks of 0xffffffff are 2^31 and more.
    widenNumberFields(this, ['cr0', 'codeA20', 'fastA20']);
  }

  /** Drops every fast translation (both privilege levels). */
  private flushFast(): void {
    this.supervisorPages.flush();
    this.userPages.flush();
  }

  /**
   * Notices an A20 gate change or moved device windows since the last call and drops
   * the fast translations they invalidate. Called between instructions by the CPU.
   */
  syncMapping(): void {
    const bus = this.bus;
    if (bus.a20Mask !== this.fastA20 || (bus.mappingVersion ?? 0) !== this.fastMapping) {
      this.fastA20 = bus.a20Mask;
      this.fastMapping = bus.mappingVersion ?? 0;
      this.flushFast();
      this.codePage = -1;
      this.codeMapping++;
    }
  }

  /** Takes new CR0/CR3/CR4 values; flushes non-global TLB entries, or all of them with `flushAll`. */
  configure(cr0: number, cr3: number, cr4: number, flushAll: boolean): void {
    this.cr0 = cr0;
    this.cr3 = cr3;
    this.cr4 = cr4;
    this.paging = (cr0 & CR0_PG) !== 0;
    this.tlb.flush(flushAll);
    this.flushFast();
    this.codePage = -1;
    this.codeMapping++;
  }

  /** INVLPG. */
  invalidatePage(linear: number): void {
    this.tlb.invalidate(linear >>> 12);
    this.supervisorPages.invalidate(linear >>> 12);
    this.userPages.invalidate(linear >>> 12);
    this.codePage = -1;
    this.codeMapping++;
  }

  /** CPL 3 (true) or not: user-mode page checks; the cached code page may no longer be reachable. */
  setUserMode(user: boolean): void {
    if (user !== this.userMode) {
      this.codePage = -1;
      this.codeMapping++;
    }
    this.userMode = user;
    const pages = user ? this.userPages : this.supervisorPages;
    this.fastRead = pages.read;
    this.fastWrite = pages.write;
    this.publishTables(user);
  }

  /** Tells compiled wasm which fast tables are current. */
  private publishTables(user: boolean): void {
    const words = this.stateWords;
    if (words === undefined) return;
    words[STATE.fastReadTable >> 2] = this.tableOffsets[user ? 2 : 0];
    words[STATE.fastWriteTable >> 2] = this.tableOffsets[user ? 3 : 1];
  }

  /** One byte of the instruction stream, through the code page cache. */
  fetch8(linear: number): number {
    if (linear >>> 12 === this.codePage && this.bus.a20Mask === this.codeA20) return this.ram[this.codeBase | (linear & 0xfff)];
    return this.fetchMiss(linear);
  }

  /**
   * The RAM offset of the instruction byte at `linear` (translated like a
   * fetch, so it can raise #PF), or -1 when it lies in a device window.
   */
  codeAddress(linear: number): number {
    if (linear >>> 12 === this.codePage && this.bus.a20Mask === this.codeA20) return this.codeBase | (linear & 0xfff);
    const p = this.toPhysical(linear);
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page < this.ramPages && this.mmioPages[page] === 0) return this.rememberCodePage(linear, p);
    this.codePage = -1;
    return -1;
  }

  /**
   * Where code at `linear` is in RAM, when that is known without a page walk (the fetch
   * cache, or a TLB entry allowing the read at the current privilege); -1 otherwise.
   * Never faults: the CPU uses it to check that a block it remembers still runs at an EIP.
   */
  codeProbe(linear: number): number {
    if (linear >>> 12 === this.codePage && this.bus.a20Mask === this.codeA20) return this.codeBase | (linear & 0xfff);
    let p: number;
    if (this.paging) {
      const need = TLB_NEED[this.userMode ? 2 : 0];
      const entry = this.tlb.entries[linear >>> 12];
      if ((entry & need) !== need) return -1;
      p = (((entry & 0xfffff000) | (linear & 0xfff)) & this.bus.a20Mask) >>> 0;
    } else {
      p = (linear & this.bus.a20Mask & this.addressMask) >>> 0;
    }
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page >= this.ramPages || this.mmioPages[page] !== 0) return -1;
    return this.rememberCodePage(linear, p);
  }

  /**
   * Code at `linear` is at RAM offset `p`: the fetch cache keeps its page, and since
   * fetching is reading (no NX here) the fast read table may say so too, which is what a
   * wasm region checks before going on into another (region-runner.ts). Returns `p`.
   */
  private rememberCodePage(linear: number, p: number): number {
    this.codePage = linear >>> 12;
    this.codeBase = (p >>> MMIO_PAGE_SHIFT) << MMIO_PAGE_SHIFT;
    this.codeA20 = this.bus.a20Mask;
    this.noteRead(linear, p);
    return p;
  }

  private fetchMiss(linear: number): number {
    const p = this.toPhysical(linear);
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page < this.ramPages && this.mmioPages[page] === 0) {
      this.codePage = linear >>> 12;
      this.codeBase = page << MMIO_PAGE_SHIFT;
      this.codeA20 = this.bus.a20Mask;
      return this.ram[p];
    }
    this.codePage = -1;
    return this.bus.mmio.read(p, 1) & 0xff;
  }

  /** Linear to physical for a read (write: true for a write), walking the page tables on a TLB miss. */
  toPhysical(linear: number, write = false): number {
    if (!this.paging) return (linear & this.bus.a20Mask & this.addressMask) >>> 0;
    const need = TLB_NEED[(this.userMode ? 2 : 0) | (write ? 1 : 0)];
    let entry = this.tlb.entries[linear >>> 12];
    if ((entry & need) !== need) {
      entry = walkPage(this, this.cr0, this.cr3, this.cr4, linear, write, this.userMode);
      this.tlb.fill(linear >>> 12, entry);
    }
    return (((entry & 0xfffff000) | (linear & 0xfff)) & this.bus.a20Mask) >>> 0;
  }

  // ------------------------------------------------------------------ physical

  readPhysical32(p: number): number {
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page < this.ramPages && this.mmioPages[page] === 0 && (p & 3) === 0) {
      const ram = this.ram;
      return (ram[p] | (ram[p + 1] << 8) | (ram[p + 2] << 16) | (ram[p + 3] << 24)) >>> 0;
    }
    return this.bus.mmio.read(p, 4) >>> 0;
  }

  writePhysical32(p: number, value: number): void {
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page < this.ramPages && this.mmioPages[page] === 0 && (p & 3) === 0) {
      if (this.codeMarks[page] !== 0) this.codeCache.written(p, 4);
      const ram = this.ram;
      ram[p] = value;
      ram[p + 1] = value >>> 8;
      ram[p + 2] = value >>> 16;
      ram[p + 3] = value >>> 24;
      return;
    }
    this.bus.mmio.write(p, 4, value >>> 0);
  }

  // ------------------------------------------------------------------ system accesses

  /** Descriptor-table, TSS and IDT reads are supervisor accesses whatever the CPL. */
  readSystem32(linear: number): number {
    const user = this.userMode;
    this.userMode = false;
    try {
      return this.read32(linear);
    } finally {
      this.userMode = user;
    }
  }

  readSystem16(linear: number): number {
    const user = this.userMode;
    this.userMode = false;
    try {
      return this.read16(linear);
    } finally {
      this.userMode = user;
    }
  }

  writeSystem16(linear: number, value: number): void {
    const user = this.userMode;
    this.userMode = false;
    try {
      this.write16(linear, value);
    } finally {
      this.userMode = user;
    }
  }

  writeSystem32(linear: number, value: number): void {
    const user = this.userMode;
    this.userMode = false;
    try {
      this.write32(linear, value);
    } finally {
      this.userMode = user;
    }
  }

  // ------------------------------------------------------------------ linear
  // The fast path: one table load and a RAM access. Everything else (paging walks,
  // device windows, accesses crossing a page, writes to pages holding decoded code)
  // takes the *Slow path, which fills the tables for next time.

  read8(linear: number): number {
    const base = this.fastRead[linear >>> 12];
    if (base >= 0) return this.ram[base | (linear & 0xfff)];
    return this.read8Slow(linear);
  }

  read16(linear: number): number {
    const base = this.fastRead[linear >>> 12];
    if (base >= 0 && (linear & 0xfff) !== 0xfff) return this.view.getUint16(base | (linear & 0xfff), true);
    return this.read16Slow(linear);
  }

  read32(linear: number): number {
    const base = this.fastRead[linear >>> 12];
    if (base >= 0 && (linear & 0xfff) <= 0xffc) return this.view.getUint32(base | (linear & 0xfff), true);
    return this.read32Slow(linear);
  }

  write8(linear: number, value: number): void {
    const base = this.fastWrite[linear >>> 12];
    if (base >= 0 && this.codeMarks[base >>> 12] === 0) this.ram[base | (linear & 0xfff)] = value;
    else this.write8Slow(linear, value);
  }

  write16(linear: number, value: number): void {
    const base = this.fastWrite[linear >>> 12];
    if (base >= 0 && (linear & 0xfff) !== 0xfff && this.codeMarks[base >>> 12] === 0) this.view.setUint16(base | (linear & 0xfff), value, true);
    else this.write16Slow(linear, value);
  }

  write32(linear: number, value: number): void {
    const base = this.fastWrite[linear >>> 12];
    if (base >= 0 && (linear & 0xfff) <= 0xffc && this.codeMarks[base >>> 12] === 0) this.view.setUint32(base | (linear & 0xfff), value, true);
    else this.write32Slow(linear, value);
  }

  /**
   * The RAM offset of the byte at `linear` for a read (translated and checked like
   * one, so it may fault), or -1 when it is not RAM. For bulk copies: the rest of the
   * page behind it is RAM as well.
   */
  ramForRead(linear: number): number {
    const p = this.toPhysical(linear);
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page >= this.ramPages || this.mmioPages[page] !== 0) return -1;
    this.noteRead(linear, p);
    return p;
  }

  /**
   * As ramForRead, for a write of `length` bytes from `linear`, all in its page: decoded code
   * made from those bytes is dropped first.
   */
  ramForWrite(linear: number, length: number): number {
    const p = this.toPhysical(linear, true);
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page >= this.ramPages || this.mmioPages[page] !== 0) return -1;
    if (this.codeMarks[page] !== 0) this.codeCache.written(p, length);
    this.noteWrite(linear, p);
    return p;
  }

  /** A RAM page the current privilege level may read: remembered for the fast path. */
  private noteRead(linear: number, p: number): void {
    this.fastPages().fillRead(linear >>> 12, p & ~0xfff);
  }

  private noteWrite(linear: number, p: number): void {
    this.fastPages().fillWrite(linear >>> 12, p & ~0xfff);
  }

  private fastPages(): FastPages {
    return this.userMode ? this.userPages : this.supervisorPages;
  }

  private read8Slow(linear: number): number {
    const p = this.toPhysical(linear);
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page < this.ramPages && this.mmioPages[page] === 0) {
      this.noteRead(linear, p);
      return this.ram[p];
    }
    return this.bus.mmio.read(p, 1) & 0xff;
  }

  private write8Slow(linear: number, value: number): void {
    const p = this.toPhysical(linear, true);
    const page = p >>> MMIO_PAGE_SHIFT;
    if (page < this.ramPages && this.mmioPages[page] === 0) {
      if (this.codeMarks[page] !== 0) this.codeCache.written(p, 1);
      this.noteWrite(linear, p);
      this.ram[p] = value;
    } else {
      this.bus.mmio.write(p, 1, value & 0xff);
    }
  }

  private read16Slow(linear: number): number {
    if ((linear & 0xfff) !== 0xfff) {
      const p = this.toPhysical(linear);
      const page = p >>> MMIO_PAGE_SHIFT;
      if (page < this.ramPages && this.mmioPages[page] === 0) {
        this.noteRead(linear, p);
        return this.ram[p] | (this.ram[p + 1] << 8);
      }
      return this.bus.mmio.read(p, 2) & 0xffff;
    }
    return this.read8(linear) | (this.read8((linear + 1) >>> 0) << 8);
  }

  private write16Slow(linear: number, value: number): void {
    if ((linear & 0xfff) !== 0xfff) {
      const p = this.toPhysical(linear, true);
      const page = p >>> MMIO_PAGE_SHIFT;
      if (page < this.ramPages && this.mmioPages[page] === 0) {
        if (this.codeMarks[page] !== 0) this.codeCache.written(p, 2);
        this.noteWrite(linear, p);
        this.ram[p] = value;
        this.ram[p + 1] = value >>> 8;
      } else {
        this.bus.mmio.write(p, 2, value & 0xffff);
      }
      return;
    }
    this.checkWritable((linear + 1) >>> 0);
    this.write8(linear, value);
    this.write8((linear + 1) >>> 0, value >>> 8);
  }

  private read32Slow(linear: number): number {
    if ((linear & 0xfff) <= 0xffc) {
      const p = this.toPhysical(linear);
      const page = p >>> MMIO_PAGE_SHIFT;
      if (page < this.ramPages && this.mmioPages[page] === 0) {
        this.noteRead(linear, p);
        const ram = this.ram;
        return (ram[p] | (ram[p + 1] << 8) | (ram[p + 2] << 16) | (ram[p + 3] << 24)) >>> 0;
      }
      return this.bus.mmio.read(p, 4) >>> 0;
    }
    return (this.read16(linear) | (this.read16((linear + 2) >>> 0) << 16)) >>> 0;
  }

  private write32Slow(linear: number, value: number): void {
    if ((linear & 0xfff) <= 0xffc) {
      const p = this.toPhysical(linear, true);
      const page = p >>> MMIO_PAGE_SHIFT;
      if (page < this.ramPages && this.mmioPages[page] === 0) {
        if (this.codeMarks[page] !== 0) this.codeCache.written(p, 4);
        this.noteWrite(linear, p);
        const ram = this.ram;
        ram[p] = value;
        ram[p + 1] = value >>> 8;
        ram[p + 2] = value >>> 16;
        ram[p + 3] = value >>> 24;
      } else {
        this.bus.mmio.write(p, 4, value >>> 0);
      }
      return;
    }
    this.checkWritable((linear + 3) >>> 0);
    this.write16(linear, value);
    this.write16((linear + 2) >>> 0, value >>> 16);
  }

  /** Before an access split across two pages: fault on the second page before the first is written. */
  private checkWritable(linear: number): void {
    if (this.paging) this.toPhysical(linear >>> 0, true);
  }
}
