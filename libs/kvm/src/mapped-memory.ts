/**
 * Native memory from mmap, visible to KVM (by address) and to JavaScript (as a
 * Uint8Array over the same bytes, no copies). Used for guest RAM, for the mapped
 * kvm_run page and for ioctl argument structs.
 */
import { check, KvmError } from './errors.js';
import {
  lastErrno,
  libc,
  MAP_ANONYMOUS,
  MAP_FAILED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  viewNative,
} from './libc.js';

export const PAGE_SIZE = 4096;

export class MappedMemory {
  /** Host virtual address of byte 0 (what KVM's userspace_addr wants). */
  readonly address: bigint;
  readonly size: number;
  /** The same bytes as a Uint8Array. Do not use after free(). */
  readonly bytes: Uint8Array;
  /** The same bytes as a DataView (little-endian accessors for structs). */
  readonly view: DataView;
  private freed = false;

  private constructor(address: bigint, size: number) {
    this.address = address;
    this.size = size;
    const buffer = viewNative(address, size);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  /**
   * Zeroed, page-aligned anonymous memory. `size` is rounded up to whole pages.
   * Pages are committed lazily by the kernel (MAP_NORESERVE), so large guest RAM is cheap
   * until touched.
   */
  static allocate(size: number): MappedMemory {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`bad mapping size ${size}`);
    const rounded = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    const address = libc.mmap(null, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (address === null || address === MAP_FAILED) throw new KvmError('mmap', lastErrno(), `${rounded} bytes anonymous`);
    return new MappedMemory(address, rounded);
  }

  /** Maps `size` bytes of a file descriptor (the vCPU's kvm_run area) shared. */
  static mapFd(fd: number, size: number, call: string): MappedMemory {
    const address = libc.mmap(null, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (address === null || address === MAP_FAILED) throw new KvmError(call, lastErrno(), `mmap of fd ${fd}`);
    return new MappedMemory(address, size);
  }

  /** Copies `data` into the mapping at `offset`. */
  load(offset: number, data: Uint8Array): void {
    if (offset < 0 || offset + data.length > this.size) {
      throw new RangeError(`load of ${data.length} bytes at ${offset} exceeds mapping of ${this.size}`);
    }
    this.bytes.set(data, offset);
  }

  get isFreed(): boolean {
    return this.freed;
  }

  /**
   * Unmaps the memory. Any Uint8Array/DataView taken from it must not be touched
   * afterwards (the pages are gone; access would fault the process).
   */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    check('munmap', libc.munmap(this.address, this.size));
  }
}
