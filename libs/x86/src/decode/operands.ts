import type { Cpu } from '../cpu.js';
import type { OperandSize } from '../registers.js';

/** Reads the r/m operand decoded by decodeModrm. */
export function readRm(cpu: Cpu, size: OperandSize): number {
  if (cpu.modrmMod === 3) return cpu.getReg(size, cpu.modrmRm);
  return cpu.readMemory(cpu.eaSegment, cpu.eaOffset, size);
}

/** Writes the r/m operand decoded by decodeModrm. */
export function writeRm(cpu: Cpu, size: OperandSize, value: number): void {
  if (cpu.modrmMod === 3) cpu.setReg(size, cpu.modrmRm, value);
  else cpu.writeMemory(cpu.eaSegment, cpu.eaOffset, size, value);
}

/** Reads the register named by the ModRM reg field. */
export function readModrmReg(cpu: Cpu, size: OperandSize): number {
  return cpu.getReg(size, cpu.modrmReg);
}

export function writeModrmReg(cpu: Cpu, size: OperandSize, value: number): void {
  cpu.setReg(size, cpu.modrmReg, value);
}

/** Sign-extends the low `size` bytes of value to a JS number. */
export function signExtend(value: number, size: OperandSize): number {
  return size === 1 ? (value << 24) >> 24 : size === 2 ? (value << 16) >> 16 : value | 0;
}
