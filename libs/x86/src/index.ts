export { Cpu, REP_NONE, REPE, REPNE, type CpuOptions, type InterruptSource } from './cpu.js';
export type { CpuBus, MmioHandler } from './cpu-bus.js';
export { MMIO_PAGE_SHIFT } from './cpu-bus.js';
export { RamBus } from './ram-bus.js';
export { quirksFor, type CpuModel, type CpuQuirks } from './cpu-model.js';
export { CpuFault, Vector } from './cpu-fault.js';
export { StopReason } from './stop-reason.js';
export * as FlagBits from './flag-bits.js';
export * as Registers from './registers.js';
