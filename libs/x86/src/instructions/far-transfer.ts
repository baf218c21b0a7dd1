import type { Cpu } from '../cpu.js';
import { farCallProtected, farJumpProtected, farReturnProtected } from '../protected/far-transfer-protected.js';
import { interruptReturnProtected } from '../protected/interrupt-return.js';
import { writableFlags } from '../protected/privilege.js';
import { CS, type OperandSize } from '../registers.js';

/*
 * Transfers that load CS. In real mode they only set CS and IP; in protected
 * mode they go through descriptors, gates and privilege checks
 * (protected/far-transfer-protected.ts, protected/interrupt-return.ts).
 */

export function farJump(cpu: Cpu, selector: number, offset: number): void {
  if (cpu.protectedMode) {
    farJumpProtected(cpu, selector, offset);
    return;
  }
  cpu.loadSegment(CS, selector);
  cpu.eip = offset >>> 0;
}

export function farCall(cpu: Cpu, selector: number, offset: number, size: OperandSize): void {
  if (cpu.protectedMode) {
    farCallProtected(cpu, selector, offset, size);
    return;
  }
  const returnSelector = cpu.segSelector[CS];
  const returnOffset = cpu.eip;
  cpu.push(size, returnSelector);
  cpu.push(size, returnOffset);
  farJump(cpu, selector, offset);
}

/** RETF [imm16]: pops offset and selector, then releases `release` bytes of arguments. */
export function farReturn(cpu: Cpu, size: OperandSize, release: number): void {
  if (cpu.protectedMode) {
    farReturnProtected(cpu, size, release);
    return;
  }
  const offset = cpu.pop(size);
  const selector = cpu.pop(size) & 0xffff;
  farJump(cpu, selector, offset);
  if (release !== 0) cpu.adjustStack(release);
}

/** IRET: pops IP, CS and FLAGS. */
export function interruptReturn(cpu: Cpu, size: OperandSize): void {
  if (cpu.protectedMode) {
    interruptReturnProtected(cpu, size);
    return;
  }
  const offset = cpu.pop(size);
  const selector = cpu.pop(size) & 0xffff;
  const flags = cpu.pop(size);
  farJump(cpu, selector, offset);
  cpu.setFlags(flags, writableFlags(cpu, size));
}
