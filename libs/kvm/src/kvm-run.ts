/**
 * Allocation-free accessors on a vCPU's mapped struct kvm_run (linux/kvm.h, x86_64).
 * Every getter reads the field straight from the shared page, so values are those of
 * the most recent exit; read them before the next KVM_RUN.
 */
import { readU64 } from './u64.js';

/** Byte offsets of struct kvm_run fields. */
export const KvmRunOffset = {
  requestInterruptWindow: 0, // u8
  immediateExit: 1, // u8
  exitReason: 8, // u32
  readyForInterruptInjection: 12, // u8
  ifFlag: 13, // u8
  flags: 14, // u16
  cr8: 16, // u64
  apicBase: 24, // u64
  /** The exit-specific union starts here. */
  exit: 32,
} as const;

const U = KvmRunOffset.exit;

/** Offsets inside the union, by exit kind. */
export const KvmRunExitOffset = {
  hwExitReason: U, // u64
  failEntryReason: U, // u64 hardware_entry_failure_reason
  failEntryCpu: U + 8, // u32
  exceptionNumber: U, // u32
  exceptionErrorCode: U + 4, // u32
  ioDirection: U, // u8
  ioSize: U + 1, // u8
  ioPort: U + 2, // u16
  ioCount: U + 4, // u32
  ioDataOffset: U + 8, // u64 (relative to kvm_run start)
  mmioPhysAddr: U, // u64
  mmioData: U + 8, // u8[8]
  mmioLen: U + 16, // u32
  mmioIsWrite: U + 20, // u8
  internalSuberror: U, // u32
  internalNdata: U + 4, // u32
  internalData: U + 8, // u64[16]
  systemEventType: U, // u32
  systemEventNdata: U + 4, // u32
  systemEventData: U + 8, // u64[16] (data[0] is the old "flags")
} as const;

const O = KvmRunExitOffset;


export class KvmRun {
  /** The whole mapped area (kvm_run plus the PIO data page that follows it). */
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get exitReason(): number {
    return this.view.getUint32(KvmRunOffset.exitReason, true);
  }

  // --- interrupt injection handshake (used without an in-kernel irqchip) ---
  get requestInterruptWindow(): boolean {
    return this.view.getUint8(KvmRunOffset.requestInterruptWindow) !== 0;
  }
  set requestInterruptWindow(on: boolean) {
    this.view.setUint8(KvmRunOffset.requestInterruptWindow, on ? 1 : 0);
  }
  /** When set, the next KVM_RUN returns at once with EINTR (KVM_CAP_IMMEDIATE_EXIT). */
  get immediateExit(): boolean {
    return this.view.getUint8(KvmRunOffset.immediateExit) !== 0;
  }
  set immediateExit(on: boolean) {
    this.view.setUint8(KvmRunOffset.immediateExit, on ? 1 : 0);
  }
  get readyForInterruptInjection(): boolean {
    return this.view.getUint8(KvmRunOffset.readyForInterruptInjection) !== 0;
  }
  /** The guest's RFLAGS.IF at exit. */
  get ifFlag(): boolean {
    return this.view.getUint8(KvmRunOffset.ifFlag) !== 0;
  }

