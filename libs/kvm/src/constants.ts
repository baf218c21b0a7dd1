/** Values from linux/kvm.h (x86_64). */

/** The only KVM API version there is (KVM_GET_API_VERSION). */
export const KVM_API_VERSION = 12;

/** KVM_CHECK_EXTENSION capability numbers this binding uses or reports. */
export const Cap = {
  IRQCHIP: 0,
  HLT: 1,
  USER_MEMORY: 3,
  SET_TSS_ADDR: 4,
  EXT_CPUID: 7,
  NR_VCPUS: 9,
  NR_MEMSLOTS: 10,
  SYNC_MMU: 16,
  IRQ_INJECT_STATUS: 26,
  SET_IDENTITY_MAP_ADDR: 37,
  INTERNAL_ERROR_DATA: 40,
  MAX_VCPUS: 66,
  READONLY_MEM: 81,
  IMMEDIATE_EXIT: 136,
} as const;

/** kvm_userspace_memory_region.flags */
export const MemFlag = {
  LOG_DIRTY_PAGES: 1 << 0,
  READONLY: 1 << 1,
} as const;

/** kvm_run.exit_reason (KVM_EXIT_*). */
export const ExitReason = {
  UNKNOWN: 0,
  EXCEPTION: 1,
  IO: 2,
  HYPERCALL: 3,
  DEBUG: 4,
  HLT: 5,
  MMIO: 6,
  IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8,
  FAIL_ENTRY: 9,
  INTR: 10,
  SET_TPR: 11,
  TPR_ACCESS: 12,
  NMI: 16,
  INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24,
  IOAPIC_EOI: 26,
  X86_RDMSR: 29,
  X86_WRMSR: 30,
  X86_BUS_LOCK: 33,
  NOTIFY: 37,
} as const;
export type ExitReasonCode = number;

const exitNames = new Map<number, string>(Object.entries(ExitReason).map(([k, v]) => [v, k]));

/** "IO", "HLT", ... or "EXIT_<n>" for a reason this binding does not name. */
export function exitReasonName(reason: number): string {
  return exitNames.get(reason) ?? `EXIT_${reason}`;
}

/** kvm_run.io.direction */
export const IoDirection = { IN: 0, OUT: 1 } as const;

/** kvm_run.system_event.type */
export const SystemEventType = {
  SHUTDOWN: 1,
  RESET: 2,
  CRASH: 3,
  WAKEUP: 4,
  SUSPEND: 5,
  SEV_TERM: 6,
} as const;

/** kvm_run.internal.suberror */
export const InternalErrorSub = {
  EMULATION: 1,
  SIMUL_EX: 2,
  DELIVERY_EV: 3,
  UNEXPECTED_EXIT_REASON: 4,
} as const;
