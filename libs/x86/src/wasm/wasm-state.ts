/// <reference path="./webassembly.d.ts" />
/**
 * Guest RAM and the CPU state compiled WebAssembly reads and writes, in one
 * WebAssembly.Memory: RAM from byte 0 (a physical address is its own memory
 * offset), then a state area the Cpu's typed arrays view, so JavaScript and
 * wasm code share the registers, segment bases, fast page tables and code
 * marks without copying. The memory never grows (views stay valid).
 */

/** Byte offsets inside the state area. */
export const STATE = {
  /** General registers, 8 x u32 (Cpu.reg32). */
  regs: 0,
  /** Segment bases, 6 x u32 (Cpu.segBase). */
  segBase: 32,
  /** Byte offset (in memory) of the current privilege's fast read table, then write table. */
  fastReadTable: 56,
  fastWriteTable: 60,
  /** Exit mailbox a region writes before returning or calling out (see wasm/region-runner.ts). */
  exitEip: 64,
  /** 1 when the flag record below is newer than Cpu.flags. */
  flagsPending: 68,
  flagOp: 72,
  flagSize: 76,
  flagAffected: 80,
  /** CF to set before applying a record that leaves CF alone (INC/DEC), or -1. */
  flagCarry: 84,
  /** Operands and untruncated result, as f64 (LazyFlags keeps doubles). */
  flagA: 88,
  flagB: 96,
  flagRes: 104,
  /** Where the instruction that called out started, where it ends, and what the region retired before it. */
  faultStart: 112,
  faultNext: 116,
  faultRetired: 120,
  /** OF to set before applying a record that does not define OF (after ROL/ROR), or -1. */
  flagOverflow: 124,
  /** 1 while EFLAGS.DF is set (written before each region run: only interpreted code changes DF). */
  direction: 128,
  /** 1 when a memory access a region made through JavaScript faulted (the region then leaves; region-runner.ts). */
  faultPending: 132,
  /** Instructions retired by regions that went on into another region without returning (region chaining). */
  chainRetired: 136,
  /** Cpu.jitMode while regions run (a region goes on only into one compiled under it). */
  jitMode: 140,
  /**
   * The time-stamp counter when the region was entered, as f64 (an integer), or -1: RDTSC
   * then asks JavaScript (a TSC offset, or CR4.TSD outside ring 0).
   */
  tscEntry: 144,
  /** Code marks (one byte per RAM page) start here. */
  codeMarks: 4096,
} as const;

const PAGE_ENTRIES = 1 << 20;
const TABLE_BYTES = PAGE_ENTRIES * 4;
const WASM_PAGE = 65536;

/**
 * The chain table: direct-mapped by EIP, (eip ^ eip >>> 12) & (CHAIN_ENTRIES - 1). An
 * entry (i32 words, CHAIN.*) says: a region exit to this EIP may go straight on into
 * region slot/member if CS:EIP still translates to that RAM page (the current fast read
 * table says so), the page's region generation is the same, and Cpu.jitMode is.
 */
export const CHAIN_ENTRIES = 4096;
/** Each entry is 1 << CHAIN_ENTRY_SHIFT bytes (the region indexes the table with a shift). */
export const CHAIN_ENTRY_SHIFT = 6;
export const CHAIN_ENTRY_BYTES = 1 << CHAIN_ENTRY_SHIFT;
/** `mode` and `modeMask`: the next region runs when (Cpu.jitMode ^ mode) & modeMask is 0 (RegionCode.modeMask). */
export const CHAIN = { eip: 0, page: 4, generation: 8, slot: 12, member: 16, mode: 20, count: 24, entryOffset: 28, modeMask: 32 } as const;

const alignUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/** Where each part lives for a given RAM size. */
export interface WasmStateLayout {
  /** Offset of the state area (RAM rounded up to a wasm page). */
  readonly base: number;
  /** Offsets of the four fast tables: supervisor read/write, user read/write. */
  readonly tables: readonly [number, number, number, number];
  /** u32 per RAM page, changed whenever the page's decoded code or its region changes (CodeCache). */
  readonly regionGenerations: number;
  /** CHAIN_ENTRIES entries of CHAIN_ENTRY_BYTES: where a region exit may go on without JavaScript (region-runner.ts). */
  readonly chainTable: number;
  /** Total bytes the memory must have. */
  readonly bytes: number;
}

export function stateLayout(ramBytes: number): WasmStateLayout {
  const base = alignUp(ramBytes, WASM_PAGE);
  const ramPages = Math.ceil(ramBytes / 4096);
  const regionGenerations = alignUp(base + STATE.codeMarks + ramPages, 4);
  const chainTable = alignUp(regionGenerations + ramPages * 4, 4096);
  const first = chainTable + CHAIN_ENTRIES * CHAIN_ENTRY_BYTES;
  const tables: [number, number, number, number] = [first, first + TABLE_BYTES, first + 2 * TABLE_BYTES, first + 3 * TABLE_BYTES];
  return { base, tables, regionGenerations, chainTable, bytes: alignUp(first + 4 * TABLE_BYTES, WASM_PAGE) };
}

/** Largest RAM a wasm memory (4 GiB) holds together with the state area. */
export const MAX_WASM_RAM = 4 * 1024 * 1024 * 1024 - 32 * 1024 * 1024;

/**
 * A shared WebAssembly.Memory big enough for `ramBytes` of guest RAM and the
 * CPU state; `ram` views its first `ramBytes` bytes. Shared, so the machine's
 * worker thread and the VM's other threads see the same RAM.
 */
export function allocateGuestMemory(ramBytes: number): { memory: WebAssembly.Memory; ram: Uint8Array } {
  if (ramBytes > MAX_WASM_RAM) throw new RangeError(`${ramBytes} bytes of RAM do not fit a WebAssembly memory`);
  const pages = stateLayout(ramBytes).bytes / WASM_PAGE;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  return { memory, ram: new Uint8Array(memory.buffer, 0, ramBytes) };
}
