/// <reference path="./wasm/webassembly.d.ts" />
import type { OperandSize } from './registers.js';

/** A device window in physical memory (VGA, linear framebuffer, ...). Offsets are physical addresses. */
export interface MmioHandler {
  read(address: number, size: OperandSize): number;
  write(address: number, size: OperandSize, value: number): void;
}

/** Size of the pages `mmioPages` describes. */
export const MMIO_PAGE_SHIFT = 12;

/**
 * Everything the CPU reaches outside itself. The CPU never allocates guest
 * RAM or owns devices; the machine wiring hands it a bus.
 */
export interface CpuBus {
  /** Guest RAM starting at physical address 0. */
  readonly ram: Uint8Array;
  /**
   * One entry per 4 KiB page of `ram`: non-zero when the page belongs to a
   * device window, so accesses go to `mmio` instead of `ram`. Physical
   * addresses beyond `ram` always go to `mmio`.
   */
  readonly mmioPages: Uint8Array;
  /** Device windows and unbacked addresses. */
  readonly mmio: MmioHandler;
  /** ANDed into every physical address; clears bit 20 while the A20 gate is closed. */
  a20Mask: number;
  /**
   * Optional: bumped whenever `mmioPages` changes (a device window added, moved or
   * removed), so the CPU drops the RAM translations it cached for the old layout.
   */
  readonly mappingVersion?: number;
  /**
   * Optional: the WebAssembly.Memory whose first bytes are `ram`, sized by
   * wasm/wasm-state.ts's stateLayout (allocateGuestMemory makes one). With it the
   * CPU keeps its registers and page tables there and can compile code to wasm.
   */
  readonly wasmMemory?: WebAssembly.Memory;
  ioRead(port: number, size: OperandSize): number;
  ioWrite(port: number, size: OperandSize, value: number): void;
  /**
   * Optional: `rep insb/w/d` as one transfer of `count` elements (little-endian bytes), so a
   * device in another process answers a whole sector in one message instead of one per word.
   */
  ioReadString?(port: number, size: OperandSize, count: number): Uint8Array;
  /** Optional: `rep outsb/w/d` as one transfer. */
  ioWriteString?(port: number, size: OperandSize, data: Uint8Array): void;
}
