/** A VM file descriptor: memory slots, the in-kernel irqchip, IRQ lines, dirty log, vCPUs. */
import { check } from './errors.js';
import { DirtyLog } from './dirty-log.js';
import { Ioctl } from './ioctl-numbers.js';
import { libc } from './libc.js';
import { MappedMemory, PAGE_SIZE } from './mapped-memory.js';
import { KvmVcpu } from './vcpu.js';
import { writeU64 } from './u64.js';

/** Where a slot's bytes live on the host: a MappedMemory, or a raw address + size. */
export interface HostRange {
  address: bigint;
  size: number;
}

export interface MemoryRegion {
  slot: number;
  /** Guest-physical address of the slot's first byte (page aligned). */
  guestPhysAddr: number;
  /** Host memory backing the slot. Must outlive the slot (or the VM). */
  memory: HostRange;
  /** Byte offset into `memory` where the slot starts (page aligned). Default 0. */
  offset?: number;
  /** Slot size in bytes (page multiple). Default: the rest of `memory` after `offset`. */
  size?: number;
  /** MemFlag bits (LOG_DIRTY_PAGES, READONLY). */
  flags?: number;
}

export class KvmVm {
  readonly fd: number;
  private readonly vcpuMmapSize: number;
  /** Argument structs are built here and passed to KVM by address. */
  private readonly scratch = MappedMemory.allocate(PAGE_SIZE);
  private readonly slotSizes = new Map<number, number>();
  /** Per-slot bitmap buffers for KVM_GET_DIRTY_LOG, kept between calls. */
  private readonly dirtyBitmaps = new Map<number, MappedMemory>();
  private readonly vcpus: KvmVcpu[] = [];
  private closed = false;

  constructor(fd: number, vcpuMmapSize: number) {
    this.fd = fd;
    this.vcpuMmapSize = vcpuMmapSize;
  }

  /** KVM_SET_USER_MEMORY_REGION: creates, moves or changes the flags of a slot. */
  setUserMemoryRegion(region: MemoryRegion): void {
    const offset = region.offset ?? 0;
    const size = region.size ?? region.memory.size - offset;
    for (const [name, value] of [['guestPhysAddr', region.guestPhysAddr], ['offset', offset], ['size', size]] as const) {
      if (value % PAGE_SIZE !== 0) throw new RangeError(`memory region ${name} ${value} is not page aligned`);
    }
    if (offset < 0 || size < 0 || offset + size > region.memory.size) {
      throw new RangeError(`memory region [${offset}, +${size}) exceeds host memory of ${region.memory.size} bytes`);
    }
    this.writeRegion(region.slot, region.flags ?? 0, region.guestPhysAddr, size, region.memory.address + BigInt(offset));
    this.slotSizes.set(region.slot, size);
    this.dropDirtyBitmap(region.slot);
  }

  /** Deletes a slot (KVM_SET_USER_MEMORY_REGION with size 0). */
  deleteUserMemoryRegion(slot: number): void {
    this.writeRegion(slot, 0, 0, 0, 0n);
    this.slotSizes.delete(slot);
    this.dropDirtyBitmap(slot);
  }

  private dropDirtyBitmap(slot: number): void {
    this.dirtyBitmaps.get(slot)?.free();
    this.dirtyBitmaps.delete(slot);
  }

  private writeRegion(slot: number, flags: number, gpa: number, size: number, hostAddress: bigint): void {
    const v = this.scratch.view;
    v.setUint32(0, slot, true);
    v.setUint32(4, flags, true);
    writeU64(v, 8, gpa, 'guest_phys_addr');
    writeU64(v, 16, size, 'memory_size');
    v.setBigUint64(24, hostAddress, true);
    check(
      'KVM_SET_USER_MEMORY_REGION',
      libc.ioctl(this.fd, Ioctl.KVM_SET_USER_MEMORY_REGION, this.scratch.address),
      `slot ${slot} gpa 0x${gpa.toString(16)} size 0x${size.toString(16)} flags ${flags}`,
    );
  }

