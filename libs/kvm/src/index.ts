export { Kvm, DEFAULT_KVM_PATH } from './kvm.js';
export { KvmVm, type MemoryRegion, type HostRange } from './vm.js';
export { KvmVcpu } from './vcpu.js';
export { KvmRun, KvmRunOffset, KvmRunExitOffset } from './kvm-run.js';
export { MappedMemory, PAGE_SIZE } from './mapped-memory.js';
export { DirtyLog } from './dirty-log.js';
export { KvmError } from './errors.js';
export { type KvmRegs, KVM_REGS_SIZE, decodeRegs, encodeRegs } from './regs.js';
export { type KvmSregs, type KvmSegment, type KvmDtable, KVM_SREGS_SIZE, decodeSregs, encodeSregs } from './sregs.js';
export { type CpuidEntry, cpuidVendor } from './cpuid.js';
export { realModeSegment, withRealModeSegments } from './real-mode.js';
export { Ioctl, StructSize, type IoctlName } from './ioctl-numbers.js';
export {
  Cap,
  MemFlag,
  ExitReason,
  exitReasonName,
  IoDirection,
  SystemEventType,
  InternalErrorSub,
  KVM_API_VERSION,
} from './constants.js';
export { installKickHandler, currentThreadId, kickThread, KICK_SIGNAL } from './thread-kick.js';
