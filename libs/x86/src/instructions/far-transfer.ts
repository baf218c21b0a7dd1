import type { Cpu } from '../cpu.js';
import { CS, type OperandSize } from '../registers.js';

/*
 * Transfers that load CS. In real mode they only set CS and IP; protected
 * mode (descriptor checks, call gates, privilege changes) will branch here,
 * so every instruction that changes CS goes through these functions.
 */

export function farJump(cpu: Cpu, selector: number, offset: number): void {
  cpu.loadSegment(CS, selector);
  cpu.eip = offset >>> 0;
}

export function farCall(cpu: Cpu, selector: number, offset: number, size: OperandSize): void {
  const returnSelector = cpu.segSelector[CS];
  const returnOffset = cpu.eip;
  cpu.push(size, returnSelector);
  cpu.push(size, returnOffset);
  farJump(cpu, selector, offset);
}

/** RETF [imm16]: pops offset and selector, then releases `release` bytes of arguments. */
export function farReturn(cpu: Cpu, size: OperandSize, release: number): void {
  const offset = cpu.pop(size);
  const selector = cpu.pop(size) & 0xffff;
  farJump(cpu, selector, offset);
  if (release !== 0) cpu.adjustStack(release);
}

/** IRET: pops IP, CS and FLAGS. */
export function interruptReturn(cpu: Cpu, size: OperandSize): void {
  const offset = cpu.pop(size);
  const selector = cpu.pop(size) & 0xffff;
  const flags = cpu.pop(size);
  farJump(cpu, selector, offset);
  cpu.setFlags(flags, size === 2 ? cpu.quirks.flagsWritable & 0xffff : cpu.quirks.flagsWritable);
}
