import type { Cpu } from './cpu.js';

/** Bumped whenever a field is added, removed or changes meaning. */
export const CPU_STATE_VERSION = 1;

/**
 * Everything architectural a Cpu holds, by name, so a VM snapshot can be
 * saved, moved and restored. Not state: the bus (RAM and devices are saved
 * by their owners), the interrupt source, the opcode tables, and the
 * per-instruction decode scratch (only valid inside an instruction).
 */
export interface CpuStateV1 {
  version: 1;
  model: string;
  /** EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI. */
  registers: number[];
  eip: number;
  eflags: number;
  /** ES, CS, SS, DS, FS, GS with their cached descriptor parts. */
  segments: Array<{ selector: number; base: number; limit: number }>;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  halted: boolean;
  interruptShadow: boolean;
  queuedInterrupts: number[];
  instructionCount: number;
}

export function saveCpuState(cpu: Cpu): CpuStateV1 {
  return {
    version: 1,
    model: cpu.model,
    registers: Array.from(cpu.reg32),
    eip: cpu.eip,
    eflags: cpu.getFlags(),
    segments: Array.from({ length: 6 }, (_, seg) => ({
      selector: cpu.segSelector[seg],
      base: cpu.segBase[seg],
      limit: cpu.segLimit[seg],
    })),
    cr0: cpu.cr0,
    cr2: cpu.cr2,
    cr3: cpu.cr3,
    cr4: cpu.cr4,
    gdtr: { base: cpu.gdtrBase, limit: cpu.gdtrLimit },
    idtr: { base: cpu.idtrBase, limit: cpu.idtrLimit },
    halted: cpu.halted,
    interruptShadow: cpu.interruptShadow,
    queuedInterrupts: [...cpu.queuedInterrupts],
    instructionCount: cpu.instructionCount,
  };
}

export function loadCpuState(cpu: Cpu, state: CpuStateV1): void {
  if (state.version !== CPU_STATE_VERSION) {
    throw new Error(`CPU state version ${state.version} is not supported (expected ${CPU_STATE_VERSION})`);
  }
  if (state.model !== cpu.model) {
    throw new Error(`CPU state was saved from a ${state.model}, this CPU is a ${cpu.model}`);
  }
  cpu.reg32.set(state.registers);
  cpu.eip = state.eip;
  cpu.flags.value = state.eflags;
  // Restore CRs before segments: CS's cached size depends on the mode.
  cpu.cr0 = state.cr0;
  cpu.cr2 = state.cr2;
  cpu.cr3 = state.cr3;
  cpu.cr4 = state.cr4;
  state.segments.forEach((s, seg) => cpu.restoreSegment(seg, s.selector, s.base, s.limit));
  cpu.gdtrBase = state.gdtr.base;
  cpu.gdtrLimit = state.gdtr.limit;
  cpu.idtrBase = state.idtr.base;
  cpu.idtrLimit = state.idtr.limit;
  cpu.halted = state.halted;
  cpu.interruptShadow = state.interruptShadow;
  cpu.queuedInterrupts.length = 0;
  cpu.queuedInterrupts.push(...state.queuedInterrupts);
  cpu.instructionCount = state.instructionCount;
}