  // --- KVM_EXIT_IO ---
  /** 0 = in (guest reads, we fill the data), 1 = out (guest wrote the data). */
  get ioDirection(): number {
    return this.view.getUint8(O.ioDirection);
  }
  get ioIsOut(): boolean {
    return this.view.getUint8(O.ioDirection) === 1;
  }
  /** Access width in bytes: 1, 2 or 4. */
  get ioSize(): number {
    return this.view.getUint8(O.ioSize);
  }
  get ioPort(): number {
    return this.view.getUint16(O.ioPort, true);
  }
  /** Number of accesses (more than 1 for rep ins/outs). */
  get ioCount(): number {
    return this.view.getUint32(O.ioCount, true);
  }
  /** Where the data of the accesses sits, in bytes from the start of kvm_run. */
  get ioDataOffset(): number {
    return readU64(this.view, O.ioDataOffset);
  }
  /** Value of access `index` (0-based) of the current IO exit, little-endian, ioSize wide. */
  ioValue(index = 0): number {
    const size = this.ioSize;
    const at = this.ioDataOffset + index * size;
    if (size === 1) return this.view.getUint8(at);
    if (size === 2) return this.view.getUint16(at, true);
    return this.view.getUint32(at, true);
  }
  /** Sets the value the guest reads for access `index` of the current IN exit. */
  setIoValue(value: number, index = 0): void {
    const size = this.ioSize;
    const at = this.ioDataOffset + index * size;
    if (size === 1) this.view.setUint8(at, value);
    else if (size === 2) this.view.setUint16(at, value, true);
    else this.view.setUint32(at, value >>> 0, true);
  }
  /** The data of the whole IO exit (ioCount * ioSize bytes), a view, not a copy. */
  ioData(): Uint8Array {
    return this.bytes.subarray(this.ioDataOffset, this.ioDataOffset + this.ioCount * this.ioSize);
  }

  // --- KVM_EXIT_MMIO ---
  get mmioPhysAddr(): number {
    return readU64(this.view, O.mmioPhysAddr);
  }
  get mmioLength(): number {
    return this.view.getUint32(O.mmioLen, true);
  }
  get mmioIsWrite(): boolean {
    return this.view.getUint8(O.mmioIsWrite) !== 0;
  }
  /** Value written (write) or to be returned (read), up to 4 bytes wide, little-endian. */
  get mmioValue(): number {
    const len = this.mmioLength;
    if (len === 1) return this.view.getUint8(O.mmioData);
    if (len === 2) return this.view.getUint16(O.mmioData, true);
    return this.view.getUint32(O.mmioData, true);
  }
  set mmioValue(value: number) {
    const len = this.mmioLength;
    if (len === 1) this.view.setUint8(O.mmioData, value);
    else if (len === 2) this.view.setUint16(O.mmioData, value, true);
    else this.view.setUint32(O.mmioData, value >>> 0, true);
  }
  /** The 8-byte mmio.data array, a view (for 8-byte accesses). */
  mmioData(): Uint8Array {
    return this.bytes.subarray(O.mmioData, O.mmioData + 8);
  }

  // --- KVM_EXIT_FAIL_ENTRY ---
  get failEntryReason(): number {
    return readU64(this.view, O.failEntryReason);
  }
  get failEntryCpu(): number {
    return this.view.getUint32(O.failEntryCpu, true);
  }

  // --- KVM_EXIT_UNKNOWN / KVM_EXIT_EXCEPTION ---
  get hardwareExitReason(): number {
    return readU64(this.view, O.hwExitReason);
  }
  get exceptionNumber(): number {
    return this.view.getUint32(O.exceptionNumber, true);
  }
  get exceptionErrorCode(): number {
    return this.view.getUint32(O.exceptionErrorCode, true);
  }

  // --- KVM_EXIT_INTERNAL_ERROR ---
  get internalSuberror(): number {
    return this.view.getUint32(O.internalSuberror, true);
  }
  get internalNdata(): number {
    return this.view.getUint32(O.internalNdata, true);
  }
  /** internal.data[i] (i < 16). */
  internalData(i: number): bigint {
    return this.view.getBigUint64(O.internalData + 8 * i, true);
  }

  // --- KVM_EXIT_SYSTEM_EVENT ---
  get systemEventType(): number {
    return this.view.getUint32(O.systemEventType, true);
  }
  get systemEventNdata(): number {
    return this.view.getUint32(O.systemEventNdata, true);
  }
  systemEventData(i: number): bigint {
    return this.view.getBigUint64(O.systemEventData + 8 * i, true);
  }
}