  /** KVM_SET_TSS_ADDR: three pages of guest-physical space KVM may use (needed by Intel real mode). */
  setTssAddr(address: number): void {
    check('KVM_SET_TSS_ADDR', libc.ioctl(this.fd, Ioctl.KVM_SET_TSS_ADDR, address), `0x${address.toString(16)}`);
  }

  /** KVM_SET_IDENTITY_MAP_ADDR: one page KVM may use for its real-mode identity page table (Intel). */
  setIdentityMapAddr(address: number): void {
    writeU64(this.scratch.view, 0, address, 'identity map address');
    check('KVM_SET_IDENTITY_MAP_ADDR', libc.ioctl(this.fd, Ioctl.KVM_SET_IDENTITY_MAP_ADDR, this.scratch.address));
  }

  /** KVM_CREATE_IRQCHIP: in-kernel PIC pair, IOAPIC and local APICs. Call before creating vCPUs. */
  createIrqchip(): void {
    check('KVM_CREATE_IRQCHIP', libc.ioctl(this.fd, Ioctl.KVM_CREATE_IRQCHIP, 0));
  }

  /**
   * KVM_IRQ_LINE: drives GSI `irq` (0-15 reach the PICs and the IOAPIC) to a level.
   * For an edge-triggered ISA interrupt, raise then lower. Safe to call while another
   * thread is inside KVM_RUN; a halted vCPU is woken.
   */
  irqLine(irq: number, level: boolean): void {
    const v = this.scratch.view;
    v.setUint32(0, irq, true);
    v.setUint32(4, level ? 1 : 0, true);
    check('KVM_IRQ_LINE', libc.ioctl(this.fd, Ioctl.KVM_IRQ_LINE, this.scratch.address), `irq ${irq}`);
  }

  /** Raise then lower `irq`: one edge-triggered interrupt request. */
  pulseIrq(irq: number): void {
    this.irqLine(irq, true);
    this.irqLine(irq, false);
  }

  /**
   * KVM_GET_DIRTY_LOG for a slot registered with MemFlag.LOG_DIRTY_PAGES: the pages the
   * guest wrote since the previous call (the kernel clears the log as it reports it).
   */
  getDirtyLog(slot: number): DirtyLog {
    const size = this.slotSizes.get(slot);
    if (size === undefined) throw new RangeError(`no memory slot ${slot}`);
    const pageCount = size / PAGE_SIZE;
    const bytes = DirtyLog.bitmapBytes(pageCount);
    let bitmap = this.dirtyBitmaps.get(slot);
    if (!bitmap) {
      bitmap = MappedMemory.allocate(Math.max(bytes, 8));
      this.dirtyBitmaps.set(slot, bitmap);
    }
    const v = this.scratch.view;
    v.setUint32(0, slot, true);
    v.setUint32(4, 0, true);
    v.setBigUint64(8, bitmap.address, true);
    check('KVM_GET_DIRTY_LOG', libc.ioctl(this.fd, Ioctl.KVM_GET_DIRTY_LOG, this.scratch.address), `slot ${slot}`);
    return new DirtyLog(bitmap.bytes.slice(0, bytes), pageCount);
  }

  /** KVM_CREATE_VCPU and the mapping of its kvm_run area. */
  createVcpu(id = 0): KvmVcpu {
    const vcpuFd = check('KVM_CREATE_VCPU', libc.ioctl(this.fd, Ioctl.KVM_CREATE_VCPU, id), `vcpu ${id}`);
    const vcpu = new KvmVcpu(vcpuFd, id, this.vcpuMmapSize);
    this.vcpus.push(vcpu);
    return vcpu;
  }

  /** Closes the vCPUs and the VM. Guest RAM belongs to the caller: free it after this. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const vcpu of this.vcpus) vcpu.close();
    libc.close(this.fd);
    this.scratch.free();
    for (const bitmap of this.dirtyBitmaps.values()) bitmap.free();
    this.dirtyBitmaps.clear();
  }
}
