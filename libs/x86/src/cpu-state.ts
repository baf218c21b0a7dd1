import type { Cpu } from './cpu.js';
import { extendedToNumber, numberToExtended } from './fpu/float-formats.js';

/** Bumped whenever a field is added, removed or changes meaning. 2: protected mode, paging, i686. */
export const CPU_STATE_VERSION = 2;

/** A segment register, LDTR or TR with its cached descriptor (attributes as in protected/descriptor.ts). */
export interface SegmentStateV2 {
  selector: number;
  base: number;
  limit: number;
  attributes: number;
}

/**
 * Everything architectural a Cpu holds, by name, so a VM snapshot can be
 * saved, moved and restored. Not state: the bus (RAM and devices are saved
 * by their owners), the interrupt source, the opcode tables, the TLB (a
 * cache, rebuilt from the page tables), and the per-instruction decode
 * scratch (only valid inside an instruction).
 */
export interface CpuStateV2 {
  version: 2;
  model: string;
  /** EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI. */
  registers: number[];
  eip: number;
  eflags: number;
  /** ES, CS, SS, DS, FS, GS with their cached descriptor parts. */
  segments: SegmentStateV2[];
  cpl: number;
  ldtr: SegmentStateV2;
  tr: SegmentStateV2;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  debugRegisters: number[];
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  /** x87: control, status (with TOP) and tag words; registers in physical order as 80-bit [low, high, sign|exponent]. */
  fpu: { controlWord: number; statusWord: number; tagWord: number; registers: Array<[number, number, number]> };
  /** Time-stamp counter offset (decimal string: a 64-bit value) and the SYSENTER MSRs. */
  msr: { tscOffset: string; sysenterCs: number; sysenterEsp: number; sysenterEip: number };
  halted: boolean;
  interruptShadow: boolean;
  queuedInterrupts: number[];
  instructionCount: number;
}

export function saveCpuState(cpu: Cpu): CpuStateV2 {
  return {
    version: 2,
    model: cpu.model,
    registers: Array.from(cpu.reg32),
    eip: cpu.eip,
    eflags: cpu.getFlags(),
    segments: Array.from({ length: 6 }, (_, seg) => ({
      selector: cpu.segSelector[seg],
      base: cpu.segBase[seg],
      limit: cpu.segLimit[seg],
      attributes: cpu.segAttr[seg],
    })),
    cpl: cpu.cpl,
    ldtr: { selector: cpu.ldtr.selector, base: cpu.ldtr.base, limit: cpu.ldtr.limit, attributes: cpu.ldtr.attributes },
    tr: { selector: cpu.tr.selector, base: cpu.tr.base, limit: cpu.tr.limit, attributes: cpu.tr.attributes },
    cr0: cpu.cr0,
    cr2: cpu.cr2,
    cr3: cpu.cr3,
    cr4: cpu.cr4,
    debugRegisters: Array.from(cpu.debugRegisters),
    gdtr: { base: cpu.gdtrBase, limit: cpu.gdtrLimit },
    idtr: { base: cpu.idtrBase, limit: cpu.idtrLimit },
    fpu: {
      controlWord: cpu.fpu.controlWord,
      statusWord: cpu.fpu.statusWord,
      tagWord: cpu.fpu.tagWord,
      registers: Array.from(cpu.fpu.registers, (v) => numberToExtended(v)),
    },
    msr: {
      tscOffset: cpu.msr.tscOffset.toString(),
      sysenterCs: cpu.msr.sysenterCs,
      sysenterEsp: cpu.msr.sysenterEsp,
      sysenterEip: cpu.msr.sysenterEip,
    },
    halted: cpu.halted,
    interruptShadow: cpu.interruptShadow,
    queuedInterrupts: [...cpu.queuedInterrupts],
    instructionCount: cpu.instructionCount,
  };
}

export function loadCpuState(cpu: Cpu, state: CpuStateV2): void {
  if (state.version !== CPU_STATE_VERSION) {
    throw new Error(`CPU state version ${state.version} is not supported (expected ${CPU_STATE_VERSION})`);
  }
  if (state.model !== cpu.model) {
    throw new Error(`CPU state was saved from a ${state.model}, this CPU is a ${cpu.model}`);
  }
  cpu.reg32.set(state.registers);
  cpu.eip = state.eip;
  cpu.flags.value = state.eflags;
  // Control registers first: the segment checks depend on CR0.PE, translation on all three.
  cpu.cr2 = state.cr2;
  cpu.cr3 = state.cr3;
  cpu.cr4 = state.cr4;
  cpu.setControlRegister0(state.cr0);
  cpu.setControlRegister3(state.cr3);
  cpu.memory.configure(cpu.cr0, cpu.cr3, cpu.cr4, true);
  state.segments.forEach((s, seg) => cpu.restoreSegment(seg, s.selector, s.base, s.limit, s.attributes));
  cpu.setCpl(state.cpl);
  cpu.ldtr.set(state.ldtr.selector, state.ldtr.base, state.ldtr.limit, state.ldtr.attributes);
  cpu.tr.set(state.tr.selector, state.tr.base, state.tr.limit, state.tr.attributes);
  cpu.debugRegisters.set(state.debugRegisters);
  cpu.gdtrBase = state.gdtr.base;
  cpu.gdtrLimit = state.gdtr.limit;
  cpu.idtrBase = state.idtr.base;
  cpu.idtrLimit = state.idtr.limit;
  cpu.fpu.controlWord = state.fpu.controlWord;
  cpu.fpu.statusWord = state.fpu.statusWord;
  cpu.fpu.tagWord = state.fpu.tagWord;
  state.fpu.registers.forEach(([low, high, signExponent], i) => (cpu.fpu.registers[i] = extendedToNumber(low, high, signExponent)));
  cpu.msr.tscOffset = BigInt(state.msr.tscOffset);
  cpu.msr.sysenterCs = state.msr.sysenterCs;
  cpu.msr.sysenterEsp = state.msr.sysenterEsp;
  cpu.msr.sysenterEip = state.msr.sysenterEip;
  cpu.halted = state.halted;
  cpu.interruptShadow = state.interruptShadow;
  cpu.queuedInterrupts.length = 0;
  cpu.queuedInterrupts.push(...state.queuedInterrupts);
  cpu.instructionCount = state.instructionCount;
}
