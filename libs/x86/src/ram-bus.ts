/// <reference path="./wasm/webassembly.d.ts" />
import { MMIO_PAGE_SHIFT, type CpuBus, type MmioHandler } from './cpu-bus.js';
import type { OperandSize } from './registers.js';
import { allocateGuestMemory } from './wasm/wasm-state.js';

interface MmioRange {
  readonly start: number;
  readonly end: number;
  readonly handler: MmioHandler;
}

/**
 * A plain CpuBus: RAM, optional device windows, and port I/O handed to a
 * callback. Unclaimed memory and ports read as all ones and ignore writes,
 * like an open bus.
 */
export class RamBus implements CpuBus {
  readonly ram: Uint8Array;
  readonly mmioPages: Uint8Array;
  a20Mask = 0xffffffff;
  mappingVersion = 0;
  readonly mmio: MmioHandler;
  readonly wasmMemory: WebAssembly.Memory | undefined;
  private readonly ranges: MmioRange[] = [];

  constructor(
    ramBytes: number,
    private readonly ports: {
      ioRead?(port: number, size: OperandSize): number;
      ioWrite?(port: number, size: OperandSize, value: number): void;
    } = {},
    /** `wasm`: RAM in a WebAssembly.Memory, so the CPU can compile code to wasm (CpuBus.wasmMemory). */
    options: { wasm?: boolean } = {},
  ) {
    if (options.wasm === true) {
      const guest = allocateGuestMemory(ramBytes);
      this.wasmMemory = guest.memory;
      this.ram = guest.ram;
    } else {
      this.wasmMemory = undefined;
      this.ram = new Uint8Array(ramBytes);
    }
    this.mmioPages = new Uint8Array(Math.ceil(ramBytes / (1 << MMIO_PAGE_SHIFT)));
    this.mmio = {
      read: (address, size) => {
        const range = this.findRange(address);
        return range ? range.handler.read(address, size) : allOnes(size);
      },
      write: (address, size, value) => {
        this.findRange(address)?.handler.write(address, size, value);
      },
    };
  }

  /** Claims [start, start + length) for a device; both must be 4 KiB aligned inside RAM pages. */
  mapMmio(start: number, length: number, handler: MmioHandler): void {
    const pageSize = 1 << MMIO_PAGE_SHIFT;
    if (length <= 0 || start % pageSize !== 0 || length % pageSize !== 0) {
      throw new RangeError(`MMIO range ${start.toString(16)}+${length.toString(16)} must be whole 4 KiB pages`);
    }
    const end = start + length;
    if (this.ranges.some((r) => start < r.end && r.start < end)) {
      throw new RangeError(`MMIO range ${start.toString(16)}+${length.toString(16)} overlaps another`);
    }
    this.ranges.push({ start, end, handler });
    for (let page = start >>> MMIO_PAGE_SHIFT; page < end >>> MMIO_PAGE_SHIFT && page < this.mmioPages.length; page++) {
      this.mmioPages[page] = 1;
    }
    this.mappingVersion++;
  }

  ioRead(port: number, size: OperandSize): number {
    return this.ports.ioRead ? this.ports.ioRead(port, size) : allOnes(size);
  }

  ioWrite(port: number, size: OperandSize, value: number): void {
    this.ports.ioWrite?.(port, size, value);
  }

  private findRange(address: number): MmioRange | undefined {
    return this.ranges.find((r) => address >= r.start && address < r.end);
  }
}

function allOnes(size: OperandSize): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}
