import type { Cpu } from '../cpu.js';

/** Adds a signed displacement to EIP, truncating to the operand size. */
export function jumpRelative(cpu: Cpu, displacement: number): void {
  const target = cpu.eip + displacement;
  cpu.eip = cpu.opSize === 2 ? target & 0xffff : target >>> 0;
}

/** A sign-extended rel8 displacement. */
export function fetchDisplacement8(cpu: Cpu): number {
  return (cpu.fetch8() << 24) >> 24;
}

/** A rel16 or rel32 displacement, by operand size. */
export function fetchDisplacement(cpu: Cpu): number {
  return cpu.opSize === 2 ? (cpu.fetch16() << 16) >> 16 : cpu.fetch32() | 0;
}
