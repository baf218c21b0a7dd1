import type { CpuBus, MmioHandler } from '@quasivm/x86';
import { MMIO_PAGE_SHIFT } from '@quasivm/x86';
import type { AccessSize } from '@quasivm/device-sdk';
import type { IoBus } from '../io-bus.js';

type OperandSize = 1 | 2 | 4;

/** Guest time one port access (one element of a string I/O) takes: about an ISA bus cycle. */
export const IO_ACCESS_NS = 1000;

/** A device memory window (VGA 0xA0000, a linear framebuffer) served by a handler. */
export interface MemoryWindowHandler {
  /** Which device serves it (windows are replaced per device when its BARs move). */
  owner?: string;
  base: number;
  length: number;
  memRead(addr: number, size: AccessSize, now: number): number;
  memWrite(addr: number, size: AccessSize, value: number, now: number): void;
}

/**
 * The soft CPU's view of the machine: guest RAM, the firmware alias below 4 GiB, device
 * memory windows, and port I/O through the shared IoBus, stamped with guest time.
 */
export class SoftCpuBus implements CpuBus {
  readonly mmioPages: Uint8Array;
  readonly mmio: MmioHandler;
  a20Mask = 0xffffffff;
  /** Bumped on every window change: the CPU drops its cached RAM translations. */
  mappingVersion = 0;
  private readonly windows: MemoryWindowHandler[] = [];

  constructor(
    readonly ram: Uint8Array,
    private readonly io: IoBus,
    private readonly firmware: Uint8Array,
    private readonly firmwareBase: number,
    private readonly now: () => number,
    /** The WebAssembly memory `ram` starts (CpuBus.wasmMemory), if any. */
    readonly wasmMemory?: WebAssembly.Memory,
  ) {
    this.mmioPages = new Uint8Array(ram.length >>> MMIO_PAGE_SHIFT);
    this.mmio = {
      read: (address, size) => this.mmioRead(address >>> 0, size),
      write: (address, size, value) => this.mmioWrite(address >>> 0, size, value),
    };
  }

  /** Routes [base, base+length) to a device instead of RAM. */
  addWindow(w: MemoryWindowHandler): void {
    this.windows.push(w);
    this.addWindowPages(w);
    this.mappingVersion++;
  }

  /** Removes every window of `owner`, giving its RAM pages back to RAM. */
  removeWindows(owner: string): void {
    for (const w of this.windows.filter((x) => x.owner === owner))
      for (let p = w.base >>> MMIO_PAGE_SHIFT; p < (w.base + w.length) >>> MMIO_PAGE_SHIFT && p < this.mmioPages.length; p++) this.mmioPages[p] = 0;
    for (let i = this.windows.length - 1; i >= 0; i--) if (this.windows[i].owner === owner) this.windows.splice(i, 1);
    for (const w of this.windows) this.addWindowPages(w);
    this.mappingVersion++;
  }

  private addWindowPages(w: MemoryWindowHandler): void {
    for (let p = w.base >>> MMIO_PAGE_SHIFT; p < (w.base + w.length) >>> MMIO_PAGE_SHIFT && p < this.mmioPages.length; p++) this.mmioPages[p] = 1;
  }

  private window(address: number): MemoryWindowHandler | undefined {
    for (const w of this.windows) if (address >= w.base && address < w.base + w.length) return w;
    return undefined;
  }

  private mmioRead(address: number, size: OperandSize): number {
    const w = this.window(address);
    if (w) return w.memRead(address, size, this.now());
    if (address >= this.firmwareBase) {
      const off = address - this.firmwareBase;
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = (v << 8) | (this.firmware[off + i] ?? 0xff);
      return v >>> 0;
    }
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  private mmioWrite(address: number, size: OperandSize, value: number): void {
    this.window(address)?.memWrite(address, size, value, this.now());
    // Writes to the firmware alias and to unbacked addresses are ignored, as on a ROM.
  }

  /**
   * Guest time port accesses have taken. A port access on a PC's I/O bus takes about a
   * microsecond, and software counts on it: Linux's quick PIT calibration reads the
   * counter back once as "a delay of a microsecond" before the count is loaded on the
   * next 1.19 MHz edge. At one instruction's few ns it would read the old count and give up.
   */
  ioTimeNs = 0;

  ioRead(port: number, size: OperandSize): number {
    this.ioTimeNs += IO_ACCESS_NS;
    return this.io.read(port, size, this.now()) as number;
  }

  ioWrite(port: number, size: OperandSize, value: number): void {
    this.ioTimeNs += IO_ACCESS_NS;
    this.io.write(port, size, value, this.now());
  }

  ioReadString(port: number, size: OperandSize, count: number): Uint8Array {
    this.ioTimeNs += IO_ACCESS_NS * count;
    return this.io.readString(port, size, count, this.now()) as Uint8Array;
  }

  ioWriteString(port: number, size: OperandSize, data: Uint8Array): void {
    this.ioTimeNs += IO_ACCESS_NS * (data.byteLength / size);
    this.io.writeString(port, size, data, this.now());
  }
}
