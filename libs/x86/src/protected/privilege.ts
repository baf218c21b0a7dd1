import type { Cpu } from '../cpu.js';
import { CpuFault, Vector } from '../cpu-fault.js';
import { IF, IOPL, RF, VM } from '../flag-bits.js';
import type { OperandSize } from '../registers.js';

/**
 * EFLAGS bits POPF and IRET may change (Intel SDM vol. 2, POPF table 4-16):
 * in protected mode IOPL only at CPL 0 and IF only at CPL <= IOPL; VM and RF
 * never through POPF. A 16-bit operand reaches the low word only.
 */
export function writableFlags(cpu: Cpu, size: OperandSize): number {
  let mask = cpu.quirks.flagsWritable;
  if (cpu.protectedMode) {
    if (cpu.cpl > 0) mask &= ~IOPL;
    if (cpu.cpl > cpu.iopl) mask &= ~IF;
  }
  mask &= ~(VM | RF);
  return size === 2 ? mask & 0xffff : mask;
}

/** Instructions reserved to CPL 0 in protected mode (MOV CRn, LGDT, HLT, ...): #GP(0) otherwise. */
export function requireRing0(cpu: Cpu): void {
  if (cpu.protectedMode && cpu.cpl !== 0) throw new CpuFault(Vector.GeneralProtection, 0);
}

/** CLI/STI in protected mode need CPL <= IOPL. */
export function requireIopl(cpu: Cpu): void {
  if (cpu.protectedMode && cpu.cpl > cpu.iopl) throw new CpuFault(Vector.GeneralProtection, 0);
}
